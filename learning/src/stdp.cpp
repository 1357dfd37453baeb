#include "spikeline/learning/stdp.hpp"

#include "bounds.hpp"

#include <algorithm>
#include <cmath>

#include "choice.hpp"
#include "spikeline/engine/error.hpp"

namespace spikeline::learning {

StdpParams::StdpParams(const ParamMap& p) {
  A_plus = p.number("A_plus", A_plus);
  A_minus = p.number("A_minus", A_minus);
  tau_plus = p.number("tau_plus", tau_plus);
  tau_minus = p.number("tau_minus", tau_minus);
  w_min = p.number("w_min", w_min);
  w_max = p.number("w_max", w_max);
  pairing = detail::choice<Pairing>(p, "pairing", "all",
                                    {{"all", Pairing::all}, {"nearest", Pairing::nearest}});
  dependence = detail::choice<Dependence>(
      p, "weight_dependence", "additive",
      {{"additive", Dependence::additive}, {"multiplicative", Dependence::multiplicative}});
  check_nonnegative(A_plus, p.item("A_plus"), "");
  check_nonnegative(A_minus, p.item("A_minus"), "");
  check_positive(tau_plus, p.item("tau_plus"), "ms");
  check_positive(tau_minus, p.item("tau_minus"), "ms");
  check_finite(w_min, p.item("w_min"), "");
  check_finite(w_max, p.item("w_max"), "");
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

void Stdp::bind(unsigned part, const SynapseBlock& block, IndexRange targets,
                const std::string& projection) {
  if (state_.size() <= part) state_.resize(part + 1);
  PartState& s = state_[part];
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
  const StdpParams d;
  RuleInfo info;
  info.name = "stdp";
  info.summary =
      "pair-based STDP with traces: all-to-all or nearest pairing, additive or multiplicative "
      "(soft-bound) weight dependence";
  info.params = {
      {"A_plus", "", d.A_plus, "potentiation amplitude (>= 0)"},
      {"A_minus", "", d.A_minus, "depression amplitude (>= 0)"},
      {"tau_plus", "ms", d.tau_plus, "presynaptic trace time constant (> 0)"},
      {"tau_minus", "ms", d.tau_minus, "postsynaptic trace time constant (> 0)"},
      {"w_min", "", d.w_min, "lower weight bound"},
      {"w_max", "", d.w_max, "upper weight bound (> w_min)"},
      {"pairing", "", NAN, "\"all\" or \"nearest\"", "all"},
      {"weight_dependence", "", NAN, "\"additive\" or \"multiplicative\"", "additive"},
  };
  info.make = [](const ParamMap& p, const TimeGrid& grid) -> std::unique_ptr<PlasticityRule> {
    return std::make_unique<Stdp>(StdpParams(p), grid);
  };
  return info;
}

void Stdp::checkpoint(unsigned part, StateArchive& a) {
  auto& st = state_[part];
  a.field("w", st.w);
  a.field("pre", st.pre);
  a.field("post", st.post);
}

}  // namespace spikeline::learning
