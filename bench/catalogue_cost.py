#!/usr/bin/python3
"""What the built-in models pay for going through the plugin C ABI
(issue 21: "the built-in models and rules register through the same
interface"). iaf_cond_exp (since commit 3c6a82f) and iaf_psc_exp are
written against the plugin C++ layer and registered by the built-in
catalogue (plugin::register_catalogue); before, each was a native
Population subclass. The loop kernel is the same
code, so the difference is the boundary: the adapter's arguments, the
function pointer, the layer's dispatch, the spikes reported through the
ABI buffer and checked.

Two spikeline binaries, `--before` (a build of the commit before, e.g.
`git worktree add /tmp/before 3c6a82f~1` and a Release build there) and
`--after` (default: this tree's build), run COBA (examples/coba.toml,
4,000 iaf_cond_exp, 10 s) and CUBA (examples/cuba.toml, 4,000
iaf_psc_exp, 10 s) alternately at 1 and 2 threads; the spikes must be
bit-identical (checked), the loop times (the run's summary, network
building excluded) are reported as minimum and median and their ratios.

    /usr/bin/python3 bench/catalogue_cost.py --before /tmp/before/build/tools/spikeline [--reps 10]

Writes bench/results/catalogue_cost.md and .json.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

from benchlib import HERE, ROOT, commit, spikeline_output


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="spikeline built before the change")
    ap.add_argument("--after", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--duration", type=float, default=10.0, help="simulated seconds")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--examples", default="coba,cuba")
    args = ap.parse_args()
    for b in (args.before, args.after):
        if not os.access(b, os.X_OK):
            sys.exit("not an executable: %s" % b)
    binaries = {"native": args.before, "catalogue": args.after}
    threads = [int(t) for t in args.threads.split(",")]
    examples = args.examples.split(",")
    models = {"coba": "iaf_cond_exp", "cuba": "iaf_psc_exp"}
    for e in examples:
        if e not in models:
            sys.exit("--examples: unknown %r (coba, cuba)" % e)
    cases = [(e, t) for e in examples for t in threads]
    loops = {(b, c): [] for b in binaries for c in cases}
    digests = {e: set() for e in examples}
    spikes = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "o.h5")
        for rep in range(args.reps):
            for e, t in cases:
                config = os.path.join(ROOT, "examples", e + ".toml")
                # Alternate which goes first, so neither always follows the other.
                for b in (list(binaries) if rep % 2 == 0 else list(binaries)[::-1]):
                    cmd = [binaries[b], "run", config, "--quiet", "--output", out, "--duration",
                           str(args.duration * 1000.0), "--threads", str(t)]
                    p = subprocess.run(cmd, capture_output=True, text=True)
                    if p.returncode != 0:
                        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr[-3000:]))
                    summary, n, digest = spikeline_output(out)
                    loops[(b, (e, t))].append(summary["loop_s"])
                    digests[e].add(digest)
                    spikes[e] = n
                    print("rep %d %s %-9s %d thread(s): loop %.3f s, %d spikes, digest %s" %
                          (rep + 1, e, b, t, summary["loop_s"], n, digest), flush=True)
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
    with open(os.path.join(HERE, "results", "catalogue_cost.json"), "w") as f:
        json.dump(res, f, indent=1)
    lines = ["# Built-in models native vs through the plugin ABI (the built-in catalogue)", "",
             "%s, commit %s against a build of the commit before the change; %.0f s simulated, "
             "%d alternating runs per row; loop time (network building excluded), seconds. "
             "Spikes: %s." % (res["date"], res["commit"], args.duration, args.reps,
                              "; ".join("%s %s (%d spikes)" %
                                        (e, "bit-identical" if identical[e] else "DIFFER",
                                         spikes[e]) for e in examples)), "",
             "| network | model | threads | native min | catalogue min | ratio | native median | "
             "catalogue median | ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for (e, t), r in rows.items():
        lines.append("| %s 4,000 | %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |" %
                     (e.upper(), models[e], t, r["native_min"], r["catalogue_min"],
                      r["ratio_min"], r["native_median"], r["catalogue_median"],
                      r["ratio_median"]))
    with open(os.path.join(HERE, "results", "catalogue_cost.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
