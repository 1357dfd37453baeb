"""Run the COBA network in this process, weaken its recurrent excitation
half-way, and plot raster and rates (docs/python.md):

    /usr/bin/python3 examples/python/run_and_plot.py coba.png
"""
import os
import sys

import spikeline
from spikeline import plots, stats

config = os.path.join(os.path.dirname(__file__), "..", "coba.toml")
sim = spikeline.Simulation.from_file(config)           # nothing written to disk
sim.run(500)                                           # ms, in as many pieces as you like
sim.set_weights("exc_to_exc", 0.5 * sim.weights("exc_to_exc"))
sim.run(500)
for name, s in sim.all_spikes().items():
    print("%s: %.2f Hz, mean ISI CV %.2f" % (name, stats.population_rate(s), stats.summary(s)["cv_mean"]))
plots.save(plots.raster(sim.all_spikes(), max_neurons=400, rate_bin_ms=5.0), sys.argv[1])
