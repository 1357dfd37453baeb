#!/usr/bin/python3
"""Does the overlap of the spike exchange with computation pay? (issue 24,
slice 7; docs/mpi-design.md 3.3 and 10.7, docs/scaling.md)

    /usr/bin/python3 bench/overlap.py [--reps 5] [--latency-us 50 200]
        [--lock /tmp/spikeline-heavy.lock]

Networks with a window of W >= 2 steps (W = 1 networks, COBA and PD14 as
configured, cannot overlap): examples/delays.toml (W = 5 steps, 2 s) and
COBA 64,000 (bench/coba_vs_brian2.py's sizes) with every delay 0.5 ms
(W = 5, 2 s). Each at 2 and 4 ranks x 1 thread with SPIKELINE_OVERLAP=never
and =automatic (on), alternating within each repetition; at 2 ranks also
with an injected latency: SPIKELINE_MPI_TEST_LATENCY_US makes every
exchange complete no sooner than that long after it started (a spin, not
a sleep), as a network with that latency would. Without overlap a window
pays it in full; with overlap an epoch's computation hides it.

Loop time is the summary's loop_s (rank 0's, build excluded), median and
min over the repetitions; every run's spikes must equal the first run's of
its network (digest), or the script stops. Each repetition of a network
holds the shared lock (flock) for all its runs. 4 ranks on 2 cores are
oversubscribed (ranks yield when idle, as the tests set).
Writes bench/results/overlap.md and .json.
"""
import argparse
import contextlib
import datetime
import fcntl
import json
import os
import statistics
import tempfile

import coba_vs_brian2 as coba
from benchlib import HERE, ROOT, commit as source_commit, run, spikeline_output

BINARY = os.path.join(ROOT, "build", "tools", "spikeline")
RESULTS = os.path.join(HERE, "results")
DURATION_S = 2.0
PROJECTIONS = ("exc_to_exc", "exc_to_inh", "inh_to_exc", "inh_to_inh")
NETWORKS = [
    ("delays", os.path.join(ROOT, "examples", "delays.toml"), ["output.edges=false"]),
    ("COBA 64000, delays 0.5 ms", os.path.join(ROOT, "examples", "coba.toml"),
     coba.size_overrides(64000) + ["projection.%s.delay=0.5" % p for p in PROJECTIONS] +
     ["output.edges=false"]),
]


def variants(latencies_us):
    """(ranks, SPIKELINE_OVERLAP, latency in us)"""
    out = []
    for ranks in (2, 4):
        for overlap in ("never", "automatic"):
            out.append((ranks, overlap, 0))
    for latency in latencies_us:
        for overlap in ("never", "automatic"):
            out.append((2, overlap, latency))
    return out


def name(v):
    ranks, overlap, latency = v
    text = "%d ranks, overlap %s" % (ranks, "off" if overlap == "never" else "on")
    return text + (", latency %d us" % latency if latency else "")


def one_run(config, sets, v, tmp):
    ranks, overlap, latency = v
    out = os.path.join(tmp, "out.h5")
    flags = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    env = ["-x", "SPIKELINE_OVERLAP=%s" % overlap,
           "-x", "SPIKELINE_MPI_TEST_LATENCY_US=%d" % latency,
           "-x", "OMPI_MCA_btl_vader_single_copy_mechanism=none"]
    if ranks > (os.cpu_count() or 1):
        env += ["-x", "OMPI_MCA_mpi_yield_when_idle=1"]
    cmd = ["mpirun", "-np", str(ranks)] + flags + env + [
        BINARY, "run", config, "--quiet", "--output", out, "--threads", "1",
        "--duration", str(DURATION_S * 1000.0)]
    for s in sets:
        cmd += ["--set", s]
    run(cmd)
    summary, spikes, digest = spikeline_output(out)
    os.remove(out)
    return summary["loop_s"], spikes, digest


@contextlib.contextmanager
def held(lock):
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--latency-us", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--lock", default="/tmp/spikeline-heavy.lock")
    args = ap.parse_args()
    vs = variants(args.latency_us)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for net, config, sets in NETWORKS:
            loops = {name(v): [] for v in vs}
            reference = None
            spikes = 0
            for rep in range(args.reps):
                with held(args.lock):
                    for v in vs:
                        loop, spikes, digest = one_run(config, sets, v, tmp)
                        reference = reference or digest
                        if digest != reference:
                            raise SystemExit("%s, %s: spikes differ from the first run's"
                                             % (net, name(v)))
                        loops[name(v)].append(loop)
                        print("%s rep %d %-36s loop %.3f s" % (net, rep + 1, name(v), loop),
                              flush=True)
            for v in vs:
                ls = loops[name(v)]
                off = loops[name((v[0], "never", v[2]))]
                rows.append({"network": net, "variant": name(v), "ranks": v[0],
                             "overlap": v[1] != "never", "latency_us": v[2],
                             "spikes": spikes, "loop_s_min": min(ls),
                             "loop_s_median": statistics.median(ls), "loop_s": ls,
                             "ratio_to_off": statistics.median(ls) / statistics.median(off)})
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "commit": source_commit(), "simulated_s": DURATION_S, "reps": args.reps,
              "load_1min_end": os.getloadavg()[0], "rows": rows}
    with open(os.path.join(RESULTS, "overlap.json"), "w") as f:
        json.dump(result, f, indent=1)
    lines = ["# Overlap of the spike exchange with computation (slice 7)", "",
             "bench/overlap.py, %s, commit %s, %d repetitions, %g s simulated per run, "
             "1 thread per rank; 2 cores (4 ranks oversubscribed). Loop time is rank 0's; "
             "ratio: median loop time with overlap against without, same ranks and latency. "
             "Every run's spikes identical (digest)." % (result["date"], result["commit"],
                                                          args.reps, DURATION_S), "",
             "| network | variant | loop s min | loop s median | ratio to overlap off |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %s | %.3f | %.3f | %.2f |" % (
            r["network"], r["variant"], r["loop_s_min"], r["loop_s_median"], r["ratio_to_off"]))
    with open(os.path.join(RESULTS, "overlap.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
