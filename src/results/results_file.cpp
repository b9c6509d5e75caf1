#include "results/results_file.h"

#include "common/error.h"
#include "results/hdf5_table.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#ifndef LOOM_MPI_VERSION
#define LOOM_MPI_VERSION "unknown"
#endif

namespace loom::results {
namespace {

using h5::ColumnKind;
using h5::Handle;

const char* kSamples = "samples";

// Root attribute names of the JobAttributes fields; anything else on the root is an `extra` entry.
const char* kJobYaml = "job_yaml";
const char* kModelConfig = "model_config";
const char* kGitCommit = "git_commit";
const char* kHostnames = "hostnames";
const char* kDevices = "devices";
const char* kFormat = "loom_results_format";
const char* kVersion = "loom_mpi_version";

void silence_hdf5_printing() {
  static const bool silenced = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)silenced;
}

void sync_path(const std::filesystem::path& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("cannot open {} to sync it: {}", path.string(), std::strerror(errno)));
  const int rc = fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw Error(fmt::format("cannot sync {}: {}", path.string(), std::strerror(err)));
}

// The /samples columns: the row's own fields, with the cost record's columns (cost_columns()) after
// method_params_json. Files are read by column name, so a column a file lacks keeps the row's default.
void write_samples(hid_t file, const std::vector<const ResultRow*>& rows) {
  auto strings = [&](std::string ResultRow::*field) {
    std::vector<const char*> out;
    out.reserve(rows.size());
    for (const ResultRow* r : rows) out.push_back((r->*field).c_str());
    return h5::WriteValues(std::move(out));
  };
  auto ints = [&](auto ResultRow::*field) {
    std::vector<int64_t> out;
    out.reserve(rows.size());
    for (const ResultRow* r : rows) out.push_back(static_cast<int64_t>(r->*field));
    return h5::WriteValues(std::move(out));
  };
  auto doubles = [&](double ResultRow::*field) {
    std::vector<double> out;
    out.reserve(rows.size());
    for (const ResultRow* r : rows) out.push_back(r->*field);
    return h5::WriteValues(std::move(out));
  };
  auto cost = [&](const CostField& field) {
    if (is_integer(field)) {
      std::vector<int64_t> out;
      out.reserve(rows.size());
      for (const ResultRow* r : rows) out.push_back(cost_integer(r->cost, field));
      return h5::WriteValues(std::move(out));
    }
    std::vector<double> out;
    out.reserve(rows.size());
    for (const ResultRow* r : rows) out.push_back(cost_value(r->cost, field));
    return h5::WriteValues(std::move(out));
  };
  std::vector<h5::WriteColumn> columns = {
      {"sample_key", strings(&ResultRow::sample_key)},
      {"benchmark", strings(&ResultRow::benchmark)},
      {"task", strings(&ResultRow::task)},
      {"capability", strings(&ResultRow::capability)},
      {"metric", strings(&ResultRow::metric)},
      {"sample_id", strings(&ResultRow::sample_id)},
      {"sample_index", ints(&ResultRow::sample_index)},
      {"target_length", ints(&ResultRow::target_length)},
      {"context_length", ints(&ResultRow::context_length)},
      {"prediction", strings(&ResultRow::prediction)},
      {"first_output", strings(&ResultRow::first_output)},
      {"references_json", strings(&ResultRow::references_json)},
      {"metadata_json", strings(&ResultRow::metadata_json)},
      {"method", strings(&ResultRow::method)},
      {"method_params_json", strings(&ResultRow::method_params_json)},
  };
  for (const CostColumn& column : cost_columns()) columns.push_back({column.name, cost(column.field)});
  std::vector<h5::WriteColumn> tail = {
      {"rank", ints(&ResultRow::rank)},
      {"group", ints(&ResultRow::group)},
      {"status", strings(&ResultRow::status)},
      {"error", strings(&ResultRow::error)},
      {"finished_unix", doubles(&ResultRow::finished_unix)},
      {"fingerprint", strings(&ResultRow::fingerprint)},
      {"attempts", ints(&ResultRow::attempts)},
  };
  for (h5::WriteColumn& column : tail) columns.push_back(std::move(column));
  h5::write_table(file, kSamples, columns);
}

std::vector<ResultRow> read_samples(hid_t file) {
  std::map<std::string, ColumnKind> wanted;
  for (const char* name : {"sample_key", "benchmark", "task", "capability", "metric", "sample_id", "prediction", "first_output",
                           "references_json", "metadata_json", "method", "method_params_json", "status", "error",
                           "fingerprint"})
    wanted[name] = ColumnKind::string;
  for (const char* name : {"sample_index", "target_length", "context_length", "rank", "group", "attempts"})
    wanted[name] = ColumnKind::int64;
  wanted["finished_unix"] = ColumnKind::float64;
  for (const CostColumn& column : cost_columns())
    wanted[column.name] = is_integer(column.field) ? ColumnKind::int64 : ColumnKind::float64;
  h5::ReadTable table = h5::read_table(file, kSamples, wanted);
  LOOM_CHECK(table.columns.count("sample_key"), "the /samples table has no sample_key column");

  std::vector<ResultRow> rows(table.rows);
  auto fill_strings = [&](const char* name, std::string ResultRow::*field) {
    auto it = table.columns.find(name);
    if (it == table.columns.end()) return;
    auto& values = std::get<std::vector<std::string>>(it->second);
    for (size_t i = 0; i < rows.size(); ++i) rows[i].*field = std::move(values[i]);
  };
  auto fill_ints = [&](const char* name, auto ResultRow::*field) {
    auto it = table.columns.find(name);
    if (it == table.columns.end()) return;
    const auto& values = std::get<std::vector<int64_t>>(it->second);
    using Field = std::remove_reference_t<decltype(rows[0].*field)>;
    for (size_t i = 0; i < rows.size(); ++i) rows[i].*field = static_cast<Field>(values[i]);
  };
  fill_strings("sample_key", &ResultRow::sample_key);
  fill_strings("benchmark", &ResultRow::benchmark);
  fill_strings("task", &ResultRow::task);
  fill_strings("capability", &ResultRow::capability);
  fill_strings("metric", &ResultRow::metric);
  fill_strings("sample_id", &ResultRow::sample_id);
  fill_ints("sample_index", &ResultRow::sample_index);
  fill_ints("target_length", &ResultRow::target_length);
  fill_ints("context_length", &ResultRow::context_length);
  fill_strings("prediction", &ResultRow::prediction);
  fill_strings("first_output", &ResultRow::first_output);  // absent in files before 2026-12-07: no chained rows
  fill_strings("references_json", &ResultRow::references_json);
  fill_strings("metadata_json", &ResultRow::metadata_json);
  fill_strings("method", &ResultRow::method);
  fill_strings("method_params_json", &ResultRow::method_params_json);
  // Cost columns a file lacks keep SampleCost's defaults: prefill_block_density (before 2026-12-02) is 1,
  // prefill_shared_by (before 2026-12-06) is 1.
  for (const CostColumn& column : cost_columns()) {
    auto it = table.columns.find(column.name);
    if (it == table.columns.end()) continue;
    if (const auto* values = std::get_if<std::vector<int64_t>>(&it->second)) {
      for (size_t i = 0; i < rows.size(); ++i) set_cost_integer(rows[i].cost, column.field, (*values)[i]);
    } else {
      const auto& reals = std::get<std::vector<double>>(it->second);
      for (size_t i = 0; i < rows.size(); ++i) set_cost_value(rows[i].cost, column.field, reals[i]);
    }
  }
  fill_ints("rank", &ResultRow::rank);
  fill_ints("group", &ResultRow::group);
  fill_strings("status", &ResultRow::status);
  fill_strings("error", &ResultRow::error);
  if (auto it = table.columns.find("finished_unix"); it != table.columns.end()) {
    const auto& values = std::get<std::vector<double>>(it->second);
    for (size_t i = 0; i < rows.size(); ++i) rows[i].finished_unix = values[i];
  }
  fill_strings("fingerprint", &ResultRow::fingerprint);  // absent in files before 2026-12-06: no identity
  fill_ints("attempts", &ResultRow::attempts);           // absent before 2026-12-06: one attempt
  return rows;
}

void write_attributes(hid_t file, const JobAttributes& a) {
  h5::write_string_attribute(file, kJobYaml, a.job_yaml);
  h5::write_string_attribute(file, kModelConfig, a.model_config);
  h5::write_string_attribute(file, kGitCommit, a.git_commit);
  h5::write_string_list_attribute(file, kHostnames, a.hostnames);
  h5::write_string_list_attribute(file, kDevices, a.devices);
  h5::write_string_attribute(file, kFormat, std::to_string(kResultsFormatVersion));
  if (!a.extra.count(kVersion)) h5::write_string_attribute(file, kVersion, LOOM_MPI_VERSION);
  for (const auto& [name, value] : a.extra) {
    const bool reserved = name == kJobYaml || name == kModelConfig || name == kGitCommit || name == kHostnames ||
                          name == kDevices || name == kFormat;
    LOOM_CHECK(!reserved, "job attribute {} is reserved for a JobAttributes field", name);
    h5::write_string_attribute(file, name, value);
  }
}

JobAttributes read_attributes(hid_t file) {
  JobAttributes a;
  for (auto& [name, values] : h5::read_string_attributes(file)) {
    const std::string first = values.empty() ? std::string() : values.front();
    if (name == kJobYaml) a.job_yaml = first;
    else if (name == kModelConfig) a.model_config = first;
    else if (name == kGitCommit) a.git_commit = first;
    else if (name == kHostnames) a.hostnames = values;
    else if (name == kDevices) a.devices = values;
    else if (name != kFormat) a.extra[name] = first;
  }
  return a;
}

// The whole file is built in memory (HDF5 core driver, no backing store) and written by write_file_durably, so a
// failing disk reports the OS reason (e.g. "No space left on device") for the path, never a bare HDF5 flush error,
// and HDF5 holds no handle on a half-written file.
// The judge's verdicts (/judge, results/verdicts.h) outlive checkpoints: a rewrite whose extra writer does not write
// /judge copies it from the file it replaces, so resuming a run never drops verdicts asked for earlier.
void keep_verdicts(hid_t file, const std::filesystem::path& previous) {
  if (H5Lexists(file, "judge", H5P_DEFAULT) > 0 || !std::filesystem::exists(previous)) return;
  hid_t source_id = H5Fopen(previous.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (source_id < 0) {
    H5Eclear2(H5E_DEFAULT);
    return;  // an unreadable previous file has no verdicts to keep
  }
  Handle source(source_id, Handle::Kind::file);
  if (H5Lexists(source.get(), "judge", H5P_DEFAULT) <= 0) return;
  h5::check_status(H5Ocopy(source.get(), "judge", file, "judge", H5P_DEFAULT, H5P_DEFAULT),
                   "copy /judge from " + previous.string());
}

std::string build_file_image(const std::filesystem::path& name, const JobAttributes& attributes,
                             const std::vector<const ResultRow*>& rows, const ExtraGroupWriter& extra,
                             const std::filesystem::path& previous) {
  Handle fapl(h5::check(H5Pcreate(H5P_FILE_ACCESS), "file access list"), Handle::Kind::plist);
  h5::check_status(H5Pset_fapl_core(fapl.get(), 1 << 20, 0), "in-memory file driver");
  Handle file(h5::check(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), "create " + name.string()),
              Handle::Kind::file);
  write_attributes(file.get(), attributes);
  write_samples(file.get(), rows);
  if (extra) extra(file.get());
  keep_verdicts(file.get(), previous);
  h5::check_status(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flush " + name.string());
  const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
  LOOM_CHECK(size > 0, "no image of the results file {}", name.string());
  std::string image(static_cast<size_t>(size), '\0');
  LOOM_CHECK(H5Fget_file_image(file.get(), image.data(), image.size()) == size, "short image of {}", name.string());
  return image;
}

void remove_partial(const std::filesystem::path& path) {
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
}

// write(2) + fsync of the whole image; on failure the partial file is removed and the OS reason is named.
void write_file_durably(const std::filesystem::path& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  const char* data = bytes.data();
  size_t left = bytes.size();
  int err = 0;
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  if (err == 0 && fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    remove_partial(path);
    throw Error(fmt::format("cannot write {} ({} bytes): {}", path.string(), bytes.size(), std::strerror(err)));
  }
}

}  // namespace

hid_t open_hdf5_read_only(const std::filesystem::path& path) {
  silence_hdf5_printing();
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    H5Eclear2(H5E_DEFAULT);
    throw Error(fmt::format("cannot open {} as an HDF5 results file (missing, unreadable or not HDF5)", path.string()));
  }
  return file;
}

void write_results_file(const std::filesystem::path& path, const JobAttributes& attributes,
                        const std::vector<const ResultRow*>& rows, const ExtraGroupWriter& extra) {
  silence_hdf5_printing();
  const std::filesystem::path temp = path.string() + ".checkpoint.tmp";
  const std::string image = build_file_image(temp, attributes, rows, extra, path);
  write_file_durably(temp, image);
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) {
    remove_partial(temp);
    throw Error(fmt::format("cannot rename {} to {}: {}", temp.string(), path.string(), error.message()));
  }
  std::filesystem::path directory = path.parent_path();
  sync_path(directory.empty() ? std::filesystem::path(".") : directory, true);
}

ResultsFileContents read_results_file(const std::filesystem::path& path) {
  Handle file(open_hdf5_read_only(path), Handle::Kind::file);
  try {
    ResultsFileContents contents;
    contents.attributes = read_attributes(file.get());
    contents.rows = read_samples(file.get());
    return contents;
  } catch (const Error& e) {
    throw Error(fmt::format("{} is not a readable results file: {}", path.string(), e.what()));
  }
}

}  // namespace loom::results
