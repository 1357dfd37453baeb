#!/usr/bin/python3
"""What the PyNN backend costs over `spikeline run` on the same network:
the Vogels-Abbott COBA network (4000 neurons, 2 %, 10 s) as
examples/pynn/vogels_abbott.py writes it in PyNN, and as examples/coba.toml
writes it for the CLI. Alternating runs, medians, ratios.

    /usr/bin/python3 bench/pynn_cost.py [--reps 3] [--duration 10000]

Writes bench/results/pynn_cost.md and .json. Where the PyNN run's time
goes: the script's set-up in Python (PyNN's connector code drawing 320,000
connections; the network description), sim.run() split into the engine's
build (the network from the description) and its loop, and get_data()
into Neo. The CLI's: the process's wall time, its build and its loop
(/provenance/summary).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time

from benchlib import commit as source_commit, run, spikeline_output

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def pynn(duration, tmp):
    stats = os.path.join(tmp, "stats.json")
    env = dict(os.environ, PYNN_STATS=stats)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(ROOT, "examples", "pynn")] + env.get("PYTHONPATH", "").split(os.pathsep))
    t0 = time.perf_counter()
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "examples", "pynn", "vogels_abbott.py"),
                    "COBA", str(duration)], env=env, check=True, capture_output=True, cwd=tmp)
    wall = time.perf_counter() - t0
    with open(stats) as f:
        r = json.load(f)
    r["wall_s"] = wall
    return r


def cli(binary, duration, tmp):
    out = os.path.join(tmp, "coba.h5")
    _, wall, _ = run([binary, "run", os.path.join(ROOT, "examples", "coba.toml"), "--quiet",
                      "--output", out, "--duration", str(duration)])
    s, _, _ = spikeline_output(out)
    return {"wall_s": wall, "build_s": s["build_s"], "loop_s": s["loop_s"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=float, default=10000.0)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    args = ap.parse_args()
    runs = {"pynn": [], "cli": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.reps):
            runs["cli"].append(cli(args.binary, args.duration, tmp))
            runs["pynn"].append(pynn(args.duration, tmp))
            print(json.dumps({k: v[-1] for k, v in runs.items()}), flush=True)
    med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
    p, c = runs["pynn"], runs["cli"]
    rows = [("PyNN script set-up in Python (connectors, description)", med(p, "build_s")),
            ("sim.run(): engine build", med(p, "engine_build_s")),
            ("sim.run(): engine loop", med(p, "engine_loop_s")),
            ("sim.run() in all", med(p, "run_s")),
            ("get_data() into Neo", med(p, "read_s")),
            ("Python's start and the imports (PyNN, Neo, quantities, spikeline): the rest",
             med(p, "wall_s") - med(p, "build_s") - med(p, "run_s") - med(p, "read_s")),
            ("the PyNN process, wall (all of the above)", med(p, "wall_s"))]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = {"date": stamp, "commit": source_commit(), "machine": platform.node(),
           "duration_ms": args.duration, "runs": runs}
    with open(os.path.join(HERE, "results", "pynn_cost.json"), "w") as f:
        json.dump(out, f, indent=1)
    lines = ["# The PyNN backend's cost: COBA in PyNN vs `spikeline run`", "",
             "%s, commit %s, %s; COBA 4000 neurons, %.0f ms simulated, 1 thread; medians of %d "
             "alternating runs (bench/pynn_cost.py)." % (stamp, out["commit"], platform.node(),
                                                         args.duration, args.reps), "",
             "| PyNN (examples/pynn/vogels_abbott.py COBA) | s |", "|---|---|"]
    lines += ["| %s | %.2f |" % r for r in rows]
    lines += ["", "| `spikeline run examples/coba.toml` | s |", "|---|---|",
              "| build | %.2f |" % med(c, "build_s"), "| loop | %.2f |" % med(c, "loop_s"),
              "| process wall | %.2f |" % med(c, "wall_s"), "",
              "| ratio | value |", "|---|---|",
              "| PyNN sim.run() / CLI process wall | %.2f |" % (med(p, "run_s") / med(c, "wall_s")),
              "| PyNN engine loop / CLI loop | %.2f |" % (med(p, "engine_loop_s") / med(c, "loop_s")),
              "| PyNN whole process / CLI process | %.2f |" % (med(p, "wall_s") / med(c, "wall_s"))]
    with open(os.path.join(HERE, "results", "pynn_cost.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
