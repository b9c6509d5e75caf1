#!/usr/bin/env python3
"""tools/calibrate_cost_model.py recovers known coefficients from a results-shaped HDF5 file (synthetic timings from
prefill = a*n + b*n^2 and decode per step = c + d*n) and prints a profile block that CostModel accepts."""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "tools", "calibrate_cost_model.py")
sys.path.insert(0, os.path.dirname(TOOL))
import calibrate_cost_model as tool  # noqa: E402

A, B, C, D = 2.0e-4, 3.0e-8, 5.0e-3, 1.0e-7
config = {"num_hidden_layers": 6, "hidden_size": 256, "num_attention_heads": 8, "num_key_value_heads": 4,
          "head_dim": 32, "intermediate_size": 768}
n = np.array([1000, 2000, 4000, 8000, 3000, 6000, 500, 7000], dtype=np.int64)
out = np.array([10, 50, 2, 128, 1, 30, 64, 9], dtype=np.int64)
dtype = np.dtype([("input_tokens", "<i8"), ("output_tokens", "<i8"), ("prefill_seconds", "<f8"),
                  ("decode_seconds", "<f8"), ("status", h5py.string_dtype()), ("method", h5py.string_dtype())])
rows = np.zeros(len(n) + 1, dtype=dtype)
rows["input_tokens"][:-1] = n
rows["output_tokens"][:-1] = out
rows["prefill_seconds"][:-1] = A * n + B * n * n
rows["decode_seconds"][:-1] = (out - 1) * (C + D * n)
rows["status"][:-1] = "ok"
rows["method"] = "full"
rows[-1] = (5000, 5, 99.0, 99.0, "failed", "full")  # failed rows are left out
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "synthetic.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("samples", data=rows)
        f.attrs["model_config"] = json.dumps(config)
    coef, shape = tool.main([path, "--profile", "cpu"])
    for key, want in (("prefill_a", A), ("prefill_b", B), ("decode_c", C), ("decode_d", D)):
        got = coef[key]
        assert abs(got - want) <= 1e-6 * abs(want), f"{key}: fitted {got}, expected {want}"
    assert shape["linear_params"] == 6 * (2 * 256 * 8 * 32 + 2 * 256 * 4 * 32 + 3 * 256 * 768), shape
    printed = subprocess.run([sys.executable, TOOL, path, "--profile", "h200", "--match", "H200"], check=True,
                             capture_output=True, text=True).stdout
    assert "  h200:" in printed and 'match: ["H200"]' in printed and "fitted_on: {linear_params:" in printed, printed
print("calibration: coefficients recovered")
