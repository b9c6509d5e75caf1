#include "scheduler/cost_model.h"

#include "common/error.h"

#include <yaml-cpp/yaml.h>

#include <fstream>

namespace loom::scheduler {

namespace fs = std::filesystem;

namespace {

double number(const YAML::Node& map, const std::string& key, const std::string& file, const std::string& where) {
  if (!map[key]) throw InputError(file, map.Mark().line + 1, where + "." + key, "a number");
  try {
    return map[key].as<double>();
  } catch (const YAML::Exception&) {
    throw InputError(file, map[key].Mark().line + 1, where + "." + key, "a number");
  }
}

ModelShape shape_of(const YAML::Node& node, const std::string& file, const std::string& where) {
  if (!node || !node.IsMap()) throw InputError(file, 0, where, "a mapping: linear_params, layers, hidden, kv_heads, head_dim");
  return ModelShape{number(node, "linear_params", file, where), number(node, "layers", file, where),
                    number(node, "hidden", file, where), number(node, "kv_heads", file, where),
                    number(node, "head_dim", file, where)};
}

std::string pick_profile(const YAML::Node& profiles, const std::string& device) {
  if (device == "cpu") return "cpu";
  for (const std::string& gpu : detect_gpu_models()) {
    for (const auto& entry : profiles) {
      const YAML::Node match = entry.second["match"];
      if (!match) continue;
      for (const auto& pattern : match) {
        if (gpu.find(pattern.as<std::string>()) != std::string::npos) return entry.first.as<std::string>();
      }
    }
  }
  return device == "cuda" ? "h100" : "cpu";
}

}  // namespace

std::vector<std::string> detect_gpu_models() {
  std::vector<std::string> models;
  const fs::path root = "/proc/driver/nvidia/gpus";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return models;
  for (const auto& gpu : fs::directory_iterator(root, ec)) {
    std::ifstream in(gpu.path() / "information");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("Model:", 0) == 0) models.push_back(line.substr(6));
    }
  }
  return models;
}

CostModel CostModel::load(const fs::path& cost_yaml, const std::string& profile, const std::string& device,
                          const ModelShape& model, int tensor_parallel) {
  const std::string file = cost_yaml.string();
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    throw InputError(file, 0, "", "the cost model file (configs/cost_model.yaml)");
  } catch (const YAML::Exception& e) {
    throw InputError(file, e.mark.line + 1, "", "valid YAML: " + e.msg);
  }
  const YAML::Node profiles = root["profiles"];
  if (!profiles || !profiles.IsMap()) throw InputError(file, 0, "profiles", "a mapping of device profiles");
  const std::string chosen = profile == "auto" ? pick_profile(profiles, device) : profile;
  const YAML::Node row = profiles[chosen];
  if (!row) {
    std::string known;
    for (const auto& entry : profiles) known += (known.empty() ? "" : ", ") + entry.first.as<std::string>();
    throw InputError(file, 0, "profiles." + chosen, "a known cost profile (parallel.cost_profile); known: " + known);
  }
  const std::string where = "profiles." + chosen;
  CostCoefficients c{number(row, "prefill_a", file, where), number(row, "prefill_b", file, where),
                     number(row, "decode_c", file, where), number(row, "decode_d", file, where)};
  // A profile fitted on another model shape names it in `fitted_on`.
  const ModelShape ref = row["fitted_on"] ? shape_of(row["fitted_on"], file, where + ".fitted_on")
                                          : shape_of(root["reference_model"], file, "reference_model");
  if (model.linear_params > 0) {
    c.prefill_a *= model.linear_params / ref.linear_params;
    c.decode_c *= model.linear_params / ref.linear_params;
    c.prefill_b *= (model.layers * model.hidden) / (ref.layers * ref.hidden);
    c.decode_d *= (model.layers * model.kv_heads * model.head_dim) / (ref.layers * ref.kv_heads * ref.head_dim);
  }
  const double efficiency = root["tensor_parallel_efficiency"] ? root["tensor_parallel_efficiency"].as<double>() : 1.0;
  if (tensor_parallel > 1) {
    const double speedup = tensor_parallel * efficiency;
    c.prefill_a /= speedup;
    c.prefill_b /= speedup;
    c.decode_c /= speedup;
    c.decode_d /= speedup;
  }
  return CostModel(chosen, c);
}

double CostModel::predict(int64_t input_tokens, int64_t new_tokens) const {
  const double n = static_cast<double>(input_tokens);
  const double steps = static_cast<double>(std::max<int64_t>(new_tokens, 0));
  return coefficients_.prefill_a * n + coefficients_.prefill_b * n * n +
         steps * (coefficients_.decode_c + coefficients_.decode_d * n);
}

ModelShape model_shape(const model::ModelCard& card) {
  return ModelShape{model::linear_params(card), static_cast<double>(card.num_layers),
                    static_cast<double>(card.hidden_size), static_cast<double>(card.num_kv_heads),
                    static_cast<double>(card.head_dim)};
}

}  // namespace loom::scheduler
