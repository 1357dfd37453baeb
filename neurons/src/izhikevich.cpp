#include "spikeline/neurons/izhikevich.hpp"

#include <algorithm>

#include "model_util.hpp"

namespace spikeline {

void Izhikevich::prepare(plugin::Setup<Izhikevich>& s) {
  const detail::AbiChecks<Izhikevich> check(s);
  check.below(c, "c", V_th, "V_th");
  if (check.any_varies())
    check.copy({{a, kA}, {b, kB}, {c, kC}, {d, kD}, {V_th, kVth}, {I_e, kIe}});
}

// v starts at each neuron's c, u at its b c (as in Izhikevich's code).
void Izhikevich::initialize(plugin::Initial<Izhikevich>& s) {
  double* v = s.state(V_m);
  double* u = s.state(U_m);
  for (std::uint32_t i = 0; i < s.size(); ++i) {
    v[i] = s.param(c, i);
    u[i] = s.param(b, i) * s.param(c, i);
  }
}

namespace {

template <bool kEach>
struct IzhCoefs {
  detail::Coef<kEach, double> a, b, c, d, V_th, I_e;
};

template <bool kHalfSteps, bool kNoise, bool kEach, class N>
void izhikevich_loop(const IzhCoefs<kEach>& k, N& n) {
  const auto a = k.a, b = k.b, c = k.c, d = k.d, V_th = k.V_th, I_e = k.I_e;
  const double dt = n.dt();
  const double A = n.param(Izhikevich::noise_amplitude, 0);
  const double h = kHalfSteps ? 0.5 * dt : dt;
  double* v_ = n.state(Izhikevich::V_m);
  double* u_ = n.state(Izhikevich::U_m);
  float* ex = n.input_ex();
  float* in = n.input_in();
  const double* current = n.currents();
  const detail::Report<N> out{n};
  // The noise is drawn for a chunk of neurons at once (a vectorised loop),
  // then used; the numbers are those of each neuron's own stream.
  constexpr std::uint32_t kChunk = 256;
  double noise[kChunk];
  for (std::uint32_t begin = n.begin(); begin < n.end(); begin += kChunk) {
    const std::uint32_t end = std::min(n.end(), begin + kChunk);
    if constexpr (kNoise)
      n.uniform(static_cast<std::uint64_t>(n.step()), begin, end - begin, noise);
    // Two passes, so that the first (all the arithmetic) vectorises: the
    // update of every neuron, then the rare threshold crossings.
    for (std::uint32_t i = begin; i < end; ++i) {
      double I = I_e[i] + (current ? current[i] : 0.0) + detail::take(ex, i) + detail::take(in, i);
      if constexpr (kNoise) I += A * (noise[i - begin] - 0.5);
      double v = v_[i], u = u_[i];
      v += h * ((0.04 * v + 5.0) * v + 140.0 - u + I);
      if constexpr (kHalfSteps) v += h * ((0.04 * v + 5.0) * v + 140.0 - u + I);
      u += dt * a[i] * (b[i] * v - u);
      v_[i] = v;
      u_[i] = u;
    }
    for (std::uint32_t i = begin; i < end; ++i) {
      if (v_[i] >= V_th[i]) {
        out.emit(i);
        v_[i] = c[i];
        u_[i] += d[i];
      }
    }
  }
}

template <bool kEach, class N>
void izhikevich_update(const IzhCoefs<kEach>& k, N& n) {
  const bool half = n.choice(Izhikevich::integration) == Izhikevich::half_steps;
  const bool noise = n.param(Izhikevich::noise_amplitude, 0) > 0;
  if (half && noise) {
    izhikevich_loop<true, true>(k, n);
  } else if (half) {
    izhikevich_loop<true, false>(k, n);
  } else if (noise) {
    izhikevich_loop<false, true>(k, n);
  } else {
    izhikevich_loop<false, false>(k, n);
  }
}

}  // namespace

template <class N>
void Izhikevich::update(N& n) {
  if constexpr (N::varies) {
    const IzhCoefs<true> k{{n.each(kA)}, {n.each(kB)},   {n.each(kC)},
                           {n.each(kD)}, {n.each(kVth)}, {n.each(kIe)}};
    izhikevich_update(k, n);
  } else {
    const IzhCoefs<false> k{{n.param(a, 0)}, {n.param(b, 0)},    {n.param(c, 0)},
                            {n.param(d, 0)}, {n.param(V_th, 0)}, {n.param(I_e, 0)}};
    izhikevich_update(k, n);
  }
}

template void Izhikevich::update(plugin::Neurons<Izhikevich, false>&);
template void Izhikevich::update(plugin::Neurons<Izhikevich, true>&);

}  // namespace spikeline
