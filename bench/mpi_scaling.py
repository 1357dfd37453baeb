#!/usr/bin/python3
"""MPI scaling on this machine (issue 24, slice 6; docs/scaling.md): the
spike exchange's latency and bandwidth, and COBA and PD14 at 1, 2 and 4
ranks next to the threaded runs of the same size.

    /usr/bin/python3 bench/mpi_scaling.py [--reps-coba 3] [--reps-pd14 2]
        [--lock /tmp/spikeline-heavy.lock]
        [--only exchange strong pd14 weak partitions windows]

(--only: the parts to measure; the others are kept from the last
results/mpi_scaling.json. "strong" is COBA's, "pd14" PD14's.)

Needs an MPI build with the bench targets:
    cmake --build build --target spikeline mpi_exchange window_times

What it runs (about 12 minutes on 2 cores):
1. build/bench/mpi_exchange at K = 2 and 4, with Open MPI's default polling
   and with OMPI_MCA_mpi_yield_when_idle=1 (what the test suite sets,
   because 4 ranks share 2 cores). The network runs use the default at 1
   and 2 ranks and yield at 4.
2. Strong scaling: COBA 64,000 (the suite's COBA at 64,000 neurons, 2 s) and
   PD14 at full scale (bench/make_pd14.py, 0.4 s) in one process at 1 and 2
   threads and under mpirun at 1, 2 and 4 ranks x 1 thread, alternating
   within each repetition.
3. Weak scaling: COBA 16,000 / 32,000 / 64,000 at 1 / 2 / 4 ranks (the
   in-degree, 80, and the rate stay; the work per rank stays), next to one
   process of the same size at 1 and 2 threads.
4. The cost of partitions: COBA 64,000 at 1 thread with 1, 64 and 256
   partitions (every partition files every spike).
5. build/bench/window_times: per-window compute and exchange times per rank
   of PD14 and COBA 64,000 at 1 and 2 ranks (the input of
   bench/scaling_model.py's discrete-event model), kept in
   bench/results/window_times/.

Loop time is the summary's loop_s (rank 0's, network build excluded, as in
bench/suite.py); the real-time factor is loop_s per simulated second. Every
run's /spikes must be bit-identical (a digest of every population's node ids
and times) to the one-process 1-thread run of the same network: the script
stops with an error if one is not. 4 ranks on this machine's 2 cores are
oversubscribed: their times show the cost of sharing cores, not a speed-up.

Every timing holds the shared lock (flock), so none overlaps another
heavy job: the runs of one repetition of a case together (COBA: seconds in
all; PD14: about 2.5 minutes with the builds). Writes bench/results/mpi_scaling.md
and .json (date, commit, load average, min and median over repetitions).
"""
import argparse
import contextlib
import datetime
import fcntl
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

import coba_vs_brian2 as coba
from benchlib import HERE, ROOT, commit as source_commit, run, spikeline_output

BUILD = os.path.join(ROOT, "build")
BINARY = os.path.join(BUILD, "tools", "spikeline")
EXCHANGE = os.path.join(BUILD, "bench", "mpi_exchange")
WINDOW_TIMES = os.path.join(BUILD, "bench", "window_times")
RESULTS = os.path.join(HERE, "results")
COBA_S, PD14_S = 2.0, 0.4  # simulated seconds per run
# What Open MPI needs in this container (as tests/mpi/CMakeLists.txt sets):
# no cross-memory attach (ptrace is forbidden).
MPI_ENV = {"OMPI_MCA_btl_vader_single_copy_mechanism": "none",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}


class Runner:
    def __init__(self, lock):
        self.lock = lock
        self.held_fd = None
        self.flags = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])

    @contextlib.contextmanager
    def held(self):
        """The shared lock for a group of short runs (one repetition of
        the variants of a COBA case, seconds in all): taken once rather
        than per run, so that the group does not wait behind other jobs'
        builds between its runs. Runs inside it are not wrapped in flock."""
        with open(self.lock, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            self.held_fd = f
            try:
                yield
            finally:
                self.held_fd = None
                fcntl.flock(f, fcntl.LOCK_UN)

    def command(self, cmd, ranks, yield_when_idle=None):
        """cmd under the lock, under mpirun -np RANKS when ranks is given.
        Ranks yield (OMPI_MCA_mpi_yield_when_idle=1) when there are more of
        them than cores, where a polling rank takes the core from the rank
        it waits for (forced busy polling at 4 ranks on 2 cores did not
        finish the exchange benchmark in 10 minutes); otherwise Open MPI's
        default, which busy-polls as one rank per core does on a cluster."""
        if yield_when_idle is None:
            yield_when_idle = ranks is not None and ranks > (os.cpu_count() or 1)
        if ranks is not None:
            env = ["-x", "OMPI_MCA_mpi_yield_when_idle=1"] if yield_when_idle else []
            cmd = ["mpirun", "-np", str(ranks)] + self.flags + env + cmd
        return cmd if self.held_fd is not None else ["flock", self.lock] + cmd

    def spikeline(self, config, sets, duration_s, threads, ranks, tmp):
        """One spikeline run: its summary, spike count, digest and load."""
        out = os.path.join(tmp, "out.h5")
        cmd = [BINARY, "run", config, "--quiet", "--output", out, "--threads", str(threads),
               "--duration", str(duration_s * 1000.0), "--set", "output.edges=false"]
        for s in sets:
            cmd += ["--set", s]
        load = os.getloadavg()[0]
        run(self.command(cmd, ranks))
        summary, spikes, digest = spikeline_output(out)
        os.remove(out)
        return {"loop_s": summary["loop_s"], "build_s": summary["build_s"], "spikes": spikes,
                "synapses": summary["synapses"], "digest": digest, "load_1min": load}


def variant_name(threads, ranks, partitions=None):
    suffix = ", %d partitions" % partitions if partitions else ""
    if ranks is None:
        return "1 process x %d thread%s%s" % (threads, "s" if threads > 1 else "", suffix)
    return "mpirun %d rank%s x %d thread%s" % (ranks, "s" if ranks > 1 else "", threads, suffix)


def measure(runner, name, config, sets, duration_s, variants, reps, tmp, group=True):
    """Every variant (threads, ranks[, partitions]) reps times, alternating;
    the first variant is the reference whose spikes every other must equal.
    group: hold the lock once per repetition rather than per run."""
    return measure_cases(runner, [(name, config, sets, duration_s, variants)], reps, tmp, group)[0]


def measure_cases(runner, cases, reps, tmp, group=True, after_rep=None):
    """Several cases (name, config, sets, simulated s, variants), all
    repeated reps times; with group, one hold of the lock per repetition
    covers every case (the COBA runs: about a minute in all), so that a
    repetition's runs do not each wait behind other jobs' builds.
    after_rep(rows so far) is called after each repetition."""
    results = [{variant_name(*v): [] for v in case[4]} for case in cases]
    for rep in range(reps):
        with runner.held() if group else contextlib.nullcontext():
            for case, res in zip(cases, results):
                name, config, sets, duration_s, variants = case
                run_variants(runner, name, config, sets, duration_s, variants, rep, tmp, res)
        if after_rep:
            after_rep([summarise(case[0], case[3], case[4], res) for case, res in zip(cases, results)])
    return [summarise(case[0], case[3], case[4], res) for case, res in zip(cases, results)]


def run_variants(runner, name, config, sets, duration_s, variants, rep, tmp, results):
    for v in variants:
        threads, ranks = v[0], v[1]
        extra = ["simulation.partitions=%d" % v[2]] if len(v) > 2 else []
        r = runner.spikeline(config, sets + extra, duration_s, threads, ranks, tmp)
        key = variant_name(*v)
        results[key].append(r)
        print("%s rep %d %-26s loop %.3f s  build %.2f s  spikes %d  load %.2f" % (
            name, rep + 1, key, r["loop_s"], r["build_s"], r["spikes"], r["load_1min"]),
            flush=True)


def summarise(name, duration_s, variants, results):
    reference = results[variant_name(*variants[0])][0]["digest"]
    for key, rs in results.items():
        for r in rs:
            if r["digest"] != reference:
                sys.exit("FAIL: %s, %s: /spikes differ from the 1-process 1-thread run (digest %s, "
                         "reference %s)" % (name, key, r["digest"], reference))
    rows = []
    for key, rs in results.items():
        loops = [r["loop_s"] for r in rs]
        rows.append({"case": name, "variant": key, "simulated_s": duration_s,
                     "loop_s_min": min(loops), "loop_s_median": statistics.median(loops),
                     "build_s_median": statistics.median(r["build_s"] for r in rs),
                     "real_time_factor": statistics.median(loops) / duration_s,
                     "spikes": rs[0]["spikes"], "synapses": rs[0]["synapses"],
                     "identical_to_1_process": True, "runs": rs})
    base = {k: statistics.median(r["loop_s"] for r in results[variant_name(*v)])
            for k, v in (("1t", (1, None)), ("2t", (2, None))) if variant_name(*v) in results}
    for row in rows:
        row["speedup_vs_1_thread"] = base["1t"] / row["loop_s_median"] if "1t" in base else None
        row["ratio_to_2_threads"] = row["loop_s_median"] / base["2t"] if "2t" in base else None
    return rows


def exchange(runner):
    """mpi_exchange at K = 2 and 4, with Open MPI's default polling and
    with yielding ranks."""
    out = []
    for yield_when_idle in (False, True):
        for k in (2, 4):
            stdout, _, _ = run(runner.command([EXCHANGE, "--json"], k, yield_when_idle))
            r = json.loads(stdout)
            r["yield_when_idle"] = yield_when_idle
            r["oversubscribed"] = k > (os.cpu_count() or 1)
            out.append(r)
            print("exchange K=%d yield=%d: bare allgather %.2f us, alpha %.2f us, beta %.3f ns/B" % (
                k, yield_when_idle, r["bare_allgather_us"]["median"], r["alpha_us"],
                r["beta_ns_per_byte"]), flush=True)
    return out


def window_times(runner, tmp):
    """Per-window times per rank of PD14 and COBA 64,000 at 1 and 2 ranks,
    into results/window_times/NAME_K.rR.txt."""
    folder = os.path.join(RESULTS, "window_times")
    os.makedirs(folder, exist_ok=True)
    cases = [("pd14", os.path.join(tmp, "pd14.toml"), [], 100.0, 300.0),
             ("coba64k", os.path.join(ROOT, "examples", "coba.toml"), coba.size_overrides(64000),
              200.0, 500.0)]
    for name, config, sets, warmup, duration in cases:
        for k in (1, 2):
            cmd = [WINDOW_TIMES, config, "--out", os.path.join(folder, "%s_k%d" % (name, k)),
                   "--warmup", str(warmup), "--duration", str(duration)]
            for s in sets:
                cmd += ["--set", s]
            run(runner.command(cmd, k if k > 1 else None))
            print("window times %s K=%d done" % (name, k), flush=True)


def table(rows):
    lines = ["| case | variant | simulated s | loop s min | loop s median | real-time factor | "
             "speed-up vs 1 thread | / 2 threads | build s | spikes = 1 process |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %s | %g | %.3f | %.3f | %.3g | %.2f | %.2f | %.1f | %s |" % (
            r["case"], r["variant"], r["simulated_s"], r["loop_s_min"], r["loop_s_median"],
            r["real_time_factor"], r["speedup_vs_1_thread"] or 0, r["ratio_to_2_threads"] or 0,
            r["build_s_median"], "yes" if r["identical_to_1_process"] else "NO"))
    return lines


def write(meta, exchanges, strong, weak, partitions):
    base = os.path.join(RESULTS, "mpi_scaling")
    with open(base + ".json", "w") as f:
        json.dump({"meta": meta, "exchange": exchanges, "strong": strong, "weak": weak,
                   "partitions": partitions}, f, indent=1)
    lines = ["# MPI scaling on this machine (issue 24, slice 6)", "",
             "%(date)s, commit %(commit)s, %(machine)s, %(mpi)s. Produced by `%(command)s`. "
             "1-minute load average before the runs: %(load_before).2f (per run in the JSON)." % meta,
             "",
             "This machine has 2 cores: **4 ranks are oversubscribed** (two ranks per core), so "
             "their times show the cost of sharing cores (and of an exchange that waits for a "
             "descheduled rank), not a speed-up. Every spikeline run below gave /spikes "
             "bit-identical to the 1-process 1-thread run of the same network (checked, the "
             "script fails otherwise). Loop time is rank 0's simulation loop (build excluded).",
             "", "## Spike exchange (bench/mpi_exchange.cpp)", "",
             "Protocol v1 as the simulator calls it (`allgather_records`: an MPI_Allgather of "
             "16-byte headers, then an MPI_Allgatherv of 8-byte records), every rank sending n "
             "records; the slowest rank's time per exchange, median of 7 blocks. alpha and beta: "
             "least squares through n = 1..2,500 below 64 KiB received.", "",
             "| K | ranks poll | bare MPI_Allgather 16 B, us | n = 0 | 1 | 25 | 250 | 2,500 | 25,000 "
             "| alpha us | beta ns/B | bare MPI_Allgatherv of 25,000, us |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in exchanges:
        cells = {c["records_per_rank"]: c["median_us"] for c in e["cases"]}
        bare_v = {c["records_per_rank"]: c["bare_allgatherv_median_us"] for c in e["cases"]}
        lines.append("| %d%s | %s | %.2f | %s | %.2f | %.3f | %.1f |" % (
            e["ranks"], " (oversubscribed)" if e["oversubscribed"] else "",
            "yield" if e["yield_when_idle"] else "default", e["bare_allgather_us"]["median"],
            " | ".join("%.1f" % cells[n] for n in (0, 1, 25, 250, 2500, 25000)),
            e["alpha_us"], e["beta_ns_per_byte"], bare_v[25000]))
    lines += ["", "## Strong scaling (fixed size)", ""] + table(strong)
    lines += ["", "## Weak scaling (COBA: 16,000 neurons per rank)", ""] + table(weak)
    lines += ["", "## The cost of partitions (COBA 64,000, one thread)", "",
              "Every partition files every spike of the window (a row lookup per projection of its "
              "source population, `Simulator::enqueue`): more partitions on one thread show that "
              "cost (bench/scaling_model.py derives c_row from it).", ""] + table(partitions)
    lines += ["", "Per-window compute and exchange times per rank (PD14 and COBA 64,000 at 1 and 2 "
              "ranks, bench/window_times.cpp) are in results/window_times/; "
              "bench/scaling_model.py reads them."]
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps-coba", type=int, default=3)
    ap.add_argument("--reps-pd14", type=int, default=2)
    ap.add_argument("--lock", default="/tmp/spikeline-heavy.lock",
                    help="the shared lock every run holds (flock)")
    parts = ["exchange", "strong", "pd14", "weak", "partitions", "windows"]
    ap.add_argument("--only", nargs="+", choices=parts, default=parts)
    args = ap.parse_args()
    for path in (BINARY, EXCHANGE, WINDOW_TIMES):
        if not os.path.exists(path):
            sys.exit("%s not found: build it (cmake --build build --target spikeline mpi_exchange "
                     "window_times)" % path)
    if shutil.which("mpirun") is None:
        sys.exit("mpirun not found: install openmpi-bin")
    os.environ.update(MPI_ENV)
    runner = Runner(args.lock)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": "%s, %d cores, %s" % (platform.machine(), os.cpu_count(), platform.platform()),
            "mpi": subprocess.run(["mpirun", "--version"], capture_output=True,
                                  text=True).stdout.splitlines()[0],
            "commit": source_commit(), "load_before": os.getloadavg()[0],
            "command": "/usr/bin/python3 bench/mpi_scaling.py", "coba_s": COBA_S, "pd14_s": PD14_S}
    coba_toml = os.path.join(ROOT, "examples", "coba.toml")
    exchanges, strong, weak, partitions = [], [], [], []
    previous = os.path.join(RESULTS, "mpi_scaling.json")
    if set(args.only) != set(parts) and os.path.exists(previous):
        # A partial run keeps the parts it does not measure from the last
        # results (meta["parts"] says which run measured what).
        with open(previous) as f:
            old = json.load(f)
        if "exchange" not in args.only:
            exchanges = old.get("exchange", [])
        if "strong" not in args.only:
            strong = [r for r in old.get("strong", []) if not r["case"].startswith("PD14")]
        if "pd14" not in args.only:
            strong += [r for r in old.get("strong", []) if r["case"].startswith("PD14")]
        if "weak" not in args.only:
            weak = old.get("weak", [])
        if "partitions" not in args.only:
            partitions = old.get("partitions", [])
        meta["parts"] = dict(old["meta"].get("parts", {}))
    meta.setdefault("parts", {})
    for part in args.only:
        meta["parts"][part] = "%s, commit %s" % (meta["date"], meta["commit"])
    with tempfile.TemporaryDirectory(prefix="mpi_scaling_") as tmp:
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "make_pd14.py"), "--scale", "1.0",
                        "--output", os.path.join(tmp, "pd14.toml")], check=True, capture_output=True)
        # Cheap parts first; the results are written after each part, so
        # that an interrupted run keeps what it measured.
        strong_variants = [(1, None), (2, None), (1, 1), (1, 2), (1, 4)]
        if "exchange" in args.only:
            with runner.held():
                exchanges = exchange(runner)
            write(meta, exchanges, strong, weak, partitions)
        coba_cases, kinds = [], []
        if "strong" in args.only:
            coba_cases.append(("COBA 64000", coba_toml, coba.size_overrides(64000), COBA_S,
                               strong_variants))
            kinds.append("strong")
        if "weak" in args.only:
            for n, ranks in ((16000, 1), (32000, 2), (64000, 4)):
                coba_cases.append(("COBA %d" % n, coba_toml, coba.size_overrides(n), COBA_S,
                                   [(1, None), (2, None), (1, ranks)]))
                kinds.append("weak")
        if "partitions" in args.only:
            coba_cases.append(("COBA 64000", coba_toml, coba.size_overrides(64000), COBA_S,
                               [(1, None), (1, None, 64), (1, None, 256)]))
            kinds.append("partitions")
        if coba_cases:
            done = measure_cases(runner, coba_cases, args.reps_coba, tmp)
            sections = {"strong": strong, "weak": weak, "partitions": partitions}
            for kind, rows in zip(kinds, done):
                sections[kind] += rows
        write(meta, exchanges, strong, weak, partitions)
        if "windows" in args.only:
            window_times(runner, tmp)
        if "pd14" in args.only:
            # One hold of the lock per repetition (its five runs: about 2.5
            # minutes with their builds): taken run by run, each run waited
            # behind other jobs' sanitizer builds for up to 15 minutes. The
            # results are written after every repetition.
            coba_rows = [r for r in strong if not r["case"].startswith("PD14")]
            case = ("PD14 full scale", os.path.join(tmp, "pd14.toml"), [], PD14_S, strong_variants)
            done = measure_cases(runner, [case], args.reps_pd14, tmp, group=True,
                                 after_rep=lambda rows: write(meta, exchanges, coba_rows + rows[0],
                                                              weak, partitions))
            strong = coba_rows + done[0]
    meta["load_after"] = os.getloadavg()[0]
    write(meta, exchanges, strong, weak, partitions)


if __name__ == "__main__":
    main()
