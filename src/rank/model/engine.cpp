// create_engine: loads config.json, generation_config.json, the tokenizer (when present) and the safetensors
// weights of a model directory onto the chosen device, and returns the InferenceEngine that runs batches through
// generate_batch().
#include "common/error.h"
#include "rank/model/cpu_threads.h"
#include "rank/model/decoder_model.h"
#include "rank/model/device.h"
#include "rank/model/generation.h"
#include "rank/model/inference_engine.h"
#include "rank/parallel/communicator.h"
#include "text/tokenizer.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace loom::model {

namespace {

class TorchInferenceEngine final : public InferenceEngine {
 public:
  TorchInferenceEngine(const EngineOptions& options, parallel::Communicator* tp, PolicyResolver resolver)
      : device_(resolve_device(options.device, options.local_device_index)) {
    const auto start = std::chrono::steady_clock::now();
    if (device_.is_cpu()) set_cpu_threads(options.cpu_threads > 0 ? options.cpu_threads : auto_cpu_threads(1));
    c10::InferenceMode guard;
    ModelConfig config = load_model_config(options.model_dir);
    const at::ScalarType dtype = resolve_dtype(options.dtype, config.torch_dtype, device_);
    {
      WeightStore weights(options.model_dir);
      model_ = std::make_unique<DecoderModel>(std::move(config), weights, dtype, device_, tp);
    }
    if (std::filesystem::exists(options.model_dir / "tokenizer.json") ||
        std::filesystem::exists(options.model_dir / "tokenizer.model")) {
      tokenizer_ = text::load_tokenizer(options.model_dir);
    }
    resources_.model = model_.get();
    resources_.tokenizer = tokenizer_.get();
    resources_.resolver = std::move(resolver);
    resources_.tp = tp;
    const auto& c = model_->config();
    const TensorParallelLayout& shard = model_->tensor_parallel();
    spdlog::info("loaded {} ({} layers, hidden {}, heads {}/{}, rope {}, tensor-parallel shard {}/{}) from {} on {} "
                 "as {} in {:.1f} s",
                 c.model_type, c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads, c.rope.type, shard.rank,
                 shard.size,
                 options.model_dir.string(), describe_device(device_), dtype_name(dtype),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }

  std::vector<InferenceResult> run(const std::vector<InferenceRequest>& batch) override {
    return generate_batch(resources_, batch);
  }

  std::string device_description() const override { return describe_device(device_); }

 private:
  at::Device device_;
  std::unique_ptr<DecoderModel> model_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  GenerationResources resources_;
};

}  // namespace

std::unique_ptr<InferenceEngine> create_engine(const EngineOptions& options, parallel::Communicator* tp,
                                               PolicyResolver resolver) {
  return std::make_unique<TorchInferenceEngine>(options, tp, std::move(resolver));
}

}  // namespace loom::model
