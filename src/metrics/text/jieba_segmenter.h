// Chinese word segmentation identical to Python jieba 0.42.1 `jieba.cut(text, cut_all=False, HMM=True)`, the
// segmenter the official LongBench / LV-Eval scorers use: the text is split into blocks of
// [\u4E00-\u9FD5a-zA-Z0-9+#&._%-]; each block is segmented by the maximum-probability route through the DAG of
// dictionary words, and runs of single characters that are not dictionary words go to the BMES HMM (Viterbi).
// Other text is split into whitespace tokens ("\r\n" or one \s) and single characters.
// The model is read at run time from jieba's own files (dict.txt and finalseg/prob_{start,trans,emit}.py):
// directory = $LOOM_JIEBA_DIR, else /usr/lib/python3/dist-packages/jieba (Debian package python3-jieba).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace loom::metrics::text {

class JiebaSegmenter {
 public:
  // Loads the model from `jieba_dir`; throws loom::InputError naming the missing file and the fix.
  explicit JiebaSegmenter(const std::filesystem::path& jieba_dir);

  // The process-wide segmenter from default_dir(), loaded on first use (thread-safe).
  static const JiebaSegmenter& shared();
  static std::filesystem::path default_dir();

  std::vector<std::string> cut(std::string_view utf8) const;
  std::vector<std::u32string> cut(const std::u32string& text) const;

 private:
  void cut_block(const std::u32string& block, std::vector<std::u32string>& out) const;
  void cut_unknown(const std::u32string& text, std::vector<std::u32string>& out) const;  // finalseg.cut
  void viterbi_cut(const std::u32string& han, std::vector<std::u32string>& out) const;
  int64_t frequency(const std::u32string& word) const;  // 0 when absent

  std::unordered_map<std::u32string, int64_t> freq_;  // words and their prefixes (prefix-only entries are 0)
  double log_total_ = 0;
  // HMM states in Python's ordering for tie-breaks: B < E < M < S.
  std::array<double, 4> start_{};
  std::array<std::array<double, 4>, 4> trans_{};
  std::array<std::unordered_map<char32_t, double>, 4> emit_;
};

}  // namespace loom::metrics::text
