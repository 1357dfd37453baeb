#include "spikeline/neurons/ac_current.hpp"

#include <cmath>
#include <numbers>

#include "model_util.hpp"

namespace spikeline {

namespace {
class AcCurrentWave final : public CurrentWave {
 public:
  AcCurrentWave(const AcCurrentParams& p, const TimeGrid& grid)
      : p_(p),
        cycles_per_step_(static_cast<long double>(p.frequency) *
                         static_cast<long double>(grid.dt()) / 1000.0L) {}

  void add(Step t, std::span<const NeuronIndex> neurons, double* current) const override {
    if (t <= p_.start_step || t > p_.stop_step) return;
    // Cycles completed at (t-1) dt, from the step index, in long double
    // (64-bit mantissa on x86: the fraction stays exact to ~1e-12 after
    // 10^10 steps, where double products lose ~1e-8); only the fraction
    // matters, so the sine's argument stays small however long the run.
    const long double cycles = cycles_per_step_ * static_cast<long double>(t - 1);
    const auto fraction = static_cast<double>(cycles - std::floor(cycles));
    const double angle = 2 * std::numbers::pi * fraction + p_.phase * std::numbers::pi / 180;
    const double v = p_.offset + p_.amplitude * std::sin(angle);
    for (const NeuronIndex i : neurons) current[i] += v;
  }

 private:
  AcCurrentParams p_;
  long double cycles_per_step_;
};
}  // namespace

const ParamTable<AcCurrentParams>& AcCurrentParams::table() {
  using P = Param<AcCurrentParams>;
  using S = AcCurrentParams;
  static const ParamTable<S> t{
      P::number("amplitude", "pA", &S::amplitude, Range::finite,
                "amplitude of the sine (pA for LIF models, model units otherwise)"),
      P::number("offset", "pA", &S::offset, Range::finite, "constant current added while active"),
      P::number("frequency", "Hz", &S::frequency, Range::nonnegative, "frequency of the sine"),
      P::number("phase", "deg", &S::phase, Range::finite, "phase at t = 0, in degrees"),
      P::number("start", "ms", &S::start, Range::finite, "switch-on time (whole steps)"),
      P::number("stop", "ms", &S::stop, Range::not_nan,
                "switch-off time (whole steps; inf: never)"),
  };
  return t;
}

AcCurrentParams::AcCurrentParams(const ParamMap& p, const TimeGrid& grid) {
  table().read(*this, p);
  const auto window = detail::active_window(p, grid, start, stop);
  start_step = window.start;
  stop_step = window.stop;
}

std::shared_ptr<const CurrentWave> ac_current_wave(const ParamMap& p, const TimeGrid& grid,
                                                   const WaveContext&) {
  return std::make_shared<AcCurrentWave>(AcCurrentParams(p, grid), grid);
}

ModelInfo ac_current_model() {
  ModelInfo m;
  m.name = "ac_current";
  m.kind = ModelKind::stimulus;
  m.summary =
      "sinusoidal current offset + amplitude sin(2 pi f t + phase) during (start, stop] "
      "(NEST's ac_generator, PyNN's ACSource)";
  m.params = AcCurrentParams::table().infos();
  m.make_wave = ac_current_wave;
  return m;
}

}  // namespace spikeline
