#include "rag/sentence_splitter.h"

#include "rag/char_classes.h"
#include "text/punkt.h"
#include "text/utf8.h"

#include <deque>
#include <stdexcept>
#include <utility>

namespace loom::rag {
namespace {

using Text = std::u32string;

Text decode(std::string_view text) {
  Text out;
  size_t pos = 0;
  while (pos < text.size()) out.push_back(text::next_code_point(text, pos));
  return out;
}

std::string encode(const Text& text) {
  std::string out;
  for (char32_t c : text) text::append_utf8(out, c);
  return out;
}

struct Split {
  Text text;
  bool is_sentence;
  size_t tokens;
};

// split_text_keep_separator: text.split(sep), every part after the first prefixed with sep, empty parts dropped.
std::vector<Text> split_keep_separator(const Text& text, const Text& sep) {
  std::vector<Text> out;
  size_t begin = 0;
  bool first = true;
  while (true) {
    const size_t at = text.find(sep, begin);
    Text part = text.substr(begin, at == Text::npos ? Text::npos : at - begin);
    if (!first) part = sep + part;
    if (!part.empty()) out.push_back(std::move(part));
    first = false;
    if (at == Text::npos) break;
    begin = at + sep.size();
  }
  return out;
}

std::vector<Text> split_sentences(const Text& text) {  // split_by_sentence_tokenizer_internal
  const auto spans = text::punkt_spans(text, text::kPunktNltk3104);
  std::vector<Text> out;
  for (size_t i = 0; i < spans.size(); ++i) {
    const size_t end = i + 1 < spans.size() ? spans[i + 1].first : text.size();
    out.push_back(text.substr(spans[i].first, end - spans[i].first));
  }
  return out;
}

bool is_chunking_mark(char32_t c) {
  return c == ',' || c == '.' || c == ';' || c == U'。' || c == U'？' || c == U'！';
}

std::vector<Text> split_regex(const Text& text) {  // re.findall("[^,.;。？！]+[,.;。？！]?|[,.;。？！]", text)
  std::vector<Text> out;
  size_t p = 0;
  while (p < text.size()) {
    size_t e = p;
    while (e < text.size() && !is_chunking_mark(text[e])) ++e;
    if (e < text.size()) ++e;  // the optional mark (or the lone mark)
    out.push_back(text.substr(p, e - p));
    p = e;
  }
  return out;
}

std::vector<Text> split_chars(const Text& text) {
  std::vector<Text> out;
  for (char32_t c : text) out.emplace_back(1, c);
  return out;
}

class Splitter {
 public:
  Splitter(const SentenceSplitterOptions& options, const TokenCounter& count) : options_(options), count_(count) {}

  std::vector<std::string> run(const Text& text) {
    if (text.empty()) return {std::string()};
    std::vector<Split> splits;
    split(text, splits);
    return merge(splits);
  }

 private:
  size_t tokens(const Text& text) const { return count_(encode(text)); }

  std::pair<std::vector<Text>, bool> splits_by_fns(const Text& text) const {
    std::vector<Text> parts = split_keep_separator(text, U"\n\n\n");
    if (parts.size() > 1) return {parts, true};
    parts = split_sentences(text);
    if (parts.size() > 1) return {parts, true};
    parts = split_regex(text);
    if (parts.size() > 1) return {parts, false};
    parts = split_keep_separator(text, U" ");
    if (parts.size() > 1) return {parts, false};
    return {split_chars(text), false};
  }

  void split(const Text& text, std::vector<Split>& out) const {
    const size_t size = tokens(text);
    if (size <= static_cast<size_t>(options_.chunk_size)) {
      out.push_back({text, true, size});
      return;
    }
    const auto [parts, is_sentence] = splits_by_fns(text);
    for (const Text& part : parts) {
      const size_t part_size = tokens(part);
      if (part_size <= static_cast<size_t>(options_.chunk_size) || parts.size() == 1) {
        out.push_back({part, is_sentence, part_size});
      } else {
        split(part, out);
      }
    }
  }

  std::vector<std::string> merge(const std::vector<Split>& splits) const {
    const size_t chunk_size = static_cast<size_t>(options_.chunk_size);
    const size_t overlap = static_cast<size_t>(options_.chunk_overlap);
    std::vector<Text> chunks;
    std::deque<std::pair<Text, size_t>> current;
    size_t current_len = 0;
    bool new_chunk = true;
    const auto close_chunk = [&] {
      Text joined;
      for (const auto& part : current) joined += part.first;
      chunks.push_back(std::move(joined));
      const std::deque<std::pair<Text, size_t>> last = std::move(current);
      current.clear();
      current_len = 0;
      new_chunk = true;
      for (size_t i = last.size(); i > 0 && current_len + last[i - 1].second <= overlap; --i) {
        current_len += last[i - 1].second;
        current.push_front(last[i - 1]);
      }
    };
    size_t index = 0;
    while (index < splits.size()) {
      const Split& split = splits[index];
      if (split.tokens > chunk_size) throw std::runtime_error("Single token exceeded chunk size");
      if (current_len + split.tokens > chunk_size && !new_chunk) {
        close_chunk();
        continue;
      }
      if (new_chunk && current_len + split.tokens > chunk_size) {
        while (!current.empty() && current_len + split.tokens > chunk_size) {
          current_len -= current.front().second;
          current.pop_front();
        }
      }
      if (split.is_sentence || current_len + split.tokens <= chunk_size || new_chunk) {
        current_len += split.tokens;
        current.emplace_back(split.text, split.tokens);
        ++index;
        new_chunk = false;
      } else {
        close_chunk();
      }
    }
    if (!new_chunk) {
      Text joined;
      for (const auto& part : current) joined += part.first;
      chunks.push_back(std::move(joined));
    }
    std::vector<std::string> out;  // _postprocess_chunks: strip, drop empty
    for (const Text& chunk : chunks) {
      size_t begin = 0, end = chunk.size();
      while (begin < end && is_python_space(chunk[begin])) ++begin;
      while (end > begin && is_python_space(chunk[end - 1])) --end;
      if (end > begin) out.push_back(encode(chunk.substr(begin, end - begin)));
    }
    return out;
  }

  const SentenceSplitterOptions& options_;
  const TokenCounter& count_;
};

}  // namespace

std::vector<std::string> sentence_split(std::string_view text, const SentenceSplitterOptions& options,
                                        const TokenCounter& count_tokens) {
  return Splitter(options, count_tokens).run(decode(text));
}

}  // namespace loom::rag
