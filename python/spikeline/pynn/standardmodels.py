"""PyNN's standard cell types, synapse types and current sources on
spikeline's models, with PyNN's names and units translated exactly.

| PyNN | spikeline | units: PyNN -> spikeline |
|---|---|---|
| IF_curr_exp | iaf_psc_exp | cm nF -> C_m pF; i_offset nA -> I_e pA; weight nA -> pA |
| IF_cond_exp | iaf_cond_exp | tau_m -> g_L = 1000 cm / tau_m nS; weight uS -> nS |
| IF_curr_delta | iaf_psc_delta | weight mV (a jump of V_m) |
| Izhikevich | izhikevich | i_offset nA -> I_e (x 1000, as NEST); weight mV |
| SpikeSourcePoisson | poisson_generator | duration -> stop = start + duration |
| SpikeSourceArray | spike_generator | spike_times (ms, on the grid) |

A cell type carries, besides PyNN's translations:
- ``spikeline_model``: the spikeline model name;
- ``weight_scale``: PyNN weight units -> spikeline's (x 1000 for nA -> pA
  and uS -> nS);
- ``state_variable_translations``: PyNN's recordable and initial
  variables onto spikeline's state variables, with their scale.
"""

from __future__ import annotations

from pyNN.standardmodels import build_translations, cells, synapses

# ---- cell types ---------------------------------------------------------------

_LIF_COMMON = (
    ("cm", "C_m", 1000.0),
    ("v_rest", "E_L"),
    ("v_reset", "V_reset"),
    ("v_thresh", "V_th"),
    ("tau_refrac", "t_ref"),
    ("i_offset", "I_e", 1000.0),
)
_EXP_SYNAPSES = (("tau_syn_E", "tau_syn_ex"), ("tau_syn_I", "tau_syn_in"))


class IF_curr_exp(cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    spikeline_model = "iaf_psc_exp"
    weight_scale = 1000.0  # nA -> pA
    translations = build_translations(("tau_m", "tau_m"), *_EXP_SYNAPSES, *_LIF_COMMON)
    state_variable_translations = build_translations(
        ("v", "V_m"),
        ("isyn_exc", "I_syn_ex", 1000.0),
        ("isyn_inh", "I_syn_in", 1000.0),
    )


class IF_cond_exp(cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    spikeline_model = "iaf_cond_exp"
    weight_scale = 1000.0  # uS -> nS
    translations = build_translations(
        ("tau_m", "g_L", "1000.0*cm/tau_m", "C_m/g_L"),
        ("e_rev_E", "E_ex"),
        ("e_rev_I", "E_in"),
        *_EXP_SYNAPSES,
        *_LIF_COMMON,
    )
    state_variable_translations = build_translations(
        ("v", "V_m"),
        ("gsyn_exc", "g_ex", 1000.0),
        ("gsyn_inh", "g_in", 1000.0),
    )


class IF_curr_delta(cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    spikeline_model = "iaf_psc_delta"
    weight_scale = 1.0  # mV
    translations = build_translations(("tau_m", "tau_m"), *_LIF_COMMON)
    state_variable_translations = build_translations(("v", "V_m"))


class Izhikevich(cells.Izhikevich):
    __doc__ = cells.Izhikevich.__doc__
    spikeline_model = "izhikevich"
    # A PyNN weight is a jump of v in mV; spikeline's izhikevich takes a
    # weight as a current held for one step, which moves v by weight * dt
    # over that step: the backend divides by dt (build.py).
    weight_scale = 1.0
    weight_per_dt = True
    translations = build_translations(
        ("a", "a"),
        ("b", "b"),
        ("c", "c"),
        ("d", "d"),
        ("i_offset", "I_e", 1000.0),
    )
    state_variable_translations = build_translations(("v", "V_m"), ("u", "U_m"))


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    spikeline_model = "poisson_generator"
    weight_scale = None
    translations = build_translations(
        ("rate", "rate"),
        ("start", "start"),
        ("duration", "stop", "start + duration", "stop - start"),
    )
    state_variable_translations = {}


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    spikeline_model = "spike_generator"
    weight_scale = None
    translations = build_translations(("spike_times", "spike_times"))
    state_variable_translations = {}


# ---- synapse types ----------------------------------------------------------------
# Native parameters stay in PyNN's units here: what a weight means depends on
# the target cell type, so build.py scales it per projection.


class _DefaultDelay:
    """PyNN's default delay of a synapse type: setup()'s min_delay."""

    def _get_minimum_delay(self):
        from .simulator import state

        return state.min_delay


class StaticSynapse(_DefaultDelay, synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(("weight", "weight"), ("delay", "delay"))


class STDPMechanism(_DefaultDelay, synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = build_translations(
        ("weight", "weight"),
        ("delay", "delay"),
        ("dendritic_delay_fraction", "dendritic_delay_fraction"),
    )


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = build_translations(
        ("tau_plus", "tau_plus"),
        ("tau_minus", "tau_minus"),
        ("A_plus", "A_plus"),
        ("A_minus", "A_minus"),
    )
    possible_models = {"stdp"}


class AdditiveWeightDependence(synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = build_translations(("w_max", "w_max"), ("w_min", "w_min"))
    possible_models = {"stdp"}
    spikeline_dependence = "additive"


class MultiplicativeWeightDependence(synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = build_translations(("w_max", "w_max"), ("w_min", "w_min"))
    possible_models = {"stdp"}
    spikeline_dependence = "multiplicative"


class TsodyksMarkramSynapse(_DefaultDelay, synapses.TsodyksMarkramSynapse):
    __doc__ = synapses.TsodyksMarkramSynapse.__doc__
    translations = build_translations(
        ("weight", "weight"),
        ("delay", "delay"),
        ("U", "U"),
        ("tau_rec", "tau_rec"),
        ("tau_facil", "tau_facil"),
    )


# ---- current sources ----------------------------------------------------------------
# Defined in electrodes.py (they act on the engine); re-exported here.
from .electrodes import ACSource, DCSource, NoisyCurrentSource, StepCurrentSource  # noqa: E402,F401

# The cell types this backend runs (list_standard_models()).
CELL_TYPES = (IF_curr_exp, IF_cond_exp, IF_curr_delta, Izhikevich, SpikeSourcePoisson,
              SpikeSourceArray)

__all__ = [
    "IF_curr_exp", "IF_cond_exp", "IF_curr_delta", "Izhikevich", "SpikeSourcePoisson",
    "SpikeSourceArray", "StaticSynapse", "STDPMechanism", "SpikePairRule",
    "AdditiveWeightDependence", "MultiplicativeWeightDependence", "TsodyksMarkramSynapse",
    "DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource",
]
