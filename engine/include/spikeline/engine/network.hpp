// A network ready to simulate: populations (models with state), projections
// (synapse tables), injected-current stimuli, Poisson inputs and trace probes. Built by io/
// from a config, or directly by C++ code and tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "spikeline/engine/connectivity.hpp"
#include "spikeline/engine/plasticity.hpp"
#include "spikeline/engine/population.hpp"
#include "spikeline/engine/registry.hpp"

namespace spikeline {

struct PopulationEntry {
  std::string name;
  std::string model;
  std::unique_ptr<Population> population;
};

struct ProjectionEntry {
  std::string name;
  std::uint32_t source;  // population index
  std::uint32_t target;
  std::vector<SynapseRecord> synapses;         // laid out as Connectivity when the simulator starts
  std::shared_ptr<const SynapseSource> drawn;  // or drawn from this then (when set)
  std::unique_ptr<PlasticityRule> plasticity;  // null: static synapses
};

// A current injected into some neurons of a population: a schedule of
// changes (dc_generator), or a current computed every step (step_current,
// ac_current, noise_current: `wave`, with no changes).
struct CurrentStimulus {
  std::string name;
  std::uint32_t population;
  std::vector<NeuronIndex> neurons;  // empty: all
  std::vector<CurrentChange> changes;
  std::shared_ptr<const CurrentWave> wave;  // null: the changes only
};

// Independent Poisson spike input to some neurons of a population
// (poisson_input): NEST's poisson_generator, whose every target gets its own
// train, or Brian2's PoissonInput, without a generator neuron per target.
// The count arriving at neuron i in step t is Poisson(sources * rate * dt),
// drawn from the stream (seed, poisson_input k, i, t): the same whatever the
// partitions and threads.
struct PoissonInput {
  std::string name;
  std::uint32_t population;
  std::vector<NeuronIndex> neurons;  // empty: all
  PoissonDrive drive;
};

// Spikes forced onto neurons of a population (see Simulator::clamp): a cue.
struct SpikeClamp {
  std::string name;
  std::uint32_t population;
  std::vector<std::pair<Step, NeuronIndex>> spikes;  // (step >= 1, neuron)
};

// Sampling of state variables of some neurons every `interval` steps, from
// step `start` on. Columns are node-major, variable-minor. The simulator
// samples after each step's update, so it takes the samples at steps >= 1;
// a probe with start = 0 also has a sample of the initial state, which its
// owner takes with Simulator::probe_frame() before the first step.
struct TraceProbe {
  std::uint32_t population;
  std::vector<std::size_t> variables;
  std::vector<NeuronIndex> neurons;
  Step start = 0;
  Step interval = 1;
  Step stop = kNever;  // samples at start, start + interval, ... <= stop
};

class Network {
 public:
  Network(TimeGrid grid, std::uint64_t seed) : grid_(grid), seed_(seed) {}

  const TimeGrid& grid() const { return grid_; }
  std::uint64_t seed() const { return seed_; }

  std::uint32_t add_population(std::string name, std::string model,
                               std::unique_ptr<Population> population);
  std::uint32_t add_projection(std::string name, std::uint32_t source, std::uint32_t target,
                               std::vector<SynapseRecord> synapses);
  // The same with synapses drawn when the simulator lays them out, one
  // partition at a time: a large projection never exists as a list.
  std::uint32_t add_projection(std::string name, std::uint32_t source, std::uint32_t target,
                               std::shared_ptr<const SynapseSource> synapses);
  // Makes projection `projection` plastic under `rule`.
  void set_plasticity(std::uint32_t projection, std::unique_ptr<PlasticityRule> rule);
  void add_stimulus(CurrentStimulus stimulus);
  void add_poisson_input(PoissonInput input);
  void add_clamp(SpikeClamp clamp);
  std::size_t add_probe(TraceProbe probe);
  // A neuromodulator (dopamine) that plasticity rules can read; its pulses
  // scheduled before the run start go with it.
  std::size_t add_neuromodulator(Neuromodulator modulator);

  // Index of the population called `name`, or a ConfigError naming `context`.
  std::uint32_t population_index(const std::string& name, const std::string& context) const;

  std::vector<PopulationEntry>& populations() { return populations_; }
  const std::vector<PopulationEntry>& populations() const { return populations_; }
  std::vector<ProjectionEntry>& projections() { return projections_; }
  const std::vector<ProjectionEntry>& projections() const { return projections_; }
  const std::vector<CurrentStimulus>& stimuli() const { return stimuli_; }
  std::vector<CurrentStimulus>& stimuli() { return stimuli_; }
  const std::vector<PoissonInput>& poisson_inputs() const { return poisson_inputs_; }
  std::vector<PoissonInput>& poisson_inputs() { return poisson_inputs_; }
  const std::vector<SpikeClamp>& clamps() const { return clamps_; }
  const std::vector<TraceProbe>& probes() const { return probes_; }
  std::vector<Neuromodulator>& modulators() { return modulators_; }
  const std::vector<Neuromodulator>& modulators() const { return modulators_; }

 private:
  TimeGrid grid_;
  std::uint64_t seed_;
  std::vector<PopulationEntry> populations_;
  std::vector<ProjectionEntry> projections_;
  std::vector<CurrentStimulus> stimuli_;
  std::vector<PoissonInput> poisson_inputs_;
  std::vector<SpikeClamp> clamps_;
  std::vector<TraceProbe> probes_;
  std::vector<Neuromodulator> modulators_;
};

}  // namespace spikeline
