#!/usr/bin/env bash
# A method preset added through LOOM_CONFIG_DIR (a copy of configs/ plus acceleration/my_streaming.yaml) works end to
# end: validate lists it, run stores its rows with 0 failures under its label.
#   preset_run_test.sh LOOM_MPI SOURCE_DIR WORK_DIR
set -euo pipefail
loom_mpi=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
cp -r "$src/configs" "$work/configs"
cat > "$work/configs/acceleration/my_streaming.yaml" <<'YAML'
name: my_streaming
method: streaming_llm
params: {compression_ratio: 0.75, n_sink: 8}
YAML
cat > "$work/job.yaml" <<YAML
name: preset-run
model: {path: $src/models/tiny-loom, device: cpu}
benchmarks:
  - {name: NIAH, lengths: [1K], num_samples: 1, data_dir: $src/data/niah}
acceleration: [full, my_streaming]
generation: {max_new_tokens: 8}
YAML
export LOOM_CONFIG_DIR="$work/configs"
"$loom_mpi" validate "$work/job.yaml" > "$work/plan.txt" 2>&1 || { cat "$work/plan.txt"; exit 1; }
grep -q "^methods: full, my_streaming$" "$work/plan.txt" || { cat "$work/plan.txt"; exit 1; }
planned=$(sed -n 's/^\([0-9]*\) rows (.*/\1/p' "$work/plan.txt")
"$loom_mpi" run "$work/job.yaml" --output "$work/out.h5" --log-level warn > "$work/run.log" 2>&1 ||
  { tail -30 "$work/run.log"; exit 1; }
/usr/bin/python3 - "$work/out.json" "$planned" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))
print(f"{summary['rows']} of {sys.argv[2]} rows, {summary['failed']} failed")
if summary["failed"] != 0 or summary["rows"] != int(sys.argv[2]):
    sys.exit("preset rows failed or missing")
if "my_streaming" not in json.dumps(summary):
    sys.exit("no my_streaming results in the summary")
PY
echo "preset my_streaming ran"
