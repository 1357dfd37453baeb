#include "spikeline/neurons/iaf_cond_exp.hpp"

#include <algorithm>
#include <cmath>

#include "model_util.hpp"
#include "spikeline/engine/simd.hpp"

namespace spikeline {

namespace {
std::vector<StateVarInfo> state_var_list() {
  return {{"V_m", "mV", "membrane potential"},
          {"g_ex", "nS", "excitatory synaptic conductance"},
          {"g_in", "nS", "inhibitory synaptic conductance"}};
}
}  // namespace

IafCondExpParams::IafCondExpParams(const ParamMap& p) {
  C_m = p.number("C_m", C_m);
  g_L = p.number("g_L", g_L);
  E_L = p.number("E_L", E_L);
  V_th = p.number("V_th", V_th);
  V_reset = p.number("V_reset", V_reset);
  t_ref = p.number("t_ref", t_ref);
  E_ex = p.number("E_ex", E_ex);
  E_in = p.number("E_in", E_in);
  tau_syn_ex = p.number("tau_syn_ex", tau_syn_ex);
  tau_syn_in = p.number("tau_syn_in", tau_syn_in);
  I_e = p.number("I_e", I_e);

  check_positive(C_m, p.item("C_m"), "pF");
  check_positive(g_L, p.item("g_L"), "nS");
  check_finite(E_L, p.item("E_L"), "mV");
  check_finite(V_th, p.item("V_th"), "mV");
  check_finite(V_reset, p.item("V_reset"), "mV");
  check_nonnegative(t_ref, p.item("t_ref"), "ms");
  check_finite(E_ex, p.item("E_ex"), "mV");
  check_finite(E_in, p.item("E_in"), "mV");
  check_positive(tau_syn_ex, p.item("tau_syn_ex"), "ms");
  check_positive(tau_syn_in, p.item("tau_syn_in"), "ms");
  check_finite(I_e, p.item("I_e"), "pA");
  check_less(V_reset, p.item("V_reset"), V_th, p.item("V_th"), "mV");
}

IafCondExp::IafCondExp(const ModelContext& ctx)
    : Population(ctx.size),
      p_(ctx.params),
      vars_(state_var_list()),
      h_over_C_(ctx.grid.dt() / p_.C_m),
      P_ex_(std::exp(-ctx.grid.dt() / p_.tau_syn_ex)),
      P_in_(std::exp(-ctx.grid.dt() / p_.tau_syn_in)),
      ref_steps_(detail::refractory_steps(ctx, p_.t_ref)),
      V_(ctx.size, p_.E_L),
      g_ex_(ctx.size, 0.0),
      g_in_(ctx.size, 0.0),
      refr_(ctx.size, 0) {}

namespace {

// One step of every neuron in [begin, end), the threshold and the reset
// included (see detail::ThresholdReset): no branch and no call in the inner
// loop, so that the compiler vectorises it. A free function with restrict
// pointers: in a lambda capturing by reference GCC cannot prove the arrays
// distinct.
template <bool kWithCurrent>
SPIKELINE_CLONES void integrate(std::size_t begin, std::size_t end, double* __restrict V,
                                double* __restrict g_ex, double* __restrict g_in,
                                std::int32_t* __restrict refr, float* __restrict ex,
                                float* __restrict inh, const double* __restrict cur,
                                const IafCondExpParams& p, double h_over_C, double P_ex,
                                double P_in, detail::ThresholdReset reset, SpikeSink& out) {
  const double g_L = p.g_L, E_L = p.E_L, E_ex = p.E_ex, E_in = p.E_in, I_e = p.I_e;
  std::int32_t fired[detail::kSpikeChunk];
  for (std::size_t first = begin; first < end; first += detail::kSpikeChunk) {
    const std::size_t n = std::min(detail::kSpikeChunk, end - first);
    std::int32_t any = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t i = first + j;
      const double v = V[i];
      const double ge = g_ex[i], gi = g_in[i];
      // Forward Euler with the previous step's conductances; V is held while refractory.
      double I = -g_L * (v - E_L) - ge * (v - E_ex) - gi * (v - E_in) + I_e;
      if constexpr (kWithCurrent) I += cur[i];
      const double stepped = v + h_over_C * I;
      const std::int32_t ref = refr[i];
      const double held = ref == 0 ? stepped : v;
      const std::int32_t spike = detail::threshold_reset(held, ref, reset, V[i], refr[i]);
      fired[j] = spike;
      any |= spike;
      g_ex[i] = ge * P_ex + static_cast<double>(ex[i]);
      g_in[i] = gi * P_in - static_cast<double>(inh[i]);
      ex[i] = 0.0f;
      inh[i] = 0.0f;
    }
    if (any != 0) detail::emit_flagged(fired, first, n, out);
  }
}

}  // namespace

void IafCondExp::update(Step, IndexRange r, const InputView& in, SpikeSink& out) {
  const detail::ThresholdReset reset{p_.V_th, p_.V_reset, ref_steps_};
  if (in.current != nullptr) {
    integrate<true>(r.begin, r.end, V_.data(), g_ex_.data(), g_in_.data(), refr_.data(), in.ex,
                    in.in, in.current, p_, h_over_C_, P_ex_, P_in_, reset, out);
  } else {
    integrate<false>(r.begin, r.end, V_.data(), g_ex_.data(), g_in_.data(), refr_.data(), in.ex,
                     in.in, nullptr, p_, h_over_C_, P_ex_, P_in_, reset, out);
  }
}

double IafCondExp::state(std::size_t var, NeuronIndex i, Step) const {
  switch (var) {
    case 0:
      return V_[i];
    case 1:
      return g_ex_[i];
    case 2:
      return g_in_[i];
    default:
      detail::bad_state_var("iaf_cond_exp", var);
  }
}

std::optional<NonFiniteState> IafCondExp::find_non_finite(IndexRange r, Step) const {
  return detail::find_non_finite_in({V_.data(), g_ex_.data(), g_in_.data()}, r);
}

void IafCondExp::set_state(std::size_t var, NeuronIndex i, double value) {
  switch (var) {
    case 0:
      V_[i] = value;
      break;
    case 1:
      g_ex_[i] = value;
      break;
    case 2:
      g_in_[i] = value;
      break;
    default:
      detail::bad_state_var("iaf_cond_exp", var);
  }
}

ModelInfo iaf_cond_exp_model() {
  const IafCondExpParams d;
  ModelInfo m;
  m.name = "iaf_cond_exp";
  m.kind = ModelKind::neuron;
  m.summary =
      "leaky integrate-and-fire, exponential conductance synapses (weights in nS); forward Euler "
      "for V, exact exponential decay for g (COBA benchmark model)";
  m.params = {
      {"C_m", "pF", d.C_m, "membrane capacitance (> 0)"},
      {"g_L", "nS", d.g_L, "leak conductance (> 0)"},
      {"E_L", "mV", d.E_L, "leak reversal potential"},
      {"V_th", "mV", d.V_th, "spike threshold"},
      {"V_reset", "mV", d.V_reset, "reset potential (< V_th)"},
      {"t_ref", "ms", d.t_ref, "refractory period (>= 0, whole steps)"},
      {"E_ex", "mV", d.E_ex, "excitatory reversal potential"},
      {"E_in", "mV", d.E_in, "inhibitory reversal potential"},
      {"tau_syn_ex", "ms", d.tau_syn_ex, "excitatory conductance time constant (> 0)"},
      {"tau_syn_in", "ms", d.tau_syn_in, "inhibitory conductance time constant (> 0)"},
      {"I_e", "pA", d.I_e, "constant bias current"},
  };
  m.state_vars = state_var_list();
  m.make_population = [](const ModelContext& ctx) -> std::unique_ptr<Population> {
    return std::make_unique<IafCondExp>(ctx);
  };
  return m;
}

void IafCondExp::checkpoint(StateArchive& a) {
  a.field("V_m", V_);
  a.field("g_ex", g_ex_);
  a.field("g_in", g_in_);
  a.field("refractory", refr_);
}

}  // namespace spikeline
