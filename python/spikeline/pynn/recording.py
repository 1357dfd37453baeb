"""Recording into Neo blocks: PyNN's Recorder over what the engine keeps in
memory.

Spikes of every population are kept by the engine (no file in between);
a recorder hands out those of the neurons it records, from the time
recording started. A recorded state variable (``v``, ``gsyn_exc``,
``gsyn_inh``, ``u``, ``isyn_exc``, ...) becomes a ``[[record]]`` of the
population when the network is built: the chosen neurons, every
``sampling_interval`` from t = 0 (the initial value, as PyNN's Neo signals
start) on; values come back in PyNN's units.
"""

from __future__ import annotations

import numpy as np
from pyNN import recording

from . import simulator
from .simulator import state


class Recorder(recording.Recorder):
    _simulator = simulator

    def __init__(self, population, file=None):
        recording.Recorder.__init__(self, population, file)
        self._since_ms = 0.0  # data before this time was cleared (get_data(clear=True))

    def record(self, variables, ids, sampling_interval=None):
        # Checked before PyNN marks anything as recorded, so that a refused
        # call leaves the recorder as it was.
        if sampling_interval is not None:
            steps = sampling_interval / state.dt
            if abs(steps - round(steps)) > 1e-9 * max(1.0, steps) or round(steps) < 1:
                raise ValueError(
                    f"sampling_interval {sampling_interval} ms must be a whole number of "
                    f"steps of dt = {state.dt} ms")
        if state.built and any(v != "spikes" for v in recording.normalize_variables_arg(variables)):
            state.check_not_built(f"recording {variables!r}")
        recording.Recorder.record(self, variables, ids, sampling_interval)

    def _record(self, variable, new_ids, sampling_interval=None):
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval  # else the one set before (dt at first)

    def _reset(self):
        self._since_ms = 0.0

    def _clear_simulator(self):
        self._since_ms = state.t

    # ---- the config ----------------------------------------------------------------
    def records(self):
        """The [[record]] tables: one per recorded state variable."""
        out = []
        name = state.population_name(self.population)
        for variable in sorted(self.recorded):
            if variable == "spikes" or not self.recorded[variable]:
                continue
            native = self.population.celltype.state_variable_translations[variable]
            nodes = sorted(int(i) for i in self.population.id_to_index(
                np.fromiter(self.recorded[variable], dtype=int)).ravel())
            out.append({"name": f"{name}_{variable}", "population": name,
                        "variables": [native["translated_name"]], "nodes": nodes,
                        "interval": float(self.sampling_interval), "start": 0.0})
        return out

    # ---- data ---------------------------------------------------------------------
    def _get_spiketimes(self, ids, clear=False):
        sim = state.network()
        times, nodes = sim.spikes(state.population_name(self.population))
        id_array = nodes.astype(np.int64) + int(self.population.first_id)
        keep = np.isin(id_array, np.asarray(list(ids), dtype=np.int64))
        if self._since_ms > 0:
            keep &= times > self._since_ms
        # `clear` is done by clear() -> _clear_simulator, after every variable
        # of the segment was read.
        return id_array[keep], times[keep].astype(float)

    def _get_all_signals(self, variable, ids, clear=False):
        sim = state.network()
        name = state.population_name(self.population)
        trace = sim.trace_named(f"{name}_{variable}")
        nodes = list(trace["nodes"])
        index = {int(n): k for k, n in enumerate(nodes)}
        wanted = self.population.id_to_index(np.asarray(list(ids), dtype=int))
        columns = [index[int(i)] for i in np.atleast_1d(wanted)]
        data = np.asarray(trace["data"], dtype=float)[:, columns]
        times = trace["times"]
        keep = times >= self._since_ms - 1e-9
        data = data[keep]
        tr = self.population.celltype.state_variable_translations[variable]
        native = tr["translated_name"]
        reverse = tr["reverse_transform"]
        if callable(reverse):
            data = np.asarray(reverse(**{native: data}), dtype=float)
        else:
            data = np.asarray(eval(reverse, {"float": float}, {native: data}), dtype=float)
        return data, None

    def _local_count(self, variable, filter_ids=None):
        ids = self.filter_recorded(variable, filter_ids)
        id_array, _ = self._get_spiketimes(ids)
        counts = {int(i): 0 for i in ids}
        u, c = np.unique(id_array, return_counts=True)
        for i, n in zip(u, c):
            counts[int(i)] = int(n)
        return counts
