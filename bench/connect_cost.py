#!/usr/bin/python3
"""What the built-in connection rules all_to_all and one_to_one pay for
going through the plugin C ABI (issue 21). Since they moved, synapses/
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

    /usr/bin/python3 bench/connect_cost.py --before /work/wt-old/build/tools/spikeline

`--callgrind` adds the instructions each binary executes (valgrind's
callgrind, 1 thread, one run of smaller networks: all_to_all 1,000 -> 2,000,
taps 200 -> 400 x 41, one_to_one 200,000): counts that a loaded machine
does not disturb, for the whole run and for the drawing of the synapses
alone (RuleSource::make, inclusive).

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


def network(rule, ns, nt, taps=1, edges=False):
    extra = "taps = %d\n" % taps if taps > 1 else ""
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


# The same at a size callgrind runs in seconds.
SMALL = {
    "all_to_all": network("all_to_all", 1000, 2000),
    "taps": network("all_to_all", 200, 400, taps=41),
    "one_to_one": network("one_to_one", 200_000, 200_000),
}

CASES = {
    "all_to_all": (network("all_to_all", 2000, 4000), 8_000_000),
    "taps": (network("all_to_all", 200, 400, taps=41, edges=True), 3_280_000),
    "one_to_one": (network("one_to_one", 1_000_000, 1_000_000), 1_000_000),
}


def build_seconds(binary, config, out, threads):
    p = subprocess.run([binary, "run", config, "--output", out, "--threads", str(threads)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("%s failed:\n%s" % (binary, p.stderr[-2000:]))
    m = re.search(r"build ([0-9.]+) s", p.stderr + p.stdout)
    if not m:
        sys.exit("no build time in the summary of %s" % binary)
    return float(m.group(1))


def instructions(binary, config, out):
    """(whole run, RuleSource::make inclusive) instructions under callgrind."""
    with tempfile.NamedTemporaryFile(suffix=".cg") as cg:
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg.name,
                            binary, "run", config, "--output", out, "--threads", "1", "-q"],
                           capture_output=True, text=True)
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
            text, synapses = CASES[name]
            config = os.path.join(tmp, name + ".toml")
            with open(config, "w") as f:
                f.write(text)
            times = {"before": [], "after": []}
            for rep in range(args.reps):
                for which in ("before", "after"):
                    binary = args.before if which == "before" else args.after
                    out = os.path.join(tmp, "%s-%s.h5" % (name, which))
                    times[which].append(build_seconds(binary, config, out, args.threads))
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
                with open(small, "w") as f:
                    f.write(SMALL[name])
                out = os.path.join(tmp, name + "-cg.h5")
                before, after = (instructions(b, small, out) for b in (args.before, args.after))
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
