#!/usr/bin/python3
"""Brunel (2000) model A driven by independent Poisson input
(examples/brunel.toml, spikeline's poisson_input) next to Brian2's
PoissonInput (bench/brian2_brunel.py), alternating, on the same machine.
Reports the simulation loop of each, their ratio, the rates (both against
the mean-field rate of tests/cli/test_examples.py, 37.9 Hz) and spikeline's
synaptic events per second.

    /usr/bin/python3 bench/brunel_vs_brian2.py [--duration 1] [--reps 3] [--threads 1]

Writes bench/results/brunel.md and .json.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile

from benchlib import commit, run as run_cmd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def spikeline(binary, duration_s, threads, tmp):
    out = os.path.join(tmp, "brunel.h5")
    run_cmd([binary, "run", os.path.join(ROOT, "examples", "brunel.toml"), "--duration",
             str(duration_s * 1000.0), "--threads", str(threads), "--output", out, "--quiet"])
    import h5py
    with h5py.File(out, "r") as f:
        summary = json.loads(f["provenance/summary"][0].decode())
    os.remove(out)
    rates = {p["name"]: p["rate_hz"] for p in summary["populations"]}
    spikes = sum(p["spikes"] for p in summary["populations"])
    # Every neuron has on average 12,500 x 1000 / 10,000 = 1250 (excitatory)
    # or 12,500 x 250 / 2,500 = 1250 (inhibitory) outgoing synapses.
    events = spikes * 1250
    return {"loop_s": summary["loop_s"], "build_s": summary["build_s"], "rates": rates,
            "spikes": spikes, "events_per_s": events / summary["loop_s"]}


def brian2(duration_s, threads):
    stdout, wall, rss = run_cmd(["/usr/bin/python3", os.path.join(HERE, "brian2_brunel.py"),
                                 "--duration", str(duration_s), "--threads", str(threads)])
    r = json.loads(stdout.strip().splitlines()[-1])
    return {"loop_s": r["sim_wall_s"], "process_s": wall,
            "rates": {"exc": r["rate_exc_hz"], "inh": r["rate_inh_hz"]}, "spikes": r["spikes"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            s = spikeline(args.binary, args.duration, args.threads, tmp)
            b = brian2(args.duration, args.threads)
            rows.append({"rep": rep, "spikeline": s, "brian2": b})
            print("rep %d: spikeline loop %.2f s (%.1f / %.1f Hz), brian2 loop %.2f s (%.1f / %.1f Hz)"
                  % (rep, s["loop_s"], s["rates"]["exc"], s["rates"]["inh"], b["loop_s"],
                     b["rates"]["exc"], b["rates"]["inh"]), flush=True)
    ratio = statistics.median(r["spikeline"]["loop_s"] / r["brian2"]["loop_s"] for r in rows)
    meta = {"date": datetime.date.today().isoformat(), "commit": commit(),
            "machine": "%s, %d cores" % (platform.processor() or platform.machine(), os.cpu_count()),
            "duration_s": args.duration, "threads": args.threads, "reps": args.reps,
            "loop_ratio_median": ratio}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "brunel.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = ["# Brunel (2000) model A with independent Poisson input, %.0f s simulated" % args.duration, "",
             "%s, commit %s, %s, %d thread(s) each, %d alternating repetitions. The mean-field "
             "(diffusion approximation) rate is 37.9 Hz." % (meta["date"], meta["commit"], meta["machine"],
                                                              args.threads, args.reps), "",
             "| rep | spikeline loop s | Brian2 loop s | ratio | spikeline exc / inh Hz | Brian2 exc / inh Hz "
             "| spikeline synaptic events/s |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        s, b = r["spikeline"], r["brian2"]
        lines.append("| %d | %.2f | %.2f | %.2f | %.1f / %.1f | %.1f / %.1f | %.2e |" % (
            r["rep"], s["loop_s"], b["loop_s"], s["loop_s"] / b["loop_s"], s["rates"]["exc"],
            s["rates"]["inh"], b["rates"]["exc"], b["rates"]["inh"], s["events_per_s"]))
    lines += ["", "Median loop ratio spikeline / Brian2: **%.2f**." % ratio]
    with open(os.path.join(HERE, "results", "brunel.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
