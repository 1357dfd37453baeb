#include "spikeline/neurons/izhikevich.hpp"

#include <algorithm>

#include "spikeline/engine/random.hpp"

#include "model_util.hpp"

namespace spikeline {

namespace {
template <bool kHalfSteps, bool kNoise>
void izhikevich_loop(const IzhikevichParams& p, double dt, std::uint64_t seed, std::uint32_t stream,
                     Step t, IndexRange r, const InputView& in, double* v_, double* u_,
                     SpikeSink& out) {
  const double a = p.a, b = p.b, c = p.c, d = p.d, V_th = p.V_th, I_e = p.I_e;
  const double A = p.noise_amplitude, h = kHalfSteps ? 0.5 * dt : dt;
  // The noise is drawn for a chunk of neurons at once (a vectorised loop),
  // then used; the numbers are those of each neuron's own stream.
  constexpr NeuronIndex kChunk = 256;
  double noise[kChunk];
  for (NeuronIndex begin = r.begin; begin < r.end; begin += kChunk) {
    const NeuronIndex end = std::min(r.end, begin + kChunk);
    if constexpr (kNoise) {
      uniform_per_entity(seed, stream, begin, static_cast<std::uint64_t>(t), end - begin, noise);
    }
    // Two passes, so that the first (all the arithmetic) vectorises: the
    // update of every neuron, then the rare threshold crossings.
    const double* current = in.current;
    for (NeuronIndex i = begin; i < end; ++i) {
      double I =
          I_e + (current ? current[i] : 0.0) + detail::take(in.ex, i) + detail::take(in.in, i);
      if constexpr (kNoise) I += A * (noise[i - begin] - 0.5);
      double v = v_[i], u = u_[i];
      v += h * ((0.04 * v + 5.0) * v + 140.0 - u + I);
      if constexpr (kHalfSteps) v += h * ((0.04 * v + 5.0) * v + 140.0 - u + I);
      u += dt * a * (b * v - u);
      v_[i] = v;
      u_[i] = u;
    }
    for (NeuronIndex i = begin; i < end; ++i) {
      if (v_[i] >= V_th) {
        out.emit(i);
        v_[i] = c;
        u_[i] += d;
      }
    }
  }
}
}  // namespace

const ParamTable<IzhikevichParams>& IzhikevichParams::table() {
  using P = Param<IzhikevichParams>;
  using S = IzhikevichParams;
  static const ParamTable<S> t{
      P::number("a", "", &S::a, Range::finite, "time scale of the recovery variable u"),
      P::number("b", "", &S::b, Range::finite, "sensitivity of u to v"),
      P::number("c", "mV", &S::c, Range::finite, "reset value of v (< V_th)"),
      P::number("d", "", &S::d, Range::finite, "increment of u at a spike"),
      P::number("V_th", "mV", &S::V_th, Range::finite, "spike cut-off (peak) value of v"),
      P::number("I_e", "", &S::I_e, Range::finite, "constant input current (model units)"),
      P::number("noise_amplitude", "", &S::noise_amplitude, Range::nonnegative,
                "A: each step adds a current A (U(0,1) - 0.5) per neuron"),
      P::choice("integration", &S::integration, {"half_steps", "euler"},
                "two steps of dt/2 for v, or one Euler step"),
  };
  return t;
}

IzhikevichParams::IzhikevichParams(const ParamMap& p) {
  table().read(*this, p);
  check_less(c, p.item("c"), V_th, p.item("V_th"), "mV");
}

Izhikevich::Izhikevich(const ModelContext& ctx)
    : TabledPopulation(ctx.size),
      p_(ctx.params),
      dt_(ctx.grid.dt()),
      seed_(ctx.seed),
      noise_stream_(stream_id(StreamKind::model_noise, ctx.index)),
      v_(ctx.size, p_.c),
      u_(ctx.size, p_.b * p_.c) {}

void Izhikevich::update(Step t, IndexRange r, const InputView& in, SpikeSink& out) {
  const bool half = p_.integration == IzhikevichParams::Integration::half_steps;
  const bool noise = p_.noise_amplitude > 0;
  double* v = v_.data();
  double* u = u_.data();
  if (half && noise) {
    izhikevich_loop<true, true>(p_, dt_, seed_, noise_stream_, t, r, in, v, u, out);
  } else if (half) {
    izhikevich_loop<true, false>(p_, dt_, seed_, noise_stream_, t, r, in, v, u, out);
  } else if (noise) {
    izhikevich_loop<false, true>(p_, dt_, seed_, noise_stream_, t, r, in, v, u, out);
  } else {
    izhikevich_loop<false, false>(p_, dt_, seed_, noise_stream_, t, r, in, v, u, out);
  }
}

const StateTable<Izhikevich>& Izhikevich::state_table() {
  static const StateTable<Izhikevich> t{"izhikevich",
                                        {{"V_m", "mV", "membrane potential v", &Izhikevich::v_},
                                         {"U_m", "", "recovery variable u", &Izhikevich::u_}}};
  return t;
}

ModelInfo izhikevich_model() {
  return tabled_model<Izhikevich, IzhikevichParams>(
      "izhikevich",
      "Izhikevich (2003) simple model, two half-steps of v per step as in Izhikevich (2007); "
      "weights are current pulses held for one step; optional uniform noise current");
}

}  // namespace spikeline
