"""Runs modules written by `cse-autoloss export --to pytorch` for test/loss/pytorch_export.test.ts.

Reads one JSON object from stdin: {"dtypes": ["float32", ...], "cases": [{"module": source,
"mode": "cls", "vars": ["X", "Y", "Z"], "n": N, "k": K, "inputs": {"X": [flat row-major], ...}}]}.
For each case and dtype it executes the module, calls `searched_loss` on the inputs (as tensors
of that dtype, [N, K] for cls/bcls and [N] for reg) and back-propagates sum(output).
Writes one JSON object: {"torch": version, "results": [{dtype: {"value": [...], "grad": {name:
[...]}}} or {"error": message}]}, flattened, non-finite numbers as strings ("nan", "inf", "-inf").
"""
import json
import math
import sys

import torch

torch.set_num_threads(1)


def flat(t):
    return [x if math.isfinite(x) else str(x) for x in t.detach().reshape(-1).tolist()]


def run(fn, case, dtype):
    torch.set_default_dtype(dtype)
    n, k = case["n"], case["k"]
    shape = [n] if case["mode"] == "reg" else [n, k]
    xs = {
        name: torch.tensor(case["inputs"][name], dtype=dtype).reshape(shape).requires_grad_(True)
        for name in case["vars"]
    }
    out = fn(**xs)
    if not torch.is_tensor(out) or out.dtype != dtype:
        raise TypeError(f"searched_loss returned {type(out).__name__} {getattr(out, 'dtype', '')}, expected a {dtype} tensor")
    if out.requires_grad:
        out.sum().backward()
    grads = {name: flat(x.grad) if x.grad is not None else [0.0] * x.numel() for name, x in xs.items()}
    return {"value": flat(out), "grad": grads}


def main():
    req = json.load(sys.stdin)
    results = []
    for i, case in enumerate(req["cases"]):
        try:
            ns = {"__name__": f"cse_export_{i}"}
            exec(compile(case["module"], f"<export {i}>", "exec"), ns)
            results.append({d: run(ns["searched_loss"], case, getattr(torch, d)) for d in req["dtypes"]})
        except Exception as e:  # reported per case, the test names it
            results.append({"error": f"{type(e).__name__}: {e}"})
    json.dump({"torch": torch.__version__, "results": results}, sys.stdout)


main()
