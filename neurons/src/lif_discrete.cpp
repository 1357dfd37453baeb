#include "spikeline/neurons/lif_discrete.hpp"

#include "model_util.hpp"

namespace spikeline {

const ParamTable<LifDiscreteParams>& LifDiscreteParams::table() {
  using P = Param<LifDiscreteParams>;
  using S = LifDiscreteParams;
  static const ParamTable<S> t{
      P::number("beta", "", &S::beta, Range::unit, "decay per step"),
      P::number("theta", "", &S::theta, Range::positive, "threshold"),
      P::choice("reset", &S::reset, {"subtract", "zero"},
                "u -= theta after a spike, or u = 0 after a spike"),
  };
  return t;
}

LifDiscreteParams::LifDiscreteParams(const ParamMap& p) {
  table().read(*this, p);
}

const StateTable<LifDiscrete>& LifDiscrete::state_table() {
  static const StateTable<LifDiscrete> t{
      "lif_discrete",
      {{"u", "", "membrane potential", &LifDiscrete::u_},
       {"s", "", "spike of the last step (0 or 1)", &LifDiscrete::s_}}};
  return t;
}

LifDiscrete::LifDiscrete(const ModelContext& ctx)
    : TabledPopulation(ctx.size), p_(ctx.params), u_(ctx.size, 0.0), s_(ctx.size, 0) {}

void LifDiscrete::update(Step, IndexRange r, const InputView& in, SpikeSink& out) {
  const double beta = p_.beta, theta = p_.theta;
  const bool subtract = p_.reset == LifDiscreteParams::Reset::subtract;
  double* u = u_.data();
  std::uint8_t* s = s_.data();
  for (NeuronIndex i = r.begin; i < r.end; ++i) {
    const double I =
        detail::take(in.ex, i) + detail::take(in.in, i) + detail::current_at(in.current, i);
    const double prev = s[i] ? 1.0 : 0.0;
    const double v = subtract ? beta * u[i] + I - theta * prev : beta * u[i] * (1.0 - prev) + I;
    u[i] = v;
    s[i] = v > theta;
    if (s[i]) out.emit(i);
  }
}

ModelInfo lif_discrete_model() {
  return tabled_model<LifDiscrete, LifDiscreteParams>(
      "lif_discrete",
      "discrete-time LIF u(t) = beta u(t-1) + I(t) - theta s(t-1), s(t) = [u(t) > theta]; "
      "dimensionless (working-memory / surrogate-gradient model)");
}

}  // namespace spikeline
