// The Population of a plugin model (private to plugin/): owns the state,
// parameter and constant arrays and calls the plugin's C functions.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "spikeline/engine/aligned.hpp"

#include "spikeline/engine/population.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/plugin.h"

namespace spikeline::plugin::detail {

// An open library; dlclose when the last owner goes.
struct Library {
  explicit Library(void* h) : handle(h) {}
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  void* handle;
};

// Where a model or rule comes from: the open library and what it said.
struct Origin {
  std::shared_ptr<const Library> library;
  std::string path;  // the plugin file, for messages
  // Compiled into spikeline (register_catalogue): listed, recorded and
  // checkpointed as a built-in model is, with no plugin file.
  bool builtin = false;
  std::string plugin_name;  // and its own name and version
  std::string plugin_version;
  std::uint32_t abi_major = 0, abi_minor = 0;
  // The plugin's name, version and ABI and the entry's name: a checkpoint
  // refuses a network whose plugins changed.
  std::uint64_t fingerprint(const std::string& entry) const;
  // "plugin 'aeif' version 1.0, ABI 1.0": what a checkpoint records ("" built in).
  std::string provenance() const;
  // The registry's origin: the plugin file, or "" built in.
  std::string origin() const { return builtin ? std::string() : path; }
  // The start of a message about entry `kind` `name`: "plugin 'x.so' model 'm'",
  // or "model 'm'" built in.
  std::string label(const char* kind, const std::string& name) const;
};

// One model of a loaded plugin, copied out of its descriptor once checked.
struct Model : Origin {
  std::string name;
  std::vector<spk_param> params;         // pointing into the plugin's static data
  std::vector<spk_state_var> state;      // likewise
  std::vector<spk_choice> choices;       // likewise (ABI 1.1)
  std::vector<spk_bounds> state_bounds;  // one per state variable, or none (ABI 1.1)
  std::vector<unsigned char> required;   // one per parameter: the config must give it (ABI 1.3)
  std::size_t constants_size = 0, constants_size_per_neuron = 0;
  spk_prepare_fn prepare = nullptr;
  spk_update_fn update = nullptr;
  spk_initialize_fn initialize = nullptr;
};

// "> 0", "in [0, 1]", "<= 10", "" (any finite number).
std::string range_text(const spk_bounds& b);
// Whether v is valid for b (NaN never is; an infinity only at an inclusive infinite bound).
bool in_range(const spk_bounds& b, double v);
// A parameter row's range.
constexpr spk_bounds bounds_of(const spk_param& p) {
  return {p.min, p.max, p.min_inclusive, p.max_inclusive};
}
inline std::string range_text(const spk_param& p) {
  return range_text(bounds_of(p));
}
inline bool in_range(const spk_param& p, double v) {
  return in_range(bounds_of(p), v);
}
// Checks v against p: ConfigError "item = v unit is invalid: it must be finite and > 0".
void check_value(const spk_param& p, double v, const std::string& item);
// The parameters of a rule (learning or connection) from `p` and the rows'
// defaults: one checked number per row. A row flagged in `required` (ABI
// 1.3) has no default: missing_required() when `p` lacks it.
std::vector<double> one_value_params(const std::vector<spk_param>& rows, const ParamMap& p,
                                     const std::vector<unsigned char>& required = {});
// The ConfigError of a required parameter `row` that `p` does not give:
// "<owner> parameter <name> is required but missing (it has no default;
// valid: <range>)".
[[noreturn]] void missing_required(const spk_param& row, const ParamMap& p);
// The choices of `rows` a config makes in `p` (the word given, else the
// row's default), as indices into each row's words; a word not among them,
// a number or a list is a ConfigError naming the item, the value and the
// valid choices.
std::vector<std::uint32_t> resolve_choices(const std::vector<spk_choice>& rows, const ParamMap& p);
// Runs a plugin function that reports a refusal by a status and a message,
// `call(error, size)` (a prepare, initialize or check_weights, at set-up
// time); a refusal is a ConfigError "<what>: <message>".
void refuse_unless_ok(const std::function<int(char*, std::size_t)>& call, const std::string& what);
// A block of `bytes` zeroed bytes, its start (`aligned`) aligned to 64 bytes;
// nullptr for 0 bytes.
std::unique_ptr<std::byte[]> aligned_zeroed(std::size_t bytes, void*& aligned);

class PluginPopulation final : public Population {
 public:
  PluginPopulation(std::shared_ptr<const Model> model, const ModelContext& ctx);

  void update(Step t, IndexRange r, const InputView& in, SpikeSink& out) override;
  std::span<const StateVarInfo> state_vars() const override { return infos_; }
  double state(std::size_t var, NeuronIndex i, Step t) const override;
  void set_state(std::size_t var, NeuronIndex i, double value) override;
  std::optional<NonFiniteState> find_non_finite(IndexRange r, Step t) const override;
  bool checkpointable() const override { return true; }
  void checkpoint(StateArchive& a) override;
  // The plugin's name, version and ABI: a checkpoint refuses a population
  // whose plugin changed.
  std::uint64_t fingerprint() const override;

 private:
  std::string where() const;          // "plugin 'x.so' model 'm' (population 'p')"
  bool whole(std::size_t var) const;  // an int32 counter

  std::shared_ptr<const Model> model_;
  std::string population_;
  std::vector<StateVarInfo> infos_;
  // Per state variable: its doubles in state_[v] or its whole numbers in
  // counters_[v] (SPK_STATE_INT32), and its array in state_ptrs_[v].
  std::vector<AlignedVector<double>> state_;
  std::vector<AlignedVector<std::int32_t>> counters_;
  std::vector<void*> state_ptrs_;
  std::vector<AlignedVector<double>> params_;  // one value, or one per neuron
  std::vector<const double*> param_ptrs_;
  std::vector<unsigned char> per_neuron_;
  std::vector<std::uint32_t> choices_;
  std::unique_ptr<std::byte[]> constants_raw_;
  std::vector<std::uint32_t> spikes_;  // [begin, end) is a call's buffer
  spk_model_ctx ctx_{};
  double dt_;
};

}  // namespace spikeline::plugin::detail
