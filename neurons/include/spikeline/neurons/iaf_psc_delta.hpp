// iaf_psc_delta: leaky integrate-and-fire neuron with delta-shaped synaptic
// input (a spike makes the membrane potential jump), exact integration.
//
// Equations
//   C_m dV/dt = -C_m / tau_m (V - E_L) + I_e + I_inj(t) + C_m sum_k w_k delta(t - t_k)
//   V >= V_th: spike, V = V_reset, refractory for t_ref
//   V is bounded below by V_min (if given; after each update V = max(V, V_min)).
// The synaptic weight w is the jump of V in mV; excitatory (w > 0) and
// inhibitory (w < 0) jumps are simply added.
//
// Integration (exact between steps, as NEST's iaf_psc_delta):
//   V(t) = E_L + (V(t-1) - E_L) P22 + (I_e + I_inj) P20 + sum of jumps arriving at t
//   P22 = exp(-dt / tau_m), P20 = tau_m / C_m (1 - P22)
// then V = max(V, V_min), then the threshold test V >= V_th.
//
// Refractoriness (NEST's convention, refractory_input = false): a neuron that
// spikes at step s is refractory for steps s+1 .. s+R, R = t_ref / dt (t_ref
// must be a whole number of steps): V is held at V_reset and input arriving at
// those steps is discarded. At step s+R+1 it is free again: V(s+R) = V_reset
// and V evolves from there, so the first free step integrates one step from
// V_reset. t_ref = 0 means no refractory period.
//
// Update modes. The model is event-driven (preferred_mode() == event_driven)
// when I_e == 0 and E_L < V_th: a neuron at rest can then only reach threshold
// on input, so it is touched only when input arrives. Each neuron stores the
// step at which its V is valid; on input at step t, V is propagated in closed
// form to step t-1,
//   V(t-1) = V_inf + (V(last) - V_inf) exp(-(t-1-last) dt / tau_m),
//   V_inf = E_L + I_e tau_m / C_m,
// (from V_reset at the end of the refractory period if the neuron spiked
// since), and then step t is computed with the same expression as the stepped
// path. update() (used when I_e != 0 or a current is injected) brings any
// lazily left neuron up to date first, so the two paths can be mixed and give
// the same spike steps; V agrees to rounding (exp(-n h) vs P22^n).
// In event-driven mode injected current (in.current) is not seen: the engine
// steps a population that receives a current. A neuron whose initial V_m is
// at or above V_th fires in event-driven mode only when its first input arrives.
//
// Spike-frequency adaptation (optional; off by default, and then the model is
// NEST's iaf_psc_delta). With b > 0 each spike adds b to an adaptation
// current w that decays with tau_w and hyperpolarises the membrane, as the
// spike-triggered part of the adaptive exponential neuron (Brette and
// Gerstner 2005; NEST's aeif_* names b, tau_w, w):
//   C_m dV/dt = ... - w,   tau_w dw/dt = -w,   at a spike: w += b
// It is what ends a burst that recurrent excitation keeps going: a neuron
// firing at rate f carries w ~ b f tau_w, which lowers its V by
// w tau_m / C_m. The pair (V, w) is still a linear system without input, so
// it is integrated exactly too, in closed form over any number of steps:
//   V(t) = V_inf + (V0 - V_inf) e^(-t/tau_m) - w0 (t / C_m) g(t/tau_w, t/tau_m)
//   w(t) = w0 e^(-t/tau_w),   g(a, b) = (e^-a - e^-b) / (b - a)
// (g evaluated as e^-min(a,b) (1 - e^-|a-b|) / |a-b|, which stays exact as
// tau_w approaches tau_m: g -> e^-a). Because w >= 0 only pulls V down,
// V cannot reach threshold between inputs, and the event-driven path
// stays exact. w is therefore kept >= 0: a negative initial or set w is an
// error. V_min cannot be combined with b > 0 (the clamp would break the
// closed form).
//
// Parameters (NEST names and defaults)
//   C_m      pF   250    membrane capacitance (> 0)
//   tau_m    ms   10     membrane time constant (> 0)
//   t_ref    ms   2      refractory period (>= 0, whole steps)
//   E_L      mV   -70    resting potential
//   V_reset  mV   -70    reset potential (< V_th, >= V_min)
//   V_th     mV   -55    spike threshold
//   I_e      pA   0      constant bias current
//   V_min    mV   -inf   lower bound of V; -inf (the default) means none
//   b        pA   0      spike-triggered adaptation increment (>= 0; 0: none)
//   tau_w    ms   144    adaptation time constant (> 0; NEST's aeif default)
//
// Per neuron: C_m, tau_m, t_ref, E_L, V_reset, V_th and I_e may vary (a
// distribution or an array in the config; docs/config.md); each neuron's
// P22, P20, V_inf and dt / tau_m are then computed at construction. V_min,
// b and tau_w are the population's. The population is event-driven when every neuron
// has I_e = 0 and E_L < V_th.
//
// State variables: V_m (mV), w (pA, 0 without adaptation). Initial values
// hold at step 0.
//
// References
//   Rotter S, Diesmann M (1999) Exact digital simulation of time-invariant
//   linear systems with applications to neuronal modeling. Biol Cybern 81:381.
//   NEST model iaf_psc_delta (models/iaf_psc_delta.h).
#pragma once

#include <limits>
#include <span>
#include <vector>

#include "spikeline/engine/model_table.hpp"

namespace spikeline {

// Parameters of iaf_psc_delta; the defaults are NEST's. Constructing from a
// ParamMap reads every parameter and validates the set (ConfigError).
struct IafPscDeltaParams {
  double C_m = 250.0;
  double tau_m = 10.0;
  double t_ref = 2.0;
  double E_L = -70.0;
  double V_reset = -70.0;
  double V_th = -55.0;
  double I_e = 0.0;
  double V_min = -std::numeric_limits<double>::infinity();
  double b = 0.0;
  double tau_w = 144.0;

  IafPscDeltaParams() = default;
  explicit IafPscDeltaParams(const ParamMap& p);
  // For a population of n neurons: the parameters that vary go to `each`.
  IafPscDeltaParams(const ParamMap& p, std::size_t n, PerNeuron<IafPscDeltaParams>& each);
  static const ParamTable<IafPscDeltaParams>& table();

 private:
  template <class Item>
  static void check(const IafPscDeltaParams& s, Item item);
};

class IafPscDelta final : public TabledPopulation<IafPscDelta> {
 public:
  explicit IafPscDelta(const ModelContext& ctx);

  UpdateMode preferred_mode() const override;
  void update(Step t, IndexRange r, const InputView& in, SpikeSink& out) override;
  void update_touched(Step t, std::span<const NeuronIndex> touched, const InputView& in,
                      SpikeSink& out) override;
  // V at step t is propagated to t, not read: the neuron may not have been touched since.
  double state(std::size_t var, NeuronIndex i, Step t) const override;
  std::optional<NonFiniteState> find_non_finite(IndexRange r, Step t) const override;
  // As the table's, but w must stay >= 0 (see Spike-frequency adaptation).
  void set_state(std::size_t var, NeuronIndex i, double value) override;
  static const StateTable<IafPscDelta>& state_table();
  void checkpoint_extra(StateArchive& a);

  const IafPscDeltaParams& params() const { return p_; }

 private:
  template <bool kEach>
  struct Coefs;
  template <bool kEach>
  Coefs<kEach> coefs() const;
  // V of neuron i at step `to` (>= its last update) without input; its w
  // at `to` goes to *w when given.
  double propagate(NeuronIndex i, Step to, double* w = nullptr) const;
  template <bool kEach>
  double propagate(const Coefs<kEach>& c, NeuronIndex i, Step to, double* w = nullptr) const;
  // propagate() for w > 0, past the refractory period.
  template <bool kEach>
  double propagate_adapted(const Coefs<kEach>& c, NeuronIndex i, Step to, double* w) const;
  // w of neuron i decayed from its last update over n steps.
  double decay_w(NeuronIndex i, Step n) const;
  // One step from V and w (at t-1) with bias current I and jump, then V_min
  // and threshold.
  template <bool kEach>
  void finish_step(const Coefs<kEach>& c, NeuronIndex i, Step t, double V, double w, double I,
                   double jump, SpikeSink& out);
  template <bool kEach>
  void update_range(const Coefs<kEach>& c, Step t, IndexRange r, const InputView& in,
                    SpikeSink& out);
  template <bool kEach>
  void update_touched_with(const Coefs<kEach>& c, Step t, std::span<const NeuronIndex> touched,
                           const InputView& in, SpikeSink& out);

  PerNeuron<IafPscDeltaParams> each_;  // empty: every neuron has p_
  IafPscDeltaParams p_;                // the values of the parameters that do not vary
  // With per-neuron parameters, every coefficient below per neuron (else empty).
  struct {
    AlignedVector<double> E_L, V_reset, V_th, I_e, P22, P20, V_inf, h_over_tau, h_over_C, P21;
    AlignedVector<Step> ref_steps;
  } coefs_;
  double P22_;         // exp(-dt / tau_m)
  double P20_;         // tau_m / C_m (1 - P22)
  double V_inf_;       // E_L + I_e tau_m / C_m
  double h_over_tau_;  // dt / tau_m
  Step ref_steps_;     // R = t_ref / dt
  // Adaptation (b > 0): the step's coefficients; the population's tau_w.
  bool adaptive_;
  double h_over_C_;      // dt / C_m
  double P21_;           // V's response to w over one step: (dt / C_m) g(dt/tau_w, dt/tau_m)
  double h_over_tau_w_;  // dt / tau_w
  double w_decay_;       // exp(-dt / tau_w)
  StateArray V_;
  StateArray w_;                // adaptation current (pA), valid at last_ as V_
  std::vector<Step> last_;      // step at which V_ holds
  std::vector<Step> refr_end_;  // last refractory step (spike step + R)
};

ModelInfo iaf_psc_delta_model();

}  // namespace spikeline
