// BM25 Okapi over words (split_words), with the constants and rules of the `rank_bm25` package's BM25Okapi
// (k1 1.5, b 0.75, epsilon 0.25): idf(w) = ln(N - n(w) + 0.5) - ln(n(w) + 0.5), where a negative idf is replaced by
// epsilon times the mean idf; score(d) = sum over the query's words, repeats included, of
// idf(w) * f(w,d) * (k1 + 1) / (f(w,d) + k1 * (1 - b + b * |d| / avgdl)); a query word absent from every document
// adds 0. LOOM-Scope passes untokenized strings to BM25Okapi, so it scores characters; this scores words.
// Parity with rank_bm25 0.2.2: tests/rag (fixtures from tools/fixtures/rag_fixtures.py).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace loom::rag {

class Bm25Okapi {
 public:
  explicit Bm25Okapi(const std::vector<std::vector<std::string>>& documents, double k1 = 1.5, double b = 0.75,
                     double epsilon = 0.25);
  std::vector<double> scores(const std::vector<std::string>& query) const;

 private:
  double k1_, b_;
  double average_length_ = 0;
  std::vector<std::unordered_map<std::string, int>> frequencies_;
  std::vector<double> lengths_;
  std::unordered_map<std::string, double> idf_;
};

// Indices of the n best scores, best first; equal scores in document order.
std::vector<std::size_t> top_n(const std::vector<double>& scores, std::size_t n);

}  // namespace loom::rag
