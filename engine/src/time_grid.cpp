#include "spikeline/engine/time_grid.hpp"

#include <cmath>

#include "spikeline/engine/error.hpp"

namespace spikeline {

namespace {
// When is ms / dt a whole number? 0.3 / 0.1 is 2.9999999999999996 in binary
// floating point and must count as 3 steps; SONATA stores delays as float32
// (up to 6e-8 relative error), which must still land on the grid when a run
// loads the edges another run wrote. The tolerance is relative to the step
// count, but never more than a small part of a step: at 10^6 steps a purely
// relative 1e-6 would accept any value and round it.
bool on_grid(double ms, double dt, double& steps, TimeGrid::Precision p) {
  const bool exact = p == TimeGrid::Precision::exact;
  const double relative = exact ? 1e-9 : 1e-6, cap = exact ? 0.01 : 0.1;
  steps = std::round(ms / dt);
  return std::abs(ms / dt - steps) <= std::min(cap, relative * std::max(1.0, std::abs(steps)));
}
}  // namespace

TimeGrid::TimeGrid(double dt_ms) : dt_(dt_ms) {
  if (!(dt_ms > 0) || !std::isfinite(dt_ms)) {
    throw ConfigError(
        fmt::format("simulation.dt = {} ms is invalid: it must be a finite number > 0", dt_ms));
  }
}

Step TimeGrid::delay_steps(double ms, std::string_view what, Precision p) const {
  double steps = 0;
  if (!std::isfinite(ms) || !(ms > 0)) {
    throw ConfigError(
        fmt::format("{} = {} ms is invalid: a delay must be >= dt = {} ms", what, ms, dt_));
  }
  if (ms < dt_ * (1 - (p == Precision::exact ? 1e-9 : 1e-6))) {
    throw ConfigError(fmt::format(
        "{} = {} ms is shorter than one time step: a delay must be >= dt = {} ms", what, ms, dt_));
  }
  if (!on_grid(ms, dt_, steps, p)) {
    throw ConfigError(fmt::format(
        "{} = {} ms is not a whole number of time steps (dt = {} ms); the nearest valid delays are "
        "{:g} and {:g} ms",
        what, ms, dt_, std::floor(ms / dt_) * dt_, std::ceil(ms / dt_) * dt_));
  }
  return in_range(steps, ms, what);
}

Step TimeGrid::synaptic_delay_steps(double ms, std::string_view what, Precision p) const {
  if (ms / dt_ > static_cast<double>(kMaxDelaySteps) + 0.5) {
    throw ConfigError(
        fmt::format("{} = {} ms is longer than the longest synaptic delay, {} steps ({} ms at "
                    "dt = {} ms)",
                    what, ms, kMaxDelaySteps, to_ms(kMaxDelaySteps), dt_));
  }
  return delay_steps(ms, what, p);
}

Step TimeGrid::time_steps(double ms, std::string_view what) const {
  double steps = 0;
  if (!std::isfinite(ms) || ms < 0) {
    throw ConfigError(
        fmt::format("{} = {} ms is invalid: it must be a finite time >= 0", what, ms));
  }
  if (!on_grid(ms, dt_, steps, Precision::exact)) {
    throw ConfigError(
        fmt::format("{} = {} ms is not a whole number of time steps (dt = {} ms); the nearest "
                    "valid times are {:g} and {:g} ms",
                    what, ms, dt_, std::floor(ms / dt_) * dt_, std::ceil(ms / dt_) * dt_));
  }
  return in_range(steps, ms, what);
}

Step TimeGrid::in_range(double steps, double ms, std::string_view what) const {
  if (!(steps <= static_cast<double>(kMaxSteps))) {
    throw ConfigError(
        fmt::format("{} = {} ms is out of range: times are at most 2^44 steps ({:g} ms "
                    "at dt = {} ms)",
                    what, ms, to_ms(kMaxSteps), dt_));
  }
  return static_cast<Step>(steps);
}

}  // namespace spikeline
