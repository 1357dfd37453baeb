"""Competitive Hebbian learning through STDP (Song, Miller and Abbott 2000),
simply: 1000 Poisson inputs at 10 Hz onto one conductance-based neuron
through additive STDP with A_minus/A_plus = 1.05. Depression slightly
outweighs potentiation, so the weights split towards 0 and w_max and the
output rate settles.

    python3 stdp_song.py [duration_ms]

Runs unchanged on any PyNN backend; change the import below.
"""
import spikeline.pynn as sim  # the one line to change: import pyNN.brian2 as sim

import sys

import numpy as np
from pyNN.random import NumpyRNG, RandomDistribution

from _stats import Clock, report, seed, spike_stats

duration = float(sys.argv[1]) if len(sys.argv) > 1 else 50000.0
clock = Clock()
sim.setup(timestep=0.1, min_delay=0.1, max_delay=10.0)

n_inputs, w_max = 1000, 0.00015  # uS: 0.015 of the leak conductance (10 nS), as Song et al.
inputs = sim.Population(n_inputs, sim.SpikeSourcePoisson(rate=10.0), label="inputs")
neuron = sim.Population(1, sim.IF_cond_exp(cm=0.2, tau_m=20.0, v_rest=-74.0, v_reset=-60.0,
                                           v_thresh=-54.0, tau_refrac=0.1, tau_syn_E=5.0,
                                           e_rev_E=0.0), label="neuron")
neuron.initialize(v=-74.0)
stdp = sim.STDPMechanism(
    timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01,
                                        A_minus=0.0105),
    weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=w_max),
    weight=RandomDistribution("uniform", (0.0, w_max), rng=NumpyRNG(seed=seed(3))), delay=0.1,
    dendritic_delay_fraction=0.0)  # delays are axonal (what pyNN.brian2 requires too)
prj = sim.Projection(inputs, neuron, sim.AllToAllConnector(), stdp, receptor_type="excitatory")
neuron.record("spikes")
clock.mark("build_s")

sim.run(duration)
clock.mark("run_s")
w = np.array(prj.get("weight", format="list", with_address=False)) / w_max
seg = neuron.get_data().segments[0]
late = spike_stats(seg, duration, skip_ms=duration - 5000.0)
result = {"network": "stdp_song", "duration_ms": duration,
          "output_rate_last_5s_hz": late["rate_hz"],
          "weights": {"mean": float(w.mean()), "near_zero": float(np.mean(w < 0.1)),
                      "near_max": float(np.mean(w > 0.9)),
                      "histogram": np.histogram(w, bins=10, range=(0, 1))[0].tolist()}}
clock.mark("read_s")
sim.end()
result.update(clock.marks)
report(result)
