#!/usr/bin/env bash
# The GPU engine benchmark in one device call (run from the repository root on the GPU machine, with the programs
# tools/gpu_session/build_here.sh put in .device/ carried). Every figure comes from this run, on this machine:
#   kernels  bench/engine_kernels: the two ceilings (bf16 matmul, copy bandwidth), correctness of the paged decode,
#            append and prefill attention kernels against fp32 references, and their speed; Qwen3-MoE's grouped
#            experts against the per-expert path and inside a CUDA graph (LOOM_KERNELS_ARGS="--only moe": that alone);
#   model    a random-weight model from an HF config (bench/hf_baseline.py make; Llama-3.1-8B shape, all layers, by
#            default; LOOM_HF_CONFIG / LOOM_LAYERS change it) with tiny-loom's tokenizer for rendering jobs;
#   speed    bench/engine_speed: prefill % of the matmul ceiling at 8K/32K/128K with the default chunking (and one
#            chunk), decode % of the bandwidth bound at batch 1 (32K), and in aggregate at batch 8 (32K) and 32 (8K);
#   methods  bench/accel_engine at 128K (131,008 prompt tokens, so they and the 33 new ones stay within the
#            model's trained 131,072), batch 1: decode ms/token of the full cache against snapkv, adakv, kivi at
#            compression 0.5 and 0.875 (KIVI at 4 and 2 bits; LOOM_METHODS picks a subset, LOOM_ACCEL_ARGS adds
#            accel_engine arguments such as --extra 'flexprefill:{"gamma":0.5}');
#   sparse   FlexPrefill (gamma 0.5) and XAttention (threshold 0.2) against dense prefill at 131,008 tokens with
#            prefill chunks of LOOM_SPARSE_CHUNKS tokens (default 32768 and 131008);
#   ruler    a RULER-shaped job (RULER's 13 tasks at 4K-128K, their official generation lengths, ignore_eos) through
#            `loom_mpi run`, and the same prompt ids (`loom_mpi validate --dump-prompts`) through transformers
#            `generate`: samples/hour of each. Without squad.json in LOOM_BENCH_DATA, qa_1 / qa_2 run on stand-in
#            documents of the same layout (bench/ruler_qa_standins.py: essay passages; prompt shapes as RULER's);
#   decode   the same for a decode-heavy job (4K-32K prompts, 384 new tokens each);
#   parity   the same for models/tiny-loom (a trained model, in bf16) on NIAH and RULER at 1K-8K: greedy agreement
#            with transformers where the outputs mean something (a random-weight model's top-1 margins are within
#            bf16 rounding, so its agreement says little); max_batch_size LOOM_PARITY_BATCH (default 4), so that
#            sequences join freed decode slots (a slot-reuse bug of the page tables showed only then);
#   arch     every supported architecture (llama, mistral, qwen2, qwen3, qwen3_moe, glm, glm4, phi3, gemma3) as a
#            small random-weight model (bench/arch_parity.py make: 4 layers, head_dim 128 (Phi-3 96), sliding windows
#            and Phi-3's longrope switch shorter than the longer prompts) against transformers on the same prompt ids
#            (LOOM_ARCH_LENGTHS, default 1024,3072,8192: prefixes of one random sequence): engine_parity's prompt
#            logits and `loom_mpi generate`'s 16 greedy tokens (LOOM_ARCH_NEW_TOKENS) against transformers' logits
#            over the same ids: greedy top-1 agreement, first-step max/mean |delta|, pass/fail against the tolerance
#            bench/arch_parity.py states. LOOM_ARCH_DEVICE=cpu (dtype float32; LOOM_ARCH_DTYPE overrides) runs it
#            on a CPU build; LOOM_ARCH_MODELS picks architectures; not in the default LOOM_STAGES.
# LOOM_MAX_CONTEXT (default 131072) and LOOM_MAX_BATCH (64) set the jobs' model keys, LOOM_RULER_CHUNK (16384, the
# default) the RULER job's prefill chunk; LOOM_HF_BUDGET_S caps the
# seconds transformers gets per job (default: what is left; it times a fixed shuffle of the rows, so a cut run
# times a representative subset); LOOM_JOB_TIMEOUT_S the seconds loom_mpi gets (default a third of what is left);
# LOOM_JOB_SIDES (default loom,hf) runs one side only, for a job too long for both in one call;
# LOOM_HF_SHUFFLE_SEED another order of transformers' rows (another subset when cut); LOOM_HF_ORDER=by-length takes
# them round robin over the target lengths, so a cut run times every length. LOOM_STAGES (default
# kernels,model,speed,methods,ruler,decode) picks stages; LOOM_BUDGET_S (default 570) bounds
# the call: each stage gets what is left. LOOM_BENCH_DATA: a folder with PaulGrahamEssays/ and words (the RULER
# generator's inputs; default data/ruler of the repository). LOOM_BENCH_BIN: a folder with the programs (loom_mpi,
# engine_parity, ...) of a local build, used instead of unpacking .device/ (the arch stage on a CPU machine).
# Results: $OUT/*.jsonl, $OUT/*.txt; the last lines printed are the summary table (bench/summarize_engine_bench.py).
set -uo pipefail
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
START=$(date +%s)
BUDGET=${LOOM_BUDGET_S:-570}
left() { echo $((BUDGET - ($(date +%s) - START))); }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STAGES=${LOOM_STAGES:-kernels,model,speed,methods,ruler,decode}
has() { [[ ",$STAGES," == *",$1,"* ]]; }
MODEL=${LOOM_BENCH_MODEL:-/tmp/loom_bench_model}
DATA=${LOOM_BENCH_DATA:-$ROOT/data/ruler}
export PYTHONUNBUFFERED=1
PY_LD=${LD_LIBRARY_PATH:-}  # python (transformers) keeps the image's libraries; the carried ones are for our programs
if [ -n "${LOOM_BENCH_BIN:-}" ]; then  # programs of a local build (loom_mpi, engine_parity, ...): no .device to unpack
  D=$(cd "$LOOM_BENCH_BIN" && pwd)
else
  eval "$("$ROOT/tools/gpu_session/unpack.sh")"
fi
py() { LD_LIBRARY_PATH=$PY_LD python3 "$@"; }
{
  date -u; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv,noheader
  py -c 'import torch,transformers;print("torch",torch.__version__,"transformers",transformers.__version__)'
  for p in loom_mpi engine_kernels engine_speed accel_engine engine_parity; do
    [ -e "$D/$p" ] && ldd "$D/$p" | grep -i "not found" | sed "s/^/$p: /"
  done
  echo "libraries checked"
} 2>&1 | tee "$OUT/env.txt"

if has kernels; then
  echo "--- kernels at $(left) s left"
  timeout $(( $(left) / 3 )) "$D/engine_kernels" --json "$OUT/kernels.jsonl" ${LOOM_KERNELS_ARGS:-} > "$OUT/kernels.txt" 2>&1
  echo "engine_kernels exit $?" | tee -a "$OUT/kernels.txt"
  grep -E '"ok":false|ceilings|"bench"|prefill_attention_auto|moe_grouped|done' "$OUT/kernels.txt" | cut -c1-400
fi
TFLOPS=$(py -c "import json,sys
for l in open('$OUT/kernels.jsonl') if __import__('os').path.exists('$OUT/kernels.jsonl') else []:
  d=json.loads(l)
  if d.get('bench')=='ceilings': print(d['bf16_matmul_tflop_s']); break" 2>/dev/null)
TBPS=$(py -c "import json
for l in open('$OUT/kernels.jsonl') if __import__('os').path.exists('$OUT/kernels.jsonl') else []:
  d=json.loads(l)
  if d.get('bench')=='ceilings': print(d['copy_tb_s']); break" 2>/dev/null)
CEILINGS=()
[ -n "$TFLOPS" ] && CEILINGS=(--tflops "$TFLOPS" --tbps "$TBPS")

if has model && [ ! -f "$MODEL/config.json" ]; then
  echo "--- model at $(left) s left"
  LAYER_ARGS=()
  [ -n "${LOOM_LAYERS:-}" ] && LAYER_ARGS=(--layers "$LOOM_LAYERS")
  timeout $(( $(left) / 2 )) env LD_LIBRARY_PATH="$PY_LD" python3 "$ROOT/bench/hf_baseline.py" make --out "$MODEL" \
    --config "${LOOM_HF_CONFIG:-llama31_8b}" --tokenizer "$ROOT/models/tiny-loom" "${LAYER_ARGS[@]}" 2>&1 |
    grep -v -i warn | tee "$OUT/model.txt"
fi

if has speed; then
  echo "--- speed at $(left) s left"
  timeout $(( $(left) * 4 / 10 )) "$D/engine_speed" --model "$MODEL" --json "$OUT/speed.jsonl" "${CEILINGS[@]}" \
    ${LOOM_SPEED_ARGS:-} 2>&1 | grep -v '^\[' | tee "$OUT/speed.txt"
fi

if has methods; then
  echo "--- methods at $(left) s left"
  timeout $(( $(left) * 4 / 10 )) "$D/accel_engine" --model "$MODEL" --device cuda --lengths "${LOOM_METHOD_LENGTH:-131008}" \
    --new-tokens 33 --warmup 2048 --methods "${LOOM_METHODS:-snapkv,adakv,kivi}" --ratios 0.5,0.875 --json "$OUT/methods.jsonl" \
    ${LOOM_ACCEL_ARGS:-} 2>&1 |
    grep -v '^{' | grep -v '^\[' | tee "$OUT/methods.txt"
fi

if has sparse; then  # sparse prefill against dense prefill at prefill chunks larger than the default
  for chunk in ${LOOM_SPARSE_CHUNKS:-32768 131008}; do
    echo "--- sparse prefill, chunk $chunk, at $(left) s left"
    timeout $(( $(left) / 2 )) "$D/accel_engine" --model "$MODEL" --device cuda --lengths "${LOOM_METHOD_LENGTH:-131008}" \
      --new-tokens 3 --warmup 2048 --chunk "$chunk" --methods none --json "$OUT/sparse_$chunk.jsonl" \
      --extra 'flexprefill:{"gamma":0.5}' --extra 'xattention:{"threshold":0.2}' ${LOOM_ACCEL_ARGS:-} 2>&1 |
      grep -v '^{' | grep -v '^\[' | tee "$OUT/sparse_$chunk.txt"
  done
fi

# A job through loom_mpi and transformers: $1 = name, $2 = benchmark YAML block, $3 = generation YAML block.
job() {
  local name=$1 benchmarks=$2 generation=$3 dir=/tmp/loom_bench_$1
  mkdir -p "$dir"
  cat > "$dir/job.yaml" <<EOF
name: $name
model:
  path: $MODEL
  device: cuda
  dtype: ${JOB_DTYPE:-auto}
  max_context: ${JOB_MAX_CONTEXT:-${LOOM_MAX_CONTEXT:-131072}}
  max_batch_size: ${LOOM_MAX_BATCH:-64}
benchmarks:
$benchmarks
generation:
$generation
  ignore_eos: true
acceleration: full
output:
  path: $dir/results.h5
resume: false
EOF
  "$D/loom_mpi" validate "$dir/job.yaml" --dump-prompts "$dir/prompts.jsonl" > "$OUT/${name}_validate.txt" 2>&1 ||
    { echo "validate failed"; tail -5 "$OUT/${name}_validate.txt"; return; }
  tail -3 "$OUT/${name}_validate.txt"
  local t0 t1 rc
  if [[ ",${LOOM_JOB_SIDES:-loom,hf}," == *",loom,"* ]]; then
  t0=$(date +%s.%N)
  timeout "${LOOM_JOB_TIMEOUT_S:-$(( $(left) / 3 ))}" "$D/loom_mpi" run "$dir/job.yaml" > "$OUT/${name}_loom.txt" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  py - "$dir/results.h5" "$t0" "$t1" "$rc" "$OUT/${name}_loom.txt" <<'PY' | tee "$OUT/${name}_loom.jsonl"
import json, re, sys
path, t0, t1, rc, log = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
text = open(log, errors="replace").read()
load = re.search(r"as \S+ in ([0-9.]+) s", text)  # the "loaded <model> ... as bfloat16 in 3.6 s" line
rows = ok = 0
try:
    import h5py
    with h5py.File(path, "r") as f:
        table = f["samples"][()]
        rows = len(table)
        ok = int(sum(1 for s in table["status"] if s in (b"ok", "ok")))
        text = lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
        costs = [c for c in ("prefill_seconds", "decode_seconds") if c in (table.dtype.names or ())]
        for r in table:  # predictions, for the greedy agreement with transformers (summarize_engine_bench.py)
            row = {"event": "prediction", "sample_key": text(r["sample_key"]), "text": text(r["prediction"])}
            row.update({c: round(float(r[c]), 4) for c in costs})
            print(json.dumps(row))
except Exception as e:  # h5py may be missing: count from the log
    print(json.dumps({"warning": f"results not read: {e}"}))
wall = t1 - t0
load_s = float(load.group(1)) if load else 0.0
print(json.dumps({"event": "loom_summary", "rc": rc, "rows": rows, "ok": ok, "wall_seconds": round(wall, 2),
                  "model_load_seconds": load_s, "samples_per_hour": round(3600 * rows / wall, 1) if wall else 0,
                  "samples_per_hour_after_load": round(3600 * rows / (wall - load_s), 1) if wall > load_s else 0}))
PY
  tail -4 "$OUT/${name}_loom.txt"
  fi
  [[ ",${LOOM_JOB_SIDES:-loom,hf}," == *",hf,"* ]] || return
  local hf_budget=$(( $(left) - 60 ))
  [ "$hf_budget" -gt "${LOOM_HF_BUDGET_S:-$hf_budget}" ] && hf_budget=$LOOM_HF_BUDGET_S
  timeout $(( $(left) - 20 )) env LD_LIBRARY_PATH="$PY_LD" python3 "$ROOT/bench/hf_baseline.py" generate --model "$MODEL" \
    --prompts "$dir/prompts.jsonl" --out "$OUT/${name}_hf.jsonl" --budget-s "$hf_budget" \
    --shuffle-seed "${LOOM_HF_SHUFFLE_SEED:-0}" --order "${LOOM_HF_ORDER:-shuffle}" 2>&1 |
    grep -E "hf_loaded|hf_attention_path|hf_summary|hf_baseline:|Error|error" | tee "$OUT/${name}_hf.txt"
}

if has ruler; then
  echo "--- ruler job at $(left) s left"
  RULER_DATA=$DATA
  if [ ! -f "$DATA/squad.json" ] && [ ! -f "$DATA/dev-v2.0.json" ]; then
    # qa_1 / qa_2 on stand-in documents (bench/ruler_qa_standins.py): SQuAD and HotpotQA are not on the GPU machine.
    RULER_DATA=/tmp/loom_ruler_data
    mkdir -p "$RULER_DATA"
    ln -sfn "$DATA/PaulGrahamEssays" "$RULER_DATA/PaulGrahamEssays"
    py "$ROOT/bench/ruler_qa_standins.py" "$DATA/PaulGrahamEssays" "$RULER_DATA"
  fi
  job ruler "  - name: RULER
    tasks: [${LOOM_RULER_TASKS:-niah_single_1, niah_single_2, niah_single_3, niah_multikey_1, niah_multikey_2, niah_multikey_3, niah_multivalue, niah_multiquery, vt, cwe, fwe, qa_1, qa_2}]
    lengths: [${LOOM_RULER_LENGTHS:-4K, 8K, 16K, 32K, 64K, 128K}]
    num_samples: ${LOOM_RULER_SAMPLES:-1}
    data_dir: $RULER_DATA
    options: {word_list: $DATA/words}" "  prefill_chunk_size: ${LOOM_RULER_CHUNK:-16384}"
fi

if has decode; then
  echo "--- decode-heavy job at $(left) s left"
  job decode "  - name: RULER
    tasks: [niah_single_1, niah_multikey_2, vt, fwe]
    lengths: [4K, 8K, 16K, 32K]
    num_samples: ${LOOM_DECODE_SAMPLES:-2}
    data_dir: $DATA
    options: {word_list: $DATA/words}" "  max_new_tokens: 384"
fi

if has parity; then
  echo "--- parity job (tiny-loom, trained) at $(left) s left"
  MODEL=$ROOT/models/tiny-loom JOB_DTYPE=bfloat16 JOB_MAX_CONTEXT=8192 LOOM_MAX_BATCH=${LOOM_PARITY_BATCH:-4} job parity "  - name: NIAH
    lengths: [1K, 2K, 4K, 8K]
    num_samples: 4
    data_dir: $ROOT/data/niah
  - name: RULER
    tasks: [niah_single_1, niah_single_2, niah_multikey_1]
    lengths: [1K, 2K, 4K, 8K]
    num_samples: 2
    data_dir: $DATA
    options: {word_list: $DATA/words}" "  max_new_tokens: 24"
fi

if has arch; then  # every architecture, small random weights, against transformers (bench/arch_parity.py)
  ARCH_DEVICE=${LOOM_ARCH_DEVICE:-cuda}
  ARCH_DTYPE=${LOOM_ARCH_DTYPE:-$([ "$ARCH_DEVICE" = cpu ] && echo float32 || echo bfloat16)}
  ARCH_LENGTHS=${LOOM_ARCH_LENGTHS:-1024,3072,8192}
  ARCH_DIR=${LOOM_ARCH_DIR:-/tmp/loom_arch}
  ARCH_NAMES=${LOOM_ARCH_MODELS:-}
  echo "--- arch ($ARCH_DEVICE, $ARCH_DTYPE, prompts $ARCH_LENGTHS) at $(left) s left"
  rm -f "$OUT/arch.jsonl"
  timeout $(( $(left) / 3 )) env LD_LIBRARY_PATH="$PY_LD" python3 "$ROOT/bench/arch_parity.py" make --out "$ARCH_DIR" \
    --lengths "$ARCH_LENGTHS" --device "$ARCH_DEVICE" --tokenizer "$ROOT/models/tiny-loom" --archs "$ARCH_NAMES" 2>&1 |
    grep '^{' | tee "$OUT/arch_make.txt"
  for model in "$ARCH_DIR"/*/; do
    name=$(basename "$model")
    [ -n "$ARCH_NAMES" ] && [[ ",$ARCH_NAMES," != *",$name,"* ]] && continue
    rm -f "$model"ours_*.bin "$model"generate_*.json
    # The prompt's logits (engine_parity: the engine's prefill in one chunk of the engine's default size) ...
    timeout $(( $(left) / 4 )) "$D/engine_parity" --model "$model" --ids "$ARCH_DIR/ids.int32" --lengths "$ARCH_LENGTHS" \
      --out "$model" --device "$ARCH_DEVICE" --dtype "$ARCH_DTYPE" --chunk 16384 > "$OUT/arch_${name}_logits.txt" 2>&1
    # ... and the greedy tokens through the whole engine (paged decode, CUDA graphs) with `loom_mpi generate`.
    for length in ${ARCH_LENGTHS//,/ }; do
      timeout $(( $(left) / 4 )) "$D/loom_mpi" generate --model "$model" --ids "$(cat "$ARCH_DIR/prompt_$length.csv")" \
        --max-new-tokens "${LOOM_ARCH_NEW_TOKENS:-16}" --device "$ARCH_DEVICE" --dtype "$ARCH_DTYPE" --json \
        > "$model/generate_$length.json" 2>> "$OUT/arch_${name}_generate.txt"
    done
    echo "$name: $(grep -c '"prefill"' "$OUT/arch_${name}_logits.txt") prompts prefilled, $(ls "$model"generate_*.json |
      xargs -r grep -l output_ids | wc -l) generated, at $(left) s left"
  done
  timeout $(( $(left) - 10 )) env LD_LIBRARY_PATH="$PY_LD" python3 "$ROOT/bench/arch_parity.py" compare --dir "$ARCH_DIR" \
    --lengths "$ARCH_LENGTHS" --device "$ARCH_DEVICE" --dtype "$ARCH_DTYPE" --archs "$ARCH_NAMES" --out "$OUT/arch.jsonl" \
    2>&1 | grep '^{' | cut -c1-400
fi

echo "--- summary at $(left) s left"
py "$ROOT/bench/summarize_engine_bench.py" "$OUT" | tee "$OUT/summary.txt"
