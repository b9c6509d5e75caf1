#include "rag/bm25.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace loom::rag {

Bm25Okapi::Bm25Okapi(const std::vector<std::vector<std::string>>& documents, double k1, double b, double epsilon)
    : k1_(k1), b_(b) {
  std::unordered_map<std::string, int> document_frequency;
  std::vector<std::string> first_seen;  // rank_bm25's dictionary order (first occurrence), for the idf sum
  double total_length = 0;
  for (const auto& document : documents) {
    std::unordered_map<std::string, int> frequency;
    for (const std::string& word : document) {
      if (++frequency[word] == 1 && ++document_frequency[word] == 1) first_seen.push_back(word);
    }
    lengths_.push_back(static_cast<double>(document.size()));
    total_length += static_cast<double>(document.size());
    frequencies_.push_back(std::move(frequency));
  }
  const double count = static_cast<double>(documents.size());
  if (documents.empty() || total_length == 0) return;  // no word anywhere: every score is 0
  average_length_ = total_length / count;
  double idf_sum = 0;
  std::vector<std::string> negative;
  for (const std::string& word : first_seen) {
    const int n = document_frequency[word];
    const double idf = std::log(count - n + 0.5) - std::log(n + 0.5);
    idf_[word] = idf;
    idf_sum += idf;
    if (idf < 0) negative.push_back(word);
  }
  const double floor = epsilon * idf_sum / static_cast<double>(idf_.size());
  for (const std::string& word : negative) idf_[word] = floor;
}

std::vector<double> Bm25Okapi::scores(const std::vector<std::string>& query) const {
  std::vector<double> out(frequencies_.size(), 0.0);
  if (average_length_ == 0) return out;
  for (const std::string& word : query) {
    const auto idf = idf_.find(word);
    for (size_t d = 0; d < frequencies_.size(); ++d) {
      const auto f = frequencies_[d].find(word);
      const double frequency = f == frequencies_[d].end() ? 0.0 : f->second;
      const double idf_value = idf == idf_.end() ? 0.0 : idf->second;
      out[d] += idf_value * (frequency * (k1_ + 1) /
                             (frequency + k1_ * (1 - b_ + b_ * lengths_[d] / average_length_)));
    }
  }
  return out;
}

std::vector<std::size_t> top_n(const std::vector<double>& scores, std::size_t n) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  if (order.size() > n) order.resize(n);
  return order;
}

}  // namespace loom::rag
