#include "text/post_processor.h"

#include <cstdint>

namespace loom::text {

namespace {

std::vector<int32_t> special_ids(const Json& special_tokens, const std::string& name, const JsonPath& path) {
  if (!special_tokens.is_object() || !special_tokens.contains(name)) {
    (path / "special_tokens").fail("the template uses the special token '" + name + "' which is not defined here");
  }
  const Json& ids = require_member(special_tokens[name], "ids", path / "special_tokens" / name);
  if (!ids.is_array()) (path / "special_tokens" / name / "ids").fail("expected a list of ids");
  std::vector<int32_t> out;
  for (const auto& id : ids) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      (path / "special_tokens" / name / "ids").fail("expected non-negative 32-bit integer ids");
    out.push_back(id.get<int32_t>());
  }
  return out;
}

PostProcessor template_processing(const Json& spec, const JsonPath& path) {
  const Json& single = require_member(spec, "single", path);
  if (!single.is_array()) (path / "single").fail("expected a list of template pieces");
  const Json& special_tokens = require_member(spec, "special_tokens", path);
  PostProcessor result;
  bool seen_sequence = false;
  for (size_t i = 0; i < single.size(); ++i) {
    const Json& item = single[i];
    const JsonPath item_path = (path / "single")[i];
    if (item.is_object() && item.contains("Sequence")) {
      if (seen_sequence) item_path.fail("a single-sequence template may name the sequence only once");
      seen_sequence = true;
    } else if (item.is_object() && item.contains("SpecialToken")) {
      const std::string name = require_string(item["SpecialToken"], "id", item_path / "SpecialToken");
      const auto ids = special_ids(special_tokens, name, path);
      auto& target = seen_sequence ? result.suffix : result.prefix;
      target.insert(target.end(), ids.begin(), ids.end());
    } else {
      item_path.fail("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
    }
  }
  if (!seen_sequence) (path / "single").fail("the template never names the sequence $A");
  return result;
}

int32_t pair_id(const Json& spec, const char* name, const JsonPath& path) {
  const Json& pair = require_member(spec, name, path);
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_number_integer() || pair[1].get<int64_t>() < 0 ||
      pair[1].get<int64_t>() > INT32_MAX) {
    (path / name).fail("expected [token, id]");
  }
  return pair[1].get<int32_t>();
}

}  // namespace

PostProcessor make_post_processor(const Json& spec, const JsonPath& path) {
  const std::string type = component_type(spec, path);
  if (type == "ByteLevel") return {};
  if (type == "TemplateProcessing") return template_processing(spec, path);
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    return PostProcessor{{pair_id(spec, "cls", path)}, {pair_id(spec, "sep", path)}};
  }
  if (type == "Sequence") {
    const Json& list = require_member(spec, "processors", path);
    if (!list.is_array()) (path / "processors").fail("expected a list of post-processors");
    PostProcessor result;
    for (size_t i = 0; i < list.size(); ++i) {
      const PostProcessor part = make_post_processor(list[i], (path / "processors")[i]);
      result.prefix.insert(result.prefix.begin(), part.prefix.begin(), part.prefix.end());
      result.suffix.insert(result.suffix.end(), part.suffix.begin(), part.suffix.end());
    }
    return result;
  }
  (path / "type").fail("unsupported post-processor type '" + type +
                       "' (supported: TemplateProcessing, ByteLevel, Sequence, BertProcessing, RobertaProcessing)");
}

}  // namespace loom::text
