"""spikeline.files: foreign SONATA files written here with h5py (both
`sorting` encodings, two populations, seconds, the old /spikes/gids
layout, nested reports, edges in two edge groups), spikeline's own outputs
(run, a run killed mid-way and read under SWMR, train) against what h5py
reads from them, and the errors.

Run by ctest as /usr/bin/python3 test_read.py SPIKELINE_BINARY SOURCE_DIR,
with PYTHONPATH = the package (build/python, or SOURCE_DIR/python without the compiled module).
"""

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
import configs  # noqa: E402
from clitest import BINARY, TempDir, check, check_equal, run_ok, write  # noqa: E402

import spikeline  # noqa: E402
from spikeline import FileError, open_file  # noqa: E402

SORTING = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")


def expect_file_error(fn, *fragments, code=None):
    try:
        fn()
    except FileError as e:
        for f in fragments:
            check(f in str(e), "message %r lacks %r" % (str(e), f))
        if code is not None:
            check_equal(e.exit_code, code, "exit code of %r" % str(e))
        return
    raise clitest.Failure("no FileError (expected one naming %s)" % (fragments,))


# --- foreign files -------------------------------------------------------

def write_foreign_spikes(path):
    """Population "cortex": SONATA's enum sorting = by_id, ms, node_count
    attribute. Population "thalamus": a string sorting = "by_time",
    timestamps in seconds, no node_count, int64 node ids."""
    with h5py.File(path, "w") as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        g = f.create_group("spikes/cortex")
        g.attrs.create("sorting", 1, dtype=SORTING)
        g.attrs["node_count"] = np.uint64(6)
        g.create_dataset("node_ids", data=np.array([0, 0, 2, 5, 5, 5], dtype=np.uint64))
        ts = g.create_dataset("timestamps", data=np.array([1.5, 7.0, 3.25, 0.5, 2.0, 9.0]))
        ts.attrs["units"] = "ms"
        h = f.create_group("spikes/thalamus")
        h.attrs["sorting"] = "by_time"            # variable-length string attribute
        h.create_dataset("node_ids", data=np.array([3, 1, 3], dtype=np.int64))
        ts = h.create_dataset("timestamps", data=np.array([0.001, 0.0025, 0.004]))
        ts.attrs["units"] = "s"


def test_foreign_spike_file_two_populations_both_sorting_encodings():
    with TempDir() as d:
        path = os.path.join(d, "foreign.h5")
        write_foreign_spikes(path)
        with open_file(path) as f:
            check_equal(f.populations, ["cortex", "thalamus"], "populations")
            check(f.provenance is None and f.status is None, "no provenance in a foreign file")
            c = f.spikes("cortex")
            check_equal(c.sorting, "by_id", "enum sorting")
            check_equal(c.node_count, 6, "node_count attribute")
            check_equal(list(c.times), [1.5, 7.0, 3.25, 0.5, 2.0, 9.0], "cortex times, as stored")
            check_equal(list(c.node_ids), [0, 0, 2, 5, 5, 5], "cortex node ids")
            trains = c.trains()
            check_equal([list(t) for t in trains], [[1.5, 7.0], [], [3.25], [], [], [0.5, 2.0, 9.0]],
                        "cortex trains")
            th = f.spikes("thalamus")
            check_equal(th.sorting, "by_time", "string sorting")
            check_equal(list(th.times), [1.0, 2.5, 4.0], "seconds converted to ms")
            check_equal(th.node_count, 4, "node count from the largest id")
            check_equal(th.node_ids.dtype, np.dtype(np.uint64), "node ids as uint64")
            check_equal((c.t_stop, th.t_stop), (9.0, 4.0), "t_stop: the last spike")
            df = f.spikes_frame()
            check_equal(len(df), 9, "frame rows")
            check_equal(list(df["time_ms"]), sorted([1.5, 7.0, 3.25, 0.5, 2.0, 9.0, 1.0, 2.5, 4.0]),
                        "frame sorted by time")
            first = df.iloc[0]
            check_equal((first["population"], int(first["node_id"]), first["time_ms"]),
                        ("cortex", 5, 0.5), "first row")
            check_equal(list(df["population"].cat.categories), ["cortex", "thalamus"],
                        "population categories")
            all_ = f.all_spikes()
            check_equal(sorted(all_), ["cortex", "thalamus"], "all_spikes keys")
            expect_file_error(lambda: f.spikes(), "2 spike populations", "cortex, thalamus")
            expect_file_error(lambda: f.spikes("hippocampus"), "no spike population 'hippocampus'",
                              "'cortex', 'thalamus'")


def test_foreign_sorting_variants_and_old_layout():
    with TempDir() as d:
        path = os.path.join(d, "old.h5")
        with h5py.File(path, "w") as f:
            g = f.create_group("spikes")
            g.attrs["sorting"] = np.bytes_(b"time")     # bmtk's older word, fixed-length
            g.create_dataset("gids", data=np.array([4, 2], dtype=np.uint32))
            g.create_dataset("timestamps", data=np.array([10.0, 20.0]))
            other = f.create_group("spikes/v1")
            other.attrs["sorting"] = np.uint8(0)          # a plain integer: none
            other.create_dataset("node_ids", data=np.array([1], dtype=np.uint64))
            other.create_dataset("timestamps", data=np.array([3.0]))
        with open_file(path) as f:
            check_equal(f.populations, ["default", "v1"], "old layout is population 'default'")
            s = f.spikes("default")
            check_equal((list(s.node_ids), list(s.times), s.sorting), ([4, 2], [10.0, 20.0],
                                                                       "by_time"), "old layout")
            check_equal(f.spikes("v1").sorting, "none", "integer sorting")


def test_foreign_reports_nested_and_general_mapping():
    # Two reports under one population (as several records of it would be
    # written), and a mapping whose elements are not in variable order: node
    # 7 owns columns 0 and 1 (element 1, then element 0), node 3 columns 2
    # and 3 (element 0, then 1).
    with TempDir() as d:
        path = os.path.join(d, "rep.h5")
        data = np.arange(12, dtype=np.float32).reshape(3, 4)
        with h5py.File(path, "w") as f:
            for name in ("exc/soma", "exc/dend"):
                g = f.create_group("report/" + name)
                g.create_dataset("data", data=data if name == "exc/soma" else data[:, :2])
                m = g.create_group("mapping")
                if name == "exc/soma":
                    m.create_dataset("node_ids", data=np.array([7, 3], dtype=np.uint64))
                    m.create_dataset("index_pointers", data=np.array([0, 2, 4], dtype=np.uint64))
                    m.create_dataset("element_ids", data=np.array([1, 0, 0, 1], dtype=np.uint32))
                    g["data"].attrs["units"] = "mV"
                else:
                    m.create_dataset("node_ids", data=np.array([1, 2], dtype=np.uint64))
                    m.create_dataset("index_pointers", data=np.array([0, 1, 2], dtype=np.uint64))
                    m.create_dataset("element_ids", data=np.array([0, 0], dtype=np.uint32))
                t = m.create_dataset("time", data=np.array([0.0, 0.3, 0.1]))
                t.attrs["units"] = "s"
            # A group with data but no mapping is not a report.
            f.create_group("report/other").create_dataset("data", data=np.zeros(3))
        with open_file(path) as f:
            check_equal(f.reports, ["exc/dend", "exc/soma"], "reports found at any depth")
            r = f.report("exc/soma")
            check_equal(r.population, "exc", "population from the path")
            check_equal(r.variables, ["element 0", "element 1"], "elements without names")
            check(np.allclose(r.times, [0.0, 100.0, 200.0]), "frame times in ms: %s" % r.times)
            check(np.array_equal(r.trace("element 1", 7), data[:, 0]), "node 7 element 1")
            check(np.array_equal(r.trace("element 0", 3), data[:, 2]), "node 3 element 0")
            check(np.array_equal(r.traces("element 0"), data[:, [1, 2]]), "element 0 of all")
            check_equal(r.unit("element 0"), "mV", "common unit")
            check_equal(list(r.frame("element 1").columns), [7, 3], "frame columns = node ids")
            expect_file_error(lambda: r.trace("V_m", 7), "no variable 'V_m'", "element 0")
            expect_file_error(lambda: r.trace("element 0", 5), "does not record node 5", "7, 3")
            check_equal(f.report("exc/dend").variables, ["data"], "one unnamed variable")
            expect_file_error(lambda: f.report(), "2 reports", "exc/dend, exc/soma")


def test_foreign_edges_with_two_edge_groups():
    with TempDir() as d:
        path = os.path.join(d, "edges.h5")
        with h5py.File(path, "w") as f:
            g = f.create_group("edges/lgn_to_v1")
            src = g.create_dataset("source_node_id", data=np.array([0, 1, 2, 3], dtype=np.uint64))
            src.attrs["node_population"] = "lgn"
            tgt = g.create_dataset("target_node_id", data=np.array([9, 8, 7, 6], dtype=np.uint64))
            tgt.attrs["node_population"] = "v1"
            g.create_dataset("edge_type_id", data=np.zeros(4, dtype=np.int64))
            g.create_dataset("edge_group_id", data=np.array([1, 0, 1, 0], dtype=np.uint32))
            g.create_dataset("edge_group_index", data=np.array([1, 0, 0, 1], dtype=np.uint64))
            g.create_dataset("0/syn_weight", data=np.array([0.5, 0.25], dtype=np.float32))
            g.create_dataset("0/delay", data=np.array([1.0, 2.0], dtype=np.float32))
            g.create_dataset("1/syn_weight", data=np.array([3.0, 4.0], dtype=np.float32))
            g.create_dataset("1/delay", data=np.array([0.1, 0.2], dtype=np.float32))
        with open_file(path) as f:
            e = f.edges()
            check_equal((e.source_population, e.target_population), ("lgn", "v1"), "populations")
            check_equal(list(e.weight), [4.0, 0.5, 3.0, 0.25], "weights gathered by group/index")
            check(np.allclose(e.delay, [0.2, 1.0, 0.1, 2.0]), "delays gathered: %s" % e.delay)
            check_equal(sorted(e.frame().columns), ["delay", "source", "syn_weight", "target"],
                        "frame columns")


def test_missing_and_bad_files():
    with TempDir() as d:
        expect_file_error(lambda: open_file(os.path.join(d, "nope.h5")), "nope.h5",
                          "no such file", code=66)
        text = write(os.path.join(d, "c.toml"), "[simulation]\n")
        expect_file_error(lambda: open_file(text), "c.toml", "not an HDF5 file", code=65)
        expect_file_error(lambda: open_file(d), "not a regular file", code=66)
        fifo = os.path.join(d, "fifo.h5")
        os.mkfifo(fifo)
        expect_file_error(lambda: open_file(fifo), "fifo.h5: not a regular file", code=66)
        path = os.path.join(d, "empty.h5")
        h5py.File(path, "w").close()
        with open_file(path) as f:
            check_equal((f.populations, f.reports, f.edge_populations, f.weight_records),
                        ([], [], [], []), "an empty file has nothing")
            expect_file_error(lambda: f.spikes(), "0 spike populations", "none")
            expect_file_error(lambda: f.training_log(), "no /training log")


# --- spikeline's own output ------------------------------------------------


def test_reading_spikelines_run_agrees_with_the_file():
    with TempDir() as d:
        cfg = write(os.path.join(d, "own.toml"), configs.RECORDED)
        out = os.path.join(d, "own.h5")
        run_ok(["run", cfg, "-o", out, "-q"], cwd=d)
        with h5py.File(out, "r") as h, open_file(out) as f:
            check_equal(f.populations, ["gen", "exc"], "populations in the config's order")
            check_equal((f.status, f.simulated_ms, f.provenance.seed), ("complete", 200.0, 3),
                        "provenance")
            check_equal(f.provenance.config_dict["simulation"]["seed"], 3, "config as a dict")
            check("poisson_generator" in f.provenance.config, "config text")
            for pop in ("exc", "gen"):
                s = f.spikes(pop)
                check(np.array_equal(s.times, h["spikes"][pop]["timestamps"][()]), pop + " times")
                check(np.array_equal(s.node_ids, h["spikes"][pop]["node_ids"][()]), pop + " ids")
                check_equal((s.sorting, s.node_count, s.t_stop), ("by_time", {"exc": 12,
                            "gen": 30}[pop], 200.0), pop + " sorting, size, t_stop")
                summary = {p["name"]: p for p in f.summary["populations"]}[pop]
                check_equal(len(s), summary["spikes"], pop + " spikes vs the summary")
                check(len(s) > 0, pop + " spiked")
                trains = s.trains()
                for i in (0, s.node_count - 1):
                    ids = h["spikes"][pop]["node_ids"][()]
                    expected = h["spikes"][pop]["timestamps"][()][ids == i]
                    check(np.array_equal(trains[i], expected), "%s train %d" % (pop, i))
            df = f.spikes_frame()
            check_equal(len(df), sum(p["spikes"] for p in f.summary["populations"]), "frame rows")
            check(np.all(np.diff(df["time_ms"].to_numpy()) >= 0), "frame by time")
            # The report, read the documented node-major way by hand.
            r = f.report("exc")
            raw = h["report/exc/data"][()]
            check_equal((r.variables, list(r.node_ids)), (["V_m", "I_syn_ex"], [1, 4, 9]),
                        "report variables and nodes")
            check_equal(r.data.shape, (400, 6), "400 frames (0.5 .. 200 ms) x 3 nodes x 2")
            check(np.allclose(r.times, 0.5 + 0.5 * np.arange(400)), "frame times")
            check(np.array_equal(r.trace("V_m", 4), raw[:, 2]), "V_m of node 4: column 1*2+0")
            check(np.array_equal(r.traces("I_syn_ex"), raw[:, [1, 3, 5]]), "I_syn_ex of all")
            check_equal((r.unit("V_m"), r.unit("I_syn_ex")), ("mV", "pA"), "units")
            # Weights and edges.
            w = f.weights("drive")
            check_equal(list(w.times), [0.0, 50.0, 100.0, 150.0, 200.0], "snapshot times")
            check(np.array_equal(w.data, h["weights/drive/data"][()]), "snapshots")
            e = f.edges("drive")
            check_equal((e.source_population, e.target_population), ("gen", "exc"), "edge pops")
            check(np.array_equal(e.weight, h["edges/drive/0/syn_weight"][()]), "edge weights")
            check(np.array_equal(w.data[-1], e.weight), "last snapshot = final weights")
            check(np.all((e.weight >= 100) & (e.weight <= 400)), "weights in the drawn range")
            check(np.allclose(e.delay, 1.0), "delays")


def test_a_killed_run_reads_up_to_its_last_flush():
    # A run killed by SIGKILL leaves its file open for writing (status
    # running): the reader opens it under SWMR and keeps the spikes up to
    # /provenance/simulated_ms, which equal a complete run's up to there.
    src = os.path.join(clitest.SOURCE_DIR, "examples", "coba.toml")
    with TempDir() as d:
        out = os.path.join(d, "killed.h5")
        p = subprocess.Popen([BINARY, "run", src, "-o", out, "-q", "--set",
                              "simulation.duration=1000000", "--set",
                              "output.flush_interval=20", "--set", "output.edges=false"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=d)
        simulated, deadline = 0.0, time.time() + 120
        try:
            while simulated < 100.0 and time.time() < deadline and p.poll() is None:
                time.sleep(0.05)
                try:
                    with h5py.File(out, "r", swmr=True) as h:
                        simulated = float(h["provenance/simulated_ms"][()])
                except (OSError, KeyError):
                    pass
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
        check(simulated >= 100.0, "the run flushed 100 ms within 120 s (got %g)" % simulated)
        with open_file(out) as f:
            check(f.swmr, "opened under SWMR")
            check_equal(f.status, "running", "status of a killed run")
            upto = f.simulated_ms
            check(upto >= simulated, "simulated_ms %g" % upto)
            exc = f.spikes("exc")
            check(len(exc) > 0 and exc.times.max() <= upto, "spikes up to simulated_ms")
            check_equal(exc.t_stop, upto, "t_stop = simulated_ms")
        # The report of such a file says so (in-process: python3 -m spikeline.report).
        from spikeline import report
        check_equal(report.main([out, "-o", os.path.join(d, "rep")]), 0, "report exit")
        with open(os.path.join(d, "rep", "index.html"), encoding="utf-8") as page:
            text = page.read()
        check('<span class="status running">running</span>' in text and
              "the file is read up to its last flush" in text, "a running file's report")
        full = os.path.join(d, "full.h5")
        run_ok(["run", src, "-o", full, "-q", "--set", "simulation.duration=%r" % upto,
                "--set", "output.edges=false"], cwd=d)
        with open_file(full) as g, open_file(out) as f:
            for pop in ("exc", "inh"):
                a, b = f.spikes(pop), g.spikes(pop)
                check(np.array_equal(a.times, b.times) and np.array_equal(a.node_ids, b.node_ids),
                      "%s: the killed run's %d spikes equal the complete run's %d up to %g ms"
                      % (pop, len(a), len(b), upto))


def test_reading_a_training_file():
    with TempDir() as d:
        cfg = write(os.path.join(d, "wm.toml"), configs.TRAIN)
        out = os.path.join(d, "wm.h5")
        run_ok(["train", cfg, "-o", out, "-q"], cwd=d)
        with h5py.File(out, "r") as h, open_file(out) as f:
            check(f.is_training, "a training file")
            log = f.training_log()
            check_equal(list(log["step"]), [0, 1, 2], "log steps")
            for column in ("loss", "train_f1", "lr", "grad_norm", "recall_f1", "wall_s"):
                check(np.array_equal(log[column].to_numpy(), h["training"][column][()],
                                     equal_nan=True), "log column " + column)
            check(np.isnan(log["recall_f1"][0]) and np.isfinite(log["recall_f1"][1]),
                  "recall_f1 only where evaluated (every 2 steps)")
            rec = f.recall()
            check_equal(rec["raster"].shape, (3, 60, 48), "raster shape [M][T][N]")
            check(np.array_equal(rec["raster"][1], h["recall/raster"][1]), "raster")
            check(np.array_equal(rec["patterns"][()], h["patterns"][()]), "patterns")
            check(np.array_equal(rec["f1"], h["recall/f1"][()]), "per-pattern F1")
            check(np.array_equal(rec["pooled"], h["recall/pooled"][()]), "pooled")
            initial = f.recall("recall_initial")
            check(np.array_equal(initial["f1"], h["recall_initial/f1"][()]), "initial recall F1")
            e = f.edges("rec")
            check_equal(len(e), 48 * 48 * 5, "one edge per pair and tap")
            check_equal(f.summary["steps"], 3, "summary steps")
            check_equal(f.populations, [], "no spikes group in a training file")


def test_the_package_imports_without_the_compiled_module():
    # `import spikeline` loads neither h5py nor matplotlib (the report names
    # what is missing), and says that _core is absent.
    # The source tree's package has no compiled module beside it.
    code = ("import sys, spikeline; print(spikeline.HAVE_CORE, 'h5py' in sys.modules, "
            "'matplotlib' in sys.modules, spikeline.__version__)")
    env = dict(os.environ, PYTHONPATH=os.path.join(clitest.SOURCE_DIR, "python"))
    p = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=env)
    check_equal((p.returncode, p.stdout.split()), (0, ["False", "False", "False", "0.1.0"]),
                "import spikeline (stderr %s)" % p.stderr)
    # Without it, the in-process names say what to install.
    p = subprocess.run([sys.executable, "-c", "import spikeline; spikeline.Simulation"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    check(p.returncode != 0 and "needs the compiled module" in p.stderr
          and "pybind11-dev" in p.stderr, "Simulation without _core: %s" % p.stderr[-500:])
    check(spikeline.open_file is open_file, "open_file re-exported")


def test_neo_spike_trains():
    try:
        import neo  # noqa: F401
    except ImportError:
        raise clitest.Skip("no Neo (Debian package python3-neo; CI installs it)")
    with TempDir() as d:
        path = os.path.join(d, "foreign.h5")
        write_foreign_spikes(path)
        with open_file(path) as f:
            trains = f.spikes("cortex").to_neo()
        check_equal(len(trains), 6, "one SpikeTrain per neuron")
        t5 = trains[5]
        check_equal((t5.name, str(t5.units.dimensionality), list(t5.magnitude)),
                    ("cortex[5]", "ms", [0.5, 2.0, 9.0]), "neuron 5's train")
        check_equal((float(t5.t_start), float(t5.t_stop)), (0.0, 9.0), "t_start, t_stop")
        check_equal(t5.annotations, {"population": "cortex", "node_id": 5}, "annotations")
        check_equal(len(trains[1]), 0, "a silent neuron's train is empty")


def test_install_puts_the_package_on_the_interpreters_path():
    # setup.sh runs `cmake --install build --component python`: the package
    # lands in SPIKELINE_PYTHON_SITE, which must be on /usr/bin/python3's
    # sys.path without PYTHONPATH. Here it is staged under a prefix instead
    # of installed, and imported from there.
    build = os.path.dirname(os.path.dirname(BINARY))
    cache = {}
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if "=" in line and not line.startswith(("#", "//")):
                key, value = line.rstrip("\n").split("=", 1)
                cache[key.split(":")[0]] = value
    site, prefix = cache["SPIKELINE_PYTHON_SITE"], cache["CMAKE_INSTALL_PREFIX"]
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    p = subprocess.run([cache["SPIKELINE_PYTHON"], "-c", "import sys; print('\\n'.join(sys.path))"],
                       env=clean, stdout=subprocess.PIPE, text=True)
    check(site in p.stdout.splitlines(), "%s is not on the interpreter's sys.path:\n%s"
          % (site, p.stdout))
    with TempDir() as d:
        r = subprocess.run(["cmake", "--install", build, "--component", "python", "--prefix", d],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        check_equal(r.returncode, 0, "cmake --install (%s)" % r.stdout)
        staged = os.path.join(d, os.path.relpath(site, prefix)) if site.startswith(prefix + "/") \
            else None
        check(staged is not None, "the site %s lies under the prefix %s" % (site, prefix))
        files = sorted(os.listdir(os.path.join(staged, "spikeline")))
        expected = ["__init__.py", "files.py", "plots.py", "pynn", "report.py", "simulation.py",
                    "stats.py"]
        # The PyNN backend, and the .pth alias that makes pyNN.spikeline.
        check_equal(sorted(os.listdir(os.path.join(staged, "spikeline", "pynn"))),
                    sorted(f for f in os.listdir(os.path.join(clitest.SOURCE_DIR, "python", "spikeline",
                                                              "pynn")) if f.endswith(".py")),
                    "installed backend")
        check(os.path.isfile(os.path.join(staged, "spikeline_pynn.pth")) and
              os.path.isfile(os.path.join(staged, "_spikeline_pynn_alias.py")),
              "the pyNN.spikeline alias installed beside the package: %s" % os.listdir(staged))
        with_core = (cache.get("SPIKELINE_PYTHON_MODULE") == "ON"
                     and not cache.get("SPIKELINE_SANITIZE"))
        if with_core:
            core = [f for f in files if f.startswith("_core.") and f.endswith(".so")]
            check_equal(len(core), 1, "the compiled module installed (%s)" % files)
            expected = sorted(expected + core)
        check_equal(files, expected, "installed files")
        env = dict(clean, PYTHONPATH=staged)
        p = subprocess.run([cache["SPIKELINE_PYTHON"], "-c",
                            "import spikeline, spikeline.files; print(spikeline.__file__)"
                            + ("; print(spikeline.HAVE_CORE)")],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=d)
        lines = p.stdout.split()
        check_equal(lines[:1], [os.path.join(staged, "spikeline", "__init__.py")],
                    "the staged package imports (%s)" % p.stderr)
        check_equal(lines[1:], [str(with_core)], "the staged compiled module loads (or is absent)")


clitest.main(globals())
