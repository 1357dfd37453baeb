#!/usr/bin/env python3
"""Robustness of closed-form recall over pattern seeds (N = 1024, M = 16).

The paper's robustness figures (shared/specs/working-memory.md) come from one
draw of 16 patterns. With 16 patterns, recall moves in steps of about 1/16 as
single patterns are recovered or lost, so one draw says little: this runs the
closed form (no training) on several pattern seeds and reports the cut cue
(first 30 of 41 steps), p_flip = 0.25 and 128 silenced neurons for each, with
the mean and range, next to the paper.

    /usr/bin/python3 bench/wm_robustness.py [--seeds 1 2 3 4 5 6] [--neurons 1024]

Writes results/wm_robustness.md and .json.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import HERE, ROOT, commit, run  # noqa: E402

PAPER = {"cue_steps": 0.862, "p_flip": 0.967, "silenced": 1.000}
CASES = [("cue_steps", 30), ("p_flip", 0.25), ("silenced", 128)]


def closed_form(binary, n, seed, out):
    args = [binary, "train", os.path.join(ROOT, "examples", "working_memory.toml"), "-q", "-o", out,
            "--set", "population.wm.size=%d" % n, "--steps", "0",
            "--set", "training.init_scale=1.0", "--set", "task.seed=%d" % seed,
            "--set", 'evaluation.sequential="no"', "--set", "evaluation.p_flip=[0.25]",
            "--set", "evaluation.cue_steps=[30]", "--set", "evaluation.silenced=[128]"]
    run(args)
    row = {"seed": seed}
    with h5py.File(out, "r") as f:
        row["free_f1"] = float(f["recall/pooled"][2])
        for kind, _ in CASES:
            g = f["evaluation/" + kind]
            row[kind] = {k: float(g[k][0]) for k in ("precision", "recall", "f1")}
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    ap.add_argument("--neurons", type=int, default=1024)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="wm-rob-") as tmp:
        for seed in a.seeds:
            rows.append(closed_form(a.binary, a.neurons, seed, os.path.join(tmp, "wm.h5")))
            print(json.dumps(rows[-1]), flush=True)
    meta = {"date": datetime.date.today().isoformat(), "commit": commit(),
            "machine": "%s, %d cores, %s" % (platform.processor() or platform.machine(),
                                             os.cpu_count(), platform.platform()),
            "neurons": a.neurons}
    res = os.path.join(HERE, "results")
    with open(os.path.join(res, "wm_robustness.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    head = "| seed | free F1 | " + " | ".join(
        "%s %s P / R / F1" % (k, v) for k, v in CASES) + " |"
    lines = ["# Working-memory robustness over pattern seeds (closed form, N = %(neurons)d, "
             "M = 16)" % meta, "",
             "%(date)s, commit %(commit)s, %(machine)s. Produced by `bench/wm_robustness.py`."
             % meta, "", head, "|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %d | %.3f | " % (r["seed"], r["free_f1"]) + " | ".join(
            "%.3f / %.3f / %.3f" % (r[k]["precision"], r[k]["recall"], r[k]["f1"])
            for k, _ in CASES) + " |")
    means = [statistics.mean(r[k]["f1"] for r in rows) for k, _ in CASES]
    lows = [min(r[k]["f1"] for r in rows) for k, _ in CASES]
    highs = [max(r[k]["f1"] for r in rows) for k, _ in CASES]
    lines.append("| mean F1 (range) | | " + " | ".join(
        "%.3f (%.3f .. %.3f)" % (m, lo, hi) for m, lo, hi in zip(means, lows, highs)) + " |")
    lines.append("| paper F1 | 1.000 | " + " | ".join(
        "%.3f" % PAPER[k] for k, _ in CASES) + " |")
    with open(os.path.join(res, "wm_robustness.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
