#!/usr/bin/env bash
# tools/fetch_data.py's checks, offline: bad usage exits 2; a missing published file, a record without the fields
# the loader reads and a file that is not JSON exit 1 and name the problem; a good source converts with a manifest.
#   fetch_data_test.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1 work=$2
python=/usr/bin/python3
fetch="$python $src/tools/fetch_data.py"
rm -rf "$work" && mkdir -p "$work"
expect() {  # expect CODE PATTERN command...
  local code=$1 pattern=$2; shift 2
  set +e; "$@" > "$work/out" 2>&1; local got=$?; set -e
  [ "$got" -eq "$code" ] || { echo "exit $got, expected $code: $*"; cat "$work/out"; exit 1; }
  grep -q -- "$pattern" "$work/out" || { echo "no '$pattern' in the output of: $*"; cat "$work/out"; exit 1; }
}
expect 2 "unknown name 'NoSuchBench'" $fetch NoSuchBench --source-dir "$work/src" --out "$work/out1"
expect 2 "name at least one" $fetch
expect 0 "LOOMBench" $fetch --list
mkdir -p "$work/src/ruler" "$work/src/InfiniteBench" "$work/src/LongBench_v2"
cp "$src/tests/fixtures/benchmarks/ruler/squad.json" "$work/src/ruler/"
expect 1 "hotpotqa.json is not among the downloaded files" $fetch ruler --source-dir "$work/src" --out "$work/out1"
echo '{"id": 1, "input": "q"}' > "$work/src/InfiniteBench/passkey.jsonl"
expect 1 "lacks context, answer" $fetch InfiniteBench --source-dir "$work/src" --out "$work/out1"
echo 'not json' > "$work/src/LongBench_v2/data.json"
expect 1 "not JSON" $fetch LongBench_v2 --source-dir "$work/src" --out "$work/out1"
cp "$src/tests/fixtures/benchmarks/ruler/hotpotqa.json" "$work/src/ruler/"
expect 0 "ruler: 2 files" $fetch ruler --source-dir "$work/src" --out "$work/out1"
$python -c "import json,sys; m=json.load(open(sys.argv[1])); assert len(m['files'])==2 and all(len(f['sha256'])==64 for f in m['files'])" \
  "$work/out1/ruler/MANIFEST.json"
mkdir -p "$work/src/Ada_LEval"
cp "$src"/tests/fixtures/benchmarks/ada_leval/*_1k.json "$work/src/Ada_LEval/"
expect 0 "Ada_LEval: 2 files" $fetch Ada_LEval --source-dir "$work/src" --out "$work/out1"
# LooGLE: data.zip holding <task>.json (JSON lines), as the HF dataset publishes it, plus a loose <task>.jsonl.
mkdir -p "$work/src/LooGLE"
$python - "$src/tests/fixtures/benchmarks/loogle" "$work/src/LooGLE" <<'PY'
import shutil, sys, zipfile
fixtures, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out + "/data.zip", "w") as z:
    for task in ("shortdep_qa", "longdep_qa", "longdep_summarization"):
        z.write(f"{fixtures}/{task}.jsonl", f"{task}.json")
shutil.copyfile(f"{fixtures}/shortdep_cloze.jsonl", out + "/shortdep_cloze.jsonl")
PY
expect 0 "LooGLE: 4 files" $fetch LooGLE --source-dir "$work/src" --out "$work/out1"
cmp "$work/out1/LooGLE/longdep_qa.jsonl" "$src/tests/fixtures/benchmarks/loogle/longdep_qa.jsonl"
# LongSafety: upstream's meta and docs files joined by id into longsafety.jsonl; mismatched ids are an error.
mkdir -p "$work/src/LongSafety"
$python - "$src/tests/fixtures/benchmarks/longsafety/longsafety.jsonl" "$work/src/LongSafety" <<'PY'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
with open(sys.argv[2] + "/longsafety_meta.jsonl", "w") as meta, open(sys.argv[2] + "/longsafety_docs.jsonl", "w") as docs:
    for r in records:
        meta.write(json.dumps({k: v for k, v in r.items() if k != "context"}) + "\n")
        docs.write(json.dumps({"id": r["id"], "context": r["context"]}) + "\n")
PY
expect 0 "LongSafety: 1 files" $fetch LongSafety --source-dir "$work/src" --out "$work/out1"
$python -c "import json,sys; a=[json.loads(l) for l in open(sys.argv[1])]; b=[json.loads(l) for l in open(sys.argv[2])]; assert a==b, (a, b)" \
  "$work/out1/LongSafety/longsafety.jsonl" "$src/tests/fixtures/benchmarks/longsafety/longsafety.jsonl"
sed -i '2s/"id": 1/"id": 7/' "$work/src/LongSafety/longsafety_docs.jsonl"
expect 1 "id 7, the meta file's line has 1" $fetch LongSafety --source-dir "$work/src" --out "$work/out2"
mkdir -p "$work/src/CLongEval"
cp -r "$src"/tests/fixtures/benchmarks/clongeval/[0-9]-* "$work/src/CLongEval/"
expect 0 "CLongEval: 7 files.*not published there: LStQA_M" $fetch CLongEval --source-dir "$work/src" --out "$work/out1"
[ -f "$work/out1/CLongEval/4-2_table_querying/small.jsonl" ] || { echo "CLongEval layout not kept"; exit 1; }
mkdir -p "$work/src/NoLiMa"
cp -r "$src"/tests/fixtures/benchmarks/nolima/needlesets "$src"/tests/fixtures/benchmarks/nolima/haystack "$work/src/NoLiMa/"
expect 0 "NoLiMa: 4 files.*not published there: needle_set_hard" $fetch NoLiMa --source-dir "$work/src" --out "$work/out1"
[ -f "$work/out1/NoLiMa/haystack/rand_shuffle/rand_book_2.txt" ] || { echo "NoLiMa layout not kept"; exit 1; }
mkdir -p "$work/src/BAMBOO" "$work/src/LongHealth"
cp "$src"/tests/fixtures/benchmarks/bamboo/*.jsonl "$work/src/BAMBOO/"
expect 0 "BAMBOO: 10 files" $fetch BAMBOO --source-dir "$work/src" --out "$work/out1"
cp "$src/tests/fixtures/benchmarks/longhealth/benchmark_v5.json" "$work/src/LongHealth/"
expect 0 "LongHealth: 1 files" $fetch LongHealth --source-dir "$work/src" --out "$work/out1"
# LongCite: upstream's one JSON array kept as it is; a record without its context is an error.
mkdir -p "$work/src/LongCite"
cp "$src/tests/fixtures/benchmarks/longcite/LongBench-Cite.json" "$work/src/LongCite/"
expect 0 "LongCite: 1 files" $fetch LongCite --source-dir "$work/src" --out "$work/out1"
cmp "$work/out1/LongCite/LongBench-Cite.json" "$src/tests/fixtures/benchmarks/longcite/LongBench-Cite.json"
echo '[{"idx": 0, "dataset": "hotpotqa", "query": "q", "answer": ["a"]}]' > "$work/src/LongCite/LongBench-Cite.json"
expect 1 "lacks context" $fetch LongCite --source-dir "$work/src" --out "$work/out2"
echo "fetch_data checks: ok"
