#!/usr/bin/python3
"""The performance suite (its goals: docs/performance.md): every case in spikeline (1 and 2
threads) and in its peer, in the same run, alternating, and one table with
the ratios and the goals.

    /usr/bin/python3 bench/suite.py [--quick] [--reps R] [--only coba sparse pd14]

Full mode (about 20-30 minutes): COBA at 4,000, 16,000 and 64,000 neurons
(10 s), sparse_lif at 1,000,000 neurons (spikeline 10 s; Brian2 1 s, ratios
per simulated second), the PD14 microcircuit at full scale (1.5 s: 0.5 s
warm-up, 1 s measured). Quick mode (a few minutes): COBA 4,000 (10 s) and
16,000 (2 s), sparse_lif at 100,000 (1 s) and PD14 at scale 0.1 (spikeline
only; it checks the pipeline, its numbers are not the benchmark's).

The peer is Brian2 2.5.1 from Debian (cpp_standalone, via the scripts in
shared/reference/), run here. PD14 has no peer runnable here: NEST's
published figures (shared/specs/benchmarks.md: real-time factor 42, 14.1
GiB, built in 78 s) are the reference, not a same-run measurement.

Writes bench/results/suite.md and .json (suite_quick.* in quick mode) with
the date, machine and commit. Loop time is the simulation loop (spikeline's
loop_s, Brian2's device._last_run_time); process time and peak RSS are the
whole process's; synaptic events per second are spikes x mean out-degree /
loop seconds. "1t = 2t" says whether the spikes of 1 and 2 threads are
bit-identical (a digest of every population's node ids and times).
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

import coba_vs_brian2 as coba
import make_pd14
import sparse_vs_brian2 as sparse
from benchlib import HERE, ROOT, commit as source_commit, own_rss_mib, run, spikeline_output

BINARY = os.path.join(ROOT, "build", "tools", "spikeline")
NEST_PD14 = {"real_time_factor": 42.4, "rss_mib": 14.1 * 1024, "build_s": 78.0}
PD14_RATES = {"L23E": 0.9, "L23I": 3.0, "L4E": 4.4, "L4I": 5.9, "L5E": 7.6, "L5I": 8.6,
              "L6E": 1.1, "L6I": 7.8}
COBA_RATE_HZ = 19.1  # Brian2 reference, seeds 1-3 (benchmarks.md); 15 % tolerance


def pd14(binary, scale, threads, tmp):
    """One PD14 run; the rates per population after the 0.5 s warm-up."""
    import h5py
    toml = os.path.join(tmp, "pd14.toml")
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "make_pd14.py"), "--scale", str(scale),
                    "--output", toml], check=True, capture_output=True)
    out = os.path.join(tmp, "pd14.h5")
    _, wall, rss = run([binary, "run", toml, "--quiet", "--output", out, "--threads", str(threads)])
    summary, spikes, digest = spikeline_output(out)
    rates = {}
    with h5py.File(out, "r") as f:
        for pop, size in zip(make_pd14.POPS, make_pd14.SIZES):
            t = f["spikes"][pop]["timestamps"][...] if pop in f["spikes"] else []
            rates[pop] = {"spikes": int((t > 500.0).sum()) if len(t) else 0,
                          "size": max(1, int(round(size * scale)))}
    return {"duration_s": 1.5, "loop_s": summary["loop_s"], "build_s": summary["build_s"],
            "process_s": wall, "rss_mib": own_rss_mib(summary, rss), "spikes": spikes, "synapses": summary["synapses"],
            "synapse_bytes": summary["synapse_bytes"], "neurons": summary.get("neurons"),
            "digest": digest, "rates": rates}


def cases(quick, reps):
    """(name, neurons, simulated s, {variant: fn(tmp)}, reps) of each case."""
    b = BINARY
    out = []

    def add_coba(n, dur, r):
        out.append(("COBA %d" % n, n, dur, {
            "spikeline 1 thread": lambda t: coba.spikeline(b, n, dur, 1, t),
            "spikeline 2 threads": lambda t: coba.spikeline(b, n, dur, 2, t),
            "brian2 1 thread": lambda t: coba.brian2(n, dur, 1, t)}, r))

    def add_sparse(n, spikeline_s, brian2_s, r):
        # Simulated seconds of each side; None: ratios per simulated second.
        dur = spikeline_s if spikeline_s == brian2_s else None
        out.append(("sparse_lif %d" % n, n, dur, {
            "spikeline 1 thread": lambda t: sparse.spikeline(b, n, spikeline_s, 1, t),
            "spikeline 2 threads": lambda t: sparse.spikeline(b, n, spikeline_s, 2, t),
            "brian2 1 thread": lambda t: sparse.brian2(n, brian2_s, t)}, r))

    def add_pd14(name, scale, r):
        n = sum(max(1, int(round(k * scale))) for k in make_pd14.SIZES)
        out.append((name, n, 1.5, {
            "spikeline 1 thread": lambda t: pd14(b, scale, 1, t),
            "spikeline 2 threads": lambda t: pd14(b, scale, 2, t)}, r))

    if quick:
        add_coba(4000, 10.0, reps or 2)
        add_coba(16000, 2.0, reps or 1)
        add_sparse(100000, 1.0, 1.0, reps or 1)
        add_pd14("PD14 scale 0.1", 0.1, reps or 1)
    else:
        add_coba(4000, 10.0, reps or 3)
        add_coba(16000, 10.0, reps or 3)
        add_coba(64000, 10.0, reps or 3)
        add_sparse(1000000, 10.0, 1.0, reps or 1)
        add_pd14("PD14 full scale", 1.0, reps or 1)
    return out


def summarise(name, n, dur, results):
    """One row per variant: medians, and the ratio to the peer per simulated second."""
    rows = []
    peer = results.get("brian2 1 thread")
    peer_per_s = statistics.median(r["loop_s"] / (dur or r["duration_s"]) for r in peer) if peer else None
    for variant, rs in results.items():
        sim = dur or rs[0]["duration_s"]
        loop = statistics.median(r["loop_s"] for r in rs)
        spikes = statistics.median(r["spikes"] for r in rs)
        syn = rs[0]["synapses"]
        row = {"case": name, "variant": variant, "simulated_s": sim, "loop_s": loop,
               "build_s": statistics.median(r["build_s"] for r in rs) if "build_s" in rs[0] else None,
               "process_s": statistics.median(r["process_s"] for r in rs),
               "real_time_factor": loop / sim,
               "synaptic_events_per_s": spikes * (syn / n) / loop if loop > 0 else None,
               "rate_hz": spikes / (n * sim),
               "peak_rss_mib": max(r["rss_mib"] for r in rs),
               "bytes_per_synapse": rs[0]["synapse_bytes"] / syn if "synapse_bytes" in rs[0] and syn else None,
               "ratio_to_peer": (loop / sim) / peer_per_s if peer_per_s else None,
               "runs": rs}
        rows.append(row)
    one = results.get("spikeline 1 thread")
    two = results.get("spikeline 2 threads")
    if one and two:
        same = all(a["digest"] == b["digest"] for a, b in zip(one, two))
        speedup = statistics.median(r["loop_s"] for r in one) / statistics.median(r["loop_s"] for r in two)
        # Each repetition's own ratio too: its 1- and 2-thread runs follow
        # each other, so their range shows how much of the spread is the
        # machine's drift between repetitions.
        per_rep = [a["loop_s"] / b["loop_s"] for a, b in zip(one, two)]
        for row in rows:
            if row["variant"].startswith("spikeline"):
                row["identical_1t_2t"] = same
                row["speedup_2t"] = speedup
                row["speedup_2t_per_rep"] = per_rep
    return rows


def speedup_cell(r):
    """The 2-thread speed-up (ratio of medians), and each repetition's."""
    if r.get("speedup_2t") is None:
        return "-"
    per_rep = r.get("speedup_2t_per_rep") or []
    return "%.2f (%s)" % (r["speedup_2t"], ", ".join("%.2f" % x for x in per_rep))


def find(rows, case, variant):
    for r in rows:
        if r["case"] == case and r["variant"] == variant:
            return r
    return None


def goals(rows):
    """(goal, measured, met) for every performance goal the run measured."""
    out = []

    def check(goal, measured, met):
        out.append({"goal": goal, "measured": measured, "met": bool(met)})

    for n in (4000, 64000):
        r = find(rows, "COBA %d" % n, "spikeline 1 thread")
        if r and r["ratio_to_peer"] is not None:
            check("COBA %d, 1 thread: loop <= 0.5 x Brian2" % n, "%.2f x" % r["ratio_to_peer"],
                  r["ratio_to_peer"] <= 0.5)
        r = find(rows, "COBA %d" % n, "spikeline 2 threads")
        if r:
            check("COBA %d: 2 threads >= 1.8 x 1 thread" % n, "%.2f x" % r["speedup_2t"],
                  r["speedup_2t"] >= 1.8)
    for r in rows:
        if r["case"].startswith("COBA") and r["variant"].startswith("spikeline"):
            check("%s %s: rate within 15 %% of %.1f Hz" % (r["case"], r["variant"], COBA_RATE_HZ),
                  "%.2f Hz" % r["rate_hz"], abs(r["rate_hz"] / COBA_RATE_HZ - 1) <= 0.15)
    r = find(rows, "sparse_lif 1000000", "spikeline 2 threads")
    r1 = find(rows, "sparse_lif 1000000", "spikeline 1 thread")
    for row in (r1, r):
        if row:
            check("sparse_lif 1,000,000, %s: >= 100 x faster than Brian2 per simulated s" % row["variant"],
                  "%.0f x" % (1 / row["ratio_to_peer"]), 1 / row["ratio_to_peer"] >= 100)
    r = find(rows, "PD14 full scale", "spikeline 2 threads")
    if r:
        check("PD14, 2 threads: real-time factor <= 10", "%.1f" % r["real_time_factor"],
              r["real_time_factor"] <= 10)
        check("PD14, 2 threads: peak RSS <= 4 GiB", "%.2f GiB" % (r["peak_rss_mib"] / 1024),
              r["peak_rss_mib"] <= 4096)
        check("PD14, 2 threads: built in <= 20 s", "%.1f s" % r["build_s"], r["build_s"] <= 20)
        check("memory: <= 8 bytes per static synapse (PD14)", "%.2f B" % r["bytes_per_synapse"],
              r["bytes_per_synapse"] <= 8)
    for r in rows:
        if r["variant"] == "spikeline 2 threads":
            check("%s: spikes bit-identical at 1 and 2 threads" % r["case"],
                  "yes" if r["identical_1t_2t"] else "NO", r["identical_1t_2t"])
    return out


def fmt(x, spec):
    return "-" if x is None else spec % x


def write(rows, goal_rows, meta, base):
    with open(base + ".json", "w") as f:
        json.dump({"meta": meta, "rows": rows, "goals": goal_rows}, f, indent=1)
    lines = ["# Performance suite%s: spikeline vs Brian2" % (" (quick)" if meta["quick"] else ""), "",
             "%(date)s, commit %(commit)s, %(machine)s. Produced by `%(command)s`; "
             "medians over alternating runs (reps per case in the JSON)." % meta, "",
             "Ratios are per simulated second against Brian2 standalone (1 thread) in the same run; "
             "below 1 spikeline is faster. PD14 has no peer here; NEST's published figures: "
             "real-time factor 42.4, 14.1 GiB, built in 78 s.", "",
             "| case | variant | simulated s | loop s | build s | process s | real-time factor | "
             "synaptic events/s | rate Hz | peak RSS MiB | bytes/synapse | loop / Brian2 | "
             "2t speed-up (per repetition) | 1t = 2t |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %s | %g | %.3f | %s | %.2f | %.3g | %s | %.3g | %.0f | %s | %s | %s | %s |" % (
            r["case"], r["variant"], r["simulated_s"], r["loop_s"], fmt(r["build_s"], "%.2f"),
            r["process_s"], r["real_time_factor"], fmt(r["synaptic_events_per_s"], "%.3g"),
            r["rate_hz"], r["peak_rss_mib"], fmt(r["bytes_per_synapse"], "%.2f"),
            fmt(r["ratio_to_peer"], "%.3g"), speedup_cell(r),
            {True: "yes", False: "NO", None: "-"}[r.get("identical_1t_2t")]))
    lines += ["", "## Goals", "", "| goal | measured | met |", "|---|---|---|"]
    for g in goal_rows:
        lines.append("| %s | %s | %s |" % (g["goal"], g["measured"], "yes" if g["met"] else "**no**"))
    # At reduced scale the in-degrees, and so the rates, are not PD14's.
    pd = [r for r in rows if r["case"] == "PD14 full scale" and r["variant"] == "spikeline 2 threads"]
    if pd:
        rates = pd[0]["runs"][0]["rates"]
        lines += ["", "## PD14 rates after the 0.5 s warm-up (Hz)", "",
                  "| population | spikeline | reference |", "|---|---|---|"]
        for pop, ref in PD14_RATES.items():
            if pop in rates and rates[pop]["size"]:
                lines.append("| %s | %.2f | %.1f |" % (pop, rates[pop]["spikes"] / rates[pop]["size"], ref))
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description="spikeline's performance suite")
    ap.add_argument("--quick", action="store_true", help="small cases: a few minutes")
    ap.add_argument("--reps", type=int, default=None, help="repetitions per case (default per case)")
    ap.add_argument("--only", nargs="+", choices=["coba", "sparse", "pd14"], default=None)
    args = ap.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("%s not found: build first (./scripts/setup.sh)" % BINARY)
    rows = []
    for name, n, dur, variants, reps in cases(args.quick, args.reps):
        kind = name.split()[0].lower().replace("_lif", "")
        if args.only and kind not in args.only:
            continue
        results = {v: [] for v in variants}
        for rep in range(reps):
            for v, fn in variants.items():  # alternate, so drift hits every variant alike
                with tempfile.TemporaryDirectory() as tmp:
                    r = fn(tmp)
                results[v].append(r)
                print("%s rep %d %-20s loop %.3f s  process %.2f s  RSS %.0f MiB  spikes %d" % (
                    name, rep + 1, v, r["loop_s"], r["process_s"], r["rss_mib"], r["spikes"]), flush=True)
        rows += summarise(name, n, dur, results)
    meta = {"date": datetime.date.today().isoformat(),
            "machine": "%s, %d cores, %s" % (platform.processor() or platform.machine(), os.cpu_count(),
                                             platform.platform()),
            "commit": source_commit(), "quick": args.quick,
            "command": "/usr/bin/python3 bench/suite.py" + (" --quick" if args.quick else "")
                       + (" --only " + " ".join(args.only) if args.only else "")}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    suffix = "_quick" if args.quick else ""
    if args.only:
        suffix += "_" + "_".join(args.only)
    write(rows, goals(rows), meta, os.path.join(HERE, "results", "suite" + suffix))


if __name__ == "__main__":
    main()
