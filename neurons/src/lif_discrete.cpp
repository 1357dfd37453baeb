#include "spikeline/neurons/lif_discrete.hpp"

#include <string>

#include "model_util.hpp"

namespace spikeline {

namespace {
std::vector<StateVarInfo> state_var_list() {
  return {{"u", "", "membrane potential"}, {"s", "", "spike of the last step (0 or 1)"}};
}
}  // namespace

LifDiscreteParams::LifDiscreteParams(const ParamMap& p) {
  beta = p.number("beta", beta);
  theta = p.number("theta", theta);
  const std::string mode = detail::choice(p, "reset", "subtract", {"subtract", "zero"});
  reset = mode == "zero" ? Reset::zero : Reset::subtract;

  check_range(beta, 0.0, 1.0, p.item("beta"), "");
  check_positive(theta, p.item("theta"), "");
}

LifDiscrete::LifDiscrete(const ModelContext& ctx)
    : Population(ctx.size),
      p_(ctx.params),
      vars_(state_var_list()),
      u_(ctx.size, 0.0),
      s_(ctx.size, 0) {}

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

double LifDiscrete::state(std::size_t var, NeuronIndex i, Step) const {
  switch (var) {
    case 0:
      return u_[i];
    case 1:
      return s_[i];
    default:
      detail::bad_state_var("lif_discrete", var);
  }
}

std::optional<NonFiniteState> LifDiscrete::find_non_finite(IndexRange r, Step) const {
  // s, the spike, is 0 or 1 by construction.
  return detail::find_non_finite_in({u_.data()}, r);
}

void LifDiscrete::set_state(std::size_t var, NeuronIndex i, double value) {
  switch (var) {
    case 0:
      u_[i] = value;
      break;
    case 1:
      if (value != 0.0 && value != 1.0) {
        throw ConfigError(fmt::format(
            "lif_discrete state s of neuron {} = {} is invalid: it must be 0 or 1", i, value));
      }
      s_[i] = value != 0.0;
      break;
    default:
      detail::bad_state_var("lif_discrete", var);
  }
}

ModelInfo lif_discrete_model() {
  const LifDiscreteParams d;
  ModelInfo m;
  m.name = "lif_discrete";
  m.kind = ModelKind::neuron;
  m.summary =
      "discrete-time LIF u(t) = beta u(t-1) + I(t) - theta s(t-1), s(t) = [u(t) > theta]; "
      "dimensionless (working-memory / surrogate-gradient model)";
  m.params = {
      {"beta", "", d.beta, "decay per step, in [0, 1]"},
      {"theta", "", d.theta, "threshold (> 0)"},
      {"reset", "", NAN,
       "\"subtract\" (u -= theta after a spike) or \"zero\" (u = 0 after a spike)", "subtract"},
  };
  m.state_vars = state_var_list();
  m.make_population = [](const ModelContext& ctx) -> std::unique_ptr<Population> {
    return std::make_unique<LifDiscrete>(ctx);
  };
  return m;
}

void LifDiscrete::checkpoint(StateArchive& a) {
  a.field("u", u_);
  a.field("s", s_);
}

}  // namespace spikeline
