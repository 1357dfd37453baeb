// fixed_probability: every (source, target) pair independently with
// probability p, as NEST's "pairwise_bernoulli".
//
//   rule = "fixed_probability", p = 0.02     p required, in [0, 1]
//
// Onto target t, from t's connectivity stream: the sources in increasing
// order, found by geometric skipping (the gap to the next source is
// Geometric(p)), so the cost follows the synapses made, not n_source.
// Without autapses (a population onto itself) t itself is skipped after
// it is drawn, so the other pairs do not depend on the option.
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (synapses/src/builtin.cpp), as
// a plugin's connection rule is: synapses/ draws it through the same
// adapter (plugin::PluginPairRule) that draws a plugin's rule.
#pragma once

#include <cmath>
#include <cstdint>

#include "spikeline/plugin.hpp"

namespace spikeline::synapses {

struct FixedProbability : plugin::ConnectionRule {
  static constexpr const char* name = "fixed_probability";
  static constexpr const char* doc = "every pair independently with probability p";
  enum { p };
  static constexpr spk_param params[] = {
      plugin::param("p", "", NAN, "connection probability").at_least(0.0).at_most(1.0)};
  static constexpr const char* required[] = {"p"};  // no probability is a sensible default
  struct Constants {
    double log_q;  // log(1 - p): the denominator of every geometric draw
  };

  static void prepare(plugin::ConnectSetup<FixedProbability>& s) {
    s.constants().log_q = std::log1p(-s.param(p));
  }
  static void connect(plugin::Connect<FixedProbability>& c) {
    const double prob = c.param(p);
    if (prob == 0) return;
    const std::uint64_t t = c.target(), ns = c.n_source();
    const bool skip_self = c.same_population() && !c.autapses();
    if (prob >= 1) {  // every source; nothing is drawn
      if (skip_self && t < ns) {
        c.add_range(0, t);
        c.add_range(t + 1, ns);
      } else {
        c.add_range(0, ns);
      }
      return;
    }
    // Failures before a success, as RandomStream::geometric draws them
    // (the same uniforms, the same formula: the same network as before the
    // rule moved here). Counted in double: a gap beyond 2^53 (a tiny p)
    // ends the walk instead of wrapping an integer.
    const double log_q = c.constants().log_q, n = static_cast<double>(ns);
    auto gap = [&] { return std::floor(std::log(c.uniform()) / log_q); };
    for (double s = gap(); s < n; s += 1.0 + gap()) {
      const auto source = static_cast<std::uint64_t>(s);
      if (!(skip_self && source == t)) c.add(source);
    }
  }
  static double expected_pairs(const plugin::ConnectSetup<FixedProbability>& s) {
    const double ns = static_cast<double>(s.n_source()), nt = static_cast<double>(s.n_target());
    const double self = s.same_population() && !s.autapses() ? (ns < nt ? ns : nt) : 0.0;
    return s.param(p) * (ns * nt - self);
  }
};

}  // namespace spikeline::synapses
