// Normalizers of tokenizer.json ("normalizer" key), applied to the text between added tokens before
// pre-tokenization, as the `tokenizers` library does. Supported types: NFC, NFD, NFKC, NFKD (utf8proc), Lowercase,
// Strip, Replace (String or Regex pattern), Prepend, BertNormalizer, Sequence. Any other type is an InputError naming the key.
#pragma once

#include <memory>
#include <string>

#include "text/json_fields.h"

namespace loom::text {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Normalizes valid UTF-8 text in place.
  virtual void normalize(std::string& text) const = 0;
};

// Builds the normalizer described by `spec` (a JSON object, not null).
std::unique_ptr<Normalizer> make_normalizer(const Json& spec, const JsonPath& path);

}  // namespace loom::text
