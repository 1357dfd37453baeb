// A connection rule that lives outside synapses/ (a plugin's): it chooses
// the sources of one target at a time, and nothing else. The weights and
// delays of the pairs it chooses come from the projection's `weight` and
// `delay` (and `taps`), drawn by synapses/ as for a built-in rule.
//
// Determinism by construction: the only randomness a PairRule sees is the
// stream synapses/ hands it, keyed by (seed, projection, target); the
// sources of a target are therefore the same whichever thread draws them,
// in whatever order the targets are drawn.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "spikeline/engine/random.hpp"

namespace spikeline {

// The projection a rule is made for.
struct PairRuleContext {
  std::string projection;  // "projection 'exc_to_exc'", for messages
  std::uint64_t n_source = 0;
  std::uint64_t n_target = 0;
  bool same_population = false;
  bool autapses = true;   // the projection's options (see synapses/connect.hpp):
  bool multapses = true;  // synapses/ enforces them on what the rule returns
  double dt = 0;          // ms
};

class PairRule {
 public:
  virtual ~PairRule() = default;
  // Appends the sources connected onto `target` to `out` (which the caller
  // cleared), drawing only from `rng`. Called concurrently for different
  // targets: it must not change the rule. Throws an Error with a message
  // naming the rule when the rule fails.
  virtual void sources(std::uint64_t target, RandomStream& rng,
                       std::vector<std::uint64_t>& out) const = 0;
  // The expected number of pairs of the whole projection (before taps), for
  // the memory guard and the size of the slices drawn at once; NaN: unknown
  // (synapses/ then assumes every pair once, n_source * n_target).
  virtual double expected_pairs() const { return NAN; }
  // "plugin 'libspatial.so' rule 'ring_gaussian'": the rule in messages.
  virtual std::string describe() const = 0;
};

}  // namespace spikeline
