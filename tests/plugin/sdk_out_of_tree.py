"""The plugin SDK the way an author uses it (issue 21): `cmake --install`
into a temporary prefix, the tutorial's plugin project (sdk_project/, the
files docs/plugins.md shows) copied to a folder outside the source tree,
configured with find_package(spikeline) through CMAKE_PREFIX_PATH, built,
its own ctest run, and the model loaded into the *installed* spikeline:
listed by `models` with its origin, and run on a small network whose
spikes and trace are checked against the closed form of the model.

Run by ctest as plugin.sdk_out_of_tree (tests/CMakeLists.txt):

    /usr/bin/python3 sdk_out_of_tree.py SPIKELINE_BINARY SOURCE_DIR

with the build tree and the tools in the environment: SPIKELINE_BUILD_DIR,
SPIKELINE_CMAKE, SPIKELINE_CTEST, SPIKELINE_GENERATOR,
SPIKELINE_MAKE_PROGRAM. Nothing is written into the source tree; the build
tree gets only cmake's install_manifest.txt.
"""

import math
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import clitest  # noqa: E402
from clitest import EX_CONFIG, SOURCE_DIR, check, check_equal, expect_exit, expect_in, run_ok  # noqa: E402

BUILD_DIR = os.environ["SPIKELINE_BUILD_DIR"]
CMAKE = os.environ["SPIKELINE_CMAKE"]
CTEST = os.environ["SPIKELINE_CTEST"]
GENERATOR = os.environ["SPIKELINE_GENERATOR"]
MAKE_PROGRAM = os.environ.get("SPIKELINE_MAKE_PROGRAM", "")
PROJECT = os.path.join(SOURCE_DIR, "tests", "plugin", "sdk_project")
PROJECT_FILES = ["CMakeLists.txt", "my_lif.cpp", "net.toml"]

# The author's world: one temporary folder, outside the source tree.
WORK = tempfile.mkdtemp(prefix="spikeline-sdk-")
PREFIX = os.path.join(WORK, "prefix")
INSTALLED = os.path.join(PREFIX, "bin", "spikeline")
AUTHOR = os.path.join(WORK, "my_lif")
PLUGIN = os.path.join(AUTHOR, "build", "libmy_lif.so")


def sh(args, cwd=None, timeout=300):
    p = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout


def sh_ok(args, cwd=None):
    rc, out = sh(args, cwd)
    check(rc == 0, "%s -> exit %d\n%s" % (" ".join(args), rc, out[-3000:]))
    return out


def cache_value(build, name):
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.rstrip("\n").split("=", 1)[1]
    return None


def configure(src, build, prefix_path):
    args = [CMAKE, "-S", src, "-B", build, "-G", GENERATOR, "-DCMAKE_BUILD_TYPE=Release",
            "-DCMAKE_PREFIX_PATH=" + prefix_path]
    if MAKE_PROGRAM:
        args.append("-DCMAKE_MAKE_PROGRAM=" + MAKE_PROGRAM)
    return sh(args)


def abi_of_headers():
    with open(os.path.join(SOURCE_DIR, "plugin", "include", "spikeline", "plugin.h")) as f:
        defs = dict(line.split()[1:3] for line in f if line.startswith("#define SPIKELINE_PLUGIN_ABI_"))
    return "%s.%s" % (defs["SPIKELINE_PLUGIN_ABI_MAJOR"], defs["SPIKELINE_PLUGIN_ABI_MINOR"])


def test_install_into_a_prefix():
    # The Python package goes where CMakeLists chose at configure time: under
    # the install prefix it follows --prefix; an absolute site directory
    # (another SPIKELINE_PYTHON_SITE) would be written outside the
    # temporary prefix, so then only the SDK and the executable are installed.
    site = cache_value(BUILD_DIR, "SPIKELINE_PYTHON_SITE") or ""
    prefix = cache_value(BUILD_DIR, "CMAKE_INSTALL_PREFIX") or ""
    args = [CMAKE, "--install", BUILD_DIR, "--prefix", PREFIX]
    if not (site + "/").startswith(prefix.rstrip("/") + "/"):
        args += ["--component", "Unspecified"]
    sh_ok(args)
    for f in ["bin/spikeline", "include/spikeline/plugin.h", "include/spikeline/plugin.hpp"]:
        check(os.path.isfile(os.path.join(PREFIX, f)), "not installed: " + f)
    cmake_dirs = [os.path.join(r, "cmake", "spikeline") for r in ("lib", "lib64")]
    cmake_dir = [d for d in cmake_dirs if os.path.isdir(os.path.join(PREFIX, d))]
    check_equal(len(cmake_dir), 1, "lib/cmake/spikeline folders")
    for f in ["spikelineConfig.cmake", "spikelineConfigVersion.cmake", "spikelineTargets.cmake",
              "SpikelinePlugin.cmake"]:
        check(os.path.isfile(os.path.join(PREFIX, cmake_dir[0], f)), "not installed: " + f)
    # The helper is the tree's own file, not a copy that could drift.
    with open(os.path.join(PREFIX, cmake_dir[0], "SpikelinePlugin.cmake")) as a, \
            open(os.path.join(SOURCE_DIR, "cmake", "SpikelinePlugin.cmake")) as b:
        check(a.read() == b.read(), "the installed SpikelinePlugin.cmake differs from the tree's")
    # Only what an author uses: no loader header, no static library.
    check(not os.path.exists(os.path.join(PREFIX, "include", "spikeline", "plugin")),
          "the simulator's own loader header was installed")
    with open(os.path.join(BUILD_DIR, "install_manifest.txt")) as f:
        installed = f.read().split()
    outside = [p for p in installed if not p.startswith(PREFIX + "/")]
    check(not outside, "installed outside the prefix: %s" % outside)
    check(not [p for p in installed if p.endswith(".a")], "a static library was installed")
    # From here on, the binary under test is the installed one.
    clitest.BINARY = INSTALLED


def test_plugin_project_builds_out_of_tree():
    check(not os.path.abspath(WORK).startswith(SOURCE_DIR + os.sep), "the author's folder is in the tree")
    os.mkdir(AUTHOR)
    for f in PROJECT_FILES:
        shutil.copy(os.path.join(PROJECT, f), AUTHOR)
    build = os.path.join(AUTHOR, "build")
    rc, out = configure(AUTHOR, build, PREFIX)
    check(rc == 0, "configuring the plugin project failed\n" + out[-3000:])
    # Found in the temporary prefix, not some other installation.
    spikeline_dir = os.path.realpath(cache_value(build, "spikeline_DIR") or "")
    check(spikeline_dir.startswith(os.path.realpath(PREFIX) + os.sep),
          "find_package found spikeline at %r, not in %s" % (spikeline_dir, PREFIX))
    sh_ok([CMAKE, "--build", build])
    check(os.path.isfile(PLUGIN), "no " + PLUGIN)
    # The installed helper hides everything but the entry point.
    nm = shutil.which("nm")
    if nm:
        out = sh_ok([nm, "-D", "--defined-only", PLUGIN])
        exported = sorted(line.split()[-1] for line in out.splitlines() if " T " in line)
        check_equal(exported, ["spikeline_plugin_init"], "functions the plugin exports")
    # Its own test runs spikeline::spikeline, the installed executable.
    out = sh_ok([CTEST, "--test-dir", build, "--output-on-failure"])
    expect_in(out, "100% tests passed", "the plugin project's ctest")


def test_a_c_plugin_builds_out_of_tree():
    # A plugin in plain C, in a project that enables C only: the headers'
    # C++20 requirement does not get in its way.
    project = os.path.join(WORK, "c_plugin")
    os.mkdir(project)
    shutil.copy(os.path.join(SOURCE_DIR, "tests", "plugin", "plugins", "c_plugin.c"), project)
    with open(os.path.join(project, "CMakeLists.txt"), "w") as f:
        f.write("cmake_minimum_required(VERSION 3.20)\nproject(c_plugin C)\n"
                "find_package(spikeline 0.1 REQUIRED)\n"
                "spikeline_add_plugin(c_plugin c_plugin.c)\n"
                "target_compile_definitions(c_plugin PRIVATE PLUGIN_OK)\n")
    build = os.path.join(project, "build")
    rc, out = configure(project, build, PREFIX)
    check(rc == 0, "configuring the C plugin project failed\n" + out[-3000:])
    sh_ok([CMAKE, "--build", build])
    library = os.path.join(build, "libc_plugin.so")
    r = run_ok(["models", "c_leaky", "--plugin", library])
    expect_in(r.stdout, "from plugin " + library, "stdout", r)


def test_package_variables():
    # What the config file sets beside the targets, read by a throwaway
    # project configured against the same prefix.
    probe = os.path.join(WORK, "probe")
    os.mkdir(probe)
    with open(os.path.join(probe, "CMakeLists.txt"), "w") as f:
        f.write("cmake_minimum_required(VERSION 3.20)\nproject(probe NONE)\n"
                "find_package(spikeline 0.1 REQUIRED)\n"
                'get_target_property(exe spikeline::spikeline LOCATION)\n'
                'get_target_property(features spikeline::plugin_headers INTERFACE_COMPILE_FEATURES)\n'
                'message(STATUS "abi=${spikeline_PLUGIN_ABI_VERSION}")\n'
                'message(STATUS "exe=${spikeline_EXECUTABLE}")\n'
                'message(STATUS "target=${exe}")\n'
                'message(STATUS "features=${features}")\n')
    rc, out = configure(probe, os.path.join(probe, "build"), PREFIX)
    check(rc == 0, "configuring the probe failed\n" + out[-3000:])
    expect_in(out, "abi=" + abi_of_headers() + "\n", "spikeline_PLUGIN_ABI_VERSION")
    expect_in(out, "exe=" + INSTALLED + "\n", "spikeline_EXECUTABLE")
    expect_in(out, "target=" + INSTALLED + "\n", "spikeline::spikeline's location")
    expect_in(out, "features=cxx_std_20\n", "spikeline::plugin_headers' compile features")
    # SameMajorVersion: another major is refused by find_package, saying so.
    with open(os.path.join(probe, "CMakeLists.txt")) as f:
        text = f.read().replace("spikeline 0.1 REQUIRED", "spikeline 1.0 REQUIRED")
    with open(os.path.join(probe, "CMakeLists.txt"), "w") as f:
        f.write(text)
    rc, out = configure(probe, os.path.join(probe, "build1"), PREFIX)
    check(rc != 0, "find_package(spikeline 1.0) accepted version 0.x")
    expect_in(out, 'compatible with requested version "1.0"', "cmake's message")


def test_installed_spikeline_lists_the_model():
    r = run_ok(["models", "my_lif", "--plugin", "build/libmy_lif.so"], cwd=AUTHOR)
    expect_in(r.stdout, "my_lif (neuron)", "stdout", r)
    expect_in(r.stdout, "from plugin build/libmy_lif.so", "stdout", r)
    for p in ["tau_m", "C_m", "E_L", "V_th", "V_reset"]:
        expect_in(r.stdout, p, "stdout", r)


def test_installed_spikeline_runs_the_model_exactly():
    out = os.path.join(AUTHOR, "out.h5")
    run_ok(["run", "net.toml", "--plugin", "build/libmy_lif.so", "-o", out, "-q"], cwd=AUTHOR)
    # The closed form (my_lif.cpp): from V = E_L under a constant I, V after
    # k steps is E_L + I R (1 - P^k), P = exp(-dt/tau_m), R = tau_m/C_m; the
    # first crossing of V_th is the first k with I R (1 - P^k) >= V_th - E_L,
    # and after the reset to E_L the same count repeats: spikes at steps
    # k*, 2 k*, ... (a dc_generator starting at 0 acts from step 1).
    dt, steps, tau, C, E_L, V_th = 0.1, 1000, 10.0, 250.0, -70.0, -55.0
    P, R = math.exp(-dt / tau), tau / C
    expected = {}
    for node, current in [(0, 500.0), (1, 800.0), (2, 0.0), (3, 300.0)]:
        if current * R <= V_th - E_L:
            expected[node] = []
            continue
        x = math.log(1.0 - (V_th - E_L) / (current * R)) / math.log(P)
        # The crossing is well inside a step, so rounding in the recursion
        # cannot move it (a check of this test's own parameters).
        check(0.1 < x - math.floor(x) < 0.9, "node %d crosses %.6f steps in" % (node, x))
        k = math.ceil(x)
        expected[node] = list(range(k, steps + 1, k))
    # The numbers docs/plugins.md quotes.
    check_equal([len(expected[n]) for n in range(4)], [7, 15, 0, 0], "spike counts of the closed form")
    check_equal((expected[0][0], expected[1][0]), (139, 64), "first spike steps of the closed form")
    check_equal(clitest.status_of(out), "complete", "the run's status")
    with h5py.File(out, "r") as f:
        ts, ids = clitest.read_spikes(f, "cells")
        trace = f["report/cells/data"][()]
        time = f["report/cells/mapping/time"][()]
    for node in range(4):
        got = ts[ids == node]
        check_equal([int(round(t / dt)) for t in got], expected[node], "spike steps of node %d" % node)
        check(np.all(np.abs(got - np.array(expected[node]) * dt) < 1e-9),
              "node %d: spike times are not step * dt: %s" % (node, got))
    # Node 3, below rheobase (375 pA), follows the closed form to the end.
    # Frame i is the state after step i + 1 (a record's default start is dt).
    check_equal(trace.shape, (steps, 1), "the trace's shape")
    check(np.allclose(time, [dt, (steps + 1) * dt, dt], rtol=0, atol=1e-9),
          "the trace's mapping/time: %s" % time)
    k = np.arange(1, steps + 1)
    # Traces are stored as float32: the closed form rounded to float32, to
    # within one float32 ulp (the double recursion differs from the
    # closed form by ~1e-13 mV, which can flip a rounding).
    V = (E_L + 300.0 * R * (1.0 - P ** k)).astype(np.float32)
    check_equal(trace.dtype, np.float32, "the trace's type")
    ulps = np.max(np.abs(trace[:, 0] - V) / np.spacing(np.abs(V)))
    check(ulps <= 1, "node 3's V_m differs from the closed form by %g float32 ulps" % ulps)
    check(abs(np.float32(-58.0) - trace[-1, 0]) < 1e-3, "node 3 has not approached -58 mV: %s" % trace[-1, 0])


def test_the_model_refuses_a_reset_above_threshold():
    # The model's own check (prepare), reported by the installed spikeline as
    # a config error naming the population.
    with open(os.path.join(AUTHOR, "net.toml")) as f:
        text = f.read().replace('model = "my_lif"', 'model = "my_lif"\nparams = { V_reset = -50.0 }')
    bad = os.path.join(AUTHOR, "bad.toml")
    with open(bad, "w") as f:
        f.write(text)
    r = clitest.spikeline(["run", "bad.toml", "--plugin", "build/libmy_lif.so", "-o", "bad.h5"],
                          cwd=AUTHOR)
    expect_exit(r, EX_CONFIG)
    # The message docs/plugins.md quotes.
    expect_in(r.stderr, "spikeline: error: plugin 'build/libmy_lif.so' model 'my_lif' (population "
              "'cells'): the parameters are refused: V_reset (-50 mV) must be below V_th (-55 mV)\n",
              "stderr", r)


def test_the_tutorial_shows_these_files():
    # docs/plugins.md's tutorial is this project: each file verbatim.
    with open(os.path.join(SOURCE_DIR, "docs", "plugins.md")) as f:
        doc = f.read()
    for name in PROJECT_FILES:
        with open(os.path.join(PROJECT, name)) as f:
            check(f.read() in doc, "docs/plugins.md does not show tests/plugin/sdk_project/" + name)


if __name__ == "__main__":
    try:
        clitest.main(globals())
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
