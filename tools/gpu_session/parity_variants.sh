#!/usr/bin/env bash
# On the GPU machine: the bench's parity job (models/tiny-loom, bf16, NIAH + RULER at 1K-8K, 24 new tokens,
# ignore_eos) through loom_mpi under engine variants, to find which path changes greedy outputs:
#   base (defaults), b1 (max_batch_size 1: no prefill beside running decodes), nographs (cuda_graphs false),
#   sdpa (prefill_attention sdpa). Predictions: $OUT/parity_<variant>.jsonl.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${LOOM_BENCH_DATA:-$ROOT/data/ruler}
PY_LD=${LD_LIBRARY_PATH:-}
eval "$("$ROOT/tools/gpu_session/unpack.sh")"
for variant in ${LOOM_VARIANTS:-base b1 nographs sdpa}; do
  extra=""
  case ${variant%%_*} in
    b1) extra="  max_batch_size: 1" ;;
    nographs) extra="  cuda_graphs: false" ;;
    sdpa) extra="  prefill_attention: sdpa" ;;
  esac
  dir=/tmp/parity_$variant; mkdir -p "$dir"
  cat > "$dir/job.yaml" <<YAML
name: parity_$variant
model:
  path: $ROOT/models/tiny-loom
  device: cuda
  dtype: bfloat16
  max_context: 8192
$extra
benchmarks:
  - name: NIAH
    lengths: [${LOOM_PARITY_LENGTHS:-1K, 2K, 4K, 8K}]
    num_samples: 4
    data_dir: $ROOT/data/niah
  - name: RULER
    tasks: [niah_single_1, niah_single_2, niah_multikey_1]
    lengths: [${LOOM_PARITY_LENGTHS:-1K, 2K, 4K, 8K}]
    num_samples: 2
    data_dir: $DATA
    options: {word_list: $DATA/words}
generation:
  max_new_tokens: 24
  ignore_eos: true
acceleration: full
output:
  path: $dir/results.h5
resume: false
YAML
  timeout 120 "$D/loom_mpi" run "$dir/job.yaml" > "$OUT/parity_${variant}.log" 2>&1
  echo "$variant rc $?"
  LD_LIBRARY_PATH=$PY_LD python3 - "$dir/results.h5" > "$OUT/parity_${variant}.jsonl" <<'PY'
import h5py, json, sys
with h5py.File(sys.argv[1], "r") as f:
    for r in f["samples"][()]:
        t = lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
        print(json.dumps({"sample_key": t(r["sample_key"]), "text": t(r["prediction"])}))
PY
done
