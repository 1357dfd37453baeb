#!/usr/bin/env python3
"""Every example under mpirun: the output file of `mpirun -np K spikeline
run` (K = 2, 4) compared with one process's, dataset by dataset (all but
/provenance: spikes, traces, weight records, neuromodulators, edges), bit
for bit. Writes bench/results/mpi_examples.md and .json.

    /usr/bin/python3 bench/mpi_examples.py [--binary build/tools/spikeline]

Durations are cut so that the whole script takes a few minutes on 2 cores
(4 ranks are oversubscribed there: this checks results, not speed).
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# (example, simulated ms, extra arguments)
EXAMPLES = [
    ("brunel", 300, ["--set", "output.edges=false"]),  # 15.6 M synapses: edges left out
    ("coba", 1000, []),
    ("cuba", 1000, []),
    ("delays", 1000, []),
    ("distal_reward", 20000, []),
    ("pd14", 100, []),
    ("short_term_plasticity", 1100, []),
    ("sparse_lif", 1000, []),
    ("working_memory", 2000, []),
]
RANKS = [2, 4]
ENV = dict(os.environ, OMPI_MCA_btl_vader_single_copy_mechanism="none",
           OMPI_MCA_mpi_yield_when_idle="1")


def datasets(path):
    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: found.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) and not name.startswith("provenance")
                     else None)
    return found


def differs(a, b):
    x, y = datasets(a), datasets(b)
    if sorted(x) != sorted(y):
        return "datasets differ"
    for name in x:
        if x[name].dtype != y[name].dtype or not np.array_equal(x[name], y[name]):
            return "/%s differs" % name
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    ap.add_argument("--mpirun", default="mpirun")
    args = ap.parse_args()
    flags = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="spikeline_mpi_examples_") as tmp:
        for name, ms, extra in EXAMPLES:
            config = os.path.join(ROOT, "examples", name + ".toml")
            base = ["run", config, "-q", "-d", str(ms)] + extra
            serial = os.path.join(tmp, name + ".h5")
            subprocess.run([args.binary] + base + ["-o", serial], check=True, env=ENV,
                           capture_output=True)
            with h5py.File(serial, "r") as f:
                groups = sorted(g for g in f if g != "provenance")
                spikes = sum(len(f["spikes"][p]["timestamps"]) for p in f["spikes"])
            row = {"example": name, "simulated_ms": ms, "groups": groups, "spikes": spikes}
            for k in RANKS:
                out = os.path.join(tmp, "%s_k%d.h5" % (name, k))
                r = subprocess.run([args.mpirun, "-np", str(k)] + flags + [args.binary] + base +
                                   ["-o", out], env=ENV, capture_output=True, text=True)
                row["k%d" % k] = ("exit %d" % r.returncode if r.returncode != 0
                                  else differs(serial, out) or "identical")
            rows.append(row)
            print(row, flush=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    date = datetime.date.today().isoformat()
    with open(os.path.join(HERE, "results", "mpi_examples.json"), "w") as f:
        json.dump({"date": date, "commit": commit, "rows": rows}, f, indent=1)
    lines = ["# Every example under mpirun, against one process", "",
             "%s, commit %s. `mpirun -np K spikeline run EXAMPLE -d MS` against `spikeline run "
             "EXAMPLE -d MS`: every dataset of the output file but /provenance compared bit for "
             "bit (bench/mpi_examples.py)." % (date, commit), "",
             "| example | simulated | groups compared | spikes | 2 ranks | 4 ranks |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %g ms | %s | %d | %s | %s |" % (
            r["example"], r["simulated_ms"], ", ".join("/" + g for g in r["groups"]),
            r["spikes"], r["k2"], r["k4"]))
    lines += ["", "working_memory's job is `spikeline train` (one process: refused under mpirun); "
              "`run` without a cue is silent, so only its edges (the 41-tap synapses) say "
              "anything there. 4 ranks on this machine's 2 cores are oversubscribed: this "
              "checks results, not speed (bench/results/mpi_scaling.md has the times)."]
    with open(os.path.join(HERE, "results", "mpi_examples.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    if any(r["k%d" % k] != "identical" for r in rows for k in RANKS):
        sys.exit("some runs differ")


if __name__ == "__main__":
    main()
