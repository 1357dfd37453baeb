"""Connection-rule plugins through the CLI (issue 21): the example plugin
ring_gaussian (examples/plugins/ring_gaussian: each pair connected with
probability p_max exp(-d^2 / 2 sigma^2), d the distance on a ring) makes
the connections its equation says, checked against the exact probability
of every pair; it makes the same synapses at 1 and 2 threads, in any
partitioning and in two runs; validate, checkpoint and resume work with it;
weights, delays and taps come from the projection as for built-in rules.

The plain-C test plugin (tests/plugin/plugins/c_plugin.c) has a
deterministic rule, c_stride, whose synapses are checked exactly (autapses,
multapses, taps), and broken variants that are refused by name.

ctest passes the plugins' locations in SPIKELINE_RING_PLUGIN and
SPIKELINE_TEST_PLUGIN_DIR.
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

RING = os.environ.get("SPIKELINE_RING_PLUGIN", "")
PLUGIN_DIR = os.environ.get("SPIKELINE_TEST_PLUGIN_DIR", "")
MAJOR, MINOR = clitest.plugin_abi()
ABI = "%d.%d" % (MAJOR, MINOR)


def plugin_path(name):
    return os.path.join(PLUGIN_DIR, "libtest_plugin_%s.so" % name)


HEADER = """\
plugins = ["%(plugin)s"]

[simulation]
dt = 0.1
duration = %(duration)s
seed = %(seed)s
"""

# Two projections of the ring rule: onto the same population (no autapses)
# and onto one of another size (positions t / 700 against s / 1000).
STATISTICS = HEADER + """
[[population]]
name = "a"
model = "iaf_psc_delta"
size = 1000

[[population]]
name = "b"
model = "iaf_psc_delta"
size = 700

[[projection]]
name = "aa"
source = "a"
target = "a"
rule = "ring_gaussian"
params = { sigma = 0.04, p_max = 0.6 }
autapses = false
weight = 0.5
delay = 1.5

[[projection]]
name = "ab"
source = "a"
target = "b"
rule = "ring_gaussian"
params = { sigma = 0.1, p_max = 0.3 }
weight = { distribution = "normal", mean = 1.0, std = 0.2 }
delay = { distribution = "uniform", low = 0.5, high = 2.0 }
"""


def config(template, **kw):
    values = {"plugin": RING, "duration": 1.0, "seed": 5}
    values.update(kw)
    return template % values


def edges(path, name):
    with h5py.File(path, "r") as f:
        e = f["edges/" + name]
        return (e["source_node_id"][()], e["target_node_id"][()], e["0/syn_weight"][()],
                e["0/delay"][()])


def run_edges(d, name, text, args=()):
    cfg = write(os.path.join(d, name + ".toml"), text)
    out = os.path.join(d, name + ".h5")
    run_ok(["run", cfg, "-q", "-o", out] + list(args))
    return out


def probabilities(ns, nt, sigma, p_max, autapses=True):
    """P[t, s]: the rule's equation for every pair."""
    xs = np.arange(ns) / ns
    xt = np.arange(nt) / nt
    d = np.abs(xt[:, None] - xs[None, :])
    d = np.minimum(d, 1.0 - d)
    p = p_max * np.exp(-d * d / (2 * sigma * sigma))
    if not autapses:
        np.fill_diagonal(p, 0.0)
    return p, d


def check_statistics(src, tgt, ns, nt, sigma, p_max, autapses, what):
    """The drawn pairs against P. Each pair is an independent Bernoulli
    draw, so a count over any set of pairs has mean sum(p) and variance
    sum(p (1 - p)); we allow 4.5 standard deviations per count (two-sided
    p ~ 7e-6; 21 counts per projection: a false alarm about once in 7000
    seeds; the seed is fixed, so the test is repeatable), while a wrong
    kernel (sigma 10% off, or the linear instead of the ring distance)
    moves the counts by tens of standard deviations."""
    p, d = probabilities(ns, nt, sigma, p_max, autapses)
    conn = np.zeros((nt, ns), dtype=np.int64)
    np.add.at(conn, (tgt.astype(np.int64), src.astype(np.int64)), 1)
    check(conn.max() <= 1, "%s: a pair connected twice" % what)
    if not autapses:
        check(np.trace(conn) == 0, "%s: an autapse with autapses = false" % what)
    # The total, i.e. the mean in-degree times nt.
    mean, sd = p.sum(), np.sqrt((p * (1 - p)).sum())
    check(abs(conn.sum() - mean) <= 4.5 * sd,
          "%s: %d synapses, expected %.1f +- %.1f (mean in-degree %.2f vs %.2f)"
          % (what, conn.sum(), mean, sd, conn.sum() / nt, mean / nt))
    # The connection probability against distance, in 20 bins up to 4 sigma
    # (beyond it p < 3.4e-4 p_max: the last bin takes the rest).
    edges_d = np.append(np.linspace(0, 4 * sigma, 20), 0.51)
    for lo, hi in zip(edges_d[:-1], edges_d[1:]):
        sel = (d >= lo) & (d < hi)
        if not autapses:
            sel &= ~np.eye(nt, ns, dtype=bool)
        mean, sd = p[sel].sum(), np.sqrt((p[sel] * (1 - p[sel])).sum())
        got = conn[sel].sum()
        check(abs(got - mean) <= 4.5 * max(sd, 1.0),
              "%s: distance [%.3f, %.3f): %d synapses, expected %.1f +- %.1f (p %.4f vs %.4f)"
              % (what, lo, hi, got, mean, sd, got / sel.sum(), mean / sel.sum()))


def test_ring_gaussian_connects_as_its_equation_says():
    with TempDir() as d:
        out = run_edges(d, "stats", config(STATISTICS))
        s, t, w, dl = edges(out, "aa")
        check_statistics(s, t, 1000, 1000, 0.04, 0.6, False, "aa")
        check(np.all(w == np.float32(0.5)) and np.all(dl == np.float32(1.5)),
              "aa: weights or delays are not the projection's constants")
        s, t, w, dl = edges(out, "ab")
        check_statistics(s, t, 1000, 700, 0.1, 0.3, True, "ab")
        # The weight distribution drawn per synapse: normal(1, 0.2).
        check(abs(w.mean() - 1.0) < 0.01 and abs(w.std() - 0.2) < 0.01,
              "ab: weights mean %.4f std %.4f, expected 1 and 0.2" % (w.mean(), w.std()))
        check(dl.min() >= 0.5 - 1e-6 and dl.max() <= 2.0 + 1e-6, "ab: a delay outside [0.5, 2]")


def test_same_synapses_at_1_and_2_threads_any_partitioning_and_twice():
    with TempDir() as d:
        text = config(STATISTICS)
        one = run_edges(d, "one", text, ["-t", "1"])
        runs = [run_edges(d, "two", text, ["-t", "2"]),
                run_edges(d, "parts", text, ["-t", "2", "--set", "simulation.partitions=5"]),
                run_edges(d, "again", text, ["-t", "1"])]
        for name in ("aa", "ab"):
            want = edges(one, name)
            for other in runs:
                got = edges(other, name)
                for a, b in zip(want, got):
                    check(np.array_equal(a, b), "%s differs in %s" % (name, other))
        other_seed = run_edges(d, "seed", config(STATISTICS, seed=6))
        check(not np.array_equal(edges(one, "aa")[0], edges(other_seed, "aa")[0]),
              "another seed gave the same synapses")


ACTIVE = HEADER + """
[[population]]
name = "in"
model = "poisson_generator"
size = 200
params = { rate = 50.0 }

[[population]]
name = "ring"
model = "iaf_psc_delta"
size = 300

[[projection]]
source = "in"
target = "ring"
rule = "ring_gaussian"
params = { sigma = 0.1, p_max = 0.5 }
weight = { distribution = "uniform", low = 1.0, high = 3.0 }
delay = 1.0

[[projection]]
source = "ring"
target = "ring"
rule = "ring_gaussian"
params = { sigma = 0.2 }
autapses = false
weight = -0.3
delay = { distribution = "uniform", low = 0.5, high = 3.0 }
"""


def test_validate_and_an_exact_resume():
    with TempDir() as d:
        text = config(ACTIVE, duration=400.0)
        cfg = write(os.path.join(d, "active.toml"), text)
        r = run_ok(["validate", cfg])
        expect_in(r.stdout, "valid", "stdout", r)
        whole = os.path.join(d, "whole.h5")
        run_ok(["run", cfg, "-q", "-o", whole, "-t", "2"])
        broken = os.path.join(d, "broken.h5")
        ck = os.path.join(d, "ring.ck.h5")
        run_ok(["run", cfg, "-q", "-o", broken, "-t", "1", "--duration", "150", "--checkpoint", ck])
        run_ok(["resume", ck, "-q", "--duration", "400", "-t", "2"])
        a, b = clitest.all_spikes(whole), clitest.all_spikes(broken)
        check(len(a["ring"][0]) > 100, "the ring hardly fired (%d spikes)" % len(a["ring"][0]))
        for pop in ("in", "ring"):
            check(np.array_equal(a[pop][0], b[pop][0]) and np.array_equal(a[pop][1], b[pop][1]),
                  "the resumed run's spikes of %s differ" % pop)


def test_models_lists_connection_rules_with_their_origin():
    r = run_ok(["models", "--plugin", RING])
    expect_in(r.stdout, "ring_gaussian (connection rule)", "stdout", r)
    expect_in(r.stdout, "from plugin %s" % RING, "stdout", r)
    expect_in(r.stdout, "fixed_indegree (connection rule)", "stdout", r)
    r = run_ok(["models", "ring_gaussian", "--plugin", RING])
    expect_in(r.stdout, "sigma", "stdout", r)
    expect_in(r.stdout, "in [0, 1]", "stdout", r)


STRIDE = HEADER + """
[[population]]
name = "a"
model = "iaf_psc_delta"
size = 40

[[projection]]
name = "aa"
source = "a"
target = "a"
rule = "c_stride"
params = { %(params)s }
weight = 0.25
delay = 1.0
%(extra)s
"""


def stride(params="stride = 3, fan = 2", extra="", plugin="ok", rule=None):
    text = STRIDE % {"plugin": plugin_path(plugin), "duration": 1.0, "seed": 1,
                     "params": params, "extra": extra}
    if rule is not None:
        text = text.replace('rule = "c_stride"', 'rule = "%s"' % rule)
    return text


def pairs(path):
    s, t, w, dl = edges(path, "aa")
    return sorted(zip(t.tolist(), s.tolist(), np.round(dl.astype(np.float64), 4).tolist()))


def test_c_rule_makes_exactly_its_pairs_with_autapses_multapses_and_taps():
    with TempDir() as d:
        got = pairs(run_edges(d, "plain", stride()))
        want = sorted((t, (t + 3 * k) % 40, 1.0) for t in range(40) for k in range(2))
        check(got == want, "c_stride: %s... expected %s..." % (got[:4], want[:4]))
        got = pairs(run_edges(d, "self", stride(extra="autapses = false")))
        want = sorted((t, (t + 3) % 40, 1.0) for t in range(40))
        check(got == want, "autapses = false kept a source == target: %s..." % got[:4])
        got = pairs(run_edges(d, "twice", stride(params="fan = 1, copies = 2")))
        want = sorted((t, t, 1.0) for t in range(40) for _ in range(2))
        check(got == want, "copies = 2 with multapses: %s..." % got[:4])
        got = pairs(run_edges(d, "taps", stride(params="fan = 1", extra="taps = 3")))
        want = sorted((t, t, dl) for t in range(40) for dl in (1.0, 1.1, 1.2))
        check(got == want, "taps = 3: %s..." % got[:6])


def test_a_checkpoint_resumes_only_with_the_plugin_that_made_the_rule():
    with TempDir() as d:
        # The plugin from --plugin, not the config, so that resume can be
        # given another version of it.
        text = stride().split("\n", 1)[1].replace("duration = 1.0", "duration = 20.0")
        cfg = write(os.path.join(d, "c.toml"), text)
        ck = os.path.join(d, "c.ck.h5")
        out = os.path.join(d, "out.h5")
        run_ok(["run", cfg, "--plugin", plugin_path("ok"), "-q", "-o", out, "--duration", "10",
                "--checkpoint", ck])
        run_ok(["resume", ck, "--plugin", plugin_path("ok"), "-q", "--duration", "20",
                "--checkpoint", os.path.join(d, "c2.ck.h5")])
        r = spikeline(["resume", ck, "--plugin", plugin_path("ok_v2"), "-q", "--duration", "20"])
        check(r.returncode != 0, "resumed with another version of the plugin\n" + r.describe())
        expect_in(r.stderr, "it was made with\n  connection rule 'c_stride': plugin 'c_plugin' "
                  "version 0.1, ABI %s\nand this run has\n  connection rule 'c_stride': plugin "
                  "'c_plugin' version 0.2, ABI %s" % (ABI, ABI), r=r)


def expect_config_error(d, name, text, fragments, args=()):
    cfg = write(os.path.join(d, name + ".toml"), text)
    r = spikeline(["run", cfg, "-q", "-o", os.path.join(d, name + ".h5")] + list(args))
    expect_exit(r, EX_CONFIG)
    for f in fragments:
        expect_in(r.stderr, f, "stderr", r)
    check(not os.path.exists(os.path.join(d, name + ".h5")), "%s: an output file was made" % name)
    return r


def test_bad_parameters_are_refused_by_name():
    with TempDir() as d:
        bad = config(STATISTICS).replace("sigma = 0.04", "sgima = 0.04")
        expect_config_error(d, "unknown", bad, ["projection 'aa'", "unknown parameter 'sgima'",
                                                "sigma, p_max"])
        bad = config(STATISTICS).replace("p_max = 0.6", "p_max = 1.5")
        r = expect_config_error(d, "range", bad, ["projection 'aa'", "p_max", "1.5"])
        expect_in(r.stderr, "[0, 1]", "stderr", r)
        bad = config(STATISTICS).replace("sigma = 0.04", "sigma = -1.0")
        expect_config_error(d, "negative", bad, ["sigma", "-1", "> 0"])
        cfg = write(os.path.join(d, "v.toml"), bad)
        expect_exit(spikeline(["validate", cfg]), EX_CONFIG)
        # A rule's own refusal (prepare), with its message.
        expect_config_error(d, "fan", stride(params="fan = 100"),
                            ["c_stride", "fan = 100 exceeds the 40 sources"])


def test_unknown_rules_and_misplaced_params():
    with TempDir() as d:
        bad = config(STATISTICS).replace('rule = "ring_gaussian"', 'rule = "ring_gausian"', 1)
        expect_config_error(d, "typo", bad, ["unknown rule 'ring_gausian'", "ring_gaussian",
                                             "fixed_indegree"])
        bad = config(STATISTICS).replace('rule = "ring_gaussian"\nparams',
                                         'rule = "fixed_indegree"\nindegree = 3\nparams', 1)
        expect_config_error(d, "params", bad, ["params is only used by a plugin's rule"])


def test_broken_rule_plugins_are_refused_by_name():
    with TempDir() as d:
        r = expect_config_error(d, "source", stride(plugin="conn_bad_source"),
                                ["projection 'aa'", "rule 'c_stride'", "returned source 40 for "
                                 "target 3: out of range, valid is 0 to 39"])
        expect_in(r.stderr, plugin_path("conn_bad_source"), "stderr", r)
        expect_config_error(d, "error", stride(plugin="conn_error"),
                            ["rule 'c_stride'", "failed for target 7: no sources for target 7"])
        expect_config_error(d, "twice", stride(params="fan = 1, copies = 2",
                                               extra="multapses = false"),
                            ["returned source 0 twice for target 0, but multapses = false"])
        r = spikeline(["models", "--plugin", plugin_path("conn_duplicate")])
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "connection rule 'fixed_indegree' is already registered (a built-in "
                  "rule)", "stderr", r)
        r = spikeline(["models", "--plugin", plugin_path("conn_no_connect")])
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "connection rule 'c_stride' has no connect function", "stderr", r)


def test_required_parameters_abi_1_3():
    # c_stride of the `required` variant has no default for fan: `models`
    # says so, and a projection without it is refused by name (exit 65).
    r = run_ok(["models", "c_stride", "--plugin", plugin_path("required")])
    expect_in(r.stdout, "fan", "stdout", r)
    check(any(line.split()[:2] == ["fan", "required"] for line in r.stdout.splitlines()),
          "models does not show fan as required\n" + r.stdout)
    r = run_ok(["models", "fixed_probability"])
    check(any(line.split()[:2] == ["p", "required"] for line in r.stdout.splitlines()),
          "models does not show fixed_probability's p as required\n" + r.stdout)
    with TempDir() as d:
        expect_config_error(d, "missing", stride(params="stride = 3", plugin="required"),
                            ["projection 'aa' rule c_stride parameter fan is required but missing "
                             "(it has no default; valid: >= 0)"])
        got = pairs(run_edges(d, "given", stride(plugin="required")))
        want = sorted((t, (t + 3 * k) % 40, 1.0) for t in range(40) for k in range(2))
        check(got == want, "c_stride with fan given: %s... expected %s..." % (got[:4], want[:4]))
        # A 1.2 plugin's fan keeps its default.
        got = pairs(run_edges(d, "old", stride(params="stride = 3", plugin="abi_1_2")))
        check(got == want, "c_stride of ABI 1.2 without fan: %s..." % got[:4])


if __name__ == "__main__":
    if not RING or not PLUGIN_DIR:
        print("SPIKELINE_RING_PLUGIN / SPIKELINE_TEST_PLUGIN_DIR not set: run through ctest")
        sys.exit(77)
    clitest.main(globals())
