"""EMBER's idle-speed figure (issue 23): the full substrate
(examples/ember/substrate.toml, 220,000 neurons, 2.6e7 synapses) left to its
spontaneous activity. Acceptance: 8 hours of simulated idle (28,800 s) in at
most 10 minutes of wall time at 2 threads.

1. Short idle runs (default 60 and 600 s simulated, and the longest once
   more at 1 thread for comparison) with the config's
   output (spikes, dopamine, the lateral weight sample): build time, loop
   time, real-time factor (loop / simulated), the rest (output), peak RSS,
   synapses, spontaneous rate per population. The 8-hour wall time is
   extrapolated as build + RTF x 28,800 s + the rest.
2. The volley check: 512 random sensory_e neurons clamped with n spikes
   each in 100 ms (n = 1, 2, 4, 8, 16: the encoder's k m = 64 x 8 neurons,
   its graded counts), after 1 s of idle: distinct concept_e neurons firing
   in the 150 ms from the volley's start (the "assembly", above the
   expected spontaneous count), the other layers' responses, and the
   concept_e spikes in the 400 ms after it (back at baseline or not).
3. If the extrapolation is under the bound (or --full), the whole 8 hours
   once: wall time, peak RSS, output size, rates per hour (stable or not).

Every run is `nice`d (the machine is shared); the load average is recorded
beside each. Writes results/ember_idle.md and .json.

usage: /usr/bin/python3 bench/ember_idle.py [--threads 2] [--short 60 600]
       [--full | --no-full] [--volley 1 2 4 8 16] [--out bench/results]
       [--from-json bench/results/ember_idle.json]   (rewrite the tables only)
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, commit, own_rss_mib, run  # noqa: E402

IDLE_S = 8 * 3600.0
BOUND_S = 600.0
POPULATIONS = ["sensory_e", "sensory_i", "concept_e", "concept_i", "category_e", "category_i",
               "meta_e", "meta_i"]
VOLLEY_START_MS = 1000  # after a second of idle
VOLLEY_NEURONS = 512
SENSORY_E = 40000


def spikeline_cmd(binary, config, duration_ms, threads, out, extra=()):
    return (["nice", binary, "run", config, "-d", "%g" % duration_ms, "-t", str(threads), "-q",
             "-o", out] + list(extra))


def summary_of(path):
    import h5py
    with h5py.File(path, "r") as f:
        return json.loads(f["provenance/summary"][0].decode())


def rates(summary):
    return {p["name"]: p["rate_hz"] for p in summary["populations"] if p["name"] in POPULATIONS}


def idle_run(binary, config, seconds, threads, tmp):
    out = os.path.join(tmp, "idle_%g.h5" % seconds)
    load0 = os.getloadavg()[0]
    _, wall, rss_parent = run(spikeline_cmd(binary, config, seconds * 1000.0, threads, out))
    load1 = os.getloadavg()[0]
    s = summary_of(out)
    size = os.path.getsize(out)
    rest = wall - s["build_s"] - s["loop_s"]
    r = {
        "simulated_s": seconds, "threads": threads, "wall_s": wall, "build_s": s["build_s"],
        "loop_s": s["loop_s"], "rest_s": rest, "rtf": s["loop_s"] / seconds,
        "peak_rss_mib": own_rss_mib(s, rss_parent), "synapses": s["synapses"],
        "synapse_bytes": s["synapse_bytes"], "output_mib": size / 2**20,
        "rates_hz": rates(s), "load": [load0, load1], "output": out,
        "spikes": sum(p["spikes"] for p in s["populations"] if p["name"] in POPULATIONS),
    }
    # The output's share grows with the spikes written: scale it with the time.
    r["extrapolated_8h_s"] = s["build_s"] + r["rtf"] * IDLE_S + rest * IDLE_S / seconds
    return r


def hourly_rates(path, sizes):
    """Spikes per population and hour of simulated time, as rates (Hz)."""
    import h5py
    hours = int(IDLE_S // 3600)
    table = {}
    with h5py.File(path, "r") as f:
        for pop in POPULATIONS:
            counts = np.zeros(hours, dtype=np.int64)
            d = f["spikes"][pop]["timestamps"]
            for start in range(0, d.shape[0], 1 << 22):
                h = (d[start:start + (1 << 22)] // 3.6e6).astype(np.int64)
                counts += np.bincount(np.minimum(h, hours - 1), minlength=hours)
            table[pop] = (counts / sizes[pop] / 3600.0).tolist()
    return table


def volley_run(binary, config, spikes_per_neuron, threads, tmp, seed=7):
    rng = np.random.default_rng(seed)
    ids = rng.choice(SENSORY_E, VOLLEY_NEURONS, replace=False)
    lines = []
    for i in ids:
        steps = np.sort(rng.choice(100, spikes_per_neuron, replace=False) + 1)
        lines += ["%d %d" % (i, VOLLEY_START_MS + s) for s in steps]
    # The clamp's spike file is relative to the config's folder: a copy of
    # the config next to it, with the clamp appended.
    clamp = os.path.join(tmp, "volley.txt")
    with open(clamp, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(config) as f:
        text = f.read()
    text += ('\n[[clamp]]\nname = "volley"\npopulation = "sensory_e"\n'
             'params = { spike_times_file = "volley.txt" }\n')
    cfg = os.path.join(tmp, "volley.toml")
    with open(cfg, "w") as f:
        f.write(text)
    out = os.path.join(tmp, "volley.h5")
    run(spikeline_cmd(binary, cfg, VOLLEY_START_MS + 600, threads, out))
    import h5py
    res = {"spikes_per_neuron": spikes_per_neuron, "layers": {}}
    with h5py.File(out, "r") as f:
        for pop in POPULATIONS:
            g = f["spikes"][pop]
            t, n = g["timestamps"][()], g["node_ids"][()]
            size = int(g.attrs["node_count"])
            base_rate = np.count_nonzero(t <= VOLLEY_START_MS) / size / (VOLLEY_START_MS / 1000.0)
            win = (t > VOLLEY_START_MS) & (t <= VOLLEY_START_MS + 150)
            after = (t > VOLLEY_START_MS + 200) & (t <= VOLLEY_START_MS + 600)
            res["layers"][pop] = {
                "size": size, "baseline_hz": base_rate,
                "distinct_150ms": int(len(np.unique(n[win]))),
                "expected_spontaneous_150ms": base_rate * size * 0.15,
                "spikes_200_600ms": int(np.count_nonzero(after)),
                "expected_spontaneous_400ms": base_rate * size * 0.4,
            }
    os.remove(out)
    return res


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return "%s, %d vCPUs, %.0f GiB, %s %s" % (model, os.cpu_count(), mem, platform.system(),
                                              platform.release())


def describe_config(path):
    """What the results say about the config: its noise rates and records."""
    import tomllib
    with open(path, "rb") as f:
        c = tomllib.load(f)
    rates = sorted({p["params"]["rate"] for p in c["population"] if p["model"] == "poisson_generator"})
    dopamine = [r for r in c.get("record_neuromodulator", []) if r["name"] == "dopamine"]
    weights = c.get("record_weights", [])
    return {"path": os.path.relpath(os.path.abspath(path), ROOT), "dt_ms": c["simulation"]["dt"],
            "noise_rates_hz": rates, "dopamine_interval_ms": dopamine[0]["interval"] if dopamine else 0,
            "weight_sample": len(weights[0].get("synapses", [])) if weights else 0,
            "weight_interval_ms": weights[0]["interval"] if weights else 0}


def write(results, out_dir, argv):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "ember_idle.json"), "w") as f:
        json.dump(results, f, indent=1)
    L = []
    w = L.append
    w("# EMBER substrate: idle speed and spontaneous activity\n")
    w("`/usr/bin/python3 bench/ember_idle.py %s` on %s, commit %s, %s (UTC). "
      "Machine: %s; shared with other work (load average before/after each run "
      "in the tables; every run `nice`d).\n" % (" ".join(argv), results["date"][:10], results["commit"],
                                                 results["date"][11:16], results["machine"]))
    c = results["config"]
    w("Config: `%s` (220,000 `iaf_psc_delta` neurons, dt = %g ms, %s Hz spontaneous kicks per neuron, "
      "lateral `reward_stdp` at weight 0), with its output (spikes of the eight neuron populations, "
      "the dopamine level every %g ms, %d lateral weights every %g ms).\n" % (
          c["path"], c["dt_ms"], "/".join("%g" % r for r in c["noise_rates_hz"]), c["dopamine_interval_ms"],
          c["weight_sample"], c["weight_interval_ms"]))
    w("## Idle runs\n")
    w("| simulated | threads | build | loop | rest (output) | wall | RTF (loop) | peak RSS | output | "
      "8 h extrapolated | load |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results["idle"]:
        w("| %g s | %d | %.1f s | %.1f s | %.1f s | %.1f s | %.4f | %.0f MiB | %.0f MiB | %.0f s (%.1f min) | "
          "%.1f / %.1f |" % (r["simulated_s"], r["threads"], r["build_s"], r["loop_s"], r["rest_s"], r["wall_s"],
                             r["rtf"], r["peak_rss_mib"], r["output_mib"], r["extrapolated_8h_s"],
                             r["extrapolated_8h_s"] / 60, r["load"][0], r["load"][1]))
    r0 = results["idle"][0]
    w("\nSynapses: %d (%.2f bytes each in the tables, %.0f MiB).\n" % (
        r0["synapses"], r0["synapse_bytes"] / r0["synapses"], r0["synapse_bytes"] / 2**20))
    w("Spontaneous rates (Hz), per run:\n")
    w("| simulated | threads | " + " | ".join(POPULATIONS) + " |")
    w("|---|---|" + "---|" * len(POPULATIONS))
    for r in results["idle"]:
        w("| %g s | %d | " % (r["simulated_s"], r["threads"]) + " | ".join("%.4f" % r["rates_hz"][p] for p in POPULATIONS) + " |")
    if results.get("full"):
        F = results["full"]
        w("\n## The 8-hour idle period (28,800 s simulated)\n")
        w("| threads | build | loop | rest (output) | wall | RTF (loop) | peak RSS | output | spikes | load |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        w("| %d | %.1f s | %.1f s | %.1f s | **%.1f s (%.2f min)** | %.5f | %.0f MiB | %.0f MiB | %d | %.1f / %.1f |" % (
            F["threads"], F["build_s"], F["loop_s"], F["rest_s"], F["wall_s"], F["wall_s"] / 60, F["rtf"],
            F["peak_rss_mib"], F["output_mib"], F["spikes"], F["load"][0], F["load"][1]))
        w("\nBound: 600 s. %s\n" % ("Met." if F["wall_s"] <= BOUND_S else "**Missed.**"))
        w("Rates per hour of simulated time (Hz):\n")
        w("| hour | " + " | ".join(POPULATIONS) + " |")
        w("|---|" + "---|" * len(POPULATIONS))
        for h in range(8):
            w("| %d | " % (h + 1) + " | ".join("%.4f" % F["hourly_hz"][p][h] for p in POPULATIONS) + " |")
    elif results.get("full_skipped"):
        w("\nThe 8-hour run was not made: %s\n" % results["full_skipped"])
    if results.get("volley"):
        w("\n## A sensory volley reaches the concept layer\n")
        w("512 random sensory_e neurons clamped with n spikes each at random steps in (1000, 1100] ms. "
          "Distinct neurons firing in (1000, 1150] ms (in brackets: the count the spontaneous "
          "rate alone gives in 150 ms), and spikes in (1200, 1600] ms against the spontaneous "
          "expectation:\n")
        w("| n | concept_e (of 80,000) | % | concept_i | category_e | category_i | meta_e | meta_i | "
          "sensory_i | concept_e spikes 200-600 ms after |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for v in results["volley"]:
            Ly = v["layers"]
            c = Ly["concept_e"]

            def cell(p):
                return "%d (%.0f)" % (Ly[p]["distinct_150ms"], Ly[p]["expected_spontaneous_150ms"])
            w("| %d | %s | %.2f | %s | %s | %s | %s | %s | %s | %d (%.0f) |" % (
                v["spikes_per_neuron"], cell("concept_e"), 100.0 * c["distinct_150ms"] / c["size"],
                cell("concept_i"), cell("category_e"), cell("category_i"), cell("meta_e"), cell("meta_i"),
                cell("sensory_i"), c["spikes_200_600ms"], c["expected_spontaneous_400ms"]))
    with open(os.path.join(out_dir, "ember_idle.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    ap.add_argument("--config", default=os.path.join(ROOT, "examples", "ember", "substrate.toml"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--short", type=float, nargs="*", default=[60.0, 600.0], help="simulated s")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--full", action="store_true", help="run the 8 hours whatever the extrapolation")
    g.add_argument("--no-full", action="store_true", help="never run the 8 hours")
    ap.add_argument("--also-threads", type=int, nargs="*", default=[1],
                    help="thread counts for one more run of the longest short duration (a comparison)")
    ap.add_argument("--volley", type=int, nargs="*", default=[1, 2, 4, 8, 16])
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--tmp", default=None, help="folder for the outputs (default: a temporary one)")
    ap.add_argument("--from-json", default=None,
                    help="write the tables of an earlier run's .json again (no run)")
    args = ap.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
        results.setdefault("config", describe_config(args.config))
        write(results, args.out, results.get("argv", []))
        print("wrote %s" % os.path.join(args.out, "ember_idle.md"))
        return

    tmp = args.tmp or tempfile.mkdtemp(prefix="ember_idle_")
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "commit": commit(),
               "machine": machine(), "threads": args.threads, "idle": [], "volley": [],
               "config": describe_config(args.config), "argv": sys.argv[1:]}
    print("%-9s %8s %8s %8s %8s %9s %9s %12s %11s" % ("simulated", "build", "loop", "rest", "wall", "RTF",
                                                     "RSS MiB", "8h extrap.", "load"))
    for seconds, threads in [(s, args.threads) for s in args.short] + [
            (args.short[-1], t) for t in args.also_threads if args.short]:
        r = idle_run(args.binary, args.config, seconds, threads, tmp)
        os.remove(r.pop("output"))
        results["idle"].append(r)
        print("%-9s %7.1fs %7.1fs %7.1fs %7.1fs %9.5f %9.0f %10.0f s %5.1f/%4.1f" % (
            "%g s, %dt" % (seconds, threads), r["build_s"], r["loop_s"], r["rest_s"], r["wall_s"], r["rtf"], r["peak_rss_mib"],
            r["extrapolated_8h_s"], r["load"][0], r["load"][1]))
        print("          rates (Hz): " + ", ".join("%s %.4f" % (p, r["rates_hz"][p]) for p in POPULATIONS))
    for n in args.volley:
        v = volley_run(args.binary, args.config, n, args.threads, tmp)
        results["volley"].append(v)
        c = v["layers"]["concept_e"]
        print("volley %2d spikes/neuron: concept_e %d distinct in 150 ms (%.2f %%; spontaneous %.0f), "
              "%d spikes 200-600 ms after (spontaneous %.0f)" % (
                  n, c["distinct_150ms"], 100.0 * c["distinct_150ms"] / c["size"],
                  c["expected_spontaneous_150ms"], c["spikes_200_600ms"], c["expected_spontaneous_400ms"]))
    longest = next((r for r in reversed(results["idle"]) if r["threads"] == args.threads), None)
    run_full = args.full or (not args.no_full and longest and longest["extrapolated_8h_s"] <= BOUND_S)
    if run_full:
        r = idle_run(args.binary, args.config, IDLE_S, args.threads, tmp)
        sizes = {p["name"]: p["size"] for p in summary_of(r["output"])["populations"]}
        r["hourly_hz"] = hourly_rates(r["output"], sizes)
        os.remove(r.pop("output"))
        results["full"] = r
        print("8 h: wall %.1f s (%.2f min; build %.1f, loop %.1f, rest %.1f), RTF %.5f, peak RSS %.0f MiB, "
              "output %.0f MiB, load %.1f/%.1f" % (r["wall_s"], r["wall_s"] / 60, r["build_s"], r["loop_s"],
                                                  r["rest_s"], r["rtf"], r["peak_rss_mib"], r["output_mib"],
                                                  r["load"][0], r["load"][1]))
    elif longest:
        results["full_skipped"] = ("--no-full" if args.no_full else
                                   "the extrapolation (%.0f s) exceeds the bound" % longest["extrapolated_8h_s"])
    if not args.tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    write(results, args.out, sys.argv[1:])
    print("wrote %s" % os.path.join(args.out, "ember_idle.md"))


if __name__ == "__main__":
    main()
