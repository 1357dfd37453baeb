#include "spikeline/io/build.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <string>
#include <utility>

#include "spikeline/encoding/ngram_embedder.hpp"
#include "spikeline/encoding/population_code.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/spike_times.hpp"
#include "spikeline/io/embedding_file.hpp"
#include "spikeline/io/sonata_reader.hpp"
#include "spikeline/io/sonata_writer.hpp"

namespace spikeline::io {

namespace {

// Bytes a synapse costs while the network is built (the record the rules
// produce plus its final 8-byte slot) and a conservative per-neuron figure.
constexpr double kBuildBytesPerSynapse = 16 + 8 + 4;
constexpr double kBytesPerNeuron = 256;
// A population with per-neuron parameters also holds every coefficient of
// its update per neuron (at most 11 doubles) and, while it is built, each
// varying parameter's values twice (the drawn list, the model's column).
constexpr double kBytesPerNeuronVarying = 96;
constexpr double kBytesPerVaryingValue = 16;

// The memory this process may use, and what sets it: the machine's
// physical memory, the cgroup's limit (a batch scheduler's --mem, a
// container's limit) or the address-space and data rlimits (ulimit -v, -d),
// whichever is smallest. 0 when none is known.
struct MemoryLimit {
  double bytes = 0;
  std::string what;
};

// The number in a cgroup file ("max" or a missing file: none).
double cgroup_value(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return 0;
  try {
    return std::stod(text);
  } catch (...) {
    return 0;
  }
}

// The smallest memory limit of this process's cgroup and its ancestors
// (a batch scheduler may set it on a parent), cgroup v2 then v1, found from
// /proc/self/cgroup; 0 when there is none.
double cgroup_memory_limit() {
  std::ifstream in("/proc/self/cgroup");
  std::string line, v2, v1;
  bool have_v2 = false, have_v1 = false;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) {
      v2 = line.substr(3);
      have_v2 = true;
    }
    const auto colon = line.find(':');
    const auto second = line.find(':', colon + 1);
    if (colon != std::string::npos && second != std::string::npos &&
        line.substr(colon + 1, second - colon - 1) == "memory") {
      v1 = line.substr(second + 1);
      have_v1 = true;
    }
  }
  double limit = 0;
  auto walk = [&](const std::string& mount, std::string path, const char* file) {
    // From the process's cgroup up to the mount's root. Inside a cgroup
    // namespace the path is relative to that root; a path that does not
    // exist under the mount (another namespace's view) is skipped.
    while (true) {
      const double v = cgroup_value(mount + path + "/" + file);
      // v1 says "no limit" with a huge number (2^63 rounded to pages).
      if (v > 0 && v < 0x1p62 && (limit == 0 || v < limit)) limit = v;
      if (path.empty() || path == "/") break;
      path = path.substr(0, path.rfind('/'));
    }
  };
  if (have_v2) walk("/sys/fs/cgroup", v2, "memory.max");
  if (have_v1) walk("/sys/fs/cgroup/memory", v1, "memory.limit_in_bytes");
  return limit;
}

MemoryLimit memory_limit() {
  MemoryLimit limit;
  auto consider = [&](double bytes, const char* what) {
    if (bytes > 0 && (limit.bytes == 0 || bytes < limit.bytes)) limit = {bytes, what};
  };
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && size > 0) {
    consider(static_cast<double>(pages) * static_cast<double>(size), "this machine's memory");
  }
  consider(cgroup_memory_limit(), "this process's cgroup memory limit");
  for (const auto& [resource, what] : {std::pair{RLIMIT_AS, "the address-space limit (ulimit -v)"},
                                       std::pair{RLIMIT_DATA, "the data limit (ulimit -d)"}}) {
    rlimit r{};
    if (getrlimit(resource, &r) == 0 && r.rlim_cur != RLIM_INFINITY) {
      consider(static_cast<double>(r.rlim_cur), what);
    }
  }
  return limit;
}

std::size_t find_population(const Config& c, const std::string& name, const std::string& context) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < c.populations.size(); ++k) {
    if (c.populations[k].name == name) return k;
    names.push_back(c.populations[k].name);
  }
  throw ConfigError(fmt::format("{}: unknown population '{}'{}; defined: {}", context, name,
                                did_you_mean(name, names), fmt::join(names, ", ")));
}

std::size_t find_projection(const Config& c, const std::string& name) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < c.projections.size(); ++k) {
    if (c.projections[k].name == name) return k;
    names.push_back(c.projections[k].name);
  }
  throw ConfigError(fmt::format("record_weights: unknown projection '{}'{}; defined: {}", name,
                                did_you_mean(name, names), fmt::join(names, ", ")));
}

// The variables a weight record asks for exist for the projection's rule.
void check_synapse_variables(const WeightRecordConfig& w, const ProjectionConfig& p,
                             const std::vector<std::string>& available) {
  for (const auto& v : w.variables) {
    if (std::find(available.begin(), available.end(), v) == available.end()) {
      throw ConfigError(
          fmt::format("record_weights '{}': projection '{}' ({}) has no synapse variable '{}'{}; "
                      "recordable: {}",
                      w.name, p.name, p.plasticity_rule.empty() ? "static" : p.plasticity_rule, v,
                      did_you_mean(v, available), fmt::join(available, ", ")));
    }
  }
}

const ModelInfo& population_model(const PopulationConfig& p, const Registry& registry) {
  const auto& m = registry.get(p.model, fmt::format("population '{}'", p.name));
  if (m.kind == ModelKind::stimulus) {
    throw ConfigError(
        fmt::format("population '{}': '{}' is a stimulus device; inject it with a "
                    "[[stimulus]] entry targeting a population",
                    p.name, p.model));
  }
  Registry::check_param_names(m, p.params);
  for (const auto& entry : p.param_distributions) {
    // (A structured binding here could not be captured by clang 14, the
    // fuzz build's compiler.)
    const std::string& name = entry.first;
    const auto info = std::find_if(m.params.begin(), m.params.end(),
                                   [&](const ParamInfo& i) { return i.name == name; });
    if (info != m.params.end() && !info->per_neuron) {
      std::vector<std::string> varying;
      for (const auto& i : m.params)
        if (i.per_neuron) varying.push_back(i.name);
      throw ConfigError(cannot_vary_message(p.params.item(name), varying));
    }
  }
  return m;
}

// FNV-1a, 32 bits: a parameter's name as the high half of its draws' counter.
std::uint32_t fnv1a32(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

}  // namespace

ParamMap population_params(const Config& c, std::size_t k) {
  const auto& p = c.populations[k];
  ParamMap out = p.params;
  const std::uint32_t stream = stream_id(StreamKind::parameters, static_cast<std::uint32_t>(k));
  for (const auto& [name, spec] : p.param_distributions) {
    const std::uint64_t counter = std::uint64_t{fnv1a32(name)} << 32;
    std::vector<double> values(p.size);
    for (NeuronIndex i = 0; i < p.size; ++i) {
      RandomStream rng(c.simulation.seed, stream, i, counter);
      values[i] = spec.draw(rng);
    }
    out.set(name, std::move(values));
  }
  return out;
}

namespace {

synapses::ConnectContext connect_context(const Config& c, std::size_t proj_index, std::size_t src,
                                         std::size_t tgt, const TimeGrid& grid) {
  return {c.populations[src].size,
          c.populations[tgt].size,
          src == tgt,
          grid,
          c.simulation.seed,
          static_cast<std::uint32_t>(proj_index)};
}

void check_nodes(const std::vector<std::uint64_t>& nodes, std::uint64_t size,
                 const std::string& item, const std::string& pop) {
  for (const auto n : nodes) {
    if (n >= size) {
      throw ConfigError(
          fmt::format("{}: node id {} is out of range: population '{}' has ids 0 to {}", item, n,
                      pop, size - 1));
    }
  }
}

// Runs f, an error of it prefixed with the projection's name (its exit code kept).
template <class F>
decltype(auto) naming(const ProjectionConfig& p, F&& f) {
  try {
    return f();
  } catch (const Error& err) {
    throw Error(err.code(), fmt::format("{}: {}", p.spec.name, err.what()));
  }
}

// The SONATA edges file of projection `p`, its populations checked.
std::shared_ptr<EdgesFile> open_edges(const ProjectionConfig& p) {
  auto file =
      naming(p, [&] { return std::make_shared<EdgesFile>(p.edges_file, p.edge_population); });
  if (file->source_population() != p.source || file->target_population() != p.target) {
    throw DataError(fmt::format(
        "{}: edges '{}' in '{}' connect '{}' -> '{}', but the projection is '{}' -> '{}'",
        p.spec.name, p.edge_population, p.edges_file, quote_input(file->source_population()),
        quote_input(file->target_population()), p.source, p.target));
  }
  return file;
}

// One for every reader (a function-local static in with_blocks would be one
// per instantiation).
std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

// A SONATA edges file as synapses/ reads an explicit projection's edges: a
// range of targets at a time (or all of it), each block converted to the
// lists' doubles (exactly). HDF5 calls are serialised: projections are laid
// out on several threads, and HDF5 need not be built thread-safe.
class FileEdgeReader final : public synapses::EdgeReader {
 public:
  FileEdgeReader(std::string name, std::shared_ptr<EdgesFile> file)
      : name_(std::move(name)), file_(std::move(file)) {}
  std::uint64_t size() const override { return file_->size(); }
  void read(std::uint64_t first, std::uint64_t last, const BlockSink& sink) const override {
    with_blocks(sink, [&](const EdgesFile::Sink& s) { file_->read(first, last, s); });
  }
  void read_all(const BlockSink& sink) const override {
    with_blocks(sink, [&](const EdgesFile::Sink& s) { file_->read_all(s); });
  }

 private:
  template <class Read>
  void with_blocks(const BlockSink& sink, const Read& read) const {
    const std::lock_guard lock(hdf5_mutex());
    std::vector<double> weight, delay;
    bool in_sink = false;  // the sink's errors name the projection already
    try {
      read([&](const EdgesBlock& b) {
        weight.assign(b.weight.begin(), b.weight.end());
        delay.assign(b.delay_ms.begin(), b.delay_ms.end());
        in_sink = true;
        sink({b.id, b.source, b.target, weight, delay});
        in_sink = false;
      });
    } catch (const Error& err) {
      if (in_sink) throw;
      throw Error(err.code(), fmt::format("{}: {}", name_, err.what()));
    }
  }
  std::string name_;
  std::shared_ptr<EdgesFile> file_;
};

// The connection spec of projection `p`, with the edges of its SONATA file
// when it has one: read whole into the lists (`whole`, for checks that
// need every edge at once), else a reader that the layout reads by target
// range. Errors name the projection and keep their exit code.
synapses::ConnectionSpec resolve_spec(const ProjectionConfig& p, bool whole) {
  synapses::ConnectionSpec spec = p.spec;
  if (spec.rule != synapses::Rule::explicit_edges || p.edges_file.empty()) return spec;
  auto file = open_edges(p);
  spec.edges.single_precision_delays = true;
  if (!whole) {
    spec.edges.reader = edge_reader(p.spec.name, std::move(file));
    spec.edges.reader_weights = !p.weight_given;
    spec.edges.reader_delays = !p.delay_given;
    return spec;
  }
  naming(p, [&] {
    file->read_all([&](const EdgesBlock& b) {
      auto& e = spec.edges;
      e.source.insert(e.source.end(), b.source.begin(), b.source.end());
      e.target.insert(e.target.end(), b.target.begin(), b.target.end());
      if (!p.weight_given) e.weight.insert(e.weight.end(), b.weight.begin(), b.weight.end());
      if (!p.delay_given) e.delay_ms.insert(e.delay_ms.end(), b.delay_ms.begin(), b.delay_ms.end());
    });
  });
  return spec;
}

Step probe_interval(const RecordConfig& r, const TimeGrid& grid) {
  return r.interval_ms == 0 ? 1 : grid.delay_steps(r.interval_ms, r.label() + " interval");
}

// Samples at start, start + interval, ... <= stop, in steps. Without `start`
// the first sample is one interval in; without `stop` they go on to the end
// of the run. A start of 0 is the state before the first step.
struct SampleWindow {
  Step start = 0;
  Step stop = kNever;
};

SampleWindow sample_window(std::optional<double> start_ms, std::optional<double> stop_ms,
                           Step interval, const std::string& what, const TimeGrid& grid) {
  SampleWindow w{interval, kNever};
  if (start_ms) {
    w.start = grid.time_steps(*start_ms, what + " start");
  }
  if (stop_ms) {
    w.stop = grid.time_steps(*stop_ms, what + " stop");
    if (w.stop < w.start) {
      throw ConfigError(fmt::format(
          "{}: stop = {} ms is before start = {} ms: valid stop is >= {} ms (the first sample)",
          what, *stop_ms, grid.to_ms(w.start), grid.to_ms(w.start)));
    }
  }
  return w;
}

SampleWindow probe_window(const RecordConfig& r, const TimeGrid& grid) {
  return sample_window(r.start_ms, r.stop_ms, probe_interval(r, grid), r.label(), grid);
}

SampleWindow weight_record_window(const WeightRecordConfig& w, const TimeGrid& grid) {
  const std::string what = fmt::format("record_weights '{}'", w.name);
  return sample_window(w.start_ms, w.stop_ms, grid.delay_steps(w.interval_ms, what + " interval"),
                       what, grid);
}

std::unique_ptr<Population> make_population(const Config& c, std::size_t k, const ModelInfo& m,
                                            const TimeGrid& grid) {
  const auto& p = c.populations[k];
  const ParamMap params = population_params(c, k);
  const ModelContext ctx{p.name,
                         static_cast<std::size_t>(p.size),
                         params,
                         grid,
                         c.simulation.seed,
                         static_cast<std::uint32_t>(k)};
  auto pop = m.make_population(ctx);
  for (const auto& [var, init] : p.initial) {
    state_var_index(*pop, var, fmt::format("population '{}'.initial", p.name));
  }
  return pop;
}

// A plugin's rule of projection k made for it (its parameters resolved and
// prepared), into `spec`; nothing for a built-in rule.
void make_pair_rule(const Config& c, std::size_t k, const Registry& registry, const TimeGrid& grid,
                    synapses::ConnectionSpec& spec) {
  if (spec.rule != synapses::Rule::plugin) return;
  const auto& p = c.projections[k];
  const auto& info = registry.get_connection_rule(spec.plugin_rule, p.rule_where);
  if (!info.make) {
    throw std::logic_error("connection rule '" + info.name + "' has no factory");
  }
  const auto src = find_population(c, p.source, p.spec.name + " source");
  const auto tgt = find_population(c, p.target, p.spec.name + " target");
  PairRuleContext ctx{p.spec.name, c.populations[src].size, c.populations[tgt].size,
                      src == tgt,  spec.autapses,           spec.multapses,
                      grid.dt()};
  spec.pair_rule = info.make(p.rule_params, ctx);
}

double estimate_synapses(const Config& c, const Registry& registry, const TimeGrid& grid) {
  double total = 0;
  for (std::size_t k = 0; k < c.projections.size(); ++k) {
    const auto& p = c.projections[k];
    const auto src = find_population(c, p.source, p.spec.name + " source");
    const auto tgt = find_population(c, p.target, p.spec.name + " target");
    if (p.spec.rule == synapses::Rule::explicit_edges && !p.edges_file.empty()) continue;
    if (p.spec.rule == synapses::Rule::plugin) {
      auto spec = p.spec;
      make_pair_rule(c, k, registry, grid, spec);
      total += synapses::expected_synapses(spec, connect_context(c, k, src, tgt, grid));
      continue;
    }
    total += synapses::expected_synapses(p.spec, connect_context(c, k, src, tgt, grid));
  }
  return total;
}

// A [[clamp]]'s volley: the embedding (or the text's) through EMBER's
// population code, in the window (time, time + window].
SpikeClamp volley_of(const ClampConfig& cl, std::uint64_t size, std::uint32_t population,
                     const TimeGrid& grid) {
  const auto& v = *cl.volley;
  const std::string what = fmt::format("clamp '{}' volley", cl.name);
  const Step t0 = grid.time_steps(v.time_ms, what + ".time");
  encoding::PopulationCodeParams params =
      encoding::PopulationCodeParams::from(v.encoder, grid.dt(), size);
  if (v.encoder.has("corpus")) params.corpus = read_corpus_stats(v.encoder.text("corpus", ""));
  std::vector<double> embedding = v.embedding;
  try {
    if (embedding.empty()) {
      embedding =
          encoding::NgramEmbedder(encoding::NgramEmbedderParams::from(v.embedder)).embed(v.text);
    }
    const encoding::Volley volley = encoding::PopulationCode(params).encode(embedding);
    SpikeClamp out{cl.name, population, {}};
    for (const auto& s : volley.spikes)
      out.spikes.emplace_back(t0 + 1 + static_cast<Step>(s.step), s.neuron);
    return out;
  } catch (const DataError& e) {
    throw ConfigError(fmt::format("{}: {}", what, e.what()));
  }
}

// A [[clamp]]'s spikes, read like a spike_generator's spike times.
SpikeClamp clamp_of(const Config& c, const ClampConfig& cl, std::uint32_t population,
                    const TimeGrid& grid) {
  const auto size = c.populations[find_population(c, cl.population, "clamp")].size;
  if (cl.volley) return volley_of(cl, size, population, grid);
  const auto times = read_spike_times(cl.params, grid, size);
  SpikeClamp out{cl.name, population, {}};
  if (times.empty()) return out;  // no times given: a clamp that never fires
  for (std::size_t j = 0; j < size; ++j) {
    const auto& steps = times.size() == 1 ? times[0] : times[j];
    for (const Step s : steps) out.spikes.emplace_back(s, static_cast<NeuronIndex>(j));
  }
  return out;
}

}  // namespace

namespace {

void check_stimuli(const Config& c, const Registry& registry) {
  for (const auto& s : c.stimuli) {
    const auto& m = registry.get(s.model, fmt::format("stimulus '{}'", s.name));
    if (m.kind != ModelKind::stimulus) {
      std::vector<std::string> devices;
      for (const ModelInfo* d : registry.all())
        if (d->kind == ModelKind::stimulus) devices.push_back(d->name);
      throw ConfigError(
          fmt::format("stimulus '{}': '{}' is not a stimulus device (devices: "
                      "{}); generators are populations",
                      s.name, s.model, fmt::join(devices, ", ")));
    }
    Registry::check_param_names(m, s.params);
    const auto t = find_population(c, s.target, fmt::format("stimulus '{}' target", s.name));
    if (population_model(c.populations[t], registry).kind == ModelKind::generator) {
      throw ConfigError(
          fmt::format("stimulus '{}': population '{}' is a generator; it has no input to drive",
                      s.name, s.target));
    }
    check_nodes(s.nodes, c.populations[t].size, fmt::format("stimulus '{}'", s.name), s.target);
  }
}

void check_records(const Config& c, const Registry& registry) {
  for (std::size_t k = 0; k < c.records.size(); ++k) {
    const auto& r = c.records[k];
    // Named records have unique names (parse_config): only unnamed ones of
    // one population would share a report.
    for (std::size_t j = 0; j < k; ++j) {
      if (c.records[j].report_path() == r.report_path()) {
        throw ConfigError(fmt::format(
            "record #{} and record #{} would both write {}, the report of population '{}': give "
            "one a `name` (a named record writes /reports/<name>/{}), or list all the "
            "variables in one record",
            j + 1, k + 1, r.report_path(), r.population, r.population));
      }
    }
    const auto t = find_population(
        c, r.population,
        r.name.empty() ? std::string("record") : fmt::format("record '{}'", r.name));
    check_nodes(r.nodes, c.populations[t].size, r.label(), r.population);
    const auto& m = population_model(c.populations[t], registry);
    std::vector<std::string> names;
    for (const auto& v : m.state_vars) names.push_back(v.name);
    for (const auto& v : r.variables) {
      if (std::find(names.begin(), names.end(), v) == names.end()) {
        throw ConfigError(
            fmt::format("{}: '{}' has no state variable '{}'{}; "
                        "recordable: {}",
                        r.label(), m.name, v, did_you_mean(v, names), fmt::join(names, ", ")));
      }
    }
  }
}

void check_weight_records(const Config& c, const TimeGrid& grid) {
  for (const auto& w : c.weight_records) {
    const auto& p = c.projections[find_projection(c, w.projection)];
    weight_record_window(w, grid);
    auto check_ids = [&](const std::vector<std::uint64_t>& ids, const std::string& population,
                         const char* key) {
      const auto size = c.populations[find_population(c, population, p.name)].size;
      for (const auto id : ids) {
        if (id >= size) {
          throw ConfigError(fmt::format(
              "record_weights '{}': {} holds node {}, out of range: population '{}' has {} "
              "nodes (ids 0 to {})",
              w.name, key, id, population, size, size - 1));
        }
      }
    };
    check_ids(w.sources, p.source, "sources");
    check_ids(w.targets, p.target, "targets");
  }
}

// Recorded neuromodulators exist; rewards name one and come on the grid.
void check_modulators(const Config& c, const TimeGrid& grid) {
  for (const auto& m : c.modulator_records) {
    std::vector<std::string> names;
    for (const auto& n : c.neuromodulators) names.push_back(n.name);
    if (std::find(names.begin(), names.end(), m.name) == names.end()) {
      throw ConfigError(
          fmt::format("record_neuromodulator: unknown neuromodulator '{}'{}; defined: {}", m.name,
                      did_you_mean(m.name, names),
                      names.empty() ? std::string("none (add a [[neuromodulator]])")
                                    : fmt::format("{}", fmt::join(names, ", "))));
    }
    grid.delay_steps(m.interval_ms, "record_neuromodulator.interval");
  }
  for (const auto& rw : c.rewards) {
    std::vector<std::string> names;
    bool found = false;
    for (const auto& m : c.neuromodulators) {
      names.push_back(m.name);
      found = found || m.name == rw.modulator;
    }
    if (!found) {
      throw ConfigError(fmt::format("[[reward]]: unknown neuromodulator '{}'{}; defined: {}",
                                    rw.modulator, did_you_mean(rw.modulator, names),
                                    names.empty() ? std::string("none (add a [[neuromodulator]])")
                                                  : fmt::format("{}", fmt::join(names, ", "))));
    }
    for (const double t : rw.times_ms) grid.delay_steps(t, "[[reward]] time");
    if (rw.has_trigger) {
      const auto pre = find_population(c, rw.pre_population, "[[reward]] trigger.pre");
      const auto post = find_population(c, rw.post_population, "[[reward]] trigger.post");
      check_nodes({rw.pre_node}, c.populations[pre].size, "[[reward]] trigger.pre",
                  rw.pre_population);
      check_nodes({rw.post_node}, c.populations[post].size, "[[reward]] trigger.post",
                  rw.post_population);
      rw.delay_ms.validate("[[reward]] trigger.delay");
      const double low = rw.delay_ms.is_constant() ? rw.delay_ms.value : rw.delay_ms.low;
      const double high = rw.delay_ms.is_constant() ? rw.delay_ms.value : rw.delay_ms.high;
      if (!(high / grid.dt() <= static_cast<double>(kMaxSteps))) {
        throw ConfigError(fmt::format(
            "[[reward]] trigger.delay can be {} ms: give it an upper bound of at most 2^53 steps "
            "({:g} ms)",
            high, grid.to_ms(kMaxSteps)));
      }
      if (!(low >= grid.dt())) {
        throw ConfigError(fmt::format(
            "[[reward]] trigger.delay can be {} ms: a reward must come at least one step after the "
            "spike that triggers it (give the distribution a lower bound >= dt = {} ms)",
            low, grid.dt()));
      }
    }
  }
}

// The whole network must fit the memory the machine (or its cgroup) leaves:
// refused before a synapse is drawn, not by the OOM killer half way.
void check_memory(const Config& c, const Registry& registry, const TimeGrid& grid) {
  const double synapses = estimate_synapses(c, registry, grid);
  // Writing the final weights at the end (output.edges, and always for
  // `train`) needs its buffers beside the synapse tables.
  const double edge_buffers =
      c.projections.empty() || !(c.output.write_edges || c.has_task) ? 0.0 : kEdgeWriteBytes;
  double neurons = 0, per_neuron_params = 0;
  for (const auto& p : c.populations) {
    neurons += static_cast<double>(p.size);
    std::size_t varying = p.param_distributions.size();
    for (const auto& name : p.params.names()) varying += p.params.is_list(name);
    if (varying > 0) {
      per_neuron_params +=
          static_cast<double>(p.size) * (kBytesPerNeuronVarying + kBytesPerVaryingValue * varying);
    }
  }
  const double need = synapses * kBuildBytesPerSynapse + neurons * kBytesPerNeuron +
                      per_neuron_params + edge_buffers;
  const MemoryLimit have = memory_limit();
  if (have.bytes > 0 && need > 0.9 * have.bytes) {
    throw ConfigError(fmt::format(
        "{}: the network needs about {:.1f} GiB ({:.3g} neurons, {:.3g} synapses{}) but {} is "
        "{:.1f} GiB; reduce the sizes or the connection probabilities",
        c.source, need / (1 << 30), neurons, synapses,
        edge_buffers > 0
            ? fmt::format(", {:.0f} MiB to write the final weights", edge_buffers / (1 << 20))
            : std::string(),
        have.what, have.bytes / (1 << 30)));
  }
}

}  // namespace

void check_config(const Config& c, const Registry& registry) {
  const TimeGrid grid(c.simulation.dt_ms);
  grid.time_steps(c.simulation.duration_ms, "simulation.duration");
  if (c.populations.empty())
    throw ConfigError(fmt::format("{}: no [[population]] is defined", c.source));
  for (const auto& p : c.populations) population_model(p, registry);
  for (const auto& p : c.projections) {
    find_population(c, p.source, p.spec.name + " source");
    find_population(c, p.target, p.spec.name + " target");
    if (!p.plasticity_rule.empty()) {
      const RuleInfo& rule = registry.get_rule(p.plasticity_rule, p.spec.name + " plasticity");
      // Said as such rather than as an unknown parameter: the key is right
      // for another rule (reward_stdp, a plugin's modulated rule).
      const auto reads = std::find_if(rule.params.begin(), rule.params.end(),
                                      [](const ParamInfo& i) { return i.name == "modulator"; });
      if (reads == rule.params.end() && p.plasticity_params.has("modulator")) {
        throw ConfigError(
            fmt::format("{}: rule '{}' reads no neuromodulator: remove the modulator key",
                        p.plasticity_params.item("modulator"), rule.name));
      }
      Registry::check_param_names(rule, p.plasticity_params);
      if (reads != rule.params.end()) {
        // The neuromodulator it reads exists: said by `validate` too, in the
        // words Simulator::bind_plasticity uses when a run gets that far. An
        // empty name is the rule's own error when it is made.
        const std::string m = p.plasticity_params.text("modulator", reads->default_text);
        std::vector<std::string> names;
        for (const auto& n : c.neuromodulators) names.push_back(n.name);
        if (!m.empty() && std::find(names.begin(), names.end(), m) == names.end()) {
          throw ConfigError(fmt::format(
              "{}: its plasticity rule reads neuromodulator '{}', "
              "which is not defined{}; defined: {}",
              p.spec.name, m, did_you_mean(m, names),
              names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
        }
      }
    }
    if (p.spec.rule == synapses::Rule::plugin) {
      Registry::check_param_names(registry.get_connection_rule(p.spec.plugin_rule, p.rule_where),
                                  p.rule_params);
    }
  }
  for (const auto& cl : c.clamps)
    find_population(c, cl.population, fmt::format("clamp '{}'", cl.name));
  check_stimuli(c, registry);
  check_records(c, registry);
  check_weight_records(c, grid);
  check_modulators(c, grid);
  grid.delay_steps(c.output.flush_interval_ms, "output.flush_interval");
  check_memory(c, registry, grid);
}

namespace {
// The checks that need the models, the stimuli's schedules or the edges
// files, made without drawing a synapse.
void dry_run_checks(const Config& c, const Registry& registry) {
  const TimeGrid grid(c.simulation.dt_ms);
  for (std::size_t k = 0; k < c.populations.size(); ++k) {
    make_population(c, k, population_model(c.populations[k], registry), grid);
  }
  for (const auto& s : c.stimuli) {
    const auto& m = registry.get(s.model, fmt::format("stimulus '{}'", s.name));
    if (m.make_drive)
      m.make_drive(s.params, grid);
    else if (m.make_wave)
      m.make_wave(s.params, grid, {c.simulation.seed, 0});
    else
      m.make_stimulus(s.params, grid);
  }
  for (const auto& cl : c.clamps) clamp_of(c, cl, 0, grid);
  for (std::size_t k = 0; k < c.projections.size(); ++k) {
    const auto& p = c.projections[k];
    const auto src = find_population(c, p.source, p.spec.name + " source");
    const auto tgt = find_population(c, p.target, p.spec.name + " target");
    {
      auto spec = resolve_spec(p, true);
      make_pair_rule(c, k, registry, grid, spec);
      synapses::validate(spec, connect_context(c, k, src, tgt, grid));
    }
    if (!p.plasticity_rule.empty()) {
      const auto rule =
          registry.get_rule(p.plasticity_rule, p.spec.name).make(p.plasticity_params, grid);
      const auto spec = resolve_spec(p, true);
      double lo = 0, hi = 0;
      if (!spec.edges.weight.empty()) {
        const auto [a, b] = std::minmax_element(spec.edges.weight.begin(), spec.edges.weight.end());
        lo = *a;
        hi = *b;
      } else if (spec.weight.kind == synapses::ValueSpec::Kind::constant) {
        lo = hi = spec.weight.value;
      } else {
        lo = spec.weight.low;  // uniform bounds, or a normal's (possibly infinite) bounds
        hi = spec.weight.high;
      }
      rule->check_weights(lo, hi, p.name);
    }
  }
  for (const auto& r : c.records) probe_window(r, grid);
  for (const auto& w : c.weight_records) {
    const auto& p = c.projections[find_projection(c, w.projection)];
    std::vector<std::string> available{"weight"};
    if (!p.plasticity_rule.empty()) {
      available = registry.get_rule(p.plasticity_rule, p.spec.name)
                      .make(p.plasticity_params, grid)
                      ->synapse_variables();
    }
    check_synapse_variables(w, p, available);
  }
}
}  // namespace

void validate_config(const Config& config, const Registry& registry) {
  check_config(config, registry);
  dry_run_checks(config, registry);
}

namespace {

// Each population, its parameters read by its model and its initial values
// drawn per neuron from the stream (seed, population and variable, neuron).
void add_populations(const Config& c, const Registry& registry, const TimeGrid& grid,
                     Network& net) {
  for (std::size_t k = 0; k < c.populations.size(); ++k) {
    const auto& p = c.populations[k];
    auto pop = make_population(c, k, population_model(p, registry), grid);
    const std::string owner = fmt::format("population '{}'.initial", p.name);
    for (const auto& [var, init] : p.initial) {
      const std::size_t v = state_var_index(*pop, var, owner);
      if (!init.values.empty()) {  // one per neuron, checked against size when read
        for (NeuronIndex i = 0; i < p.size; ++i) pop->set_state(v, i, init.values[i]);
        continue;
      }
      const std::uint32_t stream =
          stream_id(StreamKind::initial_state, static_cast<std::uint32_t>(k * 64 + v));
      for (NeuronIndex i = 0; i < p.size; ++i) {
        RandomStream rng(c.simulation.seed, stream, i);
        pop->set_state(v, i, init.spec.draw(rng));
      }
    }
    net.add_population(p.name, p.model, std::move(pop));
  }
}

void add_projections(const Config& c, const Registry& registry, const TimeGrid& grid,
                     Network& net) {
  for (std::size_t k = 0; k < c.projections.size(); ++k) {
    const auto& p = c.projections[k];
    const auto src = find_population(c, p.source, p.spec.name + " source");
    const auto tgt = find_population(c, p.target, p.spec.name + " target");
    synapses::ConnectionSpec spec = resolve_spec(p, false);
    make_pair_rule(c, k, registry, grid, spec);
    auto syn = synapses::make_source(std::move(spec), connect_context(c, k, src, tgt, grid));
    const auto index = net.add_projection(p.name, static_cast<std::uint32_t>(src),
                                          static_cast<std::uint32_t>(tgt), std::move(syn));
    if (!p.plasticity_rule.empty()) {
      net.set_plasticity(
          index, registry.get_rule(p.plasticity_rule, p.spec.name).make(p.plasticity_params, grid));
    }
  }
}

// Each neuromodulator with the scheduled pulses of its [[reward]]s.
void add_neuromodulators(const Config& c, const TimeGrid& grid, Network& net) {
  for (const auto& m : c.neuromodulators) {
    // Scheduled pulses of every [[reward]] of this modulator, in time order.
    std::vector<std::pair<Step, double>> pulses;
    for (const auto& rw : c.rewards) {
      if (rw.modulator != m.name) continue;
      for (const double t : rw.times_ms)
        pulses.emplace_back(grid.delay_steps(t, "[[reward]] time"), rw.amount);
    }
    std::stable_sort(pulses.begin(), pulses.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    Neuromodulator mod(m.name, m.tau_ms, grid.dt());
    for (const auto& [step, amount] : pulses) mod.add(step, amount);
    net.add_neuromodulator(std::move(mod));
  }
}

// Stimulus devices, Poisson inputs and clamps.
void add_inputs(const Config& c, const Registry& registry, const TimeGrid& grid, Network& net) {
  for (const auto& s : c.stimuli) {
    const auto& m = registry.get(s.model, fmt::format("stimulus '{}'", s.name));
    const auto population = net.population_index(s.target, fmt::format("stimulus '{}'", s.name));
    const std::vector<NeuronIndex> neurons(s.nodes.begin(), s.nodes.end());
    if (m.make_drive) {
      net.add_poisson_input({s.name, population, neurons, m.make_drive(s.params, grid)});
    } else if (m.make_wave) {
      const WaveContext ctx{net.seed(), static_cast<std::uint32_t>(net.stimuli().size())};
      net.add_stimulus({s.name, population, neurons, {}, m.make_wave(s.params, grid, ctx)});
    } else {
      net.add_stimulus({s.name, population, neurons, m.make_stimulus(s.params, grid), {}});
    }
  }

  for (const auto& cl : c.clamps) {
    net.add_clamp(clamp_of(c, cl, net.population_index(cl.population, "clamp"), grid));
  }
}

// The [[record]] probes, and what the writer needs to know of them.
void add_probes(const Config& c, const Registry& registry, const TimeGrid& grid,
                BuiltNetwork& built) {
  Network& net = built.network;
  for (const auto& r : c.records) {
    const auto q = net.population_index(r.population, "record");
    const auto& entry = net.populations()[q];
    const auto& m = registry.get(entry.model, "record");
    TraceProbe probe;
    probe.population = q;
    ProbeInfo info;
    info.population = r.population;
    info.name = r.name;
    for (const auto& v : r.variables) {
      const auto idx = state_var_index(*entry.population, v, r.label());
      probe.variables.push_back(idx);
      info.variables.push_back(v);
      info.units.push_back(m.state_vars[idx].unit);
    }
    if (r.nodes.empty()) {
      for (NeuronIndex i = 0; i < entry.population->size(); ++i) probe.neurons.push_back(i);
    } else {
      probe.neurons.assign(r.nodes.begin(), r.nodes.end());
    }
    info.nodes.assign(probe.neurons.begin(), probe.neurons.end());
    probe.interval = probe_interval(r, grid);
    const auto window = probe_window(r, grid);
    probe.start = window.start;
    probe.stop = window.stop;
    info.start = probe.start;
    info.interval = probe.interval;
    net.add_probe(std::move(probe));
    built.probes.push_back(std::move(info));
  }
}

// What the writer needs to know of [[record_weights]] and
// [[record_neuromodulator]] (the simulator only runs; the writer samples).
void add_state_records(const Config& c, const TimeGrid& grid, BuiltNetwork& built) {
  const Network& net = built.network;
  for (std::size_t r = 0; r < c.weight_records.size(); ++r) {
    const auto& w = c.weight_records[r];
    const auto k = find_projection(c, w.projection);
    const auto* rule = net.projections()[k].plasticity.get();
    const auto available = rule ? rule->synapse_variables() : std::vector<std::string>{"weight"};
    check_synapse_variables(w, c.projections[k], available);
    WeightRecordInfo info;
    info.record = r;
    info.projection = static_cast<std::uint32_t>(k);
    info.interval = grid.delay_steps(w.interval_ms, "record_weights interval");
    const auto window = weight_record_window(w, grid);
    info.start = window.start;
    info.stop = window.stop;
    for (const auto& v : w.variables) {
      const auto at = std::find(available.begin(), available.end(), v) - available.begin();
      if (at > 0) info.variables.push_back(static_cast<std::size_t>(at));  // 0: the weight, always
    }
    built.weight_records.push_back(std::move(info));
  }
  for (const auto& m : c.modulator_records) {
    std::size_t index = 0;
    while (c.neuromodulators[index].name != m.name) ++index;  // exists: check_config
    built.modulator_records.push_back(
        {index, grid.delay_steps(m.interval_ms, "record_neuromodulator interval")});
  }
}

}  // namespace

BuiltNetwork build_network(const Config& c, const Registry& registry) {
  check_config(c, registry);
  const TimeGrid grid(c.simulation.dt_ms);
  BuiltNetwork built{
      Network(grid, c.simulation.seed), {}, {}, {}, estimate_synapses(c, registry, grid)};
  add_populations(c, registry, grid, built.network);
  add_projections(c, registry, grid, built.network);
  add_neuromodulators(c, grid, built.network);
  add_inputs(c, registry, grid, built.network);
  add_probes(c, registry, grid, built);
  add_state_records(c, grid, built);
  return built;
}

std::shared_ptr<const synapses::EdgeReader> edge_reader(std::string name,
                                                        std::shared_ptr<EdgesFile> file) {
  return std::make_shared<FileEdgeReader>(std::move(name), std::move(file));
}

std::vector<FileRole> input_files(const Config& c) {
  std::vector<FileRole> files;
  for (const auto& p : c.projections) {
    files.push_back({fmt::format("projection '{}' file (edges)", p.name), p.edges_file});
  }
  // The `*_file` parameters, as resolve_input_paths finds them.
  auto add = [&](const ParamMap& params, const std::string& owner) {
    for (const auto& name : params.names()) {
      if (name.size() > 5 && name.ends_with("_file"))
        files.push_back({fmt::format("{} {}", owner, name), params.text(name, "")});
    }
  };
  for (const auto& p : c.populations) add(p.params, fmt::format("population '{}'", p.name));
  for (const auto& cl : c.clamps) add(cl.params, fmt::format("clamp '{}'", cl.name));
  add(c.task, "[task]");
  add(c.training, "[training]");
  if (c.has_task) files.push_back({"[task] file (patterns)", c.task.text("file", "")});
  return files;
}

}  // namespace spikeline::io
