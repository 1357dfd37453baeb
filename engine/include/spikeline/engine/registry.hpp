// The model registry: how neuron models, generators and stimulus devices are
// found by name. Built-in models register through exactly the same calls a
// plugin uses (see neurons/builtin.hpp); the engine itself knows no model.
//
// There is no global registry: a Registry is a value the caller creates and
// passes to whatever needs to look models up.
#pragma once

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/pair_rule.hpp"
#include "spikeline/engine/plasticity.hpp"
#include "spikeline/engine/population.hpp"

namespace spikeline {

// A parameter as documented to users (`spikeline models`) and checked against
// the config: unknown names are errors with a did-you-mean hint.
struct ParamInfo {
  ParamInfo(std::string name_, std::string unit_, double default_value_, std::string doc_,
            std::string default_text_ = {})
      : name(std::move(name_)),
        unit(std::move(unit_)),
        default_value(default_value_),
        doc(std::move(doc_)),
        default_text(std::move(default_text_)) {}

  std::string name;
  std::string unit;            // "ms", "mV", "pA", "nS", "pF", "Hz", "" for pure numbers
  double default_value = NAN;  // NaN: no numeric default (required, or a list)
  std::string doc;
  std::string default_text;  // the default of a string parameter ("" if none)
  // Whether a population may give it one value per neuron (a distribution
  // or an array in the config; see model_table.hpp).
  bool per_neuron = false;
  // Whether a config must give it (no default): `spikeline models` says
  // "required" where a default would stand.
  bool required = false;
};

enum class ModelKind { neuron, generator, stimulus };

// A step change of injected current, in pA, at a step (stimulus devices).
struct CurrentChange {
  Step step;
  double delta_pA;
};

// Independent Poisson input to every target neuron (a stimulus device):
// each neuron receives the spikes of `sources` independent Poisson trains
// of `rate_hz` each, through a synapse of `weight` (routed by sign like a
// synaptic weight), at the steps start_step + 1 .. stop_step.
struct PoissonDrive {
  double rate_hz = 0;
  double sources = 1;
  double weight = 0;
  Step start_step = 0;
  Step stop_step = kNever;
};

// A current that a stimulus device computes step by step (step_current,
// ac_current, noise_current) instead of a schedule of changes. It is a pure
// function of (step, neuron), so nothing of it is checkpointed, any
// partitioning gives the same values, and a device changed between pieces
// (Simulator::set_stimulus_wave) acts as if configured so from the start.
class CurrentWave {
 public:
  virtual ~CurrentWave() = default;
  // Adds the current the device injects during the update of step t (which
  // integrates ((t-1) dt, t dt]) into each of `neurons`, all of one
  // partition: current[i] += I(t, i) for i in neurons. The value of a
  // device sampled at the time (t-1) dt holds over the step, as a
  // dc_generator's change at time s dt acts from the update of step s + 1.
  virtual void add(Step t, std::span<const NeuronIndex> neurons, double* current) const = 0;
};

// What a wave's random numbers are keyed by: the run's seed and the
// stimulus's index among the network's current stimuli.
struct WaveContext {
  std::uint64_t seed = 0;
  std::uint32_t stimulus = 0;
};

struct ModelInfo {
  std::string name;
  ModelKind kind = ModelKind::neuron;
  std::string summary;
  // Where the model comes from: "" for a built-in model, else the file of
  // the plugin that registered it (`spikeline models` shows it), and what
  // the plugin said it is ("plugin 'aeif' version 1.0, ABI 1.0"; a
  // checkpoint records it).
  std::string origin;
  std::string provenance;
  std::vector<ParamInfo> params;
  std::vector<StateVarInfo> state_vars;
  // For neurons and generators.
  std::function<std::unique_ptr<Population>(const ModelContext&)> make_population;
  // For stimulus devices: the schedule of current changes, a current
  // computed step by step, or (a device of spikes rather than current) the
  // Poisson drive. A device has exactly one of the three.
  std::function<std::vector<CurrentChange>(const ParamMap&, const TimeGrid&)> make_stimulus;
  std::function<std::shared_ptr<const CurrentWave>(const ParamMap&, const TimeGrid&,
                                                   const WaveContext&)>
      make_wave;
  std::function<PoissonDrive(const ParamMap&, const TimeGrid&)> make_drive;
};

// A plasticity rule, found by the name a projection's `plasticity.rule` gives.
struct RuleInfo {
  std::string name;
  std::string summary;
  std::string origin;  // "" built in, else the plugin file (as ModelInfo::origin)
  std::string provenance;
  std::vector<ParamInfo> params;
  std::function<std::unique_ptr<PlasticityRule>(const ParamMap&, const TimeGrid&)> make;
};

// A connection rule, found by the name a projection's `rule` gives. The
// built-in rules (synapses::register_builtin_connection_rules) are listed
// without a factory: synapses/ draws them itself; a plugin's rule has one.
struct ConnectionRuleInfo {
  std::string name;
  std::string summary;
  std::string origin;  // "" built in, else the plugin file (as ModelInfo::origin)
  std::string provenance;
  std::vector<ParamInfo> params;
  // Resolves the projection's `params` against the rule's table (ConfigError
  // naming the projection otherwise); null for a rule synapses/ draws
  // itself (fixed_probability, ...; all_to_all and one_to_one have one).
  std::function<std::shared_ptr<const PairRule>(const ParamMap&, const PairRuleContext&)> make;
};

class Registry {
 public:
  // Adds a model; a second model with the same name is an error.
  void add(ModelInfo info);
  // The model called `name`, or a ConfigError that lists what exists.
  const ModelInfo& get(const std::string& name, const std::string& context) const;
  bool has(const std::string& name) const { return models_.count(name) != 0; }
  std::vector<const ModelInfo*> all() const;

  // Rejects parameter names the model does not have (with a did-you-mean).
  static void check_param_names(const ModelInfo& model, const ParamMap& params);

  // Plasticity rules, in the same way.
  void add_rule(RuleInfo info);
  const RuleInfo& get_rule(const std::string& name, const std::string& context) const;
  std::vector<const RuleInfo*> rules() const;
  bool has_rule(const std::string& name) const { return rules_.count(name) != 0; }
  static void check_param_names(const RuleInfo& rule, const ParamMap& params);

  // Connection rules, in the same way; a name registered twice is an error.
  void add_connection_rule(ConnectionRuleInfo info);
  const ConnectionRuleInfo& get_connection_rule(const std::string& name,
                                                const std::string& context) const;
  std::vector<const ConnectionRuleInfo*> connection_rules() const;
  bool has_connection_rule(const std::string& name) const {
    return connection_rules_.count(name) != 0;
  }
  static void check_param_names(const ConnectionRuleInfo& rule, const ParamMap& params);

 private:
  std::map<std::string, ModelInfo> models_;
  std::map<std::string, RuleInfo> rules_;
  std::map<std::string, ConnectionRuleInfo> connection_rules_;
};

}  // namespace spikeline
