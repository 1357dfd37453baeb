"""PyNN's current sources on spikeline's stimulus devices.

| PyNN | spikeline [[stimulus]] |
|---|---|
| DCSource(amplitude, start, stop) | dc_generator (amplitude nA -> pA) |
| StepCurrentSource(times, amplitudes) | step_current (amplitude_times, amplitude_values nA -> pA) |
| ACSource(amplitude, offset, frequency, phase, start, stop) | ac_current (nA -> pA) |
| NoisyCurrentSource(mean, stdev, dt, start, stop) | noise_current (mean, std nA -> pA; dt) |

A source injected into several populations (or views) becomes one
stimulus per population, each on the chosen neurons. Changing a parameter
after the network is built changes every one of them from the next step on
(``Simulation.set_stimulus``). Currents into ``Izhikevich`` cells are in
its model units x 1000 (NEST's convention for i_offset).
"""

from __future__ import annotations

import numpy as np
from pyNN import errors
from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import build_translations, electrodes

from .simulator import is_forever, state


class _CurrentSource:
    """What every source shares: native parameters kept here, the stimuli
    it became once built."""

    spikeline_model = ""

    def __init__(self, **parameters):
        super(electrodes.StandardCurrentSource, self).__init__(**parameters)
        object.__setattr__(self, "_native", {})
        object.__setattr__(self, "_targets", [])  # (population, node indices)
        ps = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        ps.update(**parameters)
        self.set_native_parameters(self.translate(ps))
        state.current_sources.append(self)

    def inject_into(self, cells):
        from pyNN.common import Assembly, BasePopulation

        if isinstance(cells, Assembly):
            for p in cells.populations:
                self.inject_into(p)
            return
        if isinstance(cells, BasePopulation):
            parent = getattr(cells, "grandparent", cells)
            nodes = parent.id_to_index(cells.all_cells)
        else:  # a list of IDs, possibly of several populations
            by_parent = {}
            for id in cells:
                by_parent.setdefault(id.parent, []).append(id.parent.id_to_index(id))
            for parent, nodes in by_parent.items():
                self._add_target(parent, np.asarray(nodes))
            return
        self._add_target(parent, np.atleast_1d(np.asarray(nodes)))

    def _add_target(self, population, nodes):
        if not population.celltype.injectable:
            raise TypeError(f"{population.celltype.__class__.__name__} cells take no current")
        state.check_not_built("injecting a current source")
        self._targets.append((population, np.unique(nodes.astype(np.int64))))

    def set_native_parameters(self, parameters):
        parameters.evaluate(simplify=True)
        new = {}
        for name, value in parameters.items():
            if isinstance(value, Sequence):
                value = np.asarray(value.value, dtype=float)
            elif isinstance(value, np.ndarray) and value.size == 1:
                value = float(value.ravel()[0])
            new[name] = value
        merged = dict(self._native)
        merged.update(new)
        self._check(merged)
        self._native.update(new)
        if state.built:
            for name in self.stimulus_names():
                state.sim.set_stimulus(name, self.spikeline_params(set(new)))

    def get_native_parameters(self):
        return ParameterSpace(
            {k: (Sequence(v) if isinstance(v, np.ndarray) else v) for k, v in self._native.items()},
            self.get_schema_native(), shape=(1,))

    def get_schema_native(self):
        return {k: (Sequence if isinstance(v, np.ndarray) else float)
                for k, v in self._native.items()}

    def _check(self, native):
        pass

    # ---- the config ---------------------------------------------------------
    def stimulus_names(self):
        return [f"cs{state.current_sources.index(self)}_{state.population_name(p)}_{k}"
                for k, (p, _) in enumerate(self._targets)]

    def stimuli(self):
        """The [[stimulus]] tables of this source."""
        out = []
        for name, (population, nodes) in zip(self.stimulus_names(), self._targets):
            out.append({
                "name": name,
                "model": self.spikeline_model,
                "target": state.population_name(population),
                "nodes": [int(i) for i in nodes],
                "params": self.spikeline_params(),
            })
        return out

    def spikeline_params(self, names=None):
        raise NotImplementedError

    def _get_data(self):
        raise NotImplementedError(
            f"recording the current of a {type(self).__name__} is not supported by the spikeline "
            "backend (the current is set by its parameters: get_parameters())")


def _time(t):
    return float("inf") if is_forever(float(t)) else float(t)


class DCSource(_CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    spikeline_model = "dc_generator"
    translations = build_translations(
        ("amplitude", "amplitude", 1000.0), ("start", "start"), ("stop", "stop"))

    def spikeline_params(self, names=None):
        p = self._native
        out = {"amplitude": float(p["amplitude"]), "start": _time(p["start"]),
               "stop": _time(p["stop"])}
        return out if names is None else {k: v for k, v in out.items() if k in names}


class ACSource(_CurrentSource, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__
    spikeline_model = "ac_current"
    translations = build_translations(
        ("amplitude", "amplitude", 1000.0), ("offset", "offset", 1000.0),
        ("frequency", "frequency"), ("phase", "phase"), ("start", "start"), ("stop", "stop"))

    def spikeline_params(self, names=None):
        p = self._native
        out = {k: float(p[k]) for k in ("amplitude", "offset", "frequency", "phase")}
        out.update(start=_time(p["start"]), stop=_time(p["stop"]))
        return out if names is None else {k: v for k, v in out.items() if k in names}


class NoisyCurrentSource(_CurrentSource, electrodes.NoisyCurrentSource):
    __doc__ = electrodes.NoisyCurrentSource.__doc__
    spikeline_model = "noise_current"
    translations = build_translations(
        ("mean", "mean", 1000.0), ("stdev", "std", 1000.0), ("dt", "dt"),
        ("start", "start"), ("stop", "stop"))

    def spikeline_params(self, names=None):
        p = self._native
        dt = p.get("dt")
        out = {"mean": float(p["mean"]), "std": float(p["std"]),
               "dt": float(state.dt if dt is None or dt == 0 else dt),
               "start": _time(p["start"]), "stop": _time(p["stop"])}
        return out if names is None else {k: v for k, v in out.items() if k in names}


class StepCurrentSource(_CurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    spikeline_model = "step_current"
    translations = build_translations(
        ("amplitudes", "amplitude_values", 1000.0), ("times", "amplitude_times"))

    def _check(self, native):
        t = np.asarray(native.get("amplitude_times", []), dtype=float)
        a = np.asarray(native.get("amplitude_values", []), dtype=float)
        if t.shape != a.shape:
            raise errors.InvalidParameterValueError(
                f"StepCurrentSource: {t.size} times and {a.size} amplitudes; they must pair up")

    def spikeline_params(self, names=None):
        p = self._native
        out = {"amplitude_times": [float(x) for x in np.atleast_1d(p["amplitude_times"])],
               "amplitude_values": [float(x) for x in np.atleast_1d(p["amplitude_values"])]}
        if names is not None and names & {"amplitude_times", "amplitude_values"}:
            return out
        return out if names is None else {}
