#!/usr/bin/env python3
"""Summary table of bench/gpu_engine_bench.sh's results folder: every ratio from figures measured in that run.

  summarize_engine_bench.py OUT_DIR

Targets (issue 13): RULER-shaped job >= 5x transformers' samples/hour, decode-heavy job >= 10x; prefill with the
default chunking >= 75% of the measured matmul ceiling at 32K and 128K; decode >= 70% of the bandwidth bound at
batch 1 (32K) and >= 60% in aggregate batched; compressed decode at ratio 0.875 <= 0.5x the full cache at 128K.
Issue 20: every architecture's logits within tolerance of transformers (the `arch` stage; its tolerance in
bench/arch_parity.py).
"""
import json
import os
import sys


def lines(path):
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def target_length(sample_key):
    """A row's target length: the third field of benchmark/task/length/index/method, or None."""
    parts = sample_key.split("/")
    return int(parts[2]) if len(parts) >= 3 and parts[2].isdigit() else None


def per_length_estimate(job, out, loom):
    """transformers' rate over loom_mpi's rows, from the rows its budget reached: its mean seconds per target length,
    weighted by loom_mpi's rows of that length (a budget-cut run times a random subset, whose mix of lengths can differ
    from the job's). None when a length of the job has no row transformers finished."""
    lengths = {}
    for j in lines(os.path.join(out, f"{job}_loom.jsonl")):
        if j.get("event") == "prediction":
            length = target_length(j["sample_key"])
            lengths[length] = lengths.get(length, 0) + 1
    seconds = {}
    for j in lines(os.path.join(out, f"{job}_hf.jsonl")):
        if j.get("event") == "sample":
            seconds.setdefault(target_length(j["sample_key"]), []).append(j["seconds"])
    if not lengths or None in lengths or any(length not in seconds for length in lengths):
        return None
    total = sum(n * sum(seconds[length]) / len(seconds[length]) for length, n in lengths.items())
    rows = sum(lengths.values())
    rate = 3600.0 * rows / total
    return rate, loom["samples_per_hour"] / rate, sum(len(v) for v in seconds.values())


def prefill_bound(job, out, loom, estimate):
    """Where the job's time goes, per target length: loom_mpi's mean prefill seconds per row (from results.h5) and
    transformers' (its first token's arrival, hf_baseline.py) beside transformers' mean seconds per row. The ratio a
    loom_mpi whose decode cost nothing would reach against transformers' per-length estimate is the job's transformers
    seconds over loom_mpi's summed prefill seconds: when prefill runs at the same speed on both sides, that bounds the
    samples/hour ratio of a prefill-heavy job (long prompts, short answers). estimate: per_length_estimate's result
    (None without one)."""
    loom_rows = [j for j in lines(os.path.join(out, f"{job}_loom.jsonl"))
                 if j.get("event") == "prediction" and "prefill_seconds" in j]
    hf_rows = [j for j in lines(os.path.join(out, f"{job}_hf.jsonl")) if j.get("event") == "sample"]
    if not loom_rows:
        return
    by_length = {}
    for j in loom_rows:
        by_length.setdefault(target_length(j["sample_key"]), {"loom": [], "hf": [], "hf_prefill": []})["loom"].append(
            j["prefill_seconds"])
    for j in hf_rows:
        cell = by_length.get(target_length(j["sample_key"]))
        if cell is None:
            continue
        cell["hf"].append(j["seconds"])
        if j.get("prefill_seconds") is not None:
            cell["hf_prefill"].append(j["prefill_seconds"])
    mean = lambda v: sum(v) / len(v) if v else float("nan")
    print(f"  prefill per row by target length ({job}): loom_mpi mean prefill s / transformers mean prefill s "
          f"(first token) / transformers mean s per row")
    loom_prefill = 0.0
    for length in sorted(k for k in by_length if k is not None):
        cell = by_length[length]
        print(f"    {length:6}: {len(cell['loom'])} rows, loom_mpi {mean(cell['loom']):.2f} s; transformers "
              f"{mean(cell['hf_prefill']):.2f} s prefill, {mean(cell['hf']):.2f} s per row ({len(cell['hf'])} rows)")
        loom_prefill += sum(cell["loom"])
    wall = loom.get("wall_seconds", 0)
    print(f"  loom_mpi's prefill summed over rows: {loom_prefill:.1f} s of its {wall:.1f} s wall time (rows' prefills "
          f"run one after another in a group)")
    if estimate and loom_prefill > 0:
        hf_total = 3600.0 * loom["rows"] / estimate[0]  # the estimate's seconds for the job's rows
        print(f"  ratio bound if loom_mpi's decode cost nothing: transformers' per-length estimate {hf_total:.1f} s / "
              f"loom_mpi's prefill {loom_prefill:.1f} s = {hf_total / loom_prefill:.2f}x")


def agreement(job, out):
    """Greedy outputs of loom_mpi and transformers on the same prompt ids (bf16 on both sides): how many rows give
    the same text, and how far they agree (characters of common prefix over the longer text)."""
    loom = {j["sample_key"]: j["text"].strip() for j in lines(os.path.join(out, f"{job}_loom.jsonl"))
            if j.get("event") == "prediction"}
    hf = {j["sample_key"]: j["text"].strip() for j in lines(os.path.join(out, f"{job}_hf.jsonl"))
          if j.get("event") == "sample" and "text" in j}
    keys = [k for k in hf if k in loom]
    if not keys:
        return
    same = sum(1 for k in keys if loom[k] == hf[k])
    first_word = sum(1 for k in keys if loom[k].split()[:1] == hf[k].split()[:1])
    prefix = 0.0
    for k in keys:
        a, b = loom[k], hf[k]
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        prefix += n / max(len(a), len(b), 1)
    print(f"  greedy agreement with transformers ({job}, {len(keys)} rows): identical text {same}/{len(keys)}, "
          f"same first word {first_word}/{len(keys)}, mean common prefix {100 * prefix / len(keys):.0f}%")

    def shared(texts):  # rows whose text another prompt also produced: what a decode without its prompt looks like
        count = {}
        for k in keys:
            count[texts[k]] = count.get(texts[k], 0) + 1
        return sum(1 for k in keys if count[texts[k]] > 1)
    print(f"  rows whose text another prompt also gave ({job}): loom_mpi {shared(loom)}/{len(keys)}, "
          f"transformers {shared(hf)}/{len(keys)}")


def architectures(out):
    """The `arch` stage (bench/arch_parity.py): one line per architecture against transformers."""
    rows = lines(os.path.join(out, "arch.jsonl"))
    starts = [i for i, r in enumerate(rows) if r.get("event") == "arch_reference"]
    rows = rows[starts[-1]:] if starts else rows  # the last comparison written to this folder
    reference = next((r for r in rows if r.get("event") == "arch_reference"), None)
    archs = [r for r in rows if r.get("event") == "arch"]
    if not archs:
        return
    if reference:
        print(f"architectures against transformers {reference['transformers']} (torch {reference['torch']}) on "
              f"{reference['gpu'] or reference['device']}, {reference['dtype']}: "
              f"{sum(1 for r in archs if r['pass'])}/{len(archs)} pass")
    for r in archs:
        if "steps" not in r:
            print(f"  arch {r['arch']:10} FAIL: {'; '.join(r.get('problems', []))[:200]}")
            continue
        lengths = ",".join(str(p["length"]) for p in r["prompts"])
        verdict = "pass" if r["pass"] else "FAIL"
        line = (f"  arch {r['arch']:10} {verdict}: greedy top-1 {r['top1_agree']}/{r['steps']} "
                f"steps (prompts {lengths}), first step max |d| {r['max_abs_delta']:.3g} mean {r['mean_abs_delta']:.3g}")
        if "floor_max" in r:
            line += (f" (transformers bf16 vs fp32: max {r['floor_max']:.3g} mean {r['floor_mean']:.3g}; "
                     f"{r['prompts_with_unexplained_disagreement']} prompts with a disagreement beyond a near-tie)")
        if r.get("problems"):
            line += "; " + "; ".join(r["problems"])[:160]
        print(line)
    if reference and reference["dtype"] == "float32":
        print("  tolerance: greedy-identical and first-step max |d| <= 2e-3")
    elif reference:
        print("  tolerance: first-step mean |d| <= 2x and max |d| <= 3x transformers' own bf16-vs-fp32 difference, "
              "every greedy disagreement a near-tie (transformers' margin <= 3x that max)")


def main():
    out = sys.argv[1]
    kernels = lines(os.path.join(out, "kernels.jsonl"))
    ceilings = next((k for k in kernels if k.get("bench") == "ceilings"), {})
    if ceilings:
        print(f"device {ceilings.get('device')}: bf16 matmul {ceilings['bf16_matmul_tflop_s']:.0f} TFLOP/s, "
              f"copy {ceilings['copy_tb_s']:.2f} TB/s")
    failed = [k for k in kernels if k.get("ok") is False]
    checks = [k for k in kernels if "check" in k]
    if checks:
        print(f"kernel checks: {len(checks) - len(failed)}/{len(checks)} ok"
              + ("" if not failed else "; FAILED: " + ", ".join(k["check"] for k in failed[:6])))
    for k in kernels:
        if k.get("bench") == "paged_decode":
            print(f"  paged decode b{k['batch']} {k['length']}: {k['ms']:.3f} ms, {k['tb_s']:.2f} TB/s "
                  f"({100 * k['of_copy_bandwidth']:.0f}% of copy); SDPA dense {k['sdpa_dense_ms']:.3f} ms")
        if k.get("bench") == "prefill_attention" and "seconds" in k:
            print(f"  prefill attention {k['backend']:5} L={k['length']:6} chunk {k['chunk']:6}: {k['seconds']:.3f} s, "
                  f"{k['tflop_s']:.0f} TFLOP/s (first call {k['first_call_seconds']:.2f} s)")
    speed = lines(os.path.join(out, "speed.jsonl"))
    for s in speed:
        if s.get("event") == "prefill" and "seconds" in s:
            print(f"prefill L={s['length']:6} chunk {s['chunk']:6}: {s['seconds']:.2f} s = "
                  f"{s['percent_of_matmul_ceiling']:.0f}% of the matmul ceiling (first run {s['first_run_seconds']:.2f} s)")
        if s.get("event") == "decode" and "step_ms" in s:
            print(f"decode batch {s['batch']:3} x {s['context']:6}: {s['step_ms']:.2f} ms/step, {s['tokens_per_s']:.0f} "
                  f"tok/s = {s['percent_of_bandwidth_bound']:.0f}% of the bandwidth bound ({s['bound_ms']:.2f} ms)")
        if "error" in s:
            print(f"speed {s.get('event')}: {s['error'][:160]}")
    methods = [m for m in lines(os.path.join(out, "methods.jsonl")) if m.get("event") == "run"]
    full = {m["length"]: m for m in methods if m["method"] == "full" and m["ok"]}
    for m in methods:
        base = full.get(m["length"])
        if not m["ok"]:
            print(f"method {m['method']}@{m['ratio']} L={m['length']}: failed: {m['error'][:120]}")
            continue
        ratio = m["decode_ms_per_token"] / base["decode_ms_per_token"] if base and base["decode_ms_per_token"] else 0
        kv = m["kv_bytes"] / base["kv_bytes"] if base and base["kv_bytes"] else 0
        print(f"method {m['method']:10}@{m['ratio']:5} L={m['length']}: decode {m['decode_ms_per_token']:.2f} ms/token "
              f"({ratio:.2f}x full), KV {kv:.3f}x full, prefill {m['prefill_s']:.2f} s")
    for name in sorted(os.listdir(out)) if os.path.isdir(out) else []:  # the sparse stage: one file per chunk size
        if not (name.startswith("sparse_") and name.endswith(".jsonl")):
            continue
        runs = [m for m in lines(os.path.join(out, name)) if m.get("event") == "run"]
        dense = next((m for m in runs if m["method"] == "full" and m["ok"]), None)
        for m in runs:
            if not m["ok"]:
                print(f"sparse prefill ({name[7:-6]}-token chunks) {m['method']}: failed: {m['error'][:120]}")
            elif dense and m is not dense:
                print(f"sparse prefill ({name[7:-6]}-token chunks) {m['method']:12} L={m['length']}: {m['prefill_s']:.2f} s "
                      f"= {m['prefill_s'] / dense['prefill_s']:.2f}x dense ({dense['prefill_s']:.2f} s), block density "
                      f"{m['prefill_block_density']:.3f}")
    for job in ("ruler", "decode", "parity"):
        loom = next((j for j in lines(os.path.join(out, f"{job}_loom.jsonl")) if j.get("event") == "loom_summary"), None)
        hf = next((j for j in lines(os.path.join(out, f"{job}_hf.jsonl")) if j.get("event") == "hf_summary"), None)
        if not loom:
            continue
        line = (f"job {job}: loom_mpi {loom['rows']} rows ({loom['ok']} ok) in {loom['wall_seconds']:.1f} s = "
                f"{loom['samples_per_hour']:.0f} samples/h ({loom['samples_per_hour_after_load']:.0f} after the "
                f"{loom['model_load_seconds']:.1f} s load)")
        if hf and hf.get("samples"):
            failed = f", {hf['failed']} out of GPU memory" if hf.get("failed") else ""
            line += (f"; transformers {hf['samples']}/{hf['of']}{failed} in {hf['seconds']:.1f} s = "
                     f"{hf['samples_per_hour']:.0f} "
                     f"samples/h; ratio {loom['samples_per_hour'] / hf['samples_per_hour']:.2f}x "
                     f"({loom['samples_per_hour_after_load'] / hf['samples_per_hour']:.2f}x after load)")
        print(line)
        estimate = per_length_estimate(job, out, loom) if hf and hf.get("samples") else None
        if estimate:
            rate, ratio, timed = estimate
            print(f"  transformers' mean seconds per target length over its {timed} rows, weighted to the job's rows "
                  f"per length: {rate:.0f} samples/h; ratio {ratio:.2f}x")
        elif hf and hf.get("samples"):
            print("  (transformers finished no row of some target length: no per-length estimate)")
        prefill_bound(job, out, loom, estimate)
        agreement(job, out)
    architectures(out)


if __name__ == "__main__":
    main()
