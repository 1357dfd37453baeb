#!/usr/bin/env python3
"""Robustness of working-memory recall over pattern seeds (M = 16).

The paper's robustness figures (shared/specs/working-memory.md) come from one
draw of 16 patterns. With 16 patterns, recall moves in steps of about 1/16 as
single patterns are recovered or lost, so one draw says little: this runs
several pattern seeds (task.seed) and reports the cut cue (first 30 of 41
steps), p_flip = 0.25 and 128 silenced neurons for each, with the mean and
range, next to the paper. Three cases:

- `closed`: the closed form, no training (N = 1024 by default, the paper's size);
- `before`: `examples/working_memory.toml` at N = 512 with the recipe it had
  before robustness training (lr 0.003, stopping once clean recall reaches
  F1 0.99, no target_from);
- `after`: `examples/working_memory.toml` at N = 512 as it is.

    /usr/bin/python3 bench/wm_robustness.py [--cases closed before after]
        [--seeds 1 2 3 4 5 6] [--neurons-closed 1024] [--neurons 512]

Writes results/wm_robustness.md and .json (about 15 minutes on 2 cores).
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
EXAMPLE = os.path.join(ROOT, "examples", "working_memory.toml")

# What each case sets on top of the example. `before` restores the recipe of
# the example before robustness training (commit 697ffe6).
OVERRIDES = {
    "closed": ["--steps", "0", "--set", "training.init_scale=1.0"],
    "before": ["--set", "training.lr=0.003", "--set", "training.steps=100",
               "--set", "training.target_f1=0.99", "--set", "training.eval_every=5",
               "--set", "training.target_from=41", "--set", "training.context_flip=0"],
    "after": [],
}
TITLES = {
    "closed": "closed form (no training)",
    "before": "trained, the example's recipe before robustness training",
    "after": "trained, `examples/working_memory.toml` as it is (robustness training)",
}


def one(binary, case, n, seed, out):
    args = [binary, "train", EXAMPLE, "-q", "-o", out,
            "--set", "population.wm.size=%d" % n, "--set", "task.seed=%d" % seed,
            "--set", 'evaluation.sequential="no"', "--set", "evaluation.p_flip=[0.25]",
            "--set", "evaluation.cue_steps=[30]", "--set", "evaluation.silenced=[128]"]
    args += OVERRIDES[case]
    _, wall, _ = run(args)
    row = {"case": case, "neurons": n, "seed": seed, "wall_s": wall}
    with h5py.File(out, "r") as f:
        summary = json.loads(f["provenance/summary"][0].decode())
        row["steps"] = summary["steps"]
        row["train_s"] = summary["train_s"]
        row["free_f1"] = float(f["recall/pooled"][2])
        for kind, _ in CASES:
            g = f["evaluation/" + kind]
            row[kind] = {k: float(g[k][0]) for k in ("precision", "recall", "f1")}
    return row


def table(case, n, rows):
    head = "| seed | free F1 | " + " | ".join(
        "%s %s P / R / F1" % (k, v) for k, v in CASES) + " | steps | training s |"
    lines = ["## %s, N = %d" % (TITLES[case], n), "", head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %d | %.3f | " % (r["seed"], r["free_f1"]) + " | ".join(
            "%.3f / %.3f / %.3f" % (r[k]["precision"], r[k]["recall"], r[k]["f1"])
            for k, _ in CASES) + " | %d | %.1f |" % (r["steps"], r["train_s"]))
    means = [statistics.mean(r[k]["f1"] for r in rows) for k, _ in CASES]
    lows = [min(r[k]["f1"] for r in rows) for k, _ in CASES]
    highs = [max(r[k]["f1"] for r in rows) for k, _ in CASES]
    lines.append("| mean F1 (range) | %.3f | " % statistics.mean(r["free_f1"] for r in rows) +
                 " | ".join("%.3f (%.3f .. %.3f)" % (m, lo, hi)
                            for m, lo, hi in zip(means, lows, highs)) +
                 " | %.1f | %.1f |" % (statistics.mean(r["steps"] for r in rows),
                                       statistics.mean(r["train_s"] for r in rows)))
    lines.append("| paper F1 (N = 1024) | 1.000 | " + " | ".join(
        "%.3f" % PAPER[k] for k, _ in CASES) + " | | |")
    return lines + [""]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", nargs="+", choices=list(OVERRIDES), default=list(OVERRIDES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    ap.add_argument("--neurons-closed", type=int, default=1024)
    ap.add_argument("--neurons", type=int, default=512, help="N of the trained cases")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="wm-rob-") as tmp:
        for case in a.cases:
            n = a.neurons_closed if case == "closed" else a.neurons
            for seed in a.seeds:
                rows.append(one(a.binary, case, n, seed, os.path.join(tmp, "wm.h5")))
                print(json.dumps(rows[-1]), flush=True)
    meta = {"date": datetime.date.today().isoformat(), "commit": commit(),
            "machine": "%s, %d cores, %s" % (platform.processor() or platform.machine(),
                                             os.cpu_count(), platform.platform())}
    res = os.path.join(HERE, "results")
    with open(os.path.join(res, "wm_robustness.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = ["# Working-memory robustness over pattern seeds (M = 16, T = 1000, D = 41)", "",
             "%(date)s, commit %(commit)s, %(machine)s. Produced by `bench/wm_robustness.py`; "
             "training seconds are the trainer's own (summary `train_s`, 2 threads, on a "
             "machine shared with other work)." % meta, ""]
    for case in a.cases:
        sel = [r for r in rows if r["case"] == case]
        lines += table(case, sel[0]["neurons"], sel)
    with open(os.path.join(res, "wm_robustness.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
