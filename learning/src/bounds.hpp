// Weight-bound checks shared by the rules that keep weights in [w_min, w_max].
#pragma once

#include <string>
#include <vector>

#include "spikeline/engine/connectivity.hpp"
#include "spikeline/engine/error.hpp"

namespace spikeline::learning::detail {

// A rule's state for partition `part`, made when the partition is first bound.
template <class State>
State& partition_state(std::vector<State>& states, unsigned part) {
  if (states.size() <= part) states.resize(part + 1);
  return states[part];
}

// Before any synapse is drawn: the projection's weights range over [min, max].
inline void check_weight_range(const char* rule, double w_min, double w_max, double min, double max,
                               const std::string& projection) {
  if (!(min >= w_min && max <= w_max)) {
    throw ConfigError(fmt::format(
        "projection '{}': {} needs every initial weight in [w_min, w_max] = [{}, {}]; the "
        "projection's weights range over [{}, {}]",
        projection, rule, w_min, w_max, min, max));
  }
}

// At bind: every drawn weight of the block.
inline void check_block_weights(const char* rule, double w_min, double w_max,
                                const SynapseBlock& block, const std::string& projection) {
  for (const DelayGroup& g : block.all_groups()) {
    for (std::uint32_t k = g.begin; k < g.end; ++k) {
      const double w = block.weight[k];
      if (!(w >= w_min && w <= w_max)) {
        throw ConfigError(fmt::format(
            "projection '{}': {} needs every initial weight in [w_min, w_max] = [{}, {}]; a "
            "synapse onto node {} has weight {}",
            projection, rule, w_min, w_max, block.target_of(g, k), w));
      }
    }
  }
}

}  // namespace spikeline::learning::detail
