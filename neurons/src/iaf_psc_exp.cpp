#include "spikeline/neurons/iaf_psc_exp.hpp"

#include <algorithm>
#include <cmath>

#include "model_util.hpp"
#include "spikeline/engine/simd.hpp"

namespace spikeline {

const ParamTable<IafPscExpParams>& IafPscExpParams::table() {
  using P = Param<IafPscExpParams>;
  using S = IafPscExpParams;
  static const ParamTable<S> t{
      P::number("C_m", "pF", &S::C_m, Range::positive, "membrane capacitance").per_neuron(),
      P::number("tau_m", "ms", &S::tau_m, Range::positive, "membrane time constant").per_neuron(),
      P::number("tau_syn_ex", "ms", &S::tau_syn_ex, Range::positive,
                "excitatory synaptic time constant")
          .per_neuron(),
      P::number("tau_syn_in", "ms", &S::tau_syn_in, Range::positive,
                "inhibitory synaptic time constant")
          .per_neuron(),
      P::number("t_ref", "ms", &S::t_ref, Range::nonnegative, "refractory period (whole steps)")
          .per_neuron(),
      P::number("E_L", "mV", &S::E_L, Range::finite, "resting potential").per_neuron(),
      P::number("V_reset", "mV", &S::V_reset, Range::finite, "reset potential (< V_th)")
          .per_neuron(),
      P::number("V_th", "mV", &S::V_th, Range::finite, "spike threshold").per_neuron(),
      P::number("I_e", "pA", &S::I_e, Range::finite, "constant bias current").per_neuron(),
  };
  return t;
}

IafPscExpParams::IafPscExpParams(const ParamMap& p) {
  table().read(*this, p);
  check(*this, [&p](std::string_view name) { return p.item(name); });
}

IafPscExpParams::IafPscExpParams(const ParamMap& p, std::size_t n,
                                 PerNeuron<IafPscExpParams>& each) {
  table().read(*this, p, n, each);
  check_each(*this, each, n, p, [](const IafPscExpParams& s, auto item) { check(s, item); });
}

template <class Item>
void IafPscExpParams::check(const IafPscExpParams& s, Item item) {
  if (!(s.V_reset < s.V_th)) check_less(s.V_reset, item("V_reset"), s.V_th, item("V_th"), "mV");
}

const StateTable<IafPscExp>& IafPscExp::state_table() {
  static const StateTable<IafPscExp> t{
      "iaf_psc_exp",
      {{"V_m", "mV", "membrane potential", &IafPscExp::V_},
       {"I_syn_ex", "pA", "excitatory synaptic current", &IafPscExp::I_ex_},
       {"I_syn_in", "pA", "inhibitory synaptic current (negative)", &IafPscExp::I_in_}}};
  return t;
}

double psc_exp_propagator(double tau_syn, double tau_m, double C_m, double h) {
  if (std::abs(tau_m - tau_syn) <= 1e-8 * tau_m) return h / C_m * std::exp(-h / tau_m);
  return -tau_m / (C_m * (1.0 - tau_m / tau_syn)) * std::exp(-h / tau_syn) *
         std::expm1(h * (1.0 / tau_syn - 1.0 / tau_m));
}

IafPscExp::IafPscExp(const ModelContext& ctx)
    : TabledPopulation(ctx.size),
      p_(ctx.params, ctx.size, each_),
      ref_steps_(each_.varies(&IafPscExpParams::t_ref) ? 0
                                                       : detail::refractory_steps(ctx, p_.t_ref)),
      V_(ctx.size, p_.E_L),
      I_ex_(ctx.size, 0.0),
      I_in_(ctx.size, 0.0),
      refr_(ctx.size, 0) {
  const double h = ctx.grid.dt();
  const Propagators q = propagators(p_, h);
  P11ex_ = q.P11ex;
  P11in_ = q.P11in;
  P22_ = q.P22;
  P21ex_ = q.P21ex;
  P21in_ = q.P21in;
  P20_ = q.P20;
  if (each_.empty()) return;
  // Every coefficient per neuron, computed as the homogeneous ones are.
  using S = IafPscExpParams;
  const std::size_t n = ctx.size;
  auto& c = coefs_;
  c.E_L = each_.column(p_, &S::E_L, n);
  c.I_e = each_.column(p_, &S::I_e, n);
  c.V_th = each_.column(p_, &S::V_th, n);
  c.V_reset = each_.column(p_, &S::V_reset, n);
  for (auto* v : {&c.P22, &c.P21ex, &c.P21in, &c.P20, &c.P11ex, &c.P11in}) v->resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Propagators qi = propagators(each_.at(p_, i), h);
    c.P22[i] = qi.P22;
    c.P21ex[i] = qi.P21ex;
    c.P21in[i] = qi.P21in;
    c.P20[i] = qi.P20;
    c.P11ex[i] = qi.P11ex;
    c.P11in[i] = qi.P11in;
  }
  c.ref_steps = detail::refractory_steps_each(ctx, p_, each_, &S::t_ref);
  V_.assign(c.E_L.begin(), c.E_L.end());
}

IafPscExp::Propagators IafPscExp::propagators(const IafPscExpParams& p, double h) {
  Propagators q;
  q.P11ex = std::exp(-h / p.tau_syn_ex);
  q.P11in = std::exp(-h / p.tau_syn_in);
  q.P22 = std::exp(-h / p.tau_m);
  q.P21ex = psc_exp_propagator(p.tau_syn_ex, p.tau_m, p.C_m, h);
  q.P21in = psc_exp_propagator(p.tau_syn_in, p.tau_m, p.C_m, h);
  q.P20 = p.tau_m / p.C_m * -std::expm1(-h / p.tau_m);
  return q;
}

namespace {

template <bool kEach>
struct PscExpStep {
  detail::Coef<kEach, double> E_L, I_e, P22, P21ex, P21in, P20, P11ex, P11in, V_th, V_reset;
  detail::Coef<kEach, std::int32_t> ref_steps;
};

// One step of every neuron in [begin, end), the threshold and the reset
// included (see detail::ThresholdReset): no branch and no call in the inner
// loop, so that the compiler vectorises it (see iaf_cond_exp.cpp).
template <bool kWithCurrent, bool kEach>
SPIKELINE_CLONES void propagate(std::size_t begin, std::size_t end, double* __restrict V,
                                double* __restrict I_ex, double* __restrict I_in,
                                std::int32_t* __restrict refr, float* __restrict ex,
                                float* __restrict inh, const double* __restrict cur,
                                const PscExpStep<kEach>& c, SpikeSink& out) {
  const auto E_L = c.E_L, I_e = c.I_e, P22 = c.P22, P21ex = c.P21ex, P21in = c.P21in;
  const auto P20 = c.P20, P11ex = c.P11ex, P11in = c.P11in;
  const auto V_th = c.V_th, V_reset = c.V_reset;
  const auto ref_steps = c.ref_steps;
  std::int32_t fired[detail::kSpikeChunk];
  for (std::size_t first = begin; first < end; first += detail::kSpikeChunk) {
    const std::size_t n = std::min(detail::kSpikeChunk, end - first);
    std::int32_t any = 0;
    // Every array is its own allocation. With per-neuron coefficients GCC
    // does not see that from the restrict pointers and gave up (too many
    // run-time alias checks): the loop ran scalar, 4.3x the instructions.
#pragma GCC ivdep
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t i = first + j;
      const double v = V[i];
      double I = I_e[i];
      if constexpr (kWithCurrent) I += cur[i];
      const double stepped =
          E_L[i] + (v - E_L[i]) * P22[i] + I_ex[i] * P21ex[i] + I_in[i] * P21in[i] + I * P20[i];
      const std::int32_t ref = refr[i];
      const double held = ref == 0 ? stepped : v;  // held while refractory
      const std::int32_t spike =
          detail::threshold_reset(held, ref, V_th[i], V_reset[i], ref_steps[i], V[i], refr[i]);
      fired[j] = spike;
      any |= spike;
      I_ex[i] = I_ex[i] * P11ex[i] + static_cast<double>(ex[i]);
      I_in[i] = I_in[i] * P11in[i] + static_cast<double>(inh[i]);
      ex[i] = 0.0f;
      inh[i] = 0.0f;
    }
    if (any != 0) detail::emit_flagged(fired, first, n, out);
  }
}

template <bool kEach>
void propagate_range(IndexRange r, double* V, double* I_ex, double* I_in, std::int32_t* refr,
                     const InputView& in, const PscExpStep<kEach>& c, SpikeSink& out) {
  if (in.current != nullptr) {
    propagate<true, kEach>(r.begin, r.end, V, I_ex, I_in, refr, in.ex, in.in, in.current, c, out);
  } else {
    propagate<false, kEach>(r.begin, r.end, V, I_ex, I_in, refr, in.ex, in.in, nullptr, c, out);
  }
}

}  // namespace

void IafPscExp::update(Step, IndexRange r, const InputView& in, SpikeSink& out) {
  if (each_.empty()) {
    const PscExpStep<false> c{{p_.E_L}, {p_.I_e}, {P22_},    {P21ex_},     {P21in_},    {P20_},
                              {P11ex_}, {P11in_}, {p_.V_th}, {p_.V_reset}, {ref_steps_}};
    propagate_range(r, V_.data(), I_ex_.data(), I_in_.data(), refr_.data(), in, c, out);
  } else {
    const auto& e = coefs_;
    const PscExpStep<true> c{{e.E_L.data()},     {e.I_e.data()},      {e.P22.data()},
                             {e.P21ex.data()},   {e.P21in.data()},    {e.P20.data()},
                             {e.P11ex.data()},   {e.P11in.data()},    {e.V_th.data()},
                             {e.V_reset.data()}, {e.ref_steps.data()}};
    propagate_range(r, V_.data(), I_ex_.data(), I_in_.data(), refr_.data(), in, c, out);
  }
}

ModelInfo iaf_psc_exp_model() {
  return tabled_model<IafPscExp, IafPscExpParams>(
      "iaf_psc_exp",
      "leaky integrate-and-fire, exponential current synapses (weights in pA), exact integration");
}

void IafPscExp::checkpoint_extra(StateArchive& a) {
  a.field("refractory", refr_);
}

}  // namespace spikeline
