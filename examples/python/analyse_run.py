"""Read a finished run, print its rates and ISI CVs, and plot raster and
rates in one figure (docs/python.md). Run it on any spikeline output:

    spikeline run examples/coba.toml -o coba.h5
    /usr/bin/python3 examples/python/analyse_run.py coba.h5 coba.png
"""
import sys

import spikeline
from spikeline import plots, stats

path, image = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "run.png"
with spikeline.open_file(path) as f:
    pops = f.all_spikes()                                 # {name: Spikes}, times in ms
    for name, s in pops.items():
        print("%s: %d neurons, %.2f Hz, mean ISI CV %.2f"
              % (name, s.node_count, stats.population_rate(s), stats.summary(s)["cv_mean"]))
    last = max(s.t_stop for s in pops.values())
    fig = plots.raster(pops, t_start=max(0.0, last - 300.0), max_neurons=400, rate_bin_ms=5.0)
    plots.save(fig, image)                                # .png, .svg or .pdf
print("wrote", image)
