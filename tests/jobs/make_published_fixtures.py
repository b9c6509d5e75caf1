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
"""
import json
import os
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


def main():
    if len(sys.argv) != 2:
        print("usage: make_published_fixtures.py OUT", file=sys.stderr)
        return 2
    out = sys.argv[1]
    for make in (longbench, longbench_v2, leval, babilong, lveval, infinitebench, lciteeval, libra, ruler):
        make(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
