// engine_parity: chunked prefill of the first L ids of a prompt through the engine's DecoderModel, for several L,
// writing the last-position fp32 logits (<out>/ours_<L>.bin) and printing one JSON line per length with the
// prefill time, peak device memory and KV bytes. Each layer gets the cache the engine gives it (make_layer_cache: a
// sliding-window cache on a sliding layer, else the full cache). tools/engine_parity/run_gpu_parity.sh and
// bench/gpu_engine_bench.sh's `arch` stage compare them with transformers.
//   engine_parity --model DIR --ids ids.int32 --lengths 4096,32768 --out DIR [--device cuda] [--dtype auto]
//                 [--chunk 4096]
#include "model_card/model_card.h"
#include "rank/model/decoder_model.h"
#include "rank/model/device.h"
#include "rank/model/sliding_window_cache.h"
#include "rank/model/weight_store.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace loom::model;

namespace {

std::map<std::string, std::string> parse_args(int argc, char** argv) {
  std::map<std::string, std::string> args{{"device", "cuda"}, {"dtype", "auto"}, {"chunk", "4096"}};
  for (int i = 1; i + 1 < argc; i += 2) args[std::string(argv[i]).substr(2)] = argv[i + 1];
  return args;
}

std::vector<int64_t> split_ints(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoll(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  c10::InferenceMode guard;
  const at::Device device = resolve_device(args["device"], 0);
  ModelCard config = read_model_card(args["model"]);
  const at::ScalarType dtype = resolve_dtype(args["dtype"], config.torch_dtype, device);
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<DecoderModel> model;
  {
    WeightStore weights(args["model"]);
    model = std::make_unique<DecoderModel>(config, weights, dtype, device);
  }
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"event\": \"loaded\", \"seconds\": %.2f, \"device\": \"%s\", \"dtype\": \"%s\"}\n", load_s,
              describe_device(device).c_str(), dtype_name(dtype).c_str());
  std::fflush(stdout);

  std::ifstream ids_file(args["ids"], std::ios::binary | std::ios::ate);
  const auto bytes = ids_file.tellg();
  std::vector<int32_t> ids32(static_cast<size_t>(bytes) / 4);
  ids_file.seekg(0);
  ids_file.read(reinterpret_cast<char*>(ids32.data()), bytes);
  const int64_t chunk = std::stoll(args["chunk"]);

  for (int64_t length : split_ints(args["lengths"])) {
    if (length > static_cast<int64_t>(ids32.size())) continue;
    PeakMemoryMeter meter(device);
    int64_t kv_bytes = 0;
    double seconds = 0;
    at::Tensor logits;
    try {
      PolicyContext context;
      context.shape = model->shape();
      context.dtype = dtype;
      context.device = device;
      context.reserve_tokens = length + 1;
      SequenceState state;
      state.policy = std::make_unique<FullCachePolicy>(context);
      for (int64_t l = 0; l < config.num_layers; ++l) {
        state.caches.push_back(make_layer_cache(config, *state.policy, l));
      }
      state.observations.resize(config.num_layers);
      at::Tensor ids = at::tensor(std::vector<int64_t>(ids32.begin(), ids32.begin() + length), at::kLong);
      meter.reset();
      auto start = std::chrono::steady_clock::now();
      for (int64_t begin = 0; begin < length; begin += chunk) {
        const int64_t count = std::min(chunk, length - begin);
        logits = model->forward(ids.narrow(0, begin, count), {SequenceSegment{0, count, begin, length, true, &state}},
                                begin + count == length);
      }
      logits = logits[0].to(at::kCPU).contiguous();  // synchronises
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      for (const auto& cache : state.caches) kv_bytes += cache->bytes();
    } catch (const std::exception& e) {
      std::printf("{\"event\": \"failed\", \"length\": %ld, \"error\": \"%s\"}\n", static_cast<long>(length),
                  std::string(e.what()).substr(0, 300).c_str());
      std::fflush(stdout);
      continue;
    }
    std::ofstream out(args["out"] + "/ours_" + std::to_string(length) + ".bin", std::ios::binary);
    out.write(static_cast<const char*>(logits.data_ptr()), logits.numel() * 4);
    std::printf("{\"event\": \"prefill\", \"engine\": \"loom\", \"length\": %ld, \"chunk\": %ld, \"seconds\": %.3f, "
                "\"peak_bytes\": %ld, \"kv_bytes\": %ld}\n",
                static_cast<long>(length), static_cast<long>(chunk), seconds, static_cast<long>(meter.peak_bytes()),
                static_cast<long>(kv_bytes));
    std::fflush(stdout);
  }
  return 0;
}
