// How a weight or a delay is given: a constant, a distribution drawn per
// synapse, or (for explicit edges) one value per synapse.
//
//   constant                  value
//   uniform                   low, high
//   normal                    mean, std, optional low/high bounds with
//                             bounds = "clip" (default) or "redraw"
//
// Delays are times on the simulation grid. A constant delay must be a whole
// number of steps (else a config error). A uniform delay is drawn uniformly
// among the grid points in [low, high] (both on the grid); a normal delay is
// drawn in ms (bounds as above; `low` defaults to dt), rounded to the nearest
// grid point inside [low, high] (never below one step). Rounding only
// happens where the user asked for a continuous distribution of delays, and
// is documented. Without a `high` bound, a draw beyond the longest synaptic
// delay is a config error, never cut to the maximum.
#pragma once

#include <cmath>
#include <string>

#include "spikeline/engine/random.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline::synapses {

struct ValueSpec {
  enum class Kind { constant, uniform, normal };
  enum class Bounds { clip, redraw };

  Kind kind = Kind::constant;
  double value = 0;  // constant
  double low = -INFINITY, high = INFINITY;
  double mean = 0, std = 0;
  Bounds bounds = Bounds::clip;

  static ValueSpec constant(double v) {
    ValueSpec s;
    s.value = v;
    return s;
  }
  static ValueSpec uniform(double low, double high) {
    ValueSpec s;
    s.kind = Kind::uniform;
    s.low = low;
    s.high = high;
    return s;
  }
  static ValueSpec normal(double mean, double std, double low = -INFINITY, double high = INFINITY,
                          Bounds bounds = Bounds::clip) {
    ValueSpec s;
    s.kind = Kind::normal;
    s.mean = mean;
    s.std = std;
    s.low = low;
    s.high = high;
    s.bounds = bounds;
    return s;
  }

  // Throws ConfigError naming `item` when the parameters are invalid (NaN,
  // low > high, negative std, redraw bounds that exclude almost everything).
  void validate(const std::string& item) const;
  bool is_constant() const { return kind == Kind::constant; }

  // One draw, for a weight (or any real value).
  double draw(RandomStream& rng) const;
};

// Delays in whole steps, validated once against the grid. draw() throws
// ConfigError naming `item` for a normal draw beyond the longest synaptic
// delay when the distribution has no `high` bound.
class DelaySampler {
 public:
  DelaySampler(const ValueSpec& spec_ms, const TimeGrid& grid, const std::string& item);
  std::uint32_t draw(RandomStream& rng) const;
  bool is_constant() const { return spec_.is_constant(); }

 private:
  ValueSpec spec_;
  std::string item_;
  double dt_;
  std::uint32_t constant_ = 0;
  std::int64_t low_steps_ = 1, high_steps_ = 1;
};

}  // namespace spikeline::synapses
