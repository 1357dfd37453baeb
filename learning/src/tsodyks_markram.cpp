#include "spikeline/learning/tsodyks_markram.hpp"

#include "bounds.hpp"

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
    : p_(p), short_term_(p.U, p.tau_rec, p.tau_facil, grid) {}

void TsodyksMarkram::bind(unsigned part, const SynapseBlock& block, IndexRange /*targets*/,
                          const std::string& /*projection*/) {
  PartState& s = detail::partition_state(state_, part);
  s.release.assign(block.group_count(), short_term_.rest());
  s.amount.assign(block.size(), 0.0f);
}

void TsodyksMarkram::on_pre(unsigned part, SynapseBlock& block, std::uint32_t group, Step t) {
  PartState& s = state_[part];
  const double scale = short_term_.arrive(s.release[group], t);
  const DelayGroup g = block.group(group);
  for (std::uint32_t k = g.begin; k < g.end; ++k) {
    s.amount[k] = static_cast<float>(static_cast<double>(block.weight[k]) * scale);
  }
}

double TsodyksMarkram::synapse_value(std::size_t var, unsigned part, const SynapseBlock& block,
                                     std::uint32_t k, Step /*t*/) const {
  if (var == 0) return block.weight[k];
  const auto& r = state_[part].release[ShortTerm::group_of(block, k)];
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
