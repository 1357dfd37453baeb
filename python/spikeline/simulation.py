"""Running spikeline in this process.

>>> import spikeline
>>> sim = spikeline.Simulation.from_file("examples/coba.toml", output=None)
>>> sim.run(500)                      # ms; in as many pieces as you like
>>> times, ids = sim.spikes("exc")    # numpy arrays, no file in between
>>> sim.run(500)
>>> summary = sim.end()

The network is the one ``spikeline run`` builds from the same config, and a
run gives the same spikes, bit for bit, as the CLI with the same seed,
whether in one piece or several. The GIL is released while the engine runs;
Ctrl-C stops it at the end of the current window (KeyboardInterrupt) and the
simulation can go on. Errors are :class:`spikeline.ConfigError`,
:class:`spikeline.DataError`, ... carrying the CLI's message and exit code.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import _core

_KEEP = object()  # output: keep the config's output.file


class Simulation:
    """A network built from a config, simulated in pieces."""

    def __init__(self, text: str, *, source: str = "<string>", base_dir: str | None = None,
                 set: Sequence[str] = (), output: Any = None, record: bool = True,
                 edges: Mapping[str, tuple] | None = None):
        """Builds the network of the TOML ``text``.

        ``set``: overrides as on the command line (``"simulation.seed=3"``).
        ``output``: ``None`` (the default) writes no file; a path writes the
        SONATA file there, as ``spikeline run -o PATH``; ``Simulation.KEEP``
        writes the config's ``output.file``. ``record``: keep spikes and
        traces in memory (``spikes()``, ``trace()``). ``edges``:
        ``{projection: (source, target, weight, delay_ms)}`` arrays for
        projections the config gives ``rule = "explicit"`` and an empty
        ``edges = {source = [], target = []}`` table: connection lists made
        in Python, handed over without TOML text, checked as inline edges.
        """
        if output is _KEEP:
            out = ""
        elif output is None:
            out = None
            set = list(set) + ['output.file=""']
        else:
            out = os.fspath(output)
        self._sim = _core._Simulation(text, source, os.path.abspath(base_dir or os.getcwd()),
                                      list(set), out, record, dict(edges or {}))
        self._populations = list(self._sim.populations)
        self._projections = list(self._sim.projections)

    KEEP = _KEEP

    # ---- construction ---------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike, **kwargs) -> "Simulation":
        """The config file at ``path`` (its input files relative to its folder)."""
        path = os.fspath(path)
        try:
            with open(path, "r", encoding="utf-8") as f:
                text = f.read()
        except IsADirectoryError:
            raise _core.IoError(f"cannot read config file '{path}': it is a directory") from None
        except OSError as e:
            raise _core.IoError(f"cannot read config file '{path}': {e.strerror}") from None
        kwargs.setdefault("base_dir", os.path.dirname(os.path.abspath(path)))
        return cls(text, source=path, **kwargs)

    @classmethod
    def from_string(cls, text: str, **kwargs) -> "Simulation":
        """A config given as TOML text (input files relative to the working directory)."""
        return cls(text, **kwargs)

    @classmethod
    def from_dict(cls, config: Mapping[str, Any], **kwargs) -> "Simulation":
        """A config as a dict with the TOML schema: ``{"simulation": {...},
        "population": [{...}, ...], ...}``."""
        return cls(to_toml(config), source="<dict>", **kwargs)

    # ---- running ----------------------------------------------------------
    def run(self, duration_ms: float) -> bool:
        """Simulates ``duration_ms`` more (a whole number of steps)."""
        return self.run_until(self.time + duration_ms)

    def run_until(self, t_ms: float) -> bool:
        """Simulates up to time ``t_ms`` (a step of the grid, after ``time``)."""
        return self._sim.run_until(float(t_ms))

    @property
    def time(self) -> float:
        """The simulated time in ms."""
        return self._sim.now_ms

    @property
    def dt(self) -> float:
        return self._sim.dt_ms

    @property
    def populations(self) -> list[str]:
        return list(self._populations)

    @property
    def projections(self) -> list[str]:
        return list(self._projections)

    def end(self) -> dict:
        """Ends the run (the output file, if any, finished); the summary."""
        return self._sim.end()

    def __enter__(self) -> "Simulation":
        return self

    def __exit__(self, *exc) -> None:
        if not self._sim.ended:
            self.end()

    # ---- results ----------------------------------------------------------
    def spikes(self, population: str) -> tuple[np.ndarray, np.ndarray]:
        """(times in ms, node ids) of every spike of ``population`` so far, in
        time order (then id)."""
        return self._sim.spikes(self._population_index(population))

    def spike_data(self, population: str):
        """The spikes of ``population`` so far as a :class:`spikeline.files.Spikes`
        (what ``stats`` and ``plots`` take), observed over [0, ``time``]."""
        from .files import Spikes

        k = self._population_index(population)
        times, ids = self._sim.spikes(k)
        return Spikes(population, times, ids, self._sim.sizes[k], 0.0, self.time, "by_time")

    def all_spikes(self) -> dict:
        """``{population: Spikes}`` for every population, as
        ``spikeline.open_file(...).all_spikes()`` gives them from a file."""
        return {name: self.spike_data(name) for name in self._populations}

    def trace(self, population: str, index: int = 0) -> dict:
        """The ``index``-th ``[[record]]`` of ``population``: ``data``
        (frames x nodes*variables, float32, node-major as in the file),
        ``times`` (ms), ``nodes``, ``variables``, ``units``."""
        found = [k for k in range(self._sim.trace_count())
                 if self._sim.trace(k)["population"] == population]
        if index >= len(found):
            raise _core.ConfigError(
                f"population '{population}' has {len(found)} [[record]] table(s); "
                f"index {index} is out of range")
        return _with_times(self._sim.trace(found[index]))

    def trace_named(self, name: str) -> dict:
        """The ``[[record]]`` called ``name``, as ``trace()`` gives it."""
        for k in range(self._sim.trace_count()):
            t = self._sim.trace(k)
            if t["name"] == name:
                return _with_times(t)
        raise _core.ConfigError(f"no [[record]] named '{name}'")

    def state(self, population: str, variable: str) -> np.ndarray:
        """A state variable of every neuron of ``population``, now."""
        return self._sim.state(self._population_index(population), variable)

    def set_state(self, population: str, variable: str, values) -> None:
        """Sets a state variable of every neuron (a number or an array).

        Models updated event by event (``iaf_psc_delta``, whose neurons hold
        their state as of their last input) take new state before the first
        run only; stepped models take it between any two pieces."""
        k = self._population_index(population)
        v = np.asarray(values, dtype=np.float64)
        if v.ndim == 0:
            v = np.full(len(self._sim.state(k, variable)), float(v))
        self._sim.set_state(k, variable, np.ascontiguousarray(v.ravel()))

    def set_params(self, population: str, params: dict) -> None:
        """New values for parameters of ``population``, between pieces, as
        NEST's ``SetStatus`` between ``Simulate`` calls: each a number, or an
        array of one value per neuron for the parameters the model marks
        per-neuron. They are checked as in a config (names, ranges, relations
        such as ``V_reset < V_th``); the model's propagators are recomputed
        and its state kept. Parameters not named keep their values.

        Every built-in neuron model takes them, and so do the generators,
        with NEST's semantics: a ``poisson_generator``'s new ``rate``,
        ``start``, ``stop`` apply from the next step on (its spikes already
        emitted stay; the spike it had drawn beyond now is discarded and its
        train drawn anew, still a function of the seed alone, the same at any
        thread count); a ``spike_generator``'s new ``spike_times`` (or
        ``spike_times_file``) replace its times to come, and a time at or
        before the current time is an error naming it and the valid range.
        ``iaf_psc_delta`` (updated event by event) takes them before the
        first run only."""
        self._sim.set_params(self._population_index(population), _param_values(params))

    def params(self, population: str) -> dict:
        """Every parameter of ``population`` as now in force (defaults
        included; an array where the values differ per neuron)."""
        return self._sim.params(self._population_index(population))

    def set_stimulus(self, name: str, params: dict) -> None:
        """New values for parameters of the ``[[stimulus]]`` ``name``, between
        pieces (``dc_generator``: amplitude, start, stop; ``step_current``:
        amplitude_times, amplitude_values; ``ac_current``: amplitude,
        offset, frequency, phase, start, stop; ``noise_current``: mean, std,
        dt, start, stop; ``poisson_input``: rate, sources, weight, start,
        stop), checked as in a config. From the next step on the device acts
        as if configured so from the start: a dc_generator's current is at
        once what its new schedule gives now, and a poisson_input draws at
        its new rate."""
        self._sim.set_stimulus(name, _param_values(params))

    def stimulus_params(self, name: str) -> dict:
        """Every parameter of the stimulus ``name`` as now in force."""
        return self._sim.stimulus_params(name)

    def synapses(self, projection: str) -> dict:
        """Every synapse of ``projection`` in the SONATA edges' order:
        ``source``, ``target``, ``delay`` (ms), ``weight`` (current)."""
        return self._sim.synapses(self._projection_index(projection))

    def weights(self, projection: str) -> np.ndarray:
        return self.synapses(projection)["weight"]

    def set_weights(self, projection: str, weights) -> None:
        """New weights for every synapse of ``projection`` (a number or an
        array in the order of ``synapses()``)."""
        k = self._projection_index(projection)
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim == 0:
            w = np.full(len(self._sim.synapses(k)["weight"]), float(w))
        self._sim.set_weights(k, np.ascontiguousarray(w.ravel()))

    def _population_index(self, name: str) -> int:
        return _index(name, self._populations, "population")

    def _projection_index(self, name: str) -> int:
        return _index(name, self._projections, "projection")


def _with_times(trace: dict) -> dict:
    """A trace with the time of each frame (ms)."""
    trace["times"] = trace["start_ms"] + trace["interval_ms"] * np.arange(trace["data"].shape[0])
    return trace


def _param_values(params: dict) -> dict:
    """Numbers as floats, arrays as lists of floats, a list of lists (one
    per neuron, of any lengths: spike_times) as lists of lists of floats,
    text as it is."""
    out = {}
    for name, value in params.items():
        if isinstance(value, str):
            out[name] = value
            continue
        if isinstance(value, (list, tuple)) and any(
                isinstance(x, (list, tuple, np.ndarray)) for x in value):
            out[name] = [[float(t) for t in np.asarray(x, dtype=np.float64).ravel()]
                         for x in value]
            continue
        v = np.asarray(value, dtype=np.float64)
        out[name] = float(v) if v.ndim == 0 else [float(x) for x in v.ravel()]
    return out


def _index(name: str, names: list[str], what: str) -> int:
    if name in names:
        return names.index(name)
    raise _core.ConfigError(f"unknown {what} '{name}'; the network has: {', '.join(names)}")


# ---- a dict as TOML text ---------------------------------------------------

def to_toml(config: Mapping[str, Any]) -> str:
    """The TOML text of a config dict: tables for dicts, arrays of tables for
    lists of dicts, and values for the rest."""
    if not isinstance(config, Mapping):
        raise TypeError(f"a config is a dict, not {type(config).__name__}")
    lines: list[str] = []
    _table(lines, [], config)
    return "\n".join(lines) + "\n"


def _key(k: Any) -> str:
    if not isinstance(k, str):
        raise TypeError(f"config keys are strings, got {k!r}")
    if k and all(c.isalnum() or c in "_-" for c in k) and k.isascii():
        return k
    return json.dumps(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return repr(f)
    if isinstance(v, str):
        return json.dumps(v)  # JSON's string escapes are TOML's basic string's
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, Iterable):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} ({type(v).__name__}) into a config")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(x, Mapping) for x in v)


def _table(lines: list[str], path: list[str], table: Mapping[str, Any]) -> None:
    # Values first, then sections and arrays of tables (TOML's order). Below
    # the top level a dict (a model's params) is an inline table.
    def is_section(v: Any) -> bool:
        return (isinstance(v, Mapping) and not path) or _is_table_array(v)

    for k, v in table.items():
        if not is_section(v):
            lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in table.items():
        if not is_section(v):
            continue
        here = path + [_key(k)]
        items = [v] if isinstance(v, Mapping) else v
        for item in items:
            lines.append("")
            lines.append(f"[{'.'.join(here)}]" if isinstance(v, Mapping)
                         else f"[[{'.'.join(here)}]]")
            _table(lines, here, item)
