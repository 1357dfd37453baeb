#include "spikeline/engine/time_grid.hpp"

#include <cmath>

#include "spikeline/engine/error.hpp"

namespace spikeline {

namespace {
// Relative tolerance when deciding whether ms / dt is a whole number. 0.3 / 0.1
// is 2.9999999999999996 in binary floating point and must count as 3 steps, and
// SONATA stores delays as float32 (about 6e-8 relative error), which must
// still land on the grid when a run loads the edges another run wrote.
constexpr double kGridTolerance = 1e-6;

bool on_grid(double ms, double dt, double& steps) {
  steps = std::round(ms / dt);
  return std::abs(ms / dt - steps) <= kGridTolerance * std::max(1.0, std::abs(steps));
}
}  // namespace

TimeGrid::TimeGrid(double dt_ms) : dt_(dt_ms) {
  if (!(dt_ms > 0) || !std::isfinite(dt_ms)) {
    throw ConfigError(
        fmt::format("simulation.dt = {} ms is invalid: it must be a finite number > 0", dt_ms));
  }
}

Step TimeGrid::delay_steps(double ms, std::string_view what) const {
  double steps = 0;
  if (!std::isfinite(ms) || !(ms > 0)) {
    throw ConfigError(
        fmt::format("{} = {} ms is invalid: a delay must be >= dt = {} ms", what, ms, dt_));
  }
  if (ms < dt_ * (1 - kGridTolerance)) {
    throw ConfigError(fmt::format(
        "{} = {} ms is shorter than one time step: a delay must be >= dt = {} ms", what, ms, dt_));
  }
  if (!on_grid(ms, dt_, steps)) {
    throw ConfigError(fmt::format(
        "{} = {} ms is not a whole number of time steps (dt = {} ms); the nearest valid delays are "
        "{:g} and {:g} ms",
        what, ms, dt_, std::floor(ms / dt_) * dt_, std::ceil(ms / dt_) * dt_));
  }
  return in_range(steps, ms, what);
}

Step TimeGrid::synaptic_delay_steps(double ms, std::string_view what) const {
  if (ms / dt_ > static_cast<double>(kMaxDelaySteps) * (1 + kGridTolerance)) {
    throw ConfigError(
        fmt::format("{} = {} ms is longer than the longest synaptic delay, {} steps ({} ms at "
                    "dt = {} ms)",
                    what, ms, kMaxDelaySteps, to_ms(kMaxDelaySteps), dt_));
  }
  return delay_steps(ms, what);
}

Step TimeGrid::time_steps(double ms, std::string_view what) const {
  double steps = 0;
  if (!std::isfinite(ms) || ms < 0) {
    throw ConfigError(
        fmt::format("{} = {} ms is invalid: it must be a finite time >= 0", what, ms));
  }
  if (!on_grid(ms, dt_, steps)) {
    throw ConfigError(
        fmt::format("{} = {} ms is not a whole number of time steps (dt = {} ms)", what, ms, dt_));
  }
  return in_range(steps, ms, what);
}

Step TimeGrid::in_range(double steps, double ms, std::string_view what) const {
  if (!(steps <= static_cast<double>(kMaxSteps))) {
    throw ConfigError(
        fmt::format("{} = {} ms is out of range: times are at most 2^53 steps ({:g} ms "
                    "at dt = {} ms)",
                    what, ms, to_ms(kMaxSteps), dt_));
  }
  return static_cast<Step>(steps);
}

}  // namespace spikeline
