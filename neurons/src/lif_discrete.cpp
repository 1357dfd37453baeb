#include "spikeline/neurons/lif_discrete.hpp"

#include "model_util.hpp"

namespace spikeline {

const ParamTable<LifDiscreteParams>& LifDiscreteParams::table() {
  using P = Param<LifDiscreteParams>;
  using S = LifDiscreteParams;
  static const ParamTable<S> t{
      P::number("beta", "", &S::beta, Range::unit, "decay per step").per_neuron(),
      P::number("theta", "", &S::theta, Range::positive, "threshold").per_neuron(),
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

LifDiscreteParams::LifDiscreteParams(const ParamMap& p, std::size_t n,
                                     PerNeuron<LifDiscreteParams>& each) {
  table().read(*this, p, n, each);
}

LifDiscrete::LifDiscrete(const ModelContext& ctx)
    : TabledPopulation(ctx.size),
      p_(ctx.params, ctx.size, each_),
      u_(ctx.size, 0.0),
      s_(ctx.size, 0) {
  if (each_.empty()) return;
  beta_ = each_.column(p_, &LifDiscreteParams::beta, ctx.size);
  theta_ = each_.column(p_, &LifDiscreteParams::theta, ctx.size);
}

namespace {
template <bool kEach>
void lif_discrete_loop(detail::Coef<kEach, double> beta, detail::Coef<kEach, double> theta,
                       bool subtract, IndexRange r, const InputView& in, double* u, std::uint8_t* s,
                       SpikeSink& out) {
  for (NeuronIndex i = r.begin; i < r.end; ++i) {
    const double I =
        detail::take(in.ex, i) + detail::take(in.in, i) + detail::current_at(in.current, i);
    const double prev = s[i] ? 1.0 : 0.0;
    const double v =
        subtract ? beta[i] * u[i] + I - theta[i] * prev : beta[i] * u[i] * (1.0 - prev) + I;
    u[i] = v;
    s[i] = v > theta[i];
    if (s[i]) out.emit(i);
  }
}
}  // namespace

void LifDiscrete::update(Step, IndexRange r, const InputView& in, SpikeSink& out) {
  const bool subtract = p_.reset == LifDiscreteParams::Reset::subtract;
  if (each_.empty()) {
    lif_discrete_loop<false>({p_.beta}, {p_.theta}, subtract, r, in, u_.data(), s_.data(), out);
  } else {
    lif_discrete_loop<true>({beta_.data()}, {theta_.data()}, subtract, r, in, u_.data(), s_.data(),
                            out);
  }
}

ModelInfo lif_discrete_model() {
  return tabled_model<LifDiscrete, LifDiscreteParams>(
      "lif_discrete",
      "discrete-time LIF u(t) = beta u(t-1) + I(t) - theta s(t-1), s(t) = [u(t) > theta]; "
      "dimensionless (working-memory / surrogate-gradient model)");
}

}  // namespace spikeline
