// A population-activity detector: which assemblies (sets of neurons of one
// population) are active now, read from their spikes alone.
//
// Each assembly m (n_m neurons) has a leaky integrator of its spikes,
//
//   a_m(t) = a_m(t - 1) e^{-dt / tau} + s_m(t) / n_m,
//
// s_m(t) the spikes of its neurons at step t: a_m is the fraction of the
// assembly that fired within the last ~tau, so one threshold in (0, 1]
// serves assemblies of every size. An assembly *ignites* at the step its
// level first reaches `threshold`; it can ignite again once the level has
// fallen below threshold / 2 (hysteresis: a level hovering at the threshold
// is one ignition, not many).
//
// EMBER's action trigger (docs/ember.md) is this detector on the concept
// layer, with one assembly per stored message (the concept neurons that
// message drove); a run could watch any population with it. Cost: per spike,
// one visit per assembly the neuron belongs to (an inverted index), nothing
// per step: idle periods of hours cost what their spikes cost.
//
// Pure computation, no I/O; the state (levels, last steps, armed flags) is
// plain data that a checkpoint saves and restores exactly (`state()`).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace spikeline::encoding {

struct AssemblyDetectorParams {
  double tau_ms = 20;      // integration time constant, > 0
  double threshold = 0.3;  // ignition level (fraction of the assembly), in (0, 1]
  double dt_ms = 1;        // the simulation step, > 0
  // ConfigError naming the parameter, its value and the valid range.
  void validate() const;
};

struct Ignition {
  std::uint32_t assembly = 0;
  std::int64_t step = 0;
  double level = 0;  // a_m at that step (>= threshold)
};

class AssemblyDetector {
 public:
  // Watches a population of `population_size` neurons (ConfigError for
  // invalid parameters or size 0).
  AssemblyDetector(AssemblyDetectorParams params, std::uint64_t population_size);

  // A new assembly (its id: 0, 1, ... in order of addition) of these
  // neurons, each < population_size, no repeats (DataError naming the
  // neuron otherwise). An empty set is allowed and never ignites.
  std::uint32_t add(std::vector<std::uint32_t> neurons);
  // Assembly `assembly` is these neurons from now on (a message presented
  // again drives its learned assembly): its level restarts at 0, armed.
  void replace(std::uint32_t assembly, std::vector<std::uint32_t> neurons);
  std::size_t size() const { return members_.size(); }
  const std::vector<std::uint32_t>& members(std::uint32_t assembly) const {
    return members_[assembly];
  }

  // Spikes of the watched population in nondecreasing step order, steps
  // after the last observed one or equal to it. Ignitions found are
  // appended to `out` (when non-null), in step order.
  void observe(std::int64_t step, std::span<const std::uint32_t> neurons,
               std::vector<Ignition>* out);
  // The level of each assembly at `step` (>= the last observed step).
  std::vector<double> levels(std::int64_t step) const;
  double level(std::uint32_t assembly, std::int64_t step) const;

  // The levels, their steps and the armed flags as one flat array, and
  // back (into a detector with the same assemblies, added first): a
  // checkpoint's copy. DataError when a restored array does not fit.
  std::vector<double> state() const;
  void restore(std::span<const double> state);

  const AssemblyDetectorParams& params() const { return params_; }

 private:
  AssemblyDetectorParams params_;
  std::uint64_t population_size_ = 0;
  std::vector<std::vector<std::uint32_t>> members_;
  // Per neuron, the assemblies it belongs to (CSR: offsets_ into ids_),
  // rebuilt lazily after add().
  mutable std::vector<std::uint32_t> offsets_, ids_;
  mutable bool index_stale_ = true;
  std::vector<double> value_;       // a_m at last_[m]
  std::vector<std::int64_t> last_;  // the step value_ holds
  std::vector<bool> armed_;         // may ignite (level fell below threshold / 2 since)
  std::int64_t now_ = 0;            // the last observed step

  // Sorts `neurons`; DataError for one out of range or listed twice.
  void check(std::size_t assembly, std::vector<std::uint32_t>& neurons) const;
  void rebuild_index() const;
  double decayed(std::uint32_t m, std::int64_t step) const;
};

}  // namespace spikeline::encoding
