"""Capacity scan of the working-memory network at N = 1024 (D = 41,
T = 1000, p_A = 0.001): for each number of patterns M, train from random
weights with the recipe of examples/working_memory.toml (bce, pos_weight
300, local gradient, AdamW 0.003, cosine), in batches of 16 patterns,
evaluating recall after every epoch (at least every 5 steps) and stopping
at F1 >= 0.99 or after --max-steps steps; the scan goes on while recall reaches 0.99. The closed
form's recall (no training) is measured too, up to --closed-max patterns
(beyond about M = N D / (T - D) = 44 its activity explodes, and such a
free run costs N^2 D synaptic events per step).

    /usr/bin/python3 bench/wm_capacity.py [--patterns 16 64 256 1024] [--max-steps 80]
        [--neurons 1024] [--budget-min 120]

Writes bench/results/wm_capacity.md and .json (M, closed-form F1, trained
F1, steps, epochs, training wall time, peak RSS).
"""

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import HERE, ROOT, commit, run  # noqa: E402


def train(binary, n, m, extra, out):
    args = [binary, "train", os.path.join(ROOT, "examples", "working_memory.toml"), "-q", "-o", out,
            "--set", "population.wm.size=%d" % n, "--set", "task.patterns=%d" % m,
            "--set", 'evaluation.sequential="no"', "--set", "evaluation.p_flip=[]",
            "--set", "evaluation.cue_steps=[]", "--set", "evaluation.silenced=[]"] + extra
    _, wall, rss = run(args)
    with h5py.File(out, "r") as f:
        summary = json.loads(f["provenance/summary"][0].rstrip(b"\0").decode())
        initial = float(f["recall_initial/pooled"][2])
        final = float(f["recall/pooled"][2])
    return {"wall_s": wall, "rss_mib": rss, "initial_f1": initial, "f1": final,
            "steps": int(summary["steps"]), "train_s": summary["train_s"],
            "eval_s": summary["eval_s"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patterns", type=int, nargs="+", default=[16, 64, 256, 1024])
    ap.add_argument("--neurons", type=int, default=1024)
    ap.add_argument("--max-steps", type=int, default=80)
    ap.add_argument("--closed-max", type=int, default=64)
    ap.add_argument("--budget-min", type=float, default=120)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    a = ap.parse_args()
    rows, t0 = [], time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wm-cap-") as tmp:
        for m in a.patterns:
            if (time.monotonic() - t0) / 60 > a.budget_min:
                print("budget of %g min spent: stopping before M = %d" % (a.budget_min, m))
                break
            row = {"patterns": m, "neurons": a.neurons}
            out = os.path.join(tmp, "wm.h5")
            if m <= a.closed_max:
                r = train(a.binary, a.neurons, m, ["--steps", "0", "--set", "training.init_scale=1.0"],
                          out)
                row["closed_form_f1"] = r["f1"]
            per_epoch = max(1, m // 16)
            r = train(a.binary, a.neurons, m, [
                "--set", 'training.init="random"', "--set", "training.init_scale=1.0",
                "--set", "training.batch=%d" % min(m, 16),
                "--set", "training.steps=%d" % a.max_steps,
                "--set", "training.eval_every=%d" % max(5, per_epoch)], out)
            row.update({"trained_f1": r["f1"], "steps": r["steps"],
                        "epochs": r["steps"] / per_epoch, "train_s": r["train_s"],
                        "eval_s": r["eval_s"], "wall_s": r["wall_s"], "rss_mib": r["rss_mib"]})
            rows.append(row)
            print(json.dumps(row), flush=True)
            if r["f1"] < 0.99:
                break
    meta = {"date": datetime.date.today().isoformat(), "commit": commit(),
            "machine": "%s, %d cores, %s" % (platform.processor() or platform.machine(),
                                             os.cpu_count(), platform.platform()),
            "max_steps": a.max_steps}
    res = os.path.join(HERE, "results")
    # Rows of earlier runs (other M, same N) are kept: a point can be rerun alone.
    old = os.path.join(res, "wm_capacity.json")
    if os.path.exists(old):
        with open(old) as f:
            kept = [r for r in json.load(f)["rows"]
                    if r["neurons"] == a.neurons and r["patterns"] not in {x["patterns"] for x in rows}]
        rows = sorted(kept + rows, key=lambda r: r["patterns"])
    with open(os.path.join(res, "wm_capacity.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = ["# Working-memory capacity at N = %d" % a.neurons, "",
             "%(date)s, commit %(commit)s, %(machine)s, 2 threads. Produced by "
             "`bench/wm_capacity.py`: training from random weights, batches of 16, stopping at "
             "recall F1 >= 0.99 or after the step budget (last: %(max_steps)d)." % meta, "",
             "| M | closed-form F1 | trained F1 | steps | epochs | training time | evaluation time | peak RSS |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cf = "%.4f" % r["closed_form_f1"] if "closed_form_f1" in r else "not run"
        lines.append("| %d | %s | %.4f | %d | %.1f | %.0f s | %.0f s | %.0f MiB |" % (
            r["patterns"], cf, r["trained_f1"], r["steps"], r["epochs"], r["train_s"],
            r["eval_s"], r["rss_mib"]))
    with open(os.path.join(res, "wm_capacity.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
