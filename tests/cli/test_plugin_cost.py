"""iaf_cond_exp rebuilt as a plugin (bench/plugins/iaf_cond_exp_plugin.cpp,
issue 21) gives the built-in's spikes bit for bit: the COBA network (200
ms) and a network with injected currents, I_e and per-neuron parameters run
once with the built-in `iaf_cond_exp` and once with `iaf_cond_exp_plugin`,
at 1 and 2 threads, give identical spikes and identical V_m / g_ex / g_in
traces. The plugin refuses what the built-in refuses, naming the value.

ctest passes the plugin's location in SPIKELINE_IAF_PLUGIN
(tests/CMakeLists.txt). bench/plugin_cost.py times the two.
"""

import os
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CONFIG, TempDir, all_spikes, check, check_equal, example,  # noqa: E402
                     expect_exit, expect_in, run_ok, spikeline, write)

PLUGIN = os.environ.get("SPIKELINE_IAF_PLUGIN", "")
PLUGIN_MODEL = "iaf_cond_exp_plugin"

RECORD = """
[[record]]
population = "%s"
variables = ["V_m", "g_ex", "g_in"]
nodes = [0, 1, 2, 3]
"""

# Injected currents (the update's other instantiation), I_e, t_ref = 0, and
# per-neuron parameters (the per-neuron path: dt / C_m and exp(-dt / tau)
# recomputed per neuron where the built-in precomputes them), with sparse
# excitation and inhibition between the neurons.
HETERO = """\
[simulation]
dt = 0.1
duration = 300.0
seed = 5

[[population]]
name = "a"
model = "iaf_cond_exp"
size = 120
params = { I_e = 150.0, t_ref = 0.0, C_m = { distribution = "uniform", low = 150.0, high = 300.0 }, tau_syn_ex = { distribution = "uniform", low = 0.5, high = 3.0 } }
initial = { V_m = { distribution = "uniform", low = -70.0, high = -56.0 } }

[[population]]
name = "b"
model = "iaf_cond_exp"
size = 80
params = { E_L = -65.0, V_th = { distribution = "normal", mean = -52.0, std = 1.0, low = -54.0, high = -50.0 }, t_ref = [%(t_ref)s], tau_syn_in = 5.0, I_e = 50.0 }
initial = { V_m = -65.0 }

[[stimulus]]
name = "dc"
model = "dc_generator"
target = "a"
params = { amplitude = 260.0, start = 20.0, stop = 250.0 }

[[stimulus]]
name = "drive"
model = "poisson_input"
target = "b"
params = { rate = 40.0, sources = 30, weight = 12.0 }

[[projection]]
source = "a"
target = "b"
rule = "fixed_probability"
p = 0.1
weight = 3.0
delay = 0.5

[[projection]]
source = "b"
target = "a"
rule = "fixed_probability"
p = 0.1
weight = -2.0
delay = 1.0
""" % {"t_ref": ", ".join(str(0.1 * (i % 30)) for i in range(80))}


def as_plugin(text):
    """The config with every iaf_cond_exp population on the plugin model."""
    return text.replace('model = "iaf_cond_exp"', 'model = "%s"' % PLUGIN_MODEL)


def coba():
    with open(example("coba.toml")) as f:
        text = f.read()
    return text + RECORD % "exc" + RECORD % "inh"


def outputs(d, text, name, duration=None):
    """{(model, threads): (spikes, traces)} for the built-in and the plugin."""
    out = {}
    for model, cfg_text in (("builtin", text), ("plugin", as_plugin(text))):
        cfg = write(os.path.join(d, "%s_%s.toml" % (name, model)), cfg_text)
        for threads in (1, 2):
            h5 = os.path.join(d, "%s_%s_%d.h5" % (name, model, threads))
            args = ["run", cfg, "--plugin", PLUGIN, "-q", "-t", str(threads), "-o", h5]
            if duration is not None:
                args += ["--duration", str(duration)]
            run_ok(args)
            spikes = all_spikes(h5)
            with h5py.File(h5, "r") as f:
                traces = {p: f["report"][p]["data"][()] for p in f["report"]}
            out[(model, threads)] = (spikes, traces)
    return out


def check_identical(out, what):
    ref_spikes, ref_traces = out[("builtin", 1)]
    for key, (spikes, traces) in out.items():
        label = "%s, %s at %d thread(s) vs the built-in at 1" % (what, key[0], key[1])
        check_equal(sorted(spikes), sorted(ref_spikes), label + ": populations")
        for pop in ref_spikes:
            t0, n0 = ref_spikes[pop]
            t1, n1 = spikes[pop]
            check(len(t1) == len(t0) and np.array_equal(t0, t1) and np.array_equal(n0, n1),
                  "%s: the spikes of %s differ (%d vs %d spikes)" % (label, pop, len(t1), len(t0)))
        check_equal(sorted(traces), sorted(ref_traces), label + ": recorded populations")
        for pop in ref_traces:
            check(np.array_equal(traces[pop], ref_traces[pop]),
                  "%s: the V_m/g_ex/g_in traces of %s differ (max |diff| %g)" %
                  (label, pop, np.max(np.abs(traces[pop] - ref_traces[pop]))))


def test_coba_spikes_are_identical_to_the_builtin():
    with TempDir() as d:
        out = outputs(d, coba(), "coba", duration=200.0)
        spikes = out[("builtin", 1)][0]
        total = sum(len(spikes[p][0]) for p in spikes)
        # COBA fires at about 20 Hz: 4,000 x 0.2 s x 20 Hz = 16,000 spikes.
        check(total > 8000, "too few COBA spikes to compare: %d" % total)
        check_identical(out, "COBA 200 ms")


def test_currents_and_per_neuron_parameters_are_identical_to_the_builtin():
    with TempDir() as d:
        out = outputs(d, HETERO + RECORD % "a" + RECORD % "b", "hetero")
        spikes = out[("builtin", 1)][0]
        for pop in ("a", "b"):
            check(len(spikes[pop][0]) > 200, "too few spikes in %s: %d" % (pop, len(spikes[pop][0])))
        check_identical(out, "currents and per-neuron parameters")


def test_the_initial_state_comes_from_the_parameters():
    # Without `initial`, V_m starts at each neuron's E_L (initialize(), as
    # the built-in) and the refractory counter at 0; the first sample is
    # the state at time 0.
    text = HETERO.replace("initial = { V_m = -65.0 }\n", "").replace(
        "E_L = -65.0,", "E_L = [%s]," % ", ".join(str(-70.0 + 0.1 * i) for i in range(80)))
    check("initial = { V_m = -65.0 }" not in text, "the test did not drop the initial values")
    rec = RECORD % "b" + "start = 0.0\ninterval = 0.1\n"
    with TempDir() as d:
        out = outputs(d, text + rec, "initial")
        check_identical(out, "initial state from E_L per neuron")
        # Columns: V_m, g_ex, g_in of node 0, then of node 1, ...
        v0 = out[("plugin", 1)][1]["b"][0][0::3]
        check(np.allclose(v0, [-70.0, -69.9, -69.8, -69.7], atol=1e-5),
              "V_m at time 0 is %s, not E_L" % v0)
    with TempDir() as d:
        text = as_plugin(HETERO).replace("initial = { V_m = -65.0 }",
                                         "initial = { V_m = -65.0, refractory = 2.5 }")
        cfg = write(os.path.join(d, "bad.toml"), text)
        r = spikeline(["run", cfg, "--plugin", PLUGIN, "-q", "-o", os.path.join(d, "bad.h5")])
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "state variable refractory of neuron 0 takes whole numbers in "
                  "[-2147483648, 2147483647]: 2.5 is not one", r=r)


def test_models_lists_the_same_parameters_as_the_builtin():
    """Names, defaults, units, docs, ranges and what may vary per neuron:
    the `parameters` and `per neuron` sections of `spikeline models` are the
    built-in's (both written with the plugin layer's tables)."""
    def section(text):
        lines = text.splitlines()
        first = lines.index("  parameters:")
        last = next(i for i, line in enumerate(lines) if line.startswith("  state variables:"))
        return "\n".join(lines[first:last])

    builtin = section(run_ok(["models", "iaf_cond_exp"]).stdout)
    plugin = section(run_ok(["models", PLUGIN_MODEL, "--plugin", PLUGIN]).stdout)
    check("C_m                       250 pF" in builtin, "unexpected layout:\n" + builtin)
    check_equal(plugin, builtin, "the parameters listed by `spikeline models`")


def refused(d, params, fragments):
    text = as_plugin(HETERO).replace('params = { E_L = -65.0,', 'params = { E_L = -65.0, %s,' % params)
    cfg = write(os.path.join(d, "bad.toml"), text)
    r = spikeline(["run", cfg, "--plugin", PLUGIN, "-q", "-o", os.path.join(d, "bad.h5")])
    expect_exit(r, EX_CONFIG)
    for f in fragments:
        expect_in(r.stderr, f, r=r)


def test_bad_parameters_are_refused_with_the_value():
    with TempDir() as d:
        refused(d, "C_m = 0.0", ["C_m = 0 pF is invalid: it must be finite and > 0"])
        refused(d, "tau_syn_ex = -1.0", ["tau_syn_ex = -1 ms is invalid: it must be finite and > 0"])
        refused(d, "V_reset = -40.0",
                ["population 'b'", "V_reset of neuron 0 = -40.000000 mV must be < V_th"])
        refused(d, "g_L = nan", ["g_L = nan nS is invalid: it must be finite and > 0"])
    with TempDir() as d:
        text = as_plugin(HETERO).replace("t_ref = 0.0,", "t_ref = 0.25,")
        cfg = write(os.path.join(d, "bad.toml"), text)
        r = spikeline(["run", cfg, "--plugin", PLUGIN, "-q", "-o", os.path.join(d, "bad.h5")])
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "t_ref = 0.250000 ms is not a whole number of time steps", r=r)


if __name__ == "__main__":
    if not PLUGIN:
        sys.stderr.write("SPIKELINE_IAF_PLUGIN is not set (ctest sets it)\n")
        sys.exit(clitest.EX_SKIPPED)
    clitest.main(globals())
