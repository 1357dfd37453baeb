// spike_generator: emits spikes at given times.
//
// spike_times is either one list of times used by every neuron of the
// population, or a list of lists, one per neuron (its length must then equal
// the population size). Alternatively spike_times_file names a text file with
// one spike per line, "node_id time_ms" (node_id: 0-based index within the
// population; blank lines and text after '#' are ignored); a relative path is
// taken as given (the config loader resolves it). The rules and errors are
// those of read_spike_times (engine/spike_times.hpp).
//
// A spike at time k dt is emitted at step k, and step 1 (time dt) is the
// first simulated step; equal times give several spikes in one step.
//
// Parameters
//   spike_times       ms   (none)  list of times, or a list of lists (one per neuron)
//   spike_times_file  ""   (none)  file of "node_id time_ms" lines; excludes spike_times
//
// No state variables. The engine drives the generator through next_spike();
// update() does nothing.
//
// References
//   NEST model spike_generator (models/spike_generator.h).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/params.hpp"
#include "spikeline/engine/population.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/engine/spike_times.hpp"

namespace spikeline {

class SpikeGenerator final : public Population {
 public:
  explicit SpikeGenerator(const ModelContext& ctx);

  UpdateMode preferred_mode() const override { return UpdateMode::scheduled; }
  void update(Step, IndexRange, const InputView&, SpikeSink&) override {}
  Step next_spike(NeuronIndex i) override;
  // NEST's SetStatus between Simulate calls: the new times replace the old
  // ones (spikes already emitted stay). A time at or before now is a
  // ConfigError naming it and the valid range.
  bool take_over(const Population& old, Step now) override;
  std::span<const StateVarInfo> state_vars() const override { return {}; }
  double state(std::size_t var, NeuronIndex i, Step t) const override;
  void set_state(std::size_t var, NeuronIndex i, double value) override;
  bool checkpointable() const override { return true; }
  void checkpoint(StateArchive& a) override;
  std::uint64_t fingerprint() const override;

 private:
  // All neurons' steps back to back; neuron i's are steps_[cursor_[i] .. end_[i]).
  // A list shared by all neurons is stored once.
  std::vector<Step> steps_;
  std::vector<std::size_t> cursor_;
  std::vector<std::size_t> end_;
  // For messages: the parameter the times came from, whether one list is
  // shared by all neurons, and dt.
  std::string item_;
  bool shared_ = false;
  double dt_ = 0;
};

ModelInfo spike_generator_model();

}  // namespace spikeline
