// RULER's needle-in-a-haystack family (niah_single_*, niah_multikey_*, niah_multivalue, niah_multiquery), after
// scripts/data/synthetic/niah.py: needles "One of the special magic {type_needle_v} for {key} is: {value}." are
// placed between the sentences of an essay haystack at depths drawn from 40 evenly spaced percentages, or between
// repeated noise / distractor-needle lines; the query asks for one or more keys.
#include "common/error.h"
#include "benchmarks/ruler_tasks.h"
#include "benchmarks/text_util.h"

#include <cmath>
#include <fmt/format.h>

namespace loom::benchmarks::ruler {
namespace {

constexpr const char* kNeedle = "One of the special magic {type_needle_v} for {key} is: {value}.";

// numpy.round(np.linspace(0, 100, 40)).astype(int): round half to even on exact .5 values.
const std::vector<int>& depth_grid() {
  static const std::vector<int> depths = [] {
    std::vector<int> d;
    for (int i = 0; i < 40; ++i) d.push_back(static_cast<int>(std::nearbyint(100.0 * i / 39.0)));
    return d;
  }();
  return depths;
}

std::string random_number(DeterministicRng& rng) { return std::to_string(rng.uniform_int(1000000, 9999999)); }

// uuid.UUID(int=getrandbits(128), version=4): version nibble 4, variant bits 10.
std::string random_uuid(DeterministicRng& rng) {
  uint64_t hi = rng.next_u64();
  uint64_t lo = rng.next_u64();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;
  lo = (lo & ~(0xC000ULL << 48)) | (0x8000ULL << 48);
  const std::string h = fmt::format("{:016x}{:016x}", hi, lo);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string random_word_key(const Resources& res, DeterministicRng& rng) {
  return rng.choice(*res.words) + "-" + rng.choice(*res.words);
}

std::string random_value(const std::string& type, const Resources& res, DeterministicRng& rng) {
  if (type == "numbers") return random_number(rng);
  if (type == "words") return random_word_key(res, rng);
  if (type == "uuids") return random_uuid(rng);
  throw Error("unknown RULER needle type " + type);
}

std::string needle_text(const std::string& type_v, const std::string& key, const std::string& value) {
  return format_template(kNeedle, {{"type_needle_v", type_v}, {"key", key}, {"value", value}});
}

}  // namespace

std::string format_template(const std::string& tmpl, const std::vector<std::pair<std::string, std::string>>& values) {
  return render_template(tmpl, [&](std::string_view name) -> std::optional<std::string> {
    for (const auto& kv : values)
      if (kv.first == name) return kv.second;
    return std::nullopt;
  });
}

int64_t question_begin(const std::string& prompt, const std::string& tmpl,
                       const std::vector<std::pair<std::string, std::string>>& values) {
  const std::string marker = "{context}";
  const size_t at = tmpl.rfind(marker);
  if (at == std::string::npos) return -1;
  const std::string question = format_template(tmpl.substr(at + marker.size()), values);
  if (question.size() > prompt.size()) return -1;
  return static_cast<int64_t>(prompt.size() - question.size());
}

Draft draft_niah(const TaskConfig& task, const NiahArgs& args, const Resources& res, int64_t n,
                 DeterministicRng& rng) {
  const int num_k = std::max(args.num_needle_k, args.num_needle_q);
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> values;
  std::vector<std::string> needles;
  for (int i = 0; i < num_k; ++i) {
    keys.push_back(random_value(args.type_needle_k, res, rng));
    values.emplace_back();
    for (int j = 0; j < args.num_needle_v; ++j) {
      values.back().push_back(random_value(args.type_needle_v, res, rng));
      needles.push_back(needle_text(args.type_needle_v, keys.back(), values.back().back()));
    }
  }
  rng.shuffle(needles);

  Draft d;
  std::string context;
  if (args.type_haystack == "essay") {
    const auto& hay = res.essay_words;
    std::vector<std::string> words;
    words.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) words.push_back(hay[static_cast<size_t>(i) % hay.size()]);
    const std::vector<std::string> sents = split_sentences(strip(join(words, " ")));
    const auto& grid = depth_grid();
    std::vector<size_t> picks = rng.sample_indices(grid.size(), needles.size());
    std::vector<int> depths;
    for (size_t p : picks) depths.push_back(grid[p]);
    std::vector<size_t> positions;
    for (int depth : depths) positions.push_back(static_cast<size_t>(sents.size() * (depth / 100.0)));
    std::sort(positions.begin(), positions.end());
    std::sort(depths.begin(), depths.end());
    std::vector<std::string> pieces;
    size_t last = 0;
    for (size_t i = 0; i <= positions.size(); ++i) {
      const size_t next = i < positions.size() ? positions[i] : sents.size();
      pieces.push_back(join(std::vector<std::string>(sents.begin() + last, sents.begin() + next), " "));
      if (i < needles.size()) pieces.push_back(needles[i]);
      last = next;
    }
    context = join(pieces, " ");
    d.metadata["needle_depths"] = depths;
    d.metadata["needle_sentence_positions"] = positions;
    d.metadata["haystack_sentences"] = sents.size();
  } else {
    std::vector<std::string> lines;
    lines.reserve(static_cast<size_t>(n) + needles.size());
    for (int64_t i = 0; i < n; ++i) {
      if (args.type_haystack == "noise") lines.push_back(res.noise);
      else lines.push_back(needle_text(args.type_needle_v, random_value(args.type_needle_k, res, rng),
                                       random_value(args.type_needle_v, res, rng)));
    }
    std::vector<size_t> idx = rng.sample_indices(static_cast<size_t>(n), needles.size());
    std::sort(idx.rbegin(), idx.rend());
    for (size_t i = 0; i < idx.size(); ++i) lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(idx[i]), needles[i]);
    context = join(lines, "\n");
  }

  std::vector<size_t> chosen = rng.sample_indices(static_cast<size_t>(num_k), static_cast<size_t>(args.num_needle_q));
  std::vector<std::string> queries;
  for (size_t i : chosen) {
    queries.push_back(keys[i]);
    for (const auto& v : values[i]) d.references.push_back(v);
  }
  std::string query = queries.back();
  if (queries.size() > 1) {
    query = join(std::vector<std::string>(queries.begin(), queries.end() - 1), ", ") + ", and " + queries.back();
  }

  std::string tmpl = task.template_text;
  std::string prefix = task.answer_prefix;
  std::string type_v = args.type_needle_v;
  if (args.num_needle_q * args.num_needle_v == 1) {
    for (std::string* t : {&tmpl, &prefix}) {
      *t = replace_all(*t, "Some", "A");
      *t = replace_all(*t, "are all", "is");
      *t = replace_all(*t, "are", "is");
      *t = replace_all(*t, "answers", "answer");
    }
    type_v.pop_back();
  }
  d.prompt = format_template(tmpl, {{"type_needle_v", type_v}, {"context", context}, {"query", query}});
  d.question_begin = question_begin(d.prompt, tmpl, {{"type_needle_v", type_v}, {"query", query}});
  d.answer_prefix = format_template(prefix, {{"type_needle_v", type_v}, {"query", query}});
  d.metadata["needles"] = needles;
  d.metadata["queries"] = queries;
  return d;
}

}  // namespace loom::benchmarks::ruler
