"""Current devices from a plugin (ABI 1.6) through the CLI: the test
plugin's white_noise draws the built-in noise_current's numbers, so a
network driven by either writes the same V_m and spikes, at 1 and 2
threads; `spikeline models` lists the devices with their origin; a device
that fails ends the run as a failed run with its message, the output
flushed up to the failure.

ctest passes the plugin's directory in SPIKELINE_TEST_PLUGIN_DIR.
"""

import os
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CONFIG, EX_SOFTWARE, TempDir, all_spikes, check, check_equal,  # noqa: E402
                     expect_exit, expect_in, run_ok, spikeline, status_of, write)

PLUGIN_DIR = os.environ.get("SPIKELINE_TEST_PLUGIN_DIR", "")


def devices():
    return os.path.join(PLUGIN_DIR, "libtest_plugin_devices.so")


NETWORK = """\
plugins = ["%(plugin)s"]

[simulation]
dt = 0.1
duration = 300.0
seed = 5

[[population]]
name = "exc"
model = "iaf_psc_exp"
size = 40

[[stimulus]]
name = "drive"
model = "%(model)s"
target = "exc"
params = { %(params)s }

[[projection]]
source = "exc"
target = "exc"
rule = "fixed_indegree"
indegree = 4
weight = 30.0
delay = 1.0

[[record]]
population = "exc"
variables = ["V_m"]
nodes = [0, 7, 39]
"""

NOISE = "mean = 360.0, std = 150.0"


def run(d, name, model, params, threads=1):
    cfg = write(os.path.join(d, name + ".toml"),
                NETWORK % {"plugin": devices(), "model": model, "params": params})
    out = os.path.join(d, name + ".h5")
    run_ok(["run", cfg, "-q", "-t", str(threads), "-o", out])
    with h5py.File(out, "r") as f:
        v = f["report/exc/data"][()]
    return all_spikes(out)["exc"], v


def test_white_noise_is_noise_current():
    with TempDir() as d:
        ref_spikes, ref_v = run(d, "builtin", "noise_current", NOISE + ", dt = 0.5")
        check(len(ref_spikes[0]) > 100, "too few spikes: %d" % len(ref_spikes[0]))
        for threads in (1, 2):
            spikes, v = run(d, "plugin%d" % threads, "white_noise", NOISE + ", interval = 0.5",
                            threads)
            check(np.array_equal(spikes[0], ref_spikes[0]) and
                  np.array_equal(spikes[1], ref_spikes[1]),
                  "white_noise at %d threads: spikes differ from noise_current's" % threads)
            check(np.array_equal(v, ref_v), "white_noise at %d threads: V_m differs" % threads)


def test_ramp_current_drives_a_neuron_as_its_equation_says():
    # No leak to speak of (tau_m 1e6 ms), no threshold: V_m integrates the
    # ramp, dV/dt = I / C_m, I = slope (t - start) for t >= start.
    text = (NETWORK % {"plugin": devices(), "model": "ramp_current",
                       "params": "slope = 2.0, start = 10.0"})
    text = text.replace('size = 40\n', 'size = 40\nparams = { tau_m = 1e6, V_th = 1e9, '
                        'E_L = 0.0, V_reset = 0.0, C_m = 250.0 }\n')
    with TempDir() as d:
        cfg = write(os.path.join(d, "ramp.toml"), text)
        out = os.path.join(d, "ramp.h5")
        run_ok(["run", cfg, "-q", "-o", out])
        with h5py.File(out, "r") as f:
            v = f["report/exc/data"][()][:, 0]
            times = f["report/exc/mapping/time"][()]
        t = np.arange(times[0], times[1], times[2])[:len(v)] if len(times) == 3 else None
        check(t is not None, "report times")
        # Held over each step at its value at the step's start: V(k dt) =
        # sum_{j<k} slope ((j dt) - start)+ dt / C_m, in mV (pA ms / pF).
        dt = 0.1
        k = np.rint(t / dt).astype(int)
        steps = np.arange(0, k.max())
        i = np.maximum(0.0, 2.0 * (steps * dt - 10.0))
        expected = np.concatenate([[0.0], np.cumsum(i * dt / 250.0)])[k]
        check(np.allclose(v, expected, rtol=1e-3, atol=1e-6),
              "V_m of the ramp: max error %g mV" % np.max(np.abs(v - expected)))
        check(v[-1] > 50.0, "the ramp hardly moved V_m: %g" % v[-1])


def test_models_lists_the_devices_and_their_origin():
    r = run_ok(["models", "--plugin", devices()])
    for name in ("ramp_current", "white_noise", "failing_current"):
        expect_in(r.stdout, name, "stdout", r=r)
    expect_in(r.stdout, "libtest_plugin_devices.so", "stdout", r=r)


def test_a_missing_required_parameter_is_a_config_error():
    with TempDir() as d:
        cfg = write(os.path.join(d, "bad.toml"),
                    NETWORK % {"plugin": devices(), "model": "ramp_current",
                               "params": "start = 1.0"})
        r = spikeline(["run", cfg, "-q", "-o", os.path.join(d, "bad.h5")])
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "stimulus 'drive' (ramp_current) parameter slope is required", r=r)


def test_a_failing_device_fails_the_run_with_its_message():
    with TempDir() as d:
        cfg = write(os.path.join(d, "fail.toml"),
                    NETWORK % {"plugin": devices(), "model": "failing_current",
                               "params": "fail_at = 1500"})
        out = os.path.join(d, "fail.h5")
        r = spikeline(["run", cfg, "-q", "-t", "2", "-o", out])
        expect_exit(r, EX_SOFTWARE)
        expect_in(r.stderr, "device 'failing_current' (stimulus 'drive'", r=r)
        expect_in(r.stderr, "current failed at step 1500 (150 ms): the device broke", r=r)
        check_equal(status_of(out), "failed", "status of the output")
        with h5py.File(out, "r") as f:
            n = f["report/exc/data"].shape[0]
        check(n >= 1000, "the V_m samples before the failure were not flushed: %d" % n)


if __name__ == "__main__":
    if not PLUGIN_DIR:
        sys.stderr.write("SPIKELINE_TEST_PLUGIN_DIR is not set (ctest sets it)\n")
        sys.exit(clitest.EX_SKIPPED)
    clitest.main(globals())
