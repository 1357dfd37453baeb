// An exponentially decaying spike trace, kept lazily: its value just after
// the last jump and the step of that jump. Shared by the STDP rules.
#pragma once

#include <cmath>

#include "spikeline/engine/time_grid.hpp"

namespace spikeline::learning {

struct Trace {
  double value = 0;
  Step last = 0;

  // The value at step t (>= last), decayed with time constant tau (ms).
  double at(Step t, double dt, double tau) const {
    return value == 0 ? 0.0 : value * std::exp(-static_cast<double>(t - last) * dt / tau);
  }
  // A spike at step t: +1 (all-to-all interaction) or reset to 1 (nearest).
  void jump(Step t, double dt, double tau, bool nearest) {
    value = nearest ? 1.0 : at(t, dt, tau) + 1.0;
    last = t;
  }
};

}  // namespace spikeline::learning
