#include "spikeline/neurons/iaf_psc_delta.hpp"

#include <algorithm>
#include <cmath>

#include "model_util.hpp"

namespace spikeline {

namespace {
std::vector<StateVarInfo> state_var_list() {
  return {{"V_m", "mV", "membrane potential"}};
}
}  // namespace

IafPscDeltaParams::IafPscDeltaParams(const ParamMap& p) {
  C_m = p.number("C_m", C_m);
  tau_m = p.number("tau_m", tau_m);
  t_ref = p.number("t_ref", t_ref);
  E_L = p.number("E_L", E_L);
  V_reset = p.number("V_reset", V_reset);
  V_th = p.number("V_th", V_th);
  I_e = p.number("I_e", I_e);
  V_min = p.number("V_min", V_min);

  check_positive(C_m, p.item("C_m"), "pF");
  check_positive(tau_m, p.item("tau_m"), "ms");
  check_nonnegative(t_ref, p.item("t_ref"), "ms");
  check_finite(E_L, p.item("E_L"), "mV");
  check_finite(V_reset, p.item("V_reset"), "mV");
  check_finite(V_th, p.item("V_th"), "mV");
  check_finite(I_e, p.item("I_e"), "pA");
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
    : Population(ctx.size),
      p_(ctx.params),
      vars_(state_var_list()),
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

double IafPscDelta::state(std::size_t var, NeuronIndex i, Step t) const {
  if (var != 0) detail::bad_state_var("iaf_psc_delta", var);
  return propagate(i, t);
}

std::optional<NonFiniteState> IafPscDelta::find_non_finite(IndexRange r, Step t) const {
  // The closed form keeps a finite V finite, so a scan of the stored V finds
  // what state() would, without propagating a million idle neurons
  // (sparse_lif). A NaN stored during the refractory period is forgotten.
  if (!detail::any_non_finite(V_.data(), r)) return std::nullopt;
  for (NeuronIndex i = r.begin; i < r.end; ++i) {
    if (std::isfinite(V_[i])) continue;
    const double V = propagate(i, t);
    if (!std::isfinite(V)) return NonFiniteState{i, 0, V};
  }
  return std::nullopt;
}

void IafPscDelta::set_state(std::size_t var, NeuronIndex i, double value) {
  if (var != 0) detail::bad_state_var("iaf_psc_delta", var);
  V_[i] = value;
}

ModelInfo iaf_psc_delta_model() {
  const IafPscDeltaParams d;
  ModelInfo m;
  m.name = "iaf_psc_delta";
  m.kind = ModelKind::neuron;
  m.summary =
      "leaky integrate-and-fire, delta synapses (weights are voltage jumps in mV), exact "
      "integration; event-driven without bias current";
  m.params = {
      {"C_m", "pF", d.C_m, "membrane capacitance (> 0)"},
      {"tau_m", "ms", d.tau_m, "membrane time constant (> 0)"},
      {"t_ref", "ms", d.t_ref, "refractory period (>= 0, whole steps); inputs are discarded"},
      {"E_L", "mV", d.E_L, "resting potential"},
      {"V_reset", "mV", d.V_reset, "reset potential (< V_th)"},
      {"V_th", "mV", d.V_th, "spike threshold"},
      {"I_e", "pA", d.I_e, "constant bias current"},
      {"V_min", "mV", d.V_min, "lower bound of the membrane potential; -inf: none"},
  };
  m.state_vars = state_var_list();
  m.make_population = [](const ModelContext& ctx) -> std::unique_ptr<Population> {
    return std::make_unique<IafPscDelta>(ctx);
  };
  return m;
}

void IafPscDelta::checkpoint(StateArchive& a) {
  a.field("V_m", V_);
  a.field("last_update", last_);
  a.field("refractory_end", refr_end_);
}

}  // namespace spikeline
