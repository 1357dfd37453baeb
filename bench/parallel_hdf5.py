#!/usr/bin/env python3
"""Gather to rank 0 against parallel HDF5 for a run's spikes (issue 24).

Runs bench/parallel_hdf5.cpp (built by bench/parallel_hdf5.sh, which calls
this script) for every rank count, model, flush interval and strategy, each
mpirun under /tmp/spikeline-heavy.lock (one lock hold per case: its
repetitions, seconds), checks every file's /spikes against the 1-rank gather
file (same records? in the same order?), and writes
results/parallel_hdf5.md and .json.

    bench/parallel_hdf5.sh [--reps 5] [--ranks 1 2 4] [--models coba pd14]
                           [--flush-ms 1 10 100 0]
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
LOCK = "/tmp/spikeline-heavy.lock"
STRATEGIES = ["gather", "parallel-coll", "parallel-indep", "parallel-ordered", "parallel-sliced"]
# parallel-ordered selects one hyperslab block per step per rank with
# H5S_SELECT_OR; with one flush at the end (20,000 steps) that took 120 s
# per run at 4 ranks in a trial: one repetition there, not five.
SLOW = {("parallel-ordered", 0.0): 1}
MODEL_NAMES = {"coba": "COBA 64,000, 2 s", "pd14": "PD14 full scale, 0.4 s"}


def commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def mpirun_version():
    out = subprocess.run(["mpirun", "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "unknown"


def run_case(binary, ranks, model, flush_ms, strategy, reps, folder):
    flags = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    # More ranks than cores: a busy-polling rank takes the core of the rank
    # it waits for (bench/mpi_scaling.py does the same).
    if ranks > (os.cpu_count() or 1):
        flags += ["-x", "OMPI_MCA_mpi_yield_when_idle=1"]
    cmd = ["flock", LOCK, "mpirun", "-np", str(ranks)] + flags + [
        binary, "--model", model, "--strategy", strategy, "--flush-ms", repr(flush_ms),
        "--reps", str(reps), "--dir", folder]
    env = dict(os.environ, OMPI_MCA_btl_vader_single_copy_mechanism="none")
    load = os.getloadavg()[0]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit("FAIL: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
    runs = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    if len(runs) != reps:
        sys.exit("FAIL: %d of %d repetitions reported by %s" % (len(runs), reps, " ".join(cmd)))
    for r in runs:
        r["load_1min"] = load
    return runs


def compare(reference, path):
    """The file's /spikes against the reference's: identical (values and
    types, element for element), the same records in another order, or
    different; and how many positions differ."""
    with h5py.File(reference, "r") as a, h5py.File(path, "r") as b:
        same, same_records, differing, elements = True, True, 0, 0
        for pop in a["spikes"]:
            ta, na = a["spikes"][pop]["timestamps"][()], a["spikes"][pop]["node_ids"][()]
            tb, nb = b["spikes"][pop]["timestamps"][()], b["spikes"][pop]["node_ids"][()]
            elements += len(ta)
            if ta.dtype != tb.dtype or na.dtype != nb.dtype or len(ta) != len(tb) \
                    or len(na) != len(nb):
                return {"identical": False, "same_records": False, "positions_differing": None,
                        "records": elements}
            diff = (ta.tobytes() != tb.tobytes()) or (na.tobytes() != nb.tobytes())
            if diff:
                same = False
                differing += int(np.count_nonzero((ta != tb) | (na != nb)))
                ka = np.lexsort((na, ta))
                kb = np.lexsort((nb, tb))
                if not (np.array_equal(ta[ka], tb[kb]) and np.array_equal(na[ka], nb[kb])):
                    same_records = False
        simulated = float(b["provenance"]["simulated_ms"][()])
        expected = float(a["provenance"]["simulated_ms"][()])
    # A second opinion: h5diff (exit 0: no differences, 1: some).
    h5diff = subprocess.run(["h5diff", "-q", reference, path, "/spikes", "/spikes"]).returncode
    if h5diff != (0 if same else 1):
        sys.exit("FAIL: h5diff (exit %d) and h5py (identical: %s) disagree on %s" % (
            h5diff, same, path))
    return {"identical": same, "same_records": same_records, "positions_differing": differing,
            "records": elements, "simulated_ms_ok": simulated == expected}


def summarise(runs):
    totals = [r["total_s"] for r in runs]
    out = {k: runs[0][k] for k in ("model", "strategy", "ranks", "flush_ms", "flushes", "neurons",
                                   "spikes")}
    out.update({"reps": len(runs), "total_s_median": statistics.median(totals),
                "total_s_min": min(totals)})
    for phase in ("comm", "write", "flush", "open_close"):
        out["rank0_%s_s_median" % phase] = statistics.median(r["rank0_%s_s" % phase] for r in runs)
    return out


def writing_alone(row):
    """The gather's runs without rank 0's communication (the gathers and the
    merge): what spikeline's rank 0 spends, since the spike exchange has
    already brought it every spike. Median (min) over the runs."""
    alone = [r["total_s"] - r["rank0_comm_s"] for r in row["runs"]]
    return dict(row, total_s_median=statistics.median(alone), total_s_min=min(alone))


def flush_label(ms):
    return "at the end" if ms == 0 else "every %g ms" % ms


def cell(row):
    if row is None:
        return ""
    s = "%.3f (%.3f)" % (row["total_s_median"], row["total_s_min"])
    return s if row["reps"] > 1 else s.split(" ")[0] + " (1 run)"


def find(rows, model, strategy, k, f):
    return next((x for x in rows if x["model"] == model and x["strategy"] == strategy and
                 x["ranks"] == k and x["flush_ms"] == f), None)


def decision(rows, args):
    """The decision and the cluster model, with this run's numbers."""
    k2 = 2 if 2 in args.ranks else max(args.ranks)
    kmax = max(args.ranks)
    fmin = min(f for f in args.flush_ms if f > 0)

    def t(strategy, k, f, model="coba"):
        row = find(rows, model, strategy, k, f)
        return "n/a" if row is None else "%.2f" % row["total_s_median"]

    def alone(k, f, model="coba"):
        row = find(rows, model, "gather", k, f)
        return "n/a" if row is None else "%.2f" % writing_alone(row)["total_s_median"]

    per_flush = []
    for k in args.ranks:
        if k == 1:
            continue
        for s in ("parallel-coll", "parallel-indep"):
            row = find(rows, "coba", s, k, fmin)
            if row is not None:
                per_flush.append(1e3 * row["total_s_median"] / row["flushes"])
    # Where some parallel strategy beat the gather (with its communication)
    # with flushes during the run.
    beaten = []
    for g in rows:
        if g["strategy"] != "gather" or g["flush_ms"] == 0:
            continue
        rivals = [x for x in rows if x["model"] == g["model"] and x["ranks"] == g["ranks"] and
                  x["flush_ms"] == g["flush_ms"] and x["strategy"] != "gather"]
        if rivals and min(x["total_s_median"] for x in rivals) < g["total_s_median"]:
            beaten.append("%s at %d rank%s every %g ms" % (
                g["model"].upper() if g["model"] == "pd14" else "COBA", g["ranks"],
                "" if g["ranks"] == 1 else "s", g["flush_ms"]))
    exceptions = "at every rank count and model here" if not beaten else (
        "in all but %s here (%s)" % ("one case" if len(beaten) == 1 else "%d cases" % len(beaten),
                                     "; ".join(beaten)))
    flush_range = "%.1f-%.1f ms" % (min(per_flush), max(per_flush)) if per_flush else "n/a"
    shuffled = find(rows, "coba", "parallel-coll", k2, fmin)
    pct = "n/a" if shuffled is None else "%.0f %%" % (
        100.0 * shuffled["check"]["positions_differing"] / shuffled["check"]["records"])
    return [
        "## Decision: spikeline keeps the gather to rank 0", "",
        "1. **Cost.** Flushing during the run (every %g, 10 or 100 ms of simulated time), the "
        "gather, communication included, is the cheapest strategy %s, and spikeline pays only "
        "its writing (rank 0 has every spike from the exchange). COBA at %d "
        "ranks, every %g ms: gather %s s (writing alone %s s), parallel collective %s s, "
        "independent %s s, next to 1.07 s of simulation loop for the same 2 s (mpi_scaling.md); "
        "at %d ranks %s, %s and %s s. What a parallel flush costs is mostly `H5Fflush`: through "
        "the MPI-IO driver it calls `MPI_File_sync`, an `fsync` (strace of a 1-rank PD14 run: 2 "
        "per flush, 0.83 ms each under strace; the serial writer's flush issues none: its data "
        "goes to the page cache, which survives a killed process but not a crashed machine), "
        "plus a collective `H5Dset_extent` per dataset: %s per flush for COBA at 2 and 4 "
        "ranks every %g ms (the whole run divided by the flushes)." % (
            fmin, exceptions, k2, fmin, t("gather", k2, fmin), alone(k2, fmin), t("parallel-coll", k2, fmin),
            t("parallel-indep", k2, fmin), kmax, t("gather", kmax, fmin),
            t("parallel-coll", kmax, fmin), t("parallel-indep", kmax, fmin), flush_range, fmin),
        "",
        "   With one flush at the end, parallel collective writing beats the gather with its "
        "communication: COBA at %d ranks %s s against %s s, at %d ranks %s against %s; but not "
        "rank 0's writing alone, what spikeline pays (%s and %s s): the gather's cost there is "
        "the gather and the merge of 2.4 million records at once, which spikeline spreads over "
        "its windows. And a run that flushes only at the end keeps nothing when it is killed, "
        "which is what flushes are for (`output.flush_interval`, default 1000 ms: 2 flushes in "
        "these 2 s, nearest to the end column)." % (
            k2, t("parallel-coll", k2, 0.0), t("gather", k2, 0.0), kmax,
            t("parallel-coll", kmax, 0.0), t("gather", kmax, 0.0), alone(k2, 0.0),
            alone(kmax, 0.0)),
        "",
        "2. **Order.** Rank-major blocks put the same records in another order: %s of the "
        "positions differ (COBA, %d ranks, every %g ms), so the file is not the one-process "
        "file that tests/mpi/ require. Keeping the order costs: per-step blocks (an `MPI_Exscan` "
        "of per-step counts gives each record its place; `parallel-ordered`) are correct, but "
        "HDF5 1.10.8 builds the union of one hyperslab per step in time growing faster than the "
        "steps: %s s for one flush at the end of COBA at %d ranks (%s s at %d). Contiguous slices "
        "of the merged list (`parallel-sliced`, possible because every rank has every spike "
        "after the exchange) are correct and linear, but cost parallel-coll's writing plus an "
        "allgather and a merge: %s s every %g ms at %d ranks, %s s at %d. (Its communication "
        "time includes a stable sort of the merged records by population, which a counting "
        "pass would cut; its writing alone is still parallel-coll's.)" % (
            pct, k2, fmin, t("parallel-ordered", kmax, 0.0), kmax, t("parallel-ordered", k2, 0.0),
            k2, t("parallel-sliced", k2, fmin), fmin, k2, t("parallel-sliced", kmax, fmin), kmax),
        "",
        "3. **Not measured, from the design (docs/mpi-design.md 5.1):** no SWMR with the MPI-IO "
        "driver (no reader can follow the run, a killed run's file may not open); `H5Fclose` is "
        "collective (a dead rank leaves the file unclosed, where rank 0 alone can still mark it "
        "failed); io/ would need the MPI build of HDF5. Debian ships the serial and the openmpi "
        "HDF5 as different libraries, and installing libhdf5-openmpi-dev switched the `hdf5.pc` "
        "alternative to the MPI one (set back to `hdf5-serial.pc` for this measurement; the "
        "project's CMake build still finds the serial library, `HDF5_PREFER_PARALLEL OFF`).",
        "",
        "## On a cluster (a model, not measured)", "",
        "- **Bandwidth.** A parallel file system (Lustre, GPFS) serves many writers at once; "
        "that is parallel HDF5's advantage, and spikes do not need it. A spike is 16 bytes: "
        "PD14's 245,000 spikes per simulated second are 3.9 MB, the 100x network's 390 MB, and "
        "since that network runs no faster than RTF 6.6 (docs/scaling.md, section 4) its writer "
        "needs about 60 MB/s of wall clock, within one client's bandwidth on such a file system "
        "(about 1 GB/s assumed, docs/mpi-design.md 5.1).",
        "- **Latency.** Parallel HDF5's per-flush costs grow with the ranks: a collective "
        "`H5Dset_extent` per dataset and the `MPI_File_sync` (on Lustre a round trip to the "
        "servers, not a local page cache); the gather rides the exchange that runs every window "
        "anyway and adds nothing. At the default of one flush per simulated second both are "
        "small; at millisecond flushes they were already %s per flush on one host." %
        flush_range,
        "- **Where parallel HDF5 would pay:** output whose volume exceeds one node's write "
        "bandwidth, i.e. dense trace reports (10^6 float columns every 0.1 ms step are 40 GB per "
        "simulated second), not spikes. Traces are gathered to rank 0 per flush today; that "
        "case is not measured here.",
        ""]


def markdown(meta, rows, args):
    L = ["# Spikes into one SONATA file from K ranks: gather to rank 0 against parallel HDF5",
         "",
         "%s, commit %s, %s, %d cores, %s, HDF5 %s (Debian's libhdf5-openmpi-dev for every "
         "strategy; `gather` opens its file on rank 0 with the default sec2 driver, the others "
         "with the MPI-IO driver), files on %s. Produced by `bench/parallel_hdf5.sh` "
         "(`bench/parallel_hdf5.cpp`, `bench/parallel_hdf5.py`). 1-minute load average before "
         "the runs: %.2f (per case in the JSON)." % (
             meta["date"], meta["commit"], meta["machine"], meta["cores"], meta["mpirun"],
             meta["hdf5"], meta["filesystem"], meta["load_1min"]),
         ""] + (["(%s.)" % meta["updated"], ""] if meta.get("updated") else []) + (
             ["**%s**" % meta["note"], ""] if meta.get("note") else []) + [
         "**This machine has none of what parallel HDF5 is for.** 2 cores (4 ranks are "
         "oversubscribed), ranks on one host talking through shared memory, one local disk "
         "behind one page cache: many writers cannot add bandwidth that a parallel file system "
         "would have, so the parallel strategies can only show their costs here (the collective "
         "calls and MPI-IO's synchronisation), not their benefit. See the last section for what "
         "changes on a cluster.",
         "",
         "What is written is what `io/src/sonata_writer.cpp` writes for spikes: "
         "`/spikes/<pop>/timestamps` (float64) and `node_ids` (uint64), 1-D, chunks of 64 Ki "
         "elements, extended as records arrive, each population's records in the order of one "
         "process (by time, then node id); at each flush everything buffered, `H5Fflush`, "
         "`/provenance/simulated_ms`, `H5Fflush`. Synthetic Poisson spikes on a 0.1 ms grid, "
         "generated per rank (each rank owns a contiguous block of every population) before "
         "the clock starts:",
         ""]
    for model in args.models:
        r = next(x for x in rows if x["model"] == model)
        L.append("- %s: %s neurons, **%s spikes** (bench/results/mpi_scaling.md's run: %s)" % (
            MODEL_NAMES[model], format(r["neurons"], ","), format(r["spikes"], ","),
            "2,450,368" if model == "coba" else "98,942"))
    L += ["",
          "Strategies:",
          "",
          "- `gather`: per flush an `MPI_Gather` of counts and an `MPI_Gatherv` of 8-byte "
          "records to rank 0, which merges the rank blocks into the serial order (as "
          "`Simulator::gather_spikes`) and appends as the writer does (latest format, SWMR, "
          "whole chunks between flushes). In spikeline this gather costs nothing extra: rank 0 "
          "already has every spike from the exchange's `MPI_Allgatherv` each window.",
          "- `parallel-coll`, `parallel-indep`: `H5Pset_fapl_mpio` on every rank (no SWMR); per "
          "flush an `MPI_Allgather` of counts, a collective `H5Dset_extent`, and each rank "
          "writes its own records as one hyperslab after the lower ranks' (rank-major), with "
          "collective or independent transfer (`H5Pset_dxpl_mpio`).",
          "- `parallel-ordered`: as `parallel-coll`, records placed where one process puts "
          "them: `MPI_Exscan` + `MPI_Allreduce` of per-step counts per flush, and each rank's "
          "selection is one block per step (`H5S_SELECT_OR`).",
          "- `parallel-sliced`: the serial order the other way: an `MPI_Allgatherv` of the "
          "records per flush (spikeline's ranks have them already), the merge, and rank r "
          "writes the contiguous share [rN/K, (r+1)N/K) of each population's N records; "
          "collective transfer.",
          "",
          "`gather, writing alone`: the gather's runs without rank 0's communication (its "
          "`MPI_Gather`/`MPI_Gatherv` and the merge), which is what spikeline's rank 0 spends.",
          "",
          "Time: from a barrier before `H5Fcreate` to the end of `H5Fclose`, the slowest rank, "
          "**median (min) of %d runs**, in seconds. The runs are writing only: on this machine "
          "the simulation loop of the same runs took 1.07 s (COBA, 2 ranks) and 2.42 s (PD14, "
          "2 ranks) (mpi_scaling.md)." % args.reps,
          ""]
    for model in args.models:
        L += ["## %s" % MODEL_NAMES[model], "",
              "| strategy | ranks | " + " | ".join(flush_label(f) for f in args.flush_ms) + " |",
              "|---|---|" + "---|" * len(args.flush_ms)]
        for strategy in ["gather, writing alone"] + STRATEGIES:
            for k in args.ranks:
                cells = []
                for f in args.flush_ms:
                    row = next((x for x in rows if x["model"] == model and x["strategy"] ==
                                strategy.split(",")[0] and x["ranks"] == k and
                                x["flush_ms"] == f), None)
                    if row is not None and strategy != row["strategy"]:
                        row = writing_alone(row)
                    cells.append(cell(row))
                L.append("| %s | %d%s | %s |" % (strategy, k, " (oversubscribed)" if k > meta[
                    "cores"] else "", " | ".join(cells)))
        L += ["", "Flushes: " + ", ".join("%s %d" % (flush_label(f), next(
            x["flushes"] for x in rows if x["model"] == model and x["flush_ms"] == f))
            for f in args.flush_ms) + ".", ""]
    L += ["## Where the time goes (rank 0, medians, s)", "",
          "communication (gathers, count exchanges, the merge), extent + write, flush "
          "(`H5Fflush` x 2 and `simulated_ms`), create + close.", "",
          "| model | strategy | ranks | flush | total | comm | extent + write | flush | "
          "create + close |", "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if row["ranks"] != max(args.ranks) and row["ranks"] != 2:
            continue
        if row["flush_ms"] not in (min(f for f in args.flush_ms if f > 0), 0.0):
            continue
        L.append("| %s | %s | %d | %s | %.3f | %.3f | %.3f | %.3f | %.3f |" % (
            row["model"], row["strategy"], row["ranks"], flush_label(row["flush_ms"]),
            row["total_s_median"], row["rank0_comm_s_median"], row["rank0_write_s_median"],
            row["rank0_flush_s_median"], row["rank0_open_close_s_median"]))
    L += ["", "## The file's order", "",
          "Each file's `/spikes` against the 1-rank `gather` file of the same model (h5py, "
          "element by element, values and types; `h5diff` agrees): spikeline's guarantee is "
          "an MPI run's file equal to one process's. At 1 rank every strategy's file is "
          "identical (checked, not listed).", "",
          "| model | strategy | ranks | flush | identical | same records, other order | "
          "positions differing |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        c = row["check"]
        if row["ranks"] == 1:
            continue  # one rank: every strategy gives the serial file (checked)
        L.append("| %s | %s | %d | %s | %s | %s | %s of %s |" % (
            row["model"], row["strategy"], row["ranks"], flush_label(row["flush_ms"]),
            "yes" if c["identical"] else "**no**",
            "" if c["identical"] else ("yes" if c["same_records"] else "no"),
            format(c["positions_differing"], ","), format(c["records"], ",")))
    L.append("")
    return L + decision(rows, args)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", help="the built benchmark (bench/parallel_hdf5.sh passes it)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--models", nargs="+", default=["coba", "pd14"], choices=["coba", "pd14"])
    ap.add_argument("--flush-ms", type=float, nargs="+", default=[1.0, 10.0, 100.0, 0.0],
                    help="simulated ms between flushes; 0: once at the end")
    ap.add_argument("--strategies", nargs="+", default=STRATEGIES, choices=STRATEGIES)
    ap.add_argument("--update", action="store_true",
                    help="replace these strategies' cases in the existing .json, keep the rest")
    ap.add_argument("--out", default=RESULTS)
    ap.add_argument("--from-json", action="store_true",
                    help="only rewrite the .md from the .json in --out (no runs)")
    args = ap.parse_args()
    if args.from_json:
        with open(os.path.join(args.out, "parallel_hdf5.json")) as f:
            saved = json.load(f)
        args.reps, args.ranks = saved["meta"]["reps"], saved["meta"]["ranks"]
        args.models, args.flush_ms = saved["meta"]["models"], saved["meta"]["flush_ms"]
        with open(os.path.join(args.out, "parallel_hdf5.md"), "w") as f:
            f.write("\n".join(markdown(saved["meta"], saved["cases"], args)))
        return
    if not args.binary:
        ap.error("--binary is needed to run (bench/parallel_hdf5.sh passes it)")
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit(), "machine": platform.machine(), "cores": os.cpu_count(),
            "mpirun": mpirun_version(), "hdf5": "1.10.8",
            "filesystem": "ext4 on a virtio disk (/dev/vda)",
            "load_1min": os.getloadavg()[0], "reps": args.reps,
            "command": "bench/parallel_hdf5.sh", "ranks": args.ranks, "models": args.models,
            "flush_ms": args.flush_ms}
    rows = []
    folder = tempfile.mkdtemp(prefix="phdf5_", dir="/tmp")
    try:
        for model in args.models:
            # The reference first: one rank, one flush at the end.
            ref_runs = run_case(args.binary, 1, model, 0.0, "gather", 1, folder)
            reference = os.path.join(folder, "reference_%s.h5" % model)
            shutil.move(ref_runs[0]["file"], reference)
            for k in args.ranks:
                for f in args.flush_ms:
                    for strategy in args.strategies:
                        reps = SLOW.get((strategy, f), args.reps)
                        runs = run_case(args.binary, k, model, f, strategy, reps, folder)
                        row = summarise(runs)
                        row["check"] = compare(reference, runs[-1]["file"])
                        row["runs"] = runs
                        os.remove(runs[-1]["file"])
                        rows.append(row)
                        print("%s K=%d %-13s %-16s %.3f s (min %.3f)  identical %s" % (
                            model, k, flush_label(f), strategy, row["total_s_median"],
                            row["total_s_min"], row["check"]["identical"]), flush=True)
                        must = k == 1 or strategy in ("gather", "parallel-ordered",
                                                      "parallel-sliced")
                        if must and not row["check"]["identical"]:
                            sys.exit("FAIL: %s should give the 1-process file" % strategy)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(args.out, exist_ok=True)
    if args.update:
        with open(os.path.join(args.out, "parallel_hdf5.json")) as f:
            saved = json.load(f)
        fresh = {(r["model"], r["strategy"], r["ranks"], r["flush_ms"]): r for r in rows}
        rows = [fresh.pop((r["model"], r["strategy"], r["ranks"], r["flush_ms"]), r)
                for r in saved["cases"]] + list(fresh.values())
        meta["updated"] = "%s: %s re-run" % (meta["date"], ", ".join(args.strategies))
        meta = dict(saved["meta"], updated=meta["updated"])
        args.ranks, args.models = saved["meta"]["ranks"], saved["meta"]["models"]
        args.flush_ms = saved["meta"]["flush_ms"]
    with open(os.path.join(args.out, "parallel_hdf5.json"), "w") as f:
        json.dump({"meta": meta, "cases": rows}, f, indent=1)
    with open(os.path.join(args.out, "parallel_hdf5.md"), "w") as f:
        f.write("\n".join(markdown(meta, rows, args)))
    print("wrote %s" % os.path.join(args.out, "parallel_hdf5.md"))


if __name__ == "__main__":
    main()
