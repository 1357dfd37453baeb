#include "spikeline/learning/triplet_stdp.hpp"

#include "bounds.hpp"

#include <algorithm>

#include "choice.hpp"
#include "spikeline/engine/error.hpp"

namespace spikeline::learning {

TripletStdpParams::TripletStdpParams(const ParamMap& p) {
  A2_plus = p.number("A2_plus", A2_plus);
  A3_plus = p.number("A3_plus", A3_plus);
  A2_minus = p.number("A2_minus", A2_minus);
  A3_minus = p.number("A3_minus", A3_minus);
  tau_plus = p.number("tau_plus", tau_plus);
  tau_minus = p.number("tau_minus", tau_minus);
  tau_x = p.number("tau_x", tau_x);
  tau_y = p.number("tau_y", tau_y);
  w_min = p.number("w_min", w_min);
  w_max = p.number("w_max", w_max);
  nearest = detail::choice<bool>(p, "interaction", "all", {{"all", false}, {"nearest", true}});
  for (const char* a : {"A2_plus", "A3_plus", "A2_minus", "A3_minus"}) {
    check_nonnegative(p.number(a, 0.0), p.item(a), "");
  }
  check_positive(tau_plus, p.item("tau_plus"), "ms");
  check_positive(tau_minus, p.item("tau_minus"), "ms");
  check_positive(tau_x, p.item("tau_x"), "ms");
  check_positive(tau_y, p.item("tau_y"), "ms");
  check_finite(w_min, p.item("w_min"), "");
  check_finite(w_max, p.item("w_max"), "");
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

void TripletStdp::bind(unsigned part, const SynapseBlock& block, IndexRange targets,
                       const std::string& projection) {
  if (state_.size() <= part) state_.resize(part + 1);
  PartState& s = state_[part];
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
  const TripletStdpParams d;
  RuleInfo info;
  info.name = "triplet_stdp";
  info.summary = "triplet STDP (Pfister and Gerstner 2006), all-to-all or nearest-spike";
  info.params = {
      {"A2_plus", "", d.A2_plus, "pair potentiation (>= 0)"},
      {"A3_plus", "", d.A3_plus, "triplet potentiation (>= 0)"},
      {"A2_minus", "", d.A2_minus, "pair depression (>= 0)"},
      {"A3_minus", "", d.A3_minus, "triplet depression (>= 0)"},
      {"tau_plus", "ms", d.tau_plus, "fast presynaptic trace r1 (> 0)"},
      {"tau_minus", "ms", d.tau_minus, "fast postsynaptic trace o1 (> 0)"},
      {"tau_x", "ms", d.tau_x, "slow presynaptic trace r2 (> 0)"},
      {"tau_y", "ms", d.tau_y, "slow postsynaptic trace o2 (> 0)"},
      {"w_min", "", d.w_min, "lower weight bound"},
      {"w_max", "", d.w_max, "upper weight bound (> w_min)"},
      {"interaction", "", NAN, "\"all\" or \"nearest\"", "all"},
  };
  info.make = [](const ParamMap& p, const TimeGrid& grid) -> std::unique_ptr<PlasticityRule> {
    return std::make_unique<TripletStdp>(TripletStdpParams(p), grid);
  };
  return info;
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
