#!/usr/bin/env python3
"""Download each benchmark's published data files into the layout loom_mpi's loaders read, and check them.

    python3 tools/fetch_data.py LOOMBench               # every benchmark loombench.yaml reads, into data/
    python3 tools/fetch_data.py LOOM-all                # every benchmark loom-all.yaml reads that has published files
    python3 tools/fetch_data.py LongBench babilong --out /scratch/loom-data
    python3 tools/fetch_data.py --list                  # what each name fetches, from where

Contract: for each name, the published files (Hugging Face dataset repositories through `huggingface_hub`, plain
files through HTTPS) are downloaded into <out>/.fetch/<name>/ (kept, so a rerun only checks), then converted into
<out>/<folder>/ in the layout of docs/benchmarks.md#data-layout (the folder jobs/loombench.yaml names as data_dir),
then checked: every task of configs/benchmarks/<benchmark>.yaml that the publisher ships has its file, each file
parses as JSON / JSON lines with at least one record holding the fields the loader reads. A manifest
<out>/<folder>/MANIFEST.json lists each file with its size and sha256 and the source it came from.

`--source-dir DIR` converts and checks files already on disk (DIR/<name>/ laid out as the publisher's repository)
instead of downloading; the tests use it on small fixtures (tests/jobs/make_published_fixtures.py), so the
conversion is tested offline. Exit status: 0 all fetched and checked, 1 a download or a check failed, 2 bad usage.

Needs `pip install huggingface_hub` for the Hugging Face sources, and `pip install pyarrow` for LIBRA (parquet).
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import sys
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> folder under --out, benchmark YAML, what to download, and how to lay it out.
#   hf:   (repo_id, allow_patterns) of a Hugging Face dataset repository
#   urls: {file name: URL} of plain files
SOURCES = {
    "LongBench": {"folder": "LongBench", "config": "longbench", "hf": ("THUDM/LongBench", ["data.zip"]),
                  "convert": "unzip_jsonl", "fields": ["context", "input", "answers"]},
    "LongBench_v2": {"folder": "LongBench_v2", "config": "longbench_v2", "hf": ("THUDM/LongBench-v2", ["data.json"]),
                     "convert": "copy_as:data.json", "fields": ["context", "question", "answer"]},
    "LEval": {"folder": "LEval", "config": "leval", "hf": ("L4NLP/LEval", ["*.jsonl", "**/*.jsonl"]),
              "convert": "leval", "fields": ["input", "instructions", "outputs"]},
    "babilong": {"folder": "babilong", "config": "babilong", "hf": ("RMT-team/babilong", ["data/qa*/*.json"]),
                 "convert": "babilong", "fields": ["input", "question", "target"]},
    "LVEval": {"folder": "LVEval", "config": "lveval", "hf": ("Infinigence/LVEval", ["*.zip"]),
               "convert": "unzip_jsonl", "fields": ["context", "input", "answers"]},
    "InfiniteBench": {"folder": "InfiniteBench", "config": "infinitebench",
                      "hf": ("xinrongzhang2022/InfiniteBench", ["*.jsonl"]), "convert": "flat_jsonl",
                      "fields": ["context", "input", "answer"]},
    "L_CiteEval": {"folder": "L-CiteEval", "config": "lciteeval",
                   "hf": ("Jonaszky123/L-CiteEval", ["L-CiteEval-Data/*.json", "L-CiteEval-Length/*.json",
                                                     "L-CiteEval-Hardness/*.json"]),
                   "urls": {f"prompt/{t}_default.json":
                            f"https://raw.githubusercontent.com/ZetangForward/L-CITEEVAL/main/prompt/{t}_default.json"
                            for t in ["narrativeqa", "natural_questions", "hotpotqa", "2WikiMultihopQA", "gov_report",
                                      "multi_news", "qmsum", "locomo", "dialsim", "counting_stars", "niah"]},
                   "convert": "lciteeval", "fields": ["question", "docs"]},
    "LIBRA": {"folder": "LIBRA", "config": "libra", "hf": ("ai-forever/LIBRA", ["*/test-*.parquet", "*/*.jsonl"]),
              "urls": {"datasets_config.json":
                       "https://raw.githubusercontent.com/ai-forever/LIBRA/main/configs/datasets_config.json"},
              "convert": "libra", "fields": ["context", "input", "positive_outputs", "length"]},
    "ruler": {"folder": "ruler", "config": "ruler",
              "urls": {"squad.json": "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v2.0.json",
                       "hotpotqa.json": "http://curtis.ml.cmu.edu/datasets/hotpot/hotpot_dev_distractor_v1.json"},
              "convert": "ruler_qa", "fields": []},
    # Beyond LOOMBench. LooGLE: HF dataset bigainlco/LooGLE's data.zip (<task>.json, one document per line, as
    # LOOM-Scope's LooGLE.py unzips it) → <task>.jsonl in LooGLE's own layout (input, title, qa_pairs, output).
    "LooGLE": {"folder": "LooGLE", "config": "loogle", "hf": ("bigainlco/LooGLE", ["data.zip", "*.json", "*.jsonl"]),
               "convert": "loogle", "fields": ["input", "qa_pairs"]},
    # Ada-LEval: open-compass/Ada-LEval fetch_data.sh's files, as published (JSON arrays).
    # (LongIns is published only as a Google Drive zip, which a plain download cannot fetch: see docs/benchmarks.md.)
    "Ada_LEval": {"folder": "Ada_LEval", "config": "ada_leval",
                  "urls": {f"{t}_{k}.json": f"http://opencompass.openxlab.space/utils/AdaLEval/{t}_{k}.json"
                           for t, ks in (("stackselect", ["1k", "2k", "4k", "6k", "8k", "12k", "16k", "32k", "64k",
                                                          "128k"]),
                                         ("textsort", ["1k", "2k", "4k", "8k", "16k", "32k", "64k", "128k"]))
                           for k in ks},
                  "convert": "flat_json", "fields": ["answer"]},
    # LongSafety: thu-coai/LongSafety's data/longsafety_meta.jsonl and data/longsafety_docs.jsonl at the commit its
    # judge is reproduced from, joined as its gen_model_response.py load_data joins them (line by line, same id)
    # into longsafety.jsonl (LOOM-Scope's one-file layout: instruction, context, id and the meta fields).
    "LongSafety": {"folder": "LongSafety", "config": "longsafety",
                   "urls": {f"longsafety_{part}.jsonl": "https://raw.githubusercontent.com/thu-coai/LongSafety/"
                            f"130a6b739d43870e1010ec699ae4868da06d0a0e/data/longsafety_{part}.jsonl"
                            for part in ("meta", "docs")},
                   "convert": "longsafety", "fields": ["id", "instruction", "context", "safety_type", "task_type"]},
    # CLongEval: <N-N_task>/{small,medium,large}.jsonl kept as published (the loader's first layout).
    "CLongEval": {"folder": "CLongEval", "config": "clongeval",
                  "hf": ("zexuanqiu22/CLongEval", ["*/small.jsonl", "*/medium.jsonl", "*/large.jsonl"]),
                  "convert": "clongeval", "fields": ["id", "context", "answer"]},
    # NoLiMa: the needle sets and the five shuffled books, as published (Adobe Research Licence, non-commercial).
    "NoLiMa": {"folder": "NoLiMa", "config": "nolima",
               "hf": ("amodaresi/NoLiMa", ["needlesets/*.json", "haystack/rand_shuffle/*.txt", "haystack/*.md"]),
               "convert": "nolima", "fields": ["id", "needle", "questions", "tests"]},
    # BAMBOO: RUCAIBox/BAMBOO datasets/<task>_<4k|16k>.jsonl as published (private_eval is not run by loom_mpi).
    "BAMBOO": {"folder": "BAMBOO", "config": "bamboo",
               "urls": {f"{t}_{k}.jsonl":
                        f"https://raw.githubusercontent.com/RUCAIBox/BAMBOO/main/datasets/{t}_{k}.jsonl"
                        for t in ("altqa", "senhallu", "abshallu", "meetingpred", "showspred", "reportsumsort",
                                  "showssort", "meetingqa", "paperqa")
                        for k in ("4k", "16k")},
               "convert": "flat_jsonl", "fields": ["content", "answer"]},
    # LongHealth: kbressem/LongHealth data/benchmark_v5.json (the patients; loom_mpi builds the prompts).
    "LongHealth": {"folder": "LongHealth", "config": "longhealth",
                   "urls": {"benchmark_v5.json":
                            "https://raw.githubusercontent.com/kbressem/LongHealth/main/data/benchmark_v5.json"},
                   "convert": "copy_as:benchmark_v5.json", "fields": []},
    # LongCite (LongBench-Cite): THUDM/LongCite's LongBench-Cite/LongBench-Cite.json at the commit its prompts and
    # judge are reproduced from, kept as published (one JSON array, every dataset; the tasks select by `dataset`).
    "LongCite": {"folder": "LongCite", "config": "longcite",
                 "urls": {"LongBench-Cite.json": "https://raw.githubusercontent.com/THUDM/LongCite/"
                          "d7d772e39fb15357749f54a2fe1e2dce77df5255/LongBench-Cite/LongBench-Cite.json"},
                 "convert": "copy_as:LongBench-Cite.json", "fields": ["idx", "dataset", "query", "context", "answer"]},
}
# CLongEval task -> folder of the HF dataset; size suffix -> file.
CLONGEVAL_FOLDERS = {"LStQA": "1-1_long_story_qa", "LCvMem": "1-2_long_conversation_memory",
                     "LStSum": "2-1_long_story_summarization", "StNLab": "3-1_stacked_news_labeling",
                     "StTDet": "3-2_stacked_typo_detection", "KpRet": "4-1_key_passage_retrieval",
                     "TblQry": "4-2_table_querying"}
CLONGEVAL_SIZES = {"S": "small", "M": "medium", "L": "large"}
GROUPS = {"LOOMBench": ["L_CiteEval", "LEval", "ruler", "LongBench", "babilong", "LVEval", "LongBench_v2",
                        "InfiniteBench", "LIBRA"],
          # jobs/loom-all.yaml: LOOMBench's plus every other benchmark with published files. (LongIns is published only
          # as a Google Drive zip; NIAH, Counting_Stars, LongWriter and RULER's essays ship in data/; NThread generates.)
          "LOOM-all": ["L_CiteEval", "LEval", "ruler", "LongBench", "babilong", "LVEval", "LongBench_v2",
                       "InfiniteBench", "LIBRA", "LooGLE", "Ada_LEval", "CLongEval", "NoLiMa", "BAMBOO",
                       "LongHealth", "LongSafety", "LongCite"]}


class FetchError(Exception):
    pass


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def config_tasks(config):
    """Task names of configs/benchmarks/<config>.yaml (a plain scan of the `tasks:` block; no YAML library)."""
    tasks, inside = [], False
    with open(os.path.join(ROOT, "configs", "benchmarks", config + ".yaml"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("tasks:"):
                inside = True
                continue
            if inside:
                if line.strip() and not line.startswith(" "):
                    break
                if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
                    tasks.append(line.strip()[:-1])
    return tasks


# ----------------------------------------------------------------------------------------------- downloading
def download(name, spec, raw_dir):
    os.makedirs(raw_dir, exist_ok=True)
    if "hf" in spec:
        try:
            from huggingface_hub import snapshot_download
        except ImportError as e:
            raise FetchError("`pip install huggingface_hub` (needed to download from the Hugging Face Hub)") from e
        repo, patterns = spec["hf"]
        print(f"  {name}: Hugging Face dataset {repo} {patterns}", flush=True)
        snapshot_download(repo_id=repo, repo_type="dataset", allow_patterns=patterns, local_dir=raw_dir)
    for rel, url in spec.get("urls", {}).items():
        dest = os.path.join(raw_dir, rel)
        if os.path.exists(dest):
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        print(f"  {name}: {url}", flush=True)
        try:
            with urllib.request.urlopen(url, timeout=120) as r, open(dest + ".part", "wb") as out:
                shutil.copyfileobj(r, out)
        except OSError as e:
            raise FetchError(f"{url}: {e}") from e
        os.replace(dest + ".part", dest)


# ----------------------------------------------------------------------------------------------- converting
def files_named(raw_dir, pattern):
    return sorted(glob.glob(os.path.join(raw_dir, "**", pattern), recursive=True))


def put(src, dest):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def convert(spec, raw_dir, out_dir):
    """Lays the downloaded files out as the loader reads them; returns the written paths."""
    how = spec["convert"]
    written = []
    if how == "unzip_jsonl":  # LongBench data.zip → <task>.jsonl; LVEval <task>.zip → <task>_<len>.jsonl
        for archive in files_named(raw_dir, "*.zip"):
            with zipfile.ZipFile(archive) as z:
                for member in z.namelist():
                    if member.endswith(".jsonl") and not os.path.basename(member).startswith("."):
                        dest = os.path.join(out_dir, os.path.basename(member))
                        with z.open(member) as src, open(dest, "wb") as out:
                            shutil.copyfileobj(src, out)
                        written.append(dest)
        for path in files_named(raw_dir, "*.jsonl"):  # already unpacked copies
            written.append(put(path, os.path.join(out_dir, os.path.basename(path))))
    elif how.startswith("copy_as:"):
        target = how.split(":", 1)[1]
        found = files_named(raw_dir, target)
        if not found:
            raise FetchError(f"{target} is not among the downloaded files")
        written.append(put(found[0], os.path.join(out_dir, target)))
    elif how == "flat_jsonl":
        for path in files_named(raw_dir, "*.jsonl"):
            written.append(put(path, os.path.join(out_dir, os.path.basename(path))))
    elif how == "flat_json":  # <task>_<len>.json kept as published (Ada-LEval)
        for path in files_named(raw_dir, "*.json"):
            written.append(put(path, os.path.join(out_dir, os.path.basename(path))))
    elif how == "leval":  # any layout of <task>.jsonl files → <task>.jsonl (the loader's flat layout)
        for path in files_named(raw_dir, "*.jsonl"):
            written.append(put(path, os.path.join(out_dir, os.path.basename(path))))
    elif how == "babilong":  # data/qa<N>/<len>.json kept as published
        for path in files_named(raw_dir, "*.json"):
            rel = os.path.relpath(path, raw_dir)
            if rel.startswith("data" + os.sep):
                written.append(put(path, os.path.join(out_dir, rel)))
    elif how == "lciteeval":
        for path in files_named(raw_dir, "*.json"):
            rel = os.path.relpath(path, raw_dir)
            if rel.split(os.sep)[0] in ("L-CiteEval-Data", "L-CiteEval-Length", "L-CiteEval-Hardness", "prompt"):
                written.append(put(path, os.path.join(out_dir, rel)))
    elif how == "libra":  # <config>/test-*.parquet (or .jsonl) → <config>.jsonl; datasets_config.json as is
        for path in files_named(raw_dir, "datasets_config.json"):
            written.append(put(path, os.path.join(out_dir, "datasets_config.json")))
        for path in sorted(files_named(raw_dir, "test-*.parquet") + files_named(raw_dir, "test*.jsonl")):
            task = os.path.basename(os.path.dirname(path))
            dest = os.path.join(out_dir, task + ".jsonl")
            if path.endswith(".jsonl"):
                written.append(put(path, dest))
                continue
            try:
                import pyarrow.parquet as pq
            except ImportError as e:
                raise FetchError("`pip install pyarrow` (LIBRA is published as parquet)") from e
            rows = pq.read_table(path).to_pylist()
            with open(dest, "w", encoding="utf-8") as out:
                for row in rows:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
            written.append(dest)
    elif how == "loogle":  # <task>.json / <task>.jsonl (inside data.zip or not) → <task>.jsonl, one record a line
        tasks = set(config_tasks(spec["config"]))
        found = {}
        for archive in files_named(raw_dir, "*.zip"):
            with zipfile.ZipFile(archive) as z:
                for member in z.namelist():
                    stem, ext = os.path.splitext(os.path.basename(member))
                    if stem in tasks and ext in (".json", ".jsonl"):
                        found[stem] = z.read(member).decode("utf-8")
        for path in files_named(raw_dir, "*.json") + files_named(raw_dir, "*.jsonl"):
            stem, _ = os.path.splitext(os.path.basename(path))
            if stem in tasks and stem not in found:
                with open(path, encoding="utf-8") as f:
                    found[stem] = f.read()
        for task, text in sorted(found.items()):
            try:
                doc = json.loads(text)
                records = doc if isinstance(doc, list) else [doc]
            except json.JSONDecodeError:  # JSON lines
                records = [json.loads(line) for line in text.splitlines() if line.strip()]
            dest = os.path.join(out_dir, task + ".jsonl")
            with open(dest, "w", encoding="utf-8") as out:
                for record in records:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            written.append(dest)
    elif how == "longsafety":  # meta + docs, zipped by line with equal ids → longsafety.jsonl
        paths = {}
        for part in ("meta", "docs"):
            found = files_named(raw_dir, f"longsafety_{part}.jsonl")
            if not found:
                raise FetchError(f"longsafety_{part}.jsonl is not among the downloaded files")
            paths[part] = found[0]
        meta, docs = read_records(paths["meta"]), read_records(paths["docs"])
        if len(meta) != len(docs):
            raise FetchError(f"{paths['meta']} has {len(meta)} records, {paths['docs']} {len(docs)}")
        dest = os.path.join(out_dir, "longsafety.jsonl")
        with open(dest, "w", encoding="utf-8") as out:
            for number, (m, d) in enumerate(zip(meta, docs), 1):
                if m.get("id") != d.get("id"):
                    raise FetchError(f"{paths['docs']}:{number}: id {d.get('id')!r}, the meta file's line has "
                                     f"{m.get('id')!r} (the two files are joined line by line)")
                out.write(json.dumps({**m, **d}, ensure_ascii=False) + "\n")
        written.append(dest)
    elif how == "clongeval":  # <N-N_task>/<size>.jsonl as published
        for path in files_named(raw_dir, "*.jsonl"):
            rel = os.path.relpath(path, raw_dir)
            if rel.split(os.sep)[0] in CLONGEVAL_FOLDERS.values():
                written.append(put(path, os.path.join(out_dir, rel)))
    elif how == "nolima":  # needlesets/*.json, haystack/rand_shuffle/*.txt (+ the haystack licences) as published
        for path in files_named(raw_dir, "*"):
            rel = os.path.relpath(path, raw_dir)
            if os.path.isfile(path) and (rel.startswith("needlesets" + os.sep) and rel.endswith(".json") or
                                         rel.startswith(os.path.join("haystack", "rand_shuffle") + os.sep)
                                         and rel.endswith(".txt") or rel == os.path.join("haystack", "LICENSES.md")):
                written.append(put(path, os.path.join(out_dir, rel)))
    elif how == "ruler_qa":  # SQuAD v2 dev → squad.json, HotpotQA dev distractor → hotpotqa.json
        for name in ("squad.json", "hotpotqa.json"):
            found = files_named(raw_dir, name)
            if not found:
                raise FetchError(f"{name} is not among the downloaded files")
            written.append(put(found[0], os.path.join(out_dir, name)))
    else:
        raise FetchError(f"unknown conversion {how}")
    return sorted(set(written))


# ----------------------------------------------------------------------------------------------- checking
def read_records(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith(".jsonl"):
            rows = []
            for number, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise FetchError(f"{path}:{number}: not JSON ({e})") from e
            return rows
        try:
            doc = json.load(f)
        except json.JSONDecodeError as e:
            raise FetchError(f"{path}: not JSON ({e})") from e
    return doc if isinstance(doc, list) else doc.get("data", [doc]) if isinstance(doc, dict) else []


def check(name, spec, out_dir, written):
    problems = []
    record_files = [p for p in written if os.path.basename(p) not in ("datasets_config.json", "MANIFEST.json")
                    and os.sep + "prompt" + os.sep not in p and p.endswith((".json", ".jsonl"))]
    if not record_files:
        raise FetchError(f"{name}: no data file was produced in {out_dir}")
    for path in record_files:
        records = read_records(path)
        if not records:
            problems.append(f"{path}: no records")
            continue
        first = records[0]
        if name == "ruler":
            continue
        missing = [f for f in spec["fields"] if isinstance(first, dict) and f not in first]
        if missing:
            problems.append(f"{path}: the first record lacks {', '.join(missing)}")
    basenames = {os.path.splitext(os.path.basename(p))[0] for p in written}
    absent = [t for t in config_tasks(spec["config"])
              if not any(b == t or b.startswith(t + "_") for b in basenames)]
    if name in ("LongBench_v2", "ruler", "babilong", "LongHealth", "LongSafety", "LongCite"):
        absent = []  # one file for all tasks / files named by length
    if name == "CLongEval":  # <task>_<size> -> <folder>/<size>.jsonl
        present = {os.path.relpath(p, out_dir) for p in written}
        absent = [t for t in config_tasks(spec["config"]) if os.path.join(
            CLONGEVAL_FOLDERS[t.rsplit("_", 1)[0]], CLONGEVAL_SIZES[t.rsplit("_", 1)[1]] + ".jsonl") not in present]
    if name == "NoLiMa":  # tasks = needle sets; the haystack books are needed too
        absent = [t for t in config_tasks(spec["config"])
                  if os.path.join(out_dir, "needlesets", t + ".json") not in written]
        if not any(p.endswith(".txt") for p in written):
            problems.append("no haystack book (haystack/rand_shuffle/*.txt) was produced")
    if problems:
        raise FetchError(f"{name}: " + "; ".join(problems))
    return absent


def write_manifest(name, spec, out_dir, written):
    entries = [{"file": os.path.relpath(p, out_dir), "bytes": os.path.getsize(p), "sha256": sha256(p)}
               for p in written]
    source = {"hf": spec["hf"][0]} if "hf" in spec else {}
    if "urls" in spec:
        source["urls"] = sorted(set(spec["urls"].values()))
    with open(os.path.join(out_dir, "MANIFEST.json"), "w", encoding="utf-8") as f:
        json.dump({"name": name, "source": source, "files": entries}, f, indent=1)


def fetch_one(name, out, source_dir):
    spec = SOURCES[name]
    out_dir = os.path.join(out, spec["folder"])
    if source_dir:
        raw_dir = os.path.join(source_dir, name)
        if not os.path.isdir(raw_dir):
            raise FetchError(f"{raw_dir} does not exist (--source-dir holds one folder per name)")
    else:
        raw_dir = os.path.join(out, ".fetch", name)
        download(name, spec, raw_dir)
    os.makedirs(out_dir, exist_ok=True)
    written = convert(spec, raw_dir, out_dir)
    absent = check(name, spec, out_dir, written)
    write_manifest(name, spec, out_dir, written)
    note = f"; not published there: {', '.join(absent)}" if absent else ""
    print(f"{name}: {len(written)} files in {out_dir}{note}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="benchmarks (" + ", ".join(SOURCES) + ") or a group: " + ", ".join(GROUPS))
    ap.add_argument("--out", default=os.path.join(ROOT, "data"), help="data root (default: the repository's data/)")
    ap.add_argument("--source-dir", help="convert and check local copies (DIR/<name>/) instead of downloading")
    ap.add_argument("--list", action="store_true", help="print what each name fetches and exit")
    a = ap.parse_args()
    if a.list:
        for name, spec in SOURCES.items():
            where = [f"HF {spec['hf'][0]} {spec['hf'][1]}"] if "hf" in spec else []
            where += sorted(set(spec.get("urls", {}).values()))[:2]
            print(f"{name:14} -> <out>/{spec['folder']}/  from {'; '.join(where)}")
        for group, members in GROUPS.items():
            print(f"{group:14} -> all of: " + ", ".join(members))
        return 0
    if not a.names:
        ap.print_usage(sys.stderr)
        print("fetch_data.py: error: name at least one benchmark (or a group: LOOMBench, LOOM-all; or --list)", file=sys.stderr)
        return 2
    names = []
    for n in a.names:
        expanded = GROUPS.get(n, [n])
        for e in expanded:
            if e not in SOURCES:
                print(f"fetch_data.py: error: unknown name {e!r}; expected one of {', '.join(list(SOURCES) + list(GROUPS))}",
                      file=sys.stderr)
                return 2
            names.append(e)
    failed = []
    for name in names:
        try:
            fetch_one(name, a.out, a.source_dir)
        except FetchError as e:
            print(f"fetch_data.py: {name}: {e}", file=sys.stderr)
            failed.append(name)
    if failed:
        print(f"fetch_data.py: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
