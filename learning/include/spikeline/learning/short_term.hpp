// The Tsodyks-Markram recursion of short-term plasticity, shared by the
// rules that scale what a spike delivers: `tsodyks_markram` (short-term
// plasticity alone) and `reward_stdp` with `tau_rec > 0` (short-term
// depression of the weights it learns). The equations and NEST's
// conventions are documented in tsodyks_markram.hpp.
//
// With one (U, tau_rec, tau_facil) per projection, every synapse of a delay
// group sees the same arrivals and so the same u and x: the state is kept
// per group.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "spikeline/engine/connectivity.hpp"
#include "spikeline/engine/time_grid.hpp"
#include "spikeline/learning/trace.hpp"

namespace spikeline::learning {

class ShortTerm {
 public:
  // A delay group's state as of its latest arrival (last = -1: none yet).
  struct Release {
    double u;
    double x;
    Step last;
  };

  // tau_rec > 0; tau_facil = 0 means no facilitation (u stays U).
  ShortTerm(double U, double tau_rec, double tau_facil, const TimeGrid& grid)
      : U_(U), decay_rec_(grid.dt(), tau_rec) {
    if (tau_facil > 0) decay_facil_.emplace(grid.dt(), tau_facil);
  }

  // A synapse at rest: u = U, x = 1, no arrival yet.
  Release rest() const { return {U_, 1.0, -1}; }

  // An arrival at step t: brings r to t and returns the factor u x by which
  // the arriving spike's weight is scaled. The first arrival finds the
  // synapse at rest and is not depressed.
  double arrive(Release& r, Step t) const {
    if (r.last >= 0) {
      const Step h = t - r.last;
      r.x = 1.0 + (r.x - r.x * r.u - 1.0) * decay_rec_(h);  // with the previous spike's u
      r.u = decay_facil_ ? U_ + r.u * (1.0 - U_) * (*decay_facil_)(h) : U_;
    }
    r.last = t;
    return r.u * r.x;
  }

  // The delay group of synapse k: the last whose first synapse is at or before k.
  static std::size_t group_of(const SynapseBlock& block, std::uint32_t k) {
    const auto groups = block.groups.begin();
    const auto end = groups + static_cast<std::ptrdiff_t>(block.group_count());
    const auto it = std::upper_bound(
        groups, end, k, [](std::uint32_t key, const PackedGroup& g) { return key < g.begin; });
    return static_cast<std::size_t>(it - groups - 1);
  }

 private:
  double U_;
  Decay decay_rec_;
  std::optional<Decay> decay_facil_;  // none when tau_facil = 0
};

}  // namespace spikeline::learning
