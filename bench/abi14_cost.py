#!/usr/bin/python3
"""Plugin ABI 1.4 against the commit before it, for the rules that read a
neuromodulator and change what a spike delivers: distal_reward (reward_stdp,
dopamine pulses read from the Neuromodulator's records, whose layout 1.4
changed) and COBA with tsodyks_markram on its excitatory synapses. Alternating
runs of the two binaries, median loop times (network building excluded),
their ratio, and whether spikes and final weights are bit-identical.

    /usr/bin/python3 bench/abi14_cost.py OLD_SPIKELINE NEW_SPIKELINE [--reps 5]
        [--only NETWORK] [--tag TAG --title TEXT]

Writes bench/results/abi14_cost.md and .json; with --tag, appends a section
titled TEXT to the .md and writes abi14_cost_TAG.json (a later comparison,
such as a rule moved onto the plugin interface, beside the first).
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TM = '{rule="tsodyks_markram",U=0.5,tau_rec=800.0,tau_facil=0.0}'
NETWORKS = [
    ("distal_reward", "reward_stdp", "distal_reward.toml",
     ["--duration", "300000", "--set", "output.flush_interval=300000"]),
    ("coba_tsodyks", "tsodyks_markram", "coba.toml",
     ["--duration", "5000", "--set", "projection.exc_to_exc.plasticity=" + TM,
      "--set", "projection.exc_to_inh.plasticity=" + TM]),
]


def run(binary, config, extra, out):
    cmd = [binary, "run", os.path.join(ROOT, "examples", config), "--quiet", "--threads", "1",
           "--output", out] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(p.stderr)
    with h5py.File(out, "r") as f:
        s = json.loads(f["provenance/summary"][0].decode())
    return s["loop_s"]


def outputs(path):
    """Spikes of every population and the final weights of every projection."""
    out = {}
    with h5py.File(path, "r") as f:
        for p in f["spikes"]:
            out["spikes/" + p] = f["spikes/%s/timestamps" % p][()]
        for e in f["edges"]:
            out["edges/" + e] = f["edges/%s/0/syn_weight" % e][()]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", help="one network of NETWORKS")
    ap.add_argument("--tag", help="append a section to the .md, the rows to abi14_cost_TAG.json")
    ap.add_argument("--title", default="", help="the appended section's title (with --tag)")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, rule, config, extra in NETWORKS:
            if a.only and name != a.only:
                continue
            times = {"old": [], "new": []}
            for _ in range(a.reps):
                for which in ("old", "new"):
                    out = os.path.join(tmp, which + ".h5")
                    times[which].append(run(getattr(a, which), config, extra, out))
            o, n = outputs(os.path.join(tmp, "old.h5")), outputs(os.path.join(tmp, "new.h5"))
            same = o.keys() == n.keys() and all(np.array_equal(o[k], n[k]) for k in o)
            old_m, new_m = statistics.median(times["old"]), statistics.median(times["new"])
            rows.append({"network": name, "rule": rule, "old_s": times["old"],
                         "new_s": times["new"], "old_median": old_m, "new_median": new_m,
                         "ratio": new_m / old_m, "bit_identical": same})
            print(rows[-1], flush=True)
    stamp = datetime.date.today().isoformat()
    suffix = "_" + a.tag if a.tag else ""
    with open(os.path.join(HERE, "results", "abi14_cost%s.json" % suffix), "w") as f:
        json.dump({"date": stamp, "reps": a.reps, "rows": rows}, f, indent=1)
    md = os.path.join(HERE, "results", "abi14_cost.md")
    with open(md, "a" if a.tag else "w") as f:
        if a.tag:
            f.write("\n## %s\n\n%s, `/usr/bin/python3 bench/abi14_cost.py OLD NEW --reps %d%s "
                    "--tag %s`: 1 thread, alternating runs, loop time in seconds.\n\n"
                    % (a.title, stamp, a.reps, " --only " + a.only if a.only else "", a.tag))
        else:
            f.write("# Plugin ABI 1.4 against the commit before it (rules that read a "
                    "neuromodulator or change what is delivered)\n\n")
            f.write("%s, `/usr/bin/python3 bench/abi14_cost.py OLD NEW --reps %d`: 1 thread, "
                    "alternating runs, loop time in seconds (network building excluded). "
                    "distal_reward: 300 s simulated; coba_tsodyks: examples/coba.toml with "
                    "tsodyks_markram (U 0.5, tau_rec 800 ms) on exc_to_exc and exc_to_inh, 5 s.\n\n"
                    % (stamp, a.reps))
        f.write("| network | rule | old median | new median | ratio | spikes and weights |\n")
        f.write("|---|---|---|---|---|---|\n")
        for r in rows:
            f.write("| %s | %s | %.3f | %.3f | %.3f | %s |\n"
                    % (r["network"], r["rule"], r["old_median"], r["new_median"], r["ratio"],
                       "bit-identical" if r["bit_identical"] else "DIFFER"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
