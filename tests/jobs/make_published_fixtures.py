#!/usr/bin/env python3
"""Writes tiny stand-ins of each benchmark's published files, laid out as their publishers lay them out, for the
offline test of tools/fetch_data.py (--source-dir) and the trimmed runs of the shipped jobs.

    python3 tests/jobs/make_published_fixtures.py OUT

Contract: OUT/<name>/ for every name of tools/fetch_data.py (LongBench data.zip with data/<task>.jsonl, LVEval
<task>.zip with <task>/<task>_<len>.jsonl, LongBench-v2 data.json, LEval LEval/{Exam,Generation}/<task>.jsonl,
babilong data/qa<N>/<len>.json, InfiniteBench <task>.jsonl, L-CiteEval L-CiteEval-Data/<task>.json and
prompt/<task>_default.json, LIBRA <task>/test.jsonl and datasets_config.json, ruler squad.json and hotpotqa.json)
with two short records per file, holding every field the task's template names (read from
configs/benchmarks/<benchmark>.yaml) plus the fields the loader and scorer read. The texts are made up: these files
test formats and plumbing, never scores.

Beyond LOOMBench (the LOOM-all group of tools/fetch_data.py, and LongIns, which is not downloadable): the benchmarks'
own test fixtures under tests/fixtures/benchmarks/<name>/ in their published layouts, copied under every file name the
publisher uses (each task and length of configs/benchmarks/<benchmark>.yaml; a missing one gets a copy of the task's
first file), so a job naming every task and length finds its files: LooGLE data.zip, Ada_LEval <task>_<k>.json,
CLongEval <N-N_task>/<size>.jsonl, NoLiMa needlesets/<set>.json + haystack/rand_shuffle/*.txt, BAMBOO
<task>_<len>.jsonl, LongHealth benchmark_v5.json, LongSafety longsafety_{meta,docs}.jsonl, LongCite LongBench-Cite.json, and OUT/LongIns/<GIST|LIST>/<length>.json (copied into the data root
as it is, since fetch_data.py cannot fetch LongIns).
"""
import json
import os
import random
import re
import shutil
import sys
import zipfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
TEXT = ("The museum opened in 1901. Its first curator was Ada Lang, who collected clocks. The clock tower has "
        "four faces. Visitors climb 212 steps to reach the bells. ")


def config(name):
    with open(os.path.join(ROOT, "configs", "benchmarks", name + ".yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def template_fields(cfg, task):
    text = (cfg["tasks"].get(task) or {}).get("template") or (cfg.get("defaults") or {}).get("template") or ""
    return set(FIELD.findall(text))


def record(fields, i, extra=None):
    rec = {f: f"{TEXT}Item {i}: {f}." for f in fields}
    rec.update(extra or {})
    return rec


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_json(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)


def longbench(out):
    cfg = config("longbench")
    d = os.path.join(out, "LongBench")
    os.makedirs(d, exist_ok=True)
    with zipfile.ZipFile(os.path.join(d, "data.zip"), "w") as z:
        for task in cfg["tasks"]:
            rows = [record(template_fields(cfg, task) | {"context", "input"}, i,
                           {"answers": ["Ada Lang"], "length": 40, "dataset": task, "language": "en",
                            "all_classes": ["Location", "Person"], "_id": f"{task}-{i}"}) for i in range(2)]
            z.writestr(f"data/{task}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))


def longbench_v2(out):
    rows = [{"_id": f"v2-{i}", "domain": "Single-Document QA", "sub_domain": "Academic", "difficulty": "easy",
             "length": "short", "question": "Who was the first curator?", "choice_A": "Ada Lang", "choice_B": "Bo",
             "choice_C": "Cy", "choice_D": "Di", "answer": "A", "context": TEXT * 3} for i in range(2)]
    write_json(os.path.join(out, "LongBench_v2", "data.json"), rows)


def leval(out):
    cfg = config("leval")
    for task, spec in cfg["tasks"].items():
        closed = bool((spec or {}).get("closed_ended"))
        metric = (spec or {}).get("metric", "leval_exam")
        evaluation = "exam" if closed else ("f1" if metric == "leval_f1" else "rouge")
        sub = "Exam" if closed else "Generation"
        rows = [{"input": TEXT * 3, "instructions": ["Who was the first curator?", "How many steps?"],
                 "outputs": ["Ada Lang", "212"], "source": "fixture", "evaluation": evaluation} for _ in range(2)]
        write_jsonl(os.path.join(out, "LEval", "LEval", sub, task + ".jsonl"), rows)


def babilong(out):
    cfg = config("babilong")
    lengths = ["0k", "1k", "2k", "4k", "8k", "16k", "32k", "64k", "128k"]
    for task in cfg["tasks"]:
        for length in lengths:
            rows = [{"input": "Mary moved to the bathroom. " + TEXT, "question": "Where is Mary?",
                     "target": "bathroom"} for _ in range(2)]
            write_json(os.path.join(out, "babilong", "data", task, length + ".json"), rows)


def lveval(out):
    cfg = config("lveval")
    d = os.path.join(out, "LVEval")
    os.makedirs(d, exist_ok=True)
    for task in cfg["tasks"]:
        with zipfile.ZipFile(os.path.join(d, task + ".zip"), "w") as z:
            for length in ["16k", "32k", "64k", "128k", "256k"]:
                rows = [record(template_fields(cfg, task) | {"context", "input"}, i,
                               {"answers": ["Ada Lang"], "length": 40, "dataset": task, "language": "en",
                                "answer_keywords": "Ada Lang", "confusing_facts": [], "all_classes": None})
                        for i in range(2)]
                z.writestr(f"{task}/{task}_{length}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))


def infinitebench(out):
    cfg = config("infinitebench")
    for task in cfg["tasks"]:
        rows = []
        for i in range(2):
            rec = record(template_fields(cfg, task) - {"func", "func_call", "prefix"} | {"context"}, i)
            rec.update({"id": i, "input": "The largest number of the list. What does func_1(3) return?",
                        "answer": ["A"] if "choice" in task or "debug" in task else ["42"],
                        "options": ["A", "B", "C", "D"]})
            rows.append(rec)
        write_jsonl(os.path.join(out, "InfiniteBench", task + ".jsonl"), rows)


def lciteeval(out):
    cfg = config("lciteeval")
    prompt = {"instruction": "Answer the question using the passages and cite them.", "demo_sep": "\n\n\n",
              "demo_prompt": "{D}\n\n{INST}\n\nQuestion: {Q}\nAnswer: {A}", "doc_prompt": "Passage [{ID}]: {P}\n",
              "demo_role": "Ada",
              "demos": [{"question": "Demo question?", "answer": "Demo answer [1].", "role": "Ada",
                         "docs": [{"title": "T", "text": "T\nDemo passage."}, {"title": "U", "text": "Other."}]}]}
    for task, spec in cfg["tasks"].items():
        prompt_file = (spec or {}).get("prompt_file", task + "_default.json")
        rows = [{"id": i, "question": "Who was the first curator?", "answer": ["Ada Lang"], "role": "Ada",
                 "docs": [TEXT, "An unrelated passage."], "length": 40} for i in range(2)]
        for subset in ("L-CiteEval-Data",):
            write_json(os.path.join(out, "L_CiteEval", subset, task + ".json"), rows)
        write_json(os.path.join(out, "L_CiteEval", "prompt", prompt_file), prompt)


def libra(out):
    cfg = config("libra")
    configs = {}
    for task in cfg["tasks"]:
        configs[task] = {"max_new_tokens": "16", "metric": "em", "instruction": "Прочитай текст.\n{context}\n"
                         "Вопрос: {input}\nОтвет:"}
        rows = [{"length": length, "context": "Текст музея. Первый хранитель Ада Ланг.", "input": "Кто хранитель?",
                 "positive_outputs": ["Ада Ланг"], "negative_outputs": None, "metadata": {"id": i}}
                for i, length in enumerate(["4k", "8k", "16k", "32k", "64k", "128k"] * 2)]
        write_jsonl(os.path.join(out, "LIBRA", task, "test.jsonl"), rows)
    write_json(os.path.join(out, "LIBRA", "datasets_config.json"), configs)


def ruler(out):
    src = os.path.join(ROOT, "tests", "fixtures", "benchmarks", "ruler")
    os.makedirs(os.path.join(out, "ruler"), exist_ok=True)
    for name in ("squad.json", "hotpotqa.json"):
        shutil.copyfile(os.path.join(src, name), os.path.join(out, "ruler", name))


FIXTURES = os.path.join(ROOT, "tests", "fixtures", "benchmarks")


def copy_as(src, dest):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copyfile(src, dest)


def loogle(out):
    src, dest = os.path.join(FIXTURES, "loogle"), os.path.join(out, "LooGLE")
    os.makedirs(dest, exist_ok=True)
    with zipfile.ZipFile(os.path.join(dest, "data.zip"), "w") as z:
        for task in config("loogle")["tasks"]:
            z.write(os.path.join(src, task + ".jsonl"), task + ".json")


def ada_leval(out):
    ks = {"stackselect": ["1k", "2k", "4k", "6k", "8k", "12k", "16k", "32k", "64k", "128k"],
          "textsort": ["1k", "2k", "4k", "8k", "16k", "32k", "64k", "128k"]}
    for task, names in ks.items():
        for k in names:
            copy_as(os.path.join(FIXTURES, "ada_leval", task + "_1k.json"), os.path.join(out, "Ada_LEval", f"{task}_{k}.json"))


def clongeval(out):
    src = os.path.join(FIXTURES, "clongeval")
    for folder in sorted(os.listdir(src)):
        if os.path.isdir(os.path.join(src, folder)):
            for size in ("small", "medium", "large"):
                copy_as(os.path.join(src, folder, "small.jsonl"), os.path.join(out, "CLongEval", folder, size + ".jsonl"))


def nolima(out):
    src, dest = os.path.join(FIXTURES, "nolima"), os.path.join(out, "NoLiMa")
    for book in sorted(os.listdir(os.path.join(src, "haystack", "rand_shuffle"))):
        # The book, then lines of its words in a seeded random order, to outlast NoLiMa's longest length (32000
        # tokens; the generator refuses a shorter book) without repeating a passage (distractor spots must be unique).
        with open(os.path.join(src, "haystack", "rand_shuffle", book), encoding="utf-8") as f:
            text = f.read()
        words, rng, lines = text.split(), random.Random(book), [text]
        while sum(len(line) for line in lines) < 200000:
            lines.append(" ".join(rng.choice(words) for _ in range(14)) + ".")
        os.makedirs(os.path.join(dest, "haystack", "rand_shuffle"), exist_ok=True)
        with open(os.path.join(dest, "haystack", "rand_shuffle", book), "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    for task in config("nolima")["tasks"]:
        own = os.path.join(src, "needlesets", task + ".json")
        copy_as(own if os.path.exists(own) else os.path.join(src, "needlesets", "needle_set.json"),
                os.path.join(dest, "needlesets", task + ".json"))


def bamboo(out):
    src = os.path.join(FIXTURES, "bamboo")
    for task in config("bamboo")["tasks"]:
        for length in ("4k", "16k"):
            own = os.path.join(src, f"{task}_{length}.jsonl")
            copy_as(own if os.path.exists(own) else os.path.join(src, f"{task}_4k.jsonl"),
                    os.path.join(out, "BAMBOO", f"{task}_{length}.jsonl"))


def longhealth(out):
    copy_as(os.path.join(FIXTURES, "longhealth", "benchmark_v5.json"), os.path.join(out, "LongHealth", "benchmark_v5.json"))


def longsafety(out):
    dest = os.path.join(out, "LongSafety")
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(FIXTURES, "longsafety", "longsafety.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    write_jsonl(os.path.join(dest, "longsafety_meta.jsonl"), [{k: v for k, v in r.items() if k != "context"}
                                                              for r in records])
    write_jsonl(os.path.join(dest, "longsafety_docs.jsonl"), [{"id": r["id"], "context": r["context"]} for r in records])


def longcite(out):
    copy_as(os.path.join(FIXTURES, "longcite", "LongBench-Cite.json"), os.path.join(out, "LongCite", "LongBench-Cite.json"))


def longins(out):
    for task in ("GIST", "LIST"):
        for length in config("longins")["lengths"]:
            copy_as(os.path.join(FIXTURES, "longins", task, "256.json"), os.path.join(out, "LongIns", task, f"{length}.json"))


def main():
    if len(sys.argv) != 2:
        print("usage: make_published_fixtures.py OUT", file=sys.stderr)
        return 2
    out = sys.argv[1]
    for make in (longbench, longbench_v2, leval, babilong, lveval, infinitebench, lciteeval, libra, ruler, loogle,
                 ada_leval, clongeval, nolima, bamboo, longhealth, longsafety, longcite, longins):
        make(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
