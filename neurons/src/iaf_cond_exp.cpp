#include "spikeline/neurons/iaf_cond_exp.hpp"

#include <algorithm>
#include <cmath>

#include "model_util.hpp"
#include "spikeline/engine/simd.hpp"

namespace spikeline {

void IafCondExp::prepare(plugin::Setup<IafCondExp>& s) {
  const detail::AbiChecks<IafCondExp> check(s);
  const double h = s.dt();
  auto& c = s.constants();
  c.h_over_C = h / s.param(C_m);
  c.P_ex = std::exp(-h / s.param(tau_syn_ex));
  c.P_in = std::exp(-h / s.param(tau_syn_in));
  check.below(V_reset, "V_reset", V_th, "V_th");
  c.ref_steps = check.steps(t_ref);
  if (!check.any_varies()) return;  // update() reads the Constants alone
  // Every coefficient per neuron, computed as the homogeneous ones are.
  check.copy({{g_L, kGL},
              {E_L, kEL},
              {E_ex, kEex},
              {E_in, kEin},
              {I_e, kIe},
              {V_th, kVth},
              {V_reset, kVreset}});
  double* hc = s.each(kHOverC);
  double* pe = s.each(kPex);
  double* pi = s.each(kPin);
  for (std::uint32_t i = 0; i < s.size(); ++i) {
    hc[i] = h / s.param(C_m, i);
    pe[i] = std::exp(-h / s.param(tau_syn_ex, i));
    pi[i] = std::exp(-h / s.param(tau_syn_in, i));
  }
  check.steps_each(t_ref, c.ref_steps, s.each<std::int32_t>(kRef));
}

// V_m starts at each neuron's E_L.
void IafCondExp::initialize(plugin::Initial<IafCondExp>& s) {
  double* V = s.state(V_m);
  for (std::uint32_t i = 0; i < s.size(); ++i) V[i] = s.param(E_L, i);
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
template <bool kWithCurrent, bool kEach, class Sink>
SPIKELINE_CLONES void integrate(std::size_t begin, std::size_t end, double* __restrict V,
                                double* __restrict g_ex, double* __restrict g_in,
                                std::int32_t* __restrict refr, float* __restrict ex,
                                float* __restrict inh, const double* __restrict cur,
                                const CondExpCoefs<kEach>& c, Sink& out) {
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

}  // namespace

template <class N>
void IafCondExp::update(N& n) {
  constexpr bool kEach = N::varies;
  const auto& k = n.constants();
  CondExpCoefs<kEach> c;
  if constexpr (kEach) {
    c = {{n.each(kGL)},
         {n.each(kEL)},
         {n.each(kEex)},
         {n.each(kEin)},
         {n.each(kIe)},
         {n.each(kHOverC)},
         {n.each(kPex)},
         {n.each(kPin)},
         {n.each(kVth)},
         {n.each(kVreset)},
         {n.template each<std::int32_t>(kRef)}};
  } else {
    c = {{n.param(g_L, 0)},  {n.param(E_L, 0)},     {n.param(E_ex, 0)}, {n.param(E_in, 0)},
         {n.param(I_e, 0)},  {k.h_over_C},          {k.P_ex},           {k.P_in},
         {n.param(V_th, 0)}, {n.param(V_reset, 0)}, {k.ref_steps}};
  }
  detail::Report<N> out{n};
  double* V = n.state(V_m);
  double* Ge = n.state(g_ex);
  double* Gi = n.state(g_in);
  std::int32_t* R = n.counter(refractory);
  if (n.currents() != nullptr) {
    integrate<true, kEach>(n.begin(), n.end(), V, Ge, Gi, R, n.input_ex(), n.input_in(),
                           n.currents(), c, out);
  } else {
    integrate<false, kEach>(n.begin(), n.end(), V, Ge, Gi, R, n.input_ex(), n.input_in(), nullptr,
                            c, out);
  }
}

template void IafCondExp::update(plugin::Neurons<IafCondExp, false>&);
template void IafCondExp::update(plugin::Neurons<IafCondExp, true>&);

}  // namespace spikeline
