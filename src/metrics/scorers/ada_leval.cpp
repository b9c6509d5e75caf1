// Ada-LEval (open-compass/Ada-LEval ada_leval/dataset.py, StackSelect.evaluate / TextSort.evaluate), on 0-1; the
// task score is 100 x the mean (the scripts' accuracy):
//  ada_leval_stackselect: the answer designation found in the response: the highest n (1..num_choice) whose "An"
//    occurs in it, else the highest n whose digits occur ('A' + n), else "???"; 1 when that equals the reference
//    (e.g. "A3"). num_choice = metadata "num_choice" (the record's number of answers; the loader sets it).
//  ada_leval_textsort: the response, cut to what follows its first "Answer:" (up to a second one) and stripped,
//    parsed as JSON; if it does not parse, the one permutation of 1..4 that is a subsequence of it (else
//    [0, 0, 0, 0]). 1 when every zip()ped pair equals the reference order (Python ==: 1 == 1.0 == true; zip stops
//    at the shorter, so an empty list matches); a parsed value zip() cannot iterate (a number) makes upstream raise
//    and scores 0 here. References: the order as a list of numbers (or one JSON list).
// LOOM-Scope's textsort rule compares with != instead of zip (a longer or shorter list is wrong there).
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <array>

namespace loom::metrics {

namespace {

using nlohmann::json;

std::string stackselect_extract(const std::string& prediction, int num_choice) {
  for (int i = num_choice; i >= 1; --i)
    if (prediction.find("A" + std::to_string(i)) != std::string::npos) return "A" + std::to_string(i);
  for (int i = num_choice; i >= 1; --i)
    if (prediction.find(std::to_string(i)) != std::string::npos) return "A" + std::to_string(i);
  return "???";
}

double stackselect(const std::string& prediction, const std::vector<std::string>& references, const json& meta) {
  if (references.empty()) return 0.0;
  int num_choice = 0;
  if (meta.is_object() && meta.contains("num_choice") && meta.at("num_choice").is_number_integer())
    num_choice = meta.at("num_choice").get<int>();
  return stackselect_extract(prediction, num_choice) == references.front() ? 1.0 : 0.0;
}

bool is_subsequence(const std::string& needle, const std::string& haystack) {
  size_t pos = 0;
  for (char c : needle) {
    const size_t at = haystack.find(c, pos);
    if (at == std::string::npos) return false;
    pos = at + 1;
  }
  return true;
}

// extract(): json.loads of the answer part, else the one permutation of 1..4 it holds as a subsequence.
json textsort_extract(const std::string& prediction) {
  std::string pred = prediction;
  const size_t at = pred.find("Answer:");
  if (at != std::string::npos) {
    const size_t from = at + 7, next = pred.find("Answer:", from);
    pred = text::py_strip(pred.substr(from, next == std::string::npos ? std::string::npos : next - from));
  }
  try {
    return json::parse(pred);
  } catch (const json::exception&) {
  }
  std::array<char, 4> perm = {'1', '2', '3', '4'};
  int found = 0;
  json match = json::array({0, 0, 0, 0});
  do {  // itertools.permutations(range(1, 5)) order = lexicographic
    if (is_subsequence(std::string(perm.begin(), perm.end()), pred)) {
      ++found;
      match = json::array();
      for (char c : perm) match.push_back(c - '0');
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
  return found == 1 ? match : json::array({0, 0, 0, 0});
}

// Python == between a reference element and an extracted element.
bool python_equal(const json& a, const json& b) {
  const bool a_num = a.is_number() || a.is_boolean(), b_num = b.is_number() || b.is_boolean();
  auto value = [](const json& v) { return v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>(); };
  if (a_num && b_num) return value(a) == value(b);
  if (a_num || b_num) return false;
  return a == b;
}

json reference_order(const std::vector<std::string>& references) {
  auto parse = [](const std::string& r) {
    try {
      return json::parse(r);
    } catch (const json::exception&) {
      return json(r);
    }
  };
  if (references.size() == 1) {
    json one = parse(references.front());
    if (one.is_array()) return one;
  }
  json out = json::array();
  for (const auto& r : references) out.push_back(parse(r));
  return out;
}

double textsort(const std::string& prediction, const std::vector<std::string>& references, const json&) {
  const json answer = reference_order(references);
  const json extracted = textsort_extract(prediction);
  // zip(answer, extracted): a list pairs its items, a dict its keys, a string its characters.
  std::vector<json> items;
  if (extracted.is_array()) {
    for (const auto& e : extracted) items.push_back(e);
  } else if (extracted.is_object()) {
    for (auto it = extracted.begin(); it != extracted.end(); ++it) items.push_back(it.key());
  } else if (extracted.is_string()) {
    for (const char32_t c : text::to_u32(extracted.get<std::string>())) items.push_back(text::to_utf8(c));
  } else {
    return 0.0;  // upstream: TypeError, zip() over a number / bool / null
  }
  for (size_t i = 0; i < items.size() && i < answer.size(); ++i)
    if (!python_equal(answer[i], items[i])) return 0.0;
  return 1.0;
}

}  // namespace

std::vector<ScorerEntry> ada_leval_scorers() {
  return with_aggregation({{"ada_leval_stackselect", stackselect}, {"ada_leval_textsort", textsort}},
                          mean_aggregation("Ada-LEval dataset.py: accuracy = 100 x mean over the task's samples"));
}

}  // namespace loom::metrics
