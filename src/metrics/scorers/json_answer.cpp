#include "metrics/scorers/json_answer.h"

#include "metrics/text/unicode_text.h"

namespace loom::metrics {

namespace {

std::optional<nlohmann::json> parse_object(const std::string& s) {
  try {
    auto j = nlohmann::json::parse(s);
    if (j.is_object()) return j;
  } catch (const nlohmann::json::exception&) {
  }
  return std::nullopt;
}

std::optional<nlohmann::json> key_list_by_pattern(const std::string& s, const std::string& key) {
  const std::string quoted = "\"" + key + "\"";
  size_t pos = s.find(quoted);
  if (pos == std::string::npos) return std::nullopt;
  size_t open = s.find('[', pos + quoted.size());
  size_t close = s.find(']', open == std::string::npos ? pos : open);
  if (open == std::string::npos || close == std::string::npos) return std::nullopt;
  for (size_t i = pos + quoted.size(); i < open; ++i)
    if (s[i] != ':' && !text::py_isspace(static_cast<unsigned char>(s[i]))) return std::nullopt;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& item : text::split_on(s.substr(open + 1, close - open - 1), ",")) {
    std::string v = text::py_strip(item);
    if (v.empty()) continue;
    try {
      list.push_back(nlohmann::json::parse(v));
    } catch (const nlohmann::json::exception&) {
      list.push_back(v);
    }
  }
  return nlohmann::json{{key, list}};
}

}  // namespace

std::optional<nlohmann::json> counting_stars_value(const std::string& answer, const std::string& key, bool lenient) {
  std::string s = answer;
  if (text::contains(answer, "```")) {
    s = text::py_strip(text::replace_all(text::replace_all(answer, "```", ""), "json", ""));
    lenient = true;
  }
  std::optional<nlohmann::json> obj = parse_object(s);
  if (!obj && lenient) {
    size_t a = s.find('{'), b = s.rfind('}');
    if (a != std::string::npos && b != std::string::npos && b > a) obj = parse_object(s.substr(a, b - a + 1));
    if (!obj) obj = key_list_by_pattern(s, key);
  }
  if (!obj || !obj->contains(key)) return std::nullopt;
  return obj->at(key);
}

bool json_list_contains(const nlohmann::json& list, const nlohmann::json& value) {
  if (!list.is_array()) return false;
  for (const auto& e : list) {
    if (e.is_number() && value.is_number()) {
      if (e.get<double>() == value.get<double>()) return true;
    } else if (e == value) {
      return true;
    }
  }
  return false;
}

}  // namespace loom::metrics
