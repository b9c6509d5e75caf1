// Decoders of tokenizer.json ("decoder" key): turn token strings back into text with the rules of `tokenizers`
// (decode_chain of each decoder, then concatenation). Supported types: ByteLevel, Sequence, Replace, ByteFallback,
// Fuse, Strip, Metaspace, BPEDecoder, WordPiece. Other types → InputError naming the key.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "text/json_fields.h"

namespace loom::text {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const Json& spec, const JsonPath& path);

// The final text: decode_chain, then the pieces joined. Without a decoder, tokens are joined with spaces.
std::string decode_tokens(const Decoder* decoder, std::vector<std::string> tokens);

}  // namespace loom::text
