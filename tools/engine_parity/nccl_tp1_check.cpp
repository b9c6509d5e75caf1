// nccl_tp1_check: the NCCL tensor-parallel backend on one GPU (TP = 1). Creates parallel::NcclCommunicator over
// MPI_COMM_WORLD (unique id made by rank 0, broadcast over MPI, ncclCommInitRank on cuda:0), checks its collectives
// on CUDA tensors, then loads the model once with the communicator and once without and compares the last-position
// logits of a chunked prefill (they must be identical: a group of one changes nothing). Prints one JSON line per
// check and exits non-zero if one fails.
//   mpiexec -n 1 nccl_tp1_check --model DIR [--length 4096] [--chunk 1024]
#include "common/mpi/mpi_comm.h"
#include "model_card/model_card.h"
#include "rank/model/decoder_model.h"
#include "rank/model/device.h"
#include "rank/model/weight_store.h"
#include "rank/parallel/nccl_communicator.h"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

using namespace loom;
using namespace loom::model;

namespace {

at::Tensor last_logits(DecoderModel& model, const at::Tensor& ids, int64_t chunk) {
  PolicyContext context;
  context.shape = model.shape();
  context.dtype = model.dtype();
  context.device = model.device();
  context.reserve_tokens = ids.size(0) + 1;
  SequenceState state;
  state.policy = std::make_unique<FullCachePolicy>(context);
  for (int64_t l = 0; l < model.config().num_layers; ++l) state.caches.push_back(state.policy->make_cache(l));
  state.observations.resize(model.config().num_layers);
  const int64_t length = ids.size(0);
  at::Tensor logits;
  for (int64_t begin = 0; begin < length; begin += chunk) {
    const int64_t count = std::min(chunk, length - begin);
    logits = model.forward(ids.narrow(0, begin, count), {SequenceSegment{0, count, begin, length, true, &state}},
                           begin + count == length);
  }
  return logits[0].to(at::kFloat).to(at::kCPU);
}

}  // namespace

int main(int argc, char** argv) {
  mpi::MpiSession session(&argc, &argv, MPI_THREAD_SINGLE);
  std::map<std::string, std::string> args{{"length", "4096"}, {"chunk", "1024"}};
  for (int i = 1; i + 1 < argc; i += 2) args[std::string(argv[i]).substr(2)] = argv[i + 1];
  c10::InferenceMode guard;
  bool all_ok = true;
  auto report = [&](const char* check, bool ok, const std::string& detail) {
    all_ok = all_ok && ok;
    std::printf("{\"check\": \"%s\", \"ok\": %s, \"detail\": \"%s\"}\n", check, ok ? "true" : "false", detail.c_str());
    std::fflush(stdout);
  };
  try {
    const at::Device device = resolve_device("cuda", 0);
    parallel::NcclCommunicator nccl(MPI_COMM_WORLD, 0);
    report("nccl_init", nccl.size() == 1 && nccl.rank() == 0,
           "ncclCommInitRank on " + describe_device(device) + ", group size " + std::to_string(nccl.size()));

    at::Tensor x = at::randn({1000, 64}, at::TensorOptions().device(device).dtype(at::kBFloat16));
    at::Tensor reduced = x.clone();
    nccl.all_reduce_sum(reduced);
    at::Tensor gathered = nccl.all_gather(x, -1);
    at::Tensor broadcast = x.clone();
    nccl.broadcast(broadcast, 0);
    report("collectives", reduced.equal(x) && gathered.equal(x) && broadcast.equal(x),
           "all_reduce_sum, all_gather(dim -1), broadcast(root 0) on a bf16 CUDA tensor");

    ModelCard config = read_model_card(args["model"]);
    const at::ScalarType dtype = resolve_dtype("auto", config.torch_dtype, device);
    WeightStore weights(args["model"]);
    const int64_t length = std::stoll(args["length"]), chunk = std::stoll(args["chunk"]);
    at::Tensor ids = at::randint(256, config.vocab_size, {length}, at::TensorOptions().dtype(at::kLong));
    at::Tensor plain;
    {
      DecoderModel model(config, weights, dtype, device, nullptr);
      plain = last_logits(model, ids, chunk);
    }
    at::Tensor with_nccl;
    {
      DecoderModel model(config, weights, dtype, device, &nccl);
      with_nccl = last_logits(model, ids, chunk);
    }
    const double max_delta = (plain - with_nccl).abs().max().item<double>();
    report("engine_tp1", max_delta == 0.0,
           "prefill of " + std::to_string(length) + " tokens in chunks of " + std::to_string(chunk) +
               ": max |logit delta| with vs without the NCCL communicator = " + std::to_string(max_delta));
  } catch (const std::exception& e) {
    report("exception", false, e.what());
  }
  return all_ok ? 0 : 1;
}
