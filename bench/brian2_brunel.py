#!/usr/bin/python3
"""Brunel (2000) model A in Brian2 (cpp_standalone), the network of
examples/brunel.toml: 10,000 + 2,500 delta-synapse LIF neurons, C_E = 1000
and C_I = 250 inputs per neuron (fixed in-degree, multapses allowed as
NEST's fixed_indegree), J = 0.1 mV, g = 5, D = 1.5 ms, and each neuron's
external drive a PoissonInput of C_E sources at 20 Hz. An independent port
for bench/brunel_vs_brian2.py; prints one JSON line.

usage: brian2_brunel.py [--duration 1] [--seed 1] [--threads 1]
"""
import argparse
import json
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--duration", type=float, default=1.0, help="seconds of simulated time")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--threads", type=int, default=1)
args = ap.parse_args()

from brian2 import (NeuronGroup, Synapses, PoissonInput, SpikeMonitor, Network, defaultclock,
                    set_device, device, prefs, seed, ms, mV, Hz, second)
import numpy as np

outdir = tempfile.mkdtemp(prefix="brian2_brunel_")
set_device("cpp_standalone", directory=outdir, build_on_run=False)
prefs.devices.cpp_standalone.openmp_threads = args.threads
seed(args.seed)
rng = np.random.default_rng(args.seed)
defaultclock.dt = 0.1 * ms

NE, NI, CE, CI = 10000, 2500, 1000, 250
N = NE + NI
J, g = 0.1 * mV, 5.0
G = NeuronGroup(N, "dv/dt = -v/(20*ms) : volt (unless refractory)", threshold="v > 20*mV",
                reset="v = 10*mV", refractory=2 * ms, method="exact")
G.v = "rand()*20*mV"
drive = PoissonInput(G, "v", N=CE, rate=20 * Hz, weight=J)
post = np.arange(N)
# Input during the refractory period is discarded, as in NEST's iaf_psc_delta.
SE = Synapses(G, G, on_pre="v += J*int(not_refractory_post)", namespace={"J": J})
SE.connect(i=rng.integers(0, NE, size=N * CE), j=np.repeat(post, CE))
SE.delay = 1.5 * ms
SI = Synapses(G, G, on_pre="v -= g*J*int(not_refractory_post)", namespace={"J": J, "g": g})
SI.connect(i=rng.integers(NE, N, size=N * CI), j=np.repeat(post, CI))
SI.delay = 1.5 * ms
mon = SpikeMonitor(G, record=False)
net = Network(G, drive, SE, SI, mon)
net.run(args.duration * second)
device.build(directory=outdir, compile=True, run=False, with_output=False)
device.run(directory=outdir, with_output=False, run_args=[])
counts = np.asarray(mon.count[:])
print(json.dumps({"simulator": "brian2 cpp_standalone", "threads": args.threads,
                  "duration_s": args.duration, "spikes": int(counts.sum()),
                  "rate_exc_hz": float(counts[:NE].sum() / NE / args.duration),
                  "rate_inh_hz": float(counts[NE:].sum() / NI / args.duration),
                  "sim_wall_s": round(float(device._last_run_time), 3)}))
