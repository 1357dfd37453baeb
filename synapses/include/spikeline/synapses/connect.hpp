// Connection rules: which (source, target) pairs a projection connects, and
// with what weight and delay.
//
//   one_to_one          source i -> target i (sizes must match)
//   all_to_all          every pair (autapses optional)
//   fixed_probability   every pair independently with probability p
//   fixed_indegree      each target gets `indegree` sources drawn uniformly
//   fixed_outdegree     each source gets `outdegree` targets drawn uniformly
//   fixed_total_number  `total` pairs drawn uniformly
//                       (these six are written against the plugin
//                       interface, one_to_one.hpp ... fixed_total_number.hpp,
//                       and drawn through its adapter, as a plugin's rule is)
//   explicit            the edges given (from a SONATA edges file or a list)
//   <a plugin's rule>   the sources a PairRule (engine/pair_rule.hpp) chooses
//                       for each target, from the target's stream (or the
//                       targets of each source, from the source's stream)
//
// Options as in NEST: `autapses` (a neuron onto itself, only meaningful when
// source and target are the same population; default true) and `multapses`
// (a pair more than once, for the degree and total rules; default true).
//
// Multi-tap connections: with taps = D, every connected pair gets D synapses
// with delays d0, d0 + dt, ..., d0 + (D-1) dt (d0 the projection's delay,
// which must then be a constant) and a weight drawn for each tap: the
// W[target][source][d] tensor of the working-memory network.
//
// Determinism: the random stream of each draw is keyed by (seed, projection,
// target) -- or source for fixed_outdegree -- so the same seed gives the
// same network whatever the thread count. A plugin's rule draws only from
// the stream of the target it is asked about, so the same holds for it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/connectivity.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/engine/time_grid.hpp"
#include "spikeline/synapses/value_spec.hpp"

namespace spikeline::synapses {

enum class Rule {
  one_to_one,
  all_to_all,
  fixed_probability,
  fixed_indegree,
  fixed_outdegree,
  fixed_total_number,
  explicit_edges,
  plugin  // a rule of the Registry's with a factory: ConnectionSpec::pair_rule
};

// The rule's name in configs, and the reverse (ConfigError with did-you-mean).
std::string rule_name(Rule r);
Rule parse_rule(const std::string& name, const std::string& item);
std::vector<std::string> rule_names();
// Whether `name` is a built-in rule (else it may be a registered plugin's).
bool is_builtin_rule(const std::string& name);

// Lists the built-in rules in the registry (without a factory: connect()
// draws them), so that `spikeline models` shows them and a plugin cannot
// register a rule of the same name.
void register_builtin_connection_rules(Registry& r);

// A block of explicit edges as a reader hands them over: edge k of the
// block is id[k] of its file (for messages), with its weight and delay.
struct EdgeBlock {
  std::span<const std::uint64_t> id, source, target;
  std::span<const double> weight, delay_ms;  // one per edge
};

// Explicit edges kept in a file and read a range of targets at a time (a
// SONATA edges file: io/), so that a process of a run of several reads only
// the edges onto its own neurons. Called from one thread at a time.
class EdgeReader {
 public:
  using BlockSink = std::function<void(const EdgeBlock&)>;
  virtual ~EdgeReader() = default;
  virtual std::uint64_t size() const = 0;  // edges in the file
  // The edges with a target in [first, last), in file order, handed to
  // `sink` a bounded block at a time.
  virtual void read(std::uint64_t first, std::uint64_t last, const BlockSink& sink) const = 0;
  // Every edge of the file in file order, whatever its target.
  virtual void read_all(const BlockSink& sink) const = 0;
};

struct ExplicitEdges {
  std::vector<std::uint64_t> source, target;
  std::vector<double> weight;    // empty: use the projection's weight spec
  std::vector<double> delay_ms;  // empty: use the projection's delay spec
  // The delays were stored as float32 (a SONATA file): they land on the
  // grid with a float32 tolerance (TimeGrid::Precision::single).
  bool single_precision_delays = false;
  // Or the edges of a file (the lists above then stay empty), each checked
  // when it is read: with the file's weights where reader_weights, else
  // the projection's weight spec; the same for delays.
  std::shared_ptr<const EdgeReader> reader;
  bool reader_weights = true, reader_delays = true;
};

struct ConnectionSpec {
  std::string name;  // e.g. "projection 'exc->inh'", for messages
  Rule rule = Rule::all_to_all;
  double p = 0;
  std::uint64_t indegree = 0;
  std::uint64_t outdegree = 0;
  std::uint64_t total = 0;
  bool autapses = true;
  bool multapses = true;
  ValueSpec weight = ValueSpec::constant(1.0);
  ValueSpec delay = ValueSpec::constant(1.0);  // ms
  std::uint32_t taps = 1;
  ExplicitEdges edges;  // for Rule::explicit_edges
  // For Rule::plugin: the rule's name and the rule made for this projection
  // (ConnectionRuleInfo::make). It chooses (source, target) pairs only; the
  // weights, delays and taps come from the fields above, as for any rule.
  // synapses/ drops the autapses it returns when autapses = false, and
  // refuses a source out of range or (multapses = false) repeated.
  std::string plugin_rule;
  std::shared_ptr<const PairRule> pair_rule;
};

// The rule's name as the config gave it.
std::string rule_name(const ConnectionSpec& spec);

struct ConnectContext {
  std::size_t n_source;
  std::size_t n_target;
  bool same_population;
  const TimeGrid& grid;
  std::uint64_t seed;
  std::uint32_t projection_index;
};

// Every check connect() makes, without drawing or allocating a synapse
// (what `spikeline validate` runs).
void validate(const ConnectionSpec& spec, const ConnectContext& ctx);

// Validates the spec against the populations and draws the synapses.
// Throws ConfigError (bad spec) or DataError (bad explicit edges), naming
// the projection, the value and the valid range.
std::vector<SynapseRecord> connect(const ConnectionSpec& spec, const ConnectContext& ctx);

// The same as a source that Connectivity draws from one partition at a time
// (the whole list is never made; see SynapseSource). The spec is validated
// now; a weight that does not fit a float is reported when drawn.
std::shared_ptr<const SynapseSource> make_source(ConnectionSpec spec, const ConnectContext& ctx);

// The number of synapses `connect` would make (exact for deterministic rules,
// expected for fixed_probability): used to refuse networks that cannot fit
// in memory before allocating them.
double expected_synapses(const ConnectionSpec& spec, const ConnectContext& ctx);

}  // namespace spikeline::synapses
