// Integer time. The simulation advances in whole steps of dt; every delay,
// duration and event time is an integer number of steps.
//
// Times are given by users in ms (as in NEST and SONATA) and converted here,
// once, with a check: a delay that is not a whole number of steps, or is
// shorter than one step, is a configuration error, never silently rounded.
// Floating-point time with epsilon fudging is how simulators end up
// delivering a spike one step early on one machine and not on another.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

namespace spikeline {

using Step = std::int64_t;
inline constexpr Step kNever = std::numeric_limits<Step>::max();

class TimeGrid {
 public:
  // dt in ms; must be finite and positive.
  explicit TimeGrid(double dt_ms = 0.1);

  double dt() const noexcept { return dt_; }
  double to_ms(Step s) const noexcept { return static_cast<double>(s) * dt_; }

  // A delay in ms as a whole number of steps >= 1. `what` names the item in
  // the error message ("projection 'exc->inh' delay").
  Step delay_steps(double ms, std::string_view what) const;

  // A duration or time point in ms as a whole number of steps >= 0.
  Step time_steps(double ms, std::string_view what) const;

 private:
  double dt_;
};

}  // namespace spikeline
