#include "rag/words.h"

#include "rag/char_classes.h"
#include "text/utf8.h"

namespace loom::rag {
namespace {

bool is_separator(char32_t c) {
  if (c < 0x80) return !is_ascii_alnum(c);
  if (is_python_space(c)) return true;
  if (c >= 0x2000 && c <= 0x206F) return true;
  if (c >= 0x3000 && c <= 0x303F) return true;
  if (c >= 0xFF00 && c <= 0xFF65) {
    const bool fullwidth_alnum = (c >= 0xFF10 && c <= 0xFF19) || (c >= 0xFF21 && c <= 0xFF3A) ||
                                 (c >= 0xFF41 && c <= 0xFF5A);
    return !fullwidth_alnum;
  }
  return false;
}

char32_t lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

}  // namespace

std::vector<std::string> split_words(std::string_view input) {
  const std::string valid = text::to_valid_utf8(input);
  std::vector<std::string> words;
  std::string word;
  auto finish = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (size_t pos = 0; pos < valid.size();) {
    const char32_t c = text::next_code_point(valid, pos);
    if (is_cjk(c)) {
      finish();
      text::append_utf8(word, c);
      finish();
    } else if (is_separator(c)) {
      finish();
    } else {
      text::append_utf8(word, lower(c));
    }
  }
  finish();
  return words;
}

}  // namespace loom::rag
