#include "spikeline/neurons/noise_current.hpp"

#include <cmath>

#include "spikeline/engine/random.hpp"

#include "model_util.hpp"

namespace spikeline {

namespace {
class NoiseCurrentWave final : public CurrentWave {
 public:
  NoiseCurrentWave(const NoiseCurrentParams& p, const WaveContext& ctx)
      : p_(p), seed_(ctx.seed), stream_(stream_id(StreamKind::noise_current, ctx.stimulus)) {}

  void add(Step t, std::span<const NeuronIndex> neurons, double* current) const override {
    if (t <= p_.start_step || t > p_.stop_step) return;
    if (!(p_.std > 0)) {
      for (const NeuronIndex i : neurons) current[i] += p_.mean;
      return;
    }
    // The interval holding (t-1) dt, counted from time 0.
    const auto n = static_cast<std::uint64_t>((t - 1) / p_.dt_steps);
    for (const NeuronIndex i : neurons)
      current[i] += p_.mean + p_.std * RandomStream(seed_, stream_, i, n).normal();
  }

 private:
  NoiseCurrentParams p_;
  std::uint64_t seed_;
  std::uint32_t stream_;
};
}  // namespace

const ParamTable<NoiseCurrentParams>& NoiseCurrentParams::table() {
  using P = Param<NoiseCurrentParams>;
  using S = NoiseCurrentParams;
  static const ParamTable<S> t{
      P::number("mean", "pA", &S::mean, Range::finite,
                "mean current (pA for LIF models, model units otherwise)"),
      P::number("std", "pA", &S::std, Range::nonnegative, "standard deviation of the current"),
      P::number("dt", "ms", &S::dt, Range::positive,
                "interval between draws (a whole multiple of the time step)"),
      P::number("start", "ms", &S::start, Range::finite, "switch-on time (whole steps)"),
      P::number("stop", "ms", &S::stop, Range::not_nan,
                "switch-off time (whole steps; inf: never)"),
  };
  return t;
}

NoiseCurrentParams::NoiseCurrentParams(const ParamMap& p, const TimeGrid& grid) {
  table().read(*this, p);
  const double ratio = dt / grid.dt();
  const double steps = std::round(ratio);
  if (!(steps >= 1) || std::abs(ratio - steps) > 1e-9 * steps ||
      steps > static_cast<double>(kMaxSteps)) {
    const std::string nearest =
        !(ratio > 1) ? fmt::format("the smallest valid value is {:g} ms", grid.dt())
                     : fmt::format("the nearest valid values are {:g} and {:g} ms",
                                   std::floor(ratio) * grid.dt(), std::ceil(ratio) * grid.dt());
    throw ConfigError(
        fmt::format("{} = {} ms is invalid: it must be a whole multiple of the time step dt = {} "
                    "ms, >= dt ({})",
                    p.item("dt"), dt, grid.dt(), nearest));
  }
  dt_steps = static_cast<Step>(steps);
  const auto window = detail::active_window(p, grid, start, stop);
  start_step = window.start;
  stop_step = window.stop;
}

std::shared_ptr<const CurrentWave> noise_current_wave(const ParamMap& p, const TimeGrid& grid,
                                                      const WaveContext& ctx) {
  return std::make_shared<NoiseCurrentWave>(NoiseCurrentParams(p, grid), ctx);
}

ModelInfo noise_current_model() {
  ModelInfo m;
  m.name = "noise_current";
  m.kind = ModelKind::stimulus;
  m.summary =
      "Gaussian noise current mean + std xi, a new independent draw per target neuron every dt, "
      "during (start, stop] (NEST's noise_generator, PyNN's NoisyCurrentSource)";
  m.params = NoiseCurrentParams::table().infos();
  m.make_wave = noise_current_wave;
  return m;
}

}  // namespace spikeline
