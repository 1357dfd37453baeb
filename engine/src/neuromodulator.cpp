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
  // Insert after any pulse at the same step (stable), then redo the running
  // sums from there; only pulses in the simulation's future are ever added,
  // so no rule has read past the insertion point.
  const std::size_t pos = first_after(step);
  pulses_.insert(pulses_.begin() + static_cast<std::ptrdiff_t>(pos), Pulse{step, amount});
  after_.resize(pulses_.size());
  for (std::size_t n = pos; n < pulses_.size(); ++n) {
    const double before =
        n == 0
            ? 0.0
            : after_[n - 1] * std::exp(-static_cast<double>(pulses_[n].step - pulses_[n - 1].step) *
                                       dt_ / tau_);
    after_[n] = before + pulses_[n].amount;
  }
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

void Neuromodulator::checkpoint(StateArchive& a) {
  a.field("pulses", pulses_, true);
  a.field("level_after", after_, true);
  if (!a.loading()) return;
  const bool sorted =
      std::is_sorted(pulses_.begin(), pulses_.end(),
                     [](const Pulse& x, const Pulse& y) { return x.step < y.step; });
  if (after_.size() != pulses_.size() || !sorted) {
    throw CheckpointError(fmt::format(
        "checkpoint: the schedule of neuromodulator '{}' is inconsistent ({} pulses, {} levels{})",
        name_, pulses_.size(), after_.size(), sorted ? "" : ", not in time order"));
  }
}

}  // namespace spikeline
