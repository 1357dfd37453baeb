"""Brunel's (2000) sparsely connected network of excitatory and inhibitory
integrate-and-fire neurons with delta synapses, at 1250 neurons
(epsilon = 0.1, 100 excitatory inputs per neuron). At this scale the
classic g = 5, eta = 2 with J = 0.1 mV gives too little noise and the
neurons fire regularly (85 Hz, ISI CV 0.13); J = 0.4 mV, g = 8, eta = 1.5
puts it in the asynchronous irregular state (about 20 Hz, CV 0.8).

    python3 brunel.py [duration_ms]

Runs unchanged on any PyNN backend; change the import below.
"""
import spikeline.pynn as sim  # the one line to change: import pyNN.brian2 as sim

import sys

from pyNN.random import NumpyRNG, RandomDistribution

from _stats import Clock, finish, seed

duration = float(sys.argv[1]) if len(sys.argv) > 1 else 1000.0
clock = Clock()
sim.setup(timestep=0.1, min_delay=0.1, max_delay=10.0)

order = 250
n_exc, n_inh = 4 * order, order
epsilon, g, eta, J, delay = 0.1, 8.0, 1.5, 0.4, 1.5
c_exc, c_inh = int(epsilon * n_exc), int(epsilon * n_inh)
tau_m, theta = 20.0, 20.0
nu_threshold = theta / (J * c_exc * tau_m)  # per ms
# The external drive: each neuron gets c_exc inputs from a pool of Poisson
# sources at eta * nu_threshold (200 Hz), i.e. 20 kHz in all. A single source
# per neuron at 20 kHz would be the same process, but backends that draw at
# most one spike per step (Brian2's PoissonGroup) cap it at 1 / dt = 10 kHz.
external_rate = 1000.0 * eta * nu_threshold  # Hz per source

rng = NumpyRNG(seed=seed(7))
cell = sim.IF_curr_delta(tau_m=tau_m, cm=0.25, v_rest=0.0, v_thresh=theta, v_reset=10.0,
                         tau_refrac=2.0, i_offset=0.0)
exc = sim.Population(n_exc, cell, label="exc")
inh = sim.Population(n_inh, cell, label="inh")
for pop in (exc, inh):
    pop.initialize(v=RandomDistribution("uniform", (0.0, theta), rng=rng))
noise = sim.Population(n_exc, sim.SpikeSourcePoisson(rate=external_rate), label="noise")
excitatory = sim.StaticSynapse(weight=J, delay=delay)
inhibitory = sim.StaticSynapse(weight=-g * J, delay=delay)
projections = []
for target in (exc, inh):
    projections += [
        sim.Projection(noise, target, sim.FixedNumberPreConnector(c_exc, rng=rng), excitatory,
                       receptor_type="excitatory"),
        sim.Projection(exc, target, sim.FixedNumberPreConnector(c_exc, rng=rng), excitatory,
                       receptor_type="excitatory"),
        sim.Projection(inh, target, sim.FixedNumberPreConnector(c_inh, rng=rng), inhibitory,
                       receptor_type="inhibitory"),
    ]
exc.record("spikes")
inh.record("spikes")
clock.mark("build_s")

sim.run(duration)
clock.mark("run_s")
finish(sim, clock, {"network": "brunel", "duration_ms": duration},
       {"exc": exc, "inh": inh}, projections, duration)
