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


clitest.main(globals())
