// fixed_total_number: `total` pairs drawn uniformly among all pairs, as
// NEST's "fixed_total_number".
//
//   rule = "fixed_total_number", total = 1000   total required, a whole number
//                                               (multapses = true only)
//
// Drawn as NEST draws it, in two steps:
//   1. how many of the `total` pairs end on each target: a multinomial over
//      the targets, each weighted by the sources it may take (n_source, less
//      itself without autapses), drawn as conditional binomials in target
//      order from one stream of the projection (entity 2^32 - 1); the
//      counts sum to `total`;
//   2. target t's sources: its count of independent uniform draws from t's
//      connectivity stream (t itself left out without autapses), in draw
//      order.
// The same distribution as drawing every pair uniformly, and a range of
// targets is drawn alone: every process of a run draws step 1 (n_target
// binomials) and step 2 for its own targets only.
//
// Written against the plugin interface (spikeline/plugin.hpp; per-target
// counts are ABI 1.5) and registered through the built-in catalogue
// (synapses/src/builtin.cpp), as a plugin's connection rule is.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "spikeline/plugin.hpp"
#include "spikeline/synapses/sampling.hpp"

namespace spikeline::synapses {

struct FixedTotalNumber : plugin::ConnectionRule {
  static constexpr const char* name = "fixed_total_number";
  static constexpr const char* doc = "`total` pairs drawn uniformly (multapses = true)";
  enum { total };
  // At most 2^32 - 1 (what a config's key takes), checked in prepare().
  static constexpr double kMax = 4294967295.0;
  static constexpr spk_param params[] = {
      plugin::param("total", "", NAN, "number of pairs, a whole number").at_least(0.0)};
  static constexpr const char* required[] = {"total"};

  static bool no_self(const plugin::ConnectSetup<FixedTotalNumber>& s) {
    return s.same_population() && !s.autapses();
  }

  static void prepare(plugin::ConnectSetup<FixedTotalNumber>& s) {
    // What validate() checks for configs (with the projection's name); a
    // caller of the rule alone hears it from the rule too.
    const std::uint64_t ns = s.n_source(), nt = s.n_target();
    const std::uint64_t pool = ns * nt - (no_self(s) ? std::min(ns, nt) : 0);
    const std::string problem =
        count_problem("total", s.param(total), kMax, pool, "pairs", s.multapses());
    if (!problem.empty()) throw plugin::Failure(problem);
    if (!s.multapses()) {
      throw plugin::Failure("fixed_total_number is implemented with multapses = true only");
    }
  }
  static void counts(plugin::Counts<FixedTotalNumber>& c) {
    const std::uint64_t ns = c.n_source(), nt = c.n_target();
    const bool skip_self = no_self(c);
    auto eligible = [&](std::uint64_t t) {
      return static_cast<double>(ns - (skip_self && t < ns ? 1 : 0));
    };
    double weight_left = 0;
    for (std::uint64_t t = 0; t < nt; ++t) weight_left += eligible(t);
    auto left = static_cast<std::uint64_t>(c.param(total));
    for (std::uint64_t t = 0; t < nt && left > 0; ++t) {
      const double w = eligible(t);
      const std::uint64_t n = w >= weight_left ? left : c.binomial(left, w / weight_left);
      c.count(t) = static_cast<std::uint32_t>(n);
      left -= n;
      weight_left -= w;
    }
  }
  static void connect(plugin::Connect<FixedTotalNumber>& c) {
    const std::uint64_t t = c.target(), ns = c.n_source();
    const std::int64_t skip = no_self(c) && t < ns ? static_cast<std::int64_t>(t) : -1;
    auto below = [&](std::uint64_t m) { return c.below(m); };
    for (std::uint64_t k = c.count(); k > 0; --k) c.add(draw_skipping(below, ns, skip));
  }
  static double expected_pairs(const plugin::ConnectSetup<FixedTotalNumber>& s) {
    return s.param(total);
  }
};

}  // namespace spikeline::synapses
