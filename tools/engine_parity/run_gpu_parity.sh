#!/usr/bin/env bash
# One device call: build engine_parity, make the random Llama-3.1-8B-shaped model, run transformers then our engine
# at each length (4K and 32K first, 128K last), compare. Output: JSON lines on stdout and in $OUT/parity.log.
# Needs: python3 with torch (CUDA) + transformers, cmake, ninja; LOOM_EXTRA_INCLUDE pointing at nlohmann/json.hpp.
set -uo pipefail
OUT=${OUT:-/tmp/parity_out}
mkdir -p "$OUT" /tmp/parity
LOG=$OUT/parity.log
export PYTHONUNBUFFERED=1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
( cmake -S "$ROOT/tools/engine_parity" -B /tmp/parity_build -G Ninja -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DLOOM_EXTRA_INCLUDE="${LOOM_EXTRA_INCLUDE:-$ROOT/.engine_gpu/include}" >/tmp/parity_build.log 2>&1 &&
  cmake --build /tmp/parity_build -j 12 >>/tmp/parity_build.log 2>&1; echo "build rc=$?" >>/tmp/parity_build.log ) &
BUILD=$!
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$LOG"
python3 "$ROOT/tools/engine_parity/hf_reference.py" make 2>&1 | grep -v Warning | tee -a "$LOG"
# CHUNKS: prefill chunk sizes to run our engine with (each compared with the same transformers logits).
run_lengths() {
  python3 "$ROOT/tools/engine_parity/hf_reference.py" run --lengths "$1" 2>&1 | grep '^{' | tee -a "$LOG"
  for chunk in ${CHUNKS:-4096}; do
    /tmp/parity_build/engine_parity --model /tmp/llama31_8b_random --ids /tmp/parity_ids.int32 --lengths "$1" \
      --out /tmp/parity --chunk "$chunk" 2>&1 | tail -20 | tee -a "$LOG"
    python3 "$ROOT/tools/engine_parity/hf_reference.py" compare --lengths "$1" | tee -a "$LOG"
  done
}
wait $BUILD
tail -5 /tmp/parity_build.log | tee -a "$LOG"
cp /tmp/parity_build.log "$OUT/build.log"
run_lengths 512,4096,32768   # 512: warm-up (cuBLAS/cuDNN handles, allocator), reported but not a figure
run_lengths 512,131072
