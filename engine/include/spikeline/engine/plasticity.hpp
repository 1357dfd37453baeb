// The interface a plasticity (learning) rule implements. The engine knows no
// concrete rule: STDP and its relatives live in learning/ and register in the
// Registry like models do.
//
// A rule acts on the synapses of one projection and is called at the two
// moments a spike-timing rule needs, inside the partition that owns the
// synapses (so a rule keeps its state per partition and needs no locks):
//
//   on_pre   a presynaptic spike reaches a delay group at step t, i.e. when
//            it arrives at the synapse (emission step + delay), before the
//            group's weights are delivered: a weight changed here already
//            applies to this spike, as in NEST's stdp_synapse;
//   on_post  a target neuron spiked in the update of step t (after all the
//            deliveries of step t): `synapses` and `groups` list its
//            incoming synapses of this projection in the block.
//
// Within a step, deliveries come before the update, so a presynaptic arrival
// and a postsynaptic spike at the same step count as pre-before-post.
// Synapses in a delay group share their source and their arrival times, so
// presynaptic state (traces, last arrival) can be kept per group; per-synapse
// state is indexed like the block's weights.
//
// A rule may also change what a spike delivers without changing the stored
// weight (short-term plasticity: tsodyks_markram delivers weight u x): it
// returns from delivered() an array indexed like the block's weights, whose
// entries for the group's synapses its on_pre has just written, and the
// engine delivers those instead of the weights. Projections without such a
// rule pay nothing (the default returns nullptr; non-plastic projections
// never ask).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/connectivity.hpp"
#include "spikeline/engine/neuromodulator.hpp"
#include "spikeline/engine/state_archive.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline {

class PlasticityRule {
 public:
  virtual ~PlasticityRule() = default;

  // Called once per partition before the run; `targets` is the range of
  // target neurons the partition owns. The rule sizes its state and checks
  // the initial weights (ConfigError naming `projection` when one is out of
  // its bounds).
  virtual void bind(unsigned part, const SynapseBlock& block, IndexRange targets,
                    const std::string& projection) = 0;

  // The neuromodulator this rule reads (by name), or "" for none; the
  // simulator looks it up and calls attach() before bind().
  virtual std::string modulator() const { return {}; }
  virtual void attach(const Neuromodulator& /*modulator*/) {}

  // Brings every synapse of the block up to step t (a rule that updates
  // lazily, at each synapse's events, must make the weights current before
  // they are read: weight snapshots, the end of a run).
  virtual void sync(unsigned /*part*/, SynapseBlock& /*block*/, Step /*t*/) {}

  // The block's weights were replaced from outside, between two pieces of a
  // run (Session::set_weights, after sync()): a rule that keeps its own copy
  // of the weights takes the new ones, or its next event would write the
  // old ones back.
  virtual void weights_replaced(unsigned /*part*/, const SynapseBlock& /*block*/) {}

  // Checks, before any synapse is drawn, that initial weights in [min, max]
  // suit the rule (what `spikeline validate` can check); ConfigError otherwise.
  virtual void check_weights(double /*min*/, double /*max*/,
                             const std::string& /*projection*/) const {}

  // What can be recorded per synapse: index 0 is always "weight"; a rule
  // adds its own (reward_stdp: "eligibility").
  virtual std::vector<std::string> synapse_variables() const { return {"weight"}; }
  // Variable `var` of synapse k at step t (not before the synapse's last
  // event). Does not change the rule's state, so recording cannot change a
  // run's results.
  virtual double synapse_value(std::size_t /*var*/, unsigned /*part*/, const SynapseBlock& block,
                               std::uint32_t k, Step /*t*/) const {
    return block.weight[k];
  }

  // Checkpoints (see state_archive.hpp): the rule's state in partition
  // `part` (traces, eligibility, last update steps; the weights in the block
  // are saved by the engine). A rule that supports them says so.
  virtual bool checkpointable() const { return false; }
  virtual void checkpoint(unsigned /*part*/, StateArchive& /*a*/) {
    throw Error(ExitCode::software, "this plasticity rule cannot be checkpointed");
  }

  // What identifies the rule's code beyond its name and parameters (a
  // plugin's name, version and ABI), or 0: a checkpoint made with another
  // is refused as made by another network.
  virtual std::uint64_t fingerprint() const { return 0; }

  virtual void on_pre(unsigned part, SynapseBlock& block, std::uint32_t group, Step t) = 0;

  // What the synapses of partition `part` deliver, when it is not their
  // weight: asked after each on_pre, an array of block.size() amounts of
  // which the group's entries were written by that on_pre (the others may
  // be stale), or nullptr to deliver block.weight.
  virtual const float* delivered(unsigned /*part*/) const { return nullptr; }

  virtual void on_post(unsigned part, SynapseBlock& block, NeuronIndex target,
                       std::span<const std::uint32_t> synapses,
                       std::span<const std::uint32_t> groups, Step t) = 0;
};

}  // namespace spikeline
