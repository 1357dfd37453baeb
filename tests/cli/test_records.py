"""Several [[record]] tables per population, and `start = 0` (issue 19: NEST
users put several multimeters on one population; Brian2's StateMonitor
records the initial values at t = 0).

A record without a name writes the report /report/<population> (at most one
per population), a named one /reports/<name>/<population>. Every report of a
run with several records holds, value for value, what the same record alone
writes in the same run; `start = 0` adds a frame of the initial state, which
shows the `initial` values (constant or drawn).
"""

import math
import os
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CONFIG, TempDir, check, check_equal, expect_exit,  # noqa: E402
                     expect_in, run_ok, spikeline, write)

# Poisson drive into a stepped psc_exp population (it fires: resets and
# refractory periods show in the traces) and a delta population.
NETWORK = """\
[simulation]
dt = 0.1
duration = 100.0
seed = 11

[output]
flush_interval = 30.0

[[population]]
name = "noise"
model = "poisson_generator"
size = 50
params = { rate = 40.0 }

[[population]]
name = "lif"
model = "iaf_psc_exp"
size = 40
params = { C_m = 250.0, tau_m = 20.0, E_L = -65.0, V_th = -50.0, V_reset = -65.0, t_ref = 2.0 }
initial = { V_m = { distribution = "uniform", low = -65.0, high = -50.0 } }

[[population]]
name = "delta"
model = "iaf_psc_delta"
size = 20
params = { tau_m = 10.0, E_L = -70.0, V_th = -55.0, V_reset = -70.0 }

[[projection]]
source = "noise"
target = "lif"
rule = "fixed_indegree"
indegree = 10
weight = 400.0
delay = 1.0

[[projection]]
source = "noise"
target = "delta"
rule = "fixed_indegree"
indegree = 5
weight = 3.0
delay = 0.5
"""

# Four records of lif (different variables, nodes, intervals, start/stop;
# one unnamed) and one of delta.
RECORDS = [
    ("", 'population = "lif"\nvariables = ["V_m", "I_syn_ex"]\nnodes = [0, 1, 7]\n'
         'interval = 0.5\n'),
    ("v_all", 'population = "lif"\nvariables = "V_m"\nstart = 0.0\n'),
    ("syn", 'population = "lif"\nvariables = ["I_syn_ex", "V_m"]\nnodes = [7, 2, 30]\n'
            'interval = 1.0\nstart = 20.0\nstop = 80.0\n'),
    ("late", 'population = "lif"\nvariables = ["V_m"]\nnodes = [39]\ninterval = 2.5\n'
             'start = 50.0\n'),
    ("d", 'population = "delta"\nvariables = "V_m"\nnodes = [0, 19]\ninterval = 0.3\n'
          'start = 0.0\nstop = 30.0\n'),
]


def record_table(name, body):
    return "[[record]]\n" + ("name = \"%s\"\n" % name if name else "") + body


def config(records):
    return NETWORK + "\n" + "\n".join(record_table(n, b) for n, b in records)


def run(tmp, stem, text, extra=()):
    cfg = write(os.path.join(tmp, stem + ".toml"), text)
    out = os.path.join(tmp, stem + ".h5")
    run_ok(["run", cfg, "-o", out, "-q"] + list(extra), cwd=tmp)
    return out


def report_path(name, population):
    return "report/" + population if not name else "reports/%s/%s" % (name, population)


def population_of(body):
    return body.split('"')[1]


def read_report(f, path):
    g = f[path]
    return {
        "data": g["data"][()],
        "variables": [v.decode() for v in g["data"].attrs["variables"]],
        "variable_units": [v.decode() for v in g["data"].attrs["variable_units"]],
        "node_ids": g["mapping/node_ids"][()],
        "index_pointers": g["mapping/index_pointers"][()],
        "element_ids": g["mapping/element_ids"][()],
        "time": g["mapping/time"][()],
    }


def check_same_report(a, b, what):
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, np.ndarray):
            check(x.dtype == y.dtype and x.shape == y.shape,
                  "%s %s: %s %s vs %s %s" % (what, key, x.dtype, x.shape, y.dtype, y.shape))
            check(np.array_equal(x, y), "%s %s differs (%d of %d values)"
                  % (what, key, int(np.sum(x != y)), x.size))
        else:
            check_equal(y, x, "%s %s" % (what, key))


def test_several_records_equal_single_records():
    """Five records (four of one population) in one run: each report equals,
    value for value (data, variables, mapping, time), the report of the same
    record alone in a run of its own; the spikes are those of a run without
    records (recording changes nothing)."""
    with TempDir() as tmp:
        together = run(tmp, "together", config(RECORDS))
        bare = run(tmp, "bare", NETWORK)
        with h5py.File(together, "r") as f:
            check_equal(sorted(f["report"]), ["lif"], "unnamed reports")
            check_equal(sorted(f["reports"]), ["d", "late", "syn", "v_all"], "named reports")
            for name in ("v_all", "syn", "late"):
                check_equal(list(f["reports"][name]), ["lif"], "populations of " + name)
            check_equal(list(f["reports/d"]), ["delta"], "populations of d")
            with h5py.File(bare, "r") as g:
                for pop in ("noise", "lif", "delta"):
                    for key in ("timestamps", "node_ids"):
                        check(np.array_equal(f["spikes"][pop][key][()], g["spikes"][pop][key][()]),
                              "spikes of %s differ from a run without records" % pop)
                check(len(g["spikes/lif/timestamps"]) > 100,
                      "lif hardly fires: the test would mean little")
            for k, (name, body) in enumerate(RECORDS):
                alone = run(tmp, "alone_%d" % k, config([("", body)]))
                pop = population_of(body)
                with h5py.File(alone, "r") as g:
                    check_equal(list(g["report"]), [pop], "the single record's report")
                    check("reports" not in g, "a single unnamed record wrote /reports")
                    check_same_report(read_report(g, "report/" + pop),
                                      read_report(f, report_path(name, pop)),
                                      report_path(name, pop))
            # The frames and times asked for.
            check_equal(list(f["report/lif/mapping/time"][()]), [0.5, 100.5, 0.5], "unnamed time")
            check_equal(f["report/lif/data"].shape, (200, 6), "unnamed shape")
            check_equal(list(f["reports/v_all/lif/mapping/time"][()]),
                        [0.0, 1001 * 0.1, 0.1], "v_all time (from 0)")
            check_equal(f["reports/v_all/lif/data"].shape, (1001, 40), "v_all: frames 0 .. 100 ms")
            check_equal(list(f["reports/syn/lif/mapping/time"][()]), [20.0, 81.0, 1.0], "syn time")
            check_equal(f["reports/syn/lif/data"].shape, (61, 6), "syn: frames 20 .. 80 ms")
            check_equal(list(f["reports/late/lif/mapping/time"][()]), [50.0, 102.5, 2.5],
                        "late time")
            check_equal(f["reports/d/delta/data"].shape, (101, 2), "d: frames 0, 0.3, .. 30 ms")
            # Two records of one variable and node agree where their times meet:
            # V_m of node 7 at 20, 21, .. 80 ms.
            v_all = f["reports/v_all/lif/data"][()]
            syn = f["reports/syn/lif/data"][()]
            check(np.array_equal(syn[:, 1], v_all[200:801:10, 7]), "syn and v_all disagree on V_m")
            unnamed = f["report/lif/data"][()]
            check(np.array_equal(unnamed[:, 0], v_all[5::5, 0]),
                  "the unnamed report and v_all disagree on V_m of node 0")


def test_start_zero_is_the_initial_state():
    """start = 0: frame 0 is the state before the first step, the `initial`
    values: a constant exactly; drawn values as drawn (in their range,
    different per neuron and per seed, and the start of the trajectory the
    model's exact decay continues)."""
    text = """\
[simulation]
dt = 0.1
duration = 10.0
seed = 5

[[population]]
name = "const"
model = "iaf_psc_delta"
size = 5
params = { tau_m = 10.0, E_L = -70.0, V_th = -55.0 }
initial = { V_m = -58.25 }

[[population]]
name = "drawn"
model = "iaf_psc_delta"
size = 50
params = { tau_m = 10.0, E_L = -70.0, V_th = -55.0 }
initial = { V_m = { distribution = "uniform", low = -69.0, high = -56.0 } }

[[population]]
name = "plain"
model = "iaf_psc_delta"
size = 3

[[record]]
population = "const"
variables = "V_m"
start = 0

[[record]]
population = "drawn"
variables = "V_m"
start = 0

[[record]]
population = "plain"
variables = "V_m"
interval = 2.0
start = 0.0
"""
    with TempDir() as tmp:
        out = run(tmp, "zero", text)
        other_seed = run(tmp, "zero_seed6", text, ["--seed", "6"])
        with h5py.File(out, "r") as f, h5py.File(other_seed, "r") as g:
            c = f["report/const/data"][()]
            check_equal(list(f["report/const/mapping/time"][()]), [0.0, 101 * 0.1, 0.1], "time")
            check_equal(c.shape, (101, 5), "frames 0, 0.1, .., 10 ms")
            check(np.all(c[0] == np.float32(-58.25)), "frame 0 of a constant initial: %r" % c[0])
            decayed = -70.0 + 11.75 * math.exp(-0.1 / 10.0)
            check(np.all(np.abs(c[1].astype(np.float64) - decayed) < 2e-5),
                  "frame 1 is not the decay of frame 0 towards E_L: %r" % c[1])
            d = f["report/drawn/data"][()]
            v0 = d[0].astype(np.float64)
            check(np.all((v0 >= -69.0) & (v0 <= -56.0)), "frame 0 outside the drawn range")
            check_equal(len(np.unique(v0)), 50, "distinct drawn values")
            check(not np.array_equal(g["report/drawn/data"][0], d[0]),
                  "another seed draws the same frame 0")
            check(np.array_equal(g["report/const/data"][0], c[0]), "a constant depends on the seed")
            # No input: V(dt) = E_L + (V(0) - E_L) exp(-dt / tau_m), exactly
            # up to float32 rounding of the stored values.
            predicted = -70.0 + (v0 + 70.0) * math.exp(-0.1 / 10.0)
            err = np.max(np.abs(d[1].astype(np.float64) - predicted))
            check(err < 2e-5, "frame 1 is not the exact decay from frame 0 (max error %g)" % err)
            # The default initial state: E_L.
            p = f["report/plain/data"][()]
            check_equal(list(f["report/plain/mapping/time"][()]), [0.0, 12.0, 2.0], "plain time")
            check(np.all(p == np.float32(-70.0)), "a resting population: %r" % p)


def test_start_zero_then_the_unbounded_frames():
    """A record with start = 0 holds the frame of the initial state, then
    exactly the frames of the same record without start (one interval in)."""
    body = 'population = "lif"\nvariables = ["V_m", "I_syn_ex"]\nnodes = [3, 4]\ninterval = 0.7\n'
    with TempDir() as tmp:
        plain = run(tmp, "plain", config([("", body)]))
        zero = run(tmp, "zero", config([("", body + "start = 0.0\n")]))
        with h5py.File(plain, "r") as f, h5py.File(zero, "r") as g:
            a, b = f["report/lif/data"][()], g["report/lif/data"][()]
            check_equal(b.shape[0], a.shape[0] + 1, "frames with start = 0")
            check(np.array_equal(b[1:], a), "the frames after the initial one differ")
            check_equal(list(g["report/lif/mapping/time"][()]),
                        [0.0, b.shape[0] * (7 * 0.1), 7 * 0.1], "mapping/time")
            check(np.all(b[0, 1::2] == 0), "I_syn_ex is not 0 before the first step")


def test_duration_zero_with_start_zero():
    """duration = 0 simulates nothing; a record from 0 still has its one
    frame, the initial state (samples at start ... <= duration)."""
    body = 'population = "lif"\nvariables = "V_m"\nnodes = [0]\nstart = 0.0\n'
    with TempDir() as tmp:
        out = run(tmp, "d0", config([("", body)]), ["--duration", "0"])
        with h5py.File(out, "r") as f:
            check_equal(f["report/lif/data"].shape, (1, 1), "frames")
            check_equal(list(f["report/lif/mapping/time"][()]), [0.0, 0.1, 0.1], "time")
            v = float(f["report/lif/data"][0, 0])
            check(-65.0 <= v <= -50.0, "not a drawn initial value: %r" % v)


def test_weight_record_duration_zero_with_start_zero():
    """[[record_weights]] start = 0 with duration = 0: the t = 0 snapshot,
    like a [[record]]'s t = 0 frame (samples at start ... <= min(stop,
    duration)); was: no sample at all."""
    with TempDir() as tmp:
        cfg = write(os.path.join(tmp, "w0.toml"), clitest.SMALL_NETWORK.replace(
            'rule = "all_to_all"', 'name = "ge"\nrule = "all_to_all"') + """
[[record_weights]]
projection = "ge"
interval = 10.0
start = 0.0
""")
        out = os.path.join(tmp, "w0.h5")
        run_ok(["run", cfg, "-o", out, "-q", "--duration", "0"], cwd=tmp)
        with h5py.File(out, "r") as f:
            check_equal(list(f["weights/ge/time"][()]), [0.0], "snapshot times")
            check_equal(f["weights/ge/data"].shape, (1, 200), "snapshots")
            check(np.all(f["weights/ge/data"][0] == 5.0), "not the initial weights")
        # With a duration the first snapshot is still the one at t = 0, once.
        run_ok(["run", cfg, "-o", out, "-q", "--duration", "20"], cwd=tmp)
        with h5py.File(out, "r") as f:
            check_equal(list(f["weights/ge/time"][()]), [0.0, 10.0, 20.0], "snapshot times")


def test_inspect_lists_every_report():
    with TempDir() as tmp:
        out = run(tmp, "together", config(RECORDS))
        r = run_ok(["inspect", out])
        expect_in(r.stdout, "  report  population  nodes  variables     frames  start (ms)  "
                            "step (ms)\n", "stdout", r)
        for line in ["  -       lif             3  V_m,I_syn_ex     200         0.5        0.5\n",
                     "  d       delta           2  V_m              101           0        0.3\n",
                     "  late    lif             1  V_m               21          50        2.5\n",
                     "  syn     lif             3  I_syn_ex,V_m      61          20          1\n",
                     "  v_all   lif            40  V_m             1001           0        0.1\n"]:
            expect_in(r.stdout, line, "stdout", r)
        check("problems" not in r.stdout, "inspect finds problems:\n" + r.stdout)
        # One unnamed record: the table it always had, without a report column.
        single = run(tmp, "single", config(RECORDS[:1]))
        r = run_ok(["inspect", single])
        expect_in(r.stdout, "reports\n  population  nodes  variables     frames  start (ms)  "
                            "step (ms)\n  lif             3  V_m,I_syn_ex     200         0.5"
                            "        0.5\n", "stdout", r)


def test_set_addresses_a_record_by_name():
    with TempDir() as tmp:
        out = run(tmp, "set", config(RECORDS), ["--set", "record.syn.interval=2.0",
                                                "--set", "record.0.nodes=[5]"])
        with h5py.File(out, "r") as f:
            check_equal(list(f["reports/syn/lif/mapping/time"][()]), [20.0, 82.0, 2.0], "syn time")
            check_equal(list(f["report/lif/mapping/node_ids"][()]), [5], "record 0 nodes")


def test_clashes_name_both_records():
    """Two records that would write one report, or two of one name, are
    config errors (78) naming both, found before anything is written."""
    with TempDir() as tmp:
        existing = run(tmp, "existing", config(RECORDS[:1]))
        before = open(existing, "rb").read()
        body = RECORDS[0][1]
        cases = [
            (config([("", body), ("v", body), ("", body.replace("[0, 1, 7]", "[2]"))]),
             ["record #1 and record #3 would both write /report/lif, the report of population "
              "'lif': give one a `name`"]),
            (config([("v", body), ("", body), ("v", RECORDS[4][1])]),
             ["record #1 and record #3 are both named 'v'"]),
            (config([("x/y", body)]), ["record name 'x/y' is invalid"]),
            (config([("", body + "start = 0.05\n")]),
             ["record of 'lif' start", "the nearest valid times are 0 and 0.1 ms"]),
            (config([("w", body + "start = 30.0\nstop = 20.0\n")]),
             ["record 'w' of 'lif': stop = 20 ms is before start = 30 ms"]),
            (config([("w", body.replace('"lif"', '"lf"'))]),
             ["record 'w': unknown population 'lf' (did you mean 'lif'?)"]),
            (config([("w", body.replace("[0, 1, 7]", "[0, 40]"))]),
             ["record 'w' of 'lif'", "node id 40"]),
            (config([("w", body.replace("I_syn_ex", "I_syn"))]),
             ["record 'w' of 'lif': 'iaf_psc_exp' has no state variable 'I_syn'"]),
        ]
        for k, (text, fragments) in enumerate(cases):
            cfg = write(os.path.join(tmp, "bad_%d.toml" % k), text)
            for command in (["validate", cfg], ["run", cfg, "-o", existing, "-q"]):
                r = spikeline(command, cwd=tmp)
                expect_exit(r, EX_CONFIG)
                for fragment in fragments:
                    expect_in(r.stderr, fragment, r=r)
        check(open(existing, "rb").read() == before, "a refused run changed the existing output")


clitest.main(globals())
