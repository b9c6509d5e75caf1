#!/usr/bin/env python3
"""Reads the /metrics group and the JSON summary that `loom_mpi report` wrote, with h5py + pandas.

usage: check_metrics_h5py.py RESULTS.h5 EXPECTED_OVERALL
"""
import json
import sys

import h5py
import pandas as pd

path, expected = sys.argv[1], float(sys.argv[2])
with h5py.File(path, "r") as f:
    def table(name):
        df = pd.DataFrame(f[name][()])
        return df.apply(lambda c: c.str.decode("utf-8") if c.dtype == object else c)
    overall, tasks, samples = table("metrics/overall"), table("metrics/tasks"), table("metrics/sample_scores")
    costs = table("metrics/method_costs")
    summary = json.loads(f["metrics"].attrs["summary_json"])
    rows = len(f["samples"])
print(overall, tasks[["benchmark", "task", "score", "samples", "failed"]], sep="\n")
assert abs(overall.loc[overall["method"] == "full", "score"].iloc[0] - expected) < 1e-9
assert len(samples) == rows and samples["sample_key"].is_unique
assert set(costs["method"]) == set(overall["method"]), costs
assert (costs["generated"] >= 0).all() and costs["prefill_block_density"].between(0, 1).all(), costs
assert abs(summary["methods"]["full"]["overall"] - expected) < 1e-9
with open(path[: -len(".h5")] + ".json") as j:
    assert json.load(j) == summary
print("h5py/pandas read /metrics: OK")
