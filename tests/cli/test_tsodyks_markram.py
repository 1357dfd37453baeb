"""Short-term plasticity (tsodyks_markram) through the config and the CLI:
the stored weights are those of the same network without the rule (in the
snapshots and the final edges), u and x are recorded, the rule changes what
the synapses deliver (the targets fire less), and the output is identical
at 1 and 2 threads and across partitionings. Checkpoints: test_checkpoint."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import TempDir, check, check_equal, run_ok, write  # noqa: E402

import h5py  # noqa: E402

# Strong Poisson drive onto psc_exp neurons: without the rule they fire at
# a high rate; with depression (U = 0.5, tau_rec = 800 ms at 20 Hz: x_inf
# 0.11) much less. %s: the plasticity line.
CONFIG = """
[simulation]
dt = 0.1
duration = 1000.0
seed = 5

[[population]]
name = "input"
model = "poisson_generator"
size = 200
params = { rate = 20.0 }

[[population]]
name = "out"
model = "iaf_psc_exp"
size = 100
params = { tau_syn_ex = 2.0 }

[[projection]]
name = "stp"
source = "input"
target = "out"
rule = "fixed_indegree"
indegree = 50
weight = { distribution = "uniform", low = 200.0, high = 600.0 }
delay = { distribution = "uniform", low = 0.5, high = 3.0 }
%s

[[record_weights]]
projection = "stp"
interval = 250.0
%s
"""

PLASTIC = 'plasticity = { rule = "tsodyks_markram", U = 0.5, tau_rec = 800.0, tau_facil = 0.0 }'
FACILITATING = ('plasticity = { rule = "tsodyks_markram", U = 0.1, tau_rec = 100.0, '
                'tau_facil = 1000.0 }')


def run(d, name, plasticity, variables, *extra):
    cfg = write(os.path.join(d, name + ".toml"), CONFIG % (plasticity, variables))
    out = os.path.join(d, name + ".h5")
    run_ok(["run", cfg, "--output", out, "--quiet"] + list(extra))
    with h5py.File(out, "r") as f:
        g = f["weights/stp"]
        result = {k: g[k][()] for k in g}
        result["edges"] = f["edges/stp/0/syn_weight"][()]
        result["out_spikes"] = int(np.sum(f["spikes/out/node_ids"][()] >= 0))
        result["spikes"] = (f["spikes/out/timestamps"][()], f["spikes/out/node_ids"][()])
    return result


def test_weights_unchanged_u_x_recorded():
    with TempDir() as d:
        static = run(d, "static", "", "")
        dep = run(d, "dep", PLASTIC, 'variables = ["u", "x"]')
        check_equal(list(dep["time"]), [250.0, 500.0, 750.0, 1000.0], "snapshot times")
        # The stored weights: those drawn for the static network, at every snapshot.
        check(np.array_equal(dep["edges"], static["edges"]), "final weights differ from the drawn")
        check(all(np.array_equal(s, static["edges"]) for s in dep["data"]),
              "a weight snapshot differs from the drawn weights")
        check_equal(dep["u"].shape, (4, 5000), "u shape")
        check_equal(dep["x"].shape, (4, 5000), "x shape")
        check(np.all(dep["u"] == 0.5), "u must stay U without facilitation")
        check(np.all((dep["x"] > 0) & (dep["x"] <= 1)), "x in (0, 1]")
        check(np.mean(dep["x"][-1]) < 0.4, "x should be depressed at 20 Hz: mean %.3f"
              % np.mean(dep["x"][-1]))
        # What the synapses deliver changed: far fewer output spikes.
        check(static["out_spikes"] > 1000, "the static network should fire: %d spikes"
              % static["out_spikes"])
        check(dep["out_spikes"] < static["out_spikes"] / 2,
              "depression should cut the output: %d vs %d spikes"
              % (dep["out_spikes"], static["out_spikes"]))
        fac = run(d, "fac", FACILITATING, 'variables = ["u", "x"]')
        check(np.mean(fac["u"][-1]) > 0.2, "u should facilitate above U = 0.1: mean %.3f"
              % np.mean(fac["u"][-1]))
        check(np.all(fac["u"] <= 1) and np.all(fac["u"] >= 0.1), "u in [U, 1]")


def test_threads_and_partitions():
    with TempDir() as d:
        ref = run(d, "one", FACILITATING, 'variables = ["u", "x"]')
        for k, extra in enumerate((["--threads", "2"],
                                   ["--threads", "2", "--set", "simulation.partitions=7"])):
            other = run(d, "other%d" % k, FACILITATING, 'variables = ["u", "x"]', *extra)
            for key in ("u", "x", "data", "edges"):
                check(np.array_equal(other[key], ref[key]), "%s differs with %s"
                      % (key, " ".join(extra)))
            for a, b in zip(other["spikes"], ref["spikes"]):
                check(np.array_equal(a, b), "spikes differ with %s" % " ".join(extra))


if __name__ == "__main__":
    clitest.main(globals())
