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
// The largest step count a time may have: 2^44 (56 years at dt = 0.1 ms),
// small enough that ms / dt computed in double is within 0.01 of a whole
// number of steps for any time given on the grid.
inline constexpr Step kMaxSteps = Step{1} << 44;
// The longest synaptic delay, in steps: 2^20 (105 s at dt = 0.1 ms). Spikes
// in flight are kept in a calendar of one bucket per step up to the longest
// delay, per partition, so the bound keeps that calendar in memory.
inline constexpr Step kMaxDelaySteps = Step{1} << 20;

class TimeGrid {
 public:
  // dt in ms; must be finite and positive.
  explicit TimeGrid(double dt_ms = 0.1);

  double dt() const noexcept { return dt_; }
  double to_ms(Step s) const noexcept { return static_cast<double>(s) * dt_; }

  // How exactly a time was given: as a double (configs: ms / dt is then a
  // whole number to within 1e-9 relative, e.g. 0.3 / 0.1 =
  // 2.9999999999999996), or as a float32 (SONATA files: 6e-8 relative).
  // Beyond that tolerance a time is off the grid and refused, never rounded.
  enum class Precision { exact, single };

  // A delay in ms as a whole number of steps >= 1. `what` names the item in
  // the error message ("projection 'exc->inh' delay").
  Step delay_steps(double ms, std::string_view what, Precision p = Precision::exact) const;
  // A synaptic delay: a delay_steps() of at most kMaxDelaySteps.
  Step synaptic_delay_steps(double ms, std::string_view what, Precision p = Precision::exact) const;

  // A duration or time point in ms as a whole number of steps >= 0.
  Step time_steps(double ms, std::string_view what) const;

 private:
  // `steps` as a Step, or a ConfigError naming `what` beyond kMaxSteps.
  Step in_range(double steps, double ms, std::string_view what) const;
  double dt_;
};

}  // namespace spikeline
