#!/usr/bin/python3
"""EMBER's first-action figure: from zero lateral weights, on the fixed
synthetic conversation (examples/ember/conversation.jsonl), the exchange
after which the first action comes, for several seeds; and the controls
(every reward 0; plasticity off), which must never act.

    /usr/bin/python3 bench/ember_first_action.py                 # the full substrate, seeds 1-5
    /usr/bin/python3 bench/ember_first_action.py --config examples/ember/small.toml --out /tmp

Writes OUT/ember_first_action.json and .md (OUT: bench/results).
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def session(binary, config, conversation, seed, extra, workdir, idle_s):
    """One session, then idle_s seconds of idle; the actions, and concept_e's
    spikes per second over the last half of the idle period (the
    spontaneous 80,000 x 0.005 Hz = 400/s when every ignition has ended)."""
    out = os.path.join(workdir, "s%d.h5" % seed)
    t0 = time.monotonic()
    p = subprocess.run([binary, "ember", config, "-i", conversation, "-o", out, "--set",
                        "simulation.seed=%d" % seed, "--idle", repr(idle_s / 3600.0)] + extra,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("spikeline ember failed (seed %d):\n%s" % (seed, p.stderr))
    actions = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    summary = [l for l in p.stderr.splitlines() if "complete after" in l]
    with h5py.File(out, "r") as f:
        t = f["spikes/concept_e/timestamps"][()]
    end = float(re.search(r"complete after ([0-9.]+) ms", summary[0]).group(1))
    last = np.count_nonzero(t > end - idle_s * 500.0) / (idle_s / 2.0)
    return {"seed": seed, "wall_s": round(wall, 1),
            "first": actions[0]["exchange"] if actions else None,
            "actions": [(a["exchange"], a["time_ms"]) for a in actions],
            "late_concept_e_per_s": round(last, 1),
            "summary": summary[0] if summary else ""}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "tools", "spikeline"))
    ap.add_argument("--config", default=os.path.join(ROOT, "examples", "ember", "substrate.toml"))
    ap.add_argument("--conversation",
                    default=os.path.join(ROOT, "examples", "ember", "conversation.jsonl"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--idle", type=float, default=20.0,
                    help="seconds of idle after the conversation (does the activity end?)")
    ap.add_argument("--set", action="append", default=[], help="extra --set for every run")
    args = ap.parse_args()
    extra = sum((["--set", s] for s in args.set), [])
    with open(args.conversation) as f:
        lines = f.read()
    with tempfile.TemporaryDirectory(prefix="ember-first-") as d:
        unrewarded = os.path.join(d, "unrewarded.jsonl")
        with open(unrewarded, "w") as f:
            f.write(lines.replace('"reward": 1}', '"reward": 0}'))
        runs = []
        for seed in args.seeds:
            r = session(args.binary, args.config, args.conversation, seed, extra, d, args.idle)
            print("seed %d: first action after exchange %s (%s), concept_e %.0f/s late, %.1f s" %
                  (seed, r["first"], r["actions"], r["late_concept_e_per_s"], r["wall_s"]),
                  flush=True)
            runs.append(r)
        controls = []
        for name, conv, more in [
                ("every reward 0", unrewarded, []),
                ("plasticity off", args.conversation,
                 ["--set", "projection.lateral.plasticity.learning_rate=1e-12"])]:
            for seed in args.seeds[:2]:
                r = session(args.binary, args.config, conv, seed, extra + more, d, args.idle)
                r["control"] = name
                print("control %s, seed %d: %d actions, %.1f s" %
                      (name, seed, len(r["actions"]), r["wall_s"]), flush=True)
                controls.append(r)
    inside = [r for r in runs if r["first"] is not None and abs(r["first"] - 7) <= 2]
    verdict = len(inside) >= min(4, len(runs)) and all(not c["actions"] for c in controls)
    ended = sum(1 for r in runs if r["late_concept_e_per_s"] < 800)
    result = {"config": os.path.relpath(args.config, ROOT),
              "conversation": os.path.relpath(args.conversation, ROOT),
              "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
              "load": os.getloadavg(), "extra": args.set, "runs": runs, "controls": controls,
              "within_7_pm_2": len(inside), "ended": ended, "idle_s": args.idle,
              "verdict": verdict}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "ember_first_action.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(args.out, "ember_first_action.md"), "w") as f:
        f.write("# EMBER: the first action\n\n")
        f.write("`/usr/bin/python3 bench/ember_first_action.py` on %s; config `%s`%s, "
                "conversation `%s` (two alternating topics in paraphrases, every exchange "
                "rewarded). The paper: the first action after 7 exchanges; the bar: 7 +/- 2 in at "
                "least 4 of 5 seeds, and never an action with every reward 0 or with plasticity "
                "off.\n\n" % (result["date"], result["config"],
                              (" with " + ", ".join("`%s`" % s for s in args.set)) if args.set else "",
                              result["conversation"]))
        f.write("Each session is followed by %g s of idle (the 16 exchanges take 19.2 s). "
                "Ignitions must end: the last column is concept_e's spikes per second over the "
                "last half of that idle period; its spontaneous rate alone gives 80,000 x "
                "0.005 Hz = 400/s, and an assembly that never stops gives ~10^5/s.\n\n"
                % args.idle)
        f.write("| seed | first action after exchange | actions (exchange, ms) | concept_e /s late "
                "in the idle | wall |\n|---|---|---|---|---|\n")
        for r in runs:
            f.write("| %d | %s | %s | %.0f | %.1f s |\n" % (r["seed"], r["first"], r["actions"],
                                                       r["late_concept_e_per_s"], r["wall_s"]))
        f.write("\n| control | seed | actions | concept_e /s late in the idle | wall |\n"
                "|---|---|---|---|---|\n")
        for c in controls:
            f.write("| %s | %d | %d | %.0f | %.1f s |\n" % (c["control"], c["seed"], len(c["actions"]),
                                                       c["late_concept_e_per_s"], c["wall_s"]))
        f.write("\nWithin 7 +/- 2: %d of %d seeds. Verdict: %s. Activity back at the spontaneous "
                "rate (< 800/s) after the session: %d of %d seeds.\n\nRun summaries (seed 1 and "
                "the first control):\n\n    %s\n    %s\n\nHow the parameters were found, and "
                "the static-weight runs whose ignition never ended: "
                "[ember_first_action_exploration.md](ember_first_action_exploration.md).\n" % (
                    len(inside), len(runs), "met" if verdict else "NOT met", ended, len(runs),
                    runs[0]["summary"], controls[0]["summary"]))
    print("within 7 +/- 2: %d of %d; controls silent: %s; activity ended: %d of %d; verdict: %s" %
          (len(inside), len(runs), all(not c["actions"] for c in controls), ended, len(runs),
           verdict))


if __name__ == "__main__":
    main()
