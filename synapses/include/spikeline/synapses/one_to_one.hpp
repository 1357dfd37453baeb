// one_to_one: source i onto target i, as NEST's "one_to_one".
//
//   rule = "one_to_one"        no parameters; the sizes must match
//
// A population onto itself with autapses = false connects nothing. With
// taps = D every pair gets D synapses (connect.hpp). Draws nothing: the
// weights and delays come from the projection's `weight` and `delay`,
// drawn from the target's stream. synapses/ refuses unequal sizes before
// the rule is asked (validate(): "one_to_one needs equal sizes").
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (synapses/src/builtin.cpp), as
// a plugin's connection rule is.
#pragma once

#include "spikeline/plugin.hpp"

namespace spikeline::synapses {

struct OneToOne : plugin::ConnectionRule {
  static constexpr const char* name = "one_to_one";
  static constexpr const char* doc = "source i -> target i (the sizes must match)";

  static void prepare(plugin::ConnectSetup<OneToOne>& s) {
    // What validate() checks for configs; a caller of the rule alone (a
    // test, the Python module) hears it from the rule too.
    if (s.n_source() != s.n_target()) {
      throw plugin::Failure("one_to_one needs equal sizes");
    }
  }
  static void connect(plugin::Connect<OneToOne>& c) {
    if (c.same_population() && !c.autapses()) return;
    c.add(c.target());
  }
  static double expected_pairs(const plugin::ConnectSetup<OneToOne>& s) {
    return s.same_population() && !s.autapses() ? 0.0 : static_cast<double>(s.n_target());
  }
};

}  // namespace spikeline::synapses
