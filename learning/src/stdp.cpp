#include "spikeline/learning/stdp.hpp"

#include "bounds.hpp"

#include <algorithm>
#include <cmath>

#include "spikeline/engine/error.hpp"

namespace spikeline::learning {

const ParamTable<StdpParams>& StdpParams::table() {
  using P = Param<StdpParams>;
  using S = StdpParams;
  static const ParamTable<S> t{
      P::number("A_plus", "", &S::A_plus, Range::nonnegative, "potentiation amplitude"),
      P::number("A_minus", "", &S::A_minus, Range::nonnegative, "depression amplitude"),
      P::number("tau_plus", "ms", &S::tau_plus, Range::positive, "presynaptic trace time constant"),
      P::number("tau_minus", "ms", &S::tau_minus, Range::positive,
                "postsynaptic trace time constant"),
      P::number("w_min", "", &S::w_min, Range::finite, "lower weight bound"),
      P::number("w_max", "", &S::w_max, Range::finite, "upper weight bound (> w_min)"),
      P::choice("pairing", &S::pairing, {"all", "nearest"}, "spike pairing"),
      P::choice("weight_dependence", &S::dependence, {"additive", "multiplicative"},
                "hard bounds, or soft bounds (steps scaled by the distance to the bound)"),
  };
  return t;
}

StdpParams::StdpParams(const ParamMap& p) {
  table().read(*this, p);
  check_less(w_min, p.item("w_min"), w_max, p.item("w_max"), "");
}

Stdp::Stdp(const StdpParams& p, const TimeGrid& grid)
    : p_(p), decay_plus_(grid.dt(), p.tau_plus), decay_minus_(grid.dt(), p.tau_minus) {}

void Stdp::store(SynapseBlock& block, PartState& s, std::uint32_t k, double w) const {
  if (p_.dependence == StdpParams::Dependence::additive) w = std::clamp(w, p_.w_min, p_.w_max);
  s.w[k] = w;
  block.weight[k] = static_cast<float>(w);
}

void Stdp::check_weights(double min, double max, const std::string& projection) const {
  detail::check_weight_range("stdp", p_.w_min, p_.w_max, min, max, projection);
}

void Stdp::weights_replaced(unsigned part, const SynapseBlock& block) {
  if (part < state_.size()) state_[part].w.assign(block.weight.begin(), block.weight.end());
}

void Stdp::bind(unsigned part, const SynapseBlock& block, IndexRange targets,
                const std::string& projection) {
  PartState& s = detail::partition_state(state_, part);
  s.w.assign(block.weight.begin(), block.weight.end());
  s.pre.assign(block.group_count(), Trace{});
  s.post.assign(targets.end - targets.begin, Trace{});
  s.first_target = targets.begin;
  detail::check_block_weights("stdp", p_.w_min, p_.w_max, block, projection);
}

void Stdp::on_pre(unsigned part, SynapseBlock& block, std::uint32_t group, Step t) {
  PartState& s = state_[part];
  const DelayGroup g = block.group(group);
  const bool additive = p_.dependence == StdpParams::Dependence::additive;
  const bool nearest = p_.pairing == StdpParams::Pairing::nearest;
  for (std::uint32_t k = g.begin; k < g.end; ++k) {
    const double y = s.post[block.target_of(g, k) - s.first_target].at(t, decay_minus_);
    if (y == 0) continue;
    const double w = s.w[k];
    store(block, s, k, w - p_.A_minus * (additive ? 1.0 : w - p_.w_min) * y);
  }
  s.pre[group].jump(t, decay_plus_, nearest);
}

void Stdp::on_post(unsigned part, SynapseBlock& block, NeuronIndex target,
                   std::span<const std::uint32_t> synapses, std::span<const std::uint32_t> groups,
                   Step t) {
  PartState& s = state_[part];
  const bool additive = p_.dependence == StdpParams::Dependence::additive;
  const bool nearest = p_.pairing == StdpParams::Pairing::nearest;
  for (std::size_t n = 0; n < synapses.size(); ++n) {
    const double x = s.pre[groups[n]].at(t, decay_plus_);
    if (x == 0) continue;
    const std::uint32_t k = synapses[n];
    const double w = s.w[k];
    store(block, s, k, w + p_.A_plus * (additive ? 1.0 : p_.w_max - w) * x);
  }
  s.post[target - s.first_target].jump(t, decay_minus_, nearest);
}

RuleInfo stdp_rule_info() {
  return tabled_rule<Stdp, StdpParams>(
      "stdp",
      "pair-based STDP with traces: all-to-all or nearest pairing, additive or multiplicative "
      "(soft-bound) weight dependence");
}

void Stdp::checkpoint(unsigned part, StateArchive& a) {
  auto& st = state_[part];
  a.field("w", st.w);
  a.field("pre", st.pre);
  a.field("post", st.post);
}

}  // namespace spikeline::learning
