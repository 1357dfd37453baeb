// iaf_cond_exp: leaky integrate-and-fire neuron with exponentially decaying
// synaptic conductances (conductance-based); the model of the COBA benchmark
// (Brette et al. 2007, benchmark 1; Vogels and Abbott 2005).
//
// Equations
//   C_m dV/dt = -g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in) + I_e + I_inj(t)
//   dg_ex/dt = -g_ex / tau_syn_ex + sum_k w_k delta(t - t_k)    (w_k > 0)
//   dg_in/dt = -g_in / tau_syn_in - sum_k w_k delta(t - t_k)    (w_k < 0)
//   V >= V_th: spike, V = V_reset, refractory for t_ref
// Weights are conductance jumps in nS. Excitatory input adds to g_ex;
// inhibitory weights are negative (NEST's sign convention) and their
// magnitude is added to g_in, so both conductances stay >= 0.
//
// Integration: forward Euler for V, exact exponential decay for g. Per step:
//   if not refractory:
//     V += dt / C_m (-g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in) + I_e + I_inj)
//     (with the conductances of the previous step)
//   g_ex = g_ex exp(-dt / tau_syn_ex) + input_ex
//   g_in = g_in exp(-dt / tau_syn_in) - input_in
//   if V >= V_th: spike, V = V_reset, refractory
// This follows the Brian2 reference of the COBA benchmark (method 'euler',
// which also uses the previous step's conductances for V); Brian2 decays g
// with an Euler factor (1 - dt / tau) where this model uses the exact
// exp(-dt / tau). NEST's iaf_cond_exp integrates the same ODEs with an adaptive
// RKF45 solver instead, so results agree with NEST only to the accuracy of
// Euler at the chosen dt (dt = 0.1 ms is the benchmark's resolution).
// Input arriving at step t affects V from step t+1 on.
//
// Refractoriness: a neuron that spikes at step s is refractory for steps
// s+1 .. s+R, R = t_ref / dt (whole steps): V is held at V_reset while the
// conductances keep decaying and receiving input. At step s+R+1 V integrates
// again from V_reset.
//
// Parameters (NEST names and defaults)
//   C_m        pF   250       membrane capacitance (> 0)
//   g_L        nS   16.6667   leak conductance (> 0)
//   E_L        mV   -70       leak reversal potential
//   V_th       mV   -55       spike threshold
//   V_reset    mV   -60       reset potential (< V_th)
//   t_ref      ms   2         refractory period (>= 0, whole steps)
//   E_ex       mV   0         excitatory reversal potential
//   E_in       mV   -85       inhibitory reversal potential
//   tau_syn_ex ms   0.2       excitatory conductance time constant (> 0)
//   tau_syn_in ms   2         inhibitory conductance time constant (> 0)
//   I_e        pA   0         constant bias current
//
// Every parameter may vary per neuron (a distribution or an array in the
// config; docs/config.md): the update loop then reads each coefficient
// (dt / C_m, exp(-dt / tau_syn_x), ...) from arrays precomputed once.
//
// State variables: V_m (mV), g_ex (nS), g_in (nS), refractory (remaining
// refractory steps, an int32 counter). Initial values hold at step 0; V_m
// starts at E_L.
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (builtin.cpp,
// plugin::register_catalogue): the model goes through the C ABI, the
// parameter checks and the population adapter a plugin's model goes
// through, so the whole test suite exercises that path.
//
// References
//   Brette R et al. (2007) Simulation of networks of spiking neurons: a review
//   of tools and strategies. J Comput Neurosci 23:349 (benchmark 1, COBA).
//   Vogels TP, Abbott LF (2005) Signal propagation and logic gating in networks
//   of integrate-and-fire neurons. J Neurosci 25:10786.
//   NEST model iaf_cond_exp (models/iaf_cond_exp.h).
#pragma once

#include <cstdint>

#include "spikeline/plugin.hpp"

namespace spikeline {

struct IafCondExp {
  static constexpr const char* name = "iaf_cond_exp";
  static constexpr const char* doc =
      "leaky integrate-and-fire, exponential conductance synapses (weights in nS); forward Euler "
      "for V, exact exponential decay for g (COBA benchmark model)";

  enum { C_m, g_L, E_L, V_th, V_reset, t_ref, E_ex, E_in, tau_syn_ex, tau_syn_in, I_e };
  static constexpr spk_param params[] = {
      plugin::param("C_m", "pF", 250.0, "membrane capacitance").positive().per_neuron(),
      plugin::param("g_L", "nS", 16.6667, "leak conductance").positive().per_neuron(),
      plugin::param("E_L", "mV", -70.0, "leak reversal potential").per_neuron(),
      plugin::param("V_th", "mV", -55.0, "spike threshold").per_neuron(),
      plugin::param("V_reset", "mV", -60.0, "reset potential (< V_th)").per_neuron(),
      plugin::param("t_ref", "ms", 2.0, "refractory period (whole steps)")
          .nonnegative()
          .per_neuron(),
      plugin::param("E_ex", "mV", 0.0, "excitatory reversal potential").per_neuron(),
      plugin::param("E_in", "mV", -85.0, "inhibitory reversal potential").per_neuron(),
      plugin::param("tau_syn_ex", "ms", 0.2, "excitatory conductance time constant")
          .positive()
          .per_neuron(),
      plugin::param("tau_syn_in", "ms", 2.0, "inhibitory conductance time constant")
          .positive()
          .per_neuron(),
      plugin::param("I_e", "pA", 0.0, "constant bias current").per_neuron(),
  };

  enum { V_m, g_ex, g_in, refractory };
  static constexpr spk_state_var state[] = {
      plugin::state("V_m", "mV", "membrane potential", -70.0),
      plugin::state("g_ex", "nS", "excitatory synaptic conductance", 0.0),
      plugin::state("g_in", "nS", "inhibitory synaptic conductance", 0.0),
      plugin::counter("refractory", "", "remaining refractory steps", 0),
  };

  // The coefficients when no parameter varies.
  struct Constants {
    double h_over_C, P_ex, P_in;  // dt / C_m, exp(-dt / tau_syn_x)
    std::int32_t ref_steps;       // t_ref / dt
  };
  // When some parameter varies, every coefficient the loop reads, per
  // neuron: copies of the parameters, then the derived ones (kRef: int32).
  enum { kGL, kEL, kEex, kEin, kIe, kVth, kVreset, kHOverC, kPex, kPin, kRef, kEachCount };
  static constexpr std::uint32_t each_constants = kEachCount;

  static void prepare(plugin::Setup<IafCondExp>& s);
  static void initialize(plugin::Initial<IafCondExp>& s);
  template <class N>
  static void update(N& n);
};

}  // namespace spikeline
