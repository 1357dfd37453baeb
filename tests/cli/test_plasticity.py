"""Plasticity through the config and the CLI: an STDP projection learns,
its weight snapshots and final edges record it, and the learned weights are
identical at 1 and 2 threads and across partitionings."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import TempDir, check, run_ok, write  # noqa: E402

import h5py  # noqa: E402

CONFIG = """
[simulation]
dt = 0.1
duration = 2000.0
seed = 5

[[population]]
name = "input"
model = "poisson_generator"
size = 200
params = { rate = 20.0 }

[[population]]
name = "out"
model = "iaf_psc_delta"
size = 100
params = { tau_m = 20.0, E_L = 0.0, V_th = 20.0, V_reset = 10.0, t_ref = 2.0 }

[[projection]]
name = "learned"
source = "input"
target = "out"
rule = "fixed_indegree"
indegree = 50
weight = { distribution = "uniform", low = 1.0, high = 3.0 }
delay = { distribution = "uniform", low = 0.5, high = 3.0 }
plasticity = { rule = "%s", w_min = 0.0, w_max = 4.0 }

[[record_weights]]
projection = "learned"
interval = 500.0
"""


def run(d, rule, *extra):
    cfg = write(os.path.join(d, "stdp.toml"), CONFIG % rule)
    out = os.path.join(d, "out_%s_%s.h5" % (rule, "_".join(extra).replace("=", "").replace(".", "")))
    run_ok(["run", cfg, "--output", out, "--quiet"] + list(extra))
    with h5py.File(out, "r") as f:
        snaps = f["weights/learned/data"][()]
        times = f["weights/learned/time"][()]
        final = f["edges/learned/0/syn_weight"][()]
    return snaps, times, final


def check_rule(rule):
    with TempDir() as d:
        snaps, times, final = run(d, rule)
        check(list(times) == [500.0, 1000.0, 1500.0, 2000.0], "snapshot times %s" % list(times))
        check(snaps.shape == (4, 5000), "snapshot shape %s" % (snaps.shape,))
        check(np.all((final >= 0.0) & (final <= 4.0)), "weights stay in [w_min, w_max]")
        moved = np.mean(snaps[-1] != snaps[0])
        check(moved > 0.5, "most weights should change under %s, %.2f did" % (rule, moved))
        check(np.array_equal(snaps[-1], final), "the last snapshot equals the final edges")
        for extra in (["--threads", "2"], ["--threads", "2", "--set", "simulation.partitions=7"]):
            _, _, other = run(d, rule, *extra)
            check(np.array_equal(other, final), "learned weights differ with %s" % " ".join(extra))


def test_stdp_learns_deterministically():
    check_rule("stdp")


def test_triplet_stdp_learns_deterministically():
    check_rule("triplet_stdp")


if __name__ == "__main__":
    clitest.main(globals())
