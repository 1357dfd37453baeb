"""A training step of the working-memory network (N neurons, D = 41 taps,
M = 16 patterns of T = 1000 steps, p_A = 0.001): spikeline's event-driven
BPTT (`spikeline train`) next to the dense PyTorch reference
(bench/wm_torch.py, as the paper's code does it), on the same CPU, same
threads, same patterns and same initial weights (0.5 x the closed form),
alternating runs.

    /usr/bin/python3 bench/wm_train_vs_torch.py [--sizes 512 1024] [--steps 4] [--reps 2]
        [--threads 2] [--to-f1]

Both do the same step (teacher forcing, 1 - soft F1, truncated gradient,
detached reset, fast sigmoid, AdamW, no background, no dropout); the first
step's loss and gradient norm of the two are compared as a check that they
compute the same thing. Reported per size: median seconds per training
step (spikeline: from its log, the first and last steps left out; PyTorch:
the same), peak RSS of each process, and the ratios. --to-f1 adds the wall
time of `spikeline train` to reach recall F1 >= 0.99 from 0.5 x the closed
form with the recommended recipe (examples/working_memory.toml). Writes
bench/results/wm_training.md and .json.
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
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import HERE, ROOT, commit, run  # noqa: E402

CONFIG = """
[simulation]
dt = 1.0
seed = 1
threads = %(threads)d

[output]
file = "out.h5"

[[population]]
name = "wm"
model = "lif_discrete"
size = %(n)d
params = { beta = 0.7, theta = 1.0 }

[[projection]]
name = "rec"
source = "wm"
target = "wm"
rule = "all_to_all"
taps = 41
weight = 0.0
delay = 1.0

[task]
patterns = 16
length = 1000
p_active = 0.001
background = 0

[training]
init = "hebbian"
init_scale = 0.5
steps = %(steps)d
eval_every = 0
lr = 0.003
optimizer_state = "%(state)s"

[evaluation]
sequential = "no"
"""


def spikeline(binary, cfg, out, extra=()):
    _, wall, rss = run([binary, "train", cfg, "-q", "-o", out] + list(extra))
    with h5py.File(out, "r") as f:
        g = f["training"]
        log = {k: g[k][()] for k in ("wall_s", "loss", "grad_norm")} if "wall_s" in g else {}
        summary = json.loads(f["provenance/summary"][0].rstrip(b"\0").decode())
    return log, wall, rss, summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--optimizer-state", default="bfloat16", choices=["float32", "bfloat16"],
                    help="spikeline's AdamW moments (PyTorch keeps float32)")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    ap.add_argument("--to-f1", action="store_true")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="wm-bench-") as tmp:
        for n in a.sizes:
            cfg = os.path.join(tmp, "wm%d.toml" % n)
            with open(cfg, "w") as f:
                f.write(CONFIG % {"n": n, "threads": a.threads, "steps": a.steps,
                                  "state": a.optimizer_state})
            init = os.path.join(tmp, "init%d.h5" % n)
            spikeline(a.binary, cfg, init, ["--steps", "0"])
            sp_steps, sp_rss, th_steps, th_rss = [], [], [], []
            check = {}
            for rep in range(a.reps):
                out = os.path.join(tmp, "sp%d.h5" % n)
                log, _, rss, _ = spikeline(a.binary, cfg, out)
                per = np.diff(np.concatenate([[0.0], log["wall_s"]]))
                sp_steps += list(per[1:-1])  # the first allocates, the last evaluates
                sp_rss.append(rss)
                check["spikeline"] = (float(log["loss"][0]), float(log["grad_norm"][0]))
                stdout, _, rss = run(["/usr/bin/python3", os.path.join(HERE, "wm_torch.py"), init,
                                      "--steps", str(a.steps), "--threads", str(a.threads)])
                t = json.loads(stdout.strip().splitlines()[-1])
                th_steps += t["step_s"][1:-1]
                th_rss.append(rss)
                check["torch"] = (t["loss"][0], t["grad_norm"][0])
                print("N=%d rep %d: spikeline %.3f s/step, torch %.3f s/step" % (
                    n, rep + 1, statistics.median(per[1:-1]), statistics.median(t["step_s"][1:-1])),
                    flush=True)
            sp, th = statistics.median(sp_steps), statistics.median(th_steps)
            row = {"neurons": n, "synapses": n * n * 41,
                   "spikeline_step_s": sp, "torch_step_s": th, "speedup": th / sp,
                   "spikeline_rss_mib": max(sp_rss), "torch_rss_mib": max(th_rss),
                   "memory_ratio": max(th_rss) / max(sp_rss),
                   "loss_step1": check, "torch_version": t["torch"]}
            (l1, g1), (l2, g2) = check["spikeline"], check["torch"]
            row["loss_rel_diff"] = abs(l1 - l2) / max(abs(l2), 1e-30)
            row["grad_norm_rel_diff"] = abs(g1 - g2) / max(abs(g2), 1e-30)
            if a.to_f1:
                out = os.path.join(tmp, "f1_%d.h5" % n)
                _, wall, rss, summary = spikeline(
                    a.binary, os.path.join(ROOT, "examples", "working_memory.toml"), out,
                    ["--set", "population.wm.size=%d" % n, "--threads", str(a.threads)])
                with h5py.File(out, "r") as f:
                    row["to_f1"] = {"wall_s": wall, "steps": int(summary["steps"]),
                                    "f1": float(f["recall/pooled"][2]), "rss_mib": rss}
            rows.append(row)
            print(json.dumps(row), flush=True)
    meta = {"date": datetime.date.today().isoformat(), "commit": commit(), "threads": a.threads,
            "machine": "%s, %d cores, %s" % (platform.processor() or platform.machine(),
                                             os.cpu_count(), platform.platform()),
            "steps": a.steps, "reps": a.reps, "optimizer_state": a.optimizer_state}
    res = os.path.join(HERE, "results")
    with open(os.path.join(res, "wm_training.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = ["# Working-memory training step: spikeline vs dense PyTorch", "",
             "%(date)s, commit %(commit)s, %(machine)s, %(threads)d threads, median over %(reps)d "
             "alternating runs of %(steps)d steps (first and last left out); spikeline's AdamW "
             "moments in %(optimizer_state)s, PyTorch's in float32. Produced by `bench/wm_train_vs_torch.py`." % meta, "",
             "| N | synapses | spikeline s/step | PyTorch s/step | speed-up | spikeline peak RSS "
             "| PyTorch peak RSS | memory ratio | step-1 loss, grad norm rel. diff |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %d | %.1fM | %.3f | %.2f | **%.0fx** | %.0f MiB | %.0f MiB | **%.1fx** | %.1e, %.1e |" % (
            r["neurons"], r["synapses"] / 1e6, r["spikeline_step_s"], r["torch_step_s"],
            r["speedup"], r["spikeline_rss_mib"], r["torch_rss_mib"], r["memory_ratio"],
            r["loss_rel_diff"], r["grad_norm_rel_diff"]))
    if any("to_f1" in r for r in rows):
        lines += ["", "Wall time of `spikeline train examples/working_memory.toml` (0.5 x the "
                  "closed form, the recommended recipe) to recall F1 >= 0.99, whole process:", "",
                  "| N | steps | recall F1 | wall | peak RSS |", "|---|---|---|---|---|"]
        for r in rows:
            if "to_f1" in r:
                t = r["to_f1"]
                lines.append("| %d | %d | %.4f | %.1f s | %.0f MiB |" % (
                    r["neurons"], t["steps"], t["f1"], t["wall_s"], t["rss_mib"]))
    with open(os.path.join(res, "wm_training.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
