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
  pulses_.insert(pulses_.begin() + static_cast<std::ptrdiff_t>(pos), Pulse{step, amount, 0.0});
  for (std::size_t n = pos; n < pulses_.size(); ++n) {
    const double before =
        n == 0 ? 0.0
               : pulses_[n - 1].level_after *
                     std::exp(-static_cast<double>(pulses_[n].step - pulses_[n - 1].step) * dt_ /
                              tau_);
    pulses_[n].level_after = before + pulses_[n].amount;
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
  return last.level_after * std::exp(-static_cast<double>(t - last.step) * dt_ / tau_);
}

void Neuromodulator::checkpoint(StateArchive& a) {
  // Stored as two fields, (step, amount) rows and the levels, as before the
  // levels moved into the records: checkpoints of either layout are one.
  struct Stored {
    Step step;
    double amount;
  };
  std::vector<Stored> stored;
  std::vector<double> after;
  if (!a.loading()) {
    stored.reserve(pulses_.size());
    after.reserve(pulses_.size());
    for (const Pulse& p : pulses_) {
      stored.push_back({p.step, p.amount});
      after.push_back(p.level_after);
    }
  }
  a.field("pulses", stored, true);
  a.field("level_after", after, true);
  if (!a.loading()) return;
  const bool sorted =
      std::is_sorted(stored.begin(), stored.end(),
                     [](const Stored& x, const Stored& y) { return x.step < y.step; });
  if (after.size() != stored.size() || !sorted) {
    throw CheckpointError(fmt::format(
        "checkpoint: the schedule of neuromodulator '{}' is inconsistent ({} pulses, {} levels{})",
        name_, stored.size(), after.size(), sorted ? "" : ", not in time order"));
  }
  pulses_.clear();
  for (std::size_t n = 0; n < stored.size(); ++n)
    pulses_.push_back({stored[n].step, stored[n].amount, after[n]});
}

}  // namespace spikeline
