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


def flush_label(ms):
    return "at the end" if ms == 0 else "every %g ms" % ms


def cell(row):
    if row is None:
        return ""
    s = "%.3f (%.3f)" % (row["total_s_median"], row["total_s_min"])
    return s if row["reps"] > 1 else s.split(" ")[0] + " (1 run)"


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
         "",
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
          "Time: from a barrier before `H5Fcreate` to the end of `H5Fclose`, the slowest rank, "
          "**median (min) of %d runs**, in seconds. The runs are writing only: on this machine "
          "the simulation loop of the same runs took 1.07 s (COBA, 2 ranks) and 2.42 s (PD14, "
          "2 ranks) (mpi_scaling.md)." % args.reps,
          ""]
    for model in args.models:
        L += ["## %s" % MODEL_NAMES[model], "",
              "| strategy | ranks | " + " | ".join(flush_label(f) for f in args.flush_ms) + " |",
              "|---|---|" + "---|" * len(args.flush_ms)]
        for strategy in STRATEGIES:
            for k in args.ranks:
                cells = []
                for f in args.flush_ms:
                    row = next((x for x in rows if x["model"] == model and x["strategy"] ==
                                strategy and x["ranks"] == k and x["flush_ms"] == f), None)
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
    return L


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--models", nargs="+", default=["coba", "pd14"], choices=["coba", "pd14"])
    ap.add_argument("--flush-ms", type=float, nargs="+", default=[1.0, 10.0, 100.0, 0.0],
                    help="simulated ms between flushes; 0: once at the end")
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
                    for strategy in STRATEGIES:
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
    with open(os.path.join(args.out, "parallel_hdf5.json"), "w") as f:
        json.dump({"meta": meta, "cases": rows}, f, indent=1)
    with open(os.path.join(args.out, "parallel_hdf5.md"), "w") as f:
        f.write("\n".join(markdown(meta, rows, args)))
    print("wrote %s" % os.path.join(args.out, "parallel_hdf5.md"))


if __name__ == "__main__":
    main()
