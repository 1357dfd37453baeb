"""Determinism: one config and one seed give bit-identical results whatever
the thread count, the partitioning, or the run; another seed gives other
results.

The network mixes the engine's paths: a COBA-like conductance network of
1000 iaf_cond_exp neurons (stepped every step) driven by Poisson input, and
a sparse iaf_psc_delta network (event-driven) with heterogeneous delays
drawn uniformly on the grid between 0.1 and 2.0 ms, also Poisson-driven.
Spikes (timestamps and node ids), the drawn connectivity (/edges) and a
membrane-potential trace are compared exactly.
"""

import os
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import Failure, TempDir, check, run_ok, write  # noqa: E402

SEED = 4242
DURATION = 500.0

CONFIG = """\
[simulation]
dt = 0.1
duration = {duration}
seed = {seed}

[output]
flush_interval = 100.0

# --- a COBA-like network: 800 exc + 200 inh, p = 0.08 (80 inputs each, as in
# the 4000-neuron benchmark with p = 0.02), random initial state.
[[population]]
name = "exc"
model = "iaf_cond_exp"
size = 800
params = {{ C_m = 200.0, g_L = 10.0, E_L = -60.0, V_reset = -60.0, V_th = -50.0, t_ref = 5.0, E_ex = 0.0, E_in = -80.0, tau_syn_ex = 5.0, tau_syn_in = 10.0 }}
initial = {{ V_m = {{ distribution = "normal", mean = -58.0, std = 5.0 }}, g_ex = {{ distribution = "uniform", low = 0.0, high = 20.0 }} }}

[[population]]
name = "inh"
model = "iaf_cond_exp"
size = 200
params = {{ C_m = 200.0, g_L = 10.0, E_L = -60.0, V_reset = -60.0, V_th = -50.0, t_ref = 5.0, E_ex = 0.0, E_in = -80.0, tau_syn_ex = 5.0, tau_syn_in = 10.0 }}
initial = {{ V_m = {{ distribution = "normal", mean = -58.0, std = 5.0 }} }}

[[population]]
name = "noise"
model = "poisson_generator"
size = 100
params = {{ rate = 20.0 }}

[[projection]]
source = "exc"
target = "exc"
rule = "fixed_probability"
p = 0.08
weight = 1.5
delay = 0.1

[[projection]]
source = "exc"
target = "inh"
rule = "fixed_probability"
p = 0.08
weight = 1.5
delay = 0.1

[[projection]]
source = "inh"
target = "exc"
rule = "fixed_probability"
p = 0.08
weight = -17.0
delay = 0.1

[[projection]]
source = "inh"
target = "inh"
rule = "fixed_probability"
p = 0.08
weight = -17.0
delay = 0.1

[[projection]]
source = "noise"
target = "exc"
rule = "fixed_indegree"
indegree = 10
weight = {{ distribution = "normal", mean = 3.0, std = 0.5, low = 0.0 }}
delay = {{ distribution = "uniform", low = 0.1, high = 1.0 }}

[[projection]]
source = "noise"
target = "inh"
rule = "fixed_indegree"
indegree = 10
weight = 3.0
delay = 0.5

# --- a sparse current-based delta network with heterogeneous delays.
[[population]]
name = "sparse"
model = "iaf_psc_delta"
size = 500
params = {{ tau_m = 20.0, t_ref = 2.0, V_th = -55.0, V_reset = -70.0, E_L = -70.0 }}
initial = {{ V_m = {{ distribution = "uniform", low = -70.0, high = -56.0 }} }}

[[population]]
name = "input"
model = "poisson_generator"
size = 200
params = {{ rate = 50.0 }}

[[projection]]
source = "input"
target = "sparse"
rule = "fixed_probability"
p = 0.1
weight = 2.0
delay = {{ distribution = "uniform", low = 0.1, high = 2.0 }}

[[projection]]
source = "sparse"
target = "sparse"
rule = "fixed_outdegree"
outdegree = 20
autapses = false
weight = {{ distribution = "uniform", low = -1.5, high = 1.5 }}
delay = {{ distribution = "uniform", low = 0.1, high = 2.0 }}

[[record]]
population = "exc"
variables = ["V_m", "g_ex"]
nodes = [0, 1, 399, 799]

[[record]]
population = "sparse"
variables = ["V_m"]
nodes = [0, 250, 499]
interval = 0.5
"""

POPULATIONS = ["exc", "inh", "noise", "sparse", "input"]


class Output:
    """Everything compared between runs, read from one output file."""

    def __init__(self, path):
        with h5py.File(path, "r") as f:
            self.spikes = {p: clitest.read_spikes(f, p) for p in POPULATIONS}
            self.edges = {}
            for name in f["edges"]:
                g = f["edges"][name]
                self.edges[name] = tuple(g[k][()] for k in (
                    "source_node_id", "target_node_id", "0/syn_weight", "0/delay"))
            self.reports = {p: f["report"][p]["data"][()] for p in f["report"]}

    def differences(self, other):
        out = []
        for p in POPULATIONS:
            (t1, n1), (t2, n2) = self.spikes[p], other.spikes[p]
            if not (np.array_equal(t1, t2) and np.array_equal(n1, n2)):
                first = next((k for k in range(min(len(t1), len(t2)))
                              if t1[k] != t2[k] or n1[k] != n2[k]), min(len(t1), len(t2)))
                out.append("spikes of %s: %d vs %d, first difference at index %d"
                           % (p, len(t1), len(t2), first))
        for name in self.edges:
            if name not in other.edges or not all(
                    np.array_equal(a, b) for a, b in zip(self.edges[name], other.edges[name])):
                out.append("edges %s" % name)
        for p in self.reports:
            if p not in other.reports or not np.array_equal(self.reports[p], other.reports[p]):
                out.append("report of %s" % p)
        return out


_cache = {}


def run(label, extra=(), seed=SEED):
    """The output of one run, cached by its arguments."""
    key = (tuple(extra), seed)
    if key not in _cache:
        with TempDir() as tmp:
            cfg = write(os.path.join(tmp, "net.toml"), CONFIG.format(duration=DURATION, seed=seed))
            out = os.path.join(tmp, "out.h5")
            run_ok(["run", cfg, "-o", out, "-q"] + list(extra), cwd=tmp, timeout=300)
            _cache[key] = Output(out)
    return _cache[key]


def baseline():
    return run("threads 1", ["--threads", "1"])


def test_baseline_is_meaningful():
    """The comparison has something to compare: every population spikes, the
    sparse network's delays are heterogeneous, both networks are active."""
    b = baseline()
    for p in POPULATIONS:
        check(len(b.spikes[p][0]) > 100, "%s has only %d spikes" % (p, len(b.spikes[p][0])))
    d = b.edges["sparse_to_sparse"][3]
    steps = np.unique(np.round(d / 0.1).astype(int))
    check(steps.min() == 1 and steps.max() == 20 and len(steps) == 20,
          "sparse delays cover steps %s, expected all of 1..20" % steps.tolist())
    # The recurrent delta network responds to its input: more spikes in
    # 'sparse' than its 500 neurons would fire from the initial state alone.
    check(len(b.spikes["sparse"][0]) > 500, "sparse network barely active")


def same_as_baseline(label, extra):
    def test():
        diffs = baseline().differences(run(label, extra))
        if diffs:
            raise Failure("%s differs from --threads 1: %s" % (label, "; ".join(diffs)))
    return test


test_threads_2 = same_as_baseline("threads 2", ["--threads", "2"])
test_threads_4 = same_as_baseline("threads 4", ["--threads", "4"])
test_partitions_1 = same_as_baseline("partitions 1", ["--set", "simulation.partitions=1"])
test_partitions_7 = same_as_baseline("partitions 7", ["--set", "simulation.partitions=7"])
test_partitions_4_threads_2 = same_as_baseline(
    "partitions 4, threads 2", ["--set", "simulation.partitions=4", "--threads", "2"])
test_partitions_7_threads_4 = same_as_baseline(
    "partitions 7, threads 4", ["--set", "simulation.partitions=7", "--threads", "4"])


def test_repeated_run():
    _cache.pop((("--threads", "1"), SEED), None)
    first = baseline()
    _cache.pop((("--threads", "1"), SEED), None)
    second = baseline()
    diffs = first.differences(second)
    check(not diffs, "a repeated run differs: %s" % "; ".join(diffs))


def test_seed_on_command_line_equals_config_seed():
    diffs = baseline().differences(run("--seed", ["--threads", "1", "--seed", str(SEED)],
                                       seed=1))
    check(not diffs, "--seed %d differs from seed = %d in the config: %s"
          % (SEED, SEED, "; ".join(diffs)))


def test_different_seed_differs():
    other = run("seed+1", ["--threads", "1"], seed=SEED + 1)
    b = baseline()
    for p in POPULATIONS:
        (t1, n1), (t2, n2) = b.spikes[p], other.spikes[p]
        check(not (np.array_equal(t1, t2) and np.array_equal(n1, n2)),
              "seed %d and %d give the same spikes in %s" % (SEED, SEED + 1, p))
    for name in ("exc_to_exc", "sparse_to_sparse", "input_to_sparse"):
        check(not np.array_equal(b.edges[name][0], other.edges[name][0])
              or not np.array_equal(b.edges[name][1], other.edges[name][1]),
              "seed %d and %d draw the same %s" % (SEED, SEED + 1, name))


if __name__ == "__main__":
    clitest.main(globals())
