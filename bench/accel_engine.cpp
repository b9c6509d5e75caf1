// accel_engine: end-to-end cost of each acceleration method through the engine (prefill, decode, KV bytes, peak
// memory), with the full cache measured in the same run as the baseline every ratio is taken against.
//
//   accel_engine --model DIR [--device auto|cpu|cuda] [--dtype auto|bfloat16|float32] [--lengths 32768,131072]
//                [--new-tokens 32] [--chunk 16384] [--ratios 0.5,0.875] [--methods all|name,name,...]
//                [--warmup 512] [--seed 0] [--json FILE] [--extra NAME:JSON ...]
//
// For every length L, one prompt of L random ids (fixed seed) runs greedily for --new-tokens tokens under: the full
// cache; each token-eviction / budget method at compression_ratio r for every r in --ratios; ThinK with
// key_channel_compression_ratio r; KIVI at 4 and 2 bits; FlexPrefill and XAttention with their defaults; then one run
// per --extra NAME:JSON (method NAME with those parameters, e.g. 'xattention:{"threshold":0.3}'). A run that
// fails (out of memory, a method's limit) is printed with its reason and the sweep goes on.
// Output: one JSON line per run (also appended to --json), then a table with the ratios to the full cache:
// KV bytes after prefill, decode ms per token (decode time / (generated - 1)), prefill seconds, peak memory, and the
// fraction of causal attention blocks the prefill computed (FlexPrefill / XAttention; 1 for dense prefill).
#include "model_card/model_card.h"
#include "rank/accel/registry.h"
#include "rank/model/device.h"
#include "rank/model/inference_engine.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace loom;
using namespace loom::model;

namespace {

struct Options {
  std::string model;
  std::string device = "auto";
  std::string dtype = "auto";
  std::vector<int64_t> lengths{32768, 131072};
  int32_t new_tokens = 32;
  int32_t chunk = GenerationSettings{}.prefill_chunk_size;
  std::vector<double> ratios{0.5, 0.875};
  std::string methods = "all";
  int64_t warmup = 512;
  uint64_t seed = 0;
  std::string json_path;
  std::vector<std::pair<std::string, nlohmann::json>> extra;  // --extra NAME:JSON runs
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr,
               "accel_engine: %s\nusage: accel_engine --model DIR [--device auto|cpu|cuda] [--dtype auto] "
               "[--lengths 32768,131072] [--new-tokens 32] [--chunk 16384] [--ratios 0.5,0.875] "
               "[--methods all|a,b] [--warmup 512] [--seed 0] [--json FILE] [--extra NAME:JSON ...]\n",
               message.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (i + 1 >= argc) usage("missing value after " + key);
    const std::string value = argv[++i];
    try {
      if (key == "--model") o.model = value;
      else if (key == "--device") o.device = value;
      else if (key == "--dtype") o.dtype = value;
      else if (key == "--lengths") {
        o.lengths.clear();
        for (const auto& s : split(value, ',')) o.lengths.push_back(std::stoll(s));
      } else if (key == "--new-tokens") o.new_tokens = std::stoi(value);
      else if (key == "--chunk") o.chunk = std::stoi(value);
      else if (key == "--ratios") {
        o.ratios.clear();
        for (const auto& s : split(value, ',')) o.ratios.push_back(std::stod(s));
      } else if (key == "--methods") o.methods = value;
      else if (key == "--warmup") o.warmup = std::stoll(value);
      else if (key == "--seed") o.seed = std::stoull(value);
      else if (key == "--json") o.json_path = value;
      else if (key == "--extra") {
        const auto colon = value.find(':');
        if (colon == std::string::npos) usage("--extra wants NAME:JSON, got '" + value + "'");
        nlohmann::json params;
        try {
          params = nlohmann::json::parse(value.substr(colon + 1));
        } catch (const nlohmann::json::exception& e) {
          usage("--extra " + value.substr(0, colon) + ": parameters are not JSON (" + e.what() + ")");
        }
        if (!params.is_object()) usage("--extra " + value.substr(0, colon) + ": parameters must be a JSON object");
        o.extra.emplace_back(value.substr(0, colon), params);
      }
      else usage("unknown option " + key);
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + key);
    }
  }
  if (o.model.empty()) usage("--model is required");
  if (o.lengths.empty() || o.new_tokens < 2) usage("need at least one length and --new-tokens >= 2");
  return o;
}

// One configured run: the method spec and the "ratio" column it is reported under.
struct Variant {
  MethodSpec spec;
  std::string ratio;        // "-" for the full cache and methods without a ratio
  double keep_fraction = 0;  // > 0: `decoding`'s target_size is this fraction of each prompt's tokens
};

// The variant's spec for a prompt of `length` tokens (`decoding` states its budget in tokens, not as a ratio).
MethodSpec spec_at(const Variant& v, int64_t length) {
  if (v.keep_fraction <= 0) return v.spec;
  MethodSpec spec = v.spec;
  nlohmann::json params = nlohmann::json::parse(spec.params_json);
  params["target_size"] = std::max<int64_t>(1, std::llround(v.keep_fraction * static_cast<double>(length)));
  spec.params_json = params.dump();
  return spec;
}

// The parameter a ratio method takes its --ratios value as.
std::string ratio_parameter(const std::string& method) {
  if (method == "compression_ratio_decoding") return "target_compression_ratio";
  return "compression_ratio";
}

std::string fmt_ratio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", r);
  return buf;
}

std::vector<Variant> variants(const Options& o) {
  static const std::vector<std::string> ratio_methods = {
      "streaming_llm", "snapkv",   "h2o",   "knorm",  "l2compress", "tova",  "observed_attention",
      "keydiff",       "expected_attention", "pyramidkv", "adakv", "cakekv", "cam"};
  const std::vector<std::string> wanted = o.methods == "all" ? std::vector<std::string>{} : split(o.methods, ',');
  auto selected = [&](const std::string& name) {
    if (wanted.empty()) return true;
    for (const auto& w : wanted) {
      if (w == name) return true;
    }
    return false;
  };
  std::vector<Variant> out;
  auto add = [&](const std::string& name, nlohmann::json params, const std::string& ratio) {
    MethodSpec spec;
    spec.name = name;
    spec.params_json = params.dump();
    spec.label = ratio == "-" ? name : name + "@" + ratio;
    out.push_back({spec, ratio});
  };
  add("full", nlohmann::json::object(), "-");  // always: the baseline
  for (const auto& name : ratio_methods) {
    if (!selected(name)) continue;
    for (double r : o.ratios) add(name, {{"compression_ratio", r}}, fmt_ratio(r));
  }
  if (selected("think")) {
    for (double r : o.ratios) add("think", {{"key_channel_compression_ratio", r}}, fmt_ratio(r));
  }
  if (selected("kivi")) {
    add("kivi", {{"k_bits", 4}, {"v_bits", 4}}, "4bit");
    add("kivi", {{"k_bits", 2}, {"v_bits", 2}}, "2bit");
  }
  if (selected("flexprefill")) add("flexprefill", nlohmann::json::object(), "-");
  if (selected("xattention")) add("xattention", nlohmann::json::object(), "-");
  // Any other registered method named in --methods runs at each --ratios value as compression_ratio (as
  // target_compression_ratio for compression_ratio_decoding; `decoding` keeps (1 - ratio) of the prompt's tokens as its
  // target_size; a method that takes other parameters is given them with --extra); a name the registry does not know
  // is an error, not a skip.
  for (const auto& name : wanted) {
    static const std::vector<std::string> handled = {"none", "full", "think", "kivi", "flexprefill", "xattention"};
    if (std::find(ratio_methods.begin(), ratio_methods.end(), name) != ratio_methods.end() ||
        std::find(handled.begin(), handled.end(), name) != handled.end()) {
      continue;
    }
    const auto& known = accel::known_methods();
    if (std::none_of(known.begin(), known.end(), [&](const accel::MethodInfo& m) { return m.name == name; })) {
      usage("--methods: unknown method '" + name + "' (loom_mpi list methods names them)");
    }
    for (double r : o.ratios) {
      if (name == "decoding") {  // target_size in tokens: (1 - r) of each prompt, set per length (spec_at)
        add(name, nlohmann::json::object(), fmt_ratio(r));
        out.back().keep_fraction = 1.0 - r;
      } else {
        add(name, {{ratio_parameter(name), r}}, fmt_ratio(r));
      }
    }
  }
  for (const auto& [name, params] : o.extra) add(name, params, params.dump());
  return out;
}

InferenceResult run_one(InferenceEngine& engine, const std::vector<int32_t>& ids, const Variant& v,
                        const Options& o) {
  InferenceRequest request;
  request.sample_key = v.spec.label;
  request.input_ids = ids;
  request.generation.max_new_tokens = o.new_tokens;
  request.generation.prefill_chunk_size = o.chunk;
  request.generation.ignore_eos = true;  // every run generates exactly --new-tokens tokens
  request.method = spec_at(v, static_cast<int64_t>(ids.size()));
  return engine.run({request}).at(0);
}

// Decode time per generated token after the first (the first comes with the prefill).
double decode_ms_per_token(const InferenceResult& r) {
  const auto generated = static_cast<double>(r.output_ids.size());
  return generated > 1 ? 1000.0 * r.cost.decode_seconds / (generated - 1) : 0.0;
}

std::vector<int32_t> random_ids(int64_t length, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Avoid the low ids (special tokens in most vocabularies) and the model's EOS ids.
  std::uniform_int_distribution<int64_t> pick(std::min<int64_t>(256, vocab / 2), vocab - 1);
  std::vector<int32_t> ids(static_cast<size_t>(length));
  for (auto& id : ids) id = static_cast<int32_t>(pick(rng));
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  c10::InferenceMode guard;
  const at::Device device = resolve_device(o.device, 0);
  const ModelCard config = read_model_card(o.model);
  const at::ScalarType dtype = resolve_dtype(o.dtype, config.torch_dtype, device);
  const auto t0 = std::chrono::steady_clock::now();
  EngineOptions engine_options;
  engine_options.model_dir = o.model;
  engine_options.device = o.device;
  engine_options.dtype = o.dtype;
  engine_options.max_batch_size = 1;
  int64_t longest = 0;
  for (int64_t length : o.lengths) longest = std::max(longest, length);
  engine_options.max_context = std::max<int64_t>(config.max_position_embeddings, longest + o.new_tokens);
  std::unique_ptr<InferenceEngine> engine =
      create_engine(engine_options, nullptr, [](const MethodSpec& spec) { return accel::resolve_policy(spec); });
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ofstream json_file;
  if (!o.json_path.empty()) json_file.open(o.json_path, std::ios::app);
  auto emit = [&](const nlohmann::json& line) {
    const std::string text = line.dump();
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
    if (json_file) json_file << text << '\n' << std::flush;
  };
  emit({{"event", "loaded"},
        {"device", describe_device(device)},
        {"dtype", dtype_name(dtype)},
        {"layers", config.num_layers},
        {"hidden", config.hidden_size},
        {"heads", config.num_heads},
        {"kv_heads", config.num_kv_heads},
        {"vocab", config.vocab_size},
        {"device_name", engine->device_description()},
        {"seconds", load_s}});

  const std::vector<Variant> sweep = variants(o);
  if (o.warmup > 0) {  // allocator, cuBLAS handles, kernel loading: not reported as figures
    const auto ids = random_ids(o.warmup, config.vocab_size, o.seed + 1);
    for (const Variant& v : sweep) run_one(*engine, ids, v, o);
    emit({{"event", "warmup"}, {"length", o.warmup}, {"runs", sweep.size()}});
  }

  struct Row {
    int64_t length;
    Variant variant;
    InferenceResult m;
  };
  std::vector<Row> rows;
  for (int64_t length : o.lengths) {
    const auto ids = random_ids(length, config.vocab_size, o.seed);
    for (const Variant& v : sweep) {
      InferenceResult m = run_one(*engine, ids, v, o);
      release_cached_memory(device);
      emit({{"event", "run"},
            {"length", length},
            {"method", v.spec.name},
            {"params", nlohmann::json::parse(spec_at(v, length).params_json)},
            {"ratio", v.ratio},
            {"ok", m.ok},
            {"error", m.error},
            {"prefill_s", m.cost.prefill_seconds},
            {"decode_ms_per_token", decode_ms_per_token(m)},
            {"generated", m.output_ids.size()},
            {"kv_bytes", m.cost.kv_bytes},
            {"peak_bytes", m.cost.peak_memory_bytes},
            {"prefill_block_density", m.cost.prefill_block_density}});
      rows.push_back({length, v, m});
    }
  }

  std::printf("\n%-8s %-20s %-6s %12s %8s %12s %8s %10s %8s %10s %8s\n", "length", "method", "ratio", "KV MiB",
              "xKV", "decode ms/t", "xdecode", "prefill s", "xpref", "peak GiB", "blocks");
  for (int64_t length : o.lengths) {
    const InferenceResult* full = nullptr;
    for (const Row& r : rows) {
      if (r.length == length && r.variant.spec.name == "full" && r.m.ok) full = &r.m;
    }
    for (const Row& r : rows) {
      if (r.length != length) continue;
      if (!r.m.ok) {
        std::printf("%-8ld %-20s %-6s failed: %s\n", static_cast<long>(length), r.variant.spec.name.c_str(),
                    r.variant.ratio.c_str(), r.m.error.substr(0, 120).c_str());
        continue;
      }
      auto ratio = [&](double a, double b) { return b > 0 ? a / b : 0.0; };
      std::printf("%-8ld %-20s %-6s %12.1f %8.3f %12.3f %8.3f %10.3f %8.3f %10.2f %8.3f\n", static_cast<long>(length),
                  r.variant.spec.name.c_str(), r.variant.ratio.c_str(), r.m.cost.kv_bytes / 1048576.0,
                  full ? ratio(r.m.cost.kv_bytes, full->cost.kv_bytes) : 0.0, decode_ms_per_token(r.m),
                  full ? ratio(decode_ms_per_token(r.m), decode_ms_per_token(*full)) : 0.0, r.m.cost.prefill_seconds,
                  full ? ratio(r.m.cost.prefill_seconds, full->cost.prefill_seconds) : 0.0,
                  r.m.cost.peak_memory_bytes / 1073741824.0, r.m.cost.prefill_block_density);
    }
  }
  return 0;
}
