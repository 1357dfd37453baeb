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
      P::number("C_m", "pF", &S::C_m, Range::positive, "membrane capacitance").per_neuron(),
      P::number("g_L", "nS", &S::g_L, Range::positive, "leak conductance").per_neuron(),
      P::number("E_L", "mV", &S::E_L, Range::finite, "leak reversal potential").per_neuron(),
      P::number("V_th", "mV", &S::V_th, Range::finite, "spike threshold").per_neuron(),
      P::number("V_reset", "mV", &S::V_reset, Range::finite, "reset potential (< V_th)")
          .per_neuron(),
      P::number("t_ref", "ms", &S::t_ref, Range::nonnegative, "refractory period (whole steps)")
          .per_neuron(),
      P::number("E_ex", "mV", &S::E_ex, Range::finite, "excitatory reversal potential")
          .per_neuron(),
      P::number("E_in", "mV", &S::E_in, Range::finite, "inhibitory reversal potential")
          .per_neuron(),
      P::number("tau_syn_ex", "ms", &S::tau_syn_ex, Range::positive,
                "excitatory conductance time constant")
          .per_neuron(),
      P::number("tau_syn_in", "ms", &S::tau_syn_in, Range::positive,
                "inhibitory conductance time constant")
          .per_neuron(),
      P::number("I_e", "pA", &S::I_e, Range::finite, "constant bias current").per_neuron(),
  };
  return t;
}

IafCondExpParams::IafCondExpParams(const ParamMap& p) {
  table().read(*this, p);
  check(*this, [&p](std::string_view name) { return p.item(name); });
}

IafCondExpParams::IafCondExpParams(const ParamMap& p, std::size_t n,
                                   PerNeuron<IafCondExpParams>& each) {
  table().read(*this, p, n, each);
  check_each(*this, each, n, p, [](const IafCondExpParams& s, auto item) { check(s, item); });
}

template <class Item>
void IafCondExpParams::check(const IafCondExpParams& s, Item item) {
  if (!(s.V_reset < s.V_th)) check_less(s.V_reset, item("V_reset"), s.V_th, item("V_th"), "mV");
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
      p_(ctx.params, ctx.size, each_),
      h_over_C_(ctx.grid.dt() / p_.C_m),
      P_ex_(std::exp(-ctx.grid.dt() / p_.tau_syn_ex)),
      P_in_(std::exp(-ctx.grid.dt() / p_.tau_syn_in)),
      ref_steps_(each_.varies(&IafCondExpParams::t_ref) ? 0
                                                        : detail::refractory_steps(ctx, p_.t_ref)),
      V_(ctx.size, p_.E_L),
      g_ex_(ctx.size, 0.0),
      g_in_(ctx.size, 0.0),
      refr_(ctx.size, 0) {
  if (each_.empty()) return;
  // Every coefficient per neuron, computed as the homogeneous ones are.
  using S = IafCondExpParams;
  const std::size_t n = ctx.size;
  const double h = ctx.grid.dt();
  coefs_.g_L = each_.column(p_, &S::g_L, n);
  coefs_.E_L = each_.column(p_, &S::E_L, n);
  coefs_.E_ex = each_.column(p_, &S::E_ex, n);
  coefs_.E_in = each_.column(p_, &S::E_in, n);
  coefs_.I_e = each_.column(p_, &S::I_e, n);
  coefs_.V_th = each_.column(p_, &S::V_th, n);
  coefs_.V_reset = each_.column(p_, &S::V_reset, n);
  coefs_.h_over_C = detail::per_neuron<double>(p_, each_, n, [h](const S& s) { return h / s.C_m; });
  coefs_.P_ex = detail::per_neuron<double>(p_, each_, n,
                                           [h](const S& s) { return std::exp(-h / s.tau_syn_ex); });
  coefs_.P_in = detail::per_neuron<double>(p_, each_, n,
                                           [h](const S& s) { return std::exp(-h / s.tau_syn_in); });
  coefs_.ref_steps = detail::refractory_steps_each(ctx, p_, each_, &S::t_ref);
  V_.assign(coefs_.E_L.begin(), coefs_.E_L.end());
}

namespace {

template <bool kEach>
struct CondExpCoefs {
  detail::Coef<kEach, double> g_L, E_L, E_ex, E_in, I_e, h_over_C, P_ex, P_in, V_th, V_reset;
  detail::Coef<kEach, std::int32_t> ref_steps;
};

// One step of every neuron in [begin, end), the threshold and the reset
// included (see detail::ThresholdReset): no branch and no call in the inner
// loop, so that the compiler vectorises it. A free function with restrict
// pointers: in a lambda capturing by reference GCC cannot prove the arrays
// distinct.
template <bool kWithCurrent, bool kEach>
SPIKELINE_CLONES void integrate(std::size_t begin, std::size_t end, double* __restrict V,
                                double* __restrict g_ex, double* __restrict g_in,
                                std::int32_t* __restrict refr, float* __restrict ex,
                                float* __restrict inh, const double* __restrict cur,
                                const CondExpCoefs<kEach>& c, SpikeSink& out) {
  const auto g_L = c.g_L, E_L = c.E_L, E_ex = c.E_ex, E_in = c.E_in, I_e = c.I_e;
  const auto h_over_C = c.h_over_C, P_ex = c.P_ex, P_in = c.P_in;
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
      const double ge = g_ex[i], gi = g_in[i];
      // Forward Euler with the previous step's conductances; V is held while refractory.
      double I = -g_L[i] * (v - E_L[i]) - ge * (v - E_ex[i]) - gi * (v - E_in[i]) + I_e[i];
      if constexpr (kWithCurrent) I += cur[i];
      const double stepped = v + h_over_C[i] * I;
      const std::int32_t ref = refr[i];
      const double held = ref == 0 ? stepped : v;
      const std::int32_t spike =
          detail::threshold_reset(held, ref, V_th[i], V_reset[i], ref_steps[i], V[i], refr[i]);
      fired[j] = spike;
      any |= spike;
      g_ex[i] = ge * P_ex[i] + static_cast<double>(ex[i]);
      g_in[i] = gi * P_in[i] - static_cast<double>(inh[i]);
      ex[i] = 0.0f;
      inh[i] = 0.0f;
    }
    if (any != 0) detail::emit_flagged(fired, first, n, out);
  }
}

template <bool kEach>
void integrate_range(IndexRange r, double* V, double* g_ex, double* g_in, std::int32_t* refr,
                     const InputView& in, const CondExpCoefs<kEach>& c, SpikeSink& out) {
  if (in.current != nullptr) {
    integrate<true, kEach>(r.begin, r.end, V, g_ex, g_in, refr, in.ex, in.in, in.current, c, out);
  } else {
    integrate<false, kEach>(r.begin, r.end, V, g_ex, g_in, refr, in.ex, in.in, nullptr, c, out);
  }
}

}  // namespace

void IafCondExp::update(Step, IndexRange r, const InputView& in, SpikeSink& out) {
  if (each_.empty()) {
    const CondExpCoefs<false> c{{p_.g_L},  {p_.E_L},     {p_.E_ex},   {p_.E_in},
                                {p_.I_e},  {h_over_C_},  {P_ex_},     {P_in_},
                                {p_.V_th}, {p_.V_reset}, {ref_steps_}};
    integrate_range(r, V_.data(), g_ex_.data(), g_in_.data(), refr_.data(), in, c, out);
  } else {
    const auto& e = coefs_;
    const CondExpCoefs<true> c{{e.g_L.data()},     {e.E_L.data()},      {e.E_ex.data()},
                               {e.E_in.data()},    {e.I_e.data()},      {e.h_over_C.data()},
                               {e.P_ex.data()},    {e.P_in.data()},     {e.V_th.data()},
                               {e.V_reset.data()}, {e.ref_steps.data()}};
    integrate_range(r, V_.data(), g_ex_.data(), g_in_.data(), refr_.data(), in, c, out);
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
