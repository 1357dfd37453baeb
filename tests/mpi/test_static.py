"""Networks at 1, 2 and 4 MPI ranks and at 2 ranks x 2 threads give output
files bit-identical to one process (docs/mpi-design.md, slices 1 and 3):
spikes, traces, weight records (all of a projection's synapses, chosen ids
and chosen pairs), neuromodulators and the final edges; static networks of
every kind of connection rule, and plastic ones.

    test_static.py SPIKELINE SOURCE_DIR MPIEXEC NETWORK

NETWORK is one of the names in NETWORKS; each builds a config in a
temporary folder.
"""

import os
import subprocess
import sys

import mpitest

def example(name, duration_ms, strip=(), sets=(), extra=""):
    def make(tmp):
        with open(os.path.join(mpitest.SOURCE_DIR, "examples", name)) as f:
            text = f.read()
        for header in strip:
            text = mpitest.strip_tables(text, header)
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text + extra)
        args = [path, "-d", str(duration_ms)]
        for s in sets:
            args += ["--set", s]
        return args
    return make


def pd14(tmp):
    path = os.path.join(tmp, "pd14.toml")
    subprocess.run([sys.executable, os.path.join(mpitest.SOURCE_DIR, "bench", "make_pd14.py"),
                    "--scale", "0.02", "--output", path], check=True, capture_output=True)
    return [path, "-d", "100"]


def header(seed):
    """[simulation] and [output] of the networks written here: 300 ms."""
    return """
[simulation]
dt = 0.1
duration = 300.0
seed = %d

[output]
file = "out.h5"
""" % seed


LIF = "{ tau_m = 20.0, E_L = 0.0, V_th = 20.0, V_reset = 10.0, t_ref = 2.0 }"

# A network of fixed_outdegree rules (drawn source by source: each rank
# draws all and keeps the synapses onto its own neurons), with drawn
# weights and delays.
OUTDEGREE = header(5) + """
[[population]]
name = "drive"
model = "poisson_generator"
size = 300
params = { rate = 15.0 }

[[population]]
name = "exc"
model = "iaf_psc_delta"
size = 1000
params = LIF

[[population]]
name = "inh"
model = "iaf_psc_delta"
size = 250
params = LIF

[[projection]]
name = "drive"
source = "drive"
target = "exc"
rule = "fixed_outdegree"
outdegree = 60
weight = 5.0
delay = 1.0

[[projection]]
name = "drive_inh"
source = "drive"
target = "inh"
rule = "fixed_outdegree"
outdegree = 15
weight = 5.0
delay = 1.0

[[projection]]
name = "ee"
source = "exc"
target = "exc"
rule = "fixed_outdegree"
outdegree = 40
weight = { distribution = "normal", mean = 0.5, std = 0.1 }
delay = { distribution = "uniform", low = 0.5, high = 3.0 }

[[projection]]
name = "ei"
source = "exc"
target = "inh"
rule = "fixed_outdegree"
outdegree = 10
weight = 1.0
delay = 0.5

[[projection]]
name = "ie"
source = "inh"
target = "exc"
rule = "fixed_outdegree"
outdegree = 40
weight = -2.0
delay = { distribution = "uniform", low = 0.5, high = 2.0 }
""".replace("LIF", LIF)


def outdegree(tmp):
    path = os.path.join(tmp, "outdegree.toml")
    with open(path, "w") as f:
        f.write(OUTDEGREE)
    return [path]


def plugin_rules(tmp):
    """The outdegree network with two of its projections drawn by the C test
    plugin's rules of ABI 1.5 (tests/plugin/plugins/c_plugin.c): c_spread
    by source (each rank draws a share of the sources and sends each synapse
    to its target's rank), c_counted with per-target counts drawn for the
    whole projection; both with random draws, autapses off on ee."""
    plugin = os.path.join(os.environ["SPIKELINE_TEST_PLUGIN_DIR"], "libtest_plugin_ok.so")
    text = ('plugins = ["%s"]\n' % plugin) + OUTDEGREE
    text = text.replace('rule = "fixed_outdegree"\noutdegree = 40\nweight = { distribution',
                        'rule = "c_spread"\nparams = { fan = 40, random = 1 }\n'
                        'autapses = false\nweight = { distribution')
    text = text.replace('rule = "fixed_outdegree"\noutdegree = 40\nweight = -2.0',
                        'rule = "c_counted"\nparams = { total = 10000, random = 1 }\n'
                        'weight = -2.0')
    if text.count("c_spread") != 1 or text.count("c_counted") != 1:
        sys.exit("plugin_rules: the projections to replace were not found")
    path = os.path.join(tmp, "plugin_rules.toml")
    with open(path, "w") as f:
        f.write(text)
    return [path]


def plugin_modulated(tmp):
    """Distal reward with its ee projection learning through the test
    plugin's dopamine_hebb (ABI 1.4: reads the dopamine its rewards
    trigger, updated lazily, synced at the end, its `gated` variable
    recorded read-only every second), beside the built-in reward_stdp of
    ei and chosen (tests/plugin/plugins/modulated.cpp)."""
    plugin = os.path.join(os.environ["SPIKELINE_TEST_PLUGIN_DIR"], "libtest_plugin_modulated.so")
    with open(os.path.join(mpitest.SOURCE_DIR, "examples", "distal_reward.toml")) as f:
        text = ('plugins = ["%s"]\n' % plugin) + f.read()
    ee = text.index('name = "ee"')
    start = text.index("plasticity = {", ee)
    end = text.index("\n", start)
    text = (text[:start] + 'plasticity = { rule = "dopamine_hebb", modulator = "dopamine", '
            'eta = 0.002, tau_x = 20.0, tau_y = 20.0 }' + text[end:])
    old = 'projection = "ee"\ninterval = 600000.0'
    if old not in text:
        sys.exit("plugin_modulated: the ee weight record was not found")
    text = text.replace(old, 'projection = "ee"\ninterval = 1000.0\nvariables = ["gated"]')
    path = os.path.join(tmp, "plugin_modulated.toml")
    with open(path, "w") as f:
        f.write(text)
    return [path, "-d", "10000"]


def explicit(tmp):
    """Explicit edges written in the config: random pairs, some with their
    own weights and delays, one projection with weights drawn (from the one
    stream of the rule, in edge order) and multapses."""
    import numpy as np
    rng = np.random.default_rng(3)
    n_in, n = 200, 400

    def arr(values, fmt):
        return "[" + ", ".join(fmt % v for v in values) + "]"

    src = rng.integers(0, n_in, 4000)
    tgt = rng.integers(0, n, 4000)
    w = rng.uniform(3.0, 8.0, 4000)
    d = rng.integers(1, 20, 4000) / 10.0
    rsrc = rng.integers(0, n, 6000)
    rtgt = rng.integers(0, n, 6000)
    rtgt[:50] = rtgt[50:100]  # multapses
    rsrc[:50] = rsrc[50:100]
    text = header(9) + f"""
[[population]]
name = "drive"
model = "poisson_generator"
size = {n_in}
params = {{ rate = 20.0 }}

[[population]]
name = "net"
model = "iaf_psc_delta"
size = {n}
params = {LIF}

[[projection]]
name = "in"
source = "drive"
target = "net"
rule = "explicit"
edges = {{ source = {arr(src, '%d')}, target = {arr(tgt, '%d')}, weight = {arr(w, '%.3f')}, delay = {arr(d, '%.1f')} }}

[[projection]]
name = "rec"
source = "net"
target = "net"
rule = "explicit"
edges = {{ source = {arr(rsrc, '%d')}, target = {arr(rtgt, '%d')} }}
weight = {{ distribution = "uniform", low = -3.0, high = 1.5 }}
delay = {{ distribution = "uniform", low = 0.5, high = 2.5 }}
"""
    path = os.path.join(tmp, "explicit.toml")
    with open(path, "w") as f:
        f.write(text)
    return [path]


def sonata(tmp):
    """Explicit edges from SONATA files, read by target range (slice 5):
    one with the target index and per-edge weights and delays in two groups
    (each rank reads only its targets' edges), one without the index (each
    rank scans the target ids), and the indexed file again with weights
    drawn from a distribution (each target's stream, in the order of its
    edges: every rank reads only its targets' edges)."""
    import numpy as np
    rng = np.random.default_rng(5)
    n_in, n = 200, 400
    src = rng.integers(0, n_in, 6000)
    tgt = rng.integers(0, n, 6000)
    order = np.argsort(src, kind="stable")  # by source, as spikeline writes edges
    src, tgt = src[order], tgt[order]
    w = rng.uniform(3.0, 8.0, 6000)
    d = rng.integers(1, 20, 6000) / 10.0
    mpitest.write_sonata_edges(os.path.join(tmp, "in.h5"), "in", "drive", "net", src, tgt, w, d,
                       grouped=True)
    rsrc = rng.integers(0, n, 5000)
    rtgt = rng.integers(0, n, 5000)
    rw = rng.uniform(-3.0, 1.0, 5000)
    rd = rng.integers(5, 25, 5000) / 10.0
    mpitest.write_sonata_edges(os.path.join(tmp, "rec.h5"), "rec", "net", "net", rsrc, rtgt, rw, rd,
                       index=False)
    text = header(13) + f"""
[[population]]
name = "drive"
model = "poisson_generator"
size = {n_in}
params = {{ rate = 20.0 }}

[[population]]
name = "net"
model = "iaf_psc_delta"
size = {n}
params = {LIF}

[[projection]]
name = "in"
source = "drive"
target = "net"
rule = "explicit"
file = "in.h5"

[[projection]]
name = "rec"
source = "net"
target = "net"
rule = "explicit"
file = "rec.h5"

[[projection]]
name = "drawn"
source = "drive"
target = "net"
rule = "explicit"
file = "in.h5"
edge_population = "in"
weight = {{ distribution = "uniform", low = -1.0, high = 1.0 }}
"""
    path = os.path.join(tmp, "sonata.toml")
    with open(path, "w") as f:
        f.write(text)
    return [path]


PLASTIC_RECORDS = mpitest.COBA_RECORDS.replace("%", "%%") + """
[[record_weights]]
name = "pairs"
projection = "exc_to_exc"
sources = [%(sources)s]
targets = [%(targets)s]
interval = 50.0

[[record]]
population = "inh"
variables = ["V_m"]
interval = 5.0
"""


def plastic(tmp):
    """COBA with stdp and tsodyks_markram, and PLASTIC_RECORDS, whose pairs
    are synapses of exc_to_exc read from its edges (one process, nothing
    simulated): one onto a target of each quarter of 'exc'."""
    sets = ['projection.exc_to_exc.plasticity={rule="stdp", w_max=12.0, A_plus=0.5, '
            'A_minus=0.6}',
            'projection.exc_to_inh.plasticity={rule="tsodyks_markram", U=0.5, tau_rec=100.0}']
    args = example("coba.toml", 0, sets=sets)(tmp)
    edges = os.path.join(tmp, "edges.h5")
    r = mpitest.run(["run"] + args + ["-o", edges, "-q"], cwd=tmp)
    if r.returncode != 0:
        mpitest.fail("the run that writes the edges failed", r)
    import h5py
    with h5py.File(edges, "r") as f:
        group = f["edges/exc_to_exc"]
        src = group["source_node_id"][()]
        tgt = group["target_node_id"][()]
    sources, targets = [], []
    for quarter in range(4):
        i = int(((tgt >= quarter * 800) & (tgt < (quarter + 1) * 800)).argmax())
        sources.append(int(src[i]))
        targets.append(int(tgt[i]))
    extra = PLASTIC_RECORDS % {"sources": ", ".join(map(str, sources)),
                               "targets": ", ".join(map(str, targets))}
    return example("coba.toml", 300, sets=sets, extra=extra)(tmp)


NETWORKS = {
    "coba": example("coba.toml", 300),
    # (15.6 million synapses: their edges are left out, for time.)
    "brunel": example("brunel.toml", 150, sets=["output.edges=false"]),
    # Delays of 0.5 to 20 ms: windows of 5 steps, a calendar of 201 buckets.
    # Its [[record]] of V_m every 0.5 ms (traces of neurons on every rank).
    "delays": example("delays.toml", 300),
    # Event-driven neurons (iaf_psc_delta's lazy path), a smaller copy.
    "sparse_lif": example("sparse_lif.toml", 1000,
                          sets=["population.drive.size=20000", "population.net.size=20000",
                                "population.drive.params.rate=5.0"]),
    "pd14": pd14,
    # Izhikevich's distal reward (fixed_outdegree, explicit, reward_stdp,
    # neuron noise): rewards triggered by spike pairs on every rank, the
    # neuromodulator recorded by rank 0 (compared too). One reward in 40 s
    # (a window is one step of 1 ms: 40,000 exchanges per run).
    # Its weight records (every synapse of 'chosen' with its eligibility,
    # and of 'ee') are compared too.
    "distal_reward": example("distal_reward.toml", 40000),
    # Plasticity on (stdp, and short-term plasticity): rules keep their
    # state per partition, so nothing of it travels between ranks. Weights
    # recorded: chosen edge ids and chosen (source, target) pairs, whose
    # synapses lie on every rank; traces of neurons on every rank.
    "plastic": plastic,
    "outdegree": outdegree,
    "plugin_rules": plugin_rules,
    # A reward-modulated plugin rule (ABI 1.4) under MPI.
    "plugin_modulated": plugin_modulated,
    "explicit": explicit,
    "sonata": sonata,
    # COBA with stdp and tsodyks_markram and every delay 0.5 ms: a plastic
    # network whose window is 5 steps (its exchanges overlap computation).
    "plastic_delays": example(
        "coba.toml", 150,
        sets=['projection.exc_to_exc.plasticity={rule="stdp", w_max=12.0, A_plus=0.5, '
              'A_minus=0.6}',
              'projection.exc_to_inh.plasticity={rule="tsodyks_markram", U=0.5, '
              'tau_rec=100.0}'] +
             ["projection.%s.delay=0.5" % p
              for p in ("exc_to_exc", "exc_to_inh", "inh_to_exc", "inh_to_inh")],
        extra=mpitest.COBA_RECORDS),
}

# (ranks, threads per rank)
LAYOUTS = [(1, 1), (2, 1), (4, 1), (2, 2)]

# Networks whose window is 2 steps or more: besides LAYOUTS (where several
# ranks overlap the exchange with computation: SPIKELINE_OVERLAP's
# default), one process with the overlap's loop and several without it,
# each file identical to one process's without overlap. (ranks or None for
# no mpirun, threads, SPIKELINE_OVERLAP)
OVERLAP_NETWORKS = {"delays", "plastic_delays"}
OVERLAP_LAYOUTS = [(None, 1, "always"), (None, 2, "always"), (2, 1, "never"), (4, 1, "never")]


def groups(path):
    import h5py
    with h5py.File(path, "r") as f:
        return ", ".join("/%s" % g for g in f if g != "provenance")


def main():
    network = mpitest.ARGS[0]
    with mpitest.temporary_dir() as tmp:
        args = ["run"] + NETWORKS[network](tmp)
        serial = os.path.join(tmp, "serial.h5")
        r = mpitest.run(args + ["-o", serial, "-q"], cwd=tmp)
        if r.returncode != 0:
            mpitest.fail("the serial run failed", r)
        found = mpitest.spikes(serial)
        total = sum(len(v) for v in found.values())
        quiet = [name for name, v in found.items() if len(v) < 50]
        if quiet:
            mpitest.fail("the serial run has (almost) no spikes in %s: nothing to compare" % quiet)
        for ranks, threads in LAYOUTS:
            out = os.path.join(tmp, "k%d_t%d.h5" % (ranks, threads))
            r = mpitest.run(args + ["-o", out, "-q", "--threads", str(threads)], ranks=ranks, cwd=tmp)
            if r.returncode != 0:
                mpitest.fail("the run at %d ranks x %d threads failed" % (ranks, threads), r)
            # Rank 0 alone speaks: one summary line, one output line.
            if r.stderr.count("spikeline: complete") != 1:
                mpitest.fail("expected one summary line, from rank 0", r)
            why = mpitest.same_output(serial, out)
            if why:
                mpitest.fail("%s: %d ranks x %d threads: %s" % (network, ranks, threads, why))
            print("ok %s: %d ranks x %d threads, the output identical (%d spikes; %s)"
                  % (network, ranks, threads, total, groups(serial)))
        if network not in OVERLAP_NETWORKS:
            return
        for ranks, threads, overlap in OVERLAP_LAYOUTS:
            out = os.path.join(tmp, "overlap_%s_%s_t%d.h5" % (overlap, ranks, threads))
            r = mpitest.run(args + ["-o", out, "-q", "--threads", str(threads)], ranks=ranks,
                            cwd=tmp, env={"SPIKELINE_OVERLAP": overlap})
            what = "%s ranks x %d threads, SPIKELINE_OVERLAP=%s" % (ranks or 1, threads, overlap)
            if r.returncode != 0:
                mpitest.fail("the run at %s failed" % what, r)
            why = mpitest.same_output(serial, out)
            if why:
                mpitest.fail("%s: %s: %s" % (network, what, why))
            print("ok %s: %s, the output identical" % (network, what))


main()
