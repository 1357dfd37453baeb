// triplet_stdp: the triplet rule of Pfister and Gerstner (2006).
//
// Two presynaptic traces (r1 fast, r2 slow) and two postsynaptic ones (o1
// fast, o2 slow), each decaying exponentially and jumping at its side's
// spikes (arrivals at the synapse for r1, r2):
//
//   dr1/dt = -r1 / tau_plus    dr2/dt = -r2 / tau_x
//   do1/dt = -o1 / tau_minus   do2/dt = -o2 / tau_y
//
//   presynaptic arrival at t:  w -> w - o1(t) (A2_minus + A3_minus r2(t-))
//                              then r1, r2 jump
//   postsynaptic spike at t:   w -> w + r1(t) (A2_plus + A3_plus o2(t-))
//                              then o1, o2 jump
//
// where r2(t-), o2(t-) are the slow traces just before the spike's own jump.
// A jump is +1 with interaction = "all" (all-to-all) or a reset to 1 with
// interaction = "nearest" (Pfister and Gerstner's nearest-spike model).
// Weights are kept in [w_min, w_max] by clipping (additive rule). As for
// stdp, an arrival and a postsynaptic spike in the same step count as pre
// before post.
//
// Parameters (defaults: visual cortex, all-to-all, full model; Table 4 of the paper)
//   A2_plus          5e-10   pair potentiation
//   A3_plus          6.2e-3  triplet potentiation
//   A2_minus         7e-3    pair depression
//   A3_minus         2.3e-4  triplet depression
//   tau_plus   ms    16.8    r1
//   tau_minus  ms    33.7    o1
//   tau_x      ms    101     r2
//   tau_y      ms    125     o2
//   w_min            0
//   w_max            1       (> w_min)
//   interaction      "all"   "all" or "nearest"
//
// Reference: Pfister JP, Gerstner W (2006) Triplets of spikes in a model of
// spike timing-dependent plasticity. J Neurosci 26:9673.
#pragma once

#include <string>
#include <vector>

#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/params.hpp"
#include "spikeline/engine/plasticity.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/learning/trace.hpp"

namespace spikeline::learning {

struct TripletStdpParams {
  double A2_plus = 5e-10;
  double A3_plus = 6.2e-3;
  double A2_minus = 7e-3;
  double A3_minus = 2.3e-4;
  double tau_plus = 16.8;
  double tau_minus = 33.7;
  double tau_x = 101.0;
  double tau_y = 125.0;
  double w_min = 0.0;
  double w_max = 1.0;
  bool nearest = false;

  TripletStdpParams() = default;
  explicit TripletStdpParams(const ParamMap& p);
  static const ParamTable<TripletStdpParams>& table();
};

class TripletStdp final : public PlasticityRule {
 public:
  TripletStdp(const TripletStdpParams& p, const TimeGrid& grid);

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

  double weight(unsigned part, std::uint32_t k) const { return state_[part].w[k]; }

 private:
  struct PartState {
    std::vector<double> w;
    std::vector<Trace> r1, r2;  // per delay group
    std::vector<Trace> o1, o2;  // per owned target
    NeuronIndex first_target = 0;
  };
  void store(SynapseBlock& block, PartState& s, std::uint32_t k, double w) const;

  TripletStdpParams p_;
  Decay decay_plus_;
  Decay decay_minus_;
  Decay decay_x_;
  Decay decay_y_;
  std::vector<PartState> state_;
};

RuleInfo triplet_stdp_rule_info();

}  // namespace spikeline::learning
