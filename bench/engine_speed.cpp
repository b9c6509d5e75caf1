// engine_speed: the engine's prefill and decode speed against the device's ceilings, through the public engine
// (create_engine, submit/step) with the job's defaults.
//
//   engine_speed --model DIR [--device auto] [--dtype auto] [--prefill 8192,32768,131071] [--chunk 16384]
//                [--decode 1x32768,8x32768,32x8192] [--steps 48] [--tflops X] [--tbps Y] [--json FILE]
//
// Prefill: one prompt of L random ids, max_new_tokens 1, with --chunk-token chunks and in one chunk; each run twice
// (the first includes one-off costs: cuDNN execution plans for new shapes, allocator growth) and the second reported
// as the figure: seconds and percent of the matmul ceiling, counting 2 * (linear parameters) * L FLOPs for the
// projections and 2 * heads * head_dim * L^2 per layer for causal attention (QK^T and PV over half the square).
// Decode: B prompts of C ids submitted together (ignore_eos), stepped until all B are generating, then --steps
// decode steps timed one by one (median): per-step seconds, tokens/s, and the bytes a step must read (weights + the
// B caches) over the step time, as percent of the copy bandwidth. Ceilings: --tflops / --tbps (e.g. from
// bench/engine_kernels, same run), else measured here on CUDA (a bf16 8192^3 product, a 4 GiB copy).
#include "model_card/model_card.h"
#include "common/generation_settings.h"
#include "rank/accel/registry.h"
#include "rank/model/device.h"
#include "rank/model/inference_engine.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace loom;
using namespace loom::model;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string model, device = "auto", dtype = "auto", json_path;
  std::vector<int64_t> prefill{8192, 32768, 131071};
  int32_t chunk = GenerationSettings{}.prefill_chunk_size;
  std::vector<std::pair<int64_t, int64_t>> decode{{1, 32768}, {8, 32768}, {32, 8192}};
  int32_t steps = 48;
  double tflops = 0, tbps = 0;
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
               "engine_speed: %s\nusage: engine_speed --model DIR [--device auto] [--dtype auto] "
               "[--prefill 8192,32768,131071] [--chunk 16384] [--decode 1x32768,8x32768,32x8192] [--steps 48] "
               "[--tflops X] [--tbps Y] [--json FILE]\n",
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
      else if (key == "--json") o.json_path = value;
      else if (key == "--chunk") o.chunk = std::stoi(value);
      else if (key == "--steps") o.steps = std::stoi(value);
      else if (key == "--tflops") o.tflops = std::stod(value);
      else if (key == "--tbps") o.tbps = std::stod(value);
      else if (key == "--prefill") {
        o.prefill.clear();
        for (const auto& s : split(value, ',')) o.prefill.push_back(std::stoll(s));
      } else if (key == "--decode") {
        o.decode.clear();
        for (const auto& s : split(value, ',')) {
          const auto x = s.find('x');
          if (x == std::string::npos) usage("--decode wants BATCHxCONTEXT items, got '" + s + "'");
          o.decode.emplace_back(std::stoll(s.substr(0, x)), std::stoll(s.substr(x + 1)));
        }
      } else {
        usage("unknown option " + key);
      }
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + key);
    }
  }
  if (o.model.empty()) usage("--model is required");
  if (o.steps < 1) usage("--steps must be positive");
  return o;
}

std::vector<int32_t> random_ids(int64_t length, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(std::min<int64_t>(256, vocab / 2), vocab - 1);
  std::vector<int32_t> ids(static_cast<size_t>(length));
  for (auto& id : ids) id = static_cast<int32_t>(pick(rng));
  return ids;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  c10::InferenceMode guard;
  const at::Device device = resolve_device(o.device, 0);
  const ModelCard c = read_model_card(o.model);
  const at::ScalarType dtype = resolve_dtype(o.dtype, c.torch_dtype, device);
  const double element = static_cast<double>(c10::elementSize(dtype));
  std::ofstream json_file;
  if (!o.json_path.empty()) json_file.open(o.json_path, std::ios::app);
  auto emit = [&](const nlohmann::json& line) {
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
    if (json_file) json_file << line.dump() << '\n' << std::flush;
  };

  double tflops = o.tflops, tbps = o.tbps;
  if (device.is_cuda() && (tflops <= 0 || tbps <= 0)) {
    const at::TensorOptions bf16 = at::TensorOptions().dtype(at::kBFloat16).device(device);
    at::Tensor a = at::randn({8192, 8192}, bf16), b = at::randn({8192, 8192}, bf16);
    at::Tensor src = at::randn({int64_t{1} << 30}, at::TensorOptions().dtype(at::kFloat).device(device));
    at::Tensor dst = at::empty_like(src);
    auto timed = [&](auto fn, int repeats) {
      fn();
      synchronize(device);
      std::vector<double> t;
      for (int i = 0; i < repeats; ++i) {
        const auto start = Clock::now();
        fn();
        synchronize(device);
        t.push_back(std::chrono::duration<double>(Clock::now() - start).count());
      }
      return median(t);
    };
    if (tflops <= 0) tflops = 2.0 * 8192.0 * 8192.0 * 8192.0 / timed([&] { at::mm(a, b); }, 10) / 1e12;
    if (tbps <= 0) tbps = 2.0 * static_cast<double>(src.nbytes()) / timed([&] { dst.copy_(src); }, 10) / 1e12;
  }
  emit({{"event", "ceilings"}, {"tflops", tflops}, {"tbps", tbps}});

  const int64_t longest_prefill = o.prefill.empty() ? 0 : *std::max_element(o.prefill.begin(), o.prefill.end());
  int64_t longest_decode = 0, widest = 1;
  for (const auto& [batch, context] : o.decode) {
    longest_decode = std::max(longest_decode, context);
    widest = std::max(widest, batch);
  }
  // Prefill and decode run in engines of their own: the prefill engine keeps room for one dense prompt of the
  // longest length, the decode engine gives its KV pool all but a short prompt's workspace (8 x 32K fits 80 GB).
  auto make_engine = [&](int64_t max_context, int64_t max_batch) {
    EngineOptions options;
    options.model_dir = o.model;
    options.device = o.device;
    options.dtype = o.dtype;
    options.max_batch_size = static_cast<int32_t>(max_batch);
    options.max_context = max_context;
    return create_engine(options, nullptr, [](const MethodSpec& spec) { return accel::resolve_policy(spec); });
  };
  const auto load_start = Clock::now();
  auto engine = make_engine(std::max(c.max_position_embeddings, longest_prefill + 8), 1);
  emit({{"event", "loaded"}, {"device", engine->device_description()},
        {"seconds", std::chrono::duration<double>(Clock::now() - load_start).count()}});

  // Parameters read or multiplied per token.
  const double q_dim = static_cast<double>(c.num_heads * c.head_dim), kv_dim = static_cast<double>(c.num_kv_heads * c.head_dim);
  const double hidden = static_cast<double>(c.hidden_size), inter = static_cast<double>(c.intermediate_size);
  const double layer_params = hidden * (q_dim + 2 * kv_dim) + q_dim * hidden + 3 * hidden * inter;
  const double linear_params = static_cast<double>(c.num_layers) * layer_params;
  const double vocab = static_cast<double>(c.vocab_size);
  const double weight_bytes = (linear_params + vocab * hidden + 2 * hidden * static_cast<double>(c.num_layers)) * element;
  const double kv_bytes_per_token = 2.0 * static_cast<double>(c.num_layers) * kv_dim * element;

  auto request = [&](int64_t length, int32_t new_tokens, int32_t chunk, uint64_t seed) {
    InferenceRequest r;
    r.sample_key = "speed";
    r.input_ids = random_ids(length, c.vocab_size, seed);
    r.generation.max_new_tokens = new_tokens;
    r.generation.prefill_chunk_size = chunk;
    r.generation.ignore_eos = true;
    return r;
  };
  engine->run({request(4096, 2, 4096, 99)});  // warm-up: kernels, handles, the cuDNN self-check's shapes

  for (int64_t length : o.prefill) {
    for (int32_t chunk : {o.chunk, static_cast<int32_t>(length)}) {
      double first = 0, second = 0;
      for (int run = 0; run < 2; ++run) {
        const InferenceResult r = engine->run({request(length, 1, chunk, 7 + run)}).at(0);
        if (!r.ok) {
          emit({{"event", "prefill"}, {"length", length}, {"chunk", chunk}, {"error", r.error}});
          break;
        }
        (run == 0 ? first : second) = r.cost.prefill_seconds;
      }
      if (second <= 0) continue;
      const double l = static_cast<double>(length);
      const double flops = 2.0 * linear_params * l + 2.0 * q_dim * l * l * static_cast<double>(c.num_layers);
      emit({{"event", "prefill"}, {"length", length}, {"chunk", chunk}, {"seconds", second},
            {"first_run_seconds", first}, {"tflops", flops / second / 1e12},
            {"percent_of_matmul_ceiling", tflops > 0 ? 100.0 * flops / second / 1e12 / tflops : 0.0}});
    }
  }

  if (!o.decode.empty()) {
    engine.reset();  // the prefill engine's weights and workspace go before the decode engine loads
    const int64_t joining = widest * ((longest_decode + o.chunk - 1) / o.chunk);
    engine = make_engine(longest_decode + o.steps + 64 + joining, widest);
    engine->run({request(4096, 2, 4096, 99)});
  }
  for (const auto& [batch, context] : o.decode) {
    // Prompts are prefilled one chunk per step while the admitted rows decode: every row generates long enough to
    // still be decoding when the last one joins.
    const int32_t joining_steps = static_cast<int32_t>(batch * ((context + o.chunk - 1) / o.chunk));
    std::vector<InferenceRequest> requests;
    for (int64_t b = 0; b < batch; ++b) {
      InferenceRequest r = request(context, o.steps + 16 + joining_steps, o.chunk, 1000 + static_cast<uint64_t>(b));
      r.tag = b;
      requests.push_back(std::move(r));
    }
    engine->submit(std::move(requests));
    int64_t failed = 0;
    int32_t most_decoding = 0;
    std::string error;
    while (engine->load().decoding < batch && !engine->idle()) {
      for (const auto& r : engine->step()) {
        if (!r.ok) {
          ++failed;
          error = r.error;
        }
      }
      most_decoding = std::max(most_decoding, engine->load().decoding);
      if (failed > 0) break;
    }
    if (failed == 0 && engine->load().decoding < batch) {
      error = "only " + std::to_string(most_decoding) + " of " + std::to_string(batch) +
              " rows decoded at once (the KV pool did not admit the rest)";
    }
    std::vector<double> steps;
    for (int32_t s = 0; s < o.steps && failed == 0 && engine->load().decoding == batch; ++s) {
      const auto start = Clock::now();
      engine->step();
      steps.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    while (!engine->idle()) engine->step();
    if (failed > 0 || steps.empty()) {
      if (error.empty()) error = "no decode step ran with every row";
      emit({{"event", "decode"}, {"batch", batch}, {"context", context}, {"error", error}});
      continue;
    }
    const double step_s = median(steps);
    const double bytes = weight_bytes + static_cast<double>(batch) * static_cast<double>(context) * kv_bytes_per_token;
    emit({{"event", "decode"}, {"batch", batch}, {"context", context}, {"step_ms", step_s * 1e3},
          {"tokens_per_s", static_cast<double>(batch) / step_s}, {"bytes_per_step", bytes},
          {"bound_ms", tbps > 0 ? bytes / (tbps * 1e12) * 1e3 : 0.0},
          {"percent_of_bandwidth_bound", tbps > 0 ? 100.0 * bytes / step_s / (tbps * 1e12) : 0.0}});
  }
  return 0;
}
