#include "spikeline/neurons/iaf_psc_delta.hpp"

#include <algorithm>
#include <cmath>

#include "model_util.hpp"

namespace spikeline {

const ParamTable<IafPscDeltaParams>& IafPscDeltaParams::table() {
  using P = Param<IafPscDeltaParams>;
  using S = IafPscDeltaParams;
  static const ParamTable<S> t{
      P::number("C_m", "pF", &S::C_m, Range::positive, "membrane capacitance"),
      P::number("tau_m", "ms", &S::tau_m, Range::positive, "membrane time constant"),
      P::number("t_ref", "ms", &S::t_ref, Range::nonnegative,
                "refractory period (whole steps); inputs are discarded"),
      P::number("E_L", "mV", &S::E_L, Range::finite, "resting potential"),
      P::number("V_reset", "mV", &S::V_reset, Range::finite, "reset potential (< V_th)"),
      P::number("V_th", "mV", &S::V_th, Range::finite, "spike threshold"),
      P::number("I_e", "pA", &S::I_e, Range::finite, "constant bias current"),
      P::number("V_min", "mV", &S::V_min, Range::not_nan,
                "lower bound of the membrane potential; -inf: none"),
  };
  return t;
}

IafPscDeltaParams::IafPscDeltaParams(const ParamMap& p) {
  table().read(*this, p);
  check_less(V_reset, p.item("V_reset"), V_th, p.item("V_th"), "mV");
  // V_min may be -inf (no bound); NaN and +inf are errors.
  if (std::isnan(V_min) || V_min > V_reset) {
    throw ConfigError(
        fmt::format("{} = {} mV is invalid: it must be -inf (no bound) or a number "
                    "<= V_reset = {} mV",
                    p.item("V_min"), V_min, V_reset));
  }
}

IafPscDelta::IafPscDelta(const ModelContext& ctx)
    : TabledPopulation(ctx.size),
      p_(ctx.params),
      P22_(std::exp(-ctx.grid.dt() / p_.tau_m)),
      P20_(p_.tau_m / p_.C_m * -std::expm1(-ctx.grid.dt() / p_.tau_m)),
      V_inf_(p_.E_L + p_.I_e * p_.tau_m / p_.C_m),
      h_over_tau_(ctx.grid.dt() / p_.tau_m),
      ref_steps_(ctx.grid.time_steps(p_.t_ref, ctx.params.item("t_ref"))),
      V_(ctx.size, p_.E_L),
      last_(ctx.size, 0),
      refr_end_(ctx.size, -1) {}

UpdateMode IafPscDelta::preferred_mode() const {
  // Without bias current and with rest below threshold, V can only reach
  // threshold on input: the lazy path is exact.
  return p_.I_e == 0.0 && p_.E_L < p_.V_th ? UpdateMode::event_driven : UpdateMode::stepped;
}

double IafPscDelta::propagate(NeuronIndex i, Step to) const {
  Step from = last_[i];
  double V = V_[i];
  if (to <= from) return V;
  if (to <= refr_end_[i]) return p_.V_reset;
  if (refr_end_[i] > from) {
    from = refr_end_[i];
    V = p_.V_reset;
  }
  if (V < p_.V_min) {
    // Only an initial value can lie below V_min; one clamped step brings V to
    // >= V_min, after which the clamped closed form below is exact.
    V = std::max(p_.V_min, V_inf_ + (V - V_inf_) * P22_);
    if (++from == to) return V;
  }
  const double decay = std::exp(-static_cast<double>(to - from) * h_over_tau_);
  return std::max(p_.V_min, V_inf_ + (V - V_inf_) * decay);
}

inline void IafPscDelta::finish_step(NeuronIndex i, Step t, double V, double I, double jump,
                                     SpikeSink& out) {
  V = p_.E_L + (V - p_.E_L) * P22_ + I * P20_ + jump;
  if (V < p_.V_min) V = p_.V_min;
  if (V >= p_.V_th) {
    out.emit(i);
    V = p_.V_reset;
    refr_end_[i] = t + ref_steps_;
  }
  V_[i] = V;
  last_[i] = t;
}

void IafPscDelta::update(Step t, IndexRange r, const InputView& in, SpikeSink& out) {
  for (NeuronIndex i = r.begin; i < r.end; ++i) {
    const double jump = detail::take(in.ex, i) + detail::take(in.in, i);
    if (t <= refr_end_[i]) {
      V_[i] = p_.V_reset;
      last_[i] = t;
      continue;
    }
    // A neuron left behind by the lazy path is first brought to step t-1.
    const double V = last_[i] == t - 1 ? V_[i] : propagate(i, t - 1);
    finish_step(i, t, V, p_.I_e + detail::current_at(in.current, i), jump, out);
  }
}

void IafPscDelta::update_touched(Step t, std::span<const NeuronIndex> touched, const InputView& in,
                                 SpikeSink& out) {
  // The touched neurons are scattered over the population (sparse_lif: a
  // few hundred of 1,000,000 per step), so each one's V, last update,
  // refractory end and the input accumulator that its synapses did not
  // write (the inhibitory one, for excitatory input) are cache misses:
  // fetched kAhead neurons ahead (sparse_lif, 1 thread: the four loads were
  // 90% of this function's time).
  constexpr std::size_t kAhead = 8;
  const std::size_t n = touched.size();
  for (std::size_t k = 0; k < n; ++k) {
    if (k + kAhead < n) {
      const NeuronIndex j = touched[k + kAhead];
      __builtin_prefetch(in.ex + j, 1);
      __builtin_prefetch(in.in + j, 1);
      __builtin_prefetch(V_.data() + j, 1);
      __builtin_prefetch(last_.data() + j, 1);
      __builtin_prefetch(refr_end_.data() + j, 1);
    }
    const NeuronIndex i = touched[k];
    const double jump = detail::take(in.ex, i) + detail::take(in.in, i);
    if (t <= refr_end_[i]) {
      V_[i] = p_.V_reset;
      last_[i] = t;
      continue;
    }
    finish_step(i, t, propagate(i, t - 1), p_.I_e, jump, out);
  }
}

const StateTable<IafPscDelta>& IafPscDelta::state_table() {
  static const StateTable<IafPscDelta> t{"iaf_psc_delta",
                                         {{"V_m", "mV", "membrane potential", &IafPscDelta::V_}}};
  return t;
}

double IafPscDelta::state(std::size_t var, NeuronIndex i, Step t) const {
  state_table().check(var);
  return propagate(i, t);
}

std::optional<NonFiniteState> IafPscDelta::find_non_finite(IndexRange r, Step t) const {
  // The closed form keeps a finite V finite, so a scan of the stored V finds
  // what state() would, without propagating a million idle neurons
  // (sparse_lif). A NaN stored during the refractory period is forgotten.
  if (!any_non_finite(V_.data(), r)) return std::nullopt;
  for (NeuronIndex i = r.begin; i < r.end; ++i) {
    if (std::isfinite(V_[i])) continue;
    const double V = propagate(i, t);
    if (!std::isfinite(V)) return NonFiniteState{i, 0, V};
  }
  return std::nullopt;
}

ModelInfo iaf_psc_delta_model() {
  return tabled_model<IafPscDelta, IafPscDeltaParams>(
      "iaf_psc_delta",
      "leaky integrate-and-fire, delta synapses (weights are voltage jumps in mV), exact "
      "integration; event-driven without bias current");
}

void IafPscDelta::checkpoint_extra(StateArchive& a) {
  a.field("last_update", last_);
  a.field("refractory_end", refr_end_);
}

}  // namespace spikeline
