#include "results/verdicts.h"

#include "common/error.h"
#include "results/hdf5_table.h"
#include "results/results_file.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <limits>
#include <unistd.h>

namespace loom::results {
namespace {

const char* kGroup = "judge";

nlohmann::json to_json(const Verdict& v) {
  return {{"sample_key", v.sample_key}, {"metric", v.metric},         {"judge_model", v.judge_model},
          {"status", v.status},         {"request_hash", v.request_hash}, {"response", v.response},
          {"error", v.error},           {"score", std::isfinite(v.score) ? nlohmann::json(v.score) : nlohmann::json()},
          {"tries", v.tries},           {"finished_unix", v.finished_unix}};
}

Verdict from_json(const nlohmann::json& j) {
  Verdict v;
  v.sample_key = j.at("sample_key").get<std::string>();
  v.metric = j.at("metric").get<std::string>();
  v.judge_model = j.at("judge_model").get<std::string>();
  v.status = j.at("status").get<std::string>();
  v.request_hash = j.value("request_hash", "");
  v.response = j.value("response", "");
  v.error = j.value("error", "");
  v.score = j.contains("score") && j["score"].is_number() ? j["score"].get<double>()
                                                         : std::numeric_limits<double>::quiet_NaN();
  v.tries = j.value("tries", int64_t{0});
  v.finished_unix = j.value("finished_unix", 0.0);
  return v;
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

std::vector<Verdict> read_group(const std::filesystem::path& results_path) {
  std::vector<Verdict> out;
  if (!std::filesystem::exists(results_path)) return out;
  h5::Handle file(open_hdf5_read_only(results_path), h5::Handle::Kind::file);
  if (H5Lexists(file.get(), kGroup, H5P_DEFAULT) <= 0) return out;
  h5::Handle group(h5::check(H5Gopen2(file.get(), kGroup, H5P_DEFAULT), "open /judge"), h5::Handle::Kind::group);
  std::vector<std::string> metrics;
  H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &metrics);
  using h5::ColumnKind;
  const std::map<std::string, ColumnKind> wanted = {
      {"sample_key", ColumnKind::string}, {"judge_model", ColumnKind::string},   {"status", ColumnKind::string},
      {"request_hash", ColumnKind::string}, {"response", ColumnKind::string},    {"error", ColumnKind::string},
      {"score", ColumnKind::float64},     {"tries", ColumnKind::int64},         {"finished_unix", ColumnKind::float64}};
  for (const std::string& metric : metrics) {
    h5::ReadTable table = h5::read_table(group.get(), metric, wanted);
    for (const char* column : {"sample_key", "judge_model", "status", "response"})
      if (!table.columns.count(column))
        throw Error(fmt::format("{}: /judge/{} has no {} column", results_path.string(), metric, column));
    auto strings = [&](const char* name, size_t i) {
      auto it = table.columns.find(name);
      return it == table.columns.end() ? std::string() : std::get<std::vector<std::string>>(it->second)[i];
    };
    auto real = [&](const char* name, size_t i) {
      auto it = table.columns.find(name);
      return it == table.columns.end() ? 0.0 : std::get<std::vector<double>>(it->second)[i];
    };
    for (size_t i = 0; i < table.rows; ++i) {
      Verdict v;
      v.metric = metric;
      v.sample_key = strings("sample_key", i);
      v.judge_model = strings("judge_model", i);
      v.status = strings("status", i);
      v.request_hash = strings("request_hash", i);
      v.response = strings("response", i);
      v.error = strings("error", i);
      v.score = real("score", i);
      v.finished_unix = real("finished_unix", i);
      if (auto it = table.columns.find("tries"); it != table.columns.end())
        v.tries = std::get<std::vector<int64_t>>(it->second)[i];
      out.push_back(std::move(v));
    }
  }
  return out;
}

std::vector<Verdict> read_journal_lines(const std::filesystem::path& journal) {
  std::vector<Verdict> out;
  std::ifstream in(journal, std::ios::binary);
  if (!in) return out;
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline after it: a torn last record
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    try {
      out.push_back(from_json(j));
    } catch (const nlohmann::json::exception&) {
    }
  }
  return out;
}

}  // namespace

std::filesystem::path verdict_journal_path_for(const std::filesystem::path& results_path) {
  return std::filesystem::path(results_path.string() + ".judge.journal");
}

std::vector<Verdict> read_verdicts(const std::filesystem::path& results_path) {
  std::vector<Verdict> out = read_group(results_path);
  for (Verdict& v : read_journal_lines(verdict_journal_path_for(results_path))) out.push_back(std::move(v));
  return out;
}

std::vector<Verdict> latest_verdicts(const std::vector<Verdict>& verdicts) {
  std::map<std::tuple<std::string, std::string, std::string>, const Verdict*> last;
  for (const Verdict& v : verdicts) last[v.key()] = &v;
  std::vector<Verdict> out;
  out.reserve(last.size());
  for (const auto& [key, v] : last) out.push_back(*v);
  return out;
}

VerdictJournal::VerdictJournal(std::filesystem::path journal_path) : path_(std::move(journal_path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(fmt::format("cannot open the verdict journal {}: {}", path_.string(), std::strerror(errno)));
}

VerdictJournal::~VerdictJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void VerdictJournal::append(const Verdict& verdict) {
  const std::string line = to_json(verdict).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("cannot append to {}: {}", path_.string(), std::strerror(errno)));
    data += n;
    left -= static_cast<size_t>(n);
  }
  if (fdatasync(fd_) != 0) throw Error(fmt::format("cannot sync {}: {}", path_.string(), std::strerror(errno)));
}

void write_verdict_groups(hid_t file, const std::vector<Verdict>& verdicts) {
  std::map<std::string, std::vector<const Verdict*>> by_metric;
  for (const Verdict& v : verdicts) by_metric[v.metric].push_back(&v);
  if (by_metric.empty()) return;
  h5::Handle group(h5::check(H5Gcreate2(file, kGroup, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create /judge"),
                   h5::Handle::Kind::group);
  for (const auto& [metric, rows] : by_metric) {
    auto strings = [&](std::string Verdict::*field) {
      std::vector<const char*> out;
      for (const Verdict* v : rows) out.push_back((v->*field).c_str());
      return h5::WriteValues(std::move(out));
    };
    std::vector<double> score, finished;
    std::vector<int64_t> tries;
    for (const Verdict* v : rows) {
      score.push_back(v->score);
      finished.push_back(v->finished_unix);
      tries.push_back(v->tries);
    }
    h5::write_table(group.get(), metric,
                    {{"sample_key", strings(&Verdict::sample_key)},
                     {"judge_model", strings(&Verdict::judge_model)},
                     {"status", strings(&Verdict::status)},
                     {"score", std::move(score)},
                     {"response", strings(&Verdict::response)},
                     {"error", strings(&Verdict::error)},
                     {"request_hash", strings(&Verdict::request_hash)},
                     {"tries", std::move(tries)},
                     {"finished_unix", std::move(finished)}});
  }
}

}  // namespace loom::results
