#include "metrics/judged/lciteeval_citation.h"

#include "metrics/text/unicode_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace loom::metrics::judged {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// _format_document: "Passage: %s" for a string, "Title: %s\nPassage: %s" for an object.
std::string format_document(const nlohmann::json& doc) {
  const auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  if (doc.is_object())
    return "Title: " + text(doc.value("title", nlohmann::json(""))) + "\nPassage: " +
           text(doc.value("text", nlohmann::json("")));
  return "Passage: " + text(doc);
}

// re.findall(r"\[\d+", sent), each int(r[1:]) - 1 (ASCII digits).
std::vector<int64_t> cited_ids(const std::string& sentence) {
  std::vector<int64_t> ids;
  for (size_t i = 0; i + 1 < sentence.size(); ++i) {
    if (sentence[i] != '[' || !std::isdigit(static_cast<unsigned char>(sentence[i + 1]))) continue;
    size_t j = i + 1;
    int64_t value = 0;
    while (j < sentence.size() && std::isdigit(static_cast<unsigned char>(sentence[j]))) {
      value = std::min<int64_t>(value * 10 + (sentence[j] - '0'), int64_t{1} << 40);
      ++j;
    }
    ids.push_back(value - 1);
    i = j - 1;
  }
  return ids;
}

}  // namespace

bool lciteeval_nli_task(const std::string& task) { return task != "niah" && task != "counting_stars"; }

std::string lciteeval_remove_citations(const std::string& s) {
  auto strip_refs = [](const std::u32string& u, bool with_space) {
    std::u32string out;
    size_t i = 0;
    while (i < u.size()) {
      size_t start = i;
      if (with_space) {
        if (u[i] != U' ') {
          out.push_back(u[i++]);
          continue;
        }
        ++start;
      }
      if (start < u.size() && u[start] == U'[' && start + 1 < u.size() && text::py_is_decimal_digit(u[start + 1])) {
        size_t j = start + 1;
        while (j < u.size() && text::py_is_decimal_digit(u[j])) ++j;
        i = j;
        continue;
      }
      out.push_back(u[i++]);
    }
    return out;
  };
  const std::u32string u = strip_refs(strip_refs(text::to_u32(s), true), false);
  return text::replace_all(text::replace_all(text::to_utf8(u), " |", ""), "]", "");
}

std::vector<std::string> split_statements(const std::string& text) {
  static const std::array<const char*, 12> kAbbreviations = {"mr", "mrs", "ms", "dr", "prof", "st",
                                                             "vs", "etc", "e.g", "i.e", "jr", "sr"};
  std::vector<std::string> sentences;
  const auto emit = [&](size_t from, size_t to) {
    std::string piece = text::py_strip(std::string_view(text).substr(from, to - from));
    if (!piece.empty()) sentences.push_back(std::move(piece));
  };
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '.' && c != '!' && c != '?') {
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < text.size() && (text[end] == '.' || text[end] == '!' || text[end] == '?')) ++end;
    while (end < text.size() && (text[end] == '"' || text[end] == '\'' || text[end] == ')' || text[end] == ']')) ++end;
    if (end < text.size() && is_space(text[end])) {
      bool abbreviation = false;
      if (c == '.' && end == i + 1) {
        size_t w = i;
        while (w > start && !is_space(text[w - 1])) --w;
        std::string word = text.substr(w, i - w);
        std::transform(word.begin(), word.end(), word.begin(), [](unsigned char ch) { return std::tolower(ch); });
        abbreviation = (word.size() == 1 && std::isalpha(static_cast<unsigned char>(word[0]))) ||
                       std::find_if(kAbbreviations.begin(), kAbbreviations.end(),
                                    [&](const char* a) { return word == a; }) != kAbbreviations.end();
      }
      if (!abbreviation) {
        emit(start, end);
        start = end;
      }
    }
    i = end;
  }
  emit(start, text.size());
  return sentences;
}

std::string true_nli_input(const std::string& premise, const std::string& hypothesis) {
  return "premise: " + premise + " hypothesis: " + hypothesis;
}

bool true_nli_entailed(const std::string& answer) { return text::py_strip(answer) == "1"; }

bool nli_answer_entailed(const std::string& answer) {
  return answer == kNliEntailmentLabel || true_nli_entailed(answer);
}

std::string nli_query_hash(const std::string& premise, const std::string& hypothesis) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : true_nli_input(premise, hypothesis)) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

CitationEvaluation evaluate_citations(const std::string& generation, const nlohmann::json& docs,
                                      const NliOracle& oracle, int at_most_citations) {
  CitationEvaluation out;
  const std::vector<std::string> sents = split_statements(generation);
  if (sents.empty()) {
    out.no_statements = true;
    return out;
  }
  const int64_t n_docs = docs.is_array() ? static_cast<int64_t>(docs.size()) : 0;
  std::set<std::pair<std::string, std::string>> seen;
  // 1 / 0 for an answer, -1 while missing; a failure stops the evaluation.
  const auto ask = [&](const std::string& premise, const std::string& hypothesis) -> int {
    const NliLookup got = oracle(premise, hypothesis);
    switch (got.state) {
      case NliLookup::State::entailed:
        return 1;
      case NliLookup::State::not_entailed:
        return 0;
      case NliLookup::State::failed:
        if (out.failed.empty()) out.failed = got.error.empty() ? "the NLI request failed" : got.error;
        return -1;
      case NliLookup::State::missing:
        break;
    }
    if (seen.insert({premise, hypothesis}).second) out.missing.push_back({premise, hypothesis});
    return -1;
  };
  // Python's docs[i] for -len <= i < len.
  const auto doc = [&](int64_t id) { return format_document(docs[static_cast<size_t>(id < 0 ? id + n_docs : id)]); };
  const auto joined = [&](const std::vector<int64_t>& ids) {
    std::string text;
    for (size_t k = 0; k < ids.size(); ++k) text += (k ? "\n" : "") + doc(ids[k]);
    return text;
  };

  int64_t entail = 0, entail_prec = 0, total_citations = 0;
  for (const std::string& sent : sents) {
    const std::string target = text::py_strip(lciteeval_remove_citations(sent));
    std::vector<int64_t> ref = cited_ids(sent);
    int joint = -2;  // undecided
    if (ref.empty() || std::any_of(ref.begin(), ref.end(), [&](int64_t id) { return id >= n_docs; })) {
      joint = 0;
    } else {
      if (at_most_citations >= 0 && static_cast<int64_t>(ref.size()) > at_most_citations) ref.resize(at_most_citations);
      if (std::any_of(ref.begin(), ref.end(), [&](int64_t id) { return id < -n_docs; })) {
        // docs[id] raises IndexError upstream ("[0" with no passages).
        if (out.failed.empty()) out.failed = "a citation indexes outside the passages (upstream raises IndexError)";
        continue;
      }
      total_citations += static_cast<int64_t>(ref.size());
      joint = ask(joined(ref), target);
    }
    if (joint < 0) continue;  // missing or failed: this sentence's precision waits for it
    entail += joint;
    if (joint == 1 && ref.size() > 1) {
      for (int64_t id : ref) {
        const int alone = ask(doc(id), target);
        if (alone < 0) continue;
        if (alone == 1) {
          ++entail_prec;
          continue;
        }
        std::vector<int64_t> rest = ref;
        rest.erase(std::find(rest.begin(), rest.end(), id));
        const int without = ask(joined(rest), target);
        if (without == 0) ++entail_prec;  // 1: the passage is not necessary; -1: missing or failed
      }
    } else {
      entail_prec += joint;
    }
  }
  if (!out.failed.empty() || !out.missing.empty()) return out;
  CitationScores s;
  s.recall = static_cast<double>(entail) / static_cast<double>(sents.size());
  s.precision = total_citations > 0 ? static_cast<double>(entail_prec) / static_cast<double>(total_citations) : 0.0;
  s.f1 = s.recall + s.precision == 0 ? 0.0 : 2 * s.recall * s.precision / (s.recall + s.precision);
  s.citations = total_citations;
  out.scores = s;
  return out;
}

std::optional<CitationScores> niah_citation(const std::string& generation, const std::string& answer,
                                            const nlohmann::json& docs, std::string* why, int at_most_citations) {
  int64_t gold = -1;
  if (docs.is_array())
    for (size_t j = 0; j < docs.size() && gold < 0; ++j)
      if (docs[j].is_string() && docs[j].get<std::string>().find(answer) != std::string::npos)
        gold = static_cast<int64_t>(j);
  if (gold < 0) {
    if (why) *why = "no passage contains the answer (upstream has no gold passage for the sample)";
    return std::nullopt;
  }
  std::string first = text::py_strip(generation);
  if (const size_t nl = first.find('\n'); nl != std::string::npos) first = first.substr(0, nl);
  std::vector<int64_t> ref = cited_ids(first);
  if (at_most_citations >= 0 && static_cast<int64_t>(ref.size()) > at_most_citations) ref.resize(at_most_citations);
  CitationScores s;
  s.citations = static_cast<int64_t>(ref.size());
  if (std::find(ref.begin(), ref.end(), gold) != ref.end()) {
    const double p = 1.0 / static_cast<double>(ref.size());
    s.recall = 1;
    s.precision = p;
    s.f1 = 2 * p / (1 + p);
  }
  return s;
}

std::optional<CitationScores> counting_stars_citation(const std::string& generation, const nlohmann::json& docs,
                                                      std::string* why) {
  std::vector<nlohmann::json> gold;
  if (docs.is_array())
    for (size_t j = 0; j < docs.size(); ++j)
      if (docs[j].is_string() && docs[j].get<std::string>().find("The little penguin counted") != std::string::npos)
        gold.push_back(static_cast<int64_t>(j + 1));
  CitationScores s;
  const std::string ans = text::py_strip(generation);
  const size_t open = ans.find('{'), close = ans.find('}');
  if (open == std::string::npos || close == std::string::npos) return s;
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(close < open ? std::string() : ans.substr(open, close - open + 1));
  } catch (const nlohmann::json::exception&) {
    return s;
  }
  if (!parsed.is_object() || !parsed.contains("passage_id")) return s;
  const nlohmann::json& ids = parsed["passage_id"];
  if (!ids.is_array()) {
    if (why) *why = "passage_id is not a list (upstream raises)";
    return std::nullopt;
  }
  std::vector<nlohmann::json> distinct;  // list(set(...)): numbers equal across int/float, as Python
  const auto same = [](const nlohmann::json& a, const nlohmann::json& b) {
    if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
    return a == b;
  };
  for (const auto& id : ids) {
    if (id.is_array() || id.is_object()) {
      if (why) *why = "passage_id holds a list or an object (upstream raises: unhashable)";
      return std::nullopt;
    }
    if (std::none_of(distinct.begin(), distinct.end(), [&](const nlohmann::json& d) { return same(d, id); }))
      distinct.push_back(id);
  }
  if (distinct.empty() || gold.empty()) {
    if (why) *why = distinct.empty() ? "passage_id is empty (upstream divides by zero)"
                                     : "no gold passage (upstream divides by zero)";
    return std::nullopt;
  }
  int64_t correct = 0;
  for (const auto& id : distinct)
    correct += std::any_of(gold.begin(), gold.end(), [&](const nlohmann::json& g) { return same(g, id); });
  s.precision = static_cast<double>(correct) / static_cast<double>(distinct.size());
  s.recall = static_cast<double>(correct) / static_cast<double>(gold.size());
  s.f1 = s.precision + s.recall == 0 ? 0.0 : 2 * s.precision * s.recall / (s.precision + s.recall);
  s.citations = static_cast<int64_t>(distinct.size());
  return s;
}

}  // namespace loom::metrics::judged
