#include "spikeline/neurons/iaf_psc_delta.hpp"

#include "spikeline/engine/exp.hpp"

#include <algorithm>
#include <cmath>

#include "model_util.hpp"

namespace spikeline {

const ParamTable<IafPscDeltaParams>& IafPscDeltaParams::table() {
  using P = Param<IafPscDeltaParams>;
  using S = IafPscDeltaParams;
  static const ParamTable<S> t{
      P::number("C_m", "pF", &S::C_m, Range::positive, "membrane capacitance").per_neuron(),
      P::number("tau_m", "ms", &S::tau_m, Range::positive, "membrane time constant").per_neuron(),
      P::number("t_ref", "ms", &S::t_ref, Range::nonnegative,
                "refractory period (whole steps); inputs are discarded")
          .per_neuron(),
      P::number("E_L", "mV", &S::E_L, Range::finite, "resting potential").per_neuron(),
      P::number("V_reset", "mV", &S::V_reset, Range::finite, "reset potential (< V_th)")
          .per_neuron(),
      P::number("V_th", "mV", &S::V_th, Range::finite, "spike threshold").per_neuron(),
      P::number("I_e", "pA", &S::I_e, Range::finite, "constant bias current").per_neuron(),
      P::number("V_min", "mV", &S::V_min, Range::not_nan,
                "lower bound of the membrane potential; -inf: none"),
      P::number("b", "pA", &S::b, Range::nonnegative,
                "spike-triggered adaptation: w grows by b at each spike; 0: none"),
      P::number("tau_w", "ms", &S::tau_w, Range::positive, "adaptation time constant"),
  };
  return t;
}

IafPscDeltaParams::IafPscDeltaParams(const ParamMap& p) {
  table().read(*this, p);
  check(*this, [&p](std::string_view name) { return p.item(name); });
}

IafPscDeltaParams::IafPscDeltaParams(const ParamMap& p, std::size_t n,
                                     PerNeuron<IafPscDeltaParams>& each) {
  table().read(*this, p, n, each);
  check_each(*this, each, n, p, [](const IafPscDeltaParams& s, auto item) { check(s, item); });
}

template <class Item>
void IafPscDeltaParams::check(const IafPscDeltaParams& s, Item item) {
  if (!(s.V_reset < s.V_th)) check_less(s.V_reset, item("V_reset"), s.V_th, item("V_th"), "mV");
  // V_min may be -inf (no bound); NaN and +inf are errors.
  if (std::isnan(s.V_min) || s.V_min > s.V_reset) {
    throw ConfigError(
        fmt::format("{} = {} mV is invalid: it must be -inf (no bound) or a number "
                    "<= V_reset = {} mV",
                    item("V_min"), s.V_min, s.V_reset));
  }
  if (s.b > 0.0 && s.V_min != -std::numeric_limits<double>::infinity()) {
    throw ConfigError(fmt::format(
        "{} = {} mV cannot be combined with spike-frequency adaptation ({} = {} pA > 0): the "
        "bound would break the exact integration of V and w; leave V_min unset (-inf) or set "
        "b = 0",
        item("V_min"), s.V_min, item("b"), s.b));
  }
}

namespace {

// g(a, b) = (e^-a - e^-b) / (b - a), the kernel of V's response to a
// decaying w (a = t / tau_w, b = t / tau_m), written so that it has no
// cancellation and no overflow for any a, b >= 0, including a == b.
double adaptation_kernel(double a, double b) {
  const double d = std::abs(a - b);
  const double phi = d == 0.0 ? 1.0 : -std::expm1(-d) / d;
  return exp_neg(std::min(a, b)) * phi;
}

}  // namespace

// The coefficients of neuron i: the population's (Same) or its own (Each).
template <bool kEach>
struct IafPscDelta::Coefs {
  detail::Coef<kEach, double> E_L, V_reset, V_th, I_e, P22, P20, V_inf, h_over_tau, h_over_C, P21;
  detail::Coef<kEach, Step> ref_steps;
  double V_min;
};

template <bool kEach>
IafPscDelta::Coefs<kEach> IafPscDelta::coefs() const {
  const auto& e = coefs_;
  using detail::coef;
  return {coef<kEach>(p_.E_L, e.E_L),
          coef<kEach>(p_.V_reset, e.V_reset),
          coef<kEach>(p_.V_th, e.V_th),
          coef<kEach>(p_.I_e, e.I_e),
          coef<kEach>(P22_, e.P22),
          coef<kEach>(P20_, e.P20),
          coef<kEach>(V_inf_, e.V_inf),
          coef<kEach>(h_over_tau_, e.h_over_tau),
          coef<kEach>(h_over_C_, e.h_over_C),
          coef<kEach>(P21_, e.P21),
          coef<kEach>(ref_steps_, e.ref_steps),
          p_.V_min};
}

IafPscDelta::IafPscDelta(const ModelContext& ctx)
    : TabledPopulation(ctx.size),
      p_(ctx.params, ctx.size, each_),
      P22_(std::exp(-ctx.grid.dt() / p_.tau_m)),
      P20_(p_.tau_m / p_.C_m * -std::expm1(-ctx.grid.dt() / p_.tau_m)),
      V_inf_(p_.E_L + p_.I_e * p_.tau_m / p_.C_m),
      h_over_tau_(ctx.grid.dt() / p_.tau_m),
      ref_steps_(each_.varies(&IafPscDeltaParams::t_ref)
                     ? 0
                     : ctx.grid.time_steps(p_.t_ref, ctx.params.item("t_ref"))),
      adaptive_(p_.b > 0.0),
      h_over_C_(ctx.grid.dt() / p_.C_m),
      P21_(h_over_C_ * adaptation_kernel(ctx.grid.dt() / p_.tau_w, h_over_tau_)),
      h_over_tau_w_(ctx.grid.dt() / p_.tau_w),
      w_decay_(std::exp(-h_over_tau_w_)),
      V_(ctx.size, p_.E_L),
      w_(ctx.size, 0.0),
      last_(ctx.size, 0),
      refr_end_(ctx.size, -1) {
  if (each_.empty()) return;
  // Every coefficient per neuron, computed as the homogeneous ones are.
  using S = IafPscDeltaParams;
  const std::size_t n = ctx.size;
  const double h = ctx.grid.dt();
  auto& c = coefs_;
  c.E_L = each_.column(p_, &S::E_L, n);
  c.V_reset = each_.column(p_, &S::V_reset, n);
  c.V_th = each_.column(p_, &S::V_th, n);
  c.I_e = each_.column(p_, &S::I_e, n);
  for (auto* v : {&c.P22, &c.P20, &c.V_inf, &c.h_over_tau, &c.h_over_C, &c.P21}) v->resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const S s = each_.at(p_, i);
    c.P22[i] = std::exp(-h / s.tau_m);
    c.P20[i] = s.tau_m / s.C_m * -std::expm1(-h / s.tau_m);
    c.V_inf[i] = s.E_L + s.I_e * s.tau_m / s.C_m;
    c.h_over_tau[i] = h / s.tau_m;
    c.h_over_C[i] = h / s.C_m;
    c.P21[i] = c.h_over_C[i] * adaptation_kernel(h_over_tau_w_, c.h_over_tau[i]);
  }
  const auto ref = detail::refractory_steps_each(ctx, p_, each_, &S::t_ref);
  c.ref_steps.assign(ref.begin(), ref.end());
  V_.assign(c.E_L.begin(), c.E_L.end());
}

UpdateMode IafPscDelta::preferred_mode() const {
  // Without bias current and with rest below threshold, V can only reach
  // threshold on input: the lazy path is exact (for every neuron).
  if (each_.empty()) {
    return p_.I_e == 0.0 && p_.E_L < p_.V_th ? UpdateMode::event_driven : UpdateMode::stepped;
  }
  for (std::size_t i = 0; i < V_.size(); ++i) {
    if (!(coefs_.I_e[i] == 0.0 && coefs_.E_L[i] < coefs_.V_th[i])) return UpdateMode::stepped;
  }
  return UpdateMode::event_driven;
}

double IafPscDelta::decay_w(NeuronIndex i, Step n) const {
  if (n <= 0) return w_[i];
  return w_[i] * (n == 1 ? w_decay_ : exp_neg(static_cast<double>(n) * h_over_tau_w_));
}

template <bool kEach>
double IafPscDelta::propagate_adapted(const Coefs<kEach>& c, NeuronIndex i, Step to,
                                      double* w_to) const {
  // V_min is -inf here (checked), so the closed form needs no clamp. Over
  // n free steps from (V, w): V_inf + (V - V_inf) e^-b - w n h/C g(a, b),
  // a = n h/tau_w, b = n h/tau_m. This is the hot path of an idle adaptive
  // population (EMBER's concept layer: every input to a neuron that has
  // fired once), so with tau_w > tau_m (a < b) it takes two transcendental
  // calls, not five: e^-a, and expm1(a - b), from which e^-b = e^-a (1 + M)
  // and g = e^-a (-M) / (b - a), without cancellation.
  Step from = last_[i];
  double V = V_[i];
  double w = w_[i];
  if (refr_end_[i] > from) {
    w = decay_w(i, refr_end_[i] - from);
    from = refr_end_[i];
    V = c.V_reset[i];
  }
  const double V_inf = c.V_inf[i];
  const auto n = static_cast<double>(to - from);
  const double a = n * h_over_tau_w_, b = n * c.h_over_tau[i];
  if (a < b) {
    const double Ea = exp_neg(a);
    const double M = std::expm1(a - b);
    if (w_to != nullptr) *w_to = w * Ea;
    return V_inf + (V - V_inf) * (Ea + Ea * M) + w * n * c.h_over_C[i] * Ea * M / (b - a);
  }
  if (w_to != nullptr) *w_to = w * exp_neg(a);
  return V_inf + (V - V_inf) * exp_neg(b) - w * n * c.h_over_C[i] * adaptation_kernel(a, b);
}

template <bool kEach>
double IafPscDelta::propagate(const Coefs<kEach>& c, NeuronIndex i, Step to, double* w_to) const {
  Step from = last_[i];
  double V = V_[i];
  if (adaptive_ && w_[i] != 0.0 && to > from && to > refr_end_[i]) {
    return propagate_adapted(c, i, to, w_to);
  }
  // With w = 0 (a neuron that never fired, or whose w underflowed) the
  // adaptive closed form below reduces to the plain one: the same values.
  if (w_to != nullptr) *w_to = decay_w(i, to - from);
  if (to <= from) return V;
  if (to <= refr_end_[i]) return c.V_reset[i];
  if (refr_end_[i] > from) {
    from = refr_end_[i];
    V = c.V_reset[i];
  }
  const double V_inf = c.V_inf[i];
  if (adaptive_)
    return V_inf + (V - V_inf) * exp_neg(static_cast<double>(to - from) * c.h_over_tau[i]);
  if (V < c.V_min) {
    // Only an initial value can lie below V_min; one clamped step brings V to
    // >= V_min, after which the clamped closed form below is exact.
    V = std::max(c.V_min, V_inf + (V - V_inf) * c.P22[i]);
    if (++from == to) return V;
  }
  const double decay = exp_neg(static_cast<double>(to - from) * c.h_over_tau[i]);
  return std::max(c.V_min, V_inf + (V - V_inf) * decay);
}

template <bool kEach>
inline void IafPscDelta::finish_step(const Coefs<kEach>& c, NeuronIndex i, Step t, double V,
                                     double w, double I, double jump, SpikeSink& out) {
  const double E_L = c.E_L[i];
  V = E_L + (V - E_L) * c.P22[i] + I * c.P20[i] + jump;
  if (adaptive_) {
    V -= w * c.P21[i];
    w *= w_decay_;
  }
  if (V < c.V_min) V = c.V_min;
  if (V >= c.V_th[i]) {
    out.emit(i);
    V = c.V_reset[i];
    refr_end_[i] = t + c.ref_steps[i];
    w += p_.b;
  }
  V_[i] = V;
  if (adaptive_) w_[i] = w;
  last_[i] = t;
}

template <bool kEach>
void IafPscDelta::update_range(const Coefs<kEach>& c, Step t, IndexRange r, const InputView& in,
                               SpikeSink& out) {
  for (NeuronIndex i = r.begin; i < r.end; ++i) {
    const double jump = detail::take(in.ex, i) + detail::take(in.in, i);
    if (t <= refr_end_[i]) {
      if (adaptive_) w_[i] = decay_w(i, t - last_[i]);
      V_[i] = c.V_reset[i];
      last_[i] = t;
      continue;
    }
    // A neuron left behind by the lazy path is first brought to step t-1.
    double w = w_[i];
    const double V = last_[i] == t - 1 ? V_[i] : propagate(c, i, t - 1, adaptive_ ? &w : nullptr);
    finish_step(c, i, t, V, w, c.I_e[i] + detail::current_at(in.current, i), jump, out);
  }
}

void IafPscDelta::update(Step t, IndexRange r, const InputView& in, SpikeSink& out) {
  if (each_.empty())
    update_range(coefs<false>(), t, r, in, out);
  else
    update_range(coefs<true>(), t, r, in, out);
}

template <bool kEach>
void IafPscDelta::update_touched_with(const Coefs<kEach>& c, Step t,
                                      std::span<const NeuronIndex> touched, const InputView& in,
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
      if (adaptive_) __builtin_prefetch(w_.data() + j, 1);
    }
    const NeuronIndex i = touched[k];
    const double jump = detail::take(in.ex, i) + detail::take(in.in, i);
    if (t <= refr_end_[i]) {
      if (adaptive_) w_[i] = decay_w(i, t - last_[i]);
      V_[i] = c.V_reset[i];
      last_[i] = t;
      continue;
    }
    double w = 0.0;
    const double V = propagate(c, i, t - 1, adaptive_ ? &w : nullptr);
    finish_step(c, i, t, V, w, c.I_e[i], jump, out);
  }
}

void IafPscDelta::update_touched(Step t, std::span<const NeuronIndex> touched, const InputView& in,
                                 SpikeSink& out) {
  if (each_.empty())
    update_touched_with(coefs<false>(), t, touched, in, out);
  else
    update_touched_with(coefs<true>(), t, touched, in, out);
}

double IafPscDelta::propagate(NeuronIndex i, Step to, double* w) const {
  return each_.empty() ? propagate(coefs<false>(), i, to, w) : propagate(coefs<true>(), i, to, w);
}

const StateTable<IafPscDelta>& IafPscDelta::state_table() {
  static const StateTable<IafPscDelta> t{
      "iaf_psc_delta",
      {{"V_m", "mV", "membrane potential", &IafPscDelta::V_},
       {"w", "pA", "adaptation current (>= 0; 0 without adaptation)", &IafPscDelta::w_}}};
  return t;
}

double IafPscDelta::state(std::size_t var, NeuronIndex i, Step t) const {
  state_table().check(var);
  if (var == 1) return decay_w(i, t - last_[i]);
  return propagate(i, t);
}

void IafPscDelta::set_state(std::size_t var, NeuronIndex i, double value) {
  // A negative w would depolarise: V could then cross threshold between
  // inputs, where the event-driven path does not look. A non-finite value is
  // let through like any model's: the engine's find_non_finite check reports
  // it by neuron and variable, as it does for V.
  if (var == 1 && value < 0.0 && std::isfinite(value)) {
    throw ConfigError(
        fmt::format("iaf_psc_delta state w of neuron {} = {} pA is invalid: it must be >= 0 (the "
                    "adaptation current only hyperpolarises)",
                    i, value));
  }
  state_table().set(*this, var, i, value);
}

std::optional<NonFiniteState> IafPscDelta::find_non_finite(IndexRange r, Step t) const {
  // The closed form keeps a finite V finite, so a scan of the stored V finds
  // what state() would, without propagating a million idle neurons
  // (sparse_lif). A NaN stored during the refractory period is forgotten.
  if (!any_non_finite(V_.data(), r) && !any_non_finite(w_.data(), r)) return std::nullopt;
  for (NeuronIndex i = r.begin; i < r.end; ++i) {
    if (std::isfinite(V_[i]) && std::isfinite(w_[i])) continue;
    const double V = propagate(i, t);
    if (!std::isfinite(V)) return NonFiniteState{i, 0, V};
    const double w = decay_w(i, t - last_[i]);
    if (!std::isfinite(w)) return NonFiniteState{i, 1, w};
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
