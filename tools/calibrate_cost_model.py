#!/usr/bin/env python3
"""Fits a cost profile for configs/cost_model.yaml from a results file that loom_mpi wrote on the machine to profile.

    tools/calibrate_cost_model.py results/run.h5 --profile cpu [--match "H200"]

The scheduler predicts a sample's seconds as prefill_a*n + prefill_b*n^2 + steps*(decode_c + decode_d*n) for n
input tokens (src/scheduler/cost_model.h). This fits the four coefficients by least squares (non-negative) on the
rows with status ok: prefill_seconds against (n, n^2), and decode_seconds / (output_tokens - 1) against (1, n) on
rows with at least 2 output tokens. The model's shape comes from the file's model_config attribute and is written
as the profile's `fitted_on`, so CostModel scales the profile to other models. Prints the YAML block to paste under
`profiles:` and the fit's relative error per row. Needs h5py and numpy.
"""
import argparse
import json
import sys

import h5py
import numpy as np


def model_shape(config_text):
    config = json.loads(config_text)
    config = config.get("text_config", config)
    layers, hidden = config["num_hidden_layers"], config["hidden_size"]
    heads = config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads", heads)
    head_dim = config.get("head_dim") or hidden // heads
    linear = layers * (2 * hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim +
                       3 * hidden * config["intermediate_size"])
    return {"linear_params": float(linear), "layers": layers, "hidden": hidden, "kv_heads": kv_heads,
            "head_dim": head_dim}


def nonnegative_lstsq(columns, target):
    """Least squares with both coefficients >= 0 (tries the full fit, then each column alone)."""
    best = None
    for keep in ([0, 1], [0], [1]):
        a = columns[:, keep]
        coef, *_ = np.linalg.lstsq(a, target, rcond=None)
        if np.any(coef < 0):
            continue
        full = np.zeros(columns.shape[1])
        full[keep] = coef
        err = float(np.sum((columns @ full - target) ** 2))
        if best is None or err < best[1]:
            best = (full, err)
    return best[0] if best else np.zeros(columns.shape[1])


def fit(rows):
    n = rows["input_tokens"].astype(float)
    prefill = rows["prefill_seconds"].astype(float)
    a, b = nonnegative_lstsq(np.stack([n, n * n], axis=1), prefill)
    steps = rows["output_tokens"].astype(float) - 1.0
    usable = steps >= 1
    per_step = rows["decode_seconds"][usable].astype(float) / steps[usable]
    if usable.any():
        c, d = nonnegative_lstsq(np.stack([np.ones(usable.sum()), n[usable]], axis=1), per_step)
    else:
        c, d = 0.0, 0.0
    return {"prefill_a": a, "prefill_b": b, "decode_c": c, "decode_d": d}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", help="a loom_mpi results file (.h5)")
    p.add_argument("--profile", required=True, help="profile name to print (e.g. cpu, h200)")
    p.add_argument("--match", action="append", default=[], help="GPU model substring for auto-detection")
    p.add_argument("--method", default=None, help="only rows of this method label (default: all)")
    args = p.parse_args(argv)
    with h5py.File(args.results, "r") as f:
        if "samples" not in f:
            sys.exit(f"{args.results}: no /samples table (not a loom_mpi results file)")
        table = f["samples"][()]
        config_text = f.attrs.get("model_config")
    if config_text is None:
        sys.exit(f"{args.results}: no model_config attribute")
    if isinstance(config_text, bytes):
        config_text = config_text.decode()
    status = np.array([s.decode() if isinstance(s, bytes) else s for s in table["status"]])
    keep = status == "ok"
    if args.method:
        methods = np.array([m.decode() if isinstance(m, bytes) else m for m in table["method"]])
        keep &= methods == args.method
    rows = table[keep]
    if len(rows) < 2:
        sys.exit(f"{args.results}: {len(rows)} usable rows; need at least 2")
    coef = fit(rows)
    shape = model_shape(config_text)
    n = rows["input_tokens"].astype(float)
    predicted = coef["prefill_a"] * n + coef["prefill_b"] * n * n
    rel = np.abs(predicted - rows["prefill_seconds"]) / np.maximum(rows["prefill_seconds"], 1e-9)
    print(f"# fitted by tools/calibrate_cost_model.py on {args.results}: {len(rows)} rows, input tokens "
          f"{int(n.min())}-{int(n.max())}; prefill fit median relative error {np.median(rel):.1%}")
    print(f"  {args.profile}:")
    if args.match:
        print("    match: [" + ", ".join(json.dumps(m) for m in args.match) + "]")
    for key in ("prefill_a", "prefill_b", "decode_c", "decode_d"):
        print(f"    {key}: {coef[key]:.4g}")
    print("    fitted_on: {" + ", ".join(f"{k}: {v:g}" for k, v in shape.items()) + "}")
    return coef, shape


if __name__ == "__main__":
    main()
