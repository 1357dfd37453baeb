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
      P::number("C_m", "pF", &S::C_m, Range::positive, "membrane capacitance"),
      P::number("tau_m", "ms", &S::tau_m, Range::positive, "membrane time constant"),
      P::number("tau_syn_ex", "ms", &S::tau_syn_ex, Range::positive,
                "excitatory synaptic time constant"),
      P::number("tau_syn_in", "ms", &S::tau_syn_in, Range::positive,
                "inhibitory synaptic time constant"),
      P::number("t_ref", "ms", &S::t_ref, Range::nonnegative, "refractory period (whole steps)"),
      P::number("E_L", "mV", &S::E_L, Range::finite, "resting potential"),
      P::number("V_reset", "mV", &S::V_reset, Range::finite, "reset potential (< V_th)"),
      P::number("V_th", "mV", &S::V_th, Range::finite, "spike threshold"),
      P::number("I_e", "pA", &S::I_e, Range::finite, "constant bias current"),
  };
  return t;
}

IafPscExpParams::IafPscExpParams(const ParamMap& p) {
  table().read(*this, p);
  check_less(V_reset, p.item("V_reset"), V_th, p.item("V_th"), "mV");
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
      p_(ctx.params),
      ref_steps_(detail::refractory_steps(ctx, p_.t_ref)),
      V_(ctx.size, p_.E_L),
      I_ex_(ctx.size, 0.0),
      I_in_(ctx.size, 0.0),
      refr_(ctx.size, 0) {
  const double h = ctx.grid.dt();
  P11ex_ = std::exp(-h / p_.tau_syn_ex);
  P11in_ = std::exp(-h / p_.tau_syn_in);
  P22_ = std::exp(-h / p_.tau_m);
  P21ex_ = psc_exp_propagator(p_.tau_syn_ex, p_.tau_m, p_.C_m, h);
  P21in_ = psc_exp_propagator(p_.tau_syn_in, p_.tau_m, p_.C_m, h);
  P20_ = p_.tau_m / p_.C_m * -std::expm1(-h / p_.tau_m);
}

namespace {

struct PscExpStep {
  double E_L, I_e, P22, P21ex, P21in, P20, P11ex, P11in;
};

// One step of every neuron in [begin, end), the threshold and the reset
// included (see detail::ThresholdReset): no branch and no call in the inner
// loop, so that the compiler vectorises it (see iaf_cond_exp.cpp).
template <bool kWithCurrent>
SPIKELINE_CLONES void propagate(std::size_t begin, std::size_t end, double* __restrict V,
                                double* __restrict I_ex, double* __restrict I_in,
                                std::int32_t* __restrict refr, float* __restrict ex,
                                float* __restrict inh, const double* __restrict cur,
                                const PscExpStep& c, detail::ThresholdReset reset, SpikeSink& out) {
  const double E_L = c.E_L, I_e = c.I_e, P22 = c.P22, P21ex = c.P21ex, P21in = c.P21in;
  const double P20 = c.P20, P11ex = c.P11ex, P11in = c.P11in;
  std::int32_t fired[detail::kSpikeChunk];
  for (std::size_t first = begin; first < end; first += detail::kSpikeChunk) {
    const std::size_t n = std::min(detail::kSpikeChunk, end - first);
    std::int32_t any = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t i = first + j;
      const double v = V[i];
      double I = I_e;
      if constexpr (kWithCurrent) I += cur[i];
      const double stepped = E_L + (v - E_L) * P22 + I_ex[i] * P21ex + I_in[i] * P21in + I * P20;
      const std::int32_t ref = refr[i];
      const double held = ref == 0 ? stepped : v;  // held while refractory
      const std::int32_t spike = detail::threshold_reset(held, ref, reset, V[i], refr[i]);
      fired[j] = spike;
      any |= spike;
      I_ex[i] = I_ex[i] * P11ex + static_cast<double>(ex[i]);
      I_in[i] = I_in[i] * P11in + static_cast<double>(inh[i]);
      ex[i] = 0.0f;
      inh[i] = 0.0f;
    }
    if (any != 0) detail::emit_flagged(fired, first, n, out);
  }
}

}  // namespace

void IafPscExp::update(Step, IndexRange r, const InputView& in, SpikeSink& out) {
  const PscExpStep c{p_.E_L, p_.I_e, P22_, P21ex_, P21in_, P20_, P11ex_, P11in_};
  const detail::ThresholdReset reset{p_.V_th, p_.V_reset, ref_steps_};
  if (in.current != nullptr) {
    propagate<true>(r.begin, r.end, V_.data(), I_ex_.data(), I_in_.data(), refr_.data(), in.ex,
                    in.in, in.current, c, reset, out);
  } else {
    propagate<false>(r.begin, r.end, V_.data(), I_ex_.data(), I_in_.data(), refr_.data(), in.ex,
                     in.in, nullptr, c, reset, out);
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
