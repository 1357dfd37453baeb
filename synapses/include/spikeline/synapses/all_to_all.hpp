// all_to_all: every (source, target) pair, as NEST's "all_to_all".
//
//   rule = "all_to_all"        no parameters
//
// Onto target t: sources 0, 1, ..., n_source - 1, in that order, without t
// itself when the projection connects a population onto itself with
// autapses = false. With taps = D every pair gets D synapses (connect.hpp).
// Draws nothing: the pairs are fixed; their weights and delays come from
// the projection's `weight` and `delay`, drawn from the target's stream.
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (synapses/src/builtin.cpp), as
// a plugin's connection rule is: synapses/ draws it through the same
// adapter (plugin::PluginPairRule) that draws a plugin's rule.
#pragma once

#include <cstdint>

#include "spikeline/plugin.hpp"

namespace spikeline::synapses {

struct AllToAll : plugin::ConnectionRule {
  static constexpr const char* name = "all_to_all";
  static constexpr const char* doc = "every (source, target) pair";

  static void connect(plugin::Connect<AllToAll>& c) {
    const std::uint64_t t = c.target(), ns = c.n_source();
    // One call per block of sources (ABI 1.2), not per source; without
    // autapses, the two blocks around the target.
    if (c.same_population() && !c.autapses() && t < ns) {
      c.add_range(0, t);
      c.add_range(t + 1, ns);
    } else {
      c.add_range(0, ns);
    }
  }
  static double expected_pairs(const plugin::ConnectSetup<AllToAll>& s) {
    const double ns = static_cast<double>(s.n_source()), nt = static_cast<double>(s.n_target());
    const double self = s.same_population() && !s.autapses() ? (ns < nt ? ns : nt) : 0.0;
    return ns * nt - self;
  }
};

}  // namespace spikeline::synapses
