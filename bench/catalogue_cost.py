#!/usr/bin/python3
"""What the built-in models and rules pay for going through the plugin C
ABI (issue 21: "the built-in models and rules register through the same
interface"). iaf_cond_exp (since commit 3c6a82f), iaf_psc_exp,
lif_discrete and the learning rule stdp are written against the plugin
C++ layer and registered by the built-in catalogues
(plugin::register_catalogue); before, each was a native Population or
PlasticityRule subclass. The arithmetic is the same, so the difference is
the boundary: the adapter's arguments, the function pointer, the layer's
dispatch, the spikes reported through the ABI buffer and checked; for a
rule, one call per event and its weights stored back as float32.

Networks (--examples): coba (examples/coba.toml, 4,000 iaf_cond_exp),
cuba (examples/cuba.toml, 4,000 iaf_psc_exp), lif (10,000 lif_discrete,
recurrent fixed_indegree 100 with delays of 1 to 5 steps, Poisson input;
dt = 1 ms, written here), coba_stdp (COBA with pair STDP on every
excitatory synapse, as bench/coba_stdp_cost.py: the rule's events
dominate what it adds) and coba_triplet (the same with triplet_stdp).

Two spikeline binaries, `--before` (a build of the commit before, e.g.
`git worktree add /tmp/before 3c6a82f~1` and a Release build there) and
`--after` (default: this tree's build), run COBA (examples/coba.toml,
4,000 iaf_cond_exp, 10 s) and CUBA (examples/cuba.toml, 4,000
iaf_psc_exp, 10 s) alternately at 1 and 2 threads; the spikes must be
bit-identical (checked), the loop times (the run's summary, network
building excluded) are reported as minimum and median and their ratios.

    /usr/bin/python3 bench/catalogue_cost.py --before /tmp/before/build/tools/spikeline [--reps 10]

Writes bench/results/catalogue_cost.md and .json (coba, cuba: iaf_cond_exp
and iaf_psc_exp against 3c6a82f~1); lif_discrete, stdp and triplet_stdp
moved later, measured with `--examples lif,coba_stdp,coba_triplet
--results catalogue_cost_rules` against a build of 5f6f38d.
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

from benchlib import HERE, ROOT, commit, spikeline_output

# 10,000 lif_discrete neurons (the working-memory model) in a sparse
# recurrent network: the neuron update is a fair share of the loop.
LIF = """\
[simulation]
dt = 1.0
duration = 10000.0
seed = 5

[[population]]
name = "l"
model = "lif_discrete"
size = 10000
params = { beta = 0.9, theta = 1.0 }

[[projection]]
source = "l"
target = "l"
rule = "fixed_indegree"
indegree = 100
weight = { distribution = "normal", mean = 0.0, std = 0.03 }
delay = { distribution = "uniform", low = 1.0, high = 5.0 }

[[stimulus]]
model = "poisson_input"
target = "l"
params = { rate = 10.0, sources = 10, weight = 0.25 }
"""
STDP = '{rule="stdp",w_min=0.0,w_max=12.0,A_plus=0.06,A_minus=0.063}'
TRIPLET = ('{rule="triplet_stdp",w_min=0.0,w_max=12.0,A2_plus=0.05,A3_plus=0.02,A2_minus=0.06,'
           'A3_minus=0.002}')
EXAMPLES = {
    "coba": ("iaf_cond_exp", "coba.toml", []),
    "cuba": ("iaf_psc_exp", "cuba.toml", []),
    "lif": ("lif_discrete", None, []),
    "coba_stdp": ("iaf_cond_exp + stdp", "coba.toml",
                  ["--set", "projection.exc_to_exc.plasticity=" + STDP,
                   "--set", "projection.exc_to_inh.plasticity=" + STDP]),
    "coba_triplet": ("iaf_cond_exp + triplet_stdp", "coba.toml",
                     ["--set", "projection.exc_to_exc.plasticity=" + TRIPLET,
                      "--set", "projection.exc_to_inh.plasticity=" + TRIPLET]),
}


def instructions(binary, config, extra, seconds, tmp):
    """The instructions of Simulator::run_until (inclusive) for `seconds`
    simulated at 1 thread, under callgrind."""
    out = os.path.join(tmp, "cg.out")
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary, "run",
                    config, "--quiet", "--output", os.path.join(tmp, "cg.h5"), "--threads", "1",
                    "--duration", str(seconds * 1000.0)] + extra, capture_output=True, check=True)
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", out], capture_output=True,
                         text=True).stdout
    for line in ann.splitlines():
        if "Simulator::run_until" in line:
            return int(re.match(r"\s*([\d,]+)", line).group(1).replace(",", ""))
    sys.exit("run_until not found in the profile")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="spikeline built before the change")
    ap.add_argument("--after", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--duration", type=float, default=10.0, help="simulated seconds")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--examples", default="coba,cuba")
    ap.add_argument("--callgrind", type=float, default=0.0, metavar="SECONDS",
                    help="also count the instructions of Simulator::run_until for this many "
                         "simulated seconds at 1 thread under callgrind (what a busy machine "
                         "does not disturb)")
    ap.add_argument("--results", default="catalogue_cost",
                    help="bench/results/<this>.md and .json (one file per change measured)")
    args = ap.parse_args()
    for b in (args.before, args.after):
        if not os.access(b, os.X_OK):
            sys.exit("not an executable: %s" % b)
    binaries = {"native": args.before, "catalogue": args.after}
    threads = [int(t) for t in args.threads.split(",")]
    examples = args.examples.split(",")
    models = {e: v[0] for e, v in EXAMPLES.items()}
    for e in examples:
        if e not in models:
            sys.exit("--examples: unknown %r (%s)" % (e, ", ".join(EXAMPLES)))
    cases = [(e, t) for e in examples for t in threads]
    loops = {(b, c): [] for b in binaries for c in cases}
    digests = {e: set() for e in examples}
    spikes = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "o.h5")
        with open(os.path.join(tmp, "lif.toml"), "w") as f:
            f.write(LIF)
        for rep in range(args.reps):
            for e, t in cases:
                _, name, extra = EXAMPLES[e]
                config = os.path.join(ROOT, "examples", name) if name else os.path.join(tmp, "lif.toml")
                # Alternate which goes first, so neither always follows the other.
                for b in (list(binaries) if rep % 2 == 0 else list(binaries)[::-1]):
                    cmd = [binaries[b], "run", config, "--quiet", "--output", out, "--duration",
                           str(args.duration * 1000.0), "--threads", str(t)] + extra
                    p = subprocess.run(cmd, capture_output=True, text=True)
                    if p.returncode != 0:
                        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr[-3000:]))
                    summary, n, digest = spikeline_output(out)
                    loops[(b, (e, t))].append(summary["loop_s"])
                    digests[e].add(digest)
                    spikes[e] = n
                    print("rep %d %s %-9s %d thread(s): loop %.3f s, %d spikes, digest %s" %
                          (rep + 1, e, b, t, summary["loop_s"], n, digest), flush=True)
        counts = {}
        if args.callgrind > 0:
            for e in examples:
                _, name, extra = EXAMPLES[e]
                config = os.path.join(ROOT, "examples", name) if name else os.path.join(tmp, "lif.toml")
                for b in binaries:
                    counts[(b, e)] = instructions(binaries[b], config, extra, args.callgrind, tmp)
                    print("callgrind %s %s: %d instructions" % (e, b, counts[(b, e)]), flush=True)
    identical = {e: len(digests[e]) == 1 for e in examples}
    if not all(identical.values()):
        print("WARNING: the spikes differ: %s" % digests, file=sys.stderr)
    rows = {}
    for c in cases:
        n, k = loops[("native", c)], loops[("catalogue", c)]
        rows[c] = {"native_min": min(n), "native_median": statistics.median(n),
                   "catalogue_min": min(k), "catalogue_median": statistics.median(k),
                   "ratio_min": min(k) / min(n),
                   "ratio_median": statistics.median(k) / statistics.median(n),
                   "native_s": n, "catalogue_s": k}
    res = {"date": datetime.date.today().isoformat(), "commit": commit(),
           "before": args.before, "duration_s": args.duration, "reps": args.reps,
           "spikes": spikes, "spikes_identical": identical,
           "cases": {"%s/%d" % c: r for c, r in rows.items()}}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    if counts:
        res["callgrind"] = {"seconds": args.callgrind,
                            "instructions": {"%s/%s" % k: v for k, v in counts.items()}}
    with open(os.path.join(HERE, "results", args.results + ".json"), "w") as f:
        json.dump(res, f, indent=1)
    lines = ["# Built-in models and rules native vs through the plugin ABI (the built-in catalogues)", "",
             "%s, commit %s against a build of the commit before the change; %.0f s simulated, "
             "%d alternating runs per row; loop time (network building excluded), seconds. "
             "Spikes: %s." % (res["date"], res["commit"], args.duration, args.reps,
                              "; ".join("%s %s (%d spikes)" %
                                        (e, "bit-identical" if identical[e] else "DIFFER",
                                         spikes[e]) for e in examples)), "",
             "| network | model or rule | threads | native min | catalogue min | ratio | native median | "
             "catalogue median | ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for (e, t), r in rows.items():
        lines.append("| %s | %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |" %
                     (e, models[e], t, r["native_min"], r["catalogue_min"],
                      r["ratio_min"], r["native_median"], r["catalogue_median"],
                      r["ratio_median"]))
    if counts:
        lines += ["", "Instructions of `Simulator::run_until` under callgrind, %g s simulated at 1 "
                  "thread (independent of the machine's load):" % args.callgrind, "",
                  "| network | model or rule | native | catalogue | ratio |", "|---|---|---|---|---|"]
        for e in examples:
            n, k = counts[("native", e)], counts[("catalogue", e)]
            lines.append("| %s | %s | %.4g | %.4g | %.3f |" % (e, models[e], n, k, k / n))
    with open(os.path.join(HERE, "results", args.results + ".md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
