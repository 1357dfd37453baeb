"""The in-process module (spikeline.Simulation) against the CLI: the same
spikes and traces bit for bit, in one piece or several, at any thread
count; state and weights changed between pieces act as the equations say;
errors carry the CLI's message and exit code; the GIL is released and
Ctrl-C stops a run cleanly.

Run by ctest with PYTHONPATH pointing at the built package (build/python):

    /usr/bin/python3 tests/python/test_inprocess.py build/tools/spikeline .
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import clitest  # noqa: E402
from clitest import check, check_equal, Failure  # noqa: E402

import numpy as np  # noqa: E402
import spikeline  # noqa: E402

if not spikeline.HAVE_CORE:
    # A build without the module (a sanitized one): nothing to test here.
    print("skipped: spikeline._core is not built")
    sys.exit(clitest.EX_SKIPPED)

COBA = clitest.example("coba.toml")
SHORT = ["simulation.duration=200"]

# 10 iaf_psc_delta neurons driven by 20 Poisson generators, traced.
TRACED = clitest.SMALL_NETWORK + """
[[record]]
population = "exc"
variables = ["V_m"]
nodes = [0, 3, 9]
interval = 0.5

[[record]]
name = "early"
population = "exc"
variables = ["V_m"]
start = 0.0
stop = 10.0
interval = 0.1
"""


def same_spikes(a, b, what):
    ta, ia = a
    tb, ib = b
    check(len(ta) > 0, "%s: no spikes at all" % what)
    check_equal(len(ta), len(tb), "%s: spike count" % what)
    check(np.array_equal(ta, tb), "%s: spike times differ" % what)
    check(np.array_equal(ia, ib), "%s: spike ids differ" % what)


def test_equals_cli_coba():
    with clitest.TempDir() as d:
        out = os.path.join(d, "coba.h5")
        clitest.run_ok(["run", COBA, "-o", out, "-q", "--set", SHORT[0]])
        cli = clitest.all_spikes(out)
    sim = spikeline.Simulation.from_file(COBA, set=SHORT)
    sim.run(200)
    for pop in ("exc", "inh"):
        same_spikes(sim.spikes(pop), cli[pop], "COBA %s in-process vs CLI" % pop)
    summary = sim.end()
    check_equal(summary["status"], "complete", "status")
    check_equal(summary["populations"][0]["spikes"], len(cli["exc"][0]), "summary count")


def test_pieces_equal_one_run_any_threads():
    whole = spikeline.Simulation.from_file(COBA, set=SHORT)
    whole.run(200)
    pieces = spikeline.Simulation.from_file(COBA, set=SHORT + ["simulation.threads=2"])
    for t in (0.1, 49.9, 120.0, 200.0):  # a one-step piece, off-window cuts
        pieces.run_until(t)
    check_equal(pieces.time, 200.0, "time after the pieces")
    for pop in ("exc", "inh"):
        same_spikes(pieces.spikes(pop), whole.spikes(pop), "%s in 4 pieces at 2 threads" % pop)


def test_traces_equal_cli():
    import h5py

    with clitest.TempDir() as d:
        cfg = clitest.write(os.path.join(d, "net.toml"), TRACED)
        out = os.path.join(d, "out.h5")
        clitest.run_ok(["run", cfg, "-o", out, "-q"])
        with h5py.File(out, "r") as f:
            data = f["report/exc/data"][()]
            t0, t1, step = f["report/exc/mapping/time"][()]
        sim = spikeline.Simulation.from_file(cfg)
        sim.run(20)
        sim.run(30)
        tr = sim.trace("exc")
        check_equal(tr["data"].shape, data.shape, "frames shape")
        check(np.array_equal(tr["data"], data), "frames differ from the file's")
        check_equal(list(tr["nodes"]), [0, 3, 9], "nodes")
        check_equal(tr["variables"], ["V_m"], "variables")
        check(np.allclose(tr["times"], t0 + step * np.arange(len(data))), "frame times")
        # A second record of the population, from the initial state at t = 0.
        with h5py.File(out, "r") as f:
            early = f["reports/early/exc/data"][()]
        tr = sim.trace("exc", 1)
        check(np.array_equal(tr["data"], early), "the named record's frames differ")
        check_equal(tr["times"][0], 0.0, "first frame time")
        check_equal(len(early), 101, "frames 0 .. 10 ms")


def test_dict_and_string_build_the_same_network():
    config = {
        "simulation": {"dt": 0.1, "duration": 50.0, "seed": 7},
        "population": [
            {"name": "gen", "model": "poisson_generator", "size": 20, "params": {"rate": 200.0}},
            {"name": "exc", "model": "iaf_psc_delta", "size": 10},
        ],
        "projection": [{"source": "gen", "target": "exc", "rule": "all_to_all",
                        "weight": 5.0, "delay": 1.0}],
    }
    a = spikeline.Simulation.from_dict(config)
    b = spikeline.Simulation.from_string(clitest.SMALL_NETWORK)
    a.run(50)
    b.run(50)
    same_spikes(a.spikes("exc"), b.spikes("exc"), "dict vs TOML string")
    # A value the TOML writer must quote and escape round-trips.
    text = spikeline.to_toml({"population": [{"name": 'a"b\\c', "model": "x", "size": 1}]})
    import tomllib
    check_equal(tomllib.loads(text)["population"][0]["name"], 'a"b\\c', "escaped name")


def test_set_weights_between_pieces():
    sim = spikeline.Simulation.from_string(clitest.SMALL_NETWORK)
    sim.run(20)
    before = len(sim.spikes("exc")[0])
    check(before > 0, "the driven neurons fire in the first 20 ms")
    syn = sim.synapses("gen_to_exc")
    check_equal(len(syn["weight"]), 200, "all-to-all synapses")
    check(np.all(syn["weight"] == 5.0), "the config's weights")
    sim.set_weights("gen_to_exc", 0.0)
    check(np.all(sim.weights("gen_to_exc") == 0.0), "weights read back")
    sim.run(30)
    times = sim.spikes("exc")[0]
    # A delivery reads the synapse's weight when it arrives, so no input
    # reaches the neurons after 20 ms; iaf_psc_delta without input only
    # decays towards rest: no spike after 20 ms.
    late = times[times > 20.0 + 1e-9]
    check(len(late) == 0, "spikes after the weights were zeroed: %s" % late[:5])


def test_set_state_fires_at_the_next_step():
    net = clitest.SMALL_NETWORK.replace("weight = 5.0", "weight = 0.0")
    lazy = spikeline.Simulation.from_string(net)
    lazy.run(1)
    try:
        lazy.set_state("exc", "V_m", 0.0)
        raise Failure("state of an event-driven model set mid-run")
    except spikeline.UsageError as e:
        check("before the first run" in str(e), str(e))
    sim = spikeline.Simulation.from_string(net.replace("iaf_psc_delta", "iaf_psc_exp"))
    sim.run(10)
    check_equal(len(sim.spikes("exc")[0]), 0, "no spikes without input")
    v = sim.state("exc", "V_m")
    check(np.all(v == v[0]), "all at rest")
    new = np.full(10, -70.0)
    new[[2, 7]] = 0.0  # above threshold (-55 mV by default)
    sim.set_state("exc", "V_m", new)
    check(np.array_equal(sim.state("exc", "V_m"), new), "state read back")
    sim.run(1)
    t, ids = sim.spikes("exc")
    check_equal(list(ids), [2, 7], "the neurons set above threshold fire")
    check(np.allclose(t, 10.1), "at the next step (10.1 ms): %s" % t)


def test_errors_carry_the_cli_message_and_code():
    bad = clitest.SMALL_NETWORK.replace('model = "iaf_psc_delta"', 'model = "iaf_psc_dleta"')
    with clitest.TempDir() as d:
        cfg = clitest.write(os.path.join(d, "bad.toml"), bad)
        r = clitest.spikeline(["run", cfg])
        clitest.expect_exit(r, clitest.EX_CONFIG)
        try:
            spikeline.Simulation.from_file(cfg)
            raise Failure("an unknown model was accepted")
        except spikeline.ConfigError as e:
            check_equal(e.exit_code, 78, "exit code")
            check(str(e) in r.stderr, "message %r is not the CLI's:\n%s" % (str(e), r.stderr))
            check(isinstance(e, spikeline.Error) and isinstance(e, RuntimeError), "class tree")
    try:
        spikeline.Simulation.from_file("/nonexistent/net.toml")
        raise Failure("a missing config was accepted")
    except spikeline.IoError as e:
        check("/nonexistent/net.toml" in str(e), str(e))
    sim = spikeline.Simulation.from_string(clitest.SMALL_NETWORK)
    for call, fragment in [
        (lambda: sim.set_weights("gen_to_exc", np.zeros(3)), "3 values for 200 synapses"),
        (lambda: sim.set_weights("gen_to_exc", np.nan), "must be finite"),
        (lambda: sim.set_state("exc", "V_x", 0.0), "no state variable 'V_x'"),
        (lambda: sim.spikes("nope"), "unknown population 'nope'"),
        (lambda: sim.run_until(0.05), "not a whole number of time steps"),
    ]:
        try:
            call()
            raise Failure("accepted: expected %r" % fragment)
        except spikeline.Error as e:
            check(fragment in str(e), "%r lacks %r" % (str(e), fragment))
    sim.run(5)
    try:
        sim.run_until(5)
        raise Failure("running to the present was accepted")
    except spikeline.UsageError as e:
        check("already at 5 ms" in str(e), str(e))
    sim.end()
    try:
        sim.run(1)
        raise Failure("a run after end() was accepted")
    except spikeline.UsageError as e:
        check("ended" in str(e), str(e))


def test_output_file_when_asked():
    with clitest.TempDir() as d:
        out = os.path.join(d, "x.h5")
        sim = spikeline.Simulation.from_string(clitest.SMALL_NETWORK, output=out)
        sim.run(25)
        sim.run(25)
        mem = sim.spikes("exc")
        summary = sim.end()
        check_equal(summary["status"], "complete", "status")
        check_equal(clitest.status_of(out), "complete", "file status")
        same_spikes(clitest.all_spikes(out)["exc"], mem, "file vs memory")
        check(not os.path.exists(os.path.join(d, "out.h5")), "a default file was written")


def test_gil_released_while_running():
    sim = spikeline.Simulation.from_file(COBA, set=["simulation.duration=10000"], record=False)
    progress = []
    done = threading.Event()

    def run():
        sim.run(3000)
        done.set()

    t = threading.Thread(target=run)
    t.start()
    # While the engine runs, this thread keeps running Python code: with the
    # GIL held it could not take a single step until run() returned.
    ticks_while_running = 0
    while not done.is_set():
        ticks_while_running += 1
        done.wait(0.001)
    t.join()
    # Held, this thread would not run again until the engine returned (a
    # tick or two at most, around the call).
    check(ticks_while_running >= 20,
          "the main thread ran %d times while the engine ran" % ticks_while_running)
    check_equal(sim.time, 3000.0, "time")


def test_ctrl_c_stops_and_the_run_goes_on():
    script = textwrap.dedent("""
        import sys, spikeline
        sim = spikeline.Simulation.from_file(sys.argv[1], set=["simulation.duration=100000"],
                                             record=False)
        print("ready", flush=True)
        try:
            sim.run(100000)
            print("not interrupted", flush=True)
        except KeyboardInterrupt:
            t = sim.time
            print("interrupted at", t, flush=True)
            sim.run(10)
            print("went on to", sim.time, "expected", round(t + 10, 6), flush=True)
        print(sim.end()["status"], flush=True)
    """)
    p = subprocess.Popen([sys.executable, "-c", script, COBA], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    check_equal(line.strip(), "ready", "child started")
    # Let it get into the engine (any time will do: before the loop starts,
    # the stop is seen at the first window).
    import time
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    check_equal(p.returncode, 0, "child exit (stderr: %s)" % err[-1000:])
    lines = out.strip().splitlines()
    check(lines[0].startswith("interrupted at"), "output: %s" % out)
    t = float(lines[0].split()[-1])
    check(0 < t < 100000, "stopped mid-run at %s" % t)
    parts = lines[1].split()
    check(abs(float(parts[3]) - float(parts[5])) < 1e-6, "time after going on: %s" % lines[1])
    check_equal(lines[2], "complete", "status")


def test_spike_data_feeds_stats_and_the_example_runs():
    sim = spikeline.Simulation.from_file(COBA, set=SHORT)
    sim.run(200)
    s = sim.all_spikes()["exc"]
    times, ids = sim.spikes("exc")
    check_equal((s.node_count, s.t_start, s.t_stop), (3200, 0.0, 200.0), "Spikes metadata")
    rate = spikeline.stats.population_rate(s)
    check(abs(rate - len(times) / 3200 / 0.2) < 1e-9, "population rate %s" % rate)
    example = os.path.join(clitest.SOURCE_DIR, "examples", "python", "run_and_plot.py")
    with clitest.TempDir() as d:
        image = os.path.join(d, "coba.png")
        p = subprocess.run([sys.executable, example, image], cwd=d, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=300)
        check_equal(p.returncode, 0, "example exit (stderr %s)" % p.stderr[-2000:])
        check("exc:" in p.stdout and "Hz" in p.stdout, "the example prints rates: %s" % p.stdout)
        with open(image, "rb") as f:
            head = f.read(24)
        check(head[:8] == b"\x89PNG\r\n\x1a\n", "the example wrote no PNG")
        import struct
        w, h = struct.unpack(">II", head[16:24])
        check(w >= 600 and h >= 400, "the example's figure is %dx%d" % (w, h))
        check(os.listdir(d) == ["coba.png"], "the example wrote other files: %s" % os.listdir(d))


# ---- parameters and stimuli changed between pieces (issue 20) --------------

# One iaf_psc_exp neuron per row, parameters spelled out (the analytic
# values below depend on them): V_inf = E_L + I tau_m / C_m.
PSC_EXP = """\
[simulation]
dt = 0.1
duration = 1000.0
seed = 3
threads = {threads}

[[population]]
name = "n"
model = "iaf_psc_exp"
size = {size}
params = {{ C_m = 250.0, tau_m = 10.0, t_ref = 2.0, E_L = -70.0, V_reset = -70.0, V_th = {v_th}, I_e = 0.0 }}
"""


def psc_exp(extra="", threads=1, size=1, v_th=-55.0):
    return spikeline.Simulation.from_string(
        PSC_EXP.format(threads=threads, size=size, v_th=v_th) + extra)


def test_raised_I_e_fires_at_the_analytic_period():
    sim = psc_exp()
    sim.run(100)
    check_equal(len(sim.spikes("n")[0]), 0, "no spikes at I_e = 0")
    sim.set_params("n", {"I_e": 500.0})  # V_inf = -50 mV, above V_th = -55 mV
    check_equal(sim.params("n")["I_e"], 500.0, "I_e read back")
    check_equal(sim.params("n")["tau_m"], 10.0, "the others kept")
    sim.run(100)
    t, _ = sim.spikes("n")
    # From V = -70 mV the neuron reaches V_th after tau_m ln((V_inf - V_reset)
    # / (V_inf - V_th)) = 10 ln 4 = 13.863 ms: the first step at or after it
    # is 13.9 ms (exact integration: V at step k is the solution at k dt).
    # After each spike: t_ref = 2 ms held, then the same 13.9 ms again.
    rise = 10.0 * np.log(20.0 / 5.0)
    first = 100.0 + np.ceil(rise / 0.1) * 0.1
    period = 2.0 + np.ceil(rise / 0.1) * 0.1
    expected = first + period * np.arange(int((200.0 - first) / period) + 1)
    check_equal(len(t), len(expected), "spike count (%s vs %s)" % (t, expected))
    check(np.allclose(t, expected, rtol=0, atol=1e-9), "spike times %s vs %s" % (t, expected))
    check(abs(period - (2.0 + rise)) < 0.1, "the grid's period is the analytic one within dt")


def test_dc_amplitude_changed_gives_the_analytic_response():
    stim = """
[[stimulus]]
name = "dc"
model = "dc_generator"
target = "n"
params = { amplitude = 100.0, start = 0.0 }
"""
    sim = psc_exp(stim, v_th=1000.0)  # never fires
    sim.run(50)
    # V(t) = E_L + A tau_m / C_m (1 - exp(-t / tau_m)) from rest.
    v50 = -70.0 + 100.0 * 10.0 / 250.0 * (1 - np.exp(-5.0))
    check(abs(sim.state("n", "V_m")[0] - v50) < 1e-9, "V(50) %r vs %r" % (sim.state("n", "V_m")[0], v50))
    sim.set_stimulus("dc", {"amplitude": 300.0})
    check_equal(sim.stimulus_params("dc")["amplitude"], 300.0, "amplitude read back")
    check_equal(sim.stimulus_params("dc")["start"], 0.0, "start kept")
    sim.run(30)
    v_inf = -70.0 + 300.0 * 10.0 / 250.0
    v80 = v_inf + (v50 - v_inf) * np.exp(-3.0)
    check(abs(sim.state("n", "V_m")[0] - v80) < 1e-9, "V(80) %r vs %r" % (sim.state("n", "V_m")[0], v80))
    # A stop set in the future switches it off then: V relaxes to E_L.
    sim.set_stimulus("dc", {"stop": 90.0})
    sim.run(20)
    v90 = v_inf + (v80 - v_inf) * np.exp(-1.0)
    v100 = -70.0 + (v90 + 70.0) * np.exp(-1.0)
    check(abs(sim.state("n", "V_m")[0] - v100) < 1e-9, "V(100) %r vs %r" % (sim.state("n", "V_m")[0], v100))


def test_change_at_t_equals_a_config_switching_at_t():
    record = """
[[record]]
population = "n"
variables = ["V_m"]
interval = 0.1
"""
    changed = psc_exp("""
[[stimulus]]
name = "dc"
model = "dc_generator"
target = "n"
params = { amplitude = 300.0, start = 0.0 }
""" + record, size=3)
    changed.run(40)
    changed.set_stimulus("dc", {"amplitude": 600.0})
    changed.run(60)
    configured = psc_exp("""
[[stimulus]]
name = "a"
model = "dc_generator"
target = "n"
params = { amplitude = 300.0, start = 0.0, stop = 40.0 }

[[stimulus]]
name = "b"
model = "dc_generator"
target = "n"
params = { amplitude = 600.0, start = 40.0 }
""" + record, size=3)
    configured.run(100)
    same_spikes(changed.spikes("n"), configured.spikes("n"), "changed at 40 ms vs configured")
    a, b = changed.trace("n")["data"], configured.trace("n")["data"]
    check(a.shape == b.shape and np.array_equal(a, b), "V_m traces differ")


def test_poisson_input_rate_changed():
    # Each input spike adds its weight (1 mV) to V_m; tau_m = 1e9 ms keeps
    # the sum (a relative loss of 1e-7 in 100 ms), V_th = 1e6 mV is never reached.
    net = """
[simulation]
dt = 0.1
duration = 1000.0
seed = 11
threads = {threads}

[[population]]
name = "n"
model = "iaf_psc_delta"
size = 1000
params = {{ tau_m = 1e9, V_th = 1e6, E_L = 0.0, V_reset = 0.0 }}

[[stimulus]]
name = "noise"
model = "poisson_input"
target = "n"
params = {{ rate = 10.0, weight = 1.0 }}
"""
    counts = {}
    for threads in (1, 2):
        sim = spikeline.Simulation.from_string(net.format(threads=threads))
        sim.run(100)
        before = sim.state("n", "V_m").copy()
        sim.set_stimulus("noise", {"rate": 50.0})
        check_equal(sim.stimulus_params("noise")["rate"], 50.0, "rate read back")
        sim.run(100)
        after = sim.state("n", "V_m")
        counts[threads] = (before, after)
    check(np.array_equal(counts[1][0], counts[2][0]) and np.array_equal(counts[1][1], counts[2][1]),
          "1 and 2 threads differ")
    before, after = counts[1]
    # Expected counts: 1000 neurons x 10 Hz x 0.1 s = 1000, then x 50 Hz =
    # 5000. Poisson: sd sqrt(1000) = 31.6 and sqrt(5000) = 70.7; 5 sd
    # (two-sided p = 6e-7) tells the new rate from the old (5000 vs 1000) beyond doubt.
    n0, n1 = before.sum(), (after - before).sum()
    check(abs(n0 - 1000) < 5 * np.sqrt(1000), "first 100 ms: %s inputs" % n0)
    check(abs(n1 - 5000) < 5 * np.sqrt(5000), "next 100 ms at 50 Hz: %s inputs" % n1)


def test_changes_identical_at_1_and_2_threads():
    stim = """
[[stimulus]]
name = "noise"
model = "poisson_input"
target = "n"
params = { rate = 800.0, weight = 30.0 }

[[stimulus]]
name = "dc"
model = "dc_generator"
target = "n"
params = { amplitude = 100.0, start = 5.0 }
"""
    runs = []
    for threads in (1, 2):
        sim = psc_exp(stim, threads=threads, size=200)
        sim.run(50)
        sim.set_params("n", {"I_e": np.linspace(0.0, 200.0, 200), "tau_m": 12.0})
        sim.set_stimulus("noise", {"rate": 1500.0})
        sim.run(30)
        sim.set_stimulus("dc", {"amplitude": -50.0, "stop": 95.0})
        sim.set_params("n", {"V_th": -52.0})
        sim.run(40)
        runs.append(sim.spikes("n"))
        check(np.array_equal(sim.params("n")["I_e"], np.linspace(0.0, 200.0, 200)),
              "per-neuron I_e read back")
    same_spikes(runs[0], runs[1], "1 vs 2 threads with changes between pieces")


def test_bad_changes_are_clear_errors():
    sim = psc_exp("""
[[stimulus]]
name = "dc"
model = "dc_generator"
target = "n"
params = { amplitude = 100.0 }
""", size=4)
    sim.run(10)
    for call, cls, fragments in [
        (lambda: sim.set_params("n", {"V_tj": -50.0}), spikeline.ConfigError,
         ["V_tj", "did you mean 'V_th'"]),
        (lambda: sim.set_params("n", {"tau_m": -1.0}), spikeline.ConfigError,
         ["population 'n' (iaf_psc_exp) parameter tau_m", "-1", "> 0"]),
        (lambda: sim.set_params("n", {"V_reset": -50.0}), spikeline.ConfigError,
         ["V_reset", "-50", "V_th"]),
        (lambda: sim.set_params("n", {"I_e": [1.0, 2.0]}), spikeline.ConfigError,
         ["parameter I_e has 2 values", "exactly 4"]),
        (lambda: sim.set_stimulus("dcc", {"amplitude": 1.0}), spikeline.ConfigError,
         ["unknown stimulus 'dcc'", "did you mean 'dc'"]),
        (lambda: sim.set_stimulus("dc", {"stop": -5.0}), spikeline.ConfigError,
         ["stop", "-5"]),
        (lambda: sim.set_stimulus("dc", {"amplitud": 1.0}), spikeline.ConfigError,
         ["amplitud", "did you mean 'amplitude'"]),
    ]:
        try:
            call()
            raise Failure("accepted: %s" % fragments)
        except cls as e:
            for f in fragments:
                check(f in str(e), "%r not in %r" % (f, str(e)))
    # A refused change leaves the run as it was.
    check_equal(sim.params("n")["tau_m"], 10.0, "tau_m kept")
    check_equal(sim.params("n")["V_reset"], -70.0, "V_reset kept")
    check_equal(sim.stimulus_params("dc")["amplitude"], 100.0, "amplitude kept")
    gen = spikeline.Simulation.from_string(clitest.SMALL_NETWORK)
    gen.run(1)
    for call, fragment in [
        (lambda: gen.set_params("exc", {"tau_m": 5.0}), "set them before the first run"),
    ]:
        try:
            call()
            raise Failure("accepted: %s" % fragment)
        except spikeline.UsageError as e:
            check(fragment in str(e), "%r not in %r" % (fragment, str(e)))


def test_every_builtin_neuron_model_takes_new_parameters():
    # Mid-run (a dc_generator makes iaf_psc_delta stepped), each model's
    # state is kept through the change and the new value is in force.
    for model, param, value, var in [("iaf_psc_exp", "tau_m", 12.0, "V_m"),
                                     ("iaf_cond_exp", "g_L", 20.0, "V_m"),
                                     ("iaf_psc_delta", "tau_m", 12.0, "V_m"),
                                     ("izhikevich", "a", 0.03, "V_m"),
                                     ("lif_discrete", "beta", 0.8, "u")]:
        sim = spikeline.Simulation.from_string("""
[simulation]
dt = 0.1
duration = 100.0
seed = 1

[[population]]
name = "n"
model = "%s"
size = 5

[[stimulus]]
name = "dc"
model = "dc_generator"
target = "n"
params = { amplitude = 5.0 }
""" % model)
        sim.run(10)
        before = sim.state("n", var).copy()
        sim.set_params("n", {param: value})
        check(np.array_equal(sim.state("n", var), before), "%s: %s kept" % (model, var))
        check_equal(sim.params("n")[param], value, "%s: %s in force" % (model, param))
        sim.run(10)


# One tsodyks_markram synapse from a regular train (every 25 ms from 10 ms,
# delay 1 ms) onto an iaf_psc_exp neuron that never fires, whose synaptic
# current (tau_syn 0.5 ms) is traced every step: its jump at an arrival is
# the amount delivered.
STP_SYNAPSE = """\
[simulation]
dt = 0.1
duration = 1000.0
seed = 3

[[population]]
name = "pre"
model = "spike_generator"
size = 1
params = { spike_times = [%s] }

[[population]]
name = "n"
model = "iaf_psc_exp"
size = 1
params = { V_th = 1e9, tau_syn_ex = 0.5 }

[[projection]]
name = "stp"
source = "pre"
target = "n"
rule = "one_to_one"
weight = 100.0
delay = 1.0
plasticity = { rule = "tsodyks_markram", U = 0.3, tau_rec = 400.0, tau_facil = 200.0 }

[[record]]
population = "n"
variables = ["I_syn_ex"]
start = 0.0
interval = 0.1
""" % ", ".join("%.1f" % (10.0 + 25.0 * k) for k in range(39))


def test_set_weights_sets_the_base_weight_of_short_term_plasticity():
    """tsodyks_markram: weights() reads the base weight, which the rule
    never changes; set_weights between pieces sets it, and each later spike
    delivers new weight u x with u and x carried on (not reset)."""
    sim = spikeline.Simulation.from_string(STP_SYNAPSE)
    sim.run(500)
    check(np.all(sim.weights("stp") == 100.0), "the base weight is unchanged by the rule")
    sim.set_weights("stp", 300.0)
    sim.run(500)
    current = sim.trace("n")["data"][:, 0].astype(np.float64)
    U, tau_rec, tau_facil = 0.3, 400.0, 200.0
    u, x = U, 1.0
    p11 = np.exp(-0.1 / 0.5)
    for k in range(39):
        if k > 0:
            x = 1.0 + (x - x * u - 1.0) * np.exp(-25.0 / tau_rec)
            u = U + u * (1.0 - U) * np.exp(-25.0 / tau_facil)
        arrival = 110 + 250 * k  # step
        w = 100.0 if arrival * 0.1 <= 500.0 else 300.0
        jump = current[arrival] - current[arrival - 1] * p11
        check(abs(jump - w * u * x) <= 1e-6 * w * u * x,
              "spike %d: delivered %.7g, expected %g u x = %.7g" % (k, jump, w, w * u * x))
    check(x < 0.7, "the synapse depressed (x = %.3f)" % x)


def test_set_weights_holds_on_plastic_projections():
    """A rule that keeps its own copy of the weights (stdp, triplet_stdp,
    reward_stdp) takes weights set between pieces: with learning switched
    off (zero amplitudes), they stay what was set through later pre and
    post spikes; before the fix the rule's next events wrote the old ones
    back."""
    rules = {
        "stdp": "A_plus = 0.0, A_minus = 0.0, w_max = 10.0",
        "triplet_stdp": "A2_plus = 0.0, A3_plus = 0.0, A2_minus = 0.0, A3_minus = 0.0, w_max = 10.0",
        "reward_stdp": 'modulator = "da", tonic = 0.0, A_plus = 0.0, A_minus = 0.0, w_max = 10.0',
    }
    for rule, params in rules.items():
        sim = spikeline.Simulation.from_string("""
[simulation]
dt = 0.1
duration = 400.0
seed = 3

[[neuromodulator]]
name = "da"

[[population]]
name = "gen"
model = "poisson_generator"
size = 50
params = { rate = 40.0 }

[[population]]
name = "n"
model = "iaf_psc_exp"
size = 10
params = { I_e = 380.0 }

[[projection]]
name = "p"
source = "gen"
target = "n"
rule = "fixed_indegree"
indegree = 10
weight = 2.0
delay = 1.0
plasticity = { rule = "%s", %s }
""" % (rule, params))
        sim.run(200)
        sim.set_weights("p", 5.0)
        sim.run(200)
        t, _ = sim.spikes("n")
        check(np.sum(t > 200) > 20, "%s: the targets fire after the change" % rule)
        check(np.all(sim.weights("p") == 5.0), "%s: weights stay as set" % rule)

GENERATORS = """
[simulation]
dt = 0.1
duration = 1000.0
seed = 5
threads = {threads}

[[population]]
name = "gen"
model = "poisson_generator"
size = 1000
params = {{ rate = 20.0 }}

[[population]]
name = "sg"
model = "spike_generator"
size = 2
params = {{ spike_times = [[1.0, 30.0], [2.0]] }}
"""


def test_generators_changed_between_pieces():
    # NEST's SetStatus between Simulate calls: a poisson_generator's new rate
    # from the next step on, a spike_generator's new times.
    runs = {}
    for threads in (1, 2):
        sim = spikeline.Simulation.from_string(GENERATORS.format(threads=threads))
        sim.run(500)
        sim.set_params("gen", {"rate": 50.0})
        check_equal(sim.params("gen")["rate"], 50.0, "rate read back")
        if threads == 1:  # one list for both neurons
            sim.set_params("sg", {"spike_times": [512.0, 512.0, 550.5]})
        else:  # one list per neuron, of different lengths: the same times
            sim.set_params("sg", {"spike_times": [[512.0, 512.0, 550.5],
                                                  np.array([512.0, 512.0, 550.5])]})
        sim.run(500)
        runs[threads] = (sim.spikes("gen"), sim.spikes("sg"))
    same_spikes(runs[1][0], runs[2][0], "poisson_generator, 1 vs 2 threads")
    same_spikes(runs[1][1], runs[2][1], "spike_generator, 1 vs 2 threads")
    t, _ = runs[1][0]
    # 1000 trains x 0.5 s: Poisson counts, 5 sd (p = 6e-7 two-sided).
    n0, n1 = np.sum(t <= 500.0), np.sum(t > 500.0)
    check(abs(n0 - 10000) < 5 * np.sqrt(10000), "20 Hz: %s spikes" % n0)
    check(abs(n1 - 25000) < 5 * np.sqrt(25000), "50 Hz: %s spikes" % n1)
    t, ids = runs[1][1]
    check(np.allclose(t, [1.0, 2.0, 30.0, 512.0, 512.0, 512.0, 512.0, 550.5, 550.5]) and
          list(ids) == [0, 1, 0, 0, 0, 1, 1, 0, 1],
          "spike_generator: %s %s" % (t, ids))


def test_generator_times_in_the_past_are_refused():
    sim = spikeline.Simulation.from_string(GENERATORS.format(threads=1))
    sim.run(20)
    try:
        sim.set_params("sg", {"spike_times": [15.0, 25.0]})
        raise Failure("a time in the past accepted")
    except spikeline.ConfigError as e:
        for f in ["population 'sg' (spike_generator) parameter spike_times[0] = 15 ms",
                  "in the past", "after the current time 20 ms (>= 20.1 ms)"]:
            check(f in str(e), "%r not in %r" % (f, str(e)))
    sim.run(20)  # refused: the old times go on (30 ms)
    t, ids = sim.spikes("sg")
    check(np.allclose(t, [1.0, 2.0, 30.0]), "spike_generator unchanged: %s" % t)


CURRENTS = PSC_EXP + """
[[stimulus]]
name = "steps"
model = "step_current"
target = "n"
params = {{ amplitude_times = [10.0, 30.0], amplitude_values = [200.0, -100.0] }}

[[stimulus]]
name = "ac"
model = "ac_current"
target = "n"
nodes = [1]
params = {{ amplitude = 100.0, frequency = 25.0, phase = 90.0, offset = 10.0 }}

[[stimulus]]
name = "noise"
model = "noise_current"
target = "n"
nodes = [2]
params = {{ mean = 50.0, std = 100.0, dt = 1.0 }}
"""


def test_current_devices_in_a_config_and_changed():
    sim = spikeline.Simulation.from_string(CURRENTS.format(threads=1, size=3, v_th=1000.0))
    sim.run(40)
    # Neuron 0: the step current alone. V = E_L + I R (1 - exp(-u / tau))
    # from rest, then relaxing to the new I R.
    R, tau = 10.0 / 250.0, 10.0
    v30 = 200.0 * R * (1 - np.exp(-20.0 / tau))
    v40 = -100.0 * R + (v30 + 100.0 * R) * np.exp(-1.0)
    v = sim.state("n", "V_m")
    check(abs(v[0] - (-70.0 + v40)) < 1e-9, "step_current: V(40) %r vs %r" % (v[0], -70.0 + v40))
    check(v[1] != v[0] and v[2] != v[0], "the other devices reach their nodes only")
    # New times between pieces: the value they give now acts at once.
    sim.set_stimulus("steps", {"amplitude_times": [0.0, 45.0], "amplitude_values": [300.0, 0.0]})
    check_equal(list(sim.stimulus_params("steps")["amplitude_values"]), [300.0, 0.0],
                "values read back")
    sim.set_stimulus("ac", {"amplitude": 0.0})
    sim.set_stimulus("noise", {"std": 0.0, "mean": 0.0})
    sim.run(10)
    v45 = 300.0 * R + (v40 - 300.0 * R) * np.exp(-0.5)
    v50 = v45 * np.exp(-0.5)
    check(abs(sim.state("n", "V_m")[0] - (-70.0 + v50)) < 1e-9, "step_current changed")
    # ac: offset alone now (10 pA); noise: nothing.
    v1 = sim.state("n", "V_m")[1]
    sim.run(200)
    check(abs(sim.state("n", "V_m")[1] - (-70.0 + 10.0 * R)) < 1e-6, "ac_current: the offset")
    check(abs(sim.state("n", "V_m")[2] + 70.0) < 1e-6, "noise_current off")
    check(v1 != sim.state("n", "V_m")[1], "ac moved V")
    for call, fragments in [
        (lambda: sim.set_stimulus("noise", {"dt": 0.25}),
         ["stimulus 'noise' (noise_current) parameter dt = 0.25 ms", "whole multiple",
          "0.2 and 0.3 ms"]),
        (lambda: sim.set_stimulus("steps", {"amplitude_times": [1.0]}),
         ["amplitude_times has 1 values and", "amplitude_values has 2"]),
        (lambda: sim.set_stimulus("ac", {"frequency": -3.0}), ["frequency = -3", ">= 0"]),
    ]:
        try:
            call()
            raise Failure("accepted: %s" % fragments)
        except spikeline.ConfigError as e:
            for f in fragments:
                check(f in str(e), "%r not in %r" % (f, str(e)))


clitest.main(globals())
