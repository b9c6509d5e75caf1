// Post-processors of tokenizer.json ("post_processor" key) for single sequences: the special token ids placed
// before and after the encoded text when add_special_tokens is true. Supported types: TemplateProcessing,
// ByteLevel (no ids), Sequence, BertProcessing, RobertaProcessing. Other types → InputError naming the key.
#pragma once

#include <cstdint>
#include <vector>

#include "text/json_fields.h"

namespace loom::text {

struct PostProcessor {
  std::vector<int32_t> prefix;
  std::vector<int32_t> suffix;
};

PostProcessor make_post_processor(const Json& spec, const JsonPath& path);

}  // namespace loom::text
