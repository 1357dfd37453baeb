#!/usr/bin/python3
"""What the built-in connection rules all_to_all, one_to_one,
fixed_probability, fixed_indegree, fixed_outdegree and fixed_total_number
pay for going through the plugin C ABI (issue 21). Since they moved, synapses/
draws them through plugin::PluginPairRule, as it draws a plugin's rule: one
connect() call per target through a function pointer, one add() call per
source, the sources checked (range, multapses) and then emitted with their
weights and delays; before, a loop in synapses/ wrote the synapses in
place.

Two spikeline binaries, `--before` (a Release build of the commit before)
and `--after` (default: this tree's build), build each network alternately
(`--reps` times each) and simulate one step; the network-building time of
the run's summary is reported as minimum and median, and the ratio
after / before. The files must be bit-identical but for /provenance
(checked: spikes, and the edges of the smaller networks).

Networks:
  all_to_all  2,000 -> 4,000 iaf_psc_delta, weights normal, delays uniform:
              8,000,000 synapses, 2 threads
  taps        all_to_all 200 -> 400 with taps = 41 (the working-memory
              tensor): 3,280,000 synapses
  one_to_one  1,000,000 -> 1,000,000, normal weights
  coba64k     examples/coba.toml at 64,000 neurons (fixed_probability,
              in-degree 80, the benchmarks' COBA): 5,120,000 synapses
  bernoulli   fixed_probability 4,000 -> 8,000 with p = 0.25: 8,000,000
              synapses, the per-source cost without COBA's sparseness
  brunel      examples/brunel.toml (fixed_indegree 1,000 and 250, with
              multapses; two projections without autapses): 15,625,000
  distinct    fixed_indegree 4,000 -> 8,000, indegree 500, multapses =
              false (Floyd's sample, sorted): 4,000,000
  outdegree   fixed_outdegree 10,000 -> 5,000, outdegree 2,000 (drawn by
              source, ABI 1.5): 20,000,000
  total       fixed_total_number 5,000 -> 10,000, total 20,000,000
              (per-target counts, ABI 1.5): 20,000,000

    /usr/bin/python3 bench/connect_cost.py --before /work/wt-old/build/tools/spikeline

`--callgrind` adds the instructions each binary executes (valgrind's
callgrind, 1 thread, one run of smaller networks: all_to_all 1,000 -> 2,000,
taps 200 -> 400 x 41, one_to_one 200,000, COBA 4,000 (p = 0.02),
fixed_probability 1,000 -> 2,000 at p = 0.25, Brunel at 2,000 + 500
neurons, fixed_indegree 1,000 -> 2,000 of 200 distinct, fixed_outdegree
2,000 -> 1,000 of 200, fixed_total_number 1,000 -> 2,000 of 400,000): counts that a
loaded machine does not disturb, for the whole run and for the drawing of
the synapses alone (RuleSource::make, inclusive).

Writes bench/results/connect_cost.md and .json.
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

from benchlib import HERE, ROOT, commit


def network(rule, ns, nt, taps=1, edges=False, keys=""):
    """`keys`: the rule's own keys of the projection (p = 0.25)."""
    extra = ("taps = %d\n" % taps if taps > 1 else "") + keys
    delay = "1.0" if taps > 1 else '{ distribution = "uniform", low = 1.0, high = 5.0 }'
    return f"""\
[simulation]
dt = 0.1
duration = 0.1
seed = 3

[[population]]
name = "a"
model = "iaf_psc_delta"
size = {ns}

[[population]]
name = "b"
model = "iaf_psc_delta"
size = {nt}

[[projection]]
source = "a"
target = "b"
rule = "{rule}"
weight = {{ distribution = "normal", mean = 0.5, std = 0.1 }}
delay = {delay}
{extra}
[output]
edges = {"true" if edges else "false"}
"""


def example(name, sets=()):
    """An example's text, one step long, with `--set` overrides."""
    with open(os.path.join(ROOT, "examples", name)) as f:
        return f.read(), ["simulation.duration=0.1", "output.edges=false"] + list(sets)


def coba(n):
    from coba_vs_brian2 import size_overrides
    return example("coba.toml", size_overrides(n))


def brunel(exc, inh):
    return example("brunel.toml", ["population.exc.size=%d" % exc,
                                   "population.inh.size=%d" % inh])


BERNOULLI = "p = 0.25\n"
DISTINCT = "multapses = false\n"

# The same at a size callgrind runs in seconds: (config text, --set list).
SMALL = {
    "all_to_all": (network("all_to_all", 1000, 2000), []),
    "taps": (network("all_to_all", 200, 400, taps=41), []),
    "one_to_one": (network("one_to_one", 200_000, 200_000), []),
    "coba64k": coba(4000),
    "bernoulli": (network("fixed_probability", 1000, 2000, keys=BERNOULLI), []),
    "brunel": brunel(2000, 500),
    "distinct": (network("fixed_indegree", 1000, 2000, keys="indegree = 200\n" + DISTINCT), []),
    "outdegree": (network("fixed_outdegree", 2000, 1000, keys="outdegree = 200\n"), []),
    "total": (network("fixed_total_number", 1000, 2000, keys="total = 400000\n"), []),
}

# (config text, --set list, synapses)
CASES = {
    "all_to_all": (network("all_to_all", 2000, 4000), [], 8_000_000),
    "taps": (network("all_to_all", 200, 400, taps=41, edges=True), [], 3_280_000),
    "one_to_one": (network("one_to_one", 1_000_000, 1_000_000), [], 1_000_000),
    "coba64k": coba(64000) + (5_120_000,),
    "bernoulli": (network("fixed_probability", 4000, 8000, keys=BERNOULLI), [], 8_000_000),
    "brunel": brunel(10000, 2500) + (15_625_000,),
    "distinct": (network("fixed_indegree", 4000, 8000, keys="indegree = 500\n" + DISTINCT), [],
                 4_000_000),
    "outdegree": (network("fixed_outdegree", 10000, 5000, keys="outdegree = 2000\n"), [],
                  20_000_000),
    "total": (network("fixed_total_number", 5000, 10000, keys="total = 20000000\n"), [],
              20_000_000),
}


def set_args(sets):
    return [a for s in sets for a in ("--set", s)]


def build_seconds(binary, config, sets, out, threads):
    p = subprocess.run([binary, "run", config, "--output", out, "--threads", str(threads)] +
                       set_args(sets), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("%s failed:\n%s" % (binary, p.stderr[-2000:]))
    m = re.search(r"build ([0-9.]+) s", p.stderr + p.stdout)
    if not m:
        sys.exit("no build time in the summary of %s" % binary)
    return float(m.group(1))


def instructions(binary, config, sets, out):
    """(whole run, RuleSource::make inclusive) instructions under callgrind."""
    with tempfile.NamedTemporaryFile(suffix=".cg") as cg:
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg.name,
                            binary, "run", config, "--output", out, "--threads", "1", "-q"] +
                           set_args(sets), capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("callgrind of %s failed:\n%s" % (binary, p.stderr[-2000:]))
        total = int(re.search(r"Collected : (\d+)", p.stderr).group(1))
        a = subprocess.run(["callgrind_annotate", "--inclusive=yes", cg.name],
                           capture_output=True, text=True).stdout
        m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\?\?\?:spikeline::synapses::\(anonymous "
                      r"namespace\)::RuleSource::make\(", a, re.M)
        return total, int(m.group(1).replace(",", "")) if m else 0


def same_files(a, b):
    import h5py
    import numpy as np
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names = []
        fa.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        for n in names:
            if n.startswith("provenance"):
                continue
            if n not in fb or not np.array_equal(fa[n][()], fb[n][()]):
                return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True, help="spikeline built before the change")
    ap.add_argument("--after", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--results", default="connect_cost")
    ap.add_argument("--callgrind", action="store_true")
    args = ap.parse_args()
    rows = []
    counts = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases.split(","):
            text, sets, synapses = CASES[name]
            config = os.path.join(tmp, name + ".toml")
            with open(config, "w") as f:
                f.write(text)
            times = {"before": [], "after": []}
            for rep in range(args.reps):
                for which in ("before", "after"):
                    binary = args.before if which == "before" else args.after
                    out = os.path.join(tmp, "%s-%s.h5" % (name, which))
                    times[which].append(build_seconds(binary, config, sets, out,
                                                      args.threads))
            identical = same_files(os.path.join(tmp, name + "-before.h5"),
                                   os.path.join(tmp, name + "-after.h5"))
            if not identical:
                sys.exit("%s: the files differ" % name)
            row = {"case": name, "synapses": synapses, "threads": args.threads,
                   "before": times["before"], "after": times["after"]}
            for k in ("min", "median"):
                f = min if k == "min" else statistics.median
                row[k] = f(times["after"]) / f(times["before"])
            if args.callgrind:
                small = os.path.join(tmp, name + "-small.toml")
                small_text, small_sets = SMALL[name]
                with open(small, "w") as f:
                    f.write(small_text)
                out = os.path.join(tmp, name + "-cg.h5")
                before, after = (instructions(b, small, small_sets, out)
                                 for b in (args.before, args.after))
                counts.append({"case": name, "before": before, "after": after})
                print("%-11s callgrind: run %.3f, drawing %.3f" %
                      (name, after[0] / before[0], after[1] / max(1, before[1])))
            rows.append(row)
            print("%-11s %9d synapses  before %.3f s  after %.3f s  min ratio %.3f  median %.3f"
                  % (name, synapses, min(times["before"]), min(times["after"]), row["min"],
                     row["median"]))
    results = os.path.join(HERE, "results")
    with open(os.path.join(results, args.results + ".json"), "w") as f:
        json.dump({"date": datetime.date.today().isoformat(), "commit": commit(), "rows": rows,
                   "callgrind": counts}, f, indent=1)
    with open(os.path.join(results, args.results + ".md"), "w") as f:
        f.write("# Built-in connection rules through the plugin ABI: network-building time\n\n")
        f.write("`bench/connect_cost.py`, %s, commit %s against a build of the commit before; "
                "%d alternating runs per row at %d threads; the run summary's build time "
                "(populations, synapses, delay lines), seconds. Files bit-identical "
                "(checked).\n\n" % (datetime.date.today().isoformat(), commit(), args.reps,
                                    args.threads))
        f.write("| case | synapses | before, min | after, min | after / before, min | median |\n")
        f.write("|---|---|---|---|---|---|\n")
        for r in rows:
            f.write("| %s | %d | %.3f | %.3f | %.3f | %.3f |\n"
                    % (r["case"], r["synapses"], min(r["before"]), min(r["after"]), r["min"],
                       r["median"]))
        if counts:
            f.write("\nInstructions (callgrind, 1 thread, the smaller networks of "
                    "`--callgrind`), after / before:\n\n")
            f.write("| case | whole run | drawing the synapses (RuleSource::make) |\n")
            f.write("|---|---|---|\n")
            for c in counts:
                f.write("| %s | %.3f (%d / %d) | %.3f (%d / %d) |\n"
                        % (c["case"], c["after"][0] / c["before"][0], c["after"][0],
                           c["before"][0], c["after"][1] / max(1, c["before"][1]),
                           c["after"][1], c["before"][1]))


if __name__ == "__main__":
    main()
