"""Population, PopulationView and Assembly: PyNN's objects over a spikeline
population.

Parameters are kept here in spikeline's names and units (one array of
``size`` values per parameter, PyNN's ``native_parameters``). Before the
network is built they go into the population's config (a single number
when every neuron has the same value, else an array of one per neuron);
after, ``set()`` sends the changed ones to the running engine
(``Simulation.set_params``), and ``initialize()`` sets the state
(``Simulation.set_state``) besides the value a ``reset()`` starts from.
"""

from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.parameters import ParameterSpace, Sequence, simplify

from . import simulator
from .recording import Recorder
from .simulator import FOREVER_MS, state


class Assembly(common.Assembly):
    _simulator = simulator


class PopulationView(common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        parameter_dict = {}
        for name in names:
            value = self.parent._parameters[name]
            if isinstance(value, np.ndarray):
                value = value[self.mask]
            parameter_dict[name] = simplify(value)
        return ParameterSpace(parameter_dict, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        changed = {}
        for name, value in parameter_space.items():
            full = self.grandparent._parameters[name].copy()
            idx = self.grandparent.id_to_index(self.all_cells)
            full[idx] = value
            changed[name] = full
        self.grandparent._apply_parameters(changed)

    def _set_initial_value_array(self, variable, initial_values):
        self.grandparent._set_initial_subset(variable, initial_values,
                                             self.grandparent.id_to_index(self.all_cells))

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def __init__(self, size, cellclass, cellparams=None, structure=None, initial_values={},
                 label=None):
        state.check_not_built("creating a Population")
        if getattr(cellclass, "spikeline_model", None) is None:
            name = getattr(cellclass, "__name__", type(cellclass).__name__)
            raise NotImplementedError(
                f"cell type {name} is not supported by the spikeline backend "
                f"(supported: {', '.join(_supported())})")
        state.populations.append(self)
        try:
            common.Population.__init__(self, size, cellclass, cellparams, structure,
                                       initial_values, label)
        except Exception:
            state.populations.remove(self)
            raise

    def _create_cells(self):
        ids = np.arange(state.id_counter, state.id_counter + self.size)
        self.all_cells = np.array([simulator.ID(i) for i in ids], dtype=simulator.ID)
        self._mask_local = np.ones((self.size,), bool)
        for id in self.all_cells:
            id.parent = self
        state.id_counter += self.size
        ps = self.celltype.native_parameters
        ps.shape = (self.size,)
        ps.evaluate(simplify=False)
        self._parameters = {}
        for name, value in ps.items():
            self._parameters[name] = _as_array(value, self.size)
        self._initial = {}  # spikeline state variable -> array

    # ---- parameters -------------------------------------------------------
    def _get_parameters(self, *names):
        return ParameterSpace({n: simplify(self._parameters[n]) for n in names},
                              shape=(self.size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        self._apply_parameters({n: _as_array(v, self.size) for n, v in parameter_space.items()})

    def _apply_parameters(self, changed):
        if state.built:
            state.sim.set_params(state.population_name(self),
                                 {n: _spikeline_value(n, v) for n, v in changed.items()})
        self._parameters.update(changed)

    # ---- initial values ----------------------------------------------------
    def _set_initial_value_array(self, variable, value):
        self._set_initial_subset(variable, value, np.arange(self.size))

    def _set_initial_subset(self, variable, value, indices):
        tr = self.celltype.state_variable_translations.get(variable)
        if tr is None:
            raise errors.NonExistentParameterError(
                variable, type(self.celltype).__name__,
                list(self.celltype.state_variable_translations))
        native = tr["translated_name"]
        lazy = value if hasattr(value, "evaluate") else None
        if lazy is not None:
            lazy.shape = (self.size,)
            values = np.asarray(lazy.evaluate(simplify=False), dtype=float)
            values = np.broadcast_to(values, (self.size,))[indices]
        else:
            values = np.broadcast_to(np.asarray(value, dtype=float), (len(indices),))
        values = _scale(tr, variable, values)
        full = self._initial.get(native)
        if full is None:
            full = np.full(self.size, np.nan)
        full = full.copy()
        full[indices] = values
        self._initial[native] = full
        if state.built:
            current = state.sim.state(state.population_name(self), native)
            current[indices] = values
            state.sim.set_state(state.population_name(self), native, current)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    # ---- the config ------------------------------------------------------------
    def config(self) -> dict:
        """The [[population]] table of this population."""
        params = {}
        for name, value in self._parameters.items():
            params[name] = _spikeline_value(name, value)
        if self.celltype.spikeline_model == "spike_generator":
            params = {"spike_times": params["spike_times"]}
        entry = {"name": state.population_name(self), "model": self.celltype.spikeline_model,
                 "size": int(self.size), "params": params}
        initial = {}
        for native, values in self._initial.items():
            if np.all(np.isnan(values)):
                continue
            if np.any(np.isnan(values)):
                default = self._default_initial(native)
                values = np.where(np.isnan(values), default, values)
            initial[native] = float(values[0]) if np.all(values == values[0]) else values
        if initial:
            entry["initial"] = initial
        return entry

    def _default_initial(self, native):
        for variable, tr in self.celltype.state_variable_translations.items():
            if tr["translated_name"] == native:
                v = self.celltype.default_initial_values.get(variable, 0.0)
                return float(_scale(tr, variable, np.asarray([v], dtype=float))[0])
        return 0.0

    def weight_scale(self, weight_name="weight") -> float:
        scale = self.celltype.weight_scale
        if scale is None:
            raise errors.ConnectionError(
                f"{type(self.celltype).__name__} cells take no synaptic input")
        if getattr(self.celltype, "weight_per_dt", False):
            scale = scale / state.dt
        return scale


def _supported():
    from .standardmodels import CELL_TYPES

    return [c.__name__ for c in CELL_TYPES]


def _scale(tr, variable, values):
    """PyNN's units -> spikeline's, by the translation's forward transform."""
    f = tr["forward_transform"]
    if callable(f):
        return np.asarray(f(**{variable: values}), dtype=float)
    return np.asarray(eval(f, {"float": float}, {variable: values}), dtype=float)


def _as_array(value, size):
    if isinstance(value, Sequence):
        out = np.empty(size, dtype=object)
        for i in range(size):
            out[i] = value
        return out
    arr = np.asarray(value)
    if arr.dtype == object:
        return np.broadcast_to(arr, (size,)).copy()
    return np.broadcast_to(arr.astype(float), (size,)).copy()


def _spikeline_value(name, values):
    """A number when every neuron has the same value, else one per neuron;
    spike times as one list per neuron."""
    values = np.asarray(values)
    if values.dtype == object:  # Sequences: spike_times
        return [[float(t) for t in np.asarray(getattr(s, "value", s), dtype=float).ravel()]
                for s in values]
    if name == "stop":  # poisson_generator's stop = start + duration
        values = np.where(values >= FOREVER_MS, np.inf, values)
    if values.size and np.all(values == values.ravel()[0]):
        return float(values.ravel()[0])
    return [float(v) for v in values.ravel()]
