// Lazily kept exponential traces for the learning rules written against the
// plugin interface (stdp, triplet_stdp): a trace is two state variables of
// the rule, its value just after the last jump and the step of that jump,
// and exp(-n dt / tau) comes from a table in the rule's constants (the
// plugin layer's `table_size`), computed with the very expression used
// beyond it, so a lookup gives the same bits as the call (as Decay in
// trace.hpp, which the native rules use).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/exp.hpp"
#include "spikeline/engine/time_grid.hpp"
#include "spikeline/plugin.hpp"

namespace spikeline::learning {

// One time constant's table: where it starts in the rule's table, its
// length, and dt and tau for the steps beyond it.
struct DecayTable {
  std::uint32_t offset, length;
  double dt, tau;
};

// 20 tau, but at least 1,024 steps (a neuron silent for longer than 20
// trace time constants is common at low rates, and exp costs more than a
// few kilobytes of table), at most 65,536: as trace.hpp's Decay.
inline std::uint32_t decay_length(double dt, double tau) {
  return static_cast<std::uint32_t>(
      std::clamp(static_cast<int>(std::min(20.0 * tau / dt, 65535.0)) + 1, 1024, 1 << 16));
}

// The table for tau placed at `offset`; `offset` moves past it.
inline DecayTable place_decay(std::uint32_t& offset, double dt, double tau) {
  const DecayTable d{offset, decay_length(dt, tau), dt, tau};
  offset += d.length;
  return d;
}

inline double decay_beyond(const DecayTable& d, Step n) {
  return exp_neg(static_cast<double>(n) * d.dt / d.tau);
}

inline void fill_decay(double* table, const DecayTable& d) {
  for (std::uint32_t n = 0; n < d.length; ++n) table[d.offset + n] = decay_beyond(d, n);
}

// exp(-n dt / tau).
inline double decay(const double* table, const DecayTable& d, Step n) {
  return static_cast<std::uint64_t>(n) < d.length ? table[d.offset + n] : decay_beyond(d, n);
}

// A trace's value at step t (>= its last jump).
inline double trace_at(const double* table, const DecayTable& d, double value, double last,
                       Step t) {
  return value == 0 ? 0.0 : value * decay(table, d, t - static_cast<Step>(last));
}

// A spike at step t: +1 (all-to-all), or reset to 1 (nearest). The caller
// records the jump's step.
inline double trace_jump(const double* table, const DecayTable& d, double value, double last,
                         Step t, bool nearest) {
  return nearest ? 1.0 : trace_at(table, d, value, last, t) + 1.0;
}

// Short-term plasticity (tsodyks_markram.hpp's recursion, shared by
// tsodyks_markram and reward_stdp with tau_rec > 0): an arrival at step t
// at a delay group whose u, x and latest arrival step (`since`, -1: none)
// are given brings them to t and returns the factor u x that scales the
// arriving spike's weights. The first arrival finds the group at rest
// (u = U, x = 1) and is not depressed. `facil` is used only with
// `facilitation` (tau_facil > 0; else u stays U).
inline double short_term_arrival(const double* table, const DecayTable& rec,
                                 const DecayTable& facil, bool facilitation, double U, double& u,
                                 double& x, double& since, Step t) {
  if (since >= 0) {
    const Step h = t - static_cast<Step>(since);
    x = 1.0 + (x - x * u - 1.0) * decay(table, rec, h);  // with the previous spike's u
    u = facilitation ? U + u * (1.0 - U) * decay(table, facil, h) : U;
  } else {
    u = U;
    x = 1.0;
  }
  since = static_cast<double>(t);
  return u * x;
}

// A rule whose weights stay in [w_min, w_max]: w_min < w_max (prepare),
// and every initial weight inside (check_weights).
// A spike at step t on a trace kept lazily (value after the last jump, and
// the step of that jump).
inline void trace_spike(const double* table, const DecayTable& d, double& value, double& last,
                        Step t, bool nearest) {
  value = trace_jump(table, d, value, last, t, nearest);
  last = static_cast<double>(t);
}

inline void check_bounds(double w_min, double w_max) {
  if (!(w_min < w_max)) {
    throw plugin::Failure(fmt::format("w_min = {} must be below w_max = {}", w_min, w_max));
  }
}
inline void check_initial_weights(const char* rule, double w_min, double w_max, double min,
                                  double max) {
  if (!(min >= w_min && max <= w_max)) {
    throw plugin::Failure(fmt::format(
        "{} needs every initial weight in [w_min, w_max] = [{}, {}]; the weights range over "
        "[{}, {}]",
        rule, w_min, w_max, min, max));
  }
}

}  // namespace spikeline::learning
