// fixed_outdegree: each source gets `outdegree` targets drawn uniformly, as
// NEST's "fixed_outdegree".
//
//   rule = "fixed_outdegree", outdegree = 60   outdegree required, a whole number
//
// From source s, from s's connectivity stream (keyed by the source, not a
// target): with multapses (the default) `outdegree` independent draws, in
// draw order; without, `outdegree` distinct targets (Floyd's algorithm), in
// increasing order. Without autapses (a population onto itself) s is left
// out of the draw, so s still gets `outdegree` targets. Each pair's weight
// and delay come from s's weight stream, in the order of s's targets.
//
// Drawn by source (plugin ABI 1.5, connect_source): a range of targets
// costs the whole projection's draws, so a run of K processes has each
// draw a K-th of the sources and send each synapse to its target's process
// (docs/mpi-design.md); one process draws every source once and lays the
// list out.
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

struct FixedOutdegree : plugin::ConnectionRule {
  static constexpr const char* name = "fixed_outdegree";
  static constexpr const char* doc = "each source gets `outdegree` targets drawn uniformly";
  enum { outdegree };
  // At most 2^32 - 1 (what a config's key takes), checked in prepare(), as
  // fixed_indegree's.
  static constexpr double kMax = 4294967295.0;
  static constexpr spk_param params[] = {
      plugin::param("outdegree", "", NAN, "targets per source, a whole number").at_least(0.0)};
  static constexpr const char* required[] = {"outdegree"};

  static void prepare(plugin::ConnectSetup<FixedOutdegree>& s) {
    // What validate() checks for configs (with the projection's name); a
    // caller of the rule alone hears it from the rule too.
    const std::uint64_t nt = s.n_target();
    const std::uint64_t pool = s.same_population() && !s.autapses() && nt > 0 ? nt - 1 : nt;
    const std::string problem =
        count_problem("outdegree", s.param(outdegree), kMax, pool, "targets", s.multapses());
    if (!problem.empty()) throw plugin::Failure(problem);
  }
  static void connect_source(plugin::ConnectSource<FixedOutdegree>& c) {
    const std::uint64_t s = c.source(), nt = c.n_target();
    const auto k = static_cast<std::uint64_t>(c.param(outdegree));
    const std::int64_t skip =
        c.same_population() && !c.autapses() && s < nt ? static_cast<std::int64_t>(s) : -1;
    draw_partners(
        nt, k, skip, c.multapses(), [&](std::uint64_t m) { return c.below(m); },
        [&](std::uint64_t t) { c.add(t); });
  }
  static double expected_pairs(const plugin::ConnectSetup<FixedOutdegree>& s) {
    return s.param(outdegree) * static_cast<double>(s.n_source());
  }
};

}  // namespace spikeline::synapses
