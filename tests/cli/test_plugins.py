"""Plugins through the CLI (issue 21): the AdEx example plugin
(examples/plugins/aeif_cond_exp) and a plain-C test plugin loaded with
--plugin or the config's `plugins` list; `spikeline models` says where a
model comes from; 1 and 2 threads give the same spikes; checkpoint and
resume are exact; each broken plugin (tests/plugin/plugins/c_plugin.c) is a
clear message and a non-zero exit, never a crash; an error in a plugin's
update ends the run as a failed run with the plugin's message.

ctest passes the plugins' locations in SPIKELINE_AEIF_PLUGIN and
SPIKELINE_TEST_PLUGIN_DIR (tests/CMakeLists.txt).
"""

import os
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CONFIG, EX_NOINPUT, EX_SOFTWARE, TempDir, all_spikes, check,  # noqa: E402
                     check_equal, expect_exit, expect_in, run_ok, spikeline, status_of, write)

AEIF = os.environ.get("SPIKELINE_AEIF_PLUGIN", "")
PLUGIN_DIR = os.environ.get("SPIKELINE_TEST_PLUGIN_DIR", "")
MAJOR, MINOR = clitest.plugin_abi()
ABI = "%d.%d" % (MAJOR, MINOR)


def plugin_path(name):
    return os.path.join(PLUGIN_DIR, "libtest_plugin_%s.so" % name)


# 200 AdEx neurons near rheobase (I_e 500 pA, about 610 pA with NEST's
# defaults) driven by independent Poisson input and coupled sparsely, and
# 50 neurons of the C plugin driven by them.
NETWORK = """\
%(plugins)s
[simulation]
dt = 0.1
duration = 400.0
seed = 11

[[population]]
name = "adex"
model = "aeif_cond_exp"
size = 200
params = { I_e = 500.0, b = 40.0 }
initial = { V_m = { distribution = "uniform", low = -70.0, high = -55.0 } }

[[stimulus]]
name = "noise"
model = "poisson_input"
target = "adex"
params = { rate = 50.0, sources = 20, weight = 30.0 }

[[projection]]
source = "adex"
target = "adex"
rule = "fixed_probability"
p = 0.05
weight = 2.0
delay = 1.5

[[record]]
population = "adex"
variables = ["V_m", "w", "g_ex"]
nodes = [0, 1, 2]
"""

C_POPULATION = """
[[population]]
name = "leaky"
model = "c_leaky"
size = 50
params = { tau = 5.0 }

[[projection]]
source = "adex"
target = "leaky"
rule = "fixed_indegree"
indegree = 10
weight = 0.3
delay = 1.0
"""


def network(plugins=None, with_c=False):
    head = "plugins = [%s]\n" % ", ".join('"%s"' % p for p in plugins) if plugins else ""
    return NETWORK % {"plugins": head} + (C_POPULATION if with_c else "")


def spikes_and_traces(path):
    out = {k: v for k, v in all_spikes(path).items()}
    with h5py.File(path, "r") as f:
        out["trace"] = f["report/adex/data"][()]
    return out


def check_same(a, b, what):
    check_equal(sorted(b), sorted(a), what + ": populations")
    for k in a:
        if k == "trace":
            check(np.array_equal(a[k], b[k]), what + ": the V_m/w/g_ex traces differ")
        else:
            check(np.array_equal(a[k][0], b[k][0]) and np.array_equal(a[k][1], b[k][1]),
                  "%s: the spikes of %s differ" % (what, k))


def test_plugin_runs_and_is_the_same_at_1_and_2_threads():
    with TempDir() as d:
        cfg = write(os.path.join(d, "adex.toml"), network(with_c=True))
        outs = []
        for threads in (1, 2):
            out = os.path.join(d, "out%d.h5" % threads)
            run_ok(["run", cfg, "--plugin", AEIF, "--plugin", plugin_path("ok"), "-q", "-t",
                    str(threads), "-o", out])
            outs.append(spikes_and_traces(out))
        check(len(outs[0]["adex"][0]) > 500, "too few AdEx spikes: %d" % len(outs[0]["adex"][0]))
        check(len(outs[0]["leaky"][0]) > 0, "the C plugin's population never fired")
        check_same(outs[0], outs[1], "1 vs 2 threads")
        # The traces are AdEx's: w grows with the spikes, V_m stays below V_peak.
        trace = outs[0]["trace"]
        check(np.all(np.isfinite(trace)), "non-finite values in the trace")


def test_config_plugins_relative_to_the_config():
    with TempDir() as d:
        sub = os.path.join(d, "cfg")
        os.mkdir(sub)
        rel = [os.path.relpath(AEIF, sub), os.path.relpath(plugin_path("ok"), sub)]
        cfg = write(os.path.join(sub, "adex.toml"), network(plugins=rel, with_c=True))
        out = os.path.join(d, "out.h5")
        # From another working directory: the paths are the config's.
        run_ok(["run", cfg, "-q", "-o", out, "--duration", "50"], cwd="/")
        check_equal(status_of(out), "complete", "status")
        r = run_ok(["validate", cfg], cwd="/")
        expect_in(r.stdout, "valid (2 populations, 250 neurons", "stdout", r)
        # Named on the command line too: loaded once, no duplicate-model error.
        run_ok(["validate", cfg, "--plugin", AEIF])
        # Without the plugin the model is unknown.
        no = write(os.path.join(d, "no.toml"), network())
        r = spikeline(["validate", no])
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "unknown model 'aeif_cond_exp'", r=r)


def test_models_lists_plugin_models_and_their_origin():
    r = run_ok(["models", "--plugin", AEIF])
    expect_in(r.stdout, "aeif_cond_exp (neuron)", "stdout", r)
    expect_in(r.stdout, "from plugin " + AEIF, "stdout", r)
    expect_in(r.stdout, "tau_w", "stdout", r)
    r = run_ok(["models", "aeif_cond_exp", "--plugin", AEIF])
    expect_in(r.stdout, "Delta_T", "stdout", r)
    expect_in(r.stdout, "per neuron", "stdout", r)
    r = run_ok(["models", "iaf_cond_exp", "--plugin", AEIF])
    check("from plugin" not in r.stdout, "a built-in model said it came from a plugin")


def test_checkpoint_and_resume_with_a_plugin_are_exact():
    with TempDir() as d:
        cfg = write(os.path.join(d, "adex.toml"), network(plugins=[AEIF]))
        ref = os.path.join(d, "ref.h5")
        run_ok(["run", cfg, "-q", "-o", ref, "-t", "1"])
        out = os.path.join(d, "out.h5")
        ck = os.path.join(d, "adex.ck.h5")
        run_ok(["run", cfg, "-q", "-o", out, "-t", "2", "--duration", "200", "--checkpoint", ck])
        # The config's plugins list is in the checkpoint: resume needs no --plugin.
        run_ok(["resume", ck, "-q", "--duration", "400", "-t", "1"])
        check_same(spikes_and_traces(ref), spikes_and_traces(out), "resumed vs unbroken")


def test_a_checkpoint_refuses_another_version_of_the_plugin():
    with TempDir() as d:
        text = """
[simulation]
dt = 0.1
duration = 40.0
seed = 1

[[population]]
name = "leaky"
model = "c_leaky"
size = 10
params = { I_e = 2.0, tau = 1.0 }
"""
        cfg = write(os.path.join(d, "c.toml"), text)
        ck = os.path.join(d, "c.ck.h5")
        out = os.path.join(d, "out.h5")
        run_ok(["run", cfg, "--plugin", plugin_path("ok"), "-q", "-o", out, "--duration", "20",
                "--checkpoint", ck])
        # The same plugin: resumed.
        run_ok(["resume", ck, "--plugin", plugin_path("ok"), "-q", "--duration", "40",
                "--checkpoint", os.path.join(d, "c2.ck.h5")])
        # Version 0.2 of it: another network for the checkpoint.
        run_ok(["run", cfg, "--plugin", plugin_path("ok"), "-q", "-o", out, "--duration", "20",
                "--checkpoint", ck])
        r = spikeline(["resume", ck, "--plugin", plugin_path("ok_v2"), "-q", "--duration", "40"])
        check(r.returncode != 0, "resumed with another version of the plugin\n" + r.describe())
        expect_in(r.stderr, "was written with other plugins: it was made with\n"
                  "  model 'c_leaky': plugin 'c_plugin' version 0.1, ABI %s\nand this run has\n"
                  "  model 'c_leaky': plugin 'c_plugin' version 0.2, ABI %s" % (ABI, ABI), r=r)
        # No plugin at all: the model is unknown.
        r = spikeline(["resume", ck, "-q", "--duration", "40"])
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "unknown model 'c_leaky'", r=r)


def test_bad_plugins_are_refused_by_name():
    cases = [
        ("/nonexistent/libx.so", EX_NOINPUT, "plugin '/nonexistent/libx.so': no such file"),
        (plugin_path("no_entry"), EX_CONFIG, "no entry point spikeline_plugin_init"),
        (plugin_path("major"), EX_CONFIG,
         "built for plugin ABI 2.%d, this spikeline speaks %s" % (MINOR, ABI)),
        (plugin_path("minor"), EX_CONFIG, "built for plugin ABI 1.%d, newer than" % (MINOR + 1)),
        (plugin_path("duplicate"), EX_CONFIG,
         "model 'iaf_cond_exp' is already registered (a built-in model)"),
        (plugin_path("nan_default"), EX_CONFIG, "parameter theta has a NaN default"),
        (plugin_path("init_error"), EX_CONFIG, "initialisation failed: no licence for this plugin"),
        (clitest.example("coba.toml"), EX_CONFIG, "cannot be loaded as a shared library"),
    ]
    for path, code, message in cases:
        for command in (["models"], ["validate", clitest.example("coba.toml")]):
            r = spikeline(command + ["--plugin", path])
            expect_exit(r, code)
            expect_in(r.stderr, message, r=r)
            expect_in(r.stderr, "plugin '%s'" % path, r=r)


def test_an_update_error_fails_the_run_with_the_plugin_message():
    with TempDir() as d:
        text = """
[simulation]
dt = 0.1
duration = 100.0
seed = 1

[[population]]
name = "leaky"
model = "c_leaky"
size = 10
params = { I_e = 2.0, tau = 1.0 }

# A window of 5 steps (the shortest delay): the spikes of the windows
# before the failing one reach the output.
[[projection]]
source = "leaky"
target = "leaky"
rule = "one_to_one"
weight = 0.01
delay = 0.5
"""
        cfg = write(os.path.join(d, "c.toml"), text)
        out = os.path.join(d, "out.h5")
        r = spikeline(["run", cfg, "--plugin", plugin_path("update_error"), "-q", "-o", out,
                       "-t", "2"])
        expect_exit(r, EX_SOFTWARE)
        expect_in(r.stderr, "update failed at step 50 (5 ms): the membrane of neuron", r=r)
        expect_in(r.stderr, "libtest_plugin_update_error.so' model 'c_leaky'", r=r)
        check_equal(status_of(out), "failed", "status of the output")
        # The spikes before the failure were flushed.
        check(len(all_spikes(out)["leaky"][0]) > 0, "no spikes written before the failure")


if __name__ == "__main__":
    if not AEIF or not PLUGIN_DIR:
        sys.stderr.write("SPIKELINE_AEIF_PLUGIN and SPIKELINE_TEST_PLUGIN_DIR are not set "
                         "(ctest sets them)\n")
        sys.exit(clitest.EX_SKIPPED)
    clitest.main(globals())
