// The [ember] table of a substrate config: what `spikeline ember` needs
// beside the network (docs/ember.md has the table with every default).
//
//   [ember]
//   sensory = "sensory_e"      # the population the encoder drives (by clamped spikes)
//   concept = "concept_e"      # the population whose assemblies the trigger watches
//   modulator = "dopamine"     # the neuromodulator a reward pulses
//   idle = 1000.0              # ms of idle (spontaneous activity only) after each exchange
//   [ember.encoder]            # k, neurons_per_dim, window, tails, spikes_per_z, spikes, seed,
//   corpus [ember.embedder]           # kind = "ngram" | "none", dim, min_n, max_n, seed,
//   embeddings [ember.trigger]            # tau, threshold, min_spikes, refractory, associations,
//   association_level [ember.reasoning]          # command = "./my-llm-client", timeout
//
// Values are read once into this struct, which validates itself: a wrong
// key, type or value is a ConfigError naming `[ember] key`, the value and
// the valid range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "spikeline/encoding/assembly_detector.hpp"
#include "spikeline/encoding/ngram_embedder.hpp"
#include "spikeline/encoding/population_code.hpp"
#include "spikeline/engine/params.hpp"
#include "spikeline/io/config.hpp"

namespace spikeline::ember {

struct EmberParams {
  std::string sensory = "sensory_e";
  std::string concept_population = "concept_e";
  std::string modulator = "dopamine";

  // The encoder (encoding/population_code.hpp): the improved code by
  // default; sensory_size and dt come from the network.
  encoding::PopulationCodeParams encoder = encoding::PopulationCodeParams::improved();
  std::string corpus;  // HDF5 corpus statistics ("" : none); resolved against the config

  // Embeddings of texts: a JSON-lines table ("" : none), then the built-in
  // n-gram embedder unless embedder = "none".
  std::string embeddings;
  bool ngram = true;
  encoding::NgramEmbedderParams ngram_params;

  // Timing, ms (whole steps).
  double gap_ms = 0;           // between the user's window and the assistant's
  double idle_ms = 1000;       // after the assistant's window
  double settle_ms = 50;       // after the last input spike before activity counts as unexplained
  double reward_delay_ms = 0;  // from the end of the assistant's window to the reward
  double reward = 1;           // an exchange's reward when its line gives none

  // The trigger.
  encoding::AssemblyDetectorParams detector;  // trigger_tau, trigger_threshold
  std::uint32_t assembly_min_spikes = 2;      // a concept neuron's spikes in a window to join
  double refractory_ms = 5000;                // after an action, before the next may come
  std::uint32_t max_associations = 5;
  double association_level = 0.1;  // an assembly's level to be listed as an association

  // The reasoning engine: a shell command (run with /bin/sh -c), or none.
  std::string reasoning_command;
  double reasoning_timeout_s = 30;
  std::size_t reasoning_max_answer_bytes = std::size_t{1} << 20;

  // From the config's [ember] table and its sub-tables (by name:
  // "encoder", ...); `base_dir` resolves relative file names; `dt_ms` is
  // the simulation's step, `sensory_size` the sensory population's size.
  static EmberParams from(const ParamMap& table, const std::map<std::string, ParamMap>& sections,
                          const std::string& base_dir, double dt_ms, std::uint64_t sensory_size);
  // From a whole config: its [ember] tables, checked against the network
  // too (the sensory and concept populations exist and are not generators,
  // the modulator is a [[neuromodulator]]). ConfigError naming the key; a
  // config without [ember] is one.
  static EmberParams from(const io::Config& config);
};

}  // namespace spikeline::ember
