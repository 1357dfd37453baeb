#!/usr/bin/python3
"""What the per-partition source bitmaps save in filing (issue 24, slice 9;
docs/mpi-design.md section 9.3 item 2, docs/scaling.md section 1.4).

Every partition files every spike of the window: per spike and projection
of its population a row[s], row[s + 1] lookup, mostly of empty rows at many
partitions. With the bitmaps a partition tests a bit first. Measured here:

1. COBA 64,000 (examples/coba.toml at in-degree 80, as bench/mpi_scaling.py)
   at 16, 32, 64 (and --partitions) partitions on one thread, and COBA 4,000
   at 1 and 2 partitions, with the bitmaps never, always and automatic
   (SimulationOptions::source_bitmaps): `build/bench/file_spikes` builds one
   simulator per mode and runs them in turns over the same stretches of
   simulated time (spikes checked identical); loop time, best of --reps,
   and the ratios to `never` (the code before, less one test of an empty
   vector per spike and projection).
2. With --before BINARY (spikeline built from the commit before the change):
   COBA 4,000 at 1 and 2 threads (so 1 and 2 partitions) through
   `spikeline run`, the binary before and this tree's alternating, spikes
   checked bit-identical: what the change costs a small dense network.
3. With --callgrind (and --before): the instructions of the loop
   (Simulator::run_until) of COBA 4,000 at 1 and 2 partitions, this tree
   against the commit before; and the instructions and the L1 data-cache read misses
   (callgrind's simulation of this machine's caches) of Simulator::enqueue
   alone, per mode, for COBA 4,000 at 1 and 2 partitions and COBA 64,000 at
   --callgrind-partitions (what a shared machine's load does not disturb;
   about 4 minutes per COBA 64,000 run, its build under valgrind).

Every run holds /tmp/spikeline-heavy.lock (flock) and is nice'd.

    cmake --build build --target spikeline file_spikes
    /usr/bin/python3 bench/file_spikes.py [--reps 7] [--before BINARY] [--callgrind]

Writes bench/results/file_spikes.md and .json.
"""
import argparse
import datetime
import fcntl
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

from benchlib import HERE, ROOT, commit, spikeline_output

sys.path.insert(0, HERE)
import catalogue_cost  # noqa: E402  (instructions: a run's loop under callgrind)
import coba_vs_brian2 as coba  # noqa: E402  (size_overrides: the benchmark's COBA of n)

LOCK = "/tmp/spikeline-heavy.lock"
COBA = os.path.join(ROOT, "examples", "coba.toml")
MODES = ("never", "always", "automatic")


def heavy(cmd):
    return ["flock", LOCK, "nice"] + cmd


def file_spikes(binary, n, partitions, reps, warmup_ms, duration_ms, modes=MODES, wrap=heavy):
    """file_spikes' JSON lines for COBA of n neurons."""
    cmd = [binary, COBA, "--partitions", ",".join(str(p) for p in partitions), "--modes",
           ",".join(modes), "--reps", str(reps), "--warmup", str(warmup_ms), "--duration",
           str(duration_ms)]
    for s in coba.size_overrides(n):
        cmd += ["--set", s]
    out = subprocess.run(wrap(cmd), capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), out.stderr[-3000:]))
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def bitmap_rows(binary, cases, reps):
    rows = []
    for name, n, partitions, warmup_ms, duration_ms in cases:
        print("%s at %s partitions ..." % (name, partitions), flush=True)
        lines = file_spikes(binary, n, partitions, reps, warmup_ms, duration_ms)
        for p in partitions:
            by = {r["mode"]: r for r in lines if r["partitions"] == p}
            never = by["never"]["loop_s"]
            row = {"network": name, "partitions": p, "steps": by["never"]["steps"],
                   "spikes": by["never"]["spikes"], "blocks": by["never"]["blocks"]}
            for m in MODES:
                row[m + "_s"] = by[m]["loop_s"]
                row[m + "_min"] = min(by[m]["loop_s"])
                row[m + "_bitmaps"] = by[m]["bitmaps"]
                row[m + "_bitmap_bytes"] = by[m]["bitmap_bytes"]
                # Best of the reps, and the median of each rep's ratio (the
                # modes of one rep ran the same stretch back to back).
                row[m + "_ratio_min"] = min(by[m]["loop_s"]) / min(never)
                row[m + "_ratio_median"] = statistics.median(
                    a / b for a, b in zip(by[m]["loop_s"], never))
            # What automatic saves per partition and step (us), from the minima.
            steps_per_rep = row["steps"] / reps
            row["saved_us_per_partition_step"] = (
                (row["never_min"] - row["automatic_min"]) / steps_per_rep / p * 1e6)
            rows.append(row)
            print("  %d partitions: never %.3f s, always %.3fx, automatic %.3fx (%d of %d blocks)"
                  % (p, row["never_min"], row["always_ratio_min"], row["automatic_ratio_min"],
                     row["automatic_bitmaps"], row["blocks"]), flush=True)
    return rows


def before_after(before, after, reps, seconds, tmp):
    """COBA 4,000 through `spikeline run` at 1 and 2 threads, alternating."""
    loops, digests = {}, {}
    for threads in (1, 2):
        for rep in range(reps):
            order = [("before", before), ("after", after)]
            if rep % 2:
                order.reverse()
            for label, binary in order:
                out = os.path.join(tmp, "coba.h5")
                cmd = [binary, "run", COBA, "--quiet", "--output", out, "--threads",
                       str(threads), "--duration", str(seconds * 1000.0)]
                subprocess.run(heavy(cmd), check=True, capture_output=True)
                summary, _, digest = spikeline_output(out)
                loops.setdefault((label, threads), []).append(summary["loop_s"])
                digests.setdefault(threads, set()).add(digest)
        print("  COBA 4,000 at %d thread(s): before %.3f s, after %.3f s (min)"
              % (threads, min(loops[("before", threads)]), min(loops[("after", threads)])),
              flush=True)
    rows = []
    for threads in (1, 2):
        b, a = loops[("before", threads)], loops[("after", threads)]
        rows.append({"threads": threads, "partitions": threads, "before_s": b, "after_s": a,
                     "before_min": min(b), "after_min": min(a),
                     "ratio_min": min(a) / min(b),
                     "ratio_median": statistics.median(a) / statistics.median(b),
                     "identical": len(digests[threads]) == 1})
    return rows


def callgrind(binary, n, partitions, mode, warmup_ms, duration_ms, tmp):
    """Instructions and L1 data read misses of Simulator::enqueue (inclusive)
    over the warm-up and the timed stretch."""
    out = os.path.join(tmp, "cg.out")
    wrap = lambda cmd: heavy(["valgrind", "--tool=callgrind", "--cache-sim=yes",
                              "--callgrind-out-file=" + out,
                              "--toggle-collect=*Simulator::enqueue*"] + cmd)
    file_spikes(binary, n, [partitions], 1, warmup_ms, duration_ms, modes=(mode,), wrap=wrap)
    text = open(out).read()
    events = re.search(r"^events: (.*)$", text, re.M).group(1).split()
    totals = re.search(r"^totals: (.*)$", text, re.M) or re.search(r"^summary: (.*)$", text, re.M)
    values = dict(zip(events, (int(v) for v in totals.group(1).split())))
    return {"Ir": values["Ir"], "D1mr": values["D1mr"]}


def run_instructions(binary, partitions, seconds, tmp):
    """Instructions of Simulator::run_until (inclusive: the loop, one
    thread) of COBA 4,000 under callgrind, with `partitions` partitions,
    holding the lock meanwhile."""
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return catalogue_cost.instructions(
            binary, COBA, ["--set", "simulation.partitions=%d" % partitions], seconds, tmp)


def write(res):
    with open(os.path.join(HERE, "results", "file_spikes.json"), "w") as f:
        json.dump(res, f, indent=1)
    lines = ["# Filing with per-partition source bitmaps (issue 24, slice 9)", "",
             "`%s` (last part run) on %s, commit %s. One thread; every run held `%s` and was nice'd. "
             "Loop time of the timed stretches (build and warm-up excluded), best of %d; the "
             "modes of one rep ran the same stretch of simulated time back to back, and their "
             "spikes were checked identical. `never` is the code before the bitmaps (less one "
             "test of an empty vector per spike and projection); ratios below 1 are faster."
             % (res["command"], res["date"], res["commit"], LOCK, res.get("reps", 0)), "",
             "| network | partitions | spikes per step | never: loop s | always / never | "
             "automatic / never | automatic / never, median of reps | bitmaps kept (automatic) "
             "| their KiB | saved per partition per step, us |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in res.get("bitmaps", []):
        lines.append("| %s | %d | %.1f | %.3f | %.3f | %.3f | %.3f | %d of %d | %.0f | %.2f |" % (
            r["network"], r["partitions"], r["spikes"] / r["steps"], r["never_min"],
            r["always_ratio_min"], r["automatic_ratio_min"], r["automatic_ratio_median"],
            r["automatic_bitmaps"], r["blocks"], r["automatic_bitmap_bytes"] / 1024,
            r["saved_us_per_partition_step"]))
    if res.get("before_after"):
        lines += ["", "## COBA 4,000 against the commit before (`spikeline run`, %g s)" %
                  res["before_after_s"], "",
                  "The before binary: %s. Alternating runs, %d each; loop time (the summary's "
                  "`loop_s`)." % (res["before"], res["reps_before"]), "",
                  "| threads (= partitions) | before: loop s min | after: loop s min | "
                  "after / before (min) | after / before (median) | spikes identical |",
                  "|---|---|---|---|---|---|"]
        for r in res["before_after"]:
            lines.append("| %d | %.3f | %.3f | %.3f | %.3f | %s |" % (
                r["threads"], r["before_min"], r["after_min"], r["ratio_min"],
                r["ratio_median"], "yes" if r["identical"] else "NO"))
    if res.get("callgrind"):
        lines += ["", "## Simulator::enqueue under callgrind", "",
                  "Instructions (Ir) and L1 data-cache read misses (D1mr, callgrind's simulation "
                  "of a 32 KiB L1d, as on this machine, without a hardware prefetcher; its last "
                  "level, 256 MiB as valgrind reads this VM's, missed nothing) of "
                  "`Simulator::enqueue` and what it calls, over %g ms of warm-up and %g ms "
                  "timed; ratios to `never`." % (res["callgrind_ms"][0], res["callgrind_ms"][1]),
                  "", "| network | partitions | mode | Ir | Ir / never | D1mr | D1mr / never |",
                  "|---|---|---|---|---|---|---|"]
        for r in res["callgrind"]:
            lines.append("| %s | %d | %s | %d | %.3f | %d | %.3f |" % (
                r["network"], r["partitions"], r["mode"], r["Ir"], r["Ir_ratio"], r["D1mr"],
                r["D1mr_ratio"]))
    if res.get("callgrind_before"):
        lines += ["", "## COBA 4,000 against the commit before, under callgrind", "",
                  "Instructions of `Simulator::run_until` (the loop; one thread, %g s "
                  "simulated), this tree against %s." % (res["callgrind_before_s"],
                                                        res.get("before", "the commit before")),
                  "", "| partitions | before | after | after / before |", "|---|---|---|---|"]
        for r in res["callgrind_before"]:
            lines.append("| %d | %d | %d | %.4f |" % (r["partitions"], r["before"], r["after"],
                                                     r["after"] / r["before"]))
    lines.append("")
    with open(os.path.join(HERE, "results", "file_spikes.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--file-spikes", default=os.path.join(ROOT, "build", "bench", "file_spikes"))
    ap.add_argument("--after", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    ap.add_argument("--before", help="spikeline built from the commit before the bitmaps")
    ap.add_argument("--before-label", help="what --before is, for the results (its commit)")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--reps-before", type=int, default=7)
    ap.add_argument("--partitions", default="16,32,64",
                    help="partition counts of COBA 64,000")
    ap.add_argument("--duration", type=float, default=200.0,
                    help="ms per rep of COBA 64,000 (COBA 4,000: 10 times as long)")
    ap.add_argument("--before-seconds", type=float, default=5.0)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--callgrind-partitions", default="64",
                    help="partition counts of COBA 64,000 under callgrind ('' for none)")
    ap.add_argument("--only", default="bitmaps,before,callgrind,callgrind_before",
                    help="which parts to run (the others' results are kept from the .json)")
    args = ap.parse_args()
    partitions = [int(p) for p in args.partitions.split(",")]
    cases = [("COBA 64,000", 64000, partitions, 100.0, args.duration),
             ("COBA 4,000", 4000, [1, 2], 100.0, 10 * args.duration)]
    only = args.only.split(",")
    path = os.path.join(HERE, "results", "file_spikes.json")
    res = {}
    if set(only) != {"bitmaps", "before", "callgrind", "callgrind_before"} and os.path.exists(path):
        with open(path) as f:
            res = json.load(f)
    res.update(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
               commit=commit(), command=" ".join(["bench/file_spikes.py"] + sys.argv[1:]))
    if "bitmaps" in only:
        res["reps"] = args.reps
        res["bitmaps"] = bitmap_rows(args.file_spikes, cases, args.reps)
        write(res)
    with tempfile.TemporaryDirectory() as tmp:
        if "before" in only and args.before:
            res.update(before=args.before_label or args.before, reps_before=args.reps_before,
                       before_after_s=args.before_seconds,
                       before_after=before_after(args.before, args.after, args.reps_before,
                                                 args.before_seconds, tmp))
            write(res)
        if "callgrind" in only and args.callgrind:
            warm, timed = 20.0, 50.0
            res["callgrind_ms"] = [warm, timed]
            rows = []
            large = [int(p) for p in args.callgrind_partitions.split(",") if p]
            for name, n, parts in (("COBA 4,000", 4000, [1, 2]), ("COBA 64,000", 64000, large)):
                for p in parts:
                    base = None
                    for mode in MODES:
                        c = callgrind(args.file_spikes, n, p, mode, warm, timed, tmp)
                        base = base or c
                        rows.append({"network": name, "partitions": p, "mode": mode, **c,
                                     "Ir_ratio": c["Ir"] / base["Ir"],
                                     "D1mr_ratio": c["D1mr"] / max(base["D1mr"], 1)})
                        print("  callgrind %s, %d partitions, %s: %d Ir, %d D1mr" %
                              (name, p, mode, c["Ir"], c["D1mr"]), flush=True)
            res["callgrind"] = rows
            write(res)
        if "callgrind_before" in only and args.callgrind and args.before:
            seconds = 1.0
            rows = []
            for p in (1, 2):
                row = {"partitions": p}
                for label, binary in (("before", args.before), ("after", args.after)):
                    row[label] = run_instructions(binary, p, seconds, tmp)
                print("  callgrind COBA 4,000, %d partitions: before %d, after %d Ir (%.4f)" %
                      (p, row["before"], row["after"], row["after"] / row["before"]), flush=True)
                rows.append(row)
            res.update(callgrind_before=rows, callgrind_before_s=seconds)
            write(res)

if __name__ == "__main__":
    main()
