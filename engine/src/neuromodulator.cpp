#include "spikeline/engine/neuromodulator.hpp"

#include <algorithm>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/params.hpp"

namespace spikeline {

Neuromodulator::Neuromodulator(std::string name, double tau_ms, double dt_ms)
    : name_(std::move(name)), tau_(tau_ms), dt_(dt_ms) {
  check_positive(tau_ms, fmt::format("neuromodulator '{}' tau", name_), "ms");
}

void Neuromodulator::add(Step step, double amount) {
  check_finite(amount, fmt::format("neuromodulator '{}' pulse amount", name_), "");
  if (!pulses_.empty() && step < pulses_.back().step) {
    throw ConfigError(fmt::format(
        "neuromodulator '{}': pulse at step {} comes before the pulse at step {} (pulses must be "
        "in time order)",
        name_, step, pulses_.back().step));
  }
  const double before = pulses_.empty() ? 0.0 : at(step);
  pulses_.push_back({step, amount});
  after_.push_back(before + amount);
}

std::size_t Neuromodulator::first_after(Step t) const {
  return static_cast<std::size_t>(
      std::upper_bound(pulses_.begin(), pulses_.end(), t,
                       [](Step s, const Pulse& p) { return s < p.step; }) -
      pulses_.begin());
}

double Neuromodulator::at(Step t) const {
  const std::size_t n = first_after(t);
  if (n == 0) return 0.0;
  const Pulse& last = pulses_[n - 1];
  return after_[n - 1] * std::exp(-static_cast<double>(t - last.step) * dt_ / tau_);
}

}  // namespace spikeline
