#!/usr/bin/env bash
# Every job in jobs/ is valid and runs end to end, trimmed, on the embedded tiny model with 0 failed rows.
#   shipped_jobs_test.sh LOOM_MPI SOURCE_DIR WORK_DIR [JOB_NAME...]
# The real benchmarks' data come from tools/fetch_data.py LOOM-all --source-dir over tiny stand-ins of the published files
# (tests/jobs/make_published_fixtures.py), so the conversion the fetch command does is exercised too; the synthetic
# benchmarks and LongWriter read the repository's data/. Each job runs with
#   --model models/tiny-loom --limit 1 --data-root <converted data> --set model.device=cpu
#   --set model.max_context=1024 --set generation.max_new_tokens=8
# (trimmed: one sample per task and length, short prompts and answers), first `validate`, then `run`; the run's
# JSON summary must count 0 failed rows and every row of the plan.
set -euo pipefail
loom_mpi=$1 src=$2 work=$3
shift 3
python=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
"$python" "$src/tests/jobs/make_published_fixtures.py" "$work/published"
"$python" "$src/tools/fetch_data.py" LOOM-all --source-dir "$work/published" --out "$work/data" > "$work/fetch.log"
cp -r "$work/published/LongIns" "$work/data/"  # not downloadable: the job reads it as a user unpacks it
jobs=("$@")
if [ ${#jobs[@]} -eq 0 ]; then
  for f in "$src"/jobs/*.yaml; do jobs+=("$(basename "$f" .yaml)"); done
fi
flags=(--model "$src/models/tiny-loom" --limit 1 --data-root "$work/data" --set model.device=cpu
       --set model.max_context=1024 --set generation.max_new_tokens=8)
for job in "${jobs[@]}"; do
  file="$src/jobs/$job.yaml"
  echo "== $job"
  "$loom_mpi" validate "$file" "${flags[@]}" > "$work/$job.plan" 2>&1 || { cat "$work/$job.plan"; exit 1; }
  grep -q "^job is valid" "$work/$job.plan" || { cat "$work/$job.plan"; exit 1; }
  planned=$(sed -n 's/^\([0-9]*\) rows (.*/\1/p' "$work/$job.plan")
  start=$(date +%s)
  "$loom_mpi" run "$file" "${flags[@]}" --output "$work/$job.h5" --log-level warn > "$work/$job.log" 2>&1 ||
    { tail -50 "$work/$job.log"; exit 1; }
  "$python" - "$work/$job.json" "$planned" "$job" "$(( $(date +%s) - start ))" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))
planned, job, seconds = int(sys.argv[2]), sys.argv[3], sys.argv[4]
print(f"{job}: {summary['rows']} of {planned} planned rows stored, {summary['failed']} failed, {seconds} s")
if summary["failed"] != 0:
    sys.exit(f"{job}: {summary['failed']} failed rows")
if summary["rows"] != planned:
    sys.exit(f"{job}: {summary['rows']} rows stored, {planned} planned")
PY
done
# The README's h5py snippet, as printed, on the quickstart's results, with a python3 that lacks h5py first on PATH.
if [ -f "$work/quickstart.h5" ]; then
  mkdir -p "$work/fake-bin" && printf '#!/bin/sh\necho "not Debian python" >&2; exit 1\n' > "$work/fake-bin/python3"
  chmod +x "$work/fake-bin/python3"
  sed -n '/^\/usr\/bin\/python3 - results\/quickstart.h5/,/^EOF$/p' "$src/README.md" |
    sed "s|results/quickstart.h5|$work/quickstart.h5|" > "$work/readme_snippet.sh"
  [ -s "$work/readme_snippet.sh" ] || { echo "README snippet not found"; exit 1; }
  PATH="$work/fake-bin:$PATH" bash "$work/readme_snippet.sh" > "$work/readme_snippet.out"
  grep -q "quickstart\|NIAH" "$work/readme_snippet.out" || { cat "$work/readme_snippet.out"; exit 1; }
  echo "README h5py snippet: ok"
fi
echo "all jobs valid and run with 0 failed rows"
