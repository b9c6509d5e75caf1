#include "metrics/text/rouge.h"

#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace loom::metrics::text {

namespace {

// ---------------------------------------------------------------- pltrdy rouge 1.0.1
using Words = std::vector<std::string>;

std::vector<std::string> pltrdy_sentences(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& piece : split_on(text, "."))
    if (!piece.empty()) out.push_back(collapse_whitespace(piece));
  return out;
}

Words flatten_words(const std::vector<std::string>& sentences) {
  Words out;
  for (const auto& s : sentences)
    for (auto& w : split_on(s, " ")) out.push_back(std::move(w));
  return out;
}

RougePRF pltrdy_prf(size_t evaluated, size_t reference, size_t overlap) {
  RougePRF s;
  s.p = evaluated == 0 ? 0.0 : static_cast<double>(overlap) / static_cast<double>(evaluated);
  s.r = reference == 0 ? 0.0 : static_cast<double>(overlap) / static_cast<double>(reference);
  s.f = 2.0 * ((s.p * s.r) / (s.p + s.r + 1e-8));
  return s;
}

RougePRF pltrdy_rouge_n(const std::vector<std::string>& hyp, const std::vector<std::string>& ref, size_t n) {
  auto ngrams = [n](const Words& words) {
    std::set<std::vector<std::string>> out;
    for (size_t i = 0; i + n <= words.size(); ++i) out.emplace(words.begin() + i, words.begin() + i + n);
    return out;
  };
  auto h = ngrams(flatten_words(hyp));
  auto r = ngrams(flatten_words(ref));
  size_t overlap = 0;
  for (const auto& g : h) overlap += r.count(g);
  return pltrdy_prf(h.size(), r.size(), overlap);
}

// pltrdy _recon_lcs(x, y): the words of x on the LCS path chosen by its recursive backtrack. Returns false when
// the recursion would need more than `budget` nested frames (Python raises RecursionError).
bool pltrdy_recon_lcs(const Words& x, const Words& y, int budget, std::vector<const std::string*>& lcs) {
  const size_t n = x.size(), m = y.size();
  std::vector<std::vector<int>> t(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j)
      t[i][j] = x[i - 1] == y[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  size_t i = n, j = m;
  int frames = 1;
  lcs.clear();
  while (i > 0 && j > 0) {
    if (x[i - 1] == y[j - 1]) {
      lcs.push_back(&x[i - 1]);
      --i;
      --j;
    } else if (t[i - 1][j] > t[i][j - 1]) {
      --i;
    } else {
      --j;
    }
    ++frames;
    if (frames > budget) return false;
  }
  return true;
}

}  // namespace

std::optional<PltrdyRouge> pltrdy_rouge(std::string_view hypothesis, std::string_view reference,
                                        int recursion_budget) {
  const auto hyp = pltrdy_sentences(hypothesis);
  const auto ref = pltrdy_sentences(reference);
  if (hyp.empty() || ref.empty()) return std::nullopt;  // "Hypothesis is empty." / "Reference is empty."
  PltrdyRouge out;
  out.rouge1 = pltrdy_rouge_n(hyp, ref, 1);
  out.rouge2 = pltrdy_rouge_n(hyp, ref, 2);

  const Words ref_words = flatten_words(ref), hyp_words = flatten_words(hyp);
  const size_t m = std::unordered_set<std::string>(ref_words.begin(), ref_words.end()).size();
  const size_t n = std::unordered_set<std::string>(hyp_words.begin(), hyp_words.end()).size();
  std::unordered_set<std::string> lcs_union;
  std::vector<Words> hyp_sentence_words;
  for (const auto& s : hyp) hyp_sentence_words.push_back(split_on(s, " "));
  std::vector<const std::string*> lcs;
  for (const auto& ref_sentence : ref) {
    const Words rw = split_on(ref_sentence, " ");
    for (const auto& hw : hyp_sentence_words) {
      if (!pltrdy_recon_lcs(rw, hw, recursion_budget, lcs)) return std::nullopt;
      for (const auto* w : lcs) lcs_union.insert(*w);
    }
  }
  const double llcs = static_cast<double>(lcs_union.size());
  out.rougel.r = llcs / static_cast<double>(m);
  out.rougel.p = llcs / static_cast<double>(n);
  out.rougel.f = 2.0 * ((out.rougel.p * out.rougel.r) / (out.rougel.p + out.rougel.r + 1e-8));
  return out;
}

// ---------------------------------------------------------------- Google rouge-score
namespace {

double google_fmeasure(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

std::vector<std::vector<int>> lcs_table(const Words& ref, const Words& can) {
  std::vector<std::vector<int>> t(ref.size() + 1, std::vector<int>(can.size() + 1, 0));
  for (size_t i = 1; i <= ref.size(); ++i)
    for (size_t j = 1; j <= can.size(); ++j)
      t[i][j] = ref[i - 1] == can[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  return t;
}

// rouge-score _backtrack_norec: indices into ref on the chosen LCS path.
std::vector<size_t> lcs_indices(const Words& ref, const Words& can) {
  auto t = lcs_table(ref, can);
  std::vector<size_t> out;
  size_t i = ref.size(), j = can.size();
  while (i > 0 && j > 0) {
    if (ref[i - 1] == can[j - 1]) {
      out.push_back(i - 1);
      --i;
      --j;
    } else if (t[i][j - 1] > t[i - 1][j]) {
      --j;
    } else {
      --i;
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> google_rouge_tokenize(std::string_view text) {
  std::u32string lowered = py_lower(to_u32(text));
  std::vector<std::string> out;
  std::string cur;
  for (char32_t c : lowered) {
    if ((c >= U'a' && c <= U'z') || (c >= U'0' && c <= U'9')) {
      cur.push_back(static_cast<char>(c));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

RougePRF google_rouge_n(std::string_view target, std::string_view prediction, int n) {
  auto count = [n](const Words& tokens) {
    std::map<std::vector<std::string>, long> out;
    for (size_t i = 0; i + static_cast<size_t>(n) <= tokens.size(); ++i)
      ++out[Words(tokens.begin() + i, tokens.begin() + i + n)];
    return out;
  };
  auto t = count(google_rouge_tokenize(target));
  auto p = count(google_rouge_tokenize(prediction));
  long inter = 0, t_total = 0, p_total = 0;
  for (const auto& [g, c] : t) {
    t_total += c;
    auto it = p.find(g);
    if (it != p.end()) inter += std::min(c, it->second);
  }
  for (const auto& kv : p) p_total += kv.second;
  RougePRF s;
  s.p = static_cast<double>(inter) / static_cast<double>(std::max(p_total, 1L));
  s.r = static_cast<double>(inter) / static_cast<double>(std::max(t_total, 1L));
  s.f = google_fmeasure(s.p, s.r);
  return s;
}

RougePRF google_rouge_l(std::string_view target, std::string_view prediction) {
  auto t = google_rouge_tokenize(target);
  auto p = google_rouge_tokenize(prediction);
  RougePRF s;
  if (t.empty() || p.empty()) return s;
  double lcs = lcs_table(t, p)[t.size()][p.size()];
  s.p = lcs / static_cast<double>(p.size());
  s.r = lcs / static_cast<double>(t.size());
  s.f = google_fmeasure(s.p, s.r);
  return s;
}

RougePRF google_rouge_lsum(std::string_view target, std::string_view prediction) {
  auto sentences = [](std::string_view text) {
    std::vector<Words> out;
    for (const auto& s : split_on(text, "\n"))
      if (!s.empty()) out.push_back(google_rouge_tokenize(s));
    return out;
  };
  const auto ref = sentences(target);
  const auto can = sentences(prediction);
  RougePRF s;
  if (ref.empty() || can.empty()) return s;
  size_t m = 0, n = 0;
  std::unordered_map<std::string, long> cnt_r, cnt_c;
  for (const auto& r : ref) {
    m += r.size();
    for (const auto& w : r) ++cnt_r[w];
  }
  for (const auto& c : can) {
    n += c.size();
    for (const auto& w : c) ++cnt_c[w];
  }
  if (!m || !n) return s;
  long hits = 0;
  for (const auto& r : ref) {
    std::set<size_t> uni;
    for (const auto& c : can)
      for (size_t idx : lcs_indices(r, c)) uni.insert(idx);
    for (size_t idx : uni) {
      const auto& w = r[idx];
      if (cnt_c[w] > 0 && cnt_r[w] > 0) {
        ++hits;
        --cnt_c[w];
        --cnt_r[w];
      }
    }
  }
  s.r = static_cast<double>(hits) / static_cast<double>(m);
  s.p = static_cast<double>(hits) / static_cast<double>(n);
  s.f = google_fmeasure(s.p, s.r);
  return s;
}

}  // namespace loom::metrics::text
