"""Statistics every PyNN example reports, computed the same way whatever the
backend ran it: rates, ISI CV, and where the time went."""

import json
import os
import sys
import time

import numpy as np


class Clock:
    def __init__(self):
        self.t0 = time.perf_counter()
        self.marks = {}

    def mark(self, name):
        now = time.perf_counter()
        self.marks[name] = now - self.t0
        self.t0 = now


def seed(default):
    """The seed of the script's NumpyRNG: PYNN_SEED when set (to compare
    several realisations of a network), else the script's own."""
    return int(os.environ.get("PYNN_SEED", default))


def spike_stats(segment, duration_ms, skip_ms=0.0):
    """Mean rate (Hz) and mean ISI CV of the trains of a Neo segment, from
    ``skip_ms`` on (the first spikes of a network started at random
    potentials are not its steady state)."""
    rates, cvs = [], []
    for st in segment.spiketrains:
        t = np.asarray(st.magnitude, dtype=float)
        t = t[t > skip_ms]
        rates.append(len(t) / ((duration_ms - skip_ms) / 1000.0))
        if len(t) >= 3:
            isi = np.diff(t)
            cvs.append(isi.std() / isi.mean())
    return {"rate_hz": float(np.mean(rates)) if rates else 0.0,
            "cv_isi": float(np.mean(cvs)) if cvs else float("nan"),
            "neurons": len(rates), "spikes": int(sum(rates) * (duration_ms - skip_ms) / 1000.0)}


def finish(sim, clock, result, populations, projections, duration, skip_ms=200.0):
    """Reads the spikes of ``populations`` ({name: Population}) into Neo,
    ends the simulation and reports: what every network example does after
    its run."""
    result["synapses"] = int(sum(len(prj) for prj in projections))
    for name, pop in populations.items():
        result[name] = spike_stats(pop.get_data().segments[0], duration, skip_ms)
    clock.mark("read_s")
    sim.end()
    result.update(clock.marks)
    report(result)


def report(result):
    """Prints the result as JSON (and writes it where PYNN_STATS says). On
    spikeline, adds the engine's own split of the run: building the network
    (engine_build_s) and the simulation loop (engine_loop_s)."""
    backend = sys.modules.get("spikeline.pynn")
    summary = backend and backend.simulator.state.last_summary
    if summary:
        result["engine_build_s"] = summary["build_s"]
        result["engine_loop_s"] = summary["loop_s"]
    text = json.dumps(result, indent=1, sort_keys=True)
    path = os.environ.get("PYNN_STATS")
    if path:
        with open(path, "w") as f:
            f.write(text)
    print(text)
    sys.stdout.flush()
