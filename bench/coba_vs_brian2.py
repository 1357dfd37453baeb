#!/usr/bin/python3
"""COBA (Brette et al. 2007) in spikeline and in Brian2 cpp_standalone, side
by side on this machine: alternating runs, several repetitions, medians and
ratios. Machines here are shared and noisy; absolute times drift, the ratio
of runs made back to back holds better.

    /usr/bin/python3 bench/coba_vs_brian2.py [--reps 3] [--n 4000] [--duration 10]

Writes bench/results/coba_<n>.md and .json (date, machine, commit). Loop
time is the simulation loop alone: spikeline's loop_s from the output's
/provenance/summary, Brian2's device._last_run_time (the compiled binary's
run, not code generation or compilation). Peak RSS is the whole process's.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

from benchlib import commit as source_commit, own_rss_mib, run, spikeline_output

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REFERENCE = os.path.join(os.path.dirname(ROOT), "shared", "reference", "brian2_coba.py")


def size_overrides(n):
    """The --set overrides that make examples/coba.toml the benchmark's COBA
    of n neurons: 80 % excitatory, p = 0.02 up to 4,000 neurons and an
    in-degree of 80 beyond (benchmarks.md)."""
    p = 0.02 if n <= 4000 else 80.0 / n
    out = ["population.exc.size=%d" % int(round(0.8 * n)),
           "population.inh.size=%d" % (n - int(round(0.8 * n)))]
    return out + ["projection.%s.p=%g" % (proj, p)
                  for proj in ("exc_to_exc", "exc_to_inh", "inh_to_exc", "inh_to_inh")]


def spikeline(binary, n, duration_s, threads, tmp):
    out = os.path.join(tmp, "coba.h5")
    cmd = [binary, "run", os.path.join(ROOT, "examples", "coba.toml"), "--quiet", "--output", out,
           "--threads", str(threads), "--duration", str(duration_s * 1000.0)]
    for s in size_overrides(n):
        cmd += ["--set", s]
    _, wall, rss = run(cmd)
    summary, spikes, digest = spikeline_output(out)
    return {"loop_s": summary["loop_s"], "build_s": summary["build_s"], "process_s": wall,
            "rss_mib": own_rss_mib(summary, rss), "spikes": spikes, "synapses": summary["synapses"],
            "synapse_bytes": summary["synapse_bytes"], "digest": digest}


def brian2(n, duration_s, threads, tmp):
    out, wall, rss = run(["/usr/bin/python3", REFERENCE, "--n", str(n), "--duration", str(duration_s),
                          "--threads", str(threads), "--outdir", os.path.join(tmp, "b2")])
    r = json.loads(out.strip().splitlines()[-1])
    return {"loop_s": r["sim_wall_s"], "process_s": wall, "rss_mib": rss, "spikes": r["spikes"],
            "synapses": r["synapses"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--duration", type=float, default=10.0, help="simulated seconds")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    args = ap.parse_args()

    cases = [("spikeline 1 thread", lambda t: spikeline(args.binary, args.n, args.duration, 1, t)),
             ("spikeline 2 threads", lambda t: spikeline(args.binary, args.n, args.duration, 2, t)),
             ("brian2 standalone 1 thread", lambda t: brian2(args.n, args.duration, 1, t))]
    results = {name: [] for name, _ in cases}
    for rep in range(args.reps):
        for name, fn in cases:  # alternate, so drift hits every case alike
            with tempfile.TemporaryDirectory() as tmp:
                r = fn(tmp)
            results[name].append(r)
            print("rep %d %-28s loop %.3f s  process %.2f s  RSS %.0f MiB  spikes %d" % (
                rep + 1, name, r["loop_s"], r["process_s"], r["rss_mib"], r["spikes"]), flush=True)

    peer = statistics.median(r["loop_s"] for r in results["brian2 standalone 1 thread"])
    rows = []
    for name, _ in cases:
        rs = results[name]
        loop = statistics.median(r["loop_s"] for r in rs)
        spikes = statistics.median(r["spikes"] for r in rs)
        syn = rs[0]["synapses"]
        n = args.n
        events = spikes * (syn / n) / loop  # spikes x mean out-degree / loop seconds
        rows.append({"case": name, "loop_s": loop,
                     "process_s": statistics.median(r["process_s"] for r in rs),
                     "real_time_factor": loop / args.duration, "synaptic_events_per_s": events,
                     "peak_rss_mib": max(r["rss_mib"] for r in rs),
                     "bytes_per_synapse": (rs[0]["synapse_bytes"] / syn) if "synapse_bytes" in rs[0] else None,
                     "ratio_to_brian2_loop": loop / peer, "runs": rs})
    commit = source_commit()
    meta = {"date": datetime.date.today().isoformat(), "machine": "%s, %d cores, %s" % (
        platform.processor() or platform.machine(), os.cpu_count(), platform.platform()),
        "commit": commit, "network": "COBA n=%d, %.0f s simulated" % (args.n, args.duration),
        "reps": args.reps}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    base = os.path.join(HERE, "results", "coba_%d" % args.n)
    with open(base + ".json", "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = ["# COBA %d neurons, %.0f s: spikeline vs Brian2" % (args.n, args.duration), "",
             "%(date)s, commit %(commit)s, %(machine)s, median of %(reps)d alternating runs." % meta, "",
             "| case | loop s | process s | real-time factor | synaptic events/s | peak RSS MiB | bytes/synapse | loop / Brian2 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %.3f | %.2f | %.3f | %.3g | %.0f | %s | %.2f |" % (
            r["case"], r["loop_s"], r["process_s"], r["real_time_factor"], r["synaptic_events_per_s"],
            r["peak_rss_mib"], "%.2f" % r["bytes_per_synapse"] if r["bytes_per_synapse"] else "-",
            r["ratio_to_brian2_loop"]))
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
