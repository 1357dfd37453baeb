#include "spikeline/learning/triplet_stdp.hpp"

#include "bounds.hpp"

#include <algorithm>

#include "spikeline/engine/error.hpp"

namespace spikeline::learning {

const ParamTable<TripletStdpParams>& TripletStdpParams::table() {
  using P = Param<TripletStdpParams>;
  using S = TripletStdpParams;
  static const ParamTable<S> t{
      P::number("A2_plus", "", &S::A2_plus, Range::nonnegative, "pair potentiation"),
      P::number("A3_plus", "", &S::A3_plus, Range::nonnegative, "triplet potentiation"),
      P::number("A2_minus", "", &S::A2_minus, Range::nonnegative, "pair depression"),
      P::number("A3_minus", "", &S::A3_minus, Range::nonnegative, "triplet depression"),
      P::number("tau_plus", "ms", &S::tau_plus, Range::positive, "fast presynaptic trace r1"),
      P::number("tau_minus", "ms", &S::tau_minus, Range::positive, "fast postsynaptic trace o1"),
      P::number("tau_x", "ms", &S::tau_x, Range::positive, "slow presynaptic trace r2"),
      P::number("tau_y", "ms", &S::tau_y, Range::positive, "slow postsynaptic trace o2"),
      P::number("w_min", "", &S::w_min, Range::finite, "lower weight bound"),
      P::number("w_max", "", &S::w_max, Range::finite, "upper weight bound (> w_min)"),
      P::choice("interaction", &S::nearest, {"all", "nearest"}, "spike interaction"),
  };
  return t;
}

TripletStdpParams::TripletStdpParams(const ParamMap& p) {
  table().read(*this, p);
  check_less(w_min, p.item("w_min"), w_max, p.item("w_max"), "");
}

TripletStdp::TripletStdp(const TripletStdpParams& p, const TimeGrid& grid)
    : p_(p),
      decay_plus_(grid.dt(), p.tau_plus),
      decay_minus_(grid.dt(), p.tau_minus),
      decay_x_(grid.dt(), p.tau_x),
      decay_y_(grid.dt(), p.tau_y) {}

void TripletStdp::store(SynapseBlock& block, PartState& s, std::uint32_t k, double w) const {
  w = std::clamp(w, p_.w_min, p_.w_max);
  s.w[k] = w;
  block.weight[k] = static_cast<float>(w);
}

void TripletStdp::check_weights(double min, double max, const std::string& projection) const {
  detail::check_weight_range("triplet_stdp", p_.w_min, p_.w_max, min, max, projection);
}

void TripletStdp::weights_replaced(unsigned part, const SynapseBlock& block) {
  if (part < state_.size()) state_[part].w.assign(block.weight.begin(), block.weight.end());
}

void TripletStdp::bind(unsigned part, const SynapseBlock& block, IndexRange targets,
                       const std::string& projection) {
  PartState& s = detail::partition_state(state_, part);
  s.w.assign(block.weight.begin(), block.weight.end());
  s.r1.assign(block.group_count(), Trace{});
  s.r2.assign(block.group_count(), Trace{});
  s.o1.assign(targets.end - targets.begin, Trace{});
  s.o2.assign(targets.end - targets.begin, Trace{});
  s.first_target = targets.begin;
  detail::check_block_weights("triplet_stdp", p_.w_min, p_.w_max, block, projection);
}

void TripletStdp::on_pre(unsigned part, SynapseBlock& block, std::uint32_t group, Step t) {
  PartState& s = state_[part];
  const DelayGroup g = block.group(group);
  const double r2 = s.r2[group].at(t, decay_x_);  // before this arrival's own jump
  for (std::uint32_t k = g.begin; k < g.end; ++k) {
    const double o1 = s.o1[block.target_of(g, k) - s.first_target].at(t, decay_minus_);
    if (o1 == 0) continue;
    store(block, s, k, s.w[k] - o1 * (p_.A2_minus + p_.A3_minus * r2));
  }
  s.r1[group].jump(t, decay_plus_, p_.nearest);
  s.r2[group].jump(t, decay_x_, p_.nearest);
}

void TripletStdp::on_post(unsigned part, SynapseBlock& block, NeuronIndex target,
                          std::span<const std::uint32_t> synapses,
                          std::span<const std::uint32_t> groups, Step t) {
  PartState& s = state_[part];
  const std::size_t j = target - s.first_target;
  const double o2 = s.o2[j].at(t, decay_y_);  // before this spike's own jump
  for (std::size_t n = 0; n < synapses.size(); ++n) {
    const double r1 = s.r1[groups[n]].at(t, decay_plus_);
    if (r1 == 0) continue;
    const std::uint32_t k = synapses[n];
    store(block, s, k, s.w[k] + r1 * (p_.A2_plus + p_.A3_plus * o2));
  }
  s.o1[j].jump(t, decay_minus_, p_.nearest);
  s.o2[j].jump(t, decay_y_, p_.nearest);
}

RuleInfo triplet_stdp_rule_info() {
  return tabled_rule<TripletStdp, TripletStdpParams>(
      "triplet_stdp", "triplet STDP (Pfister and Gerstner 2006), all-to-all or nearest-spike");
}

void TripletStdp::checkpoint(unsigned part, StateArchive& a) {
  auto& st = state_[part];
  a.field("w", st.w);
  a.field("r1", st.r1);
  a.field("r2", st.r2);
  a.field("o1", st.o1);
  a.field("o2", st.o2);
}

}  // namespace spikeline::learning
