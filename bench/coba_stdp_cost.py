#!/usr/bin/python3
"""What plasticity costs: COBA (4,000 neurons) with pair STDP on all its
excitatory synapses against the same network static, alternating runs,
median loop times, the ratio (the goal: at most 3x; most simulators
pay about 10x). Also the instruction counts of one simulated second under
callgrind (--callgrind), which a busy machine does not disturb.

    /usr/bin/python3 bench/coba_stdp_cost.py [--reps 3] [--duration 10] [--callgrind]

Writes bench/results/coba_stdp_cost.md and .json.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RULE = '{rule="stdp",w_min=0.0,w_max=12.0,A_plus=0.06,A_minus=0.063}'
PLASTIC = ["--set", "projection.exc_to_exc.plasticity=" + RULE,
           "--set", "projection.exc_to_inh.plasticity=" + RULE]


def run(binary, extra, duration_s, tmp):
    out = os.path.join(tmp, "o.h5")
    cmd = [binary, "run", os.path.join(ROOT, "examples", "coba.toml"), "--quiet", "--output", out,
           "--duration", str(duration_s * 1000.0)] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(p.stderr)
    with h5py.File(out, "r") as f:
        s = json.loads(f["provenance/summary"][0].decode())
    return s["loop_s"], sum(pop["spikes"] for pop in s["populations"])


def instructions(binary, extra, tmp):
    out = os.path.join(tmp, "cg.out")
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary, "run",
                    os.path.join(ROOT, "examples", "coba.toml"), "--quiet", "--output",
                    os.path.join(tmp, "cg.h5"), "--duration", "1000"] + extra, capture_output=True, check=True)
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", out], capture_output=True, text=True).stdout
    for line in ann.splitlines():
        if "Simulator::run_until" in line:
            return int(re.match(r"\s*([\d,]+)", line).group(1).replace(",", ""))
    sys.exit("run_until not found in the profile")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    args = ap.parse_args()
    loops = {"static": [], "stdp": []}
    spikes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for name, extra in (("static", []), ("stdp", PLASTIC)):
                loop, n = run(args.binary, extra, args.duration, tmp)
                loops[name].append(loop)
                spikes[name] = n
                print("rep %d %-6s loop %.3f s, %d spikes" % (rep + 1, name, loop, n), flush=True)
        instr = {}
        if args.callgrind:
            instr = {name: instructions(args.binary, extra, tmp) for name, extra in (("static", []), ("stdp", PLASTIC))}
    med = {k: statistics.median(v) for k, v in loops.items()}
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    res = {"date": datetime.date.today().isoformat(), "commit": commit, "duration_s": args.duration,
           "loop_s": med, "ratio": med["stdp"] / med["static"], "spikes": spikes, "loop_instructions": instr}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "coba_stdp_cost.json"), "w") as f:
        json.dump(res, f, indent=1)
    lines = ["# COBA 4,000 x %.0f s: pair STDP on every excitatory synapse vs static" % args.duration, "",
             "%s, commit %s, median of %d alternating runs." % (res["date"], commit, args.reps), "",
             "| | static | STDP | ratio |", "|---|---|---|---|",
             "| loop s | %.3f | %.3f | %.2f |" % (med["static"], med["stdp"], res["ratio"])]
    if instr:
        lines.append("| loop instructions, 1 s | %.3g | %.3g | %.2f |" % (
            instr["static"], instr["stdp"], instr["stdp"] / instr["static"]))
    with open(os.path.join(HERE, "results", "coba_stdp_cost.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
