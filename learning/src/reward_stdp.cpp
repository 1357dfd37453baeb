#include "spikeline/learning/reward_stdp.hpp"

#include "bounds.hpp"
#include "choice.hpp"

#include <algorithm>
#include <cmath>

#include "spikeline/engine/error.hpp"

namespace spikeline::learning {

RewardStdpParams::RewardStdpParams(const ParamMap& p) {
  modulator = p.text("modulator", modulator);
  tonic = p.number("tonic", tonic);
  learning_rate = p.number("learning_rate", learning_rate);
  tau_c = p.number("tau_c", tau_c);
  A_plus = p.number("A_plus", A_plus);
  A_minus = p.number("A_minus", A_minus);
  tau_plus = p.number("tau_plus", tau_plus);
  tau_minus = p.number("tau_minus", tau_minus);
  w_min = p.number("w_min", w_min);
  w_max = p.number("w_max", w_max);
  nearest = detail::choice<bool>(p, "pairing", "all", {{"all", false}, {"nearest", true}});
  if (modulator.empty()) {
    throw ConfigError(fmt::format("{} must name a [[neuromodulator]]", p.item("modulator")));
  }
  check_nonnegative(tonic, p.item("tonic"), "");
  check_positive(learning_rate, p.item("learning_rate"), "1/ms");
  check_positive(tau_c, p.item("tau_c"), "ms");
  check_nonnegative(A_plus, p.item("A_plus"), "");
  check_nonnegative(A_minus, p.item("A_minus"), "");
  check_positive(tau_plus, p.item("tau_plus"), "ms");
  check_positive(tau_minus, p.item("tau_minus"), "ms");
  check_finite(w_min, p.item("w_min"), "");
  check_finite(w_max, p.item("w_max"), "");
  check_less(w_min, p.item("w_min"), w_max, p.item("w_max"), "");
}

RewardStdp::RewardStdp(const RewardStdpParams& p, const TimeGrid& grid)
    : p_(p),
      dt_(grid.dt()),
      decay_plus_(grid.dt(), p.tau_plus),
      decay_minus_(grid.dt(), p.tau_minus),
      decay_c_(grid.dt(), p.tau_c),
      rise_c_(grid.dt(), p.tau_c),
      // Placeholders (the smallest tables): attach() builds them once tau_d is known.
      rise_cd_(grid.dt(), grid.dt()),
      decay_d_(grid.dt(), grid.dt()) {}

void RewardStdp::attach(const Neuromodulator& m) {
  dopamine_ = &m;
  lambda_ = 1.0 / p_.tau_c + 1.0 / m.tau();
  rise_cd_ = Rise(dt_, 1.0 / lambda_);
  decay_d_ = Decay(dt_, m.tau());
}

void RewardStdp::check_weights(double min, double max, const std::string& projection) const {
  detail::check_weight_range("reward_stdp", p_.w_min, p_.w_max, min, max, projection);
}

void RewardStdp::bind(unsigned part, const SynapseBlock& block, IndexRange targets,
                      const std::string& projection) {
  if (!dopamine_) {
    throw Error(ExitCode::software,
                fmt::format("projection '{}': reward_stdp is not attached to a neuromodulator",
                            projection));
  }
  if (state_.size() <= part) state_.resize(part + 1);
  PartState& s = state_[part];
  s.syn.resize(block.weight.size());
  for (std::size_t k = 0; k < s.syn.size(); ++k) s.syn[k] = {block.weight[k], 0.0, 0};
  s.pre.assign(block.group_count(), Trace{});
  s.post.assign(targets.end - targets.begin, Trace{});
  s.first_target = targets.begin;
  detail::check_block_weights("reward_stdp", p_.w_min, p_.w_max, block, projection);
}

double RewardStdp::eligibility(unsigned part, std::uint32_t k, Step t) const {
  return integrate(state_[part], k, t, dopamine_->first_after(t)).c;
}

double RewardStdp::synapse_value(std::size_t var, unsigned part, const SynapseBlock&,
                                 std::uint32_t k, Step t) const {
  const auto now = integrate(state_[part], k, t, dopamine_->first_after(t));
  return var == 0 ? now.w : now.c;
}

RewardStdp::WeightAndEligibility RewardStdp::integrate(const PartState& s, std::uint32_t k, Step t,
                                                       std::size_t until) const {
  const SynapseState& y = s.syn[k];
  const Step t0 = y.last;
  const double c0 = y.c;
  if (t == t0 || c0 == 0) return {y.w, c0};  // no eligibility: neither c nor w moves
  const Step T = t - t0;
  // D(t0): the level just after the last pulse at or before t0, decayed.
  // Pulses in (t0, t]: [first, until). `until` is shared by all the
  // synapses of one event; walking back from it is shorter than a search,
  // as a synapse's last event is rarely many rewards ago.
  const auto& pulses = dopamine_->pulses();
  std::size_t first = until;
  while (first > 0 && pulses[first - 1].step > t0) --first;
  const double d0 =
      first == 0 ? 0.0 : dopamine_->level_after(first - 1) * decay_d_(t0 - pulses[first - 1].step);
  double integral = p_.tonic * p_.tau_c * rise_c_(T) + d0 * rise_cd_(T) / lambda_;
  for (std::size_t n = first; n < until; ++n) {
    integral +=
        pulses[n].amount * decay_c_(pulses[n].step - t0) * rise_cd_(t - pulses[n].step) / lambda_;
  }
  return {std::clamp(y.w + p_.learning_rate * c0 * integral, p_.w_min, p_.w_max), c0 * decay_c_(T)};
}

void RewardStdp::advance(SynapseBlock& block, PartState& s, std::uint32_t k, Step t,
                         std::size_t until) const {
  SynapseState& y = s.syn[k];
  if (t == y.last) return;
  const auto now = integrate(s, k, t, until);
  y.last = t;
  if (now.w != y.w) {
    y.w = now.w;
    block.weight[k] = static_cast<float>(now.w);
  }
  y.c = now.c;
}

void RewardStdp::on_pre(unsigned part, SynapseBlock& block, std::uint32_t group, Step t) {
  PartState& s = state_[part];
  const DelayGroup g = block.group(group);
  const std::size_t until = dopamine_->first_after(t);
  for (std::uint32_t k = g.begin; k < g.end; ++k) {
    advance(block, s, k, t, until);
    const double y = s.post[block.target_of(g, k) - s.first_target].at(t, decay_minus_);
    s.syn[k].c -= p_.A_minus * y;
  }
  s.pre[group].jump(t, decay_plus_, p_.nearest);
}

void RewardStdp::on_post(unsigned part, SynapseBlock& block, NeuronIndex target,
                         std::span<const std::uint32_t> synapses,
                         std::span<const std::uint32_t> groups, Step t) {
  PartState& s = state_[part];
  const std::size_t until = dopamine_->first_after(t);
  for (std::size_t n = 0; n < synapses.size(); ++n) {
    const std::uint32_t k = synapses[n];
    advance(block, s, k, t, until);
    s.syn[k].c += p_.A_plus * s.pre[groups[n]].at(t, decay_plus_);
  }
  s.post[target - s.first_target].jump(t, decay_minus_, p_.nearest);
}

void RewardStdp::sync(unsigned part, SynapseBlock& block, Step t) {
  if (part >= state_.size()) return;
  PartState& s = state_[part];
  const std::size_t until = dopamine_->first_after(t);
  for (std::uint32_t k = 0; k < s.syn.size(); ++k) advance(block, s, k, t, until);
}

RuleInfo reward_stdp_rule_info() {
  const RewardStdpParams d;
  RuleInfo info;
  info.name = "reward_stdp";
  info.summary =
      "reward-modulated STDP (Izhikevich 2007): eligibility traces, weight change (tonic + "
      "dopamine) x eligibility, integrated exactly between events";
  info.params = {
      {"modulator", "", NAN, "the [[neuromodulator]] read", "dopamine"},
      {"tonic", "", d.tonic, "tonic dopamine level (>= 0)"},
      {"learning_rate", "1/ms", d.learning_rate, "(> 0)"},
      {"tau_c", "ms", d.tau_c, "eligibility time constant (> 0)"},
      {"A_plus", "", d.A_plus, "eligibility increment per causal pairing (>= 0)"},
      {"A_minus", "", d.A_minus, "eligibility decrement per acausal pairing (>= 0)"},
      {"tau_plus", "ms", d.tau_plus, "presynaptic trace time constant (> 0)"},
      {"tau_minus", "ms", d.tau_minus, "postsynaptic trace time constant (> 0)"},
      {"w_min", "", d.w_min, "lower weight bound"},
      {"w_max", "", d.w_max, "upper weight bound (> w_min)"},
      {"pairing", "", NAN, "\"all\" or \"nearest\"", "all"},
  };
  info.make = [](const ParamMap& p, const TimeGrid& grid) -> std::unique_ptr<PlasticityRule> {
    return std::make_unique<RewardStdp>(RewardStdpParams(p), grid);
  };
  return info;
}

void RewardStdp::checkpoint(unsigned part, StateArchive& a) {
  auto& st = state_[part];
  a.field("synapses", st.syn);
  a.field("pre", st.pre);
  a.field("post", st.post);
}

}  // namespace spikeline::learning
