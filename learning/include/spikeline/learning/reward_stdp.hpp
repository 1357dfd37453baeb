// reward_stdp: reward-modulated STDP, the three-factor rule of Izhikevich
// (2007). STDP pairings do not change the weight directly; they mark the
// synapse as eligible, and the weight follows the eligibility while a
// neuromodulator (dopamine) is present:
//
//   dc/dt = -c / tau_c + STDP(pairings)        eligibility, per synapse
//   dw/dt = learning_rate * (tonic + D(t)) * c(t)
//
// D(t) is the concentration of the neuromodulator named by `modulator`
// (a [[neuromodulator]] with its own decay time tau_d and reward pulses).
// The pairings are those of stdp (traces x and y; pairing = "all" adds 1 at
// each spike, "nearest" sets the trace to 1, as Izhikevich's daspnet does):
//   postsynaptic spike at t:   c -> c + A_plus * x(t)
//   presynaptic arrival at t:  c -> c - A_minus * y(t)
// (arrival = emission + delay; an arrival and a postsynaptic spike in the
// same step count as pre before post).
//
// Exact and event-driven: c and D are exponentials between events, so the
// weight change between a synapse's events has a closed form,
//   Delta w = learning_rate * c0 * [ tonic tau_c (1 - e^{-T/tau_c})
//                                    + D(t0) (1 - e^{-lambda T}) / lambda
//                                    + sum over pulses k in (t0, t]
//                                      a_k e^{-(t_k - t0)/tau_c} (1 - e^{-lambda (t - t_k)}) /
//                                      lambda ],
//   lambda = 1/tau_c + 1/tau_d, T = t - t0,
// evaluated when a spike reaches the synapse or its target fires (and
// before weights are read); nothing visits the synapses every step. The
// weight is clipped to [w_min, w_max] at these updates. With Izhikevich's
// published discrete scheme (w += (0.002 + DA) c every 10 ms, c *= 0.99) the
// same dynamics correspond to learning_rate = 0.1 /ms, tonic = 0.002,
// tau_c = 1000 ms.
//
// Parameters
//   modulator                "dopamine" the neuromodulator read
//   tonic                    0.002  tonic dopamine level (>= 0)
//   learning_rate   1/ms     0.1    (> 0)
//   tau_c           ms       1000   eligibility time constant (> 0)
//   A_plus                   0.1    eligibility increment per causal pairing (>= 0)
//   A_minus                  0.15   eligibility decrement per acausal pairing (>= 0)
//   tau_plus        ms       20     (> 0)
//   tau_minus       ms       20     (> 0)
//   w_min                    0
//   w_max                    4      (> w_min)
//   pairing                  "all"  or "nearest"
//   U                        0.5    release fraction at rest, in (0, 1]
//   tau_rec         ms       0      recovery of the resources (0: no
//                                   short-term plasticity)
//   tau_facil       ms       0      facilitation (0: none; needs tau_rec > 0)
//
// Short-term plasticity of the learned weights (tau_rec > 0): each arrival
// delivers weight * u * x instead of the weight, with u and x following
// the Tsodyks-Markram recursion exactly as `tsodyks_markram` does
// (short_term.hpp); the learned weight w itself is unchanged by it. A
// learned assembly whose lateral weights are strong enough to ignite from
// noise then depresses its own synapses while it fires: the recurrent drive
// falls by the factor u x within a few spikes and recovers over tau_rec, a
// mechanism that can end the ignition (for EMBER's concept layer,
// docs/ember.md). With
// tau_rec = 0 the rule is the plain three-factor rule above, bit for bit.
// u and x are kept per delay group (one set per projection and group, as
// in tsodyks_markram); the synapse variables "u" and "x" are those of the
// latest arrival.
//
// Reference: Izhikevich EM (2007) Solving the distal reward problem through
// linkage of STDP and dopamine signaling. Cereb Cortex 17:2443.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/params.hpp"
#include "spikeline/engine/plasticity.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/learning/short_term.hpp"
#include "spikeline/learning/trace.hpp"

namespace spikeline::learning {

struct RewardStdpParams {
  std::string modulator = "dopamine";
  double tonic = 0.002;
  double learning_rate = 0.1;
  double tau_c = 1000.0;
  double A_plus = 0.1;
  double A_minus = 0.15;
  double tau_plus = 20.0;
  double tau_minus = 20.0;
  double w_min = 0.0;
  double w_max = 4.0;
  bool nearest = false;
  double U = 0.5;
  double tau_rec = 0.0;  // 0: no short-term plasticity
  double tau_facil = 0.0;

  RewardStdpParams() = default;
  explicit RewardStdpParams(const ParamMap& p);
  static const ParamTable<RewardStdpParams>& table();
};

class RewardStdp final : public PlasticityRule {
 public:
  RewardStdp(const RewardStdpParams& p, const TimeGrid& grid);

  std::string modulator() const override { return p_.modulator; }
  void attach(const Neuromodulator& m) override;
  void bind(unsigned part, const SynapseBlock& block, IndexRange targets,
            const std::string& projection) override;
  void check_weights(double min, double max, const std::string& projection) const override;
  void weights_replaced(unsigned part, const SynapseBlock& block) override;
  bool checkpointable() const override { return true; }
  void checkpoint(unsigned part, StateArchive& a) override;
  void on_pre(unsigned part, SynapseBlock& block, std::uint32_t group, Step t) override;
  void on_post(unsigned part, SynapseBlock& block, NeuronIndex target,
               std::span<const std::uint32_t> synapses, std::span<const std::uint32_t> groups,
               Step t) override;
  void sync(unsigned part, SynapseBlock& block, Step t) override;
  const float* delivered(unsigned part) const override {
    return short_term_ ? state_[part].amount.data() : nullptr;
  }
  std::vector<std::string> synapse_variables() const override;
  double synapse_value(std::size_t var, unsigned part, const SynapseBlock& block, std::uint32_t k,
                       Step t) const override;

  double weight(unsigned part, std::uint32_t k) const { return state_[part].syn[k].w; }
  // Eligibility of synapse k at step t (>= its last update).
  double eligibility(unsigned part, std::uint32_t k, Step t) const;

 private:
  // One record per synapse: an event touches all three, and the synapses
  // onto a neuron that fires are scattered, so one cache line each.
  struct SynapseState {
    double w;
    double c;
    Step last;  // the step w and c hold for
  };
  struct PartState {
    std::vector<SynapseState> syn;
    std::vector<Trace> pre;   // per delay group
    std::vector<Trace> post;  // per owned target
    NeuronIndex first_target = 0;
    // Short-term plasticity (tau_rec > 0 only; empty otherwise).
    std::vector<ShortTerm::Release> release;  // per delay group
    std::vector<float> amount;                // per synapse: w u x of its latest arrival
  };
  struct WeightAndEligibility {
    double w, c;
  };
  // w and c of synapse k at step t (>= its last update), from the closed
  // form; `until` = dopamine's first_after(t).
  WeightAndEligibility integrate(const PartState& s, std::uint32_t k, Step t,
                                 std::size_t until) const;
  // Integrates w and c of synapse k from its last update to step t.
  void advance(SynapseBlock& block, PartState& s, std::uint32_t k, Step t, std::size_t until) const;

  RewardStdpParams p_;
  double dt_;
  Decay decay_plus_;
  Decay decay_minus_;
  // Tables of the closed form's exponentials (built in attach(), when tau_d is known).
  Decay decay_c_;  // e^{-n dt/tau_c}
  Rise rise_c_;    // 1 - e^{-n dt/tau_c}
  Rise rise_cd_;   // 1 - e^{-lambda n dt}
  Decay decay_d_;  // e^{-n dt/tau_d}
  double lambda_ = 0;
  const Neuromodulator* dopamine_ = nullptr;
  std::optional<ShortTerm> short_term_;  // none when tau_rec = 0
  std::vector<PartState> state_;
};

RuleInfo reward_stdp_rule_info();

}  // namespace spikeline::learning
