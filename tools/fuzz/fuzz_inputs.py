#!/usr/bin/env python3
"""Structure-aware fuzzing of loom_mpi's inputs (issue 14, docs/trust-inputs.md).

Valid seeds from the repository (a tiny job, models/tiny-loom's config.json, tokenizer.json and safetensors header,
benchmark data fixtures) are mutated structurally -- types, ranges, sizes, nesting, truncation, unicode, NUL --
and fed to `loom_mpi validate`, `loom_mpi generate` (the engine's load and generation path) and now and then
`loom_mpi run`. Each case is flagged when it
  * ends by a signal (segmentation fault, floating-point exception, abort),
  * hangs (runs past --timeout),
  * prints raw library text (RAW_PATTERNS: json.exception, yaml-cpp, std::, vector::, .cpp:, c10::, stack traces..),
  * exits with a code other than 0, 1 or 2,
  * or accepts a model value outside the documented ranges (OUT_OF_RANGE below) and generates with it.
Findings are written with their reproducer under --work/findings; a JSON summary goes to --report.
Exit status: 0 when no finding of the kinds listed in --fail-on, else 1.

  python3 tools/fuzz/fuzz_inputs.py --loom build/loom_mpi --cases 2000 --seed 7 --jobs 2 --work /tmp/loom_fuzz
"""
import argparse
import copy
import json
import math
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(REPO, "models", "tiny-loom")
FIXTURES = os.path.join(REPO, "tests", "fixtures", "benchmarks")

RAW_PATTERNS = [r"json\.exception", r"yaml-cpp", r"YAML::", r"std::", r"basic_string", r"vector::",
                r"terminate called", r"\.cpp:\d", r"\.h:\d", r"Assertion", r"c10::", r"Exception raised from",
                r"frame #\d", r"what\(\):", r"_M_\w+", r"\bsto(i|l|ll|ul|ull|f|d)\b", r"bad_alloc",
                r"bad_optional_access", r"Segmentation fault", r"core dumped"]
RAW = re.compile("|".join(RAW_PATTERNS))

# config.json keys and values outside the documented ranges (docs/trust-inputs.md): loom_mpi must refuse them.
OUT_OF_RANGE = {
    "rope_theta": [0, -10000.0, 3, 1e-300, 1e300],
    "rms_norm_eps": [0, -1e-6, 0.5, 1e300],
    "head_dim": [0, -32, 31, 100000],
    "hidden_size": [0, -256, 1 << 40],
    "intermediate_size": [0, -768],
    "num_hidden_layers": [0, -6, 100000],
    "num_attention_heads": [0, -8],
    "num_key_value_heads": [0, -4, 3],
    "vocab_size": [0, -4096, 1 << 40],
    "max_position_embeddings": [0, -8192, 1 << 40],
    "eos_token_id": [-1, 4096, 1 << 40],
    "bos_token_id": [-5, 100000],
}

STRINGS = ["", " ", "\u0000", "a\u0000b", "\u202eevil", "\U0001F600" * 50, "\udcff", "ü" * 3, "x" * 40000,
           "{", "}", "[", "\\", "'\"", "\n\n\n", "null", "1e999", "-0", "NaN", "Infinity", "../../../etc/passwd",
           "{context}", "{input}{", "The " + "x" * 30000 + " of", "func_1(" + "9" * 30000 + ")"]
NUMBERS = [0, -1, 1, 2, 3, -2 ** 31, 2 ** 31, 2 ** 63 - 1, -2 ** 63, 2 ** 64, 1e308, -1e308, 1e-320, 0.5, -0.0,
           1.5, 123456789012]


def rand_scalar(rng):
    choice = rng.randrange(5)
    if choice == 0:
        return rng.choice(STRINGS)
    if choice == 1:
        return rng.choice(NUMBERS)
    if choice == 2:
        return rng.choice([True, False])
    if choice == 3:
        return None
    return rng.choice([[], {}, [1, 2, 3], {"a": 1}])


def paths(node, prefix=()):
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:50]):
            out += paths(v, prefix + (i,))
    return out


def get(node, path):
    for p in path:
        node = node[p]
    return node


def set_at(root, path, value):
    if not path:
        return value
    get(root, path[:-1])[path[-1]] = value
    return root


def mutate_tree(tree, rng):
    """One structural mutation of a JSON/YAML tree; returns (tree, description)."""
    tree = copy.deepcopy(tree)
    all_paths = paths(tree)
    path = rng.choice(all_paths[1:] if len(all_paths) > 1 else all_paths)
    node = get(tree, path) if path else tree
    op = rng.randrange(10)
    where = "/".join(map(str, path))
    if op == 0:  # replace by another type
        value = rand_scalar(rng)
        return set_at(tree, path, value), f"{where} := {json.dumps(value)[:60]}"
    if op == 1 and path:  # delete
        parent = get(tree, path[:-1])
        del parent[path[-1]]
        return tree, f"delete {where}"
    if op == 2 and isinstance(node, (int, float)) and not isinstance(node, bool):
        value = rng.choice([0, -node, node * 1000000, node + 1, -1, 1e308, 2 ** 63])
        return set_at(tree, path, value), f"{where} := {value}"
    if op == 3 and isinstance(node, str):
        value = rng.choice([node * rng.choice([100, 1000]), node[: len(node) // 2], node + "\u0000",
                            "\U0001F600" + node, node.upper(), ""])
        return set_at(tree, path, value), f"{where} string mutated"
    if op == 4 and isinstance(node, list):
        if node and rng.random() < 0.5:
            value = node * rng.choice([10, 200])
            return set_at(tree, path, value[:20000]), f"{where} list repeated"
        return set_at(tree, path, []), f"{where} := []"
    if op == 5:  # deep nesting
        value = node
        for _ in range(rng.choice([10, 200, 2000])):
            value = [value]
        return set_at(tree, path, value), f"{where} nested deeply"
    if op == 6 and isinstance(node, dict):
        node["unknown_key_" + str(rng.randrange(100))] = rand_scalar(rng)
        return tree, f"{where} extra key"
    if op == 7:
        return set_at(tree, path, {"x": node}), f"{where} wrapped in an object"
    if op == 8:
        return set_at(tree, path, str(node)), f"{where} as a string"
    value = rand_scalar(rng)
    return set_at(tree, path, value), f"{where} := {json.dumps(value)[:60]}"


def mutate_text(text, rng):
    """Byte-level damage: truncation, NUL, invalid UTF-8, a flipped byte, an empty file."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    op = rng.randrange(6)
    if op == 0 or not data:
        return b"", "empty file"
    cut = rng.randrange(len(data))
    if op == 1:
        return data[:cut], f"truncated at byte {cut}"
    if op == 2:
        return data[:cut] + b"\x00" + data[cut:], f"NUL at byte {cut}"
    if op == 3:
        return data[:cut] + b"\xff\xfe\xc3" + data[cut:], f"invalid UTF-8 at byte {cut}"
    if op == 4:
        return data[:cut] + bytes([rng.randrange(256)]) + data[cut + 1:], f"byte {cut} replaced"
    return data + data[: rng.randrange(1, 200)], "garbage appended"


def dump_json(tree):
    return json.dumps(tree, ensure_ascii=rng_ascii.random() < 0.5, allow_nan=True).encode("utf-8", "surrogatepass")


rng_ascii = random.Random(0)


class Case:
    def __init__(self, index, target, description):
        self.index, self.target, self.description = index, target, description
        self.findings = []
        self.commands = []
        self.outcome = ""
        self.stdout = ""


class Fuzzer:
    def __init__(self, args):
        self.args = args
        self.loom = os.path.abspath(args.loom)
        self.work = os.path.abspath(args.work)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(os.path.join(self.work, "findings"))
        self.seed_config = json.load(open(os.path.join(MODEL, "config.json")))
        self.seed_tokenizer = json.load(open(os.path.join(MODEL, "tokenizer.json")))
        with open(os.path.join(MODEL, "model.safetensors"), "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            self.seed_header = json.loads(f.read(n))
            self.seed_data_offset = 8 + n
        self.data_seeds = self.collect_data_seeds()
        self.baseline_text = None

    # ---- seeds -------------------------------------------------------------------------------------------------
    def collect_data_seeds(self):
        seeds = []
        for family, names in [("infinitebench", ["passkey.jsonl", "math_find.jsonl", "code_run.jsonl",
                                                 "longbook_choice_eng.jsonl"]),
                              ("ruler", ["squad.json", "hotpotqa.json", "PaulGrahamEssays.json"]),
                              ("longbench", ["hotpotqa.jsonl"]),
                              ("custom", ["my_qa.jsonl", "my_qa.yaml"])]:
            for name in names:
                seeds.append((family, name))
        return seeds

    def benchmark_entry(self, family, data_dir):
        if family == "infinitebench":
            return {"name": "InfiniteBench", "data_dir": data_dir, "num_samples": 1,
                    "tasks": ["passkey", "math_find", "code_run", "longbook_choice_eng"]}
        if family == "ruler":
            return {"name": "RULER", "data_dir": data_dir, "tasks": ["qa_1", "qa_2", "niah_single_1"],
                    "lengths": [512], "num_samples": 1}
        if family == "longbench":
            return {"name": "LongBench", "data_dir": data_dir, "tasks": ["hotpotqa"], "num_samples": 1}
        return {"name": os.path.join(data_dir, "my_qa.yaml"), "num_samples": 1}

    def job(self, case_dir, model_dir, family="custom", data_dir=None):
        if data_dir is None:
            data_dir = os.path.join(FIXTURES, family)
        return {"name": "fuzz", "model": {"path": model_dir, "device": "cpu", "max_context": 1024},
                "benchmarks": [self.benchmark_entry(family, data_dir)],
                "generation": {"max_new_tokens": 4},
                "output": {"path": os.path.join(case_dir, "out.h5")}}

    def model_copy(self, case_dir, replace):
        """A model directory of links to models/tiny-loom with the files in `replace` (name -> bytes) written."""
        model_dir = os.path.join(case_dir, "model")
        os.makedirs(model_dir)
        for name in os.listdir(MODEL):
            target = os.path.join(model_dir, name)
            if name in replace:
                with open(target, "wb") as f:
                    f.write(replace[name])
            else:
                os.symlink(os.path.join(MODEL, name), target)
        return model_dir

    # ---- running -----------------------------------------------------------------------------------------------
    def execute(self, case, argv, cwd):
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                   OMP_NUM_THREADS="1", OMPI_MCA_rmaps_base_oversubscribe="1")
        start = time.time()
        stdout = b""
        try:
            proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=self.args.timeout)
            rc, stdout, out = proc.returncode, proc.stdout, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as e:
            rc, out = None, (e.stdout or b"") + (e.stderr or b"")
        text = out.decode("utf-8", "replace")
        case.stdout = stdout.decode("utf-8", "replace")
        case.commands.append((" ".join(argv), rc, round(time.time() - start, 2)))
        if rc is None:
            case.findings.append(("hang", f"{argv[1]} ran past {self.args.timeout} s"))
        elif rc < 0 or rc >= 128:
            case.findings.append(("signal", f"{argv[1]} ended by signal {-rc if rc < 0 else rc - 128}"))
        elif rc not in (0, 1, 2):
            case.findings.append(("exit_code", f"{argv[1]} exited {rc}"))
        # Raw library text in what loom_mpi prints (spdlog info lines of a successful run are not messages).
        for line in text.splitlines():
            if RAW.search(line) and ("error" in line.lower() or "failed" in line.lower() or rc not in (0,)):
                case.findings.append(("raw_message", line.strip()[:300]))
                break
        return rc, text

    def validate(self, case, case_dir, job):
        path = os.path.join(case_dir, "job.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(job, f, allow_unicode=True)
        return self.execute(case, [self.loom, "validate", path], case_dir)

    def run_job(self, case, case_dir, job):
        path = os.path.join(case_dir, "job.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(job, f, allow_unicode=True)
        return self.execute(case, [self.loom, "run", path], case_dir)

    def generate(self, case, case_dir, model_dir):
        rc, text = self.execute(case, [self.loom, "generate", "--model", model_dir, "--prompt",
                                       "The capital of France is", "--max-new-tokens", "8", "--device", "cpu",
                                       "--json"], case_dir)
        result = None
        stdout = case.stdout
        if rc == 0 and "{" in stdout:
            try:
                result = json.loads(stdout[stdout.index("{"):])
            except ValueError:
                pass
        return rc, text, result

    # ---- targets -----------------------------------------------------------------------------------------------
    def case_job(self, case, case_dir, rng):
        family = rng.choice(["custom", "infinitebench", "longbench"])
        job = self.job(case_dir, MODEL, family)
        if rng.random() < 0.2:
            data, what = mutate_text(yaml.safe_dump(job), rng)
            case.description = f"job.yaml {what}"
            with open(os.path.join(case_dir, "job.yaml"), "wb") as f:
                f.write(data)
            self.execute(case, [self.loom, "validate", os.path.join(case_dir, "job.yaml")], case_dir)
            return
        job, what = mutate_tree(job, rng)
        case.description = f"job.yaml {what}"
        self.validate(case, case_dir, job)

    def case_data(self, case, case_dir, rng):
        family, name = rng.choice(self.data_seeds)
        data_dir = os.path.join(case_dir, "data")
        shutil.copytree(os.path.join(FIXTURES, family), data_dir)
        path = os.path.join(data_dir, name)
        text = open(path, encoding="utf-8").read()
        if rng.random() < 0.25:
            data, what = mutate_text(text, rng)
        elif name.endswith(".jsonl"):
            lines = [json.loads(l) for l in text.splitlines() if l.strip()]
            k = rng.randrange(len(lines))
            lines[k], what = mutate_tree(lines[k], rng)
            data = b"\n".join(dump_json(l) for l in lines) + b"\n"
            what = f"record {k + 1}: {what}"
        elif name.endswith(".yaml"):
            tree, what = mutate_tree(yaml.safe_load(text), rng)
            data = yaml.safe_dump(tree, allow_unicode=True).encode("utf-8", "surrogatepass")
        else:
            tree, what = mutate_tree(json.loads(text), rng)
            data = dump_json(tree)
        case.description = f"{family}/{name} {what}"
        with open(path, "wb") as f:
            f.write(data)
        job = self.job(case_dir, MODEL, family, data_dir)
        rc, _ = self.validate(case, case_dir, job)
        if rc == 0 and rng.random() < self.args.run_fraction:
            self.run_job(case, case_dir, job)

    def case_tokenizer(self, case, case_dir, rng):
        if rng.random() < 0.25:
            data, what = mutate_text(json.dumps(self.seed_tokenizer), rng)
        else:
            # Mutate the structure, mostly outside the large vocab / merges tables.
            tree = copy.deepcopy(self.seed_tokenizer)
            model = tree.get("model", {})
            vocab, merges = model.pop("vocab", None), model.pop("merges", None)
            tree, what = mutate_tree(tree, rng)
            if isinstance(tree, dict) and isinstance(tree.get("model"), dict):
                if vocab is not None:
                    tree["model"]["vocab"] = vocab
                if merges is not None:
                    tree["model"]["merges"] = merges
            if rng.random() < 0.2 and vocab is not None and isinstance(tree.get("model"), dict):
                key = rng.choice(list(vocab))
                tree["model"]["vocab"] = dict(vocab)
                tree["model"]["vocab"][key] = rng.choice([-1, 10 ** 9, "x", None, 4096])
                what = f"vocab[{key!r}] mutated"
            data = dump_json(tree)
        case.description = f"tokenizer.json {what}"
        model_dir = self.model_copy(case_dir, {"tokenizer.json": data})
        self.validate(case, case_dir, self.job(case_dir, model_dir))

    def case_config(self, case, case_dir, rng):
        config = copy.deepcopy(self.seed_config)
        out_of_range = None
        if rng.random() < 0.5:
            key = rng.choice(list(OUT_OF_RANGE))
            value = rng.choice(OUT_OF_RANGE[key])
            config[key] = value
            if key == "rope_theta":
                config["rope_parameters"]["rope_theta"] = value
            out_of_range = key
            data, what = dump_json(config), f"{key} := {value} (out of range)"
        elif rng.random() < 0.2:
            data, what = mutate_text(json.dumps(config, indent=2), rng)
        else:
            config, what = mutate_tree(config, rng)
            data = dump_json(config)
        case.description = f"config.json {what}"
        model_dir = self.model_copy(case_dir, {"config.json": data})
        rc, text, result = self.generate(case, case_dir, model_dir)
        if out_of_range is not None and rc == 0:
            case.findings.append(("accepted_out_of_range", f"config.json {what} was accepted and generated "
                                  f"{json.dumps(result.get('text') if result else None)[:80]}"))
        if out_of_range is not None and rc == 2 and "config.json" not in text:
            case.findings.append(("unclear_message", f"config.json {what}: the error does not name config.json"))
        if result is not None and self.baseline_text is not None and result.get("text") != self.baseline_text:
            case.outcome = "accepted, generated text changed"
        if rng.random() < self.args.run_fraction:
            self.run_job(case, case_dir, self.job(case_dir, model_dir))

    def case_safetensors(self, case, case_dir, rng):
        with open(os.path.join(MODEL, "model.safetensors"), "rb") as f:
            blob = f.read()
        header = copy.deepcopy(self.seed_header)
        op = rng.randrange(4)
        if op == 0:  # a structural header mutation
            header, what = mutate_tree(header, rng)
            text = json.dumps(header).encode()
            data = struct.pack("<Q", len(text)) + text + blob[self.seed_data_offset:]
        elif op == 1:  # a wrong header length
            length = rng.choice([0, 1, 2 ** 63, 2 ** 64 - 1, len(blob), self.seed_data_offset - 9])
            data, what = struct.pack("<Q", length) + blob[8:], f"header length := {length}"
        elif op == 2:  # truncation
            cut = rng.randrange(len(blob))
            data, what = blob[:cut], f"file truncated at byte {cut}"
        else:  # a non-finite weight
            name = rng.choice([k for k in header if k != "__metadata__"])
            begin = self.seed_data_offset + header[name]["data_offsets"][0]
            width = {"F32": 4, "BF16": 2, "F16": 2}[header[name]["dtype"]]
            bad = rng.choice(["nan", "inf"])
            value = struct.pack("<f", float(bad))[-width:] if width == 2 else struct.pack("<f", float(bad))
            data = blob[:begin] + value + blob[begin + width:]
            what = f"{name}[0] := {bad}"
            case.description = f"model.safetensors {what}"
            model_dir = self.model_copy(case_dir, {"model.safetensors": data})
            rc, text, result = self.generate(case, case_dir, model_dir)
            if rc == 0:
                case.findings.append(("accepted_out_of_range", f"model.safetensors {what} was accepted"))
            return
        case.description = f"model.safetensors {what}"
        model_dir = self.model_copy(case_dir, {"model.safetensors": data})
        self.generate(case, case_dir, model_dir)

    TARGETS = {"job": case_job, "data": case_data, "tokenizer": case_tokenizer, "config": case_config,
               "safetensors": case_safetensors}

    def one(self, index):
        rng = random.Random(self.args.seed * 1000003 + index)
        targets = self.args.targets
        weights = [self.args.weights.get(t, 1.0) for t in targets]
        target = rng.choices(targets, weights)[0]
        case = Case(index, target, "")
        case_dir = os.path.join(self.work, f"case{index:05d}")
        os.makedirs(case_dir)
        try:
            Fuzzer.TARGETS[target](self, case, case_dir, rng)
        except RecursionError:
            case.description += " (mutation too deep to write; skipped)"
        if case.findings:
            keep = os.path.join(self.work, "findings", f"case{index:05d}")
            shutil.move(case_dir, keep)
        else:
            shutil.rmtree(case_dir, ignore_errors=True)
        return case

    def baseline(self):
        case = Case(-1, "baseline", "untouched seeds")
        case_dir = os.path.join(self.work, "baseline")
        os.makedirs(case_dir)
        rc, text, result = self.generate(case, case_dir, MODEL)
        if rc != 0 or result is None:
            sys.exit(f"fuzz: the untouched model does not generate (exit {rc}):\n{text[-2000:]}")
        self.baseline_text = result.get("text")
        rc, text = self.validate(case, case_dir, self.job(case_dir, MODEL))
        if rc != 0:
            sys.exit(f"fuzz: the untouched job does not validate (exit {rc}):\n{text[-2000:]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loom", required=True, help="the loom_mpi binary")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a case counts as a hang")
    parser.add_argument("--time-limit", type=float, default=0, help="stop starting cases after this many seconds")
    parser.add_argument("--work", default="/tmp/loom_fuzz")
    parser.add_argument("--report", default="", help="JSON summary file")
    parser.add_argument("--targets", default="job,data,tokenizer,config,safetensors")
    parser.add_argument("--weights", default="job=3,data=4,tokenizer=1,config=2,safetensors=1")
    parser.add_argument("--run-fraction", type=float, default=0.05, help="share of cases also run with `run`")
    parser.add_argument("--fail-on", default="signal,hang,raw_message,exit_code,accepted_out_of_range,"
                                             "unclear_message")
    parser.add_argument("--warn-only", default="", help="target:kind pairs reported without failing, e.g. "
                                                         "job:raw_message (comma-separated)")
    args = parser.parse_args()
    args.targets = args.targets.split(",")
    args.weights = {k: float(v) for k, v in (w.split("=") for w in args.weights.split(",") if w)}
    fuzzer = Fuzzer(args)
    start = time.time()
    fuzzer.baseline()
    cases = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        pending = []
        for index in range(args.cases):
            if args.time_limit and time.time() - start > args.time_limit:
                break
            pending.append(pool.submit(fuzzer.one, index))
            if len(pending) >= 2 * args.jobs:
                cases.append(pending.pop(0).result())
        cases += [p.result() for p in pending]
    elapsed = time.time() - start
    counts = {}
    for case in cases:
        for kind, _ in case.findings:
            counts[kind] = counts.get(kind, 0) + 1
    per_target = {}
    for case in cases:
        per_target[case.target] = per_target.get(case.target, 0) + 1
    changed = sum(1 for c in cases if c.outcome == "accepted, generated text changed")
    summary = {"cases": len(cases), "seconds": round(elapsed, 1), "seed": args.seed, "jobs": args.jobs,
               "per_target": per_target, "findings": counts, "accepted_and_text_changed": changed,
               "commands": sum(len(c.commands) for c in cases),
               "details": [{"case": c.index, "target": c.target, "mutation": c.description,
                            "findings": c.findings, "commands": c.commands} for c in cases if c.findings]}
    if args.report:
        with open(args.report, "w") as f:
            json.dump(summary, f, indent=1)
    print(f"fuzz: {len(cases)} cases ({per_target}) in {elapsed:.0f} s, seed {args.seed}, {args.jobs} at once")
    for kind in ["signal", "hang", "raw_message", "exit_code", "accepted_out_of_range", "unclear_message"]:
        print(f"  {kind}: {counts.get(kind, 0)}")
    print(f"  accepted in-range changes that changed the generated text: {changed}")
    fail_on = set(args.fail_on.split(","))
    warn_only = set(args.warn_only.split(",")) if args.warn_only else set()
    failing = [c for c in cases
               if any(kind in fail_on and f"{c.target}:{kind}" not in warn_only for kind, _ in c.findings)]
    for case in [c for c in cases if c.findings and c not in failing][:20]:
        print(f"warning: case {case.index} [{case.target}] {case.description}: {case.findings[0][1]}")
    for case in failing[:40]:
        print(f"case {case.index} [{case.target}] {case.description}")
        for kind, detail in case.findings:
            print(f"    {kind}: {detail}")
    if failing:
        print(f"fuzz: {len(failing)} failing cases; reproducers under {os.path.join(args.work, 'findings')}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
