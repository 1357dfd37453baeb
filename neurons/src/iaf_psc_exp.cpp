#include "spikeline/neurons/iaf_psc_exp.hpp"

#include <algorithm>
#include <cmath>

#include "model_util.hpp"
#include "spikeline/engine/simd.hpp"

namespace spikeline {

namespace {
std::vector<StateVarInfo> state_var_list() {
  return {{"V_m", "mV", "membrane potential"},
          {"I_syn_ex", "pA", "excitatory synaptic current"},
          {"I_syn_in", "pA", "inhibitory synaptic current (negative)"}};
}
}  // namespace

IafPscExpParams::IafPscExpParams(const ParamMap& p) {
  C_m = p.number("C_m", C_m);
  tau_m = p.number("tau_m", tau_m);
  tau_syn_ex = p.number("tau_syn_ex", tau_syn_ex);
  tau_syn_in = p.number("tau_syn_in", tau_syn_in);
  t_ref = p.number("t_ref", t_ref);
  E_L = p.number("E_L", E_L);
  V_reset = p.number("V_reset", V_reset);
  V_th = p.number("V_th", V_th);
  I_e = p.number("I_e", I_e);

  check_positive(C_m, p.item("C_m"), "pF");
  check_positive(tau_m, p.item("tau_m"), "ms");
  check_positive(tau_syn_ex, p.item("tau_syn_ex"), "ms");
  check_positive(tau_syn_in, p.item("tau_syn_in"), "ms");
  check_nonnegative(t_ref, p.item("t_ref"), "ms");
  check_finite(E_L, p.item("E_L"), "mV");
  check_finite(V_reset, p.item("V_reset"), "mV");
  check_finite(V_th, p.item("V_th"), "mV");
  check_finite(I_e, p.item("I_e"), "pA");
  check_less(V_reset, p.item("V_reset"), V_th, p.item("V_th"), "mV");
}

double psc_exp_propagator(double tau_syn, double tau_m, double C_m, double h) {
  if (std::abs(tau_m - tau_syn) <= 1e-8 * tau_m) return h / C_m * std::exp(-h / tau_m);
  return -tau_m / (C_m * (1.0 - tau_m / tau_syn)) * std::exp(-h / tau_syn) *
         std::expm1(h * (1.0 / tau_syn - 1.0 / tau_m));
}

IafPscExp::IafPscExp(const ModelContext& ctx)
    : Population(ctx.size),
      p_(ctx.params),
      vars_(state_var_list()),
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

double IafPscExp::state(std::size_t var, NeuronIndex i, Step) const {
  switch (var) {
    case 0:
      return V_[i];
    case 1:
      return I_ex_[i];
    case 2:
      return I_in_[i];
    default:
      detail::bad_state_var("iaf_psc_exp", var);
  }
}

std::optional<NonFiniteState> IafPscExp::find_non_finite(IndexRange r, Step) const {
  return detail::find_non_finite_in({V_.data(), I_ex_.data(), I_in_.data()}, r);
}

void IafPscExp::set_state(std::size_t var, NeuronIndex i, double value) {
  switch (var) {
    case 0:
      V_[i] = value;
      break;
    case 1:
      I_ex_[i] = value;
      break;
    case 2:
      I_in_[i] = value;
      break;
    default:
      detail::bad_state_var("iaf_psc_exp", var);
  }
}

ModelInfo iaf_psc_exp_model() {
  const IafPscExpParams d;
  ModelInfo m;
  m.name = "iaf_psc_exp";
  m.kind = ModelKind::neuron;
  m.summary =
      "leaky integrate-and-fire, exponential current synapses (weights in pA), exact integration";
  m.params = {
      {"C_m", "pF", d.C_m, "membrane capacitance (> 0)"},
      {"tau_m", "ms", d.tau_m, "membrane time constant (> 0)"},
      {"tau_syn_ex", "ms", d.tau_syn_ex, "excitatory synaptic time constant (> 0)"},
      {"tau_syn_in", "ms", d.tau_syn_in, "inhibitory synaptic time constant (> 0)"},
      {"t_ref", "ms", d.t_ref, "refractory period (>= 0, whole steps)"},
      {"E_L", "mV", d.E_L, "resting potential"},
      {"V_reset", "mV", d.V_reset, "reset potential (< V_th)"},
      {"V_th", "mV", d.V_th, "spike threshold"},
      {"I_e", "pA", d.I_e, "constant bias current"},
  };
  m.state_vars = state_var_list();
  m.make_population = [](const ModelContext& ctx) -> std::unique_ptr<Population> {
    return std::make_unique<IafPscExp>(ctx);
  };
  return m;
}

void IafPscExp::checkpoint(StateArchive& a) {
  a.field("V_m", V_);
  a.field("I_syn_ex", I_ex_);
  a.field("I_syn_in", I_in_);
  a.field("refractory", refr_);
}

}  // namespace spikeline
