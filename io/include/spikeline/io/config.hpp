// The configuration a person writes: a TOML file, documented in
// docs/config.md. Parsing checks everything it can without building the
// network: types, unknown keys (with a did-you-mean hint), ranges, units on
// the time grid. Errors are ConfigError (exit 78) naming the file, the line,
// the key, the bad value and the valid range.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "spikeline/engine/params.hpp"
#include "spikeline/synapses/connect.hpp"

namespace spikeline::io {

// The initial value of a state variable: a constant, a per-neuron draw, or
// one value per neuron.
struct InitialValue {
  synapses::ValueSpec spec;    // constant, uniform or normal (when `values` is empty)
  std::vector<double> values;  // an array of `size` finite numbers, one per neuron
};

// What a population's ParamMap holds for a parameter given as a
// distribution until the population is built (see resolved_params).
inline constexpr const char* kDrawnPerNeuron = "<a distribution, drawn per neuron>";

struct SimulationConfig {
  double dt_ms = 0.1;
  double duration_ms = 1000.0;
  std::uint64_t seed = 1;
  int threads = 1;
  // Units of parallel work; unset in the file: one per thread (results do not
  // depend on it, and every partition costs each spike a row lookup).
  unsigned partitions = 1;
  // Whether the config gives partitions: if not, a run of K processes has
  // one per thread of each (K x threads; `partitions` is then threads).
  bool partitions_given = false;
  double max_rate_hz = 0;  // guard, 0: off
  double guard_interval_ms = 100;
  double wall_limit_s = 0;  // guard, 0: off
};

struct OutputConfig {
  std::string file;  // empty: no output file
  double flush_interval_ms = 1000;
  bool write_edges = true;  // final weights as SONATA edges
  // SONATA's edge indices with them (indices/source_to_target and
  // target_to_source): on by default, as libsonata writes them; off saves
  // their time and space (0.25 us and about 4 bytes per edge, compressed).
  bool write_edge_indices = true;
};

struct PopulationConfig {
  std::string name;
  std::string model;
  std::uint64_t size = 0;
  ParamMap params;
  // The parameters given as a distribution (params holds the placeholder
  // string kDrawnPerNeuron under their names), drawn per neuron when the
  // population is built; an array of numbers stays a list in params.
  std::vector<std::pair<std::string, synapses::ValueSpec>> param_distributions;
  std::vector<std::pair<std::string, InitialValue>> initial;
  bool record_spikes = true;
};

struct ProjectionConfig {
  std::string name;
  std::string source;
  std::string target;
  synapses::ConnectionSpec spec;
  // A registered (plugin) rule: spec.rule is Rule::plugin, spec.plugin_rule
  // its name, checked against the Registry when the network is built;
  // `params = {...}` are its parameters, `rule_where` locates `rule` in
  // the config for messages.
  ParamMap rule_params;
  std::string rule_where;
  // Explicit edges from a SONATA edges file (rule = "explicit", file = ...).
  std::string edges_file;
  std::string edge_population;  // defaults to the projection name
  bool weight_given = false;    // a `weight` key overrides the file's syn_weight
  bool delay_given = false;
  // Plasticity: `plasticity = { rule = "stdp", ... }`; empty rule: static.
  std::string plasticity_rule;
  ParamMap plasticity_params;
};

struct StimulusConfig {
  std::string name;
  std::string model;
  std::string target;
  std::vector<std::uint64_t> nodes;  // empty: all
  ParamMap params;
};

// Spikes forced onto a population ([[clamp]]): params holds spike_times or
// spike_times_file, as for a spike_generator of the population's size. The
// population's spikes are the union of its own and these (a cue).
// A population-activity detector ([[detector]]): assemblies (sets of
// neurons) of one population, each with a leaky integrator of its spikes
// (encoding/assembly_detector.hpp); every ignition goes to the output
// table /detectors/<name> (time_ms, assembly, level).
struct DetectorConfig {
  std::string name;
  std::string population;
  std::vector<std::vector<std::uint32_t>> assemblies;
  double tau_ms = 20;
  double threshold = 0.3;
};

struct ClampConfig {
  std::string name;
  std::string population;
  ParamMap params;
  // Instead of spike times, a volley (`volley = {...}`): an embedding, or a
  // text embedded by the n-gram embedder, encoded by EMBER's population
  // code (encoding/population_code.hpp) and clamped in the window
  // (time, time + encoder.window].
  struct Volley {
    std::string text;
    std::vector<double> embedding;
    double time_ms = 0;
    ParamMap encoder, embedder;  // as [ember.encoder], [ember.embedder]'s n-gram keys
  };
  std::optional<Volley> volley;
};

// Sampled state variables of a population ([[record]]), any number per
// population. Unnamed: the report /report/<population> (at most one per
// population); named: /reports/<name>/<population> (names unique).
struct RecordConfig {
  std::string name;  // "" : unnamed
  std::string population;
  std::vector<std::string> variables;
  std::vector<std::uint64_t> nodes;  // empty: all
  double interval_ms = 0;            // 0: every step
  std::optional<double> start_ms;    // absent: one interval in; 0: the initial state too
  std::optional<double> stop_ms;     // absent: the end of the run
  // "record of 'exc'" or "record 'v_fast' of 'exc'": the record in messages.
  std::string label() const;
  // Where its report goes: "/report/exc" or "/reports/v_fast/exc".
  std::string report_path() const;
};

// Samples of a projection's synapses: all of them, or those chosen by edge id
// (`synapses`) and/or by (source, target) pairs; the weight and any other
// variables of the plasticity rule (`variables`, e.g. "eligibility").
struct WeightRecordConfig {
  std::string name;  // the output group; defaults to the projection
  std::string projection;
  double interval_ms = 0;
  std::optional<double> start_ms;       // absent: one interval in; 0: the initial weights too
  std::optional<double> stop_ms;        // absent: the end of the run
  std::vector<std::uint64_t> synapses;  // edge ids (canonical order)
  std::vector<std::uint64_t> sources,
      targets;                         // pairs: every synapse from sources[i] to targets[i]
  std::vector<std::string> variables;  // "weight" is always recorded
  bool chosen() const { return !synapses.empty() || !sources.empty(); }
};

struct ModulatorRecordConfig {
  std::string name;
  double interval_ms = 0;
};

struct NeuromodulatorConfig {
  std::string name;
  double tau_ms = 200;
};

// Reward pulses of a neuromodulator: at fixed times, and/or whenever a
// `post` neuron fires within `window` after a `pre` neuron (the pairing
// trigger of the distal-reward experiment), `delay` later.
struct RewardConfig {
  std::string modulator;
  double amount = 0.5;
  std::vector<double> times_ms;
  bool has_trigger = false;
  std::string pre_population, post_population;
  std::uint64_t pre_node = 0, post_node = 0;
  double window_ms = 20;
  synapses::ValueSpec delay_ms = synapses::ValueSpec::constant(1000);
};

struct Config {
  std::string source;  // the file name (or "<string>")
  // Plugins to load before the network is built (`plugins = [...]`, paths
  // relative to the config's folder; absolute once resolve_input_paths ran).
  std::vector<std::string> plugins;
  SimulationConfig simulation;
  OutputConfig output;
  std::vector<PopulationConfig> populations;
  std::vector<ProjectionConfig> projections;
  std::vector<StimulusConfig> stimuli;
  std::vector<RecordConfig> records;
  std::vector<WeightRecordConfig> weight_records;
  std::vector<ModulatorRecordConfig> modulator_records;
  std::vector<NeuromodulatorConfig> neuromodulators;
  std::vector<RewardConfig> rewards;
  std::vector<ClampConfig> clamps;
  std::vector<DetectorConfig> detectors;
  // [task], [training], [evaluation]: what `spikeline train` reads (see
  // docs/training.md); other commands ignore them.
  ParamMap task{"[task]"}, training{"[training]"}, evaluation{"[evaluation]"};
  bool has_task = false;
  // [ember] and its sub-tables ([ember.encoder], ...): what `spikeline
  // ember` reads (ember/params.hpp, docs/ember.md); other commands ignore them.
  ParamMap ember{"[ember]"};
  std::map<std::string, ParamMap> ember_tables;
  bool has_ember = false;
  std::string resolved_toml;  // the config after overrides, as written to /provenance
  std::string base_dir;       // absolute: the folder input files are relative to
};

// "key=value" overrides from the command line (--set): the key is a dotted
// path; array-of-table entries are addressed by their name, e.g.
// "population.exc.size=100" or "projection.exc_to_inh.p=0.05". The value is a
// TOML value (numbers, strings in quotes, true/false, arrays).
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});
Config parse_config(const std::string& text, const std::string& source_name,
                    const std::vector<std::string>& overrides = {});

// Makes the input files a config names (edges files, `*_file` parameters)
// relative to `base_dir` instead of the working directory, and sets
// config.base_dir. load_config does it with the config file's folder.
void resolve_input_paths(Config& config, const std::string& base_dir);

}  // namespace spikeline::io
