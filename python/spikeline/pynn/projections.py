"""Projection: PyNN's connectors and synapse types on spikeline projections.

How the connections are drawn:
- by PyNN's own connector code (as on every PyNN backend, so the same
  ``rng`` gives the same connections as on NEST or Brian2), handed to the
  engine as explicit edges: the default, and what ``FromListConnector``,
  ``FromFileConnector``, ``ArrayConnector``,
  ``IndexBasedProbabilityConnector`` and any connector with a
  ``NumpyRNG`` use;
- by spikeline's own counter-based generator when the connector is given
  ``rng=NativeRNG()`` (as pyNN.nest does with NEST's), or is
  ``AllToAllConnector``/``OneToOneConnector`` with weights and delays that
  need no PyNN random numbers: ``fixed_probability``, ``fixed_indegree``
  (FixedNumberPre), ``fixed_outdegree`` (FixedNumberPost),
  ``fixed_total_number``, ``all_to_all``, ``one_to_one``. These
  connections exist once the network is built; asking for them (``len``,
  ``get``) builds it.

A projection whose source or target is an Assembly (or a view) becomes one
spikeline projection per pair of populations involved.

Weights are PyNN's (nA, uS, mV) times the target cell type's scale; an
inhibitory projection onto conductance-based cells gets negative weights
(spikeline's and NEST's sign convention), current-based inhibitory weights
are negative already (PyNN's rule, checked).
"""

from __future__ import annotations

from copy import deepcopy

import numpy as np
from pyNN import common, connectors, errors
from pyNN.random import NativeRNG, RandomDistribution
from pyNN.space import Space

from . import simulator
from .simulator import check_delay_on_grid, state
from .standardmodels import STDPMechanism, StaticSynapse, TsodyksMarkramSynapse

_NATIVE_RULES = {
    connectors.AllToAllConnector: "all_to_all",
    connectors.OneToOneConnector: "one_to_one",
    connectors.FixedProbabilityConnector: "fixed_probability",
    connectors.FixedNumberPreConnector: "fixed_indegree",
    connectors.FixedNumberPostConnector: "fixed_outdegree",
    connectors.FixedTotalNumberConnector: "fixed_total_number",
}


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=Space(),
                 label=None):
        state.check_not_built("creating a Projection")
        # Before PyNN's own checks, which fail on types without translations.
        self._check_synapse_type(synapse_type or StaticSynapse())
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type, space, label)
        if source not in (None, "spike"):
            raise NotImplementedError(f"Projection source '{source}': spikeline connects spikes only")
        if getattr(self.post, "conductance_based", None) is None:
            raise NotImplementedError(
                "a Projection onto an Assembly of conductance- and current-based cells")
        if isinstance(self.synapse_type, STDPMechanism) and self.receptor_type != "excitatory":
            raise NotImplementedError(
                "STDPMechanism on an inhibitory projection (spikeline's stdp acts on "
                "positive weights)")
        self._native = self._native_spec(connector)
        self._weights_override = None
        # Explicit connections (PyNN's connector code): indices into pre/post,
        # and the synapse parameters in PyNN's units.
        self._pre = []
        self._post = []
        self._params = {}
        if self._native is None:
            connector.connect(self)
            self._pre = np.concatenate(self._pre) if self._pre else np.zeros(0, np.int64)
            self._post = np.concatenate(self._post) if self._post else np.zeros(0, np.int64)
            self._params = {k: np.concatenate(v) for k, v in self._params.items()}
            self._check_scalar_rule_parameters()
        state.projections.append(self)

    def _guess_receptor_type(self):
        # PyNN's convention: the first receptor type for weights >= 0, the
        # second for negative ones. Done here rather than by PyNN's
        # Projection because (1) PyNN 0.10's Assembly.receptor_types is a set,
        # so its "first" is random from run to run, and (2) PyNN would draw
        # a NativeRNG distribution, which spikeline draws itself.
        first = _populations_of(self.post)[0].celltype.receptor_types
        types = [t for t in first if t in self.post.receptor_types]
        if len(types) <= 1:
            self.receptor_type = types[0]
            return
        base = self.synapse_type.native_parameters["weight"].base_value
        if isinstance(base, RandomDistribution) and isinstance(base.rng, NativeRNG):
            p = base.parameters
            sample = p.get("mu", (p.get("low", 0.0) + p.get("high", 0.0)) / 2)
        else:
            ps = deepcopy(self.synapse_type.parameter_space)
            ps = self._handle_distance_expressions(ps)
            weights = ps["weight"]
            if weights.shape is None:
                weights.shape = self.shape
            sample = weights[self.pre.size - 1, self.post.size - 1]
        self.receptor_type = types[0] if np.all(np.asarray(sample) >= 0) else types[1]

    # ---- what PyNN's connectors call -------------------------------------------
    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, **parameters):
        pre = np.asarray(presynaptic_indices, dtype=np.int64).ravel()
        if pre.size == 0:
            return
        self._pre.append(pre)
        self._post.append(np.full(pre.size, int(postsynaptic_index), dtype=np.int64))
        for name, value in parameters.items():
            v = np.asarray(value, dtype=float)
            v = np.broadcast_to(v.ravel() if v.ndim else v, (pre.size,)).astype(float)
            self._params.setdefault(name, []).append(v)

    # ---- size --------------------------------------------------------------------
    def __len__(self):
        if self._native is not None or state.built:
            return int(sum(len(state.network().synapses(seg["name"])["weight"])
                           for seg in self.segments()))
        return int(len(self._pre))

    def size(self, gather=True):
        return len(self)

    # ---- the synapse type ----------------------------------------------------------
    @staticmethod
    def _check_synapse_type(st):
        if not isinstance(st, (StaticSynapse, STDPMechanism, TsodyksMarkramSynapse)):
            raise NotImplementedError(
                f"synapse type {type(st).__name__} is not supported by the spikeline backend "
                "(StaticSynapse, STDPMechanism(SpikePairRule, Additive/MultiplicativeWeight"
                "Dependence), TsodyksMarkramSynapse)")
        if isinstance(st, STDPMechanism):
            if st.voltage_dependence is not None:
                raise NotImplementedError("STDPMechanism with a voltage dependence")
            for part, allowed in ((st.timing_dependence, "SpikePairRule"),
                                  (st.weight_dependence, "AdditiveWeightDependence or "
                                   "MultiplicativeWeightDependence")):
                if part is None or not hasattr(part, "possible_models") or \
                        "stdp" not in part.possible_models:
                    raise NotImplementedError(
                        f"STDPMechanism with {type(part).__name__}: the spikeline backend "
                        f"supports {allowed}")
            if st.dendritic_delay_fraction != 0:
                # As pyNN.brian2: spikeline's rules see a presynaptic spike
                # when it arrives (the delay is axonal) and a postsynaptic
                # one at once.
                raise NotImplementedError(
                    f"STDPMechanism(dendritic_delay_fraction={st.dendritic_delay_fraction}): "
                    "spikeline's plasticity treats every delay as axonal; give "
                    "dendritic_delay_fraction=0 (as pyNN.brian2 requires too)")

    def _rule_parameter_names(self):
        return [n for n in self.synapse_type.native_parameters.keys()
                if n not in ("weight", "delay", "dendritic_delay_fraction")]

    def _check_scalar_rule_parameters(self):
        for name in self._rule_parameter_names():
            v = self._params.get(name)
            if v is not None and v.size and not np.all(v == v[0]):
                raise NotImplementedError(
                    f"{type(self.synapse_type).__name__} parameter '{name}' differing between "
                    "connections: spikeline takes one value per projection")

    def _rule_values(self):
        ps = self.synapse_type.native_parameters
        ps.shape = (self.pre.size, self.post.size)
        out = {}
        for name in self._rule_parameter_names():
            v = self._params.get(name)
            if v is not None and v.size:
                out[name] = float(v[0])
            else:
                value = ps[name]
                if not value.is_homogeneous:
                    raise NotImplementedError(
                        f"{type(self.synapse_type).__name__} parameter '{name}' differing "
                        "between connections: spikeline takes one value per projection")
                out[name] = float(value.evaluate(simplify=True))
        return out

    # ---- native rules -----------------------------------------------------------------
    def _native_spec(self, connector):
        rule = _NATIVE_RULES.get(type(connector))
        if rule is None:
            return None
        from pyNN.common import Population as BasePopulation

        whole = isinstance(self.pre, BasePopulation) and isinstance(self.post, BasePopulation)
        rng = getattr(connector, "rng", None)
        native_rng = isinstance(rng, NativeRNG)
        ps = self.synapse_type.native_parameters
        values = {}
        for name in ("weight", "delay"):
            base = ps[name].base_value
            if isinstance(base, RandomDistribution):
                if not isinstance(base.rng, NativeRNG):
                    if native_rng:
                        raise NotImplementedError(
                            f"a {name} drawn with {type(base.rng).__name__} on a connector "
                            "with NativeRNG: give both NativeRNG, or neither")
                    return None
                values[name] = base
            elif np.ndim(base) == 0 and not callable(base) and not ps[name].operations:
                values[name] = float(base)
            else:
                if native_rng:
                    raise NotImplementedError(
                        f"{name} given as {type(base).__name__} with NativeRNG connections "
                        "(spikeline draws a constant or a uniform/normal distribution)")
                return None
        if not native_rng and not any(isinstance(v, RandomDistribution)
                                      for v in values.values()):
            return None  # PyNN's code draws (or, for all_to_all/one_to_one, lists) them
        if not whole:
            if native_rng:
                raise NotImplementedError(
                    "NativeRNG connections between PopulationViews or Assemblies: "
                    "connect whole Populations, or use a NumpyRNG")
            return None
        spec = {"rule": rule,
                "autapses": bool(getattr(connector, "allow_self_connections", True) is True)}
        if rule == "fixed_probability":
            spec["p"] = float(connector.p_connect)
        elif rule in ("fixed_indegree", "fixed_outdegree"):
            n = connector.n
            if isinstance(n, RandomDistribution) or np.ndim(n) != 0:
                raise NotImplementedError(f"{type(connector).__name__} with a random n")
            spec["indegree" if rule == "fixed_indegree" else "outdegree"] = int(n)
            spec["multapses"] = bool(connector.with_replacement)
        elif rule == "fixed_total_number":
            if not connector.with_replacement:
                raise NotImplementedError(
                    "FixedTotalNumberConnector(with_replacement=False) with NativeRNG")
            spec["total"] = int(connector.n)
            spec["multapses"] = True
        spec["weight"] = values["weight"]
        spec["delay"] = values["delay"]
        return spec

    # ---- the config ---------------------------------------------------------------------
    def _index(self):
        return state.projections.index(self)

    def segments(self):
        """The spikeline projections this one becomes: name, source and target
        populations, and for explicit ones the mask of its connections."""
        k = self._index()
        if self._native is not None:
            return [{"name": f"j{k}", "pre": self.pre, "post": self.post, "mask": None}]
        pre_pop, pre_local = _locate(self.pre, self._pre)
        post_pop, post_local = _locate(self.post, self._post)
        out = []
        pairs = sorted(set(zip(pre_pop.tolist(), post_pop.tolist())))
        if not pairs:  # no connection: keep a (empty) projection between the first populations
            first_pre = _populations_of(self.pre)[0]
            first_post = _populations_of(self.post)[0]
            out.append({"name": f"j{k}_0", "pre": first_pre, "post": first_post,
                        "mask": np.zeros(0, bool), "pre_local": pre_local,
                        "post_local": post_local})
            return out
        for a, b in pairs:
            mask = (pre_pop == a) & (post_pop == b)
            out.append({"name": f"j{k}_{a}_{b}", "pre": state.populations[a],
                        "post": state.populations[b], "mask": mask,
                        "pre_local": pre_local, "post_local": post_local})
        return out

    def _weight_factor(self, post_population):
        scale = post_population.weight_scale()
        if self.receptor_type == "inhibitory" and post_population.celltype.conductance_based:
            scale = -scale
        return scale

    def projection_configs(self, edges: dict) -> list:
        """The [[projection]] tables; explicit edges go into ``edges``."""
        out = []
        for seg in self.segments():
            pre_name = state.population_name(seg["pre"])
            post_name = state.population_name(seg["post"])
            factor = self._weight_factor(seg["post"])
            entry = {"name": seg["name"], "source": pre_name, "target": post_name}
            if self._native is not None:
                spec = dict(self._native)
                weight, delay = spec.pop("weight"), spec.pop("delay")
                entry.update(spec)
                entry["weight"] = _value_spec(weight, factor, "weight")
                entry["delay"] = _value_spec(delay, 1.0, "delay")
            else:
                m = seg["mask"]
                w = self._params["weight"][m] * factor if m.size else np.zeros(0)
                d = self._params["delay"][m] if m.size else np.zeros(0)
                check_delay_on_grid(d, state.dt, f"delay of projection '{self.label}'")
                entry.update(rule="explicit", weight=0.0, delay=float(state.dt),
                             edges={"source": [], "target": []})
                edges[seg["name"]] = (seg["pre_local"][m].astype(np.uint64),
                                      seg["post_local"][m].astype(np.uint64), w, d)
            plasticity = self._plasticity(factor)
            if plasticity:
                entry["plasticity"] = plasticity
            out.append(entry)
        return out

    def _plasticity(self, factor):
        st = self.synapse_type
        if isinstance(st, StaticSynapse):
            return None
        p = self._rule_values()
        if isinstance(st, TsodyksMarkramSynapse):
            return {"rule": "tsodyks_markram", "U": p["U"], "tau_rec": p["tau_rec"],
                    "tau_facil": p["tau_facil"]}
        w_max = p["w_max"] * factor
        w_min = p["w_min"] * factor
        dependence = st.weight_dependence.spikeline_dependence
        # PyNN's additive rule (as NEST and Brian2 run it) moves a weight by
        # A * w_max per unit of trace; the multiplicative one by A times the
        # distance to the bound, as spikeline's does.
        a_scale = w_max if dependence == "additive" else 1.0
        return {"rule": "stdp", "A_plus": p["A_plus"] * a_scale, "A_minus": p["A_minus"] * a_scale,
                "tau_plus": p["tau_plus"], "tau_minus": p["tau_minus"], "w_min": w_min,
                "w_max": w_max, "weight_dependence": dependence, "pairing": "all"}

    # ---- after the build ----------------------------------------------------------------
    def _engine_connections(self):
        """pre index, post index (into self.pre/self.post), weight and delay in
        PyNN's units, plus the segment bounds, in the engine's order."""
        sim = state.network()
        pre_all, post_all, w_all, d_all, bounds = [], [], [], [], []
        pre_map = _index_map(self.pre)
        post_map = _index_map(self.post)
        for seg in self.segments():
            s = sim.synapses(seg["name"])
            pre_ids = s["source"].astype(np.int64) + int(seg["pre"].first_id)
            post_ids = s["target"].astype(np.int64) + int(seg["post"].first_id)
            pre_all.append(pre_map(pre_ids))
            post_all.append(post_map(post_ids))
            w_all.append(s["weight"].astype(float) / self._weight_factor(seg["post"]))
            d_all.append(s["delay"].astype(float))
            bounds.append((seg["name"], len(s["weight"])))
        cat = (lambda x: np.concatenate(x) if x else np.zeros(0))
        return cat(pre_all), cat(post_all), cat(w_all), cat(d_all), bounds

    def _get_attributes_as_list(self, names):
        cols = self._attribute_columns(names)
        return [tuple(row) for row in zip(*cols)] if cols else []

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        op = common.Projection.MULTI_SYNAPSE_OPERATIONS[multiple_synapses]
        pre, post = self._attribute_columns(["presynaptic_index", "postsynaptic_index"])
        out = []
        for name in names:
            name = name[:-1] if name in ("weights", "delays") else name
            (values,) = self._attribute_columns([name])
            arr = np.full((self.pre.size, self.post.size), np.nan)
            for i, j, v in zip(pre.astype(int), post.astype(int), values):
                arr[i, j] = v if np.isnan(arr[i, j]) else op(arr[i, j], v)
            out.append(arr)
        return out

    def _attribute_columns(self, names):
        if state.built or self._native is not None:
            pre, post, w, d, _ = self._engine_connections()
            n = len(w)
        else:
            pre, post = self._pre, self._post
            w, d = self._params["weight"], self._params["delay"]
            n = len(pre)
        rule = None
        cols = []
        for name in names:
            if name == "presynaptic_index":
                cols.append(pre.astype(int))
            elif name == "postsynaptic_index":
                cols.append(post.astype(int))
            elif name == "weight":
                cols.append(w)
            elif name == "delay":
                cols.append(d)
            else:
                rule = rule or self._rule_values()
                if name not in rule:
                    raise errors.NonExistentParameterError(
                        name, type(self.synapse_type).__name__, ["weight", "delay", *rule])
                cols.append(np.full(n, rule[name]))
        return cols

    def _set_attributes(self, parameter_space):
        names = list(parameter_space.keys())
        for name in names:
            if name not in ("weight", "delay"):
                raise NotImplementedError(
                    f"setting '{name}' per connection: spikeline takes one value of a synapse "
                    "rule's parameter per projection (set it on the synapse type before "
                    "connecting)")
        if not state.built and self._native is None:
            addr = (self._pre, self._post)
            for name in names:
                value = parameter_space[name]
                value.shape = (self.pre.size, self.post.size)
                new = np.asarray(value[addr], dtype=float) if len(self._pre) else np.zeros(0)
                if name == "delay":
                    check_delay_on_grid(new, state.dt, f"delay of projection '{self.label}'")
                self._params[name] = np.broadcast_to(new, self._pre.shape).astype(float)
            return
        if "delay" in names:
            raise NotImplementedError(
                "changing delays after the network is built (spikeline's delay lines are "
                "fixed at the build; set delays before the first run, or reset())")
        sim = state.network()
        pre, post, w, _, bounds = self._engine_connections()
        value = parameter_space["weight"]
        value.shape = (self.pre.size, self.post.size)
        new = np.asarray(value[(pre.astype(int), post.astype(int))], dtype=float) \
            if len(pre) else np.zeros(0)
        new = np.broadcast_to(new, pre.shape)
        at = 0
        for seg, (name, n) in zip(self.segments(), bounds):
            sim.set_weights(name, new[at:at + n] * self._weight_factor(seg["post"]))
            at += n

    # ---- reset -------------------------------------------------------------------------
    def _keep_set_weights(self):
        """Weights a script set after the build survive a reset (plastic
        changes do not): kept here, applied after the next build."""
        if not (state.built and getattr(self, "_weights_set", False)):
            return
        if self._native is None:
            # The description becomes the engine's connection list (the same
            # connections, in its order): a rebuild from it is this network.
            pre, post, w, d, _ = self._engine_connections()
            rule = {k: np.full(len(w), v) for k, v in self._rule_values().items()}
            self._pre, self._post = pre.astype(np.int64), post.astype(np.int64)
            self._params = {"weight": w, "delay": d, **rule}
            self._weights_set = False
        else:
            self._weights_override = {
                seg["name"]: state.sim.synapses(seg["name"])["weight"].astype(float)
                for seg in self.segments()}

    def apply_after_build(self, sim):
        if self._weights_override:
            for name, w in self._weights_override.items():
                sim.set_weights(name, w)

    def set(self, **attributes):
        common.Projection.set(self, **attributes)
        if state.built and "weight" in attributes:
            self._weights_set = True


# ---- helpers -------------------------------------------------------------------------------

def _populations_of(x):
    """The populations an Assembly, view or population draws its cells from."""
    if isinstance(x, common.Assembly):
        return [getattr(p, "grandparent", p) for p in x.populations]
    return [getattr(x, "grandparent", x)]


def _locate(x, indices):
    """(population index in state.populations, index within it) of the
    cells at ``indices`` of a Population, PopulationView or Assembly."""
    indices = np.asarray(indices, dtype=np.int64)
    if x in state.populations:  # the common case, without a cell id per connection
        return np.full(indices.shape, state.populations.index(x)), indices
    ids = np.asarray(x.all_cells, dtype=np.int64)[indices]
    firsts = np.array([int(p.first_id) for p in state.populations], dtype=np.int64)
    which = np.searchsorted(firsts, ids, side="right") - 1
    return which, ids - firsts[which]


def _index_map(x):
    """A function from global cell ids to indices within ``x``."""
    ids = np.asarray(x.all_cells, dtype=np.int64)
    order = np.argsort(ids)
    sorted_ids = ids[order]

    def f(q):
        pos = np.searchsorted(sorted_ids, q)
        return order[pos]

    return f


def _value_spec(value, factor, what):
    """A constant or a NativeRNG RandomDistribution as a spikeline value."""
    if not isinstance(value, RandomDistribution):
        return float(value) * factor
    p = value.parameters
    kind = value.name
    lo_hi = (lambda a, b: (min(a, b), max(a, b)))
    if kind == "uniform":
        low, high = lo_hi(p["low"] * factor, p["high"] * factor)
        return {"distribution": "uniform", "low": low, "high": high}
    if kind in ("normal", "normal_clipped", "normal_clipped_to_boundary"):
        out = {"distribution": "normal", "mean": p["mu"] * factor,
               "std": abs(p["sigma"] * factor)}
        if kind != "normal":
            low, high = lo_hi(p["low"] * factor, p["high"] * factor)
            out.update(low=low, high=high,
                       bounds="redraw" if kind == "normal_clipped" else "clip")
        return out
    raise NotImplementedError(
        f"{what} drawn from '{kind}' with NativeRNG: spikeline draws uniform, normal, "
        "normal_clipped and normal_clipped_to_boundary (use a NumpyRNG for others)")
