#!/usr/bin/python3
"""sparse_lif (shared/specs/benchmarks.md) in spikeline and in Brian2
cpp_standalone, side by side on this machine: 1,000,000 delta-synapse LIF
neurons at about 0.5 Hz, 10 recurrent synapses each, the network where an
event-driven engine must win. Alternating runs, medians and ratios.

    /usr/bin/python3 bench/sparse_vs_brian2.py [--reps 2] [--long] [--quick]

  --quick  100,000 neurons instead of 1,000,000 (a minute instead of ten)
  --long   adds spikeline runs of 10 simulated seconds (Brian2 stays at 1 s:
           at ~90 s per simulated second, 10 s would take a quarter hour)
  --from-json results/sparse_lif.json   rewrites the tables, running nothing

Writes bench/results/sparse_lif.md and .json (sparse_lif_<n> for other sizes)
with date, machine and commit. Loop time is the simulation loop alone:
spikeline's loop_s from the output's /provenance/summary, Brian2's
device._last_run_time (the compiled binary's run). Build is spikeline's
build_s (populations, synapses, their layout, the output file); for Brian2
the table gives process minus loop (Python, code generation, compilation,
synapse creation). Peak RSS is the whole process's. Ratios are per simulated
second, so runs of different lengths compare. spikeline runs with
output.edges = false: Brian2 writes no connectivity either (writing the
10 million edges adds about a second and 40 bytes per synapse of peak RSS).
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


from benchlib import own_rss_mib, run, spikeline_output

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REFERENCE = os.path.join(os.path.dirname(ROOT), "shared", "reference", "brian2_sparse.py")


def spikeline(binary, n, duration_s, threads, tmp):
    out = os.path.join(tmp, "sparse.h5")
    cmd = [binary, "run", os.path.join(ROOT, "examples", "sparse_lif.toml"), "--quiet",
           "--output", out, "--threads", str(threads), "--duration", str(duration_s * 1000.0),
           "--set", "population.net.size=%d" % n, "--set", "population.drive.size=%d" % n,
           "--set", "output.edges=false"]
    _, wall, rss = run(cmd)
    summary, spikes, digest = spikeline_output(out)
    return {"duration_s": duration_s, "loop_s": summary["loop_s"], "build_s": summary["build_s"],
            "process_s": wall, "rss_mib": own_rss_mib(summary, rss), "spikes": spikes, "synapses": summary["synapses"],
            "synapse_bytes": summary["synapse_bytes"], "digest": digest}


def brian2(n, duration_s, tmp):
    out, wall, rss = run(["/usr/bin/python3", REFERENCE, "--n", str(n), "--duration",
                              str(duration_s), "--outdir", os.path.join(tmp, "b2")])
    r = json.loads(out.strip().splitlines()[-1])
    return {"duration_s": duration_s, "loop_s": r["sim_wall_s"], "build_s": wall - r["sim_wall_s"],
            "process_s": wall, "rss_mib": rss, "spikes": r["spikes"], "synapses": n * r["in_degree"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="100,000 neurons")
    ap.add_argument("--n", type=int, default=None, help="neurons (default 1,000,000; --quick 100,000)")
    ap.add_argument("--long", action="store_true", help="also spikeline runs of 10 simulated seconds")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    ap.add_argument("--from-json", help="rewrite the tables from a results .json, running nothing")
    args = ap.parse_args()
    n = args.n or (100_000 if args.quick else 1_000_000)
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        n = saved["meta"].get("n") or int(saved["meta"]["network"].split("n=")[1].split()[0])
        results = {row["case"]: row["runs"] for row in saved["rows"]}
        report(n, results, saved["meta"])
        return

    cases = [("spikeline 1 thread, 1 s", lambda t: spikeline(args.binary, n, 1.0, 1, t)),
             ("spikeline 2 threads, 1 s", lambda t: spikeline(args.binary, n, 1.0, 2, t)),
             ("brian2 standalone, 1 s", lambda t: brian2(n, 1.0, t))]
    if args.long:
        cases += [("spikeline 1 thread, 10 s", lambda t: spikeline(args.binary, n, 10.0, 1, t)),
                  ("spikeline 2 threads, 10 s", lambda t: spikeline(args.binary, n, 10.0, 2, t))]
    results = {name: [] for name, _ in cases}
    for rep in range(args.reps):
        for name, fn in cases:  # alternate, so drift hits every case alike
            load = os.getloadavg()[0]  # a shared machine: say how busy it was
            with tempfile.TemporaryDirectory() as tmp:
                r = fn(tmp)
            r["load_before"] = load
            results[name].append(r)
            print("rep %d %-26s loop %.3f s  build %.2f s  process %.2f s  RSS %.0f MiB  spikes %d" % (
                rep + 1, name, r["loop_s"], r["build_s"], r["process_s"], r["rss_mib"], r["spikes"]),
                flush=True)

    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    loads = [r["load_before"] for rs in results.values() for r in rs]
    meta = {"date": datetime.date.today().isoformat(), "machine": "%s, %d cores, %s" % (
        platform.processor() or platform.machine(), os.cpu_count(), platform.platform()),
        "commit": commit, "network": "sparse_lif n=%d (in-degree 10, 0.5 Hz Poisson drive)" % n,
        "n": n, "reps": args.reps, "load_average": [min(loads), max(loads)]}
    report(n, results, meta)


def report(n, results, meta):
    """Medians, ratios to Brian2 per simulated second; writes results/sparse_lif*.md and .json."""

    def per_sim_s(rs, key):
        return statistics.median(r[key] / r["duration_s"] for r in rs)

    peer = results["brian2 standalone, 1 s"]
    peer_loop, peer_process = per_sim_s(peer, "loop_s"), per_sim_s(peer, "process_s")
    rows = []
    for name, rs in results.items():
        duration = rs[0]["duration_s"]
        loop = statistics.median(r["loop_s"] for r in rs)
        spikes = statistics.median(r["spikes"] for r in rs)
        syn = rs[0]["synapses"]
        rows.append({
            "case": name, "simulated_s": duration, "loop_s": loop,
            "build_s": statistics.median(r["build_s"] for r in rs),
            "process_s": statistics.median(r["process_s"] for r in rs),
            "real_time_factor": loop / duration, "rate_hz": spikes / n / duration,
            # recurrent events: each spike reaches 10 targets on average (the
            # Poisson drive, a synapse in spikeline but not in Brian2, is left out)
            "synaptic_events_per_s": spikes * 10 / loop,
            "peak_rss_mib": max(r["rss_mib"] for r in rs),
            "bytes_per_synapse": (rs[0]["synapse_bytes"] / syn) if "synapse_bytes" in rs[0] else None,
            "loop_ratio_to_brian2": per_sim_s(rs, "loop_s") / peer_loop,
            "process_ratio_to_brian2": per_sim_s(rs, "process_s") / peer_process, "runs": rs})
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    base = os.path.join(HERE, "results", "sparse_lif" if n == 1_000_000 else "sparse_lif_%d" % n)
    with open(base + ".json", "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = ["# sparse_lif, %d neurons: spikeline vs Brian2" % n, "",
             "%(date)s, commit %(commit)s, %(machine)s, median of %(reps)d alternating runs." % meta
             + (" 1-minute load average before the runs: %.1f to %.1f." % tuple(meta["load_average"])
                if "load_average" in meta else ""),
             "Ratios are per simulated second (below 1: spikeline is faster). Brian2's build is "
             "process minus loop (Python, code generation, compilation, synapses); spikeline's is "
             "its build_s. spikeline runs with output.edges = false." +
             (" " + meta["note"] if meta.get("note") else ""), "",
             "| case | loop s | build s | process s | real-time factor | rate Hz | synaptic events/s "
             "| peak RSS MiB | loop / Brian2 | process / Brian2 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %.2f | %.2f | %.2f | %.3g | %.3f | %.3g | %.0f | %.4f | %.4f |" % (
            r["case"], r["loop_s"], r["build_s"], r["process_s"], r["real_time_factor"], r["rate_hz"],
            r["synaptic_events_per_s"], r["peak_rss_mib"], r["loop_ratio_to_brian2"],
            r["process_ratio_to_brian2"]))
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
