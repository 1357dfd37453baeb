#include "spikeline/neurons/izhikevich.hpp"

#include <algorithm>

#include "spikeline/engine/random.hpp"

#include "model_util.hpp"

namespace spikeline {

namespace {
std::vector<StateVarInfo> state_var_list() {
  return {{"V_m", "mV", "membrane potential v"}, {"U_m", "", "recovery variable u"}};
}

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

IzhikevichParams::IzhikevichParams(const ParamMap& p) {
  a = p.number("a", a);
  b = p.number("b", b);
  c = p.number("c", c);
  d = p.number("d", d);
  V_th = p.number("V_th", V_th);
  I_e = p.number("I_e", I_e);
  noise_amplitude = p.number("noise_amplitude", noise_amplitude);
  const std::string mode = detail::choice(p, "integration", "half_steps", {"half_steps", "euler"});
  integration = mode == "euler" ? Integration::euler : Integration::half_steps;

  check_finite(a, p.item("a"), "");
  check_finite(b, p.item("b"), "");
  check_finite(c, p.item("c"), "mV");
  check_finite(d, p.item("d"), "");
  check_finite(V_th, p.item("V_th"), "mV");
  check_finite(I_e, p.item("I_e"), "");
  check_nonnegative(noise_amplitude, p.item("noise_amplitude"), "");
  check_less(c, p.item("c"), V_th, p.item("V_th"), "mV");
}

Izhikevich::Izhikevich(const ModelContext& ctx)
    : Population(ctx.size),
      p_(ctx.params),
      vars_(state_var_list()),
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

double Izhikevich::state(std::size_t var, NeuronIndex i, Step) const {
  switch (var) {
    case 0:
      return v_[i];
    case 1:
      return u_[i];
    default:
      detail::bad_state_var("izhikevich", var);
  }
}

std::optional<NonFiniteState> Izhikevich::find_non_finite(IndexRange r, Step) const {
  return detail::find_non_finite_in({v_.data(), u_.data()}, r);
}

void Izhikevich::set_state(std::size_t var, NeuronIndex i, double value) {
  switch (var) {
    case 0:
      v_[i] = value;
      break;
    case 1:
      u_[i] = value;
      break;
    default:
      detail::bad_state_var("izhikevich", var);
  }
}

ModelInfo izhikevich_model() {
  const IzhikevichParams d;
  ModelInfo m;
  m.name = "izhikevich";
  m.kind = ModelKind::neuron;
  m.summary =
      "Izhikevich (2003) simple model, two half-steps of v per step as in Izhikevich (2007); "
      "weights are current pulses held for one step; optional uniform noise current";
  m.params = {
      {"a", "", d.a, "time scale of the recovery variable u"},
      {"b", "", d.b, "sensitivity of u to v"},
      {"c", "mV", d.c, "reset value of v (< V_th)"},
      {"d", "", d.d, "increment of u at a spike"},
      {"V_th", "mV", d.V_th, "spike cut-off (peak) value of v"},
      {"I_e", "", d.I_e, "constant input current (model units)"},
      {"noise_amplitude", "", d.noise_amplitude,
       "A >= 0: each step adds a current A (U(0,1) - 0.5) per neuron"},
      {"integration", "", NAN, "\"half_steps\" (two steps of dt/2 for v) or \"euler\"",
       "half_steps"},
  };
  m.state_vars = state_var_list();
  m.make_population = [](const ModelContext& ctx) -> std::unique_ptr<Population> {
    return std::make_unique<Izhikevich>(ctx);
  };
  return m;
}

void Izhikevich::checkpoint(StateArchive& a) {
  // The noise needs no counter: it is drawn from the stream at (neuron, step).
  a.field("v", v_);
  a.field("u", u_);
}

}  // namespace spikeline
