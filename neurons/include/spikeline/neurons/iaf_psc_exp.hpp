// iaf_psc_exp: leaky integrate-and-fire neuron with exponentially decaying
// synaptic currents (current-based), exact integration.
//
// Equations
//   C_m dV/dt = -C_m / tau_m (V - E_L) + I_syn_ex + I_syn_in + I_e + I_inj(t)
//   dI_syn_ex/dt = -I_syn_ex / tau_syn_ex + sum_k w_k delta(t - t_k)   (w_k > 0)
//   dI_syn_in/dt = -I_syn_in / tau_syn_in + sum_k w_k delta(t - t_k)   (w_k < 0)
//   V >= V_th: spike, V = V_reset, refractory for t_ref
// Weights are current jumps in pA: excitatory input adds to I_syn_ex,
// inhibitory (negative) input adds to I_syn_in.
//
// Integration (exact, with NEST's propagators and NEST's order per step):
//   if not refractory:
//     V = E_L + (V - E_L) P22 + I_syn_ex P21ex + I_syn_in P21in + (I_e + I_inj) P20
//   I_syn_ex = I_syn_ex P11ex + input_ex;  I_syn_in = I_syn_in P11in + input_in
//   if V >= V_th: spike, V = V_reset, refractory
// with h = dt and
//   P11x = exp(-h / tau_syn_x),  P22 = exp(-h / tau_m),  P20 = tau_m / C_m (1 - P22)
//   P21x = tau_syn_x tau_m / (C_m (tau_m - tau_syn_x)) (exp(-h / tau_m) - exp(-h / tau_syn_x))
// evaluated as -tau_m / (C_m (1 - tau_m / tau_syn_x)) exp(-h / tau_syn_x)
// expm1(h (1 / tau_syn_x - 1 / tau_m)) for accuracy; in the singular case
// |tau_m - tau_syn_x| <= 1e-8 tau_m the limit P21x = h / C_m exp(-h / tau_m) is
// used (the error of either form is then below about 1e-8 relative).
// Input arriving at step t thus affects V from step t+1 on, as in NEST.
//
// Refractoriness: a neuron that spikes at step s is refractory for steps
// s+1 .. s+R, R = t_ref / dt (whole steps): V is held at V_reset, the synaptic
// currents keep evolving and keep receiving input. At step s+R+1 V integrates
// again from V_reset.
//
// Parameters (NEST names and defaults)
//   C_m        pF   250    membrane capacitance (> 0)
//   tau_m      ms   10     membrane time constant (> 0)
//   tau_syn_ex ms   2      excitatory synaptic time constant (> 0)
//   tau_syn_in ms   2      inhibitory synaptic time constant (> 0)
//   t_ref      ms   2      refractory period (>= 0, whole steps)
//   E_L        mV   -70    resting potential
//   V_reset    mV   -70    reset potential (< V_th)
//   V_th       mV   -55    spike threshold
//   I_e        pA   0      constant bias current
//
// Every parameter may vary per neuron (a distribution or an array in the
// config; docs/config.md): each neuron's propagators are then computed
// once, as above, and the update loop reads them from arrays.
//
// State variables: V_m (mV), I_syn_ex (pA), I_syn_in (pA), refractory
// (remaining refractory steps, an int32 counter). Initial values hold at
// step 0; V_m starts at E_L.
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue, as iaf_cond_exp is.
//
// References
//   Rotter S, Diesmann M (1999) Exact digital simulation of time-invariant
//   linear systems with applications to neuronal modeling. Biol Cybern 81:381.
//   Tsodyks M, Uziel A, Markram H (2000) Synchrony generation in recurrent
//   networks with frequency-dependent synapses. J Neurosci 20:RC50.
//   NEST model iaf_psc_exp (models/iaf_psc_exp.h).
#pragma once

#include <cstdint>

#include "spikeline/plugin.hpp"

namespace spikeline {

// The propagator from a synaptic current to V over one step h (NEST's P21/P32),
// stable for tau_syn close to tau_m.
double psc_exp_propagator(double tau_syn, double tau_m, double C_m, double h);

struct IafPscExp {
  static constexpr const char* name = "iaf_psc_exp";
  static constexpr const char* doc =
      "leaky integrate-and-fire, exponential current synapses (weights in pA), exact integration";

  enum { C_m, tau_m, tau_syn_ex, tau_syn_in, t_ref, E_L, V_reset, V_th, I_e };
  static constexpr spk_param params[] = {
      plugin::param("C_m", "pF", 250.0, "membrane capacitance").positive().per_neuron(),
      plugin::param("tau_m", "ms", 10.0, "membrane time constant").positive().per_neuron(),
      plugin::param("tau_syn_ex", "ms", 2.0, "excitatory synaptic time constant")
          .positive()
          .per_neuron(),
      plugin::param("tau_syn_in", "ms", 2.0, "inhibitory synaptic time constant")
          .positive()
          .per_neuron(),
      plugin::param("t_ref", "ms", 2.0, "refractory period (whole steps)")
          .nonnegative()
          .per_neuron(),
      plugin::param("E_L", "mV", -70.0, "resting potential").per_neuron(),
      plugin::param("V_reset", "mV", -70.0, "reset potential (< V_th)").per_neuron(),
      plugin::param("V_th", "mV", -55.0, "spike threshold").per_neuron(),
      plugin::param("I_e", "pA", 0.0, "constant bias current").per_neuron(),
  };

  enum { V_m, I_syn_ex, I_syn_in, refractory };
  static constexpr spk_state_var state[] = {
      plugin::state("V_m", "mV", "membrane potential", -70.0),
      plugin::state("I_syn_ex", "pA", "excitatory synaptic current", 0.0),
      plugin::state("I_syn_in", "pA", "inhibitory synaptic current (negative)", 0.0),
      plugin::counter("refractory", "", "remaining refractory steps", 0),
  };

  // The propagators when no parameter varies.
  struct Constants {
    double P11ex, P11in, P22, P21ex, P21in, P20;
    std::int32_t ref_steps;  // t_ref / dt
  };
  // When some parameter varies, every coefficient the loop reads, per
  // neuron: copies of the parameters, then the propagators (kRef: int32).
  enum { kEL, kIe, kVth, kVreset, kP22, kP21ex, kP21in, kP20, kP11ex, kP11in, kRef, kEachCount };
  static constexpr std::uint32_t each_constants = kEachCount;

  static void prepare(plugin::Setup<IafPscExp>& s);
  static void initialize(plugin::Initial<IafPscExp>& s);
  template <class N>
  static void update(N& n);
};

}  // namespace spikeline
