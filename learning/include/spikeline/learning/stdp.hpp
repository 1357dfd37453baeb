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
//
// References
//   Bi GQ, Poo MM (1998) J Neurosci 18:10464.
//   Song S, Miller KD, Abbott LF (2000) Nat Neurosci 3:919.
//   van Rossum MCW, Bi GQ, Turrigiano GG (2000) J Neurosci 20:8812.
//   Morrison A, Diesmann M, Gerstner W (2008) Biol Cybern 98:459.
#pragma once

#include <string>
#include <vector>

#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/params.hpp"
#include "spikeline/engine/plasticity.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/learning/trace.hpp"

namespace spikeline::learning {

struct StdpParams {
  enum class Pairing { all, nearest };
  enum class Dependence { additive, multiplicative };

  double A_plus = 0.01;
  double A_minus = 0.0105;
  double tau_plus = 20.0;
  double tau_minus = 20.0;
  double w_min = 0.0;
  double w_max = 1.0;
  Pairing pairing = Pairing::all;
  Dependence dependence = Dependence::additive;

  StdpParams() = default;
  explicit StdpParams(const ParamMap& p);  // validates; ConfigError naming the item
  static const ParamTable<StdpParams>& table();
};

class Stdp final : public PlasticityRule {
 public:
  Stdp(const StdpParams& p, const TimeGrid& grid);

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

  // The double-precision weight of synapse k of partition `part`'s block.
  double weight(unsigned part, std::uint32_t k) const { return state_[part].w[k]; }
  const StdpParams& params() const { return p_; }

 private:
  struct PartState {
    std::vector<double> w;    // per synapse
    std::vector<Trace> pre;   // per delay group
    std::vector<Trace> post;  // per owned target
    NeuronIndex first_target = 0;
  };
  void store(SynapseBlock& block, PartState& s, std::uint32_t k, double w) const;

  StdpParams p_;
  Decay decay_plus_;
  Decay decay_minus_;
  std::vector<PartState> state_;
};

RuleInfo stdp_rule_info();

}  // namespace spikeline::learning
