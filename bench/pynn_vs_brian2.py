#!/usr/bin/python3
"""The PyNN examples (examples/pynn/) on spikeline and on pyNN.brian2
(Debian's Brian2), each script run unchanged except for its import line,
over several seeds of the scripts' NumpyRNG (connectivity, initial values):
the statistics side by side, and where the time goes.

    /usr/bin/python3 bench/pynn_vs_brian2.py [--seeds 3] [--only coba,cuba,brunel,stdp]

Writes bench/results/pynn_vs_brian2.md and .json. The statistics of a
chaotic network differ between realisations; two simulators agree when
their means over the seeds differ by less than the tolerance of each row
(see the .md). spikeline's own Poisson draws use setup()'s rng_seed (1)
whatever the seed; Brian2 draws its own.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

from benchlib import commit as source_commit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLES = os.path.join(ROOT, "examples", "pynn")
IMPORT = "import spikeline.pynn as sim"

CASES = {
    "coba": ("vogels_abbott.py", ["COBA", "1000"]),
    "cuba": ("vogels_abbott.py", ["CUBA", "1000"]),
    "brunel": ("brunel.py", ["1000"]),
    "stdp": ("stdp_song.py", ["50000"]),
}
BACKENDS = {"spikeline": "import spikeline.pynn as sim", "brian2": "import pyNN.brian2 as sim"}


def run_case(case, backend, seed, tmp):
    script, args = CASES[case]
    text = open(os.path.join(EXAMPLES, script)).read()
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.startswith(IMPORT)]
    assert len(hits) == 1, "%s: the import line" % script
    lines[hits[0]] = BACKENDS[backend] + "\n"  # the one line that changes
    path = os.path.join(tmp, "%s_%s.py" % (backend, script[:-3]))
    with open(path, "w") as f:
        f.writelines(lines)
    stats = os.path.join(tmp, "stats.json")
    env = dict(os.environ, PYNN_STATS=stats, PYNN_SEED=str(seed),
               PYTHONPATH=os.pathsep.join([EXAMPLES] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    p = subprocess.run(["/usr/bin/python3", path] + args, env=env, capture_output=True, text=True,
                       cwd=tmp)
    if p.returncode != 0:
        sys.exit("%s on %s failed:\n%s" % (case, backend, p.stderr[-3000:]))
    with open(stats) as f:
        return json.load(f)


def metrics(case, r):
    if case == "stdp":
        w = r["weights"]
        return {"output rate (Hz)": r["output_rate_last_5s_hz"], "mean w / w_max": w["mean"],
                "fraction w < 0.1 w_max": w["near_zero"], "fraction w > 0.9 w_max": w["near_max"]}
    return {"exc rate (Hz)": r["exc"]["rate_hz"], "inh rate (Hz)": r["inh"]["rate_hz"],
            "exc ISI CV": r["exc"]["cv_isi"], "inh ISI CV": r["inh"]["cv_isi"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--only", default=",".join(CASES))
    ap.add_argument("--merge", action="store_true",
                    help="keep the other cases' results of the existing .json")
    args = ap.parse_args()
    cases = args.only.split(",")
    path = os.path.join(HERE, "results", "pynn_vs_brian2.json")
    results = {}
    if args.merge and os.path.exists(path):
        with open(path) as f:
            results = {k: v for k, v in json.load(f)["results"].items() if k not in cases}
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            results[case] = {}
            for backend in BACKENDS:
                for seed in range(1, args.seeds + 1):
                    r = run_case(case, backend, seed, tmp)
                    results[case].setdefault(backend, []).append(r)
                    print(case, backend, seed, json.dumps(metrics(case, r)),
                          "build %.1f s run %.1f s" % (r["build_s"], r["run_s"]), flush=True)
                    write(results, args.seeds, quiet=True)  # a crash later loses nothing
    write(results, args.seeds)


def summary(values):
    v = [float(x) for x in values]
    m = statistics.fmean(v)
    sd = statistics.stdev(v) if len(v) > 1 and all(x == x for x in v) else 0.0
    return m, sd


def write(results, seeds, quiet=False):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = {"date": stamp, "commit": source_commit(), "machine": platform.node(), "seeds": seeds,
           "results": results}
    with open(os.path.join(HERE, "results", "pynn_vs_brian2.json"), "w") as f:
        json.dump(out, f, indent=1)
    lines = ["# PyNN examples: spikeline vs pyNN.brian2", "",
             "%s, commit %s, %d seeds of each script's NumpyRNG; the scripts of "
             "examples/pynn/ with only the import line changed (bench/pynn_vs_brian2.py)." %
             (stamp, out["commit"], seeds), "",
             "Mean ± sd over the seeds. Agreement: the means differ by less than 10 % of "
             "Brian2's mean, or by less than 3 standard errors of the difference "
             "(sqrt(sd1²/n + sd2²/n)). The two run different integrators for the conductance "
             "model (spikeline: exact decay of g, forward Euler for V, NEST/Brian2-like "
             "threshold at the end of the step; Brian2: its own 'euler' on all variables) "
             "and draw different Poisson input, so only statistics can agree.", "",
             "| network | quantity | spikeline | Brian2 | difference | agree |",
             "|---|---|---|---|---|---|"]
    for case, by_backend in results.items():
        if set(by_backend) != set(BACKENDS) or len(set(map(len, by_backend.values()))) != 1:
            continue  # still running
        ms = [metrics(case, r) for r in by_backend["spikeline"]]
        mb = [metrics(case, r) for r in by_backend["brian2"]]
        for q in ms[0]:
            a, sa = summary([m[q] for m in ms])
            b, sb = summary([m[q] for m in mb])
            se = ((sa ** 2 + sb ** 2) / seeds) ** 0.5
            diff = a - b
            ok = abs(diff) <= max(0.10 * abs(b), 3 * se)
            lines.append("| %s | %s | %.3f ± %.3f | %.3f ± %.3f | %+.1f %% | %s |" % (
                case, q, a, sa, b, sb, 100 * diff / b if b else float("nan"), "yes" if ok else "**no**"))
    lines += ["", "## Where the time goes (seconds, mean over the seeds)", "",
              "build: the script from setup() to the last record() (PyNN's connectors in Python, "
              "the network description); run: sim.run() (spikeline: building the engine and "
              "simulating; Brian2: code generation and simulation); read: get_data() into Neo.", "",
              "| network | backend | build | run | read |", "|---|---|---|---|---|"]
    for case, by_backend in results.items():
        for backend, rs in by_backend.items():
            lines.append("| %s | %s | %.2f | %.2f | %s |" % (
                case, backend, *(statistics.fmean(r[k] for r in rs) for k in ("build_s", "run_s")),
                "%.2f" % statistics.fmean(r["read_s"] for r in rs) if all("read_s" in r for r in rs)
                else "not kept"))
    with open(os.path.join(HERE, "results", "pynn_vs_brian2.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    if not quiet:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
