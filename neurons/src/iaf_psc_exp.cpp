#include "spikeline/neurons/iaf_psc_exp.hpp"

#include <algorithm>
#include <cmath>

#include "model_util.hpp"
#include "spikeline/engine/simd.hpp"

namespace spikeline {

double psc_exp_propagator(double tau_syn, double tau_m, double C_m, double h) {
  if (std::abs(tau_m - tau_syn) <= 1e-8 * tau_m) return h / C_m * std::exp(-h / tau_m);
  return -tau_m / (C_m * (1.0 - tau_m / tau_syn)) * std::exp(-h / tau_syn) *
         std::expm1(h * (1.0 / tau_syn - 1.0 / tau_m));
}

namespace {
struct Propagators {
  double P11ex, P11in, P22, P21ex, P21in, P20;
};
Propagators propagators(double C_m, double tau_m, double tau_ex, double tau_in, double h) {
  Propagators q;
  q.P11ex = std::exp(-h / tau_ex);
  q.P11in = std::exp(-h / tau_in);
  q.P22 = std::exp(-h / tau_m);
  q.P21ex = psc_exp_propagator(tau_ex, tau_m, C_m, h);
  q.P21in = psc_exp_propagator(tau_in, tau_m, C_m, h);
  q.P20 = tau_m / C_m * -std::expm1(-h / tau_m);
  return q;
}
}  // namespace

void IafPscExp::prepare(plugin::Setup<IafPscExp>& s) {
  const detail::AbiChecks<IafPscExp> check(s);
  const double h = s.dt();
  const auto at = [&](std::uint32_t i) {
    return propagators(s.param(C_m, i), s.param(tau_m, i), s.param(tau_syn_ex, i),
                       s.param(tau_syn_in, i), h);
  };
  auto& c = s.constants();
  const Propagators q = at(0);
  c.P11ex = q.P11ex;
  c.P11in = q.P11in;
  c.P22 = q.P22;
  c.P21ex = q.P21ex;
  c.P21in = q.P21in;
  c.P20 = q.P20;
  check.below(V_reset, "V_reset", V_th, "V_th");
  c.ref_steps = check.steps(t_ref);
  if (!check.any_varies()) return;  // update() reads the Constants alone
  // Every coefficient per neuron, computed as the homogeneous ones are.
  check.copy({{E_L, kEL}, {I_e, kIe}, {V_th, kVth}, {V_reset, kVreset}});
  double* P22 = s.each(kP22);
  double* P21ex = s.each(kP21ex);
  double* P21in = s.each(kP21in);
  double* P20 = s.each(kP20);
  double* P11ex = s.each(kP11ex);
  double* P11in = s.each(kP11in);
  for (std::uint32_t i = 0; i < s.size(); ++i) {
    const Propagators qi = at(i);
    P22[i] = qi.P22;
    P21ex[i] = qi.P21ex;
    P21in[i] = qi.P21in;
    P20[i] = qi.P20;
    P11ex[i] = qi.P11ex;
    P11in[i] = qi.P11in;
  }
  check.steps_each(t_ref, c.ref_steps, s.each<std::int32_t>(kRef));
}

// V_m starts at each neuron's E_L.
void IafPscExp::initialize(plugin::Initial<IafPscExp>& s) {
  double* V = s.state(V_m);
  for (std::uint32_t i = 0; i < s.size(); ++i) V[i] = s.param(E_L, i);
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
template <bool kWithCurrent, bool kEach, class Sink>
SPIKELINE_CLONES void propagate(std::size_t begin, std::size_t end, double* __restrict V,
                                double* __restrict I_ex, double* __restrict I_in,
                                std::int32_t* __restrict refr, float* __restrict ex,
                                float* __restrict inh, const double* __restrict cur,
                                const PscExpStep<kEach>& c, Sink& out) {
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

}  // namespace

template <class N>
void IafPscExp::update(N& n) {
  constexpr bool kEach = N::varies;
  const auto& k = n.constants();
  PscExpStep<kEach> c;
  if constexpr (kEach) {
    c = {{n.each(kEL)},
         {n.each(kIe)},
         {n.each(kP22)},
         {n.each(kP21ex)},
         {n.each(kP21in)},
         {n.each(kP20)},
         {n.each(kP11ex)},
         {n.each(kP11in)},
         {n.each(kVth)},
         {n.each(kVreset)},
         {n.template each<std::int32_t>(kRef)}};
  } else {
    c = {{n.param(E_L, 0)}, {n.param(I_e, 0)}, {k.P22},   {k.P21ex},          {k.P21in},
         {k.P20},           {k.P11ex},         {k.P11in}, {n.param(V_th, 0)}, {n.param(V_reset, 0)},
         {k.ref_steps}};
  }
  detail::Report<N> out{n};
  double* V = n.state(V_m);
  double* Ie = n.state(I_syn_ex);
  double* Ii = n.state(I_syn_in);
  std::int32_t* R = n.counter(refractory);
  if (n.currents() != nullptr) {
    propagate<true, kEach>(n.begin(), n.end(), V, Ie, Ii, R, n.input_ex(), n.input_in(),
                           n.currents(), c, out);
  } else {
    propagate<false, kEach>(n.begin(), n.end(), V, Ie, Ii, R, n.input_ex(), n.input_in(), nullptr,
                            c, out);
  }
}

template void IafPscExp::update(plugin::Neurons<IafPscExp, false>&);
template void IafPscExp::update(plugin::Neurons<IafPscExp, true>&);

}  // namespace spikeline
