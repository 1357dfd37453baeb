"""The Vogels-Abbott benchmark network (Brette et al. 2007, Benchmarks 1 and
2) in PyNN: 3200 excitatory and 800 inhibitory integrate-and-fire neurons,
2 % random connectivity, self-sustained asynchronous activity.

    python3 vogels_abbott.py COBA|CUBA [duration_ms]

Runs unchanged on any PyNN backend; change the import below.
"""
import spikeline.pynn as sim  # the one line to change: import pyNN.brian2 as sim

import sys

from pyNN.random import NumpyRNG, RandomDistribution

from _stats import Clock, finish, seed

benchmark = sys.argv[1] if len(sys.argv) > 1 else "COBA"
duration = float(sys.argv[2]) if len(sys.argv) > 2 else 1000.0
clock = Clock()
sim.setup(timestep=0.1, min_delay=0.1, max_delay=10.0)

n_exc, n_inh, p = 3200, 800, 0.02
common = dict(tau_m=20.0, v_rest=-60.0, v_thresh=-50.0, v_reset=-60.0, tau_refrac=5.0,
              tau_syn_E=5.0, tau_syn_I=10.0, i_offset=0.0)
if benchmark == "COBA":
    celltype = sim.IF_cond_exp(cm=0.2, e_rev_E=0.0, e_rev_I=-80.0, **common)
    w_exc, w_inh = 0.006, 0.067  # uS
else:  # CUBA: v_rest above threshold drives the network, as in the benchmark
    common.update(v_rest=-49.0)
    celltype = sim.IF_curr_exp(cm=0.25, **common)
    w_exc, w_inh = 0.02025, -0.18225  # nA

rng = NumpyRNG(seed=seed(42))
exc = sim.Population(n_exc, celltype, label="exc")
inh = sim.Population(n_inh, celltype, label="inh")
for pop in (exc, inh):
    if benchmark == "COBA":
        pop.initialize(v=RandomDistribution("normal", (-65.0, 5.0), rng=rng),
                       gsyn_exc=RandomDistribution("normal", (0.04, 0.015), rng=rng),
                       gsyn_inh=RandomDistribution("normal", (0.2, 0.12), rng=rng))
    else:
        pop.initialize(v=RandomDistribution("uniform", (-60.0, -50.0), rng=rng))
connector = sim.FixedProbabilityConnector(p, rng=rng)
excitatory = sim.StaticSynapse(weight=w_exc, delay=0.1)
inhibitory = sim.StaticSynapse(weight=w_inh, delay=0.1)
projections = [sim.Projection(exc, exc, connector, excitatory, receptor_type="excitatory"),
               sim.Projection(exc, inh, connector, excitatory, receptor_type="excitatory"),
               sim.Projection(inh, exc, connector, inhibitory, receptor_type="inhibitory"),
               sim.Projection(inh, inh, connector, inhibitory, receptor_type="inhibitory")]
exc.record("spikes")
inh.record("spikes")
clock.mark("build_s")

sim.run(duration)
clock.mark("run_s")
finish(sim, clock, {"benchmark": benchmark, "duration_ms": duration},
       {"exc": exc, "inh": inh}, projections, duration)
