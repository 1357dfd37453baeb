#!/usr/bin/python3
"""What a plugin model costs (issue 21: "a plugin build of iaf_cond_exp runs
COBA within 1.1x of the built-in one"): COBA (examples/coba.toml, 4,000
neurons, 10 s) with the built-in iaf_cond_exp against the same network on
iaf_cond_exp_plugin (bench/plugins/iaf_cond_exp_plugin.cpp, the same
arithmetic: the spikes are bit-identical, which this script checks), at 1
and 2 threads. Runs alternate built-in and plugin, so that load from other
processes falls on both; the loop time (the run's own summary, loop_s:
network building excluded) is reported as minimum and median, and the
ratio plugin / built-in of each. With --callgrind, also the instructions of
the update of one simulated second (the built-in's IafCondExp::update
against the plugin adapter's PluginPopulation::update, inclusive), which a
busy machine does not disturb.

Two networks: COBA as it is (every parameter one value per population) and
COBA with V_th and tau_syn_ex drawn per neuron ("per_neuron"): the model's
other loop, where the built-in reads every coefficient from arrays it
computed once and the plugin from its per-neuron constants.

    /usr/bin/python3 bench/plugin_cost.py [--reps 5] [--duration 10] [--callgrind]
        [--variants homogeneous,per_neuron]

Writes bench/results/plugin_cost.md and .json.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

from benchlib import HERE, ROOT, commit, spikeline_output

MODELS = ("builtin", "plugin")


# Per-neuron V_th and tau_syn_ex for both populations (the per_neuron variant).
PER_NEURON = ('V_th = { distribution = "normal", mean = -50.0, std = 1.0, low = -52.0, '
              'high = -48.0 }, t_ref = 5.0, E_ex = 0.0, E_in = -80.0, tau_syn_ex = '
              '{ distribution = "uniform", low = 4.5, high = 5.5 }')


def config(tmp, model, variant="homogeneous"):
    """coba.toml, with both populations on the plugin model for "plugin", and
    with per-neuron parameters for the per_neuron variant."""
    with open(os.path.join(ROOT, "examples", "coba.toml")) as f:
        text = f.read()
    if model == "plugin":
        text = text.replace('model = "iaf_cond_exp"', 'model = "iaf_cond_exp_plugin"')
        if text.count("iaf_cond_exp_plugin") != 2:
            sys.exit("coba.toml no longer has two iaf_cond_exp populations")
    if variant == "per_neuron":
        homogeneous = "V_th = -50.0, t_ref = 5.0, E_ex = 0.0, E_in = -80.0, tau_syn_ex = 5.0"
        if text.count(homogeneous) != 2:
            sys.exit("coba.toml's population parameters changed: update PER_NEURON")
        text = text.replace(homogeneous, PER_NEURON)
    path = os.path.join(tmp, "coba_%s_%s.toml" % (model, variant))
    with open(path, "w") as f:
        f.write(text)
    return path


def run(args, tmp, model, threads, variant):
    out = os.path.join(tmp, "o.h5")
    cmd = [args.binary, "run", config(tmp, model, variant), "--quiet", "--plugin", args.plugin, "--output",
           out, "--duration", str(args.duration * 1000.0), "--threads", str(threads)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr[-3000:]))
    summary, spikes, digest = spikeline_output(out)
    return summary["loop_s"], spikes, digest


def instructions(args, tmp, model):
    """Inclusive instructions of the population update over 1 s of COBA."""
    out = os.path.join(tmp, "cg.out")
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, args.binary,
                    "run", config(tmp, model), "--quiet", "--plugin", args.plugin, "--output",
                    os.path.join(tmp, "cg.h5"), "--duration", "1000", "--threads", "1"],
                   capture_output=True, check=True)
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", out], capture_output=True,
                         text=True).stdout
    want = {"builtin": "IafCondExp::update", "plugin": "PluginPopulation::update",
            "loop": "Simulator::run_until"}
    found = {}
    for line in ann.splitlines():
        for key, name in want.items():
            if name in line and key not in found and (key == "loop" or key == model):
                found[key] = int(re.match(r"\s*([\d,]+)", line).group(1).replace(",", ""))
    if len(found) != 2:
        sys.exit("%s: not found in the profile: %s" % (model, set(want) - set(found)))
    return {"update": found[model], "loop": found["loop"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--duration", type=float, default=10.0, help="simulated seconds")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--variants", default="homogeneous,per_neuron")
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    ap.add_argument("--plugin", default=os.path.join(ROOT, "build", "bench", "plugins",
                                                     "libiaf_cond_exp_plugin.so"))
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    variants = args.variants.split(",")
    for v in variants:
        if v not in ("homogeneous", "per_neuron"):
            sys.exit("--variants: unknown variant %r (homogeneous, per_neuron)" % v)
    cases = [(v, t) for v in variants for t in threads]
    loops = {(m, c): [] for m in MODELS for c in cases}
    digests = {c: set() for c in cases}
    spikes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for v, t in cases:
                # Alternate which model goes first, so neither always follows the other.
                for m in (MODELS if rep % 2 == 0 else MODELS[::-1]):
                    loop, n, digest = run(args, tmp, m, t, v)
                    loops[(m, (v, t))].append(loop)
                    digests[(v, t)].add(digest)
                    spikes[v] = n
                    print("rep %d %-11s %-7s %d thread(s): loop %.3f s, %d spikes, digest %s" %
                          (rep + 1, v, m, t, loop, n, digest), flush=True)
        instr = {m: instructions(args, tmp, m) for m in MODELS} if args.callgrind else {}
    # Within a variant, every run (either model, any thread count) the same spikes.
    identical = {v: len(set().union(*(digests[(v, t)] for t in threads))) == 1 for v in variants}
    if not all(identical.values()):
        print("WARNING: the spikes differ between runs: %s" % digests, file=sys.stderr)
    rows = {}
    for v, t in cases:
        b, p = loops[("builtin", (v, t))], loops[("plugin", (v, t))]
        rows[(v, t)] = {"builtin_min": min(b), "builtin_median": statistics.median(b),
                        "plugin_min": min(p), "plugin_median": statistics.median(p),
                        "ratio_min": min(p) / min(b),
                        "ratio_median": statistics.median(p) / statistics.median(b),
                        "builtin_s": b, "plugin_s": p}
    res = {"date": datetime.date.today().isoformat(), "commit": commit(),
           "duration_s": args.duration, "reps": args.reps, "spikes": spikes,
           "spikes_identical": identical,
           "cases": {"%s/%d" % c: r for c, r in rows.items()},
           "update_instructions_1s": instr}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "plugin_cost.json"), "w") as f:
        json.dump(res, f, indent=1)
    lines = ["# COBA 4,000 x %.0f s: iaf_cond_exp built in vs as a plugin" % args.duration, "",
             "%s, commit %s, %d alternating runs per row; loop time (network building "
             "excluded), seconds. Spikes within each network: %s." %
             (res["date"], res["commit"], args.reps,
              "; ".join("%s %s (%d spikes)" % (v, "bit-identical" if identical[v] else "DIFFER",
                                               spikes[v]) for v in variants)), "",
             "| network | threads | built-in min | plugin min | ratio | built-in median | "
             "plugin median | ratio |", "|---|---|---|---|---|---|---|---|"]
    for (v, t), r in rows.items():
        lines.append("| %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |" %
                     (v, t, r["builtin_min"], r["plugin_min"], r["ratio_min"],
                      r["builtin_median"], r["plugin_median"], r["ratio_median"]))
    if instr:
        b, p = instr["builtin"], instr["plugin"]
        lines += ["", "Callgrind, homogeneous COBA, 1 s simulated, 1 thread (instructions, "
                  "inclusive; valgrind runs the AVX2 clones, not the AVX-512 ones timed above):",
                  "", "| | built-in | plugin | ratio |", "|---|---|---|---|",
                  "| population update | %.4g | %.4g | %.3f |" % (b["update"], p["update"],
                                                               p["update"] / b["update"]),
                  "| whole loop | %.4g | %.4g | %.3f |" % (b["loop"], p["loop"],
                                                         p["loop"] / b["loop"])]
    with open(os.path.join(HERE, "results", "plugin_cost.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
