// The PlasticityRule of a plugin's learning rule (private to plugin/): owns
// the rule's double weights and state arrays per partition and calls the
// plugin's C functions at each event (see spikeline/plugin.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plugin_population.hpp"
#include "spikeline/engine/params.hpp"
#include "spikeline/engine/plasticity.hpp"
#include "spikeline/plugin.h"

namespace spikeline::plugin::detail {

// One learning rule of a loaded plugin, copied out of its descriptor once
// checked.
struct Rule : Origin {
  std::string name;
  std::vector<spk_param> params;
  std::vector<spk_choice> choices;  // ABI 1.1
  std::vector<spk_state_var> synapse_state, pre_state, post_state;
  std::size_t constants_size = 0;
  spk_rule_constants_size_fn constants_size_of = nullptr;  // ABI 1.1, may be null
  spk_rule_prepare_fn prepare = nullptr;
  spk_rule_check_fn check_weights = nullptr;
  spk_rule_event_fn on_pre = nullptr;
  spk_rule_event_fn on_post = nullptr;
  // ABI 1.4: reads a neuromodulator (its default name, "" when the config
  // must name one), updates lazily, changes what a spike delivers.
  bool reads_modulator = false;
  std::string modulator;
  spk_rule_event_fn sync = nullptr;
  spk_rule_value_fn synapse_value = nullptr;
  spk_rule_delivers_fn delivers = nullptr;
  // ABI 1.7: the recorded synapse variables, when not the synapse_state rows.
  spk_rule_recorded_fn recorded = nullptr;
};

class PluginRule final : public PlasticityRule {
 public:
  // Resolves the parameters against the rule's table and runs prepare();
  // ConfigError naming `p.owner()` otherwise.
  PluginRule(std::shared_ptr<const Rule> rule, const ParamMap& p, const TimeGrid& grid);

  std::string modulator() const override { return modulator_; }
  void attach(const Neuromodulator& modulator) override;
  void sync(unsigned part, SynapseBlock& block, Step t) override;
  const float* delivered(unsigned part) const override {
    return delivers_ ? parts_[part].delivered.data() : nullptr;
  }
  void bind(unsigned part, const SynapseBlock& block, IndexRange targets,
            const std::string& projection) override;
  void weights_replaced(unsigned part, const SynapseBlock& block) override;
  void check_weights(double min, double max, const std::string& projection) const override;
  std::vector<std::string> synapse_variables() const override;
  double synapse_value(std::size_t var, unsigned part, const SynapseBlock& block, std::uint32_t k,
                       Step t) const override;
  bool checkpointable() const override { return true; }
  void checkpoint(unsigned part, StateArchive& a) override;
  void on_pre(unsigned part, SynapseBlock& block, std::uint32_t group, Step t) override;
  void on_post(unsigned part, SynapseBlock& block, NeuronIndex target,
               std::span<const std::uint32_t> synapses, std::span<const std::uint32_t> groups,
               Step t) override;
  // A built-in rule's is 0, whichever way it is compiled in (as a model's).
  std::uint64_t fingerprint() const override {
    return rule_->builtin ? 0 : rule_->fingerprint(rule_->name);
  }

 private:
  // A partition's arrays, and the pointer tables the plugin is handed.
  struct Part {
    std::vector<double> weight;
    std::vector<std::vector<double>> synapse, pre, post;
    std::vector<double*> synapse_ptrs, pre_ptrs, post_ptrs;
    std::vector<std::uint32_t> target;  // [k]: the post index of synapse k's target
    NeuronIndex first_target = 0;
    std::vector<float> delivered;      // [k], for a rule that delivers (ABI 1.4)
    std::vector<std::uint32_t> group;  // [k], for a rule with sync or synapse_value (ABI 1.4)
  };
  spk_rule_args args(const Part& s, Step t, char* error, std::size_t size) const;
  // Sizes the constants from the parameters (and the neuromodulator, once
  // attached) and runs prepare() on them, zeroed.
  void prepare_constants();
  // The recorded names of a rule with `recorded` (ABI 1.7), checked.
  void read_recorded();
  // Runs an event; stores the synapses it was given as floats for delivery.
  template <class Each>
  void run(const char* what, spk_rule_event_fn fn, spk_rule_args& a, SynapseBlock& block,
           Each&& each_synapse) const;
  std::string where(const std::string& projection = {}) const;

  std::shared_ptr<const Rule> rule_;
  std::vector<double> params_;
  std::vector<std::uint32_t> choices_;  // the index of each choice row
  std::unique_ptr<std::byte[]> constants_raw_;
  std::string owner_;      // the projection's plasticity, for messages before bind()
  std::string modulator_;  // the neuromodulator read, "" for none
  const Neuromodulator* mod_ = nullptr;
  bool delivers_ = false;  // this projection's rule changes what a spike delivers (ABI 1.4)
  // The variables [[record_weights]] may name beside "weight": the
  // synapse_state rows, or (ABI 1.7) the rule's recorded names.
  std::vector<std::string> recorded_;
  spk_rule_ctx ctx_{};
  std::string projection_;
  std::vector<Part> parts_;
};

}  // namespace spikeline::plugin::detail
