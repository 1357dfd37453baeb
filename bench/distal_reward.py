#!/usr/bin/python3
"""Izhikevich's distal-reward experiment (shared/specs/distal-reward.md): for
each seed, the rewarded run (examples/distal_reward.toml) and a control that
receives the same number of rewards at random times. Reports the chosen
synapse's final weight and its percentile among the excitatory weights.

Pass (the acceptance of issue 4): in at least 2 of 3 seeds the chosen
synapse ends >= 3.6 and above the 99.9th percentile; in every control it
stays below the median.

    /usr/bin/python3 bench/distal_reward.py [--seeds 1 2 3] [--duration 3600] [--jobs 2]

Writes bench/results/distal_reward.md and .json.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import random
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "examples", "distal_reward.toml")


def run(binary, config_text, seed, duration_s, tmp, tag):
    cfg = os.path.join(tmp, "%s_%d.toml" % (tag, seed))
    out = os.path.join(tmp, "%s_%d.h5" % (tag, seed))
    with open(cfg, "w") as f:
        f.write(config_text)
    p = subprocess.run([binary, "run", cfg, "--seed", str(seed), "--duration", str(duration_s * 1000.0),
                        "--output", out, "--quiet"], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("%s seed %d failed:\n%s" % (tag, seed, p.stderr[-2000:]))
    with h5py.File(out, "r") as f:
        chosen = float(f["edges/chosen/0/syn_weight"][0])
        exc = np.concatenate([f["edges/ee/0/syn_weight"][()], f["edges/ei/0/syn_weight"][()], [chosen]])
        summary = json.loads(f["provenance/summary"][0].decode())
    return {"chosen": chosen, "percentile": float(100.0 * np.mean(exc < chosen)),
            "p50": float(np.percentile(exc, 50)), "p999": float(np.percentile(exc, 99.9)),
            "rewards": summary["rewards"]["dopamine"], "loop_s": summary["loop_s"],
            "rates": {p["name"]: p["rate_hz"] for p in summary["populations"]}}


def control_config(text, n_rewards, seed, duration_s):
    """The same network, the same number of rewards at random times."""
    rng = random.Random(1000 + seed)
    times = sorted(round(rng.uniform(1.0, duration_s * 1000.0 - 1.0)) for _ in range(n_rewards))
    times = [float(t) for t in times] or [duration_s * 1000.0]
    new, n = re.subn(r"trigger = \{.*\}\n", "times = %s\n" % times, text)
    assert n == 1, "the example's reward trigger line was not found"
    return new


def one_seed(binary, text, seed, duration_s, tmp):
    rewarded = run(binary, text, seed, duration_s, tmp, "rewarded")
    control = run(binary, control_config(text, rewarded["rewards"], seed, duration_s), seed, duration_s, tmp,
                  "control")
    return seed, rewarded, control


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--duration", type=float, default=3600.0, help="simulated seconds")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    args = ap.parse_args()
    with open(EXAMPLE) as f:
        text = f.read()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one_seed, args.binary, text, s, args.duration, tmp) for s in args.seeds]
        for fut in concurrent.futures.as_completed(futures):
            seed, r, c = fut.result()
            rows.append({"seed": seed, "rewarded": r, "control": c})
            print("seed %d: chosen %.3f (percentile %.2f, %d rewards); control %.3f (percentile %.1f)" % (
                seed, r["chosen"], r["percentile"], r["rewards"], c["chosen"], c["percentile"]), flush=True)
    rows.sort(key=lambda x: x["seed"])
    ok = sum(1 for x in rows if x["rewarded"]["chosen"] >= 3.6 and x["rewarded"]["chosen"] > x["rewarded"]["p999"])
    controls_ok = all(x["control"]["chosen"] < x["control"]["p50"] for x in rows)
    passed = ok >= min(2, len(rows)) and controls_ok
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    meta = {"date": datetime.date.today().isoformat(), "commit": commit, "duration_s": args.duration,
            "passed": passed, "seeds_meeting_target": ok, "controls_below_median": controls_ok}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "distal_reward.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = ["# Distal reward (Izhikevich 2007), %.0f s simulated" % args.duration, "",
             "%s, commit %s. Pass: chosen >= 3.6 and above the 99.9th percentile in >= 2 of 3 seeds; "
             "control below the median. **%s**" % (meta["date"], commit, "PASS" if passed else "FAIL"), "",
             "| seed | rewards | chosen w | percentile | 99.9th pct | control w | control pct | median | exc Hz | loop s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for x in rows:
        r, c = x["rewarded"], x["control"]
        lines.append("| %d | %d | %.3f | %.2f | %.3f | %.3f | %.1f | %.3f | %.2f | %.0f |" % (
            x["seed"], r["rewards"], r["chosen"], r["percentile"], r["p999"], c["chosen"], c["percentile"],
            c["p50"], r["rates"]["exc"], r["loop_s"]))
    with open(os.path.join(HERE, "results", "distal_reward.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
