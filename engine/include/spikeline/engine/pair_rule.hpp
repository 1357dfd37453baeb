// A connection rule that lives outside synapses/ (a plugin's): it chooses
// the sources of one target at a time, and nothing else. The weights and
// delays of the pairs it chooses come from the projection's `weight` and
// `delay` (and `taps`), drawn by synapses/ as for a built-in rule.
//
// Determinism by construction: the only randomness a PairRule sees is the
// stream synapses/ hands it, keyed by (seed, projection, target); the
// sources of a target are therefore the same whichever thread draws them,
// in whatever order the targets are drawn.
//
// Two more shapes (plugin ABI 1.5): a rule drawn by source (by_source():
// targets() of each source from a stream keyed by (seed, projection,
// source), as fixed_outdegree), and a by-target rule with per-target counts
// drawn once for the whole projection (has_counts(): counts() on the
// stream of entity 2^32 - 1, then sources() of each target told its count,
// as fixed_total_number).
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
  // `count` is the target's count (has_counts()), else 0; a rule with
  // counts appends exactly that many sources.
  virtual void sources(std::uint64_t target, std::uint64_t count, RandomStream& rng,
                       std::vector<std::uint64_t>& out) const = 0;
  // A rule without counts.
  void sources(std::uint64_t target, RandomStream& rng, std::vector<std::uint64_t>& out) const {
    sources(target, 0, rng, out);
  }
  // Whether the rule draws by source: then targets() is called instead of
  // sources(), once per source, and appends that source's targets.
  virtual bool by_source() const { return false; }
  virtual void targets(std::uint64_t /*source*/, RandomStream& /*rng*/,
                       std::vector<std::uint64_t>& /*out*/) const {}
  // Whether the rule draws per-target counts first: then counts() is called
  // once per projection, before any sources(), with `out` of n_target zeros.
  virtual bool has_counts() const { return false; }
  virtual void counts(RandomStream& /*rng*/, std::vector<std::uint32_t>& /*out*/) const {}
  // The expected number of pairs of the whole projection (before taps), for
  // the memory guard and the size of the slices drawn at once; NaN: unknown
  // (synapses/ then assumes every pair once, n_source * n_target).
  virtual double expected_pairs() const { return NAN; }
  // "plugin 'libspatial.so' rule 'ring_gaussian'": the rule in messages.
  virtual std::string describe() const = 0;
};

}  // namespace spikeline
