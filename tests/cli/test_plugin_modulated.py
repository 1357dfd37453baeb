"""Learning rules of plugin ABI 1.4 through the CLI: the test plugin
tests/plugin/plugins/modulated.cpp, written with the C++ layer.

dopamine_hebb (dw/dt = eta D x y, a reward-modulated rule that is not built
in) changes the weights exactly as its equations say, checked against an
integral computed here from the recorded spikes and the reward schedule;
reads the neuromodulator the config names; is brought up to the end of the
run by its sync (the final edges) and read without being changed by its
value() (weight records, its synapse variable `gated`); gives the same
weights at 1 and 2 threads and after a checkpoint and resume. Bad configs:
an unknown neuromodulator, none defined, no `modulator` given, a
`modulator` key on a rule that reads none.

geometric_release (on_pre writes what a spike delivers: weight * U^n at
the n-th arrival) is read from the voltage jumps of iaf_psc_delta targets.

ctest passes the plugins' directory in SPIKELINE_TEST_PLUGIN_DIR.
"""

import os
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CONFIG, TempDir, check, expect_exit, expect_in, run_ok,  # noqa: E402
                     spikeline, write)

PLUGIN_DIR = os.environ.get("SPIKELINE_TEST_PLUGIN_DIR", "")


def plugin_path(name):
    return os.path.join(PLUGIN_DIR, "libtest_plugin_%s.so" % name)


DT = 0.1
DURATION = 500.0
ETA, TAU_X, TAU_Y, TAU_D = 0.02, 20.0, 30.0, 150.0
REWARDS = [40.0, 120.3, 250.0, 250.1, 410.0]
AMOUNT = 0.8

# 30 Poisson sources onto 10 neurons driven above threshold; delays vary so
# that arrivals, spikes and reward pulses interleave in every order.
NETWORK = """\
plugins = ["%(plugin)s"]

[simulation]
dt = 0.1
duration = %(duration)s
seed = 5

[[population]]
name = "src"
model = "poisson_generator"
size = 30
params = { rate = 40.0 }

[[population]]
name = "post"
model = "iaf_cond_exp"
size = 10
params = { I_e = 380.0 }

[[neuromodulator]]
name = "da"
tau = 150.0

[[reward]]
modulator = "da"
amount = 0.8
times = [40.0, 120.3, 250.0, 250.1, 410.0]

[[projection]]
name = "sp"
source = "src"
target = "post"
rule = "fixed_indegree"
indegree = 6
weight = 0.5
delay = { distribution = "uniform", low = 0.5, high = 2.0 }
plasticity = { rule = "dopamine_hebb", modulator = "da", eta = 0.02, tau_x = 20.0, tau_y = 30.0 }
%(records)s
"""

RECORDS = """
[[record_weights]]
projection = "sp"
interval = 100.0
start = 0.0
variables = ["gated"]
"""


def network(duration=DURATION, records=RECORDS):
    return NETWORK % {"plugin": plugin_path("modulated"), "duration": duration,
                      "records": records}


def steps(t):
    return np.rint(np.asarray(t, dtype=np.float64) / DT).astype(np.int64)


def gated_integral(arrivals, posts, until):
    """The integral of D x y over (0, until] (steps), piecewise between every
    event of either side and every pulse: on each piece x, y and D are each a
    sum of exponentials that decay together, evaluated at its start from
    every earlier event (not lazily, as the plugin keeps them)."""
    pulses = steps(REWARDS)
    points = np.unique(np.concatenate([[0, until], arrivals, posts, pulses]))
    points = points[points <= until]
    b = 1.0 / TAU_X + 1.0 / TAU_Y
    rate = b + 1.0 / TAU_D
    total = 0.0
    for u, v in zip(points[:-1], points[1:]):
        x = np.sum(np.exp(-(u - arrivals[arrivals <= u]) * DT / TAU_X))
        y = np.sum(np.exp(-(u - posts[posts <= u]) * DT / TAU_Y))
        d = AMOUNT * np.sum(np.exp(-(u - pulses[pulses <= u]) * DT / TAU_D))
        total += x * y * d * (1.0 - np.exp(-rate * (v - u) * DT)) / rate
    return total


def synapse_events(f):
    """Per synapse (edges order): its arrivals and its target's spikes, in steps."""
    e = f["edges/sp"]
    src, tgt, delay = e["source_node_id"][()], e["target_node_id"][()], e["0/delay"][()]
    pre_t, pre_id = f["spikes/src/timestamps"][()], f["spikes/src/node_ids"][()]
    post_t, post_id = f["spikes/post/timestamps"][()], f["spikes/post/node_ids"][()]
    out = []
    for s, t, d in zip(src, tgt, delay):
        out.append((steps(pre_t[pre_id == s]) + int(round(d / DT)), steps(post_t[post_id == t])))
    return out


def run(d, name, text, args=()):
    cfg = write(os.path.join(d, name + ".toml"), text)
    out = os.path.join(d, name + ".h5")
    run_ok(["run", cfg, "-q", "-o", out] + list(args))
    return out


def close(got, want, what):
    # The rule integrates in double precision, in pieces of its own; the
    # weights are stored as float32: a few units in its last place.
    got = np.asarray(got, dtype=np.float64)
    bad = np.abs(got - want) > 4e-7 * np.abs(want) + 1e-12
    k = int(np.argmax(np.abs(got - want)))
    check(not bad.any(), "%s: %d of %d differ from the equations (synapse %d: %.9g vs %.9g)"
          % (what, np.count_nonzero(bad), len(got), k, got[k], want[k]))


def test_weights_follow_the_equations_and_sync_at_the_end():
    with TempDir() as d:
        out = run(d, "hebb", network())
        with h5py.File(out, "r") as f:
            events = synapse_events(f)
            final = f["edges/sp/0/syn_weight"][()]
            w = f["weights/sp/data"][()]
            gated = f["weights/sp/gated"][()]
            times = f["weights/sp/time"][()] if "time" in f["weights/sp"] else None
        n_arr = sum(len(a[a <= steps(DURATION)]) for a, _ in events)
        check(n_arr > 1000 and sum(len(p) for _, p in events) > 500,
              "too few spikes to test the rule")
        end = int(steps(DURATION))
        want_end = np.array([gated_integral(a[a <= end], p, end) for a, p in events])
        check(np.count_nonzero(want_end > 1e-3) > 0.9 * len(events),
              "the rule barely moved: %d of %d synapses" % (np.count_nonzero(want_end > 1e-3),
                                                          len(events)))
        # The final edges: every synapse brought up to the end by sync(),
        # though most had no event in the last steps.
        close(final, 0.5 + ETA * want_end, "the final weights")
        # The records, read by value() at 0, 100, ..., 500 ms without
        # advancing anything: the weight and the synapse variable.
        check(w.shape[0] == 6 and gated.shape == w.shape, "records of shape %s" % (w.shape,))
        if times is not None:
            check(np.allclose(times, np.arange(6) * 100.0), "record times %s" % times)
        for row in range(6):
            at = int(steps(row * 100.0))
            want = np.array([gated_integral(a[a <= at], p[p <= at], at) for a, p in events])
            close(gated[row], want, "gated at %g ms" % (row * 100.0))
            close(w[row], 0.5 + ETA * want, "the weights at %g ms" % (row * 100.0))
        check(np.array_equal(w[-1], final), "the last record differs from the final edges")


def test_recording_changes_nothing():
    # Records every step read every synapse between its events; a lazy rule
    # that advanced them there would integrate in other pieces and differ
    # in the last bits.
    with TempDir() as d:
        bare = run(d, "bare", network(records=""))
        dense = run(d, "dense", network(records=RECORDS.replace("100.0", "0.1")))
        with h5py.File(bare, "r") as a, h5py.File(dense, "r") as b:
            check(np.array_equal(a["edges/sp/0/syn_weight"][()], b["edges/sp/0/syn_weight"][()]),
                  "recording changed the final weights")
            for p in ("src", "post"):
                check(np.array_equal(a["spikes/%s/timestamps" % p][()],
                                     b["spikes/%s/timestamps" % p][()]),
                      "recording changed the spikes of %s" % p)
            check(b["weights/sp/data"].shape[0] == 5001, "dense records: %s"
                  % (b["weights/sp/data"].shape,))


def final(path):
    with h5py.File(path, "r") as f:
        return (f["edges/sp/0/syn_weight"][()], f["weights/sp/data"][()],
                f["weights/sp/gated"][()], f["spikes/post/timestamps"][()])


def test_same_at_1_and_2_threads_and_after_a_resume():
    with TempDir() as d:
        text = network()
        one = final(run(d, "one", text, ["-t", "1"]))
        two = final(run(d, "two", text, ["-t", "2"]))
        for a, b, what in zip(one, two, ("final weights", "weights", "gated", "spikes")):
            check(np.array_equal(a, b), "the %s differ at 1 and 2 threads" % what)
        # Stopped at 230 ms (between two records, rewards on either side),
        # resumed at another thread count.
        ck = os.path.join(d, "hebb.ck.h5")
        out = run(d, "broken", text, ["-t", "2", "--duration", "230", "--checkpoint", ck])
        run_ok(["resume", ck, "-q", "--duration", str(DURATION), "-t", "1"])
        resumed = final(out)
        for a, b, what in zip(one, resumed, ("final weights", "weights", "gated", "spikes")):
            check(np.array_equal(a, b), "the resumed run's %s differ" % what)


def test_the_modulator_is_the_one_the_config_names():
    # The same network with the rewards on a second neuromodulator the rule
    # does not read learns nothing; named, it learns as before.
    extra = '[[neuromodulator]]\nname = "other"\ntau = 150.0\n'
    with TempDir() as d:
        text = network(records="").replace("[[reward]]\nmodulator = \"da\"",
                                            "[[reward]]\nmodulator = \"other\"") + extra
        out = run(d, "other", text)
        with h5py.File(out, "r") as f:
            check(np.all(f["edges/sp/0/syn_weight"][()] == np.float32(0.5)),
                  "a rule reading 'da' learned from rewards of 'other'")
        out = run(d, "named", text.replace('modulator = "da", eta', 'modulator = "other", eta'))
        with h5py.File(out, "r") as f:
            events = synapse_events(f)
            end = int(steps(DURATION))
            want = np.array([gated_integral(a[a <= end], p, end) for a, p in events])
            close(f["edges/sp/0/syn_weight"][()], 0.5 + ETA * want, "reading 'other'")


def test_bad_modulators_are_refused_by_name():
    cases = [
        # An unknown name: the projection, the name, the defined ones.
        (lambda t: t.replace('modulator = "da", eta', 'modulator = "dopa", eta'),
         ["projection 'sp'", "neuromodulator 'dopa'", "which is not defined", "defined: da"]),
        (lambda t: t.replace('modulator = "da", eta', 'modulator = "db", eta'),
         ["neuromodulator 'db'", "did you mean 'da'"]),
        # None defined at all.
        (lambda t: t.replace('[[neuromodulator]]\nname = "da"\ntau = 150.0\n', "").replace(
            '[[reward]]\nmodulator = "da"\namount = 0.8\ntimes = [40.0, 120.3, 250.0, 250.1, '
            '410.0]\n', ""),
         ["projection 'sp'", "neuromodulator 'da'", "defined: none"]),
        # The rule has no default: the config must name one.
        (lambda t: t.replace('modulator = "da", eta', 'eta'),
         ["parameter modulator", "rule 'dopamine_hebb'", "reads a neuromodulator: name one"]),
        (lambda t: t.replace('modulator = "da", eta', 'modulator = "", eta'),
         ["parameter modulator", "reads a neuromodulator: name one"]),
        # A rule that reads none (c_hebb of the C test plugin).
        (lambda t: t.replace('rule = "dopamine_hebb", modulator = "da", eta = 0.02, tau_x = 20.0, '
                             'tau_y = 30.0', 'rule = "c_hebb", modulator = "da"'),
         ["projection 'sp' plasticity (c_hebb) parameter modulator",
          "rule 'c_hebb' reads no neuromodulator: remove the modulator key"]),
    ]
    with TempDir() as d:
        for edit, messages in cases:
            text = edit(network(records=""))
            check(text != network(records=""), "a case did not apply: %s" % messages)
            cfg = write(os.path.join(d, "bad.toml"), text)
            # `validate` says so too, without simulating.
            for command in (["validate", cfg], ["run", cfg, "-q", "-o", os.path.join(d, "bad.h5")]):
                r = spikeline(command + ["--plugin", plugin_path("ok")])
                expect_exit(r, EX_CONFIG)
                for m in messages:
                    expect_in(r.stderr, m, r=r)


def test_models_lists_the_modulator_key():
    r = run_ok(["models", "dopamine_hebb", "--plugin", plugin_path("modulated")])
    expect_in(r.stdout, "dopamine_hebb (plasticity rule)", "stdout", r)
    expect_in(r.stdout, "modulator", "stdout", r)
    expect_in(r.stdout, "gated", "stdout", r)


RELEASE = """\
plugins = ["%(plugin)s"]

[simulation]
dt = 0.1
duration = 60.0
seed = 1

[[population]]
name = "src"
model = "spike_generator"
size = 2
params = { spike_times = [[1.0, 5.0, 9.5, 20.0, 33.3], [2.0, 12.0, 30.0]] }

[[population]]
name = "post"
model = "iaf_psc_delta"
size = 2
params = { tau_m = 1e9, E_L = 0.0, V_reset = 0.0, V_th = 1e6, t_ref = 0.1 }

[[projection]]
name = "sp"
source = "src"
target = "post"
rule = "one_to_one"
weight = 2.0
delay = 1.5
plasticity = { rule = "geometric_release", U = 0.6 }

[[record]]
population = "post"
variables = ["V_m"]
interval = 0.1
start = 0.0
"""


def test_what_a_spike_delivers():
    with TempDir() as d:
        cfg = write(os.path.join(d, "release.toml"), RELEASE % {"plugin": plugin_path("modulated")})
        out = os.path.join(d, "release.h5")
        run_ok(["run", cfg, "-q", "-o", out])
        with h5py.File(out, "r") as f:
            v = f["report/post/data"][()].astype(np.float64)  # frames x 2, frame i = step i
            final = f["edges/sp/0/syn_weight"][()]
        trains = [[1.0, 5.0, 9.5, 20.0, 33.3], [2.0, 12.0, 30.0]]
        for i, train in enumerate(trains):
            arrivals = steps(train) + 15
            jumps = v[arrivals, i] - v[arrivals - 1, i]
            want = np.float32(2.0) * 0.6 ** np.arange(len(train))
            want = want.astype(np.float32).astype(np.float64)
            check(np.allclose(jumps, want, rtol=1e-5, atol=1e-6),
                  "neuron %d: jumps %s, want 2 * 0.6^n = %s" % (i, jumps, want))
            others = np.setdiff1d(np.arange(1, v.shape[0]), arrivals)
            check(np.all(np.abs(v[others, i] - v[others - 1, i]) < 1e-5),
                  "neuron %d: V moved without an arrival" % i)
        check(np.all(final == np.float32(2.0)), "the stored weights changed: %s" % final)


if __name__ == "__main__":
    if not PLUGIN_DIR:
        sys.stderr.write("SPIKELINE_TEST_PLUGIN_DIR is not set (ctest sets it)\n")
        sys.exit(clitest.EX_SKIPPED)
    clitest.main(globals())
