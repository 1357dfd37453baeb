"""The state of a PyNN session on spikeline: the network as PyNN built it,
and the spikeline Simulation that runs it.

PyNN builds a network object by object and may run it, change it and run
again. spikeline builds a whole network from one description. The backend
keeps the description (populations, projections, current sources, what is
recorded) and builds the engine from it at the first ``run()``, or at the
first query that needs the built network (the connections of a projection
drawn by spikeline's own generator). From then on, changes between runs
(parameters, initial values, weights, current sources) go to the running
engine; new populations, projections or recorded variables are refused
with an error that says so. ``reset()`` ends the engine: the next run
builds it again from the description, with every change made so far,
starting at t = 0.
"""

from __future__ import annotations

import math

import numpy as np
from pyNN import common, errors

name = "spikeline"


class ID(int, common.IDMixin):
    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay = 0.1
        self.max_delay = 10.0
        self.threads = 1
        self.rng_seed = 1
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.recorders = set()
        self.write_on_end = []
        self.sim = None
        self.last_summary = None  # what the last engine's end() said (timings, counts)
        self.segment_counter = -1
        self.id_counter = 0
        self.t_start = 0.0
        self._t = 0.0
        self.running = False

    # ---- time ---------------------------------------------------------------
    @property
    def t(self) -> float:
        return self.sim.time if self.sim is not None else self._t

    def run(self, simtime):
        self.run_until(self.t + simtime)

    def run_until(self, tstop):
        sim = self.network()
        # The engine refuses a time off the grid, naming the nearest valid ones.
        if tstop > sim.time + self.dt / 2:
            sim.run_until(tstop)
        self.running = True

    # ---- the engine ---------------------------------------------------------
    @property
    def built(self) -> bool:
        return self.sim is not None

    def network(self):
        """The running engine, built from the description if not yet."""
        if self.sim is None:
            from .build import build

            self.sim = build(self)
        return self.sim

    def check_not_built(self, what: str) -> None:
        if self.sim is not None:
            raise NotImplementedError(
                f"{what} after the network was built (by run() or by reading connections "
                "drawn by spikeline) is not supported by the spikeline backend: create every "
                "Population, Projection and recording before, or call reset() first "
                "(which keeps the network and starts again at t = 0)")

    def clear(self):
        """setup() again: a new, empty network."""
        self._end_engine()
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.recorders = set()
        self.write_on_end = []
        self.id_counter = 0
        self.segment_counter = -1
        self.reset()

    def reset(self):
        """t = 0; state, weights and plastic variables back to their initial
        values (the next run builds the engine again)."""
        for prj in self.projections:
            prj._keep_set_weights()
        self._end_engine()
        self.running = False
        self._t = 0.0
        self.t_start = 0.0
        self.segment_counter += 1

    def _end_engine(self):
        if self.sim is not None:
            try:
                self.last_summary = self.sim.end()
            finally:
                self.sim = None

    # ---- names ----------------------------------------------------------------
    def population_name(self, population) -> str:
        return f"p{self.populations.index(population)}"


def check_delay_on_grid(delay, dt, what="delay"):
    """PyNN delays in ms must be whole steps of dt and >= dt (as NEST's)."""
    d = np.unique(np.asarray(delay, dtype=float))  # few distinct values, as a rule
    if d.size == 0:
        return
    if not np.all(np.isfinite(d)):
        raise errors.ConnectionError(f"{what}: not a finite number")
    steps = d / dt
    bad = np.abs(steps - np.round(steps)) > 1e-6 * np.maximum(1.0, np.abs(steps))
    if np.any(bad) or np.any(np.round(steps) < 1):
        v = float(d.ravel()[np.argmax(bad.ravel() | (np.round(steps) < 1).ravel())])
        raise errors.ConnectionError(
            f"{what} {v!r} ms: delays must be whole multiples of dt = {dt} ms and at least dt")


FOREVER_MS = 1e9  # at or beyond: PyNN's "never stops" (durations of 1e10 ms, stop = 1e12)


def is_forever(t_ms: float) -> bool:
    return math.isinf(t_ms) or t_ms >= FOREVER_MS


state = State()
