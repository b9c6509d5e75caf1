// RULER's multi-hop tracing and aggregation tasks, after scripts/data/synthetic/{variable_tracking,
// common_words_extraction,freq_words_extraction}.py:
//  * vt: chains "VAR X = 12345", "VAR Y = VAR X " hidden among noise lines, with one randomized in-context example;
//  * cwe: a numbered word list where 10 words repeat freq_cw times and the rest freq_ucw times, after one solved
//    example;
//  * fwe: coded 6-letter words drawn with Zipf frequencies (k^-alpha / zeta(alpha)); the top rank is "...".
#include "common/error.h"
#include "benchmarks/ruler_tasks.h"
#include "benchmarks/text_util.h"

#include <cmath>
#include <set>

namespace loom::benchmarks::ruler {
namespace {

std::string random_letters(DeterministicRng& rng, int k, char base) {
  std::string s;
  for (int i = 0; i < k; ++i) s += static_cast<char>(base + rng.below(26));
  return s;
}

struct Chains {
  std::vector<std::vector<std::string>> vars;
  std::vector<std::vector<std::string>> lines;
};

Chains make_chains(int num_chains, int num_hops, bool icl, DeterministicRng& rng) {
  const int k = icl ? 3 : 5;
  const size_t needed = static_cast<size_t>((num_hops + 1) * num_chains);
  std::vector<std::string> all;
  std::set<std::string> seen;
  while (all.size() < needed) {
    std::string v = random_letters(rng, k, 'A');
    if (seen.insert(v).second) all.push_back(v);
  }
  Chains c;
  for (size_t i = 0; i < all.size(); i += static_cast<size_t>(num_hops + 1)) {
    std::vector<std::string> vars(all.begin() + static_cast<std::ptrdiff_t>(i),
                                  all.begin() + static_cast<std::ptrdiff_t>(i + num_hops + 1));
    std::vector<std::string> chain;
    const std::string value = icl ? "12345" : std::to_string(rng.uniform_int(10000, 99998));
    chain.push_back("VAR " + vars[0] + " = " + value);
    for (int j = 0; j < num_hops; ++j) chain.push_back("VAR " + vars[j + 1] + " = VAR " + vars[j] + " ");
    c.vars.push_back(std::move(vars));
    c.lines.push_back(std::move(chain));
  }
  return c;
}

// Context of noise lines with every chain's lines inserted in order at random positions.
std::pair<std::string, std::string> vt_context(const Resources& res, const Chains& chains, int64_t n,
                                               DeterministicRng& rng) {
  std::vector<std::string> sentences(static_cast<size_t>(n), res.noise);
  for (const auto& chain : chains.lines) {
    std::vector<size_t> pos = rng.sample_indices(sentences.size(), chain.size());
    std::sort(pos.begin(), pos.end());
    for (size_t j = 0; j < chain.size(); ++j)
      sentences.insert(sentences.begin() + static_cast<std::ptrdiff_t>(pos[j] + j), chain[j]);
  }
  std::string context = replace_all(join(sentences, "\n"), ". \n", ".\n");
  const std::string& first = chains.lines[0][0];
  return {context, strip(first.substr(first.rfind('=') + 1))};
}

double riemann_zeta(double s) {
  // Euler–Maclaurin: sum to N plus the tail integral and two correction terms (error < 1e-12 for s ≥ 1.1).
  const int n = 1000;
  double sum = 0.0;
  for (int k = 1; k < n; ++k) sum += std::pow(static_cast<double>(k), -s);
  const double nn = static_cast<double>(n);
  return sum + std::pow(nn, 1.0 - s) / (s - 1.0) + 0.5 * std::pow(nn, -s) + s * std::pow(nn, -s - 1.0) / 12.0;
}

std::string numbered(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(i + 1) + ". " + words[i];
  }
  return out;
}

}  // namespace

std::string vt_icl_example(const TaskConfig& task, const Resources& res, int num_chains, int num_hops,
                           int64_t icl_noise, DeterministicRng& rng) {
  Chains chains = make_chains(num_chains, num_hops, /*icl=*/true, rng);
  auto [context, value] = vt_context(res, chains, icl_noise, rng);
  const std::string num_v = std::to_string(num_hops + 1);
  std::string text = format_template(task.template_text, {{"context", context}, {"query", value}, {"num_v", num_v}}) +
                     format_template(task.answer_prefix, {{"query", value}, {"num_v", num_v}});
  return text + " " + join(chains.vars[0], " ") + "\n";
}

Draft draft_vt(const TaskConfig& task, const Resources& res, int num_chains, int num_hops, const std::string& icl,
               int64_t n, DeterministicRng& rng) {
  Chains chains = make_chains(num_chains, num_hops, /*icl=*/false, rng);
  auto [context, value] = vt_context(res, chains, n, rng);
  const std::string num_v = std::to_string(num_hops + 1);
  // randomize_icl: the example's variable names and its value 12345 are replaced by fresh random ones.
  std::string example = icl;
  const std::vector<std::string> tokens = split_whitespace(icl);
  const size_t count = std::min(tokens.size(), static_cast<size_t>(num_hops + 1));
  for (size_t i = tokens.size() - count; i < tokens.size(); ++i)
    example = replace_all(example, tokens[i], random_letters(rng, static_cast<int>(tokens[i].size()), 'A'));
  example = replace_all(example, "12345", std::to_string(rng.uniform_int(10000, 99998)));
  Draft d;
  d.prompt = example + "\n" +
             format_template(task.template_text, {{"context", context}, {"query", value}, {"num_v", num_v}});
  d.question_begin = question_begin(d.prompt, task.template_text, {{"query", value}, {"num_v", num_v}});
  d.answer_prefix = format_template(task.answer_prefix, {{"query", value}, {"num_v", num_v}});
  d.references = chains.vars[0];
  return d;
}

Draft draft_cwe(const TaskConfig& task, const Resources& res, int freq_cw, int freq_ucw, int num_cw,
                bool short_context, int64_t n, DeterministicRng& rng) {
  const auto& vocab = *res.words;
  auto example = [&](int64_t num_words, int common_repeats, int uncommon_repeats) {
    if (static_cast<size_t>(num_words) > vocab.size())
      throw Error("the word list has fewer words than this cwe context needs; use a larger options.word_list");
    std::vector<size_t> pick = rng.sample_indices(vocab.size(), static_cast<size_t>(num_words));
    std::vector<std::string> common, list;
    for (size_t i = 0; i < pick.size(); ++i) {
      const std::string& w = vocab[pick[i]];
      if (static_cast<int>(i) < num_cw) common.push_back(w);
      const int repeats = static_cast<int>(i) < num_cw ? common_repeats : uncommon_repeats;
      for (int r = 0; r < repeats; ++r) list.push_back(w);
    }
    rng.shuffle(list);
    return std::make_pair(numbered(list), common);
  };
  auto shot = short_context ? example(20, 3, 1) : example(40, 10, 3);
  auto main = short_context ? example(n, 6, 1) : example(n, freq_cw, freq_ucw);
  const std::string ncw = std::to_string(num_cw);
  const std::string prefix = format_template(task.answer_prefix, {{"num_cw", ncw}, {"query", ""}});
  std::string few_shot = format_template(task.template_text, {{"num_cw", ncw}, {"context", shot.first}, {"query", ""}}) +
                         prefix + " " + numbered(shot.second);
  Draft d;
  d.prompt = few_shot + "\n" +
             format_template(task.template_text, {{"num_cw", ncw}, {"context", main.first}, {"query", ""}});
  d.question_begin = question_begin(d.prompt, task.template_text, {{"num_cw", ncw}, {"query", ""}});
  d.answer_prefix = prefix;
  d.references = main.second;
  return d;
}

Draft draft_fwe(const TaskConfig& task, double alpha, int coded_wordlen, int64_t vocab_size, int64_t n,
                DeterministicRng& rng) {
  std::set<std::string> unique;
  while (static_cast<int64_t>(unique.size()) < vocab_size) unique.insert(random_letters(rng, coded_wordlen, 'a'));
  std::vector<std::string> vocab(unique.begin(), unique.end());
  rng.shuffle(vocab);
  vocab[0] = "...";
  const double z = riemann_zeta(alpha);
  std::vector<std::string> words;
  for (size_t k = 0; k < vocab.size(); ++k) {
    const auto count = static_cast<int64_t>(static_cast<double>(n) * std::pow(static_cast<double>(k + 1), -alpha) / z);
    if (count <= 0) break;
    for (int64_t i = 0; i < count; ++i) words.push_back(vocab[k]);
  }
  rng.shuffle(words);
  Draft d;
  d.prompt = format_template(task.template_text, {{"context", join(words, " ")}, {"query", ""}});
  d.question_begin = question_begin(d.prompt, task.template_text, {{"query", ""}});
  d.answer_prefix = format_template(task.answer_prefix, {{"query", ""}});
  d.references.assign(vocab.begin() + 1, vocab.begin() + std::min<size_t>(4, vocab.size()));
  return d;
}

}  // namespace loom::benchmarks::ruler
