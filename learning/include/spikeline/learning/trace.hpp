// Exponentially decaying spike traces, kept lazily: the value just after the
// last jump and the step of that jump. Shared by the STDP rules.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "spikeline/engine/exp.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline::learning {

// A function of a whole number of steps n, f(n) = F(n dt / tau). The first
// entries come from a table computed with the very same expression, so
// looking them up gives the same bits as calling F (and saves its cost on
// every synapse an event touches); longer gaps call F.
template <double (*F)(double)>
class StepFunction {
 public:
  StepFunction(double dt, double tau) : dt_(dt), tau_(tau) {
    // 20 tau, but at least 1024 steps: a neuron silent for longer than 20
    // trace time constants is common at low rates, and exp costs more than
    // a few kilobytes of table.
    const auto n = static_cast<std::size_t>(
        std::clamp(static_cast<int>(std::min(20.0 * tau / dt, 65535.0)) + 1, 1024, 1 << 16));
    table_.resize(n);
    for (std::size_t k = 0; k < n; ++k) table_[k] = compute(static_cast<Step>(k));
  }
  double operator()(Step n) const {
    return static_cast<std::size_t>(n) < table_.size() ? table_[static_cast<std::size_t>(n)]
                                                       : compute(n);
  }

 private:
  double compute(Step n) const { return F(static_cast<double>(n) * dt_ / tau_); }
  double dt_, tau_;
  std::vector<double> table_;
};

namespace detail {
inline double decay_of(double x) {
  return exp_neg(x);
}
inline double rise_of(double x) {
  return -std::expm1(-x);
}
}  // namespace detail

// exp(-n dt / tau): what is left of a trace after n steps.
using Decay = StepFunction<detail::decay_of>;
// 1 - exp(-n dt / tau), accurate for small n: what an exponential
// relaxation has covered after n steps.
using Rise = StepFunction<detail::rise_of>;

struct Trace {
  double value = 0;
  Step last = 0;

  // The value at step t (>= last).
  double at(Step t, const Decay& decay) const { return value == 0 ? 0.0 : value * decay(t - last); }
  // A spike at step t: +1 (all-to-all interaction) or reset to 1 (nearest).
  void jump(Step t, const Decay& decay, bool nearest) {
    value = nearest ? 1.0 : at(t, decay) + 1.0;
    last = t;
  }
};

}  // namespace spikeline::learning
