// stdp: pair-based spike-timing-dependent plasticity with traces.
//
// Each presynaptic spike, when it arrives at the synapse (emission + delay),
// and each postsynaptic spike leaves a trace that decays exponentially:
//
//   x (presynaptic, per synapse)   dx/dt = -x / tau_plus,   x -> x + 1 at an arrival
//   y (postsynaptic, per neuron)   dy/dt = -y / tau_minus,  y -> y + 1 at a spike
//
// ("all" pairing: every earlier spike of the other side counts; with
// pairing = "nearest" the jumps are x -> 1 and y -> 1, so only the most
// recent spike counts: nearest-spike pairing, symmetric, as in Morrison et
// al. 2008 Fig. 7B). Weights change at the events, never in between:
//
//   postsynaptic spike at t:  w -> w + A_plus  * f_plus(w)  * x(t)    (potentiation)
//   presynaptic arrival at t: w -> w - A_minus * f_minus(w) * y(t)    (depression)
//
// For one isolated pair with Delta = t_post - t_arrival (t_arrival =
// t_pre + delay): Delta >= 0 gives A_plus exp(-Delta / tau_plus), Delta < 0
// gives -A_minus exp(Delta / tau_minus). An arrival and a postsynaptic
// spike in the same step count as pre before post (Delta = 0), because a
// step delivers its spikes before it updates the neurons.
//
// Weight dependence:
//   additive        f_plus = f_minus = 1, then w is clipped to [w_min, w_max]
//   multiplicative  f_plus = w_max - w, f_minus = w - w_min (soft bounds,
//                   van Rossum et al. 2000); w stays inside the bounds
//
// Parameters
//   A_plus              0.01   potentiation amplitude (>= 0), in weight units
//                              (additive) or per unit of distance to w_max
//   A_minus             0.0105 depression amplitude (>= 0)
//   tau_plus     ms     20     presynaptic trace time constant (> 0)
//   tau_minus    ms     20     postsynaptic trace time constant (> 0)
//   w_min               0      lower weight bound
//   w_max               1      upper weight bound (> w_min)
//   pairing             "all"  "all" or "nearest"
//   weight_dependence   "additive"  "additive" or "multiplicative"
// Every initial weight must lie in [w_min, w_max] (a config error otherwise,
// naming the projection). Weights are kept in double precision by the rule
// and delivered as float32.
//
// Cost: an arrival touches the synapses of one delay group, a postsynaptic
// spike the synapses onto that neuron; nothing runs per step. Presynaptic
// traces are kept per delay group (its synapses share their arrivals).
// Traces are kept lazily (the value after the last jump and its step:
// state variables x, x_step per delay group and y, y_step per target), and
// exp(-n dt / tau) comes from a table of the first 20 tau / dt steps (at
// least 1,024), computed with the very expression used beyond it.
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (learning/src/builtin.cpp), as
// a plugin's learning rule is: `pairing` and `weight_dependence` are
// choice parameters and the table is sized from tau / dt (ABI 1.1).
//
// References
//   Bi GQ, Poo MM (1998) J Neurosci 18:10464.
//   Song S, Miller KD, Abbott LF (2000) Nat Neurosci 3:919.
//   van Rossum MCW, Bi GQ, Turrigiano GG (2000) J Neurosci 20:8812.
//   Morrison A, Diesmann M, Gerstner W (2008) Biol Cybern 98:459.
#pragma once

#include <cstddef>
#include <cstdint>

#include "spikeline/learning/lazy_trace.hpp"
#include "spikeline/plugin.hpp"

namespace spikeline::learning {

struct Stdp : plugin::LearningRule {
  static constexpr const char* name = "stdp";
  static constexpr const char* doc =
      "pair-based STDP with traces: all-to-all or nearest pairing, additive or multiplicative "
      "(soft-bound) weight dependence";

  enum { A_plus, A_minus, tau_plus, tau_minus, w_min, w_max };
  static constexpr spk_param params[] = {
      plugin::param("A_plus", "", 0.01, "potentiation amplitude").nonnegative(),
      plugin::param("A_minus", "", 0.0105, "depression amplitude").nonnegative(),
      plugin::param("tau_plus", "ms", 20.0, "presynaptic trace time constant").positive(),
      plugin::param("tau_minus", "ms", 20.0, "postsynaptic trace time constant").positive(),
      plugin::param("w_min", "", 0.0, "lower weight bound"),
      plugin::param("w_max", "", 1.0, "upper weight bound (> w_min)"),
  };
  enum { pairing, weight_dependence };
  enum Pairing : std::uint32_t { all, nearest };
  enum Dependence : std::uint32_t { additive, multiplicative };
  static constexpr const char* kPairings[] = {"all", "nearest"};
  static constexpr const char* kDependences[] = {"additive", "multiplicative"};
  static constexpr spk_choice choices[] = {
      plugin::choice("pairing", "spike pairing", kPairings),
      plugin::choice("weight_dependence",
                     "hard bounds, or soft bounds (steps scaled by the distance to the bound)",
                     kDependences),
  };

  // The traces, kept lazily: the value just after the last jump, and the
  // step of that jump.
  enum { x, x_step };
  static constexpr spk_state_var pre_state[] = {
      plugin::state("x", "", "presynaptic trace after the last arrival", 0.0),
      plugin::state("x_step", "", "step of the last arrival", 0.0),
  };
  enum { y, y_step };
  static constexpr spk_state_var post_state[] = {
      plugin::state("y", "", "postsynaptic trace after the last spike", 0.0),
      plugin::state("y_step", "", "step of the last spike", 0.0),
  };

  struct Constants {
    double A_plus, A_minus, w_min, w_max;
    DecayTable plus, minus;  // exp(-n dt / tau_plus), exp(-n dt / tau_minus)
    bool additive, nearest;
  };
  // exp(-n dt / tau) for the first steps of each trace (lazy_trace.hpp).
  static std::size_t table_size(const plugin::RuleSetup<Stdp>& s);
  static void prepare(plugin::RuleSetup<Stdp>& s);
  static void check_weights(const plugin::RuleSetup<Stdp>& s, double min, double max);
  static void on_pre(plugin::Pre<Stdp>& e);
  static void on_post(plugin::Post<Stdp>& e);
};

}  // namespace spikeline::learning
