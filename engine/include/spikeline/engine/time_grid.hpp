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
// The largest step count a time may have: 2^53, below which every count is
// exact in a double (28,000 years at dt = 0.1 ms).
inline constexpr Step kMaxSteps = Step{1} << 53;
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

  // A delay in ms as a whole number of steps >= 1. `what` names the item in
  // the error message ("projection 'exc->inh' delay").
  Step delay_steps(double ms, std::string_view what) const;
  // A synaptic delay: a delay_steps() of at most kMaxDelaySteps.
  Step synaptic_delay_steps(double ms, std::string_view what) const;

  // A duration or time point in ms as a whole number of steps >= 0.
  Step time_steps(double ms, std::string_view what) const;

 private:
  // `steps` as a Step, or a ConfigError naming `what` beyond kMaxSteps.
  Step in_range(double steps, double ms, std::string_view what) const;
  double dt_;
};

}  // namespace spikeline
