"""Per-neuron parameters (issue 19): a parameter given as a distribution or
an array, and initial values given as an array, through the CLI.

The guarantees: the same spikes at any thread count and partitioning; a run
checkpointed at T and resumed to 2T writes what an unbroken run writes (the
per-neuron values are drawn again from the config and the seed); the values
are used (a population whose thresholds are drawn fires unlike one at their
mean, and differently under another seed); and bad values are refused
(exit 78) with a message naming the population, the parameter, the neuron,
the value and the valid range.
"""

import os
import sys

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CONFIG, TempDir, all_spikes, check, check_equal, expect_exit,  # noqa: E402
                     expect_in, run_ok, spikeline, write)

# Every model with per-neuron values: drawn rates of the generators, a COBA
# population with drawn thresholds and an array of time constants, an
# event-driven delta population with drawn resting potentials, izhikevich
# cells of four kinds (arrays of a, b, c, d), lif_discrete with drawn betas.
NETWORK = """
[simulation]
dt = 0.1
duration = 400.0
seed = 5

[output]
file = "het.h5"

[[population]]
name = "gen"
model = "poisson_generator"
size = 40
params = { rate = { distribution = "uniform", low = 5.0, high = 60.0 } }

[[population]]
name = "cond"
model = "iaf_cond_exp"
size = 8
params = { C_m = 200.0, g_L = 10.0, E_L = -60.0, V_reset = -60.0, t_ref = 5.0, E_in = -80.0, I_e = 150.0, V_th = { distribution = "normal", mean = -50.0, std = 1.5, low = -58.0, high = -45.0 }, tau_syn_ex = [5.0, 5.0, 4.0, 4.0, 6.0, 6.0, 5.0, 3.0] }
initial = { V_m = [-60.0, -59.0, -58.0, -57.0, -56.0, -55.0, -54.0, -53.0] }

[[population]]
name = "delta"
model = "iaf_psc_delta"
size = 30
params = { E_L = { distribution = "uniform", low = -72.0, high = -66.0 }, t_ref = 2.0 }

[[population]]
name = "izh"
model = "izhikevich"
size = 4
params = { a = [0.02, 0.02, 0.02, 0.1], b = [0.2, 0.2, 0.2, 0.2], c = [-65.0, -55.0, -50.0, -65.0], d = [8.0, 4.0, 2.0, 2.0], noise_amplitude = 10.0, I_e = 5.0 }

[[population]]
name = "lif"
model = "lif_discrete"
size = 10
params = { beta = { distribution = "uniform", low = 0.5, high = 0.95 } }

[[projection]]
source = "gen"
target = "cond"
rule = "fixed_indegree"
indegree = 10
weight = 3.0
delay = 0.5

[[projection]]
source = "gen"
target = "delta"
rule = "fixed_indegree"
indegree = 10
weight = 2.5
delay = 1.0

[[projection]]
source = "delta"
target = "delta"
rule = "fixed_probability"
p = 0.2
weight = 0.5
delay = 1.5

[[projection]]
source = "gen"
target = "izh"
rule = "all_to_all"
weight = 1.0
delay = 0.1

[[projection]]
source = "gen"
target = "lif"
rule = "fixed_indegree"
indegree = 5
weight = 0.3
delay = 0.1
"""


def spikes_of(path):
    return {k: (list(t), list(n)) for k, (t, n) in all_spikes(path).items()}


def check_same_spikes(a, b, what):
    sa, sb = spikes_of(a), spikes_of(b)
    check_equal(sorted(sb), sorted(sa), what + ": populations")
    for pop in sa:
        check(sa[pop] == sb[pop], "%s: population %s differs (%d vs %d spikes)"
              % (what, pop, len(sa[pop][0]), len(sb[pop][0])))
    total = sum(len(t) for t, _ in sa.values())
    check(total > 500, "too few spikes (%d) for the comparison to mean much" % total)
    for pop in sa:
        check(len(sa[pop][0]) > 0, "population %s is silent" % pop)


def test_same_spikes_at_any_thread_count():
    with TempDir() as d:
        cfg = write(os.path.join(d, "het.toml"), NETWORK)
        ref = os.path.join(d, "ref.h5")
        run_ok(["run", cfg, "-o", ref, "-q", "-t", "1"])
        for threads, partitions in [(2, 2), (4, 4), (2, 7)]:
            out = os.path.join(d, "t%d_p%d.h5" % (threads, partitions))
            run_ok(["run", cfg, "-o", out, "-q", "-t", str(threads),
                    "--set", "simulation.partitions=%d" % partitions])
            check_same_spikes(ref, out, "%d threads, %d partitions" % (threads, partitions))


def test_checkpoint_resume_is_exact():
    with TempDir() as d:
        cfg = write(os.path.join(d, "het.toml"), NETWORK)
        ref = os.path.join(d, "ref.h5")
        run_ok(["run", cfg, "-o", ref, "-q", "-t", "2"])
        out = os.path.join(d, "out.h5")
        ck = os.path.join(d, "ck.h5")
        run_ok(["run", cfg, "-o", out, "-q", "-t", "1", "-d", "200.3", "--checkpoint", ck])
        r = run_ok(["resume", ck, "-d", "400", "-q", "-t", "2"])
        expect_in(r.stderr, "complete after 400.0 ms", r=r)
        check_same_spikes(ref, out, "resumed at 200.3 ms")


def test_drawn_values_are_used():
    """Thresholds drawn from N(-50, 3) give neurons of one population
    different rates under a constant drive, and another seed draws others;
    the same seed the same."""
    base = """
[simulation]
dt = 0.1
duration = 1000.0
seed = %d

[[population]]
name = "p"
model = "iaf_psc_exp"
size = 50
params = { I_e = 420.0, V_th = %s }
"""
    drawn = '{ distribution = "normal", mean = -58.0, std = 2.0 }'
    with TempDir() as d:
        def counts(seed, v_th):
            cfg = write(os.path.join(d, "p.toml"), base % (seed, v_th))
            out = os.path.join(d, "p_%d.h5" % seed)
            run_ok(["run", cfg, "-o", out, "-q"])
            _, ids = all_spikes(out)["p"]
            return np.bincount(ids.astype(np.int64), minlength=50)
        homogeneous = counts(1, "-58.0")
        check(len(set(homogeneous)) == 1 and homogeneous[0] > 5,
              "a homogeneous population fires alike: %s" % homogeneous)
        a, b, a2 = counts(1, drawn), counts(2, drawn), counts(1, drawn)
        check(len(set(a)) > 5, "drawn thresholds give different rates: %s" % a)
        check(not np.array_equal(a, b), "another seed draws other thresholds")
        check(np.array_equal(a, a2), "the same seed draws the same thresholds")


def expect_config_error(d, population, fragments):
    cfg = write(os.path.join(d, "bad.toml"),
                "[simulation]\ndt = 0.1\nduration = 10.0\n\n[[population]]\n" + population)
    for cmd in (["validate", cfg], ["run", cfg, "-o", os.path.join(d, "bad.h5")]):
        r = spikeline(cmd)
        expect_exit(r, EX_CONFIG)
        for f in fragments:
            expect_in(r.stderr, f, r=r)
    check(not os.path.exists(os.path.join(d, "bad.h5")), "output created before the error")


def test_errors():
    with TempDir() as d:
        # An array of the wrong length.
        expect_config_error(d, 'name = "p"\nmodel = "iaf_psc_exp"\nsize = 3\n'
                            'params = { V_th = [-55.0, -54.0] }\n',
                            ["population 'p' (iaf_psc_exp) parameter V_th has 2 values",
                             "exactly 3 numbers (one per neuron)"])
        # NaN in an array names the neuron.
        expect_config_error(d, 'name = "p"\nmodel = "iaf_psc_exp"\nsize = 3\n'
                            'params = { C_m = [250.0, nan, 250.0] }\n',
                            ["population 'p' (iaf_psc_exp) parameter C_m of neuron 1 = nan pF "
                             "is invalid: it must be finite and > 0"])
        # A drawn value out of range names the neuron, the value and the range.
        expect_config_error(d, 'name = "p"\nmodel = "iaf_cond_exp"\nsize = 200\n'
                            'params = { tau_syn_ex = { distribution = "normal", mean = 1.0, '
                            'std = 1.0 } }\n',
                            ["population 'p' (iaf_cond_exp) parameter tau_syn_ex of neuron ",
                             "ms is invalid: it must be finite and > 0"])
        # The relation V_reset < V_th, per neuron.
        expect_config_error(d, 'name = "p"\nmodel = "iaf_psc_exp"\nsize = 3\n'
                            'params = { V_reset = -60.0, V_th = [-55.0, -61.0, -50.0] }\n',
                            ["parameter V_reset of neuron 1 = -60 mV must be below "
                             "population 'p' (iaf_psc_exp) parameter V_th of neuron 1 = -61 mV"])
        # A parameter that cannot vary, as a distribution and as an array.
        for value in ['{ distribution = "uniform", low = 1.0, high = 2.0 }', "[1.0, 2.0]"]:
            expect_config_error(d, 'name = "p"\nmodel = "izhikevich"\nsize = 2\n'
                                'params = { noise_amplitude = %s }\n' % value,
                                ["population 'p' (izhikevich) parameter noise_amplitude cannot "
                                 "vary per neuron", "parameters that can: a, b, c, d, V_th, I_e"])
        # A bad distribution table names its key.
        expect_config_error(d, 'name = "p"\nmodel = "iaf_psc_exp"\nsize = 2\n'
                            'params = { V_th = { distribution = "gauss", mean = 1.0 } }\n',
                            ["V_th.distribution = 'gauss' is unknown"])
        # Initial values: an array of the wrong length, NaN in one.
        expect_config_error(d, 'name = "p"\nmodel = "iaf_psc_exp"\nsize = 3\n'
                            'initial = { V_m = [-70.0, -60.0] }\n',
                            ["bad.toml:9: population 'p'.initial.V_m has 2 values",
                             "exactly 3 (the population's size)"])
        expect_config_error(d, 'name = "p"\nmodel = "iaf_psc_exp"\nsize = 3\n'
                            'initial = { V_m = [-70.0, -60.0, nan] }\n',
                            ["population 'p'.initial.V_m of neuron 2 = nan is invalid: it must be "
                             "a finite number"])


def test_initial_array_is_used():
    cfg = """
[simulation]
dt = 0.1
duration = 1.0

[[population]]
name = "p"
model = "iaf_psc_delta"
size = 3
params = { I_e = 100.0, V_th = -55.0 }
initial = { V_m = [-70.0, -54.0, -56.0] }
"""
    with TempDir() as d:
        out = os.path.join(d, "p.h5")
        run_ok(["run", write(os.path.join(d, "p.toml"), cfg), "-o", out, "-q"])
        t, ids = all_spikes(out)["p"]
        # Neuron 1 starts at threshold: it fires at the first step; 0 and 2 do not.
        check_equal(list(ids), [1], "spiking neurons")
        check_equal(list(t), [0.1], "spike times")


def test_models_lists_what_varies():
    r = run_ok(["models", "iaf_cond_exp"])
    expect_in(r.stdout, "per neuron (a distribution or an array of `size` numbers): C_m, g_L, "
              "E_L, V_th, V_reset, t_ref, E_ex, E_in, tau_syn_ex, tau_syn_in, I_e", "stdout", r)
    r = run_ok(["models", "spike_generator"])
    check("per neuron (a distribution" not in r.stdout,
          "spike_generator lists no per-neuron parameter")


clitest.main(globals())
