#include "spikeline/learning/tsodyks_markram.hpp"

#include "bounds.hpp"

#include <algorithm>

namespace spikeline::learning {

const ParamTable<TsodyksMarkramParams>& TsodyksMarkramParams::table() {
  using P = Param<TsodyksMarkramParams>;
  using S = TsodyksMarkramParams;
  static const ParamTable<S> t{
      P::number("U", "", &S::U, Range::fraction,
                "utilisation increment: the release probability at rest"),
      P::number("tau_rec", "ms", &S::tau_rec, Range::positive,
                "recovery time constant of the resources x"),
      P::number("tau_facil", "ms", &S::tau_facil, Range::nonnegative,
                "facilitation time constant of u (0: no facilitation)"),
  };
  return t;
}

TsodyksMarkramParams::TsodyksMarkramParams(const ParamMap& p) {
  table().read(*this, p);
}

TsodyksMarkram::TsodyksMarkram(const TsodyksMarkramParams& p, const TimeGrid& grid)
    : p_(p), decay_rec_(grid.dt(), p.tau_rec) {
  if (p.tau_facil > 0) decay_facil_.emplace(grid.dt(), p.tau_facil);
}

void TsodyksMarkram::bind(unsigned part, const SynapseBlock& block, IndexRange /*targets*/,
                          const std::string& /*projection*/) {
  PartState& s = detail::partition_state(state_, part);
  s.release.assign(block.group_count(), Release{p_.U, 1.0, -1});
  s.amount.assign(block.size(), 0.0f);
}

void TsodyksMarkram::on_pre(unsigned part, SynapseBlock& block, std::uint32_t group, Step t) {
  PartState& s = state_[part];
  Release& r = s.release[group];
  if (r.last >= 0) {  // the first arrival finds the synapse at rest: u = U, x = 1
    const Step h = t - r.last;
    r.x = 1.0 + (r.x - r.x * r.u - 1.0) * decay_rec_(h);  // with the previous spike's u
    r.u = decay_facil_ ? p_.U + r.u * (1.0 - p_.U) * (*decay_facil_)(h) : p_.U;
  }
  r.last = t;
  const double scale = r.u * r.x;
  const DelayGroup g = block.group(group);
  for (std::uint32_t k = g.begin; k < g.end; ++k) {
    s.amount[k] = static_cast<float>(static_cast<double>(block.weight[k]) * scale);
  }
}

double TsodyksMarkram::synapse_value(std::size_t var, unsigned part, const SynapseBlock& block,
                                     std::uint32_t k, Step /*t*/) const {
  if (var == 0) return block.weight[k];
  // Synapse k's delay group: the last whose first synapse is at or before k.
  const auto groups = block.groups.begin();
  const auto end = groups + static_cast<std::ptrdiff_t>(block.group_count());
  const auto it = std::upper_bound(
      groups, end, k, [](std::uint32_t key, const PackedGroup& g) { return key < g.begin; });
  const Release& r = state_[part].release[static_cast<std::size_t>(it - groups - 1)];
  return var == 1 ? r.u : r.x;
}

void TsodyksMarkram::checkpoint(unsigned part, StateArchive& a) {
  a.field("release", state_[part].release);
}

RuleInfo tsodyks_markram_rule_info() {
  return tabled_rule<TsodyksMarkram, TsodyksMarkramParams>(
      "tsodyks_markram",
      "short-term depression and facilitation (Tsodyks-Markram, as NEST's tsodyks2_synapse and "
      "PyNN's TsodyksMarkramSynapse): each spike delivers weight u x, the weight is unchanged");
}

}  // namespace spikeline::learning
