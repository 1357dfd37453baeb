#include "spikeline/neurons/poisson_input.hpp"

#include <cmath>

#include "model_util.hpp"

namespace spikeline {

const ParamTable<PoissonInputParams>& PoissonInputParams::table() {
  using P = Param<PoissonInputParams>;
  using S = PoissonInputParams;
  static const ParamTable<S> t{
      P::number("rate", "Hz", &S::rate, Range::nonnegative, "rate of each source"),
      P::number("sources", "", &S::sources, Range::positive,
                "independent sources per target (a whole number)"),
      P::number("weight", "", &S::weight, Range::finite,
                "synaptic weight of each spike, in the target model's units (mV, pA, nS)"),
      P::number("start", "ms", &S::start, Range::finite, "spikes come after start (whole steps)"),
      P::number("stop", "ms", &S::stop, Range::not_nan,
                "spikes come at or before stop (whole steps; inf: never stops)"),
  };
  return t;
}

PoissonInputParams::PoissonInputParams(const ParamMap& p) {
  table().read(*this, p);
  if (!(sources >= 1 && sources <= 1e9 && sources == std::floor(sources))) {
    throw ConfigError(fmt::format("{} = {} is invalid: it must be a whole number in [1, 1e9]",
                                  p.item("sources"), sources));
  }
}

PoissonDrive poisson_input_drive(const ParamMap& p, const TimeGrid& grid) {
  const PoissonInputParams d(p);
  const auto window = detail::active_window(p, grid, d.start, d.stop);
  return {d.rate, d.sources, d.weight, window.start, window.stop};
}

ModelInfo poisson_input_model() {
  ModelInfo m;
  m.name = "poisson_input";
  m.kind = ModelKind::stimulus;
  m.summary =
      "independent Poisson spike input to every target neuron: `sources` trains of `rate` "
      "each, through synapses of `weight` (NEST's poisson_generator per target, Brian2's "
      "PoissonInput)";
  m.params = PoissonInputParams::table().infos();
  m.make_drive = poisson_input_drive;
  return m;
}

}  // namespace spikeline
