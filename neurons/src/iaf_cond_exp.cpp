#include "spikeline/neurons/iaf_cond_exp.hpp"

#include <algorithm>
#include <cmath>

#include "model_util.hpp"
#include "spikeline/engine/simd.hpp"

namespace spikeline {

const ParamTable<IafCondExpParams>& IafCondExpParams::table() {
  using P = Param<IafCondExpParams>;
  using S = IafCondExpParams;
  static const ParamTable<S> t{
      P::number("C_m", "pF", &S::C_m, Range::positive, "membrane capacitance"),
      P::number("g_L", "nS", &S::g_L, Range::positive, "leak conductance"),
      P::number("E_L", "mV", &S::E_L, Range::finite, "leak reversal potential"),
      P::number("V_th", "mV", &S::V_th, Range::finite, "spike threshold"),
      P::number("V_reset", "mV", &S::V_reset, Range::finite, "reset potential (< V_th)"),
      P::number("t_ref", "ms", &S::t_ref, Range::nonnegative, "refractory period (whole steps)"),
      P::number("E_ex", "mV", &S::E_ex, Range::finite, "excitatory reversal potential"),
      P::number("E_in", "mV", &S::E_in, Range::finite, "inhibitory reversal potential"),
      P::number("tau_syn_ex", "ms", &S::tau_syn_ex, Range::positive,
                "excitatory conductance time constant"),
      P::number("tau_syn_in", "ms", &S::tau_syn_in, Range::positive,
                "inhibitory conductance time constant"),
      P::number("I_e", "pA", &S::I_e, Range::finite, "constant bias current"),
  };
  return t;
}

IafCondExpParams::IafCondExpParams(const ParamMap& p) {
  table().read(*this, p);
  check_less(V_reset, p.item("V_reset"), V_th, p.item("V_th"), "mV");
}

const StateTable<IafCondExp>& IafCondExp::state_table() {
  static const StateTable<IafCondExp> t{
      "iaf_cond_exp",
      {{"V_m", "mV", "membrane potential", &IafCondExp::V_},
       {"g_ex", "nS", "excitatory synaptic conductance", &IafCondExp::g_ex_},
       {"g_in", "nS", "inhibitory synaptic conductance", &IafCondExp::g_in_}}};
  return t;
}

IafCondExp::IafCondExp(const ModelContext& ctx)
    : TabledPopulation(ctx.size),
      p_(ctx.params),
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

ModelInfo iaf_cond_exp_model() {
  return tabled_model<IafCondExp, IafCondExpParams>(
      "iaf_cond_exp",
      "leaky integrate-and-fire, exponential conductance synapses (weights in nS); forward Euler "
      "for V, exact exponential decay for g (COBA benchmark model)");
}

void IafCondExp::checkpoint_extra(StateArchive& a) {
  a.field("refractory", refr_);
}

}  // namespace spikeline
