"""The output file of `spikeline run`, read back with h5py: the SONATA layout
documented in io/include/spikeline/io/sonata_writer.hpp, the provenance, the
round trip of connectivity through /edges, and the informational commands
(inspect, validate, models, --version, --help).
"""

import glob
import json
import os
import re
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (Failure, TempDir, check, check_equal, expect_in,  # noqa: E402
                     run_ok, spikeline, text_attr, write)

DT = 0.1
DURATION = 200.0
SEED = 12345
SIZES = {"drive": 20, "exc": 30, "inh": 10}
RECORD_NODES = [0, 3, 17]
RECORD_VARS = ["V_m", "I_syn_ex"]
RECORD_INTERVAL = 1.0
WEIGHT_INTERVAL = 50.0

NETWORK = """\
[simulation]
dt = {dt}
duration = {duration}
seed = {seed}

[[population]]
name = "drive"
model = "poisson_generator"
size = {drive}
params = {{ rate = 100.0 }}

[[population]]
name = "exc"
model = "iaf_psc_exp"
size = {exc}
params = {{ tau_m = 10.0, t_ref = 2.0 }}

[[population]]
name = "inh"
model = "iaf_psc_delta"
size = {inh}

[[stimulus]]
name = "bias"
model = "dc_generator"
target = "exc"
nodes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
params = {{ amplitude = 500.0, start = 10.0 }}

{projections}

[[record]]
population = "exc"
variables = ["V_m", "I_syn_ex"]
nodes = [0, 3, 17]
interval = {interval}

[[record_weights]]
projection = "drive_to_exc"
interval = {weight_interval}
"""

PROJECTIONS = """\
[[projection]]
name = "drive_to_exc"
source = "drive"
target = "exc"
rule = "fixed_probability"
p = 0.3
weight = 150.0
delay = { distribution = "uniform", low = 0.5, high = 2.0 }

[[projection]]
name = "exc_to_inh"
source = "exc"
target = "inh"
rule = "fixed_indegree"
indegree = 5
weight = { distribution = "normal", mean = 4.0, std = 1.0 }
delay = 1.0

[[projection]]
name = "inh_to_exc"
source = "inh"
target = "exc"
rule = "all_to_all"
weight = -20.0
delay = 0.5
"""

# The same projections, loaded from the /edges of an earlier output file.
EXPLICIT_PROJECTIONS = """\
[[projection]]
name = "drive_to_exc"
source = "drive"
target = "exc"
rule = "explicit"
file = "{file}"
edge_population = "drive_to_exc"

[[projection]]
name = "exc_to_inh"
source = "exc"
target = "inh"
rule = "explicit"
file = "{file}"
edge_population = "exc_to_inh"

[[projection]]
name = "inh_to_exc"
source = "inh"
target = "exc"
rule = "explicit"
file = "{file}"
edge_population = "inh_to_exc"
"""


def network_config(projections=PROJECTIONS):
    return NETWORK.format(dt=DT, duration=DURATION, seed=SEED, interval=RECORD_INTERVAL,
                          weight_interval=WEIGHT_INTERVAL, projections=projections, **SIZES)


def run_network(tmp, name="net", projections=PROJECTIONS, extra=()):
    cfg = write(os.path.join(tmp, name + ".toml"), network_config(projections))
    out = os.path.join(tmp, name + ".h5")
    r = run_ok(["run", cfg, "-o", out, "-q"] + list(extra), cwd=tmp)
    check(os.path.exists(out), "no output file")
    return cfg, out, r


def units(obj):
    check("units" in obj.attrs, "%s has no units attribute" % obj.name)
    return text_attr(obj.attrs["units"])


def on_grid(times_ms, dt=DT):
    steps = np.asarray(times_ms, dtype=np.float64) / dt
    return np.all(np.abs(steps - np.round(steps)) < 1e-6 * np.maximum(1, np.abs(steps)))


# --------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------

def test_root_and_spikes():
    with TempDir() as tmp:
        _, out, _ = run_network(tmp)
        with h5py.File(out, "r") as f:
            check_equal(int(f.attrs["magic"]), 0x0A7A, "root attribute magic")
            version = f.attrs["version"]
            check_equal(version.dtype, np.dtype(np.uint32), "version dtype")
            check_equal(list(version), [0, 1], "root attribute version")
            check_equal(sorted(f["spikes"].keys()), sorted(SIZES), "spike populations")
            for pop, size in SIZES.items():
                g = f["spikes"][pop]
                ts, ids = g["timestamps"], g["node_ids"]
                check_equal(ts.dtype, np.dtype(np.float64), pop + " timestamps dtype")
                check_equal(ids.dtype, np.dtype(np.uint64), pop + " node_ids dtype")
                check_equal(units(ts), "ms", pop + " timestamps units")
                check_equal(ts.shape, ids.shape, pop + " timestamps/node_ids lengths")
                enum = h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype)
                check(enum is not None, pop + ": sorting is not an enum")
                inverse = {v: k for k, v in enum.items()}
                check_equal(inverse[int(g.attrs["sorting"])], "by_time", pop + " sorting")
                check_equal(int(g.attrs["node_count"]), size, pop + " node_count")
                t, n = ts[()], ids[()]
                check(len(t) > 0, pop + " has no spikes")
                check(np.all(np.diff(t) >= 0), pop + " timestamps are not sorted")
                check(np.all(n < size), pop + " node id >= population size")
                check(np.all(t > 0) and np.all(t <= DURATION),
                      pop + " spike times outside (0, duration]")
                check(on_grid(t), pop + " spike times off the dt grid")
            # Plausibility: the driven neurons 0..9 of exc fire; the Poisson
            # drive has about 20 * 100 Hz * 0.2 s = 400 spikes.
            t, n = f["spikes"]["exc"]["timestamps"][()], f["spikes"]["exc"]["node_ids"][()]
            check(set(range(10)) <= set(n.tolist()), "not every DC-driven exc neuron fired")
            check(np.all(t[n < 10] > 10.0), "a DC-driven neuron fired before the DC started")
            drive = len(f["spikes"]["drive"]["timestamps"])
            check(250 < drive < 550, "poisson drive gave %d spikes, expected about 400" % drive)


def test_report():
    with TempDir() as tmp:
        _, out, _ = run_network(tmp)
        with h5py.File(out, "r") as f:
            check_equal(list(f["report"].keys()), ["exc"], "report populations")
            g = f["report"]["exc"]
            data = g["data"]
            frames = int(round(DURATION / RECORD_INTERVAL))
            columns = len(RECORD_NODES) * len(RECORD_VARS)
            check_equal(data.dtype, np.dtype(np.float32), "report data dtype")
            check_equal(data.shape, (frames, columns), "report data shape")
            m = g["mapping"]
            check_equal(m["node_ids"].dtype, np.dtype(np.uint64), "mapping/node_ids dtype")
            check_equal(list(m["node_ids"][()]), RECORD_NODES, "mapping/node_ids")
            ip = m["index_pointers"][()]
            check_equal(len(ip), len(RECORD_NODES) + 1, "index_pointers length (N+1)")
            check_equal(list(ip), [0, 2, 4, 6], "index_pointers")
            check_equal(list(m["element_ids"][()]), [0, 1, 0, 1, 0, 1], "element_ids")
            time = m["time"][()]
            check_equal(len(time), 3, "mapping/time length")
            check_equal(units(m["time"]), "ms", "mapping/time units")
            start, stop, step = time
            check(abs(step - RECORD_INTERVAL) < 1e-9, "time step %r" % step)
            check(abs(start - RECORD_INTERVAL) < 1e-9, "time start %r (one interval in)" % start)
            check(abs(stop - (start + frames * step)) < 1e-6, "time stop %r" % stop)
            vars_attr = [text_attr(v) for v in data.attrs["variables"]]
            check_equal(vars_attr[:2], RECORD_VARS, "data attribute variables")
            d = data[()]
            check(np.all(np.isfinite(d)), "non-finite values in the report")
            v_m, i_ex = d[:, 0::2], d[:, 1::2]
            # V_m of iaf_psc_exp starts at E_L = -70 and never exceeds V_th = -55
            # in a recorded frame (a spike resets it within the step).
            check(np.all(v_m <= -55.0 + 1e-4), "V_m above threshold: max %g" % v_m.max())
            check(np.all(v_m >= -120.0), "V_m implausibly low: min %g" % v_m.min())
            check(abs(v_m[0, 1] - (-70.0)) < 1.0, "V_m of node 3 at 1 ms is %g" % v_m[0, 1])
            check(np.all(i_ex >= 0), "I_syn_ex negative")
            check(i_ex.max() > 0, "I_syn_ex never rises: no excitatory input arrived")
            # Node 0 is DC-driven: its V_m must change (charge, reset) over time.
            check(np.ptp(v_m[:, 0]) > 5.0, "V_m of the DC-driven node 0 hardly moves")


def test_edges():
    with TempDir() as tmp:
        _, out, _ = run_network(tmp)
        with h5py.File(out, "r") as f:
            check_equal(sorted(f["edges"].keys()), ["drive_to_exc", "exc_to_inh", "inh_to_exc"],
                        "edge populations")
            expect = {"drive_to_exc": ("drive", "exc"), "exc_to_inh": ("exc", "inh"),
                      "inh_to_exc": ("inh", "exc")}
            for name, (src_pop, tgt_pop) in expect.items():
                g = f["edges"][name]
                src, tgt = g["source_node_id"], g["target_node_id"]
                check_equal(src.dtype, np.dtype(np.uint64), name + " source_node_id dtype")
                check_equal(tgt.dtype, np.dtype(np.uint64), name + " target_node_id dtype")
                check_equal(text_attr(src.attrs["node_population"]), src_pop,
                            name + " source node_population")
                check_equal(text_attr(tgt.attrs["node_population"]), tgt_pop,
                            name + " target node_population")
                n = len(src)
                check(n > 0, name + " has no edges")
                for key, dtype in (("edge_type_id", np.int64), ("edge_group_id", np.uint32),
                                   ("edge_group_index", np.uint64)):
                    check_equal(g[key].dtype, np.dtype(dtype), name + " " + key + " dtype")
                    check_equal(len(g[key]), n, name + " " + key + " length")
                check(np.all(g["edge_type_id"][()] == 0), name + " edge_type_id not all 0")
                check(np.all(g["edge_group_id"][()] == 0), name + " edge_group_id not all 0")
                check(np.array_equal(g["edge_group_index"][()], np.arange(n)),
                      name + " edge_group_index is not 0..n-1")
                w, d = g["0"]["syn_weight"], g["0"]["delay"]
                check_equal(w.dtype, np.dtype(np.float32), name + " syn_weight dtype")
                check_equal(d.dtype, np.dtype(np.float32), name + " delay dtype")
                check_equal(units(d), "ms", name + " delay units")
                check_equal((len(w), len(d)), (n, n), name + " weight/delay lengths")
                s, t = src[()], tgt[()]
                check(np.all(s < SIZES[src_pop]) and np.all(t < SIZES[tgt_pop]),
                      name + " node id out of range")
                check(on_grid(d[()]), name + " delays off the grid")

            # Rule-specific content.
            g = f["edges"]["drive_to_exc"]
            w, d = g["0"]["syn_weight"][()], g["0"]["delay"][()]
            check(np.all(w == np.float32(150.0)), "drive_to_exc weights are not 150")
            check(d.min() >= 0.5 - 1e-6 and d.max() <= 2.0 + 1e-6, "drive_to_exc delay range")
            check(len(np.unique(np.round(d / DT))) > 5, "drive_to_exc delays are not spread")
            n = len(w)
            check(0.15 * 600 < n < 0.45 * 600, "drive_to_exc has %d edges for p = 0.3 of 600" % n)
            g = f["edges"]["exc_to_inh"]
            counts = np.bincount(g["target_node_id"][()].astype(np.int64), minlength=SIZES["inh"])
            check(np.all(counts == 5), "fixed_indegree 5 gave in-degrees %s" % counts.tolist())
            check(np.all(g["0"]["delay"][()] == np.float32(1.0)), "exc_to_inh delays are not 1 ms")
            w = g["0"]["syn_weight"][()]
            check(np.std(w) > 0.3, "exc_to_inh normal weights have no spread")
            g = f["edges"]["inh_to_exc"]
            check_equal(len(g["source_node_id"]), SIZES["inh"] * SIZES["exc"],
                        "all_to_all edge count")
            pairs = set(zip(g["source_node_id"][()].tolist(), g["target_node_id"][()].tolist()))
            check_equal(len(pairs), SIZES["inh"] * SIZES["exc"], "all_to_all distinct pairs")
            check(np.all(g["0"]["syn_weight"][()] == np.float32(-20.0)), "inh_to_exc weights")


def test_edge_indices_optional():
    """output.edge_indices = false writes the same edges without SONATA's
    indices; by default each node's ranges list exactly its edges."""
    with TempDir() as tmp:
        _, with_index, _ = run_network(tmp, "indexed")
        _, without, _ = run_network(tmp, "plain", extra=["--set", "output.edge_indices=false"])
        with h5py.File(with_index, "r") as a, h5py.File(without, "r") as b:
            for name in a["edges"]:
                ga, gb = a["edges"][name], b["edges"][name]
                check("indices" in ga, name + ": no indices by default")
                check("indices" not in gb, name + ": indices written with edge_indices = false")
                for key in ("source_node_id", "target_node_id", "0/syn_weight", "0/delay"):
                    check(np.array_equal(ga[key][()], gb[key][()]), name + " " + key + " differs")
                tgt = ga["target_node_id"][()]
                idx = ga["indices/target_to_source"]
                nodes, runs = idx["node_id_to_ranges"][()], idx["range_to_edge_id"][()]
                for node in range(len(nodes)):
                    listed = [e for r in range(*nodes[node]) for e in range(*runs[r])]
                    check_equal(listed, np.flatnonzero(tgt == node).tolist(),
                                "%s: edges of target %d" % (name, node))
        cfg = os.path.join(tmp, "indexed.toml")
        r = spikeline(["run", cfg, "-o", os.path.join(tmp, "x.h5"), "-q",
                       "--set", "output.edge_indices=3"], cwd=tmp)
        clitest.expect_exit(r, 78)
        expect_in(r.stderr, "edge_indices", r=r)


def test_weight_snapshots():
    with TempDir() as tmp:
        _, out, _ = run_network(tmp)
        with h5py.File(out, "r") as f:
            g = f["weights"]["drive_to_exc"]
            n_edges = len(f["edges"]["drive_to_exc"]["source_node_id"])
            snapshots = int(DURATION / WEIGHT_INTERVAL)
            check_equal(g["data"].dtype, np.dtype(np.float32), "weights data dtype")
            check_equal(g["data"].shape, (snapshots, n_edges), "weights data shape")
            check_equal(units(g["time"]), "ms", "weights time units")
            check(np.allclose(g["time"][()], WEIGHT_INTERVAL * np.arange(1, snapshots + 1)),
                  "snapshot times %s" % g["time"][()].tolist())
            # No plasticity: every snapshot holds the final weights.
            final = f["edges"]["drive_to_exc"]["0"]["syn_weight"][()]
            for k in range(snapshots):
                check(np.array_equal(g["data"][k], final), "snapshot %d differs" % k)


def test_weight_snapshots_from_t0_until_stop():
    """[[record_weights]] start = 0: the first snapshot holds the initial
    weights at time 0; stop ends the samples (NEST's start/stop)."""
    from test_plasticity import CONFIG as STDP
    window = "interval = 500.0\nstart = 0.0\nstop = 1500.0\n"
    text = (STDP % "stdp").replace("interval = 500.0\n", window)
    with TempDir() as tmp:
        cfg = write(os.path.join(tmp, "stdp.toml"), text)
        out = os.path.join(tmp, "out.h5")
        run_ok(["run", cfg, "-o", out, "-q"], cwd=tmp)
        # One step: no spike can arrive (delays >= 0.5 ms), so the final
        # weights of /edges are the initial ones.
        first = os.path.join(tmp, "first.h5")
        run_ok(["run", cfg, "-o", first, "-q", "-d", "0.1"], cwd=tmp)
        with h5py.File(out, "r") as f, h5py.File(first, "r") as g:
            w = f["weights/learned/data"][()]
            check(np.array_equal(f["weights/learned/time"][()], [0.0, 500.0, 1000.0, 1500.0]),
                  "snapshot times %s" % f["weights/learned/time"][()].tolist())
            initial = g["edges/learned/0/syn_weight"][()]
            check(np.array_equal(w[0], initial), "the t = 0 snapshot is not the initial weights")
            check(np.any(w[-1] != w[0]), "the weights did not move: the test means nothing")
            check_equal(len(g["weights/learned/time"][()]), 1, "snapshots of a one-step run")


def test_report_start_and_stop():
    """[[record]] start and stop: frames at start, start + interval, ...
    <= stop, the same values as an unbounded record's."""
    with TempDir() as tmp:
        _, full, _ = run_network(tmp, "full")
        text = network_config().replace("nodes = [0, 3, 17]\n",
                                        "nodes = [0, 3, 17]\nstart = 10.0\nstop = 50.5\n")
        cfg = write(os.path.join(tmp, "window.toml"), text)
        out = os.path.join(tmp, "window.h5")
        run_ok(["run", cfg, "-o", out, "-q"], cwd=tmp)
        with h5py.File(out, "r") as f, h5py.File(full, "r") as g:
            data = f["report/exc/data"][()]
            check_equal(list(f["report/exc/mapping/time"][()]), [10.0, 51.0, 1.0], "mapping/time")
            check_equal(data.shape[0], 41, "frames 10, 11, ..., 50 ms")
            check(np.array_equal(data, g["report/exc/data"][9:50]),
                  "the frames differ from those of the unbounded record")


def test_provenance():
    with TempDir() as tmp:
        cfg, out, r = run_network(tmp, extra=["--threads", "2"])
        version = run_ok(["--version"]).stdout.splitlines()[0].split()[-1]
        with h5py.File(out, "r") as f:
            p = f["provenance"]
            check_equal(text_attr(p["status"][()]), "complete", "status")
            check_equal(int(p["seed"][()]), SEED, "seed")
            check_equal(int(p["threads"][()]), 2, "threads")
            check(abs(float(p["dt_ms"][()]) - DT) < 1e-12, "dt_ms")
            check(abs(float(p["simulated_ms"][()]) - DURATION) < 1e-9, "simulated_ms")
            check_equal(text_attr(p["version"][()]), version, "version")
            cmd = text_attr(p["command_line"][()])
            check("run" in cmd and cfg in cmd and "--threads 2" in cmd, "command_line %r" % cmd)
            config = text_attr(p["config"][()])
            for fragment in ("poisson_generator", "drive_to_exc", "iaf_psc_exp", str(SEED)):
                expect_in(config, fragment, "provenance/config")
            # The stored config is the resolved one: --threads 2 is in it.
            check(re.search(r"threads\s*=\s*2", config), "config lacks threads = 2:\n" + config)
            summary = json.loads(text_attr(p["summary"][()]))
            check_equal(summary["status"], "complete", "summary status")
            # The process's own peak memory (VmHWM): it holds the synapse
            # tables, and a small network's run is far from gigabytes.
            rss = summary["peak_rss_bytes"]
            check(max(summary["synapse_bytes"], 1 << 20) <= rss < 1 << 32,
                  "peak_rss_bytes %d (synapse_bytes %d)" % (rss, summary["synapse_bytes"]))
            counts = {q["name"]: q["spikes"] for q in summary["populations"]}
            for pop in SIZES:
                check_equal(counts[pop], len(f["spikes"][pop]["node_ids"]),
                            "summary spike count of " + pop)
        # The stored config alone reproduces the run.
        with h5py.File(out, "r") as f:
            stored = text_attr(f["provenance"]["config"][()])
        cfg2 = write(os.path.join(tmp, "stored.toml"), stored)
        out2 = os.path.join(tmp, "again.h5")
        run_ok(["run", cfg2, "-o", out2, "-q"], cwd=tmp)
        a, b = clitest.all_spikes(out), clitest.all_spikes(out2)
        for pop in SIZES:
            check(np.array_equal(a[pop][0], b[pop][0]) and np.array_equal(a[pop][1], b[pop][1]),
                  "rerunning /provenance/config gives different spikes in " + pop)


QUOTED_NAMES = """\
[simulation]
duration = 50.0

[[population]]
name = 'in"put\\'
model = "poisson_generator"
size = 10
params = { rate = 100.0 }

[[population]]
name = 'say"hi"\\n'
model = "iaf_psc_delta"
size = 5

[[neuromodulator]]
name = 'dop"amine\\'

[[projection]]
name = "p"
source = 'in"put\\'
target = 'say"hi"\\n'
rule = "all_to_all"
weight = 5.0
delay = 1.0
"""


def test_summary_json_with_quotes_and_backslashes_in_names():
    """Names a user chose go into /provenance/summary as JSON strings:
    quotes and backslashes are escaped, so json.loads reads the names back
    intact."""
    with TempDir() as tmp:
        cfg = write(os.path.join(tmp, "q.toml"), QUOTED_NAMES)
        out = os.path.join(tmp, "q.h5")
        run_ok(["run", cfg, "-o", out, "-q"], cwd=tmp)
        with h5py.File(out, "r") as f:
            text = text_attr(f["provenance"]["summary"][()])
        try:
            summary = json.loads(text)
        except ValueError as e:
            raise Failure("the summary is not JSON (%s): %s" % (e, text))
        check_equal([p["name"] for p in summary["populations"]], ['in"put\\', 'say"hi"\\n'],
                    "population names")
        check_equal(list(summary["rewards"]), ['dop"amine\\'], "neuromodulator names")
        check_equal(summary["populations"][0]["size"], 10, "size")


def test_output_name_with_tab_quote_and_backslash():
    """-o is a value, not TOML text: a file name holding a TAB, a '"' and a
    backslash (and a '\\n' that TOML would read as a newline) is the name
    of the file written, exactly."""
    with TempDir() as tmp:
        cfg = write(os.path.join(tmp, "q.toml"), QUOTED_NAMES)
        name = 'a\tb"c\\d\\n.h5'
        r = run_ok(["run", cfg, "-o", name, "-q"], cwd=tmp)
        check_equal(sorted(os.listdir(tmp)), sorted(["q.toml", name]), "files written")
        expect_in(r.stderr, "output written to " + name, r=r)
        check_equal(clitest.status_of(os.path.join(tmp, name)), "complete", "status")
        r = spikeline(["run", cfg, "-o", "", "-q"], cwd=tmp)
        clitest.expect_exit(r, clitest.EX_USAGE)
        expect_in(r.stderr, "--output: the file name is empty", r=r)


def test_edges_round_trip():
    """A second run that reads every projection back from the first run's
    /edges (rule = "explicit") gives the same connectivity and, with the same
    seed, the same spikes."""
    with TempDir() as tmp:
        _, first, _ = run_network(tmp, "first")
        explicit = EXPLICIT_PROJECTIONS.format(file=first)
        _, second, _ = run_network(tmp, "second", projections=explicit)
        with h5py.File(first, "r") as a, h5py.File(second, "r") as b:
            for name in a["edges"]:
                for key in ("source_node_id", "target_node_id", "0/syn_weight", "0/delay"):
                    x, y = a["edges"][name][key][()], b["edges"][name][key][()]
                    check(np.array_equal(x, y), "edges %s/%s differ after the round trip"
                          % (name, key))
            for pop in SIZES:
                ta, ia = clitest.read_spikes(a, pop)
                tb, ib = clitest.read_spikes(b, pop)
                check(len(ta) > 0, "no spikes in " + pop)
                check(np.array_equal(ta, tb) and np.array_equal(ia, ib),
                      "%s: %d spikes from the drawn network, %d from the loaded edges"
                      % (pop, len(ta), len(tb)))


def test_edges_round_trip_overrides_weight():
    """A `weight` key on an explicit projection replaces the file's syn_weight."""
    with TempDir() as tmp:
        _, first, _ = run_network(tmp, "first")
        explicit = EXPLICIT_PROJECTIONS.format(file=first).replace(
            'edge_population = "inh_to_exc"', 'edge_population = "inh_to_exc"\nweight = -1.5')
        _, second, _ = run_network(tmp, "second", projections=explicit)
        with h5py.File(second, "r") as f:
            w = f["edges"]["inh_to_exc"]["0"]["syn_weight"][()]
            check(np.all(w == np.float32(-1.5)), "weight override ignored: %s" % np.unique(w))
            check_equal(len(w), SIZES["inh"] * SIZES["exc"], "edge count")


# --------------------------------------------------------------------------
# inspect, validate, models, --version, --help
# --------------------------------------------------------------------------

def parse_inspect_spikes(text):
    """{population: (nodes, spikes)} from the 'spikes' table of inspect."""
    lines = text.split("\n")
    check("spikes" in lines, "inspect output has no spikes section:\n" + text)
    out = {}
    k = lines.index("spikes") + 1
    header = lines[k].split()
    check(header[:3] == ["population", "nodes", "spikes"], "spikes header %r" % lines[k])
    for line in lines[k + 1:]:
        if not line.strip():
            break
        cells = line.split()
        out[cells[0]] = (int(cells[1]), int(cells[2]))
    return out


def test_inspect_matches_h5py():
    with TempDir() as tmp:
        _, out, _ = run_network(tmp)
        r = run_ok(["inspect", out])
        check(re.search(r"^status\s+complete\s*$", r.stdout, re.M), "status line:\n" + r.stdout)
        expect_in(r.stdout, "seed      %d" % SEED, "inspect stdout")
        table = parse_inspect_spikes(r.stdout)
        with h5py.File(out, "r") as f:
            for pop, size in SIZES.items():
                check(pop in table, "inspect does not list %s:\n%s" % (pop, r.stdout))
                check_equal(table[pop], (size, len(f["spikes"][pop]["node_ids"])),
                            "inspect (nodes, spikes) of " + pop)
        for name in ("drive_to_exc", "exc_to_inh", "inh_to_exc"):
            expect_in(r.stdout, name, "inspect stdout")


def test_validate_examples():
    files = sorted(glob.glob(os.path.join(clitest.SOURCE_DIR, "examples", "*.toml")))
    check(files, "no examples/*.toml")
    with TempDir() as tmp:
        for path in files:
            r = spikeline(["validate", path], cwd=tmp)
            if r.returncode != 0:
                raise Failure("validate %s failed\n%s" % (path, r.describe()))
            expect_in(r.stdout, "valid", "validate stdout", r)
            check(not os.listdir(tmp), "validate wrote files: %s" % os.listdir(tmp))


MODELS = {
    # model: (kind, [(parameter, unit)], [(state variable, unit)])
    "iaf_psc_delta": ("neuron", [("C_m", "pF"), ("tau_m", "ms"), ("V_th", "mV"), ("I_e", "pA")],
                      [("V_m", "mV")]),
    "iaf_psc_exp": ("neuron", [("tau_syn_ex", "ms"), ("V_reset", "mV"), ("C_m", "pF")],
                    [("V_m", "mV"), ("I_syn_ex", "pA"), ("I_syn_in", "pA")]),
    "iaf_cond_exp": ("neuron", [("g_L", "nS"), ("E_ex", "mV"), ("tau_syn_in", "ms")],
                     [("V_m", "mV"), ("g_ex", "nS"), ("g_in", "nS")]),
    "izhikevich": ("neuron", [("a", None), ("c", "mV"), ("V_th", "mV")], [("V_m", "mV")]),
    "lif_discrete": ("neuron", [("beta", None), ("theta", None)], [("u", None), ("s", None)]),
    "poisson_generator": ("generator", [("rate", "Hz"), ("start", "ms"), ("stop", "ms")], []),
    "spike_generator": ("generator", [("spike_times", "ms")], []),
    "dc_generator": ("stimulus", [("amplitude", "pA"), ("start", "ms"), ("stop", "ms")], []),
    "poisson_input": ("stimulus", [("rate", "Hz"), ("sources", None), ("weight", None),
                                   ("start", "ms"), ("stop", "ms")], []),
    "step_current": ("stimulus", [("amplitude_times", "ms"), ("amplitude_values", "pA")], []),
    "ac_current": ("stimulus", [("amplitude", "pA"), ("offset", "pA"), ("frequency", "Hz"),
                                ("phase", "deg"), ("start", "ms"), ("stop", "ms")], []),
    "noise_current": ("stimulus", [("mean", "pA"), ("std", "pA"), ("dt", "ms"),
                                   ("start", "ms"), ("stop", "ms")], []),
}


def model_section(text, name):
    m = re.search(r"^%s \((\w+)\)\n(.*?)(?=^\S|\Z)" % re.escape(name), text, re.M | re.S)
    check(m, "models output has no section for %s:\n%s" % (name, text[:3000]))
    return m.group(1), m.group(2)


def test_models_lists_every_model():
    r = run_ok(["models"])
    for name, (kind, params, state) in MODELS.items():
        got_kind, body = model_section(r.stdout, name)
        check_equal(got_kind, kind, name + " kind")
        expect_in(body, "parameters:", name + " section")
        for p, unit in params:
            pattern = r"^\s+%s\s+\S+\s+%s\s" % (re.escape(p), re.escape(unit)) if unit \
                else r"^\s+%s\s" % re.escape(p)
            check(re.search(pattern, body, re.M), "%s: no parameter line %s [%s]:\n%s"
                  % (name, p, unit, body))
        if state:
            expect_in(body, "state variables:", name + " section")
            for v, unit in state:
                pattern = r"^\s+%s\s+%s\s" % (re.escape(v), re.escape(unit)) if unit \
                    else r"^\s+%s\s" % re.escape(v)
                check(re.search(pattern, body, re.M), "%s: no state variable line %s [%s]:\n%s"
                      % (name, v, unit, body))
    listed = re.findall(r"^(\w+) \((?:neuron|generator|stimulus)\)$", r.stdout, re.M)
    check_equal(sorted(listed), sorted(MODELS), "models listed")


def test_models_single():
    r = run_ok(["models", "iaf_cond_exp"])
    listed = re.findall(r"^(\w+) \(\w+\)$", r.stdout, re.M)
    check_equal(listed, ["iaf_cond_exp"], "models iaf_cond_exp lists")
    expect_in(r.stdout, "g_L", "stdout")


def test_version():
    r = run_ok(["--version"])
    # The version, then whether runs of several processes were built in
    # ("MPI: no", or the MPI library when a launcher started it).
    check(re.fullmatch(r"spikeline \d+\.\d+\.\d+\S*\nMPI: (no|built in)\n", r.stdout),
          "--version: %r" % r.stdout)
    check_equal(run_ok(["-V"]).stdout, r.stdout, "-V")


def test_help():
    r = run_ok(["--help"])
    expect_in(r.stdout, "usage: spikeline <command>", "--help stdout", r)
    check_equal(run_ok(["help"]).stdout, r.stdout, "help")
    for cmd, words in (("run", ["--threads", "--seed", "--duration", "--output", "--set"]),
                       ("validate", ["--set"]), ("models", []), ("inspect", [])):
        for flag in ("--help", "-h"):
            h = run_ok([cmd, flag])
            expect_in(h.stdout, "usage: spikeline %s" % cmd, "%s %s stdout" % (cmd, flag), h)
            for w in words:
                expect_in(h.stdout, w, "%s --help stdout" % cmd, h)


if __name__ == "__main__":
    clitest.main(globals())
