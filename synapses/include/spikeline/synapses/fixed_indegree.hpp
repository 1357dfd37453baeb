// fixed_indegree: each target gets `indegree` sources drawn uniformly, as
// NEST's "fixed_indegree".
//
//   rule = "fixed_indegree", indegree = 80   indegree required, a whole number
//
// Onto target t, from t's connectivity stream: with multapses (the default)
// `indegree` independent draws, in draw order; without, `indegree` distinct
// sources (Floyd's algorithm), in increasing order. Without autapses (a
// population onto itself) t is left out of the draw, so t still gets
// `indegree` sources.
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (synapses/src/builtin.cpp), as
// a plugin's connection rule is.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "spikeline/plugin.hpp"
#include "spikeline/synapses/sampling.hpp"

namespace spikeline::synapses {

struct FixedIndegree : plugin::ConnectionRule {
  static constexpr const char* name = "fixed_indegree";
  static constexpr const char* doc = "each target gets `indegree` sources drawn uniformly";
  enum { indegree };
  // At most 2^32 - 1 (what a config's key takes), checked in prepare():
  // as the row's bound it would read 4.29497e+09 in `spikeline models`.
  static constexpr double kMax = 4294967295.0;
  static constexpr spk_param params[] = {
      plugin::param("indegree", "", NAN, "sources per target, a whole number").at_least(0.0)};
  static constexpr const char* required[] = {"indegree"};

  static void prepare(plugin::ConnectSetup<FixedIndegree>& s) {
    // What validate() checks for configs (with the projection's name); a
    // caller of the rule alone (a test, the Python module) hears it from
    // the rule too.
    const std::uint64_t ns = s.n_source();
    const std::uint64_t pool = s.same_population() && !s.autapses() && ns > 0 ? ns - 1 : ns;
    const std::string problem =
        count_problem("indegree", s.param(indegree), kMax, pool, "sources", s.multapses());
    if (!problem.empty()) throw plugin::Failure(problem);
  }
  static void connect(plugin::Connect<FixedIndegree>& c) {
    const std::uint64_t t = c.target(), ns = c.n_source();
    const auto k = static_cast<std::uint64_t>(c.param(indegree));
    const std::int64_t skip =
        c.same_population() && !c.autapses() && t < ns ? static_cast<std::int64_t>(t) : -1;
    draw_partners(
        ns, k, skip, c.multapses(), [&](std::uint64_t m) { return c.below(m); },
        [&](std::uint64_t s) { c.add(s); });
  }
  static double expected_pairs(const plugin::ConnectSetup<FixedIndegree>& s) {
    return s.param(indegree) * static_cast<double>(s.n_target());
  }
};

}  // namespace spikeline::synapses
