// Counting-Stars (nick7nlp/Counting-Stars gen_test_data.ipynb, re-implemented): 32 star sentences ("The little
// penguin counted N ★", or the wrong-then-corrected count for the reasoning variant) are sprinkled at even
// intervals through the first j words (EN essays, newlines → spaces) or characters (ZH novel, punctuation, Latin
// letters and spaces removed) of the haystack, for j = scale·4000 … scale·128000 (scale 0.8 EN, 0.7 ZH). The prompt
// is the sprinkled context followed by the question. No randomness: the output is fixed by the data files.
// data_dir: PaulGrahamEssays/*.txt (name order; upstream uses unsorted glob order), The_Story_of_the_Stone.txt,
// a_stars.txt, r_stars.txt (the repo's data/counting_stars). Options: max_context_length (128000), counting_times (32).
#include "common/error.h"
#include "benchmarks/configured_benchmark.h"
#include "benchmarks/data_files.h"
#include "benchmarks/text_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace loom::benchmarks {
namespace {

std::u32string utf8_to_u32(const std::string& s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + static_cast<size_t>(len) > s.size()) len = 1;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += static_cast<size_t>(len);
  }
  return out;
}

std::string u32_to_utf8(const std::u32string& s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char32_t cp : s) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

// Python's str.isspace() for the code points str.strip() removes.
bool py_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::u32string zh_context(const std::string& raw) {
  std::u32string out;
  for (const std::string& line : split_on(raw, "\n")) {
    std::u32string l = utf8_to_u32(line + "\n");
    size_t b = 0, e = l.size();
    while (b < e && py_space(l[b])) ++b;
    while (e > b && py_space(l[e - 1])) --e;
    std::u32string kept;
    for (size_t i = b; i < e; ++i) {
      const char32_t c = l[i];
      // "------------" → " ", then every " " removed, then ASCII punctuation and letters removed: all of these
      // characters simply disappear.
      if (c == U' ' || c == U'\n') continue;
      if (c < 0x80 && (std::ispunct(static_cast<int>(c)) || std::isalpha(static_cast<int>(c)))) continue;
      kept.push_back(c);
    }
    out += kept;
  }
  return out;
}

std::vector<int64_t> parse_star_line(const std::filesystem::path& file, const std::string& key) {
  std::string line = read_text_file(file);
  line = line.substr(0, line.find('\n'));
  std::replace(line.begin(), line.end(), '\'', '"');
  nlohmann::json doc = nlohmann::json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.contains(key) || !doc[key].is_array())
    throw InputError(file.string(), 1, key, "a dict literal {'32': [counts...], ...} holding key " + key);
  return doc[key].get<std::vector<int64_t>>();
}

class CountingStarsBenchmark : public ConfiguredBenchmark {
 public:
  using ConfiguredBenchmark::ConfiguredBenchmark;

  bool synthetic() const override { return true; }

  std::vector<Sample> expand(const BenchmarkSpec& job_spec, const PromptContext& ctx) const override {
    const BenchmarkSpec spec = with_default_data_dir(job_spec);
    const std::string published = config().published;
    const int64_t m = option(spec, nullptr, "counting_times", 32).get<int64_t>();
    const int64_t max_len = option(spec, nullptr, "max_context_length", 128000).get<int64_t>();
    // counting_times 0 divided by zero, and max_context_length below it made a step of 0 (an endless loop).
    if (m < 1 || m > 1000)
      throw InputError(config().file.string(), 0, "options.counting_times",
                       fmt::format("a number of star sentences in [1, 1000], got {}", m));
    if (max_len < m || max_len > (int64_t{1} << 24))
      throw InputError(config().file.string(), 0, "options.max_context_length",
                       fmt::format("a length in [counting_times = {}, 16777216], got {}", m, max_len));
    const auto a_stars = parse_star_line(require_data_file(spec, "a_stars.txt", published), std::to_string(m));
    const auto r_stars = parse_star_line(require_data_file(spec, "r_stars.txt", published), std::to_string(m));
    std::vector<Sample> samples;
    for (const TaskConfig* task : selected_tasks(spec)) {
      const bool zh = task->options.value("language", std::string("EN")) == "ZH";
      const bool reasoning = task->options.value("variant", std::string("searching")) == "reasoning";
      const double scale = zh ? 0.7 : 0.8;
      const std::string question = task->template_text;
      std::u32string zh_text;
      std::vector<std::string> en_words;
      if (zh) {
        zh_text = zh_context(read_text_file(require_data_file(spec, "The_Story_of_the_Stone.txt", published)));
      } else {
        std::string text;
        const auto dir = require_data_dir(spec, published) / "PaulGrahamEssays";
        for (const auto& f : list_files(dir, ".txt")) text += replace_all(read_text_file(f), "\n", " ");
        if (text.empty()) require_data_file(spec, "PaulGrahamEssays/addiction.txt", published);
        en_words = split_on(text, " ");
      }
      const int64_t interval = max_len / m;
      std::vector<int64_t> nominal;
      for (int64_t i = interval; i <= max_len; i += interval) nominal.push_back(i);
      const std::vector<int64_t> wanted = selected_lengths(spec);
      int64_t index = 0;
      for (int64_t i : nominal) {
        if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), i) == wanted.end()) continue;
        if (static_cast<size_t>(index) >= sample_limit(spec, nominal.size())) break;
        const int64_t j = static_cast<int64_t>(static_cast<double>(i) * scale);
        const std::string context = zh ? sprinkle_zh(zh_text, j, m, a_stars, r_stars, reasoning)
                                       : sprinkle_en(en_words, j, m, a_stars, r_stars, reasoning);
        Sample s = new_sample(*task, spec, i, index++);
        s.id = fmt::format("{}_{}", task->name, j);
        s.prompt = context + question;
        for (int64_t a : a_stars) s.references.push_back(std::to_string(a));
        s.metadata["context_size"] = j;
        s.metadata["reference_counting_results"] = a_stars;
        s.metadata["r_stars"] = r_stars;
        s.metadata["language"] = zh ? "zh" : "en";
        s.metadata["retrieval_question"] = question;
        samples.push_back(std::move(s));
      }
    }
    return samples;
  }

 private:
  static std::string star_sentence(bool zh, bool reasoning, int64_t a, int64_t r) {
    if (zh) {
      return reasoning ? fmt::format("\n小企鹅数了{}颗★，但发现数错了，于是又数了一遍，这次数对了，是{}颗★\n", r, a)
                       : fmt::format("\n小企鹅数了{}颗★\n", a);
    }
    return reasoning ? fmt::format("\nThe little penguin counted {} ★, but found that a mistake had been made, so the "
                                   "counting was done again, and this time {} ★ was counted correctly.\n",
                                   r, a)
                     : fmt::format("\nThe little penguin counted {} ★\n", a);
  }

  static std::string sprinkle_en(const std::vector<std::string>& words, int64_t j, int64_t m,
                                 const std::vector<int64_t>& a, const std::vector<int64_t>& r, bool reasoning) {
    std::string text = join(std::vector<std::string>(words.begin(), words.begin() + std::min<int64_t>(j, words.size())), " ");
    const int64_t step = j / m;
    int64_t indicator = 0;
    for (int64_t k = 0; k < j && step > 0; k += step) {
      const std::string star = star_sentence(false, reasoning, a[indicator], r[indicator]);
      const auto star_words = static_cast<int64_t>(split_on(star, " ").size());
      std::vector<std::string> parts = split_on(text, " ");
      const auto cut = static_cast<size_t>(std::min<int64_t>(star_words * indicator + k + step, parts.size()));
      text = join(std::vector<std::string>(parts.begin(), parts.begin() + cut), " ") + star +
             join(std::vector<std::string>(parts.begin() + cut, parts.end()), " ");
      if (++indicator == m) break;
    }
    return text;
  }

  static std::string sprinkle_zh(const std::u32string& chars, int64_t j, int64_t m, const std::vector<int64_t>& a,
                                 const std::vector<int64_t>& r, bool reasoning) {
    std::u32string text = chars.substr(0, static_cast<size_t>(j));
    const int64_t step = j / m;
    int64_t indicator = 0;
    for (int64_t k = 0; k < j && step > 0; k += step) {
      const std::u32string star = utf8_to_u32(star_sentence(true, reasoning, a[indicator], r[indicator]));
      const auto cut = static_cast<size_t>(std::min<int64_t>(k + step + static_cast<int64_t>(star.size()) * indicator,
                                                             static_cast<int64_t>(text.size())));
      text = text.substr(0, cut) + star + text.substr(cut);
      if (++indicator == m) break;
    }
    return u32_to_utf8(text);
  }
};

}  // namespace

std::unique_ptr<Benchmark> make_counting_stars_benchmark(BenchmarkConfig config) {
  return std::make_unique<CountingStarsBenchmark>(std::move(config));
}

}  // namespace loom::benchmarks
