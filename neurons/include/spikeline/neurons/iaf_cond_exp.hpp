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
// (dt / C_m, exp(-dt / tau_syn_x), ...) from arrays precomputed at construction.
//
// State variables: V_m (mV), g_ex (nS), g_in (nS). Initial values hold at step 0.
//
// References
//   Brette R et al. (2007) Simulation of networks of spiking neurons: a review
//   of tools and strategies. J Comput Neurosci 23:349 (benchmark 1, COBA).
//   Vogels TP, Abbott LF (2005) Signal propagation and logic gating in networks
//   of integrate-and-fire neurons. J Neurosci 25:10786.
//   NEST model iaf_cond_exp (models/iaf_cond_exp.h).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "spikeline/engine/model_table.hpp"

namespace spikeline {

struct IafCondExpParams {
  double C_m = 250.0;
  double g_L = 16.6667;
  double E_L = -70.0;
  double V_th = -55.0;
  double V_reset = -60.0;
  double t_ref = 2.0;
  double E_ex = 0.0;
  double E_in = -85.0;
  double tau_syn_ex = 0.2;
  double tau_syn_in = 2.0;
  double I_e = 0.0;

  IafCondExpParams() = default;
  explicit IafCondExpParams(const ParamMap& p);
  // For a population of n neurons: the parameters that vary go to `each`.
  IafCondExpParams(const ParamMap& p, std::size_t n, PerNeuron<IafCondExpParams>& each);
  static const ParamTable<IafCondExpParams>& table();

 private:
  template <class Item>
  static void check(const IafCondExpParams& s, Item item);
};

class IafCondExp final : public TabledPopulation<IafCondExp> {
 public:
  explicit IafCondExp(const ModelContext& ctx);

  void update(Step t, IndexRange r, const InputView& in, SpikeSink& out) override;
  static const StateTable<IafCondExp>& state_table();
  void checkpoint_extra(StateArchive& a);

  const IafCondExpParams& params() const { return p_; }

 private:
  PerNeuron<IafCondExpParams> each_;  // empty: every neuron has p_
  IafCondExpParams p_;                // the values of the parameters that do not vary
  // With per-neuron parameters, every coefficient per neuron (else empty).
  struct {
    AlignedVector<double> g_L, E_L, E_ex, E_in, I_e, h_over_C, P_ex, P_in, V_th, V_reset;
    AlignedVector<std::int32_t> ref_steps;
  } coefs_;
  double h_over_C_;     // dt / C_m
  double P_ex_, P_in_;  // exp(-dt / tau_syn_x)
  std::int32_t ref_steps_;
  StateArray V_, g_ex_, g_in_;
  AlignedVector<std::int32_t> refr_;  // remaining refractory steps
};

ModelInfo iaf_cond_exp_model();

}  // namespace spikeline
