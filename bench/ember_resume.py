#!/usr/bin/python3
"""EMBER's resume figure at full size (issue 23): a session stopped after
exchange CUT and resumed from its checkpoint gives the same later actions,
spikes, tables and final lateral weights, bit for bit, as one that never
stopped. The small-substrate version is tests/cli/test_ember.py; this is
the full substrate (examples/ember/substrate.toml, 220,000 neurons, 8e6
learned synapses with short-term plasticity), cut between its first and
second action.

    /usr/bin/python3 bench/ember_resume.py [--cut 8] [--seed 1] [--out bench/results]
    /usr/bin/python3 bench/ember_resume.py --from-json bench/results/ember_resume.json

Writes OUT/ember_resume.md and .json.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "build", "tools", "spikeline")
CONFIG = os.path.join(ROOT, "examples", "ember", "substrate.toml")
CONVERSATION = os.path.join(ROOT, "examples", "ember", "conversation.jsonl")


def ember(inp, out, seed, *extra):
    t0 = time.monotonic()
    p = subprocess.run([BINARY, "ember", CONFIG, "-i", inp, "-o", out,
                        "--set", "simulation.seed=%d" % seed, "--set", "output.edges=true"]
                       + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("spikeline ember failed:\n%s" % p.stderr)
    actions = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return actions, time.monotonic() - t0


def spikes(path):
    with h5py.File(path, "r") as f:
        return {pop: (f["spikes"][pop]["timestamps"][()], f["spikes"][pop]["node_ids"][()])
                for pop in f["spikes"]}


def write_md(result, out):
    checks = result["checks"]
    ok = all(checks.values())
    w = result["wall_s"]
    with open(os.path.join(out, "ember_resume.md"), "w") as f:
        f.write("# EMBER: a resumed session at full size\n\n")
        f.write("`/usr/bin/python3 bench/ember_resume.py` on %s: `examples/ember/substrate.toml` "
                "(seed %d) on `examples/ember/conversation.jsonl`, once whole and once stopped "
                "after exchange %d (`--checkpoint`) and resumed (`--resume ... --skip %d`), with "
                "`output.edges = true` to compare the final lateral weights.\n\n"
                % (result["date"], result["seed"], result["cut"], result["cut"]))
        f.write("| | whole | first part | resumed part |\n|---|---|---|---|\n")
        f.write("| actions (exchange, ms) | %s | %s | %s |\n" % (
            result["actions_whole"], result["actions_first"], result["actions_rest"]))
        f.write("| wall | %.1f s | %.1f s | %.1f s |\n\n" % (w["whole"], w["first"], w["rest"]))
        f.write("| compared, bit for bit | equal |\n|---|---|\n")
        for k, v in checks.items():
            f.write("| %s | %s |\n" % (k, "yes" if v else "**NO**"))
        f.write("\n%d spikes in all, %d of them after the cut; %d of the 8,000,000 lateral "
                "synapses learned (> 0). Verdict: %s.\n" % (
                    result["spikes"], result["spikes_after_cut"], result["learned_synapses"],
                    "met" if ok else "NOT met"))
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cut", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--from-json", help="rewrite the .md from this .json only")
    args = ap.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            return 0 if write_md(json.load(f), args.out) else 1
    with open(CONVERSATION) as f:
        lines = f.readlines()
    checks = {}
    with tempfile.TemporaryDirectory(prefix="ember-resume-") as d:
        head = os.path.join(d, "head.jsonl")
        with open(head, "w") as f:
            f.writelines(lines[:args.cut])
        whole, t_whole = ember(CONVERSATION, os.path.join(d, "whole.h5"), args.seed)
        first, t_first = ember(head, os.path.join(d, "part.h5"), args.seed,
                               "--checkpoint", os.path.join(d, "part.ckpt"))
        rest, t_rest = ember(CONVERSATION, os.path.join(d, "part.h5"), args.seed,
                             "--resume", os.path.join(d, "part.ckpt"), "--skip", str(args.cut))
        key = lambda a: json.dumps(a, sort_keys=True)
        checks["actions"] = [key(a) for a in first + rest] == [key(a) for a in whole]
        a, b = spikes(os.path.join(d, "whole.h5")), spikes(os.path.join(d, "part.h5"))
        checks["spikes"] = sorted(a) == sorted(b) and all(
            np.array_equal(a[p][0], b[p][0]) and np.array_equal(a[p][1], b[p][1]) for p in a)
        n_spikes = int(sum(len(a[p][0]) for p in a))
        after_cut = int(sum(np.count_nonzero(a[p][0] > args.cut * 1200.0) for p in a))
        with h5py.File(os.path.join(d, "whole.h5"), "r") as fa, \
                h5py.File(os.path.join(d, "part.h5"), "r") as fb:
            wa = fa["edges/lateral/0/syn_weight"][()]
            wb = fb["edges/lateral/0/syn_weight"][()]
            checks["lateral weights"] = bool(np.array_equal(wa, wb))
            learned = int(np.count_nonzero(wa > 0))
            tables = {}
            for name in ["exchanges", "actions", "associations"]:
                ga, gb = fa["ember"][name], fb["ember"][name]
                tables[name] = all(np.array_equal(ga[k][()], gb[k][()]) for k in ga)
            checks["tables"] = all(tables.values())
    result = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
              "seed": args.seed, "cut": args.cut, "checks": checks,
              "actions_whole": [(x["exchange"], x["time_ms"]) for x in whole],
              "actions_first": [(x["exchange"], x["time_ms"]) for x in first],
              "actions_rest": [(x["exchange"], x["time_ms"]) for x in rest],
              "spikes": n_spikes, "spikes_after_cut": after_cut, "learned_synapses": learned,
              "wall_s": {"whole": round(t_whole, 1), "first": round(t_first, 1),
                         "rest": round(t_rest, 1)}}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "ember_resume.json"), "w") as f:
        json.dump(result, f, indent=1)
    ok = write_md(result, args.out)
    print(json.dumps(checks), "verdict:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
