#include "serve/openai_request.h"

#include "methods/method_catalogue.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace loom::serve {
namespace {

using nlohmann::json;

std::string shown(const json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

int64_t integer_in(const json& body, const std::string& key, int64_t lo, int64_t hi) {
  const json& value = body.at(key);
  if (!value.is_number_integer() || value.get<int64_t>() < lo || value.get<int64_t>() > hi) {
    throw RequestError(key, fmt::format("expected an integer from {} to {}, got {}", lo, hi, shown(value)));
  }
  return value.get<int64_t>();
}

double number_in(const json& body, const std::string& key, double lo, double hi) {
  const json& value = body.at(key);
  if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() < lo ||
      value.get<double>() > hi) {
    throw RequestError(key, fmt::format("expected a number from {} to {}, got {}", lo, hi, shown(value)));
  }
  return value.get<double>();
}

void read_prompt(const json& body, int64_t vocab_size, CompletionRequest& out) {
  if (!body.contains("prompt")) throw RequestError("prompt", "expected a prompt: a string or an array of token ids");
  const json& prompt = body["prompt"];
  if (prompt.is_string()) {
    out.prompt_text = prompt.get<std::string>();
    return;
  }
  if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) {
    out.prompt_text = prompt[0].get<std::string>();
    return;
  }
  if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_array()) {
    throw RequestError("prompt", "expected one prompt per request (this server answers n = 1, one prompt)");
  }
  if (!prompt.is_array() || prompt.empty()) {
    throw RequestError("prompt", fmt::format("expected a string or a non-empty array of token ids, got {}",
                                             shown(prompt)));
  }
  for (size_t i = 0; i < prompt.size(); ++i) {
    const json& id = prompt[i];
    const int64_t hi = vocab_size > 0 ? vocab_size - 1 : std::numeric_limits<int32_t>::max();
    if (id.is_string()) throw RequestError("prompt", "expected one prompt per request (got several strings)");
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > hi) {
      throw RequestError(fmt::format("prompt[{}]", i),
                         fmt::format("expected a token id from 0 to {}, got {}", hi, shown(id)));
    }
    out.prompt_ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
  }
}

void read_messages(const json& body, CompletionRequest& out) {
  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
    throw RequestError("messages", "expected a non-empty array of {\"role\", \"content\"} objects");
  }
  const json& messages = body["messages"];
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string where = fmt::format("messages[{}]", i);
    const json& m = messages[i];
    if (!m.is_object()) throw RequestError(where, "expected an object with \"role\" and \"content\"");
    if (!m.contains("role") || !m["role"].is_string()) {
      throw RequestError(where + ".role", "expected \"system\", \"user\" or \"assistant\"");
    }
    const std::string role = m["role"].get<std::string>();
    if (role != "system" && role != "user" && role != "assistant") {
      throw RequestError(where + ".role", fmt::format("expected \"system\", \"user\" or \"assistant\", got \"{}\"",
                                                      role));
    }
    if (!m.contains("content") || !m["content"].is_string()) {
      throw RequestError(where + ".content", "expected a string (content parts are not supported)");
    }
    out.messages.push_back({role, m["content"].get<std::string>()});
  }
}

void read_stop(const json& body, GenerationSettings& g) {
  if (!body.contains("stop") || body["stop"].is_null()) return;
  const json& stop = body["stop"];
  if (stop.is_string()) {
    if (!stop.get<std::string>().empty()) g.stop_strings.push_back(stop.get<std::string>());
    return;
  }
  if (!stop.is_array() || stop.size() > 4) {
    throw RequestError("stop", fmt::format("expected a string or an array of up to 4 strings, got {}", shown(stop)));
  }
  for (size_t i = 0; i < stop.size(); ++i) {
    if (!stop[i].is_string() || stop[i].get<std::string>().empty()) {
      throw RequestError(fmt::format("stop[{}]", i), fmt::format("expected a non-empty string, got {}",
                                                                 shown(stop[i])));
    }
    g.stop_strings.push_back(stop[i].get<std::string>());
  }
}

void read_method(const json& body, MethodSpec& method) {
  if (!body.contains("loom_method") || body["loom_method"].is_null()) return;
  const json& spec = body["loom_method"];
  if (!spec.is_object()) {
    throw RequestError("loom_method", "expected an object {\"name\": METHOD, \"params\": {...}}");
  }
  for (const auto& [key, value] : spec.items()) {
    if (key != "name" && key != "params") {
      throw RequestError("loom_method." + key, "expected only the keys \"name\" and \"params\"");
    }
  }
  if (!spec.contains("name") || !spec["name"].is_string()) {
    throw RequestError("loom_method.name", "expected a method name (`loom_mpi list methods`)");
  }
  const json params = spec.value("params", json::object());
  if (!params.is_object()) throw RequestError("loom_method.params", "expected an object of method parameters");
  try {
    methods::resolve_method_params(spec["name"].get<std::string>(), params);
  } catch (const methods::MethodError& e) {
    throw RequestError("loom_method." + e.key(), e.expected());
  }
  method.name = spec["name"].get<std::string>();
  if (method.name.empty()) method.name = "full";
  method.params_json = params.dump();
  method.label = method.name;
}

}  // namespace

CompletionRequest parse_completion_request(const json& body, Endpoint endpoint, int64_t vocab_size) {
  if (!body.is_object()) throw RequestError("", "expected a JSON object as the request body");
  CompletionRequest out;
  out.endpoint = endpoint;
  if (body.contains("model")) {
    if (!body["model"].is_string()) throw RequestError("model", "expected the model's name as a string");
    out.model = body["model"].get<std::string>();
  }
  if (endpoint == Endpoint::kCompletions) {
    read_prompt(body, vocab_size, out);
  } else {
    read_messages(body, out);
  }
  if (body.contains("stream") && body["stream"] != false) {
    throw RequestError("stream", "expected false: streaming responses are not supported");
  }
  if (body.contains("n") && body["n"] != 1) throw RequestError("n", "expected 1: one choice per request");
  for (const char* key : {"echo", "logprobs", "best_of"}) {
    if (body.contains(key) && !body[key].is_null() && body[key] != false && !(key == std::string("best_of") &&
                                                                                body[key] == 1)) {
      throw RequestError(key, "expected it absent: not supported by this server");
    }
  }
  GenerationSettings& g = out.generation;
  g.max_new_tokens = 16;  // OpenAI's default for completions
  const char* max_key = body.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  if (body.contains(max_key) && !body[max_key].is_null()) {
    g.max_new_tokens = static_cast<int32_t>(integer_in(body, max_key, 1, 1 << 20));
  }
  double temperature = 1.0;
  if (body.contains("temperature") && !body["temperature"].is_null()) {
    temperature = number_in(body, "temperature", 0.0, 2.0);
  }
  g.do_sample = temperature > 0;
  g.temperature = static_cast<float>(temperature > 0 ? temperature : 1.0);
  if (body.contains("top_p") && !body["top_p"].is_null()) {
    const double top_p = number_in(body, "top_p", 0.0, 1.0);
    if (top_p <= 0) throw RequestError("top_p", "expected a number above 0 and at most 1, got 0");
    g.top_p = static_cast<float>(top_p);
  }
  if (body.contains("seed") && !body["seed"].is_null()) {
    g.seed = static_cast<uint64_t>(integer_in(body, "seed", 0, std::numeric_limits<int64_t>::max()));
  }
  read_stop(body, g);
  read_method(body, out.method);
  return out;
}

EmbeddingRequest parse_embedding_request(const json& body, int64_t vocab_size) {
  if (!body.is_object()) throw RequestError("", "expected a JSON object as the request body");
  EmbeddingRequest out;
  if (body.contains("model")) {
    if (!body["model"].is_string()) throw RequestError("model", "expected the model's name as a string");
    out.model = body["model"].get<std::string>();
  }
  constexpr const char* kForms =
      "a string, an array of strings, an array of token ids or an array of token-id arrays";
  if (!body.contains("input")) throw RequestError("input", std::string("expected the input to embed: ") + kForms);
  const json& input = body["input"];
  const int64_t hi = vocab_size > 0 ? vocab_size - 1 : std::numeric_limits<int32_t>::max();
  const auto token_array = [&](const json& ids, const std::string& where) {
    if (ids.empty()) throw RequestError(where, "expected a non-empty array of token ids");
    std::vector<int32_t> out_ids;
    for (size_t j = 0; j < ids.size(); ++j) {
      const json& id = ids[j];
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > hi) {
        throw RequestError(fmt::format("{}[{}]", where, j),
                           fmt::format("expected a token id from 0 to {}, got {}", hi, shown(id)));
      }
      out_ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
    return out_ids;
  };
  if (input.is_string()) {
    if (input.get<std::string>().empty()) throw RequestError("input", "expected a non-empty string");
    out.texts.push_back(input.get<std::string>());
    out.single = true;
  } else if (!input.is_array() || input.empty()) {
    throw RequestError("input", fmt::format("expected {} (non-empty), got {}", kForms, shown(input)));
  } else if (input[0].is_number()) {
    out.token_ids.push_back(token_array(input, "input"));
    out.single = true;
  } else {
    for (size_t i = 0; i < input.size(); ++i) {
      const std::string where = fmt::format("input[{}]", i);
      const json& item = input[i];
      if (input[0].is_string()) {
        if (!item.is_string()) throw RequestError(where, fmt::format("expected a string like input[0], got {}",
                                                                     shown(item)));
        if (item.get<std::string>().empty()) throw RequestError(where, "expected a non-empty string");
        out.texts.push_back(item.get<std::string>());
      } else if (input[0].is_array()) {
        if (!item.is_array()) throw RequestError(where, fmt::format("expected an array of token ids like input[0], "
                                                                    "got {}", shown(item)));
        out.token_ids.push_back(token_array(item, where));
      } else {
        throw RequestError(where, fmt::format("expected a string, a token id or an array of token ids, got {}",
                                              shown(item)));
      }
    }
  }
  if (body.contains("encoding_format") && !body["encoding_format"].is_null()) {
    const json& format = body["encoding_format"];
    if (format != "float" && format != "base64") {
      throw RequestError("encoding_format", fmt::format("expected \"float\" or \"base64\", got {}", shown(format)));
    }
    out.base64 = format == "base64";
  }
  if (body.contains("dimensions") && !body["dimensions"].is_null()) {
    out.dimensions = integer_in(body, "dimensions", 1, std::numeric_limits<int32_t>::max());
  }
  if (body.contains("loom_pooling") && !body["loom_pooling"].is_null()) {
    const json& pooling = body["loom_pooling"];
    if (pooling != "mean" && pooling != "last") {
      throw RequestError("loom_pooling", fmt::format("expected \"mean\" or \"last\", got {}", shown(pooling)));
    }
    out.pooling = pooling == "mean" ? EmbeddingPooling::kMean : EmbeddingPooling::kLast;
  }
  return out;
}

json error_body(const std::string& message, const std::string& type, const std::string& param) {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? json(nullptr) : json(param)},
            {"code", nullptr}}}};
}

}  // namespace loom::serve
