#include "spikeline/neurons/izhikevich.hpp"

#include <algorithm>

#include "spikeline/engine/random.hpp"

#include "model_util.hpp"

namespace spikeline {

namespace {
template <bool kEach>
struct IzhCoefs {
  detail::Coef<kEach, double> a, b, c, d, V_th, I_e;
};

template <bool kHalfSteps, bool kNoise, bool kEach>
void izhikevich_loop(const IzhCoefs<kEach>& k, double A, double dt, std::uint64_t seed,
                     std::uint32_t stream, Step t, IndexRange r, const InputView& in, double* v_,
                     double* u_, SpikeSink& out) {
  const auto a = k.a, b = k.b, c = k.c, d = k.d, V_th = k.V_th, I_e = k.I_e;
  const double h = kHalfSteps ? 0.5 * dt : dt;
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
          I_e[i] + (current ? current[i] : 0.0) + detail::take(in.ex, i) + detail::take(in.in, i);
      if constexpr (kNoise) I += A * (noise[i - begin] - 0.5);
      double v = v_[i], u = u_[i];
      v += h * ((0.04 * v + 5.0) * v + 140.0 - u + I);
      if constexpr (kHalfSteps) v += h * ((0.04 * v + 5.0) * v + 140.0 - u + I);
      u += dt * a[i] * (b[i] * v - u);
      v_[i] = v;
      u_[i] = u;
    }
    for (NeuronIndex i = begin; i < end; ++i) {
      if (v_[i] >= V_th[i]) {
        out.emit(i);
        v_[i] = c[i];
        u_[i] += d[i];
      }
    }
  }
}

template <bool kEach>
void izhikevich_update(const IzhCoefs<kEach>& k, const IzhikevichParams& p, double dt,
                       std::uint64_t seed, std::uint32_t stream, Step t, IndexRange r,
                       const InputView& in, double* v, double* u, SpikeSink& out) {
  const bool half = p.integration == IzhikevichParams::Integration::half_steps;
  const double A = p.noise_amplitude;
  if (half && A > 0) {
    izhikevich_loop<true, true>(k, A, dt, seed, stream, t, r, in, v, u, out);
  } else if (half) {
    izhikevich_loop<true, false>(k, A, dt, seed, stream, t, r, in, v, u, out);
  } else if (A > 0) {
    izhikevich_loop<false, true>(k, A, dt, seed, stream, t, r, in, v, u, out);
  } else {
    izhikevich_loop<false, false>(k, A, dt, seed, stream, t, r, in, v, u, out);
  }
}
}  // namespace

const ParamTable<IzhikevichParams>& IzhikevichParams::table() {
  using P = Param<IzhikevichParams>;
  using S = IzhikevichParams;
  static const ParamTable<S> t{
      P::number("a", "", &S::a, Range::finite, "time scale of the recovery variable u")
          .per_neuron(),
      P::number("b", "", &S::b, Range::finite, "sensitivity of u to v").per_neuron(),
      P::number("c", "mV", &S::c, Range::finite, "reset value of v (< V_th)").per_neuron(),
      P::number("d", "", &S::d, Range::finite, "increment of u at a spike").per_neuron(),
      P::number("V_th", "mV", &S::V_th, Range::finite, "spike cut-off (peak) value of v")
          .per_neuron(),
      P::number("I_e", "", &S::I_e, Range::finite, "constant input current (model units)")
          .per_neuron(),
      P::number("noise_amplitude", "", &S::noise_amplitude, Range::nonnegative,
                "A: each step adds a current A (U(0,1) - 0.5) per neuron"),
      P::choice("integration", &S::integration, {"half_steps", "euler"},
                "two steps of dt/2 for v, or one Euler step"),
  };
  return t;
}

IzhikevichParams::IzhikevichParams(const ParamMap& p) {
  table().read(*this, p);
  check(*this, [&p](std::string_view name) { return p.item(name); });
}

IzhikevichParams::IzhikevichParams(const ParamMap& p, std::size_t n,
                                   PerNeuron<IzhikevichParams>& each) {
  table().read(*this, p, n, each);
  check_each(*this, each, n, p, [](const IzhikevichParams& s, auto item) { check(s, item); });
}

template <class Item>
void IzhikevichParams::check(const IzhikevichParams& s, Item item) {
  if (!(s.c < s.V_th)) check_less(s.c, item("c"), s.V_th, item("V_th"), "mV");
}

Izhikevich::Izhikevich(const ModelContext& ctx)
    : TabledPopulation(ctx.size),
      p_(ctx.params, ctx.size, each_),
      dt_(ctx.grid.dt()),
      seed_(ctx.seed),
      noise_stream_(stream_id(StreamKind::model_noise, ctx.index)),
      v_(ctx.size, p_.c),
      u_(ctx.size, p_.b * p_.c) {
  if (each_.empty()) return;
  using S = IzhikevichParams;
  const std::size_t n = ctx.size;
  coefs_.a = each_.column(p_, &S::a, n);
  coefs_.b = each_.column(p_, &S::b, n);
  coefs_.c = each_.column(p_, &S::c, n);
  coefs_.d = each_.column(p_, &S::d, n);
  coefs_.V_th = each_.column(p_, &S::V_th, n);
  coefs_.I_e = each_.column(p_, &S::I_e, n);
  for (std::size_t i = 0; i < n; ++i) {
    v_[i] = coefs_.c[i];
    u_[i] = coefs_.b[i] * coefs_.c[i];
  }
}

void Izhikevich::update(Step t, IndexRange r, const InputView& in, SpikeSink& out) {
  if (each_.empty()) {
    const IzhCoefs<false> k{{p_.a}, {p_.b}, {p_.c}, {p_.d}, {p_.V_th}, {p_.I_e}};
    izhikevich_update(k, p_, dt_, seed_, noise_stream_, t, r, in, v_.data(), u_.data(), out);
  } else {
    const auto& e = coefs_;
    const IzhCoefs<true> k{{e.a.data()}, {e.b.data()},    {e.c.data()},
                           {e.d.data()}, {e.V_th.data()}, {e.I_e.data()}};
    izhikevich_update(k, p_, dt_, seed_, noise_stream_, t, r, in, v_.data(), u_.data(), out);
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
