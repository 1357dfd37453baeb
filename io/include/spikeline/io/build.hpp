// From a checked config to a network ready to simulate: models looked up in
// the registry, parameters checked against each model, initial state drawn,
// synapses drawn (or read from SONATA edges files), probes resolved.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "spikeline/engine/network.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/io/config.hpp"
#include "spikeline/io/output_files.hpp"
#include "spikeline/io/sonata_reader.hpp"
#include "spikeline/synapses/connect.hpp"

namespace spikeline::io {

struct ProbeInfo {
  std::string name;  // the record's name ("" : unnamed)
  std::string population;
  std::vector<std::string> variables;
  std::vector<std::string> units;
  std::vector<std::uint64_t> nodes;
  Step start = 1;  // 0: the initial state is sampled too (Simulator::probe_frame)
  Step interval = 1;
};

struct WeightRecordInfo {
  std::size_t record = 0;  // index in Config::weight_records
  std::uint32_t projection = 0;
  Step interval = 1;
  Step start = 1;                      // the first sample (0: the initial weights)
  Step stop = kNever;                  // the last sample is at or before it
  std::vector<std::size_t> variables;  // indices into the rule's synapse_variables(), besides 0
};

struct ModulatorRecordInfo {
  std::size_t modulator = 0;  // index in Network::modulators()
  Step interval = 1;
};

struct BuiltNetwork {
  Network network;
  std::vector<ProbeInfo> probes;  // parallel to network.probes()
  std::vector<WeightRecordInfo> weight_records;
  std::vector<ModulatorRecordInfo> modulator_records;
  double expected_synapses = 0;
};

// Validates the config against the registry and builds the network. Throws
// ConfigError / DataError / Error(no_input) with the item, value and range.
BuiltNetwork build_network(const Config& config, const Registry& registry);

// The checks that need no model instance: models and parameter names exist,
// populations referenced exist, recordable variables, node ids, the memory
// the network would need (refused before anything is allocated).
void check_config(const Config& config, const Registry& registry);

// Everything a run checks before it simulates, without drawing a synapse:
// check_config, then parameter values (by building each model), stimulus
// schedules, connection specs against the populations, edges files, probe
// intervals. What `spikeline validate` runs.
void validate_config(const Config& config, const Registry& registry);

// The parameters of population k as its model reads them: each parameter
// given as a distribution drawn, one value per neuron, from the stream
// (seed, StreamKind::parameters with population k, entity = neuron,
// counter = fnv1a32(name) << 32), so the values depend on the seed, the
// population, the parameter and the neuron only: not on threads,
// partitions, or the order of the parameters (docs/config.md).
ParamMap population_params(const Config& config, std::size_t k);

// The input files the network of `config` reads, each with the item that
// names it ("projection 'x' file", "population 'y' spike_times_file", ...):
// what a run must not write over (output_files.hpp).
std::vector<FileRole> input_files(const Config& config);

// A SONATA edges file as an explicit projection reads it (what
// build_network gives a projection with `file`): by target range, its
// blocks' errors prefixed with `name` (e.g. "projection 'x'").
std::shared_ptr<const synapses::EdgeReader> edge_reader(std::string name,
                                                        std::shared_ptr<EdgesFile> file);

}  // namespace spikeline::io
