// The interface every neuron model and spike generator implements.
//
// A population is a group of neurons of one model, with its state stored as
// structure-of-arrays inside the model. The engine never sees a concrete
// model: it hands each model the input that arrived this step and collects
// the spikes it emits. There are three ways to be advanced:
//
//  - stepped: update() is called every step for a range of neurons (a
//    partition's share); the default, always supported;
//  - event-driven: a model whose state has a closed form between inputs (the
//    delta-synapse LIF without bias current) is touched only when input
//    arrives, through update_touched(): a large, mostly silent network then
//    costs in proportion to its activity, not its size;
//  - scheduled: generators that know when they will fire (poisson_generator,
//    spike_generator) tell the engine their next spike with next_spike(), and
//    the engine keeps one event per generator in its queue.
//
// Input semantics: a spike emitted at step t through a delay of d steps is
// added at step t + d. Weights are routed by sign, as NEST does: positive
// weights accumulate in `ex`, negative ones in `in` (kept negative), so a
// conductance model can feed g_ex += ex and g_in -= in. `current` is injected
// current in pA (dc_generator), constant between changes, or null when no
// stimulus reaches the population (then it is zero).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/params.hpp"
#include "spikeline/engine/state_archive.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline {

using NeuronIndex = std::uint32_t;

struct IndexRange {
  NeuronIndex begin;
  NeuronIndex end;
};

// Per-population input arrays, indexed by neuron index within the population.
// A model clears ex[i] and in[i] after it has consumed them (so a neuron
// that receives nothing costs no write).
struct InputView {
  float* ex;
  float* in;
  const double* current;
};

// Where a model reports its spikes (neuron indices within the population).
// One sink per partition and step, so no synchronisation is needed.
class SpikeSink {
 public:
  explicit SpikeSink(std::vector<NeuronIndex>& out) : out_(&out) {}
  void emit(NeuronIndex i) { out_->push_back(i); }

 private:
  std::vector<NeuronIndex>* out_;
};

enum class UpdateMode { stepped, event_driven, scheduled };

// A recordable, initialisable state variable.
struct StateVarInfo {
  std::string name;
  std::string unit;
  std::string doc;
};

// A state variable of one neuron that is not a finite number.
struct NonFiniteState {
  NeuronIndex neuron;
  std::size_t variable;  // index into state_vars()
  double value;          // NaN or an infinity
};

// What a model needs to build itself.
struct ModelContext {
  std::string name;  // the population's name, for messages
  std::size_t size;  // number of neurons
  const ParamMap& params;
  const TimeGrid& grid;
  std::uint64_t seed;   // the simulation seed
  std::uint32_t index;  // the population's index, for random stream ids
};

class Population {
 public:
  explicit Population(std::size_t size) : size_(size) {}
  virtual ~Population() = default;
  Population(const Population&) = delete;
  Population& operator=(const Population&) = delete;

  std::size_t size() const noexcept { return size_; }

  // The mode this model prefers with its parameters. A model that says
  // event_driven must also implement update() correctly: the engine steps it
  // when something (an injected current) rules out the lazy path.
  virtual UpdateMode preferred_mode() const { return UpdateMode::stepped; }

  // Stepped models: advance neurons [r.begin, r.end) from step t-1 to step t,
  // consuming in.ex/in.in/in.current.
  virtual void update(Step t, IndexRange r, const InputView& in, SpikeSink& out) = 0;

  // Event-driven models: the neurons in `touched` (distinct, any order)
  // received input at step t; bring each to step t, apply, test threshold.
  virtual void update_touched(Step t, std::span<const NeuronIndex> touched, const InputView& in,
                              SpikeSink& out);

  // Scheduled models: the step of neuron i's next spike, or kNever; each call
  // consumes that spike. Successive calls return non-decreasing steps (equal
  // steps mean several spikes in one step).
  virtual Step next_spike(NeuronIndex i);

  // Scheduled models, between pieces (Simulator::replace_population): this
  // generator, built from new parameters, takes over from `old` (a
  // population of the same model) at step `now`. It takes what it needs of
  // old's state (random-stream counters) so that its spikes from step
  // now + 1 on follow the new parameters; the engine drops old's emissions
  // still queued and asks this one for its next spikes. Throws ConfigError
  // for values that cannot apply from now on (a spike time at or before
  // now), before anything changed. Returns false when the model cannot
  // take over (the default).
  virtual bool take_over(const Population& /*old*/, Step /*now*/) { return false; }

  // Recordable and initialisable state, in a fixed order.
  virtual std::span<const StateVarInfo> state_vars() const = 0;
  // Value of variable `var` of neuron i at step t (>= the neuron's last
  // update); event-driven models propagate it analytically without changing state.
  virtual double state(std::size_t var, NeuronIndex i, Step t) const = 0;
  // Set an initial value (before the run starts).
  virtual void set_state(std::size_t var, NeuronIndex i, double value) = 0;
  // The first neuron of `r` (by index, then variable) whose state at step t
  // is NaN or infinite, or nothing. The engine asks at a coarse interval
  // (docs/reliability.md), never per step, so the update loops carry no
  // check. The default reads state(); a model whose state() costs more
  // than a load (event-driven propagation) scans its arrays instead.
  virtual std::optional<NonFiniteState> find_non_finite(IndexRange r, Step t) const;

  // Checkpoints (see state_archive.hpp): a model that supports them says so,
  // and checkpoint() walks every array its future depends on (state,
  // refractory counters, last update steps, random stream counters), in
  // both directions. The engine refuses to checkpoint a network with a
  // model that does not, before the run starts.
  virtual bool checkpointable() const { return false; }
  virtual void checkpoint(StateArchive& /*a*/) {
    throw Error(ExitCode::software, "this model cannot be checkpointed");
  }
  // A hash of what the model was built from besides its parameters (a
  // file it read, e.g. spike times): the simulator's fingerprint includes
  // it, so a checkpoint refuses a population whose input file changed.
  // 0 for a model that reads nothing else.
  virtual std::uint64_t fingerprint() const { return 0; }

 private:
  std::size_t size_;
};

// Index of a state variable by name, or throws ConfigError with did-you-mean.
std::size_t state_var_index(const Population& p, const std::string& var, const std::string& owner);

}  // namespace spikeline
