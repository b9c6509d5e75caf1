#!/usr/bin/env python3
"""Reads a results file written by loom_mpi's ResultStore with h5py + pandas, the way docs/results.md shows.

usage: check_results_h5py.py RESULTS.h5 ROWS   (the file is written by results_crash_writer PATH ROWS 8)
"""
import sys

import h5py
import pandas as pd

path, expected_rows = sys.argv[1], int(sys.argv[2])

# --- the snippet of docs/results.md ---
with h5py.File(path, "r") as f:
    df = pd.DataFrame(f["samples"][()])
    df = df.apply(lambda c: c.str.decode("utf-8") if c.dtype == object else c)
    attrs = dict(f.attrs)
print(df.groupby(["benchmark", "task", "method"]).size())
# --- end of snippet ---

assert len(df) == expected_rows, len(df)
assert df["sample_key"].is_unique
for i, row in df.sort_values("sample_index").reset_index(drop=True).iterrows():
    assert row["sample_key"] == f"RULER/niah_single_1/4096/{i}/full", row["sample_key"]
    assert row["context_length"] == 4000 + i
    assert row["prediction"].startswith(f"The special magic number is {1000 + i} — ünïcödé 数字"), row["prediction"]
    assert row["status"] == ("failed" if i % 11 == 3 else "ok")
    assert row["prefill_seconds"] == 0.25 * i
    assert row["prefill_block_density"] == (1.0 if i % 3 == 0 else 0.125 * (i % 8)), row["prefill_block_density"]
assert attrs["git_commit"] == "0123456789abcdef", attrs["git_commit"]
assert list(attrs["hostnames"]) == ["localhost"], attrs["hostnames"]
assert attrs["job_yaml"].startswith("model:")
assert "loom_mpi_version" in attrs
print(f"h5py/pandas read {len(df)} rows and {len(attrs)} attributes: OK")
