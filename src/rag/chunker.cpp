#include "rag/chunker.h"

#include "rag/char_classes.h"
#include "text/utf8.h"

#include <algorithm>
#include <deque>
#include <stdexcept>

namespace loom::rag {
namespace {

using Text = std::u32string;

Text decode(std::string_view s) {
  const std::string valid = text::to_valid_utf8(s);
  Text out;
  out.reserve(valid.size());
  for (size_t pos = 0; pos < valid.size();) out.push_back(text::next_code_point(valid, pos));
  return out;
}

std::string encode(const Text& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) text::append_utf8(out, c);
  return out;
}

bool is_sentence_end(char32_t c) {
  switch (c) {
    case '.': case '!': case '?': case ';': case ':': case '\n':
    case U'\u3002': case U'\uFF01': case U'\uFF1F': case U'\uFF1B': case U'\uFF1A':
      return true;
    default:
      return false;
  }
}

// Python's str.strip().
Text strip(const Text& s) {
  size_t begin = 0, end = s.size();
  while (begin < end && is_python_space(s[begin])) ++begin;
  while (end > begin && is_python_space(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

int count_tokens(const Text& s) {
  int count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (is_cjk(s[i])) {
      ++count;
    } else if (is_ascii_letter(s[i]) && (i == 0 || !is_ascii_letter(s[i - 1]))) {
      ++count;
    } else if (is_python_digit(s[i]) && (i == 0 || !is_python_digit(s[i - 1]))) {
      ++count;
    }
  }
  return count;
}

// normalize_spaces: a space between a CJK ideograph and an ASCII letter or digit (either order), whitespace runs
// collapsed to one space, stripped.
std::string normalize(const Text& s) {
  Text spaced;
  spaced.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && ((is_cjk(s[i - 1]) && is_ascii_alnum(s[i])) || (is_ascii_alnum(s[i - 1]) && is_cjk(s[i]))))
      spaced.push_back(' ');
    spaced.push_back(s[i]);
  }
  Text collapsed;
  collapsed.reserve(spaced.size());
  for (size_t i = 0; i < spaced.size(); ++i) {
    if (is_python_space(spaced[i])) {
      if (i == 0 || !is_python_space(spaced[i - 1])) collapsed.push_back(' ');
    } else {
      collapsed.push_back(spaced[i]);
    }
  }
  return encode(strip(collapsed));
}

// re.split(r'(?<=[.!?。！？；;：:\n])\s*(?=[^\s])', text.strip()), each piece stripped, empty pieces dropped.
std::vector<Text> split_sentences(const Text& stripped) {
  std::vector<Text> sentences;
  auto add = [&](size_t begin, size_t end) {
    Text piece = strip(stripped.substr(begin, end - begin));
    if (!piece.empty()) sentences.push_back(std::move(piece));
  };
  size_t piece_begin = 0;
  for (size_t pos = 1; pos < stripped.size();) {
    if (!is_sentence_end(stripped[pos - 1])) {
      ++pos;
      continue;
    }
    size_t end = pos;
    while (end < stripped.size() && is_python_space(stripped[end])) ++end;
    if (end == stripped.size()) break;  // only whitespace follows: no match here or later in the run
    add(piece_begin, pos);
    piece_begin = end;
    pos = std::max(end, pos + 1);
  }
  add(piece_begin, stripped.size());
  return sentences;
}

// split_long_text: a sentence longer than max_len, cut on CJK ideographs, ASCII letter runs and digit runs (each
// counts 1; the text between them counts 0).
std::vector<std::string> split_long(const Text& sentence, int max_len) {
  if (count_tokens(sentence) <= max_len) return {normalize(sentence)};
  std::vector<std::string> chunks;
  Text current;
  int current_count = 0;
  for (size_t i = 0; i < sentence.size();) {
    size_t end = i + 1;
    int weight = 1;
    if (is_cjk(sentence[i])) {
    } else if (is_ascii_letter(sentence[i])) {
      while (end < sentence.size() && is_ascii_letter(sentence[end])) ++end;
    } else if (is_python_digit(sentence[i])) {
      while (end < sentence.size() && is_python_digit(sentence[end])) ++end;
    } else {
      weight = 0;
      while (end < sentence.size() && !is_cjk(sentence[end]) && !is_ascii_letter(sentence[end]) &&
             !is_python_digit(sentence[end]))
        ++end;
    }
    const Text token = sentence.substr(i, end - i);
    if (current_count + weight <= max_len) {
      current += token;
      current_count += weight;
    } else {
      if (!current.empty()) chunks.push_back(normalize(current));
      current = token;
      current_count = weight;
    }
    i = end;
  }
  if (!current.empty()) chunks.push_back(normalize(current));
  return chunks;
}

Text join(const std::deque<Text>& sentences) {
  Text out;
  for (size_t i = 0; i < sentences.size(); ++i) {
    if (i > 0) out.push_back(' ');
    out += sentences[i];
  }
  return out;
}

}  // namespace

int count_chunk_tokens(std::string_view text) { return count_tokens(decode(text)); }

std::vector<std::string> chunk_text(std::string_view context, const ChunkOptions& options) {
  if (options.chunk_size <= 0) throw std::invalid_argument("chunk_size must be a positive integer");
  if (options.overlap < 0 || options.overlap >= options.chunk_size)
    throw std::invalid_argument("overlap must be >= 0 and smaller than chunk_size");
  const int max_length = options.chunk_size;
  const Text stripped = strip(decode(context));
  std::vector<std::string> chunks;
  if (stripped.empty()) return chunks;

  std::deque<Text> current;        // sentences of the chunk being filled
  std::deque<int> current_counts;  // their token counts
  int current_length = 0;
  // Flushes the chunk; with an overlap, keeps its last sentences that fit in `overlap` tokens and leave room for
  // a next sentence of `next_length` tokens.
  auto flush = [&](int next_length) {
    if (!current.empty()) chunks.push_back(normalize(join(current)));
    int kept = 0;
    size_t keep = 0;
    if (options.overlap > 0) {
      for (size_t i = current.size(); i-- > 0;) {
        if (kept + current_counts[i] > options.overlap || kept + current_counts[i] + next_length > max_length) break;
        kept += current_counts[i];
        ++keep;
      }
    }
    while (current.size() > keep) {
      current.pop_front();
      current_counts.pop_front();
    }
    current_length = kept;
  };
  for (Text& sentence : split_sentences(stripped)) {
    const int length = count_tokens(sentence);
    if (length > max_length) {
      flush(max_length + 1);  // nothing carries over into a cut sentence
      for (std::string& piece : split_long(sentence, max_length)) chunks.push_back(std::move(piece));
    } else if (current_length + length <= max_length) {
      current.push_back(std::move(sentence));
      current_counts.push_back(length);
      current_length += length;
    } else {
      flush(length);
      current.push_back(std::move(sentence));
      current_counts.push_back(length);
      current_length += length;
    }
  }
  if (!current.empty()) chunks.push_back(normalize(join(current)));
  chunks.erase(std::remove(chunks.begin(), chunks.end(), std::string()), chunks.end());
  return chunks;
}

}  // namespace loom::rag
