#include "spikeline/learning/reward_stdp.hpp"

#include "bounds.hpp"

#include <algorithm>
#include <cmath>

#include "spikeline/engine/error.hpp"

namespace spikeline::learning {

namespace {
// How many synapses ahead on_pre and on_post fetch the state they will touch.
constexpr std::size_t kAhead = 8;
}  // namespace

const ParamTable<RewardStdpParams>& RewardStdpParams::table() {
  using P = Param<RewardStdpParams>;
  using S = RewardStdpParams;
  static const ParamTable<S> t{
      P::text("modulator", &S::modulator, "the [[neuromodulator]] read"),
      P::number("tonic", "", &S::tonic, Range::nonnegative, "tonic dopamine level"),
      P::number("learning_rate", "1/ms", &S::learning_rate, Range::positive, ""),
      P::number("tau_c", "ms", &S::tau_c, Range::positive, "eligibility time constant"),
      P::number("A_plus", "", &S::A_plus, Range::nonnegative,
                "eligibility increment per causal pairing"),
      P::number("A_minus", "", &S::A_minus, Range::nonnegative,
                "eligibility decrement per acausal pairing"),
      P::number("tau_plus", "ms", &S::tau_plus, Range::positive, "presynaptic trace time constant"),
      P::number("tau_minus", "ms", &S::tau_minus, Range::positive,
                "postsynaptic trace time constant"),
      P::number("w_min", "", &S::w_min, Range::finite, "lower weight bound"),
      P::number("w_max", "", &S::w_max, Range::finite, "upper weight bound (> w_min)"),
      P::choice("pairing", &S::nearest, {"all", "nearest"}, "spike pairing"),
      P::number("U", "", &S::U, Range::fraction,
                "short-term plasticity: release fraction at rest (with tau_rec > 0)"),
      P::number("tau_rec", "ms", &S::tau_rec, Range::nonnegative,
                "short-term depression: recovery time constant (0: no short-term plasticity)"),
      P::number("tau_facil", "ms", &S::tau_facil, Range::nonnegative,
                "short-term facilitation time constant (0: none; needs tau_rec > 0)"),
  };
  return t;
}

RewardStdpParams::RewardStdpParams(const ParamMap& p) {
  table().read(*this, p);
  check_less(w_min, p.item("w_min"), w_max, p.item("w_max"), "");
  if (tau_facil > 0 && tau_rec == 0) {
    throw ConfigError(fmt::format(
        "{} = {} ms needs short-term depression: set {} > 0 (it is 0, which turns short-term "
        "plasticity off)",
        p.item("tau_facil"), tau_facil, p.item("tau_rec")));
  }
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
      decay_d_(grid.dt(), grid.dt()) {
  if (p.tau_rec > 0) short_term_.emplace(p.U, p.tau_rec, p.tau_facil, grid);
}

void RewardStdp::attach(const Neuromodulator& m) {
  dopamine_ = &m;
  lambda_ = 1.0 / p_.tau_c + 1.0 / m.tau();
  rise_cd_ = Rise(dt_, 1.0 / lambda_);
  decay_d_ = Decay(dt_, m.tau());
}

void RewardStdp::check_weights(double min, double max, const std::string& projection) const {
  detail::check_weight_range("reward_stdp", p_.w_min, p_.w_max, min, max, projection);
}

void RewardStdp::weights_replaced(unsigned part, const SynapseBlock& block) {
  // After sync(): each synapse is at the same step; its eligibility goes on.
  if (part >= state_.size()) return;
  auto& syn = state_[part].syn;
  for (std::size_t k = 0; k < syn.size(); ++k) syn[k].w = block.weight[k];
}

void RewardStdp::bind(unsigned part, const SynapseBlock& block, IndexRange targets,
                      const std::string& projection) {
  if (!dopamine_) {
    throw Error(ExitCode::software,
                fmt::format("projection '{}': reward_stdp is not attached to a neuromodulator",
                            projection));
  }
  PartState& s = detail::partition_state(state_, part);
  s.syn.resize(block.weight.size());
  for (std::size_t k = 0; k < s.syn.size(); ++k) s.syn[k] = {block.weight[k], 0.0, 0};
  s.pre.assign(block.group_count(), Trace{});
  s.post.assign(targets.end - targets.begin, Trace{});
  s.first_target = targets.begin;
  if (short_term_) {
    s.release.assign(block.group_count(), short_term_->rest());
    s.amount.assign(block.size(), 0.0f);
  }
  detail::check_block_weights("reward_stdp", p_.w_min, p_.w_max, block, projection);
}

double RewardStdp::eligibility(unsigned part, std::uint32_t k, Step t) const {
  return integrate(state_[part], k, t, dopamine_->first_after(t)).c;
}

std::vector<std::string> RewardStdp::synapse_variables() const {
  if (short_term_) return {"weight", "eligibility", "u", "x"};
  return {"weight", "eligibility"};
}

double RewardStdp::synapse_value(std::size_t var, unsigned part, const SynapseBlock& block,
                                 std::uint32_t k, Step t) const {
  if (var >= 2) {
    const auto& r = state_[part].release[ShortTerm::group_of(block, k)];
    return var == 2 ? r.u : r.x;
  }
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
  // Short-term plasticity: the arrival's factor u x scales each weight as
  // advance() brings it up to t (in the same pass).
  float* amount = short_term_ ? s.amount.data() : nullptr;
  const double scale = short_term_ ? short_term_->arrive(s.release[group], t) : 1.0;
  // A group's synapses are contiguous, but their targets' traces are
  // scattered: each one a cache miss in a large projection, fetched
  // kAhead synapses ahead (see on_post).
  for (std::uint32_t k = g.begin; k < g.end; ++k) {
    if (k + kAhead < g.end) {
      __builtin_prefetch(s.post.data() + (block.target_of(g, k + kAhead) - s.first_target));
    }
    advance(block, s, k, t, until);
    if (amount != nullptr)
      amount[k] = static_cast<float>(static_cast<double>(block.weight[k]) * scale);
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
  // The synapses onto one neuron lie wherever their sources' rows put them:
  // each synapse's state and its group's trace are cache misses, and the
  // loop waited on them one after another (EMBER's substrate, 8e6 lateral
  // synapses at 0.02 Hz: 95% of advance() on the load of the state).
  // Their indices are known, so they are fetched ahead: the traces
  // 2 kAhead synapses ahead, a state kAhead ahead (a 24-byte state may
  // straddle two lines) and only when its trace will make a pairing.
  //
  // A synapse whose presynaptic trace has decayed to exactly 0 (exp
  // underflows: no arrival for about 745 tau_plus, 15 s at 20 ms) makes
  // no pairing, so it is not touched at all: c gains nothing, and bringing
  // w and c up to t now or at the synapse's next event gives the same
  // values, as the closed form is exact over any interval (to rounding:
  // the interval is integrated in one piece instead of two). Nothing reads
  // the synapse in between without integrating it first (on_pre advances
  // it before its weight is delivered; recording and sync integrate it).
  // In EMBER's idle substrate (0.005-0.01 Hz) that is 86-93% of them, and
  // on_post was a third of the loop.
  const std::size_t n_syn = synapses.size();
  for (std::size_t n = 0; n < n_syn; ++n) {
    if (n + 2 * kAhead < n_syn) __builtin_prefetch(s.pre.data() + groups[n + 2 * kAhead]);
    if (n + kAhead < n_syn && s.pre[groups[n + kAhead]].value != 0) {
      const auto* ahead = reinterpret_cast<const char*>(s.syn.data() + synapses[n + kAhead]);
      __builtin_prefetch(ahead, 1);
      __builtin_prefetch(ahead + sizeof(SynapseState) - 1, 1);
    }
    const double x = s.pre[groups[n]].at(t, decay_plus_);
    if (x == 0) continue;
    const std::uint32_t k = synapses[n];
    advance(block, s, k, t, until);
    s.syn[k].c += p_.A_plus * x;
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
  return tabled_rule<RewardStdp, RewardStdpParams>(
      "reward_stdp",
      "reward-modulated STDP (Izhikevich 2007): eligibility traces, weight change (tonic + "
      "dopamine) x eligibility, integrated exactly between events");
}

void RewardStdp::checkpoint(unsigned part, StateArchive& a) {
  auto& st = state_[part];
  a.field("synapses", st.syn);
  a.field("pre", st.pre);
  a.field("post", st.post);
  if (short_term_) a.field("release", st.release);
}

}  // namespace spikeline::learning
