#include "spikeline/app/run.hpp"
#include "spikeline/app/session.hpp"
#include "spikeline/encoding/assembly_detector.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <tbb/global_control.h>

#include "spikeline/engine/event_queue.hpp"
#include "spikeline/engine/simulator.hpp"
#include "spikeline/io/build.hpp"
#include "spikeline/io/checkpoint.hpp"
#include "spikeline/io/json_writer.hpp"
#include "spikeline/io/output_files.hpp"
#include "spikeline/io/reward_input.hpp"
#include "spikeline/io/sonata_writer.hpp"
#include "spikeline/plugin/loader.hpp"

namespace spikeline::app {

// What this application drives: the config, the network builder and the formats.
using io::build_network;
using io::BuiltNetwork;
using io::check_checkpoint_writable;
using io::Config;
using io::ModulatorRecordInfo;
using io::OutputLayout;
using io::OutputPosition;
using io::parse_config;
using io::ProbeInfo;
using io::read_checkpoint;
using io::resolve_input_paths;
using io::RewardInput;
using io::RewardLine;
using io::RunStatus;
using io::SonataWriter;
using io::text_field;
using io::WeightRecordConfig;
using io::WeightRecordInfo;
using io::WeightSnapshotLayout;
using io::write_checkpoint;
using io::write_edges;

namespace {

// SPIKELINE_OVERLAP (automatic, always, never): whether the spike exchange
// of a run of several processes overlaps computation (docs/mpi-design.md
// 3.3). Not a config key: the results do not depend on it and `automatic`
// is right for every run; the variable is for tests and benchmarks, which
// compare the two loops.
SimulationOptions::Overlap overlap_from_environment() {
  using Overlap = SimulationOptions::Overlap;
  const char* text = std::getenv("SPIKELINE_OVERLAP");
  if (text == nullptr) return Overlap::automatic;
  const std::string v = text;
  if (v == "automatic") return Overlap::automatic;
  if (v == "always") return Overlap::always;
  if (v == "never") return Overlap::never;
  throw UsageError(fmt::format(
      "SPIKELINE_OVERLAP = '{}' is not one of automatic, always, never (the overlap of the spike "
      "exchange with computation)",
      v));
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A pairing trigger: a reward `delay` after `post` fires within `window`
// steps after `pre` (the condition of Izhikevich's distal-reward experiment).
// Evaluated on each window's sorted spikes, so the rewards do not depend on
// threads; the delay exceeds a window, so every reward lies in the future.
struct RewardTrigger {
  std::size_t modulator;
  double amount;
  std::uint32_t pre_pop, post_pop;
  NeuronIndex pre_node, post_node;
  Step window;
  synapses::ValueSpec delay_ms;
  RandomStream rng;
  Step last_pre = -1;
  std::uint64_t fired = 0;
};

// Writes each window's results into the output file and keeps the user
// informed; polls for a stop signal between windows.
class RunObserver : public SimulationObserver {
 public:
  RunObserver(Simulator& sim, SonataWriter* writer, Recording* memory,
              std::vector<RewardTrigger>& triggers, std::vector<int> spike_slot, Step stop,
              bool progress, const volatile std::sig_atomic_t* stop_signal,
              const std::function<void(std::span<const SpikeRecord>)>* listener)
      : sim_(sim),
        listener_(listener),
        writer_(writer),
        memory_(memory),
        triggers_(triggers),
        spike_slot_(std::move(spike_slot)),
        stop_(stop),
        progress_(progress),
        stop_signal_(stop_signal),
        times_(spike_slot_.size()),
        ids_(spike_slot_.size()),
        started_(Clock::now()) {}

  void on_spikes(std::span<const SpikeRecord> spikes) override {
    for (auto& tr : triggers_) {
      for (const auto& s : spikes) {
        if (s.population == tr.pre_pop && s.neuron == tr.pre_node) tr.last_pre = s.step;
        if (s.population == tr.post_pop && s.neuron == tr.post_node && tr.last_pre >= 0 &&
            s.step > tr.last_pre && s.step - tr.last_pre <= tr.window) {
          const double delay = tr.delay_ms.draw(tr.rng);
          const Step at = s.step + std::max<Step>(1, std::llround(delay / sim_.grid().dt()));
          sim_.add_reward(tr.modulator, at, tr.amount);  // at > now: see the check in run()
          ++tr.fired;
        }
      }
    }
    if (listener_ != nullptr && *listener_) (*listener_)(spikes);
    if (memory_ != nullptr) {
      for (const auto& s : spikes) {
        memory_->spikes[s.population].steps.push_back(s.step);
        memory_->spikes[s.population].ids.push_back(s.neuron);
      }
    }
    if (!writer_ || spikes.empty()) return;
    for (auto& t : times_) t.clear();
    for (auto& i : ids_) i.clear();
    const double dt = sim_.grid().dt();
    for (const auto& s : spikes) {
      if (spike_slot_[s.population] < 0) continue;
      times_[s.population].push_back(static_cast<double>(s.step) * dt);
      ids_[s.population].push_back(s.neuron);
    }
    for (std::size_t q = 0; q < spike_slot_.size(); ++q) {
      if (!times_[q].empty())
        writer_->append_spikes(static_cast<std::size_t>(spike_slot_[q]), times_[q], ids_[q]);
    }
  }
  void on_frames(std::size_t probe, std::span<const float> frames) override {
    if (writer_) writer_->append_frames(probe, frames);
    if (memory_ != nullptr) {
      auto& out = memory_->traces[probe].frames;
      out.insert(out.end(), frames.begin(), frames.end());
    }
  }
  void on_window(Step now) override {
    if (stop_signal_ && *stop_signal_ != 0) sim_.request_stop();
    if (progress_) {
      const double wall = seconds_since(started_);
      if (wall - last_print_ >= 0.25 || now == stop_) {
        last_print_ = wall;
        const double frac =
            static_cast<double>(now) / static_cast<double>(std::max<Step>(1, stop_));
        const double sim_s = sim_.grid().to_ms(now) / 1000.0;
        const double rtf = sim_s > 0 ? wall / sim_s : 0;
        const double eta = frac > 0 ? wall * (1 - frac) / frac : 0;
        std::fprintf(stderr, "\r[%5.1f%%] %.1f / %.1f ms  real-time factor %.3g  ETA %.1f s   ",
                     100 * frac, sim_.grid().to_ms(now), sim_.grid().to_ms(stop_), rtf, eta);
        std::fflush(stderr);
      }
    }
  }
  void end_progress() const {
    if (progress_) std::fprintf(stderr, "\n");
  }

 private:
  Simulator& sim_;
  // The caller's (Session::set_spike_listener), or null.
  const std::function<void(std::span<const SpikeRecord>)>* listener_;
  SonataWriter* writer_;
  Recording* memory_;
  std::vector<RewardTrigger>& triggers_;
  std::vector<int> spike_slot_;
  Step stop_;
  bool progress_;
  const volatile std::sig_atomic_t* stop_signal_;
  std::vector<std::vector<double>> times_;
  std::vector<std::vector<std::uint64_t>> ids_;
  double last_print_ = -1;
  Clock::time_point started_;
};

// The edge ids (positions in the projection's canonical order) of this
// process's synapses, in its own canonical order. Canonical order is by
// source first, and for one source the partitions come in order, so rank
// r's synapses of source s follow those of ranks 0..r-1: id = (synapses
// of all sources before s) + (those of s on lower ranks) + (its place on
// this rank). Every rank's per-source counts are gathered (K x n_source
// words on every rank: fine to millions of sources).
std::vector<std::uint64_t> global_edge_ids(const Connectivity& conn,
                                           std::span<const SynapseRecord> local,
                                           Communicator& comm) {
  const std::size_t n_source = conn.source_size();
  std::vector<std::uint64_t> per_source(n_source, 0);
  for (const auto& r : local) ++per_source[r.source];
  std::vector<std::size_t> counts;
  const auto all = allgather_records(comm, std::span<const std::uint64_t>(per_source), counts);
  const auto me = static_cast<std::size_t>(comm.rank());
  std::vector<std::uint64_t> ids;
  ids.reserve(local.size());
  std::uint64_t before = 0;  // synapses of every rank from sources < s
  for (std::size_t s = 0; s < n_source; ++s) {
    std::uint64_t lower = 0, total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      const std::uint64_t c = all[r * n_source + s];
      if (r < me) lower += c;
      total += c;
    }
    for (std::uint64_t i = 0; i < per_source[s]; ++i) ids.push_back(before + lower + i);
    before += total;
  }
  return ids;
}

// Samples the synapses of one [[record_weights]]: all of a projection's, or
// the chosen ones, read through the plasticity rule without changing it.
// In a run of several processes each samples the recorded synapses it
// holds and rank 0, which writes, places them by their edge ids.
class WeightRecorder {
 public:
  WeightRecorder(const Simulator& sim, const WeightRecordConfig& config,
                 const WeightRecordInfo& info, Communicator& comm)
      : projection_(info.projection), variables_(info.variables), comm_(&comm) {
    const Connectivity& conn = sim.connectivity(projection_);
    const bool alone = comm.size() == 1;
    const auto all = conn.canonical_locations();
    // The projection's synapses in all processes, and this one's edge ids.
    std::uint64_t total = conn.size();
    std::vector<SynapseRecord> local;
    std::vector<std::uint64_t> ids;
    if (!alone) {
      comm.allreduce_sum({&total, 1});
      local = conn.canonical();
      ids = global_edge_ids(conn, local, comm);
    }
    if (!config.chosen()) {
      locations_ = all;
      count_ = total;
      positions_ = std::move(ids);  // every synapse: its place is its id
      share_positions();
      return;
    }
    const std::string& proj = config.projection;
    for (const auto id : config.synapses) {
      if (id >= total) {
        throw ConfigError(fmt::format(
            "record_weights '{}': synapse (edge id) {} is out of range: projection '{}' has {} "
            "synapses (ids 0 to {})",
            config.name, id, proj, total, total == 0 ? 0 : total - 1));
      }
      edge_ids_.push_back(id);
    }
    if (!config.sources.empty()) {
      // Canonical order is by source, then target: each pair is a range
      // (of this process's synapses, in a run of several).
      if (alone) local = conn.canonical();
      std::vector<std::uint64_t> found(config.sources.size(), 0), mine;
      for (std::size_t i = 0; i < config.sources.size(); ++i) {
        const auto key = std::make_pair(config.sources[i], config.targets[i]);
        const auto range =
            std::equal_range(local.begin(), local.end(), key,
                             [](const auto& a, const auto& b) { return pair_of(a) < pair_of(b); });
        found[i] = static_cast<std::uint64_t>(range.second - range.first);
        for (auto it = range.first; it != range.second; ++it) {
          const auto j = static_cast<std::size_t>(it - local.begin());
          mine.push_back(alone ? j : ids[j]);
        }
      }
      if (!alone) {
        comm.allreduce_sum(found);
        std::vector<std::size_t> counts;
        mine = allgather_records(comm, std::span<const std::uint64_t>(mine), counts);
      }
      for (std::size_t i = 0; i < config.sources.size(); ++i) {
        if (found[i] == 0) {
          throw ConfigError(fmt::format(
              "record_weights '{}': projection '{}' has no synapse from source {} to target {}",
              config.name, proj, config.sources[i], config.targets[i]));
        }
      }
      edge_ids_.insert(edge_ids_.end(), mine.begin(), mine.end());
    }
    std::sort(edge_ids_.begin(), edge_ids_.end());
    edge_ids_.erase(std::unique(edge_ids_.begin(), edge_ids_.end()), edge_ids_.end());
    count_ = edge_ids_.size();
    if (alone) {
      for (const auto id : edge_ids_) locations_.push_back(all[id]);
      return;
    }
    // This process's recorded synapses, and their places in the record.
    for (std::size_t j = 0; j < ids.size(); ++j) {
      const auto it = std::lower_bound(edge_ids_.begin(), edge_ids_.end(), ids[j]);
      if (it == edge_ids_.end() || *it != ids[j]) continue;
      locations_.push_back(all[j]);
      positions_.push_back(static_cast<std::uint64_t>(it - edge_ids_.begin()));
    }
    share_positions();
  }

  // Recorded synapses (of every process).
  std::size_t size() const { return count_; }
  const std::vector<std::uint64_t>& edge_ids() const { return edge_ids_; }

  // The values now; rank 0 (the one with a writer) writes them.
  void sample(SonataWriter* w, std::size_t slot, const Simulator& sim) {
    const std::size_t n = locations_.size();
    values_.resize(n * (1 + variables_.size()));
    for (std::size_t i = 0; i < n; ++i) {
      values_[i] = static_cast<float>(sim.synapse_value(projection_, 0, locations_[i]));
    }
    for (std::size_t v = 0; v < variables_.size(); ++v) {
      for (std::size_t i = 0; i < n; ++i) {
        values_[(v + 1) * n + i] =
            static_cast<float>(sim.synapse_value(projection_, variables_[v], locations_[i]));
      }
    }
    if (comm_->size() > 1) gather_values();
    if (w != nullptr) w->append_weight_snapshot(slot, sim.grid().to_ms(sim.now()), values_);
  }

 private:
  // Rank 0 learns once where each process's values go.
  void share_positions() {
    if (comm_->size() == 1) return;
    std::vector<std::size_t> counts;
    const auto all = gather_records(*comm_, std::span<const std::uint64_t>(positions_), counts);
    std::size_t at = 0;
    for (const auto n : counts) {
      rank_positions_.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(at),
                                   all.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += n;
    }
  }
  // Every process's values placed in the record's order, at rank 0.
  void gather_values() {
    std::vector<std::size_t> counts;
    const auto all = gather_records(*comm_, std::span<const float>(values_), counts);
    if (comm_->rank() != 0) return;
    const std::size_t rows = 1 + variables_.size();
    values_.assign(rows * count_, 0.0f);
    std::size_t at = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      const auto& pos = rank_positions_[r];
      const std::size_t n = pos.size();
      for (std::size_t v = 0; v < rows; ++v) {
        for (std::size_t i = 0; i < n; ++i) values_[v * count_ + pos[i]] = all[at + v * n + i];
      }
      at += counts[r];
    }
  }

  static std::pair<std::uint64_t, std::uint64_t> pair_of(const SynapseRecord& r) {
    return {r.source, r.target};
  }
  static std::pair<std::uint64_t, std::uint64_t> pair_of(
      const std::pair<std::uint64_t, std::uint64_t>& p) {
    return p;
  }

  std::uint32_t projection_;
  std::vector<std::size_t> variables_;
  Communicator* comm_;
  std::size_t count_ = 0;                   // recorded synapses, of every process
  std::vector<SynapseLocation> locations_;  // this process's recorded synapses
  std::vector<std::uint64_t> positions_;    // ... their places in the record (K > 1)
  std::vector<std::vector<std::uint64_t>> rank_positions_;  // rank 0: every process's
  std::vector<std::uint64_t> edge_ids_;
  std::vector<float> values_;
};

}  // namespace

namespace {
std::uint64_t read_peak_rss() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // in kB
  }
  return 0;
}
}  // namespace

std::string RunResult::summary_line() const {
  std::string rates;
  for (const auto& p : populations) rates += fmt::format(", {} {:.2f} Hz", p.name, p.rate_hz);
  std::uint64_t spikes = 0;
  for (const auto& p : populations) spikes += p.spikes;
  const double rtf = simulated_ms > 0 ? loop_s / (simulated_ms / 1000.0) : 0;
  return fmt::format(
      "spikeline: {} after {:.1f} ms simulated; {} spikes{}; wall {:.2f} s (build "
      "{:.2f} s, loop {:.2f} s), real-time factor {:.3g}",
      status, simulated_ms, spikes, rates, total_s, build_s, loop_s, rtf);
}

std::string RunResult::summary_json() const {
  io::JsonWriter j;
  j.begin_object();
  j.key("status").value(status).key("message").value(message);
  j.key("simulated_ms").value(simulated_ms).key("build_s").value(build_s);
  j.key("loop_s").value(loop_s).key("total_s").value(total_s);
  j.key("synapses").value(synapses).key("synapse_bytes").value(synapse_bytes);
  j.key("peak_rss_bytes").value(peak_rss_bytes);
  j.key("populations").begin_array();
  for (const auto& p : populations) {
    j.begin_object().key("name").value(p.name).key("size").value(p.size);
    j.key("spikes").value(p.spikes).key("rate_hz").value(p.rate_hz).end_object();
  }
  j.end_array();
  j.key("rewards").begin_object();
  for (const auto& [name, n] : rewards) j.key(name).value(n);
  j.end_object();
  j.end_object();
  return j.text();
}

namespace {

// A path that means the same from any working directory ("" stays "").
std::string absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  const auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

// Which plugin made each model, rule and connection rule the network uses, one line each
// ("model 'adex': plugin 'aeif' version 1.0, ABI 1.0"); "" without plugins.
// A checkpoint records it, and a resume with other plugins is refused by
// name (their code is part of the state's meaning), where the fingerprint
// alone could only say that something changed.
std::string plugin_provenance(const Config& c, const Registry& r) {
  std::set<std::string> lines;
  for (const auto& p : c.populations) {
    if (!r.has(p.model)) continue;
    const ModelInfo& m = r.get(p.model, "checkpoint");
    if (!m.origin.empty()) lines.insert(fmt::format("model '{}': {}", m.name, m.provenance));
  }
  for (const auto& p : c.projections) {
    if (p.plasticity_rule.empty() || !r.has_rule(p.plasticity_rule)) continue;
    const RuleInfo& rule = r.get_rule(p.plasticity_rule, "checkpoint");
    if (!rule.origin.empty()) {
      lines.insert(fmt::format("rule '{}': {}", rule.name, rule.provenance));
    }
  }
  for (const auto& p : c.projections) {
    if (p.spec.rule != synapses::Rule::plugin || !r.has_connection_rule(p.spec.plugin_rule)) {
      continue;
    }
    const ConnectionRuleInfo& rule = r.get_connection_rule(p.spec.plugin_rule, "checkpoint");
    lines.insert(fmt::format("connection rule '{}': {}", rule.name, rule.provenance));
  }
  return fmt::format("{}", fmt::join(lines, "\n"));
}

// The lines of plugin_provenance() for a message.
std::string indented(const std::string& lines) {
  if (lines.empty()) return "no plugin";
  std::string out;
  for (const char ch : lines) out += ch == '\n' ? std::string("\n  ") : std::string(1, ch);
  return out;
}

// Tells this run's output file from any other's (a resumed run continues
// only the file its checkpoint came from). Not part of any result.
std::string make_run_id(const Config& c, const std::string& command_line) {
  Hash64 h;
  h.add(c.resolved_toml);
  h.add(command_line);
  h.add_word(
      static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()));
  h.add_word(static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()));
  h.add_word(static_cast<std::uint64_t>(::getpid()));
  return fmt::format("{:016x}", h.value());
}

// The content hash of a (regular) file.
std::uint64_t file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Hash64 h;
  h.add(bytes);
  return h.value();
}

// Control events of the run loop (EventKind::record, a = what): a weight
// record (b = its index), a neuromodulator record (b), a poll of the reward
// stream, a checkpoint. Flushes are EventKind::flush.
enum ControlKind : std::uint32_t {
  kWeightRecord = 0,
  kModulatorRecord = 1,
  kRewardPoll = 2,
  kCheckpoint = 3,
};

// One run, from its built network to its result: run() starts it at step 0,
// resume() restores it from a checkpoint first.

// What a run of several processes cannot do yet (docs/mpi-design.md,
// section 10: later slices distribute them): refused before anything is
// built, by every rank alike (the config is the same), so all exit.
void refuse_what_runs_in_one_process(const Config&, const RunOptions& o, int ranks) {
  if (ranks <= 1) return;
  const auto refuse = [&](const std::string& feature, std::string_view instead) {
    throw UsageError(fmt::format(
        "{} runs in one process: this run has {} MPI ranks (mpirun -np {}); {}, or run it "
        "without mpirun",
        feature, ranks, ranks, instead));
  };
  if (!o.tables.empty()) refuse("a session's own tables", "leave them out");
}
}  // namespace

// The run of a config: built, started (or restored from a checkpoint), then
// advanced from one control event (flush, record, checkpoint, reward poll)
// to the next, in one go (execute: `spikeline run`) or in pieces (Session:
// the Python module), and finished.
class RunSession {
 public:
  // A fresh run (run()) or one continued from a checkpoint (resume()).
  enum class Start { fresh, resume };

  RunSession(Config config, const Registry& registry, RunOptions options, Start start)
      : c_(std::move(config)),
        registry_(with_plugins(c_, registry, own_registry_)),
        options_(std::move(options)),
        t_start_(Clock::now()) {
    if (!options_.comm) options_.comm = std::make_shared<SerialCommunicator>();
    const int ranks = options_.comm->size();
    refuse_what_runs_in_one_process(c_, options_, ranks);
    std::optional<BuiltNetwork> built_network;
    together([&] {
      // The files first: a clash, an output that cannot be created or an
      // input that cannot be read is found before the build, which may be long.
      check_files(start);
      // Rank 0 alone reads the rewards (mpirun hands stdin to rank 0 only).
      if (!options_.reward_input.empty() && options_.comm->rank() == 0) {
        reward_input_.emplace(options_.reward_input);
      }
      // The build (synapses are drawn in parallel) uses the run's threads too.
      const int threads = c_.simulation.threads;
      std::optional<tbb::global_control> cap;
      if (threads >= 1 && threads <= 1024) {
        cap.emplace(tbb::global_control::max_allowed_parallelism,
                    static_cast<std::size_t>(threads));
      }
      built_network.emplace(build_network(c_, *registry_));
      stop_if_signalled();
    });
    BuiltNetwork& built = *built_network;
    grid_ = built.network.grid();
    stop_ = grid_.time_steps(c_.simulation.duration_ms, "simulation.duration");
    flush_every_ = grid_.delay_steps(c_.output.flush_interval_ms, "output.flush_interval");
    if (!options_.checkpoint_path.empty() && options_.checkpoint_every_ms != 0) {
      checkpoint_every_ = grid_.delay_steps(options_.checkpoint_every_ms, "--checkpoint-every");
    }
    probes_ = std::move(built.probes);
    weight_records_ = std::move(built.weight_records);
    modulator_records_ = std::move(built.modulator_records);

    // Population metadata before the network moves into the simulator.
    for (const auto& p : built.network.populations()) {
      names_.push_back(p.name);
      sizes_.push_back(p.population->size());
    }
    for (const auto& p : built.network.projections())
      proj_meta_.push_back({p.name, {p.source, p.target}});

    SimulationOptions so;
    so.threads = c_.simulation.threads;
    so.partitions = c_.simulation.partitions_given ? c_.simulation.partitions : 0;
    so.max_rate_hz = c_.simulation.max_rate_hz;
    so.guard_interval_ms = c_.simulation.guard_interval_ms;
    so.wall_limit_s = c_.simulation.wall_limit_s;
    so.stop_signal = options_.stop_signal;  // Ctrl-C while the synapses are laid out
    so.comm = options_.comm;
    so.overlap = overlap_from_environment();
    sim_ = std::make_unique<Simulator>(std::move(built.network), so);
    // What the checkpoint does not hold because the config rebuilds it:
    // computed once (it hashes every synapse).
    fingerprint_ = sim_->fingerprint();
    together([&] { stop_if_signalled(); });
    result_.synapses = sim_->synapse_count();
    // Each projection's synapses in all processes (what the edges hold).
    for (std::size_t k = 0; k < proj_meta_.size(); ++k) {
      projection_sizes_.push_back(sim_->connectivity(k).size());
    }
    options_.comm->allreduce_sum(projection_sizes_);
    result_.synapse_bytes = sim_->synapse_memory_bytes();
    if (!options_.checkpoint_path.empty()) {
      if (const std::string why = sim_->why_not_checkpointable(); !why.empty()) {
        throw ConfigError(fmt::format("--checkpoint {}: this network cannot be checkpointed: {}",
                                      options_.checkpoint_path, why));
      }
    }
    make_triggers();
    make_detectors();
    // Chosen synapses are resolved (and checked) before the file is created.
    for (const auto& info : weight_records_) {
      recorders_.emplace_back(*sim_, c_.weight_records[info.record], info, *options_.comm);
    }
  }

  const Config& config() const { return c_; }
  Simulator& simulator() { return *sim_; }
  const Registry& registry() const { return *registry_; }
  // The parameters as changed between pieces (Session::set_params,
  // set_stimulus): per population and per stimulus, once changed.
  std::map<std::size_t, ParamMap>& changed_params() { return changed_params_; }
  std::map<std::string, ParamMap>& changed_stimuli() { return changed_stimuli_; }

  // A fresh run: rewards from a file are scheduled, the output file and the
  // control events are created.
  void start() {
    // Rank 0 alone writes the file; every rank has the same control
    // events, so that all run the same windows.
    const bool output = !c_.output.file.empty();
    together([&] {
      open_reward_input();
      stop_if_signalled();  // the last moment at which nothing is written yet
      if (output && writes_output()) {
        writer_.emplace(output_layout(make_run_id(c_, options_.command_line)));
      }
    });
    initial_frames_due_ = true;
    if (output) control_.push({flush_every_, EventKind::flush, 0, 0, 0, 0});
    for (std::uint32_t k = 0; output && k < weight_records_.size(); ++k) {
      control_.push({weight_records_[k].start, EventKind::record, kWeightRecord, k, 0, 0});
    }
    for (std::uint32_t k = 0; output && k < modulator_records_.size(); ++k) {
      control_.push({modulator_records_[k].interval, EventKind::record, kModulatorRecord, k, 0, 0});
    }
    add_periodic_events();
  }

  // The state of a checkpoint, into a session built from its config; then
  // the output file is reopened where the checkpoint left it.
  void restore(MemoryArchive& a, const std::string& checkpoint) {
    // Checkpoints written before plugins existed have no such field.
    if (a.has("run/plugins")) {
      std::string made_with;
      text_field(a, "run/plugins", made_with);
      const std::string now = plugin_provenance(c_, *registry_);
      if (made_with != now) {
        throw CheckpointError(fmt::format(
            "checkpoint {} was written with other plugins: it was made with\n  {}\nand this run "
            "has\n  {}\n(a checkpoint resumes only with the plugin name, version and ABI that "
            "wrote it)",
            checkpoint, indented(made_with), indented(now)));
      }
    }
    std::uint64_t fingerprint = 0;
    a.value("run/fingerprint", fingerprint);
    if (fingerprint != fingerprint_) {
      throw CheckpointError(fmt::format(
          "checkpoint {}: the network built from its config is not the one it was written from "
          "(network fingerprint {:016x}, now {:016x}): an input file (edges, spike times) or the "
          "model code changed since",
          checkpoint, fingerprint, fingerprint_));
    }
    // Every process loads the whole-population and replicated fields and
    // its own partitions'; rank 0 alone reopens the file. A failure on one
    // process (its partitions' fields, the file on rank 0) is every one's.
    together([&] {
      sim_->checkpoint(a);
      walk_run_state(a);
      walk_app_state(a);
      open_reward_input();
      stop_if_signalled();
      if (!c_.output.file.empty() && writes_output()) {
        writer_.emplace(
            output_layout(position_.run_id), position_,
            fmt::format("{} {} {}", grid_.to_ms(sim_->now()), checkpoint, options_.command_line));
      }
    });
    add_periodic_events();
  }

  // Keeps every spike and trace frame in memory from now on (`recording()`).
  void record_in_memory() {
    memory_.emplace();
    memory_->spikes.resize(names_.size());
    for (const auto& pr : probes_) {
      memory_->traces.push_back({pr, {}, pr.nodes.size() * pr.variables.size()});
    }
  }
  const std::optional<Recording>& recording() const { return memory_; }

  // Simulates up to `until`, handling the control events due on the way.
  // Returns false when a signal or request_stop() ended it early; a failure
  // (a guard, a write error, memory) marks the run failed (result()) and
  // returns false.
  bool advance(Step until) {
    if (!obs_) {
      result_.build_s = seconds_since(t_start_);
      obs_.emplace(*sim_, writer_ ? &*writer_ : nullptr, memory_ ? &*memory_ : nullptr, triggers_,
                   spike_slot_, stop_, options_.progress, options_.stop_signal, &spike_hook_);
    }
    const auto t_loop = Clock::now();
    bool completed = true;
    try {
      // Records with start = 0: the initial state is frame 0 of their report
      // (the simulator samples after each step's update, from step 1 on). A
      // fresh run only: a resumed run's file has it.
      if (std::exchange(initial_frames_due_, false)) {
        together([&] {
          for (std::size_t k = 0; k < probes_.size(); ++k) {
            if (probes_[k].start == 0) obs_->on_frames(k, sim_->probe_frame(k));
          }
        });
        // Weight records with start = 0 sample the initial weights now, even
        // when the run ends here (duration 0: the loop below does not run).
        // One stage per event, as below.
        while (control_.due(sim_->now())) together([&] { handle(control_.top()); });
      }
      // Recording (weight snapshots), flushing and checkpoints are events of
      // a control queue; the simulation runs from one control event to the next.
      while (sim_->now() < until && completed) {
        const Step next = control_.empty() ? until : std::min(until, control_.top().step);
        // The state is scanned at `until`, and before a flush or a
        // checkpoint writes it (handle()), not at every record's piece.
        completed = sim_->run_until(next, *obs_, next == until);
        // Rank 0 alone writes: a write error there is every rank's.
        // One stage per event: a checkpoint gathers from every rank, so no
        // rank may still be in an earlier event that failed on another.
        while (completed && control_.due(sim_->now())) together([&] { handle(control_.top()); });
      }
    } catch (const Error& e) {
      fail(e.code(), e.what());
      completed = false;
    } catch (const std::bad_alloc&) {
      // What the estimate did not foresee: said with where it happened; the
      // output is finished, marked failed, with what was simulated.
      fail(ExitCode::software,
           fmt::format("out of memory while simulating, at {} ms (the synapse tables hold {} "
                       "MiB)",
                       grid_.to_ms(sim_->now()), result_.synapse_bytes >> 20));
      completed = false;
    }
    result_.loop_s += seconds_since(t_loop);
    if (!completed && result_.status != "failed") {
      const int sig =
          options_.stop_signal && *options_.stop_signal ? *options_.stop_signal : SIGINT;
      result_.code = sig == SIGTERM ? ExitCode::terminated : ExitCode::interrupted;
      result_.status = "interrupted";
      result_.message = fmt::format("stopped by signal {}", sig);
    }
    return completed;
  }

  // `spikeline run`: to the end, a checkpoint there (or where a signal
  // stopped it), and the output finished.
  RunResult execute() {
    const bool completed = advance(stop_);
    if (result_.status != "failed") {
      try {
        together([&] { checkpoint_now(); });
        if (completed) result_.status = "complete";
      } catch (const Error& e) {
        fail(e.code(), e.what());
      }
    }
    return end();
  }

  // The summary, the final weights written and the output closed (marked
  // complete, interrupted or failed). Once.
  RunResult end() {
    if (ended_) return result_;
    ended_ = true;
    if (result_.status.empty() || result_.status == "running") result_.status = "complete";
    if (obs_) obs_->end_progress();
    finish();
    return result_;
  }
  const RunResult& result() const { return result_; }
  void request_stop() { sim_->request_stop(); }
  Step now() const { return sim_->now(); }
  const TimeGrid& grid() const { return grid_; }
  const std::vector<std::string>& population_names() const { return names_; }
  const std::vector<std::uint64_t>& population_sizes() const { return sizes_; }
  const std::vector<ProbeInfo>& probes() const { return probes_; }
  bool ended() const { return ended_; }
  // Goes on after a stop (a signal, request_stop()): the run is running again.
  void resume_after_stop() {
    if (result_.status != "interrupted") return;
    result_.status.clear();
    result_.code = ExitCode::ok;
    result_.message.clear();
    sim_->clear_stop_request();
  }

 private:
  void handle(Event e) {
    control_.pop();
    if (e.kind == EventKind::flush) {
      sim_->check_state();
      if (writer_) {
        writer_->set_simulated_time(grid_.to_ms(sim_->now()));
        writer_->flush();
      }
      e.step += flush_every_;
    } else if (e.a == kWeightRecord) {
      recorders_[e.b].sample(writer_ ? &*writer_ : nullptr, e.b, *sim_);
      e.step += weight_records_[e.b].interval;
      if (e.step > weight_records_[e.b].stop) return;  // its last sample was taken
    } else if (e.a == kModulatorRecord) {
      const auto& m = modulator_records_[e.b];
      if (writer_) {
        writer_->append_modulator_sample(e.b, grid_.to_ms(sim_->now()),
                                         sim_->network().modulators()[m.modulator].at(sim_->now()));
      }
      e.step += m.interval;
    } else if (e.a == kRewardPoll) {
      bool at_end = false;
      schedule(poll_rewards(&at_end));
      if (at_end) return;  // nothing more will come
      e.step += reward_poll_;
    } else {
      checkpoint_now(true);
      e.step += checkpoint_every_;
    }
    control_.push(e);
  }

  // `check_state`: the state is checked first (Simulator::check_state).
  void checkpoint_now(bool check_state = false) {
    if (options_.checkpoint_path.empty() || last_checkpoint_ == sim_->now()) {
      if (check_state) sim_->check_state();
      return;
    }
    save_checkpoint(check_state);
    last_checkpoint_ = sim_->now();
  }

  // A SIGINT or SIGTERM before the run starts (during the build, most
  // likely) ends it without a file: Error(interrupted / terminated).
  void stop_if_signalled() const { check_stop(options_.stop_signal, "building the network"); }

  // Runs a stage that every process of the run goes through at the same
  // point: a failure of one process (rank 0 alone writes the file; a
  // signal reaches the processes at different moments) is then every
  // process's (agree()), and none waits for ever in a collective that the
  // failed one never reaches.
  template <typename F>
  void together(F&& f) {
    if (!options_.comm || options_.comm->size() == 1) return f();
    agree(*options_.comm, failure_of(f), static_cast<std::uint64_t>(options_.comm->rank()));
  }

  // This process writes the output file: rank 0 of the run's processes.
  bool writes_output() const { return !options_.comm || options_.comm->rank() == 0; }

  // No file written is another file of the run (the config, an input, the
  // other output), and each can be created: refused before anything is
  // built, with 73 (64 when both names come from the command line).
  void check_files(Start start) {
    std::vector<io::FileRole> inputs = io::input_files(c_);
    // A resumed run reads its config from the checkpoint, not the file.
    if (start == Start::fresh) inputs.push_back({"the config file", c_.source, true});
    inputs.push_back({"--reward-input", options_.reward_input, true});
    const bool output_given = options_.output_on_command_line;
    io::check_distinct_files(
        {{output_given ? "--output" : "the output file (output.file)", c_.output.file,
          output_given},
         {"--checkpoint", options_.checkpoint_path, options_.checkpoint_on_command_line}},
        inputs);
    // A resumed run continues its output file where it is (SonataWriter's
    // reopening constructor checks it); a fresh one creates it.
    if (start == Start::fresh && !c_.output.file.empty())
      io::check_output_path(c_.output.file, "output file");
    if (!options_.checkpoint_path.empty()) check_checkpoint_writable(options_.checkpoint_path);
  }

  void make_detectors() {
    for (const auto& d : c_.detectors) {
      encoding::AssemblyDetectorParams p;
      p.tau_ms = d.tau_ms;
      p.threshold = d.threshold;
      p.dt_ms = grid_.dt();
      const auto q = static_cast<std::uint32_t>(
          std::find(names_.begin(), names_.end(), d.population) - names_.begin());
      detectors_.emplace_back(p, sizes_[q]);
      for (const auto& a : d.assemblies) detectors_.back().add(a);
      detector_population_.push_back(q);
    }
    spike_hook_ = [this](std::span<const SpikeRecord> spikes) {
      feed_detectors(spikes);
      if (listener_) listener_(spikes);
    };
  }

  // A window's spikes to the detectors, step by step; ignitions to their
  // tables (after the caller's tables in the layout).
  void feed_detectors(std::span<const SpikeRecord> spikes) {
    for (std::size_t k = 0; k < detectors_.size(); ++k) {
      std::size_t i = 0;
      while (i < spikes.size()) {
        const Step t = spikes[i].step;
        step_neurons_.clear();
        for (; i < spikes.size() && spikes[i].step == t; ++i) {
          if (spikes[i].population == detector_population_[k])
            step_neurons_.push_back(static_cast<std::uint32_t>(spikes[i].neuron));
        }
        if (step_neurons_.empty()) continue;
        ignitions_.clear();
        detectors_[k].observe(t, step_neurons_, &ignitions_);
        for (const auto& ig : ignitions_) {
          if (!writer_) continue;
          const double row[] = {grid_.to_ms(ig.step), static_cast<double>(ig.assembly), ig.level};
          writer_->append_row(options_.tables.size() + k, row);
        }
      }
    }
  }

  void make_triggers() {
    for (std::size_t k = 0; k < c_.rewards.size(); ++k) {
      const auto& rw = c_.rewards[k];
      if (!rw.has_trigger) continue;
      // A reward triggered by a spike in the window just simulated must fall
      // after that window: the smallest delay must span a whole window.
      const double low = rw.delay_ms.is_constant() ? rw.delay_ms.value : rw.delay_ms.low;
      if (std::llround(low / grid_.dt()) < sim_->window()) {
        throw ConfigError(fmt::format(
            "[[reward]] trigger.delay can be {} ms, shorter than the simulation's lookahead "
            "window of {} ms (the shortest synaptic delay): give it a lower bound >= {} ms",
            low, grid_.to_ms(sim_->window()), grid_.to_ms(sim_->window())));
      }
      std::size_t m = 0;
      for (std::size_t j = 0; j < c_.neuromodulators.size(); ++j) {
        if (c_.neuromodulators[j].name == rw.modulator) m = j;
      }
      auto pop = [&](const std::string& name) {
        return static_cast<std::uint32_t>(std::find(names_.begin(), names_.end(), name) -
                                          names_.begin());
      };
      triggers_.push_back(
          {m, rw.amount, pop(rw.pre_population), pop(rw.post_population),
           static_cast<NeuronIndex>(rw.pre_node), static_cast<NeuronIndex>(rw.post_node),
           grid_.delay_steps(rw.window_ms, "[[reward]] trigger.window"), rw.delay_ms,
           RandomStream(c_.simulation.seed,
                        stream_id(StreamKind::reward, static_cast<std::uint32_t>(k)), 0)});
    }
  }

  // External rewards: a file is read and scheduled now (like a schedule in
  // the config); a stream is polled between windows.
  void open_reward_input() {
    if (options_.reward_input.empty()) return;  // opened (and checked) before the build
    std::vector<RewardLine> lines;
    bool from_file = false;
    std::uint64_t hash = 0;
    together([&] {
      if (!reward_input_) return;  // not rank 0
      from_file = reward_input_->is_file();
      if (!from_file) return;
      hash = file_hash(options_.reward_input);
      lines = reward_input_->poll();
    });
    if (options_.comm->size() > 1) {
      std::uint64_t words[2] = {from_file ? 1u : 0u, hash};
      broadcast_rewards(lines, words);
      from_file = words[0] != 0;
      hash = words[1];
    }
    if (from_file) {
      // Its rewards become pulses of the neuromodulators, which a checkpoint
      // holds: a resumed run must not schedule the same file again.
      if (std::find(reward_files_.begin(), reward_files_.end(), hash) != reward_files_.end()) {
        throw UsageError(fmt::format(
            "--reward-input {}: the checkpointed run already scheduled this file's rewards (they "
            "are in the checkpoint); giving it again would deliver them twice",
            options_.reward_input));
      }
      schedule(lines);
      reward_files_.push_back(hash);
    } else {
      reward_poll_ = grid_.delay_steps(options_.reward_poll_ms, "--reward-poll");
    }
  }

  // What the reward stream has now, read by rank 0 and the same on every
  // rank; `at_end`: nothing more will come.
  std::vector<RewardLine> poll_rewards(bool* at_end) {
    std::vector<RewardLine> lines;
    std::uint64_t words[2] = {0, 0};
    together([&] {
      if (!reward_input_) return;  // not rank 0
      lines = reward_input_->poll();
      words[0] = reward_input_->at_end() ? 1 : 0;
    });
    if (options_.comm->size() > 1) broadcast_rewards(lines, words);
    *at_end = words[0] != 0;
    return lines;
  }

  // Rank 0's reward lines and two words of its own on every rank.
  void broadcast_rewards(std::vector<RewardLine>& lines, std::uint64_t (&words)[2]) {
    std::vector<std::byte> bytes;
    const auto put = [&](const void* p, std::size_t n) {
      const auto* b = static_cast<const std::byte*>(p);
      bytes.insert(bytes.end(), b, b + n);
    };
    put(words, sizeof words);
    for (const auto& l : lines) {
      const double time = l.time_ms.value_or(std::numeric_limits<double>::quiet_NaN());
      const std::uint64_t line = l.line, size = l.modulator.size();
      const std::uint8_t timed = l.time_ms ? 1 : 0;
      put(&timed, 1);
      put(&time, sizeof time);
      put(&l.amount, sizeof l.amount);
      put(&line, sizeof line);
      put(&size, sizeof size);
      put(l.modulator.data(), size);
    }
    options_.comm->broadcast(bytes);
    std::size_t at = 0;
    const auto get = [&](void* p, std::size_t n) {
      std::memcpy(p, bytes.data() + at, n);
      at += n;
    };
    get(words, sizeof words);
    lines.clear();
    while (at < bytes.size()) {
      RewardLine l;
      std::uint8_t timed = 0;
      double time = 0;
      std::uint64_t line = 0, size = 0;
      get(&timed, 1);
      get(&time, sizeof time);
      get(&l.amount, sizeof l.amount);
      get(&line, sizeof line);
      get(&size, sizeof size);
      l.modulator.assign(reinterpret_cast<const char*>(bytes.data() + at), size);
      at += size;
      if (timed) l.time_ms = time;
      l.line = line;
      lines.push_back(std::move(l));
    }
  }

  void schedule(const std::vector<RewardLine>& lines) {
    for (const auto& line : lines) {
      const std::string where =
          fmt::format("--reward-input {} line {}",
                      options_.reward_input == "-" ? "stdin" : options_.reward_input, line.line);
      std::vector<std::string> known;
      std::optional<std::size_t> m;
      for (std::size_t j = 0; j < c_.neuromodulators.size(); ++j) {
        known.push_back(c_.neuromodulators[j].name);
        if (known.back() == line.modulator) m = j;
      }
      if (!m) {
        throw DataError(fmt::format(
            "{}: unknown neuromodulator '{}'{}; defined: {}", where, quote_input(line.modulator),
            did_you_mean(line.modulator, known),
            known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", "))));
      }
      Step at = sim_->now() + 1;  // as soon as possible
      if (line.time_ms) {
        at = grid_.time_steps(*line.time_ms, where + " time");
        if (at <= sim_->now()) {
          throw DataError(
              fmt::format("{}: time {} ms is already simulated (the run is at {} ms); "
                          "give a later time, or none for 'as soon as possible'",
                          where, *line.time_ms, grid_.to_ms(sim_->now())));
        }
      }
      sim_->add_reward(*m, at, line.amount);
    }
  }

  // Control events that belong to this process, not to the saved state: the
  // poll of a reward stream, and checkpoints (at multiples of the interval).
  void add_periodic_events() {
    const Step now = sim_->now();
    if (reward_poll_ > 0)
      control_.push({now + reward_poll_, EventKind::record, kRewardPoll, 0, 0, 0});
    if (checkpoint_every_ > 0) {
      control_.push({(now / checkpoint_every_ + 1) * checkpoint_every_, EventKind::record,
                     kCheckpoint, 0, 0, 0});
    }
  }

  OutputLayout output_layout(std::string run_id) {
    OutputLayout layout;
    layout.path = c_.output.file;
    layout.run_id = std::move(run_id);
    spike_slot_.assign(names_.size(), -1);
    for (std::size_t q = 0; q < names_.size(); ++q) {
      if (!c_.populations[q].record_spikes) continue;
      spike_slot_[q] = static_cast<int>(layout.spikes.size());
      layout.spikes.push_back({names_[q], sizes_[q]});
    }
    for (const auto& pr : probes_) {
      layout.reports.push_back({pr.population, pr.variables, pr.units, pr.nodes,
                                grid_.to_ms(pr.start), grid_.to_ms(pr.interval), pr.name});
    }
    if (c_.output.write_edges) {
      for (std::size_t k = 0; k < proj_meta_.size(); ++k) {
        const auto [source, target] = proj_meta_[k].second;
        // Populations' sizes give the edges their indices; 0 gives none.
        const bool indexed = c_.output.write_edge_indices;
        layout.edges.push_back({proj_meta_[k].first, names_[source], names_[target],
                                projection_sizes_[k], false, indexed ? sizes_[source] : 0,
                                indexed ? sizes_[target] : 0});
      }
    }
    for (std::size_t r = 0; r < weight_records_.size(); ++r) {
      const auto& info = weight_records_[r];
      const auto& config = c_.weight_records[info.record];
      WeightSnapshotLayout w;
      w.name = config.name;
      w.projection = config.projection;
      w.count = recorders_[r].size();
      w.edge_ids = recorders_[r].edge_ids();
      const auto vars = sim_->synapse_variables(info.projection);
      for (const auto v : info.variables) w.variables.push_back(vars[v]);
      layout.weight_snapshots.push_back(std::move(w));
    }
    for (const auto& m : modulator_records_) {
      layout.modulators.push_back({sim_->network().modulators()[m.modulator].name()});
    }
    layout.tables = options_.tables;
    for (const auto& d : c_.detectors)
      layout.tables.push_back({"detectors/" + d.name, {"time_ms", "assembly", "level"}});
    layout.config_text = c_.resolved_toml;
    layout.command_line = options_.command_line;
    layout.version = SPIKELINE_VERSION;
    layout.seed = c_.simulation.seed;
    layout.threads = c_.simulation.threads;
    layout.dt_ms = grid_.dt();
    return layout;
  }

  // The run's own state besides the simulator's, both ways: the config it
  // was built from (read before the session exists, see resume()), the
  // output file's position, the triggers, the control events.
  void walk_run_state(StateArchive& a) {
    StateArchive::Scope scope(a, "run");
    if (writer_) position_ = writer_->position();
    text_field(a, "output/run_id", position_.run_id);
    a.value("output/simulated_ms", position_.simulated_ms);
    a.field("output/spikes", position_.spikes, true);
    a.field("output/frames", position_.frames, true);
    a.field("output/weight_samples", position_.weight_samples, true);
    a.field("output/modulator_samples", position_.modulator_samples, true);
    // The caller's tables (RunOptions::tables) and the detectors': only runs
    // that have them.
    if (!options_.tables.empty() || !detectors_.empty())
      a.field("output/table_rows", position_.table_rows, true);
    for (std::size_t k = 0; k < detectors_.size(); ++k) {
      std::vector<double> state = a.loading() ? std::vector<double>{} : detectors_[k].state();
      a.field(fmt::format("detectors/{}", k), state, true);
      if (a.loading()) detectors_[k].restore(state);
    }
    a.field("reward_files", reward_files_, true);
    for (std::size_t k = 0; k < triggers_.size(); ++k) {
      StateArchive::Scope t(a, fmt::format("triggers/{}", k));
      a.value("last_pre", triggers_[k].last_pre);
      a.value("fired", triggers_[k].fired);
      triggers_[k].rng.checkpoint(a);
    }
    // The control events, without those of this process (add_periodic_events).
    StateArchive::Scope control(a, "control");
    control_.checkpoint(
        a,
        [](const Event& e) {
          return !(e.kind == EventKind::record && (e.a == kRewardPoll || e.a == kCheckpoint));
        },
        [](const Event& e, std::uint8_t kind, const void* context) {
          const auto& self = *static_cast<const RunSession*>(context);
          const bool ok = kind == static_cast<std::uint8_t>(EventKind::flush) ||
                          (kind == static_cast<std::uint8_t>(EventKind::record) &&
                           ((e.a == kWeightRecord && e.b < self.recorders_.size()) ||
                            (e.a == kModulatorRecord && e.b < self.modulator_records_.size())));
          // An event of the checkpoint's own step may still be due (a flush
          // sorts after the checkpoint), never one before it.
          if (!ok || e.step < self.sim_->now()) {
            throw CheckpointError(fmt::format(
                "checkpoint: a control event (kind {}, {} {}, step {}) does not belong to this run",
                kind, e.a, e.b, e.step));
          }
        },
        this);
  }

  // The state of the caller that drives a Session (set_checkpoint_state).
  void walk_app_state(StateArchive& a) {
    if (!app_state_) return;
    StateArchive::Scope scope(a, "app");
    app_state_(a);
  }

  // Of several processes: each saves its simulator's fields (its own
  // partitions'), rank 0 the run's too (it has the file's position); rank 0
  // merges them (Simulator::gather_checkpoint) and writes the file. Every
  // rank reaches the one collective (a failure before it is kept, then
  // thrown), so the caller's together() agrees on the outcome.
  void save_checkpoint(bool check_state = false) {
    const bool several = options_.comm && options_.comm->size() > 1;
    MemoryArchive a;
    const std::exception_ptr failed = failure_of([&] {
      if (check_state) sim_->check_state();
      if (several && options_.comm->rank() != 0) {
        sim_->checkpoint(a);
        return;
      }
      save_fields(a);
    });
    if (several) {
      std::optional<MemoryArchive> merged = sim_->gather_checkpoint(a, failed == nullptr);
      if (failed) std::rethrow_exception(failed);
      if (!merged) return;  // not rank 0, or another rank failed (its error is the run's)
      a = std::move(*merged);
    } else if (failed) {
      std::rethrow_exception(failed);
    }
    write_checkpoint(options_.checkpoint_path, a, grid_.to_ms(sim_->now()));
  }

  // What one process saves: the run's fields and the simulator's.
  void save_fields(MemoryArchive& a) {
    if (writer_) {
      writer_->set_simulated_time(grid_.to_ms(sim_->now()));
      writer_->flush();  // the checkpoint records what the file holds
    }
    std::string config = c_.resolved_toml, source = c_.source;
    std::string base = c_.base_dir, output = absolute(c_.output.file);
    text_field(a, "run/config/text", config);
    text_field(a, "run/config/source", source);
    text_field(a, "run/config/base_dir", base);
    text_field(a, "run/config/output", output);
    std::string path = absolute(options_.checkpoint_path);
    text_field(a, "run/checkpoint/path", path);
    a.value("run/checkpoint/every", checkpoint_every_);
    a.value("run/stop", stop_);
    a.value("run/fingerprint", fingerprint_);
    std::string plugins = plugin_provenance(c_, *registry_);
    text_field(a, "run/plugins", plugins);
    sim_->checkpoint(a);
    walk_run_state(a);
    walk_app_state(a);
  }

  void finish() {
    result_.simulated_ms = grid_.to_ms(sim_->now());
    const double seconds = result_.simulated_ms / 1000.0;
    for (std::size_t q = 0; q < names_.size(); ++q) {
      const auto n = sim_->spike_counts()[q];
      result_.populations.push_back(
          {names_[q], sizes_[q], n,
           seconds > 0 ? static_cast<double>(n) / (seconds * static_cast<double>(sizes_[q])) : 0});
    }
    sim_->sync_plasticity();  // lazily updated plastic weights, current at the end
    for (const auto& m : sim_->network().modulators()) {
      result_.rewards.emplace_back(m.name(), m.first_after(sim_->now()));
    }
    if (options_.comm->size() > 1 && options_.comm->broken() == ExitCode::ok &&
        c_.output.write_edges && !c_.output.file.empty()) {
      gather_edges();
    }
    if (writer_) {
      try {
        finish_output();
      } catch (const Error& e) {
        // A failure of the last writes (a full disk): the run itself ended,
        // its output did not.
        fail(e.code(), e.what());
      }
    }
    result_.total_s = seconds_since(t_start_);
  }

  // The run failed (a first failure is kept: the later ones follow from it).
  void fail(ExitCode code, const std::string& message) {
    if (result_.status == "failed") return;
    result_.status = "failed";
    result_.code = code;
    result_.message = message;
  }

  // The final synapses of every process, written by rank 0 in canonical
  // order (by source; for one source, the processes' synapses in rank
  // order, as their partitions come): a range of sources at a time, about
  // kEdgesPerWrite synapses, so that rank 0 never holds a whole projection.
  // Every process takes part to the end, even after rank 0 failed to write
  // (it then stops writing; the failure is the run's).
  void gather_edges() {
    Communicator& comm = *options_.comm;
    for (std::size_t k = 0; k < proj_meta_.size(); ++k) {
      const Connectivity& conn = sim_->connectivity(k);
      const std::uint64_t n_source = conn.source_size();
      const std::uint64_t per_source =
          std::max<std::uint64_t>(1, projection_sizes_[k] / std::max<std::uint64_t>(1, n_source));
      const std::uint64_t step = std::max<std::uint64_t>(1, io::kEdgesPerWrite / per_source);
      std::vector<SynapseRecord> mine;
      std::vector<std::uint64_t> src, tgt;
      std::vector<float> delay, weight;
      std::uint64_t first = 0;
      for (std::uint64_t s0 = 0; s0 < n_source; s0 += step) {
        const auto s1 = std::min(n_source, s0 + step);
        mine.clear();
        conn.for_each_canonical([&](const SynapseRecord& r) { mine.push_back(r); },
                                static_cast<NeuronIndex>(s0), static_cast<NeuronIndex>(s1));
        std::vector<std::size_t> counts;
        const auto all = gather_records(comm, std::span<const SynapseRecord>(mine), counts);
        if (!writer_ || result_.status == "failed") continue;
        // Merged by source, stable by rank.
        std::vector<std::size_t> at(counts.size()), end(counts.size());
        for (std::size_t r = 0, sum = 0; r < counts.size(); sum += counts[r], ++r) {
          at[r] = sum;
          end[r] = sum + counts[r];
        }
        src.clear();
        tgt.clear();
        delay.clear();
        weight.clear();
        for (auto s = s0; s < s1; ++s) {
          for (std::size_t r = 0; r < counts.size(); ++r) {
            for (; at[r] < end[r] && all[at[r]].source == s; ++at[r]) {
              const SynapseRecord& e = all[at[r]];
              src.push_back(e.source);
              tgt.push_back(e.target);
              delay.push_back(static_cast<float>(grid_.to_ms(e.delay)));
              weight.push_back(e.weight);
            }
          }
        }
        try {
          writer_->write_edges(k, first, src, tgt, delay, weight);
        } catch (const Error& e) {
          fail(e.code(), e.what());
        }
        first += weight.size();
      }
    }
  }

  void finish_output() {
    for (std::size_t k = 0;
         c_.output.write_edges && options_.comm->size() == 1 && k < proj_meta_.size(); ++k) {
      try {
        write_edges(*writer_, k, sim_->connectivity(k), grid_);
      } catch (const std::bad_alloc&) {
        // The file is still finished below, marked failed, with what it holds.
        fail(ExitCode::software,
             fmt::format("out of memory while writing the final weights of projection '{}' "
                         "({} synapses; needs about {} MiB of buffers beside the synapse "
                         "tables); the output keeps everything else",
                         proj_meta_[k].first, sim_->connectivity(k).size(),
                         io::kEdgeWriteBytes >> 20));
        break;
      }
    }
    result_.total_s = seconds_since(t_start_);
    result_.peak_rss_bytes = read_peak_rss();
    writer_->set_simulated_time(result_.simulated_ms);
    writer_->finish(result_.status == "complete" ? RunStatus::complete
                    : result_.status == "failed" ? RunStatus::failed
                                                 : RunStatus::interrupted,
                    result_.summary_json());
  }

  // The caller's registry, or a copy of it with the config's plugins.
  static const Registry* with_plugins(const Config& c, const Registry& registry,
                                      std::unique_ptr<Registry>& own) {
    if (c.plugins.empty()) return &registry;
    own = std::make_unique<Registry>(registry);
    plugin::load_plugins(c.plugins, *own);  // those the caller loaded are not loaded twice
    return own.get();
  }

  std::unique_ptr<Registry> own_registry_;  // before c_ and registry_: set by with_plugins
  Config c_;
  const Registry* registry_;
  std::map<std::size_t, ParamMap> changed_params_;
  std::map<std::string, ParamMap> changed_stimuli_;
  RunOptions options_;
  Clock::time_point t_start_;
  TimeGrid grid_{0.1};
  Step stop_ = 0, flush_every_ = 1, checkpoint_every_ = 0, reward_poll_ = 0;
  bool initial_frames_due_ = false;  // frames of the initial state (start(), then execute())
  std::uint64_t fingerprint_ = 0;
  std::vector<std::uint64_t> reward_files_;  // content hashes of --reward-input files scheduled
  std::vector<ProbeInfo> probes_;
  std::vector<WeightRecordInfo> weight_records_;
  std::vector<ModulatorRecordInfo> modulator_records_;
  std::vector<std::string> names_;
  std::vector<std::uint64_t> sizes_;
  std::vector<std::pair<std::string, std::pair<std::uint32_t, std::uint32_t>>> proj_meta_;
  std::vector<std::uint64_t> projection_sizes_;  // synapses in all processes
  std::unique_ptr<Simulator> sim_;
  std::vector<RewardTrigger> triggers_;
  std::vector<WeightRecorder> recorders_;
  std::optional<RewardInput> reward_input_;
  std::optional<SonataWriter> writer_;
  std::vector<int> spike_slot_;
  OutputPosition position_;
  EventQueue control_;
  RunResult result_;
  std::optional<RunObserver> obs_;
  std::optional<Recording> memory_;
  Step last_checkpoint_ = -1;
  bool ended_ = false;
  std::function<void(std::span<const SpikeRecord>)> listener_;
  std::function<void(StateArchive&)> app_state_;
  // [[detector]]s: each one's detector and population; the observer's
  // hook feeds them, then the caller's listener.
  std::vector<encoding::AssemblyDetector> detectors_;
  std::vector<std::uint32_t> detector_population_;
  std::vector<encoding::Ignition> ignitions_;
  std::vector<std::uint32_t> step_neurons_;
  std::function<void(std::span<const SpikeRecord>)> spike_hook_;

 public:
  // What Session's input, feedback and checkpoint calls reach.
  void set_listener(std::function<void(std::span<const SpikeRecord>)> f) {
    listener_ = std::move(f);
  }
  void set_app_state(std::function<void(StateArchive&)> f) { app_state_ = std::move(f); }
  void append_row(std::size_t table, std::span<const double> row) {
    if (table >= options_.tables.size()) {
      throw UsageError(fmt::format("append_row: table {} of {}", table, options_.tables.size()));
    }
    if (writer_) writer_->append_row(table, row);
  }
  void checkpoint_here() {
    if (options_.checkpoint_path.empty())
      throw UsageError("checkpoint: no checkpoint file was given");
    save_checkpoint();
    last_checkpoint_ = sim_->now();
  }
};

RunResult run(const Config& c, const Registry& registry, const RunOptions& options) {
  RunSession session(c, registry, options, RunSession::Start::fresh);
  session.start();
  return session.execute();
}

namespace {

// The checkpoint, on every process of the run: rank 0 reads it (checksum
// checked) and sends the fields to the others, so that the file is opened
// once and a failure to read it is every rank's (agreed).
MemoryArchive read_on_rank_0(const std::string& checkpoint, Communicator* comm) {
  if (!comm || comm->size() == 1) return read_checkpoint(checkpoint);
  MemoryArchive a;
  std::vector<std::byte> bytes;
  std::exception_ptr failed;
  if (comm->rank() == 0) {
    failed = failure_of([&] {
      a = read_checkpoint(checkpoint);
      bytes = to_bytes(a);
    });
  }
  agree(*comm, failed, static_cast<std::uint64_t>(comm->rank()));
  comm->broadcast(bytes);
  if (comm->rank() != 0) {
    a = archive_from_bytes(bytes);
    a.set_loading(true);
  }
  return a;
}

}  // namespace

RunResult resume(const std::string& checkpoint, const Registry& registry,
                 const ResumeOptions& options, std::string* output_path) {
  MemoryArchive a = read_on_rank_0(checkpoint, options.run.comm.get());
  // The partitions are the checkpoint's; each process needs one at least.
  if (const int ranks = options.run.comm ? options.run.comm->size() : 1; ranks > 1) {
    std::uint32_t partitions = 0;
    a.value("simulator/partition_count", partitions);
    if (static_cast<unsigned>(ranks) > partitions) {
      throw UsageError(fmt::format(
          "resume {}: the checkpoint has {} partitions, fewer than the {} MPI ranks (mpirun -np "
          "{}): each rank needs at least one partition; resume with at most {} ranks (the "
          "partitioning is part of the checkpointed state)",
          checkpoint, partitions, ranks, ranks, partitions));
    }
  }
  // The config first: the session is built from it, then restored.
  std::string text, source, base, output, path;
  text_field(a, "run/config/text", text);
  text_field(a, "run/config/source", source);
  text_field(a, "run/config/base_dir", base);
  text_field(a, "run/config/output", output);
  text_field(a, "run/checkpoint/path", path);
  Step every = 0;
  a.value("run/checkpoint/every", every);
  Config c = parse_config(text, source);
  resolve_input_paths(c, base);
  c.output.file = output;
  if (output_path) *output_path = output;
  // The partitioning is part of the state: the checkpointed run's, whatever
  // the threads now.
  c.simulation.partitions_given = true;
  if (options.threads != 0) c.simulation.threads = options.threads;

  RunOptions ro = options.run;
  ro.output_on_command_line = false;  // the checkpointed run's output file
  ro.checkpoint_on_command_line = !ro.checkpoint_path.empty();
  if (ro.checkpoint_path.empty()) ro.checkpoint_path = path;
  const TimeGrid grid(c.simulation.dt_ms);
  if (!options.checkpoint_every_given) ro.checkpoint_every_ms = grid.to_ms(every);
  double simulated = 0;
  {
    // The checkpoint's time, for the duration check below.
    Step now = 0;
    a.value("simulator/now", now);
    simulated = grid.to_ms(now);
  }
  // The end: --duration, else where the checkpointed run was going (an
  // earlier resume's --duration included).
  Step end = 0;
  a.value("run/stop", end);
  c.simulation.duration_ms = options.duration_ms != 0 ? options.duration_ms : grid.to_ms(end);
  if (!(c.simulation.duration_ms > simulated)) {
    throw UsageError(fmt::format(
        "resume {}: the run is already at {} ms, its end is {} ms: give a later end with "
        "--duration",
        checkpoint, simulated, c.simulation.duration_ms));
  }
  RunSession session(std::move(c), registry, ro, RunSession::Start::resume);
  session.restore(a, checkpoint);
  return session.execute();
}

Session::Session(Config config, const Registry& registry, RunOptions options)
    : impl_(std::make_unique<RunSession>(std::move(config), registry, std::move(options),
                                         RunSession::Start::fresh)) {
  impl_->start();
}
Session::Session(std::unique_ptr<RunSession> impl) : impl_(std::move(impl)) {}

Session Session::resume(io::Config config, const Registry& registry, RunOptions options,
                        const std::string& checkpoint, std::function<void(StateArchive&)> walk) {
  MemoryArchive a = read_checkpoint(checkpoint);
  auto impl = std::make_unique<RunSession>(std::move(config), registry, std::move(options),
                                           RunSession::Start::resume);
  impl->set_app_state(std::move(walk));
  impl->restore(a, checkpoint);
  return Session(std::move(impl));
}

Session::~Session() {
  // A session dropped without end() still leaves a finished file.
  if (impl_ && !impl_->ended()) {
    try {
      impl_->end();
    } catch (...) {  // a destructor must not throw; end() records its failures
    }
  }
}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

void Session::record_in_memory() {
  if (!impl_->recording()) impl_->record_in_memory();
}
const std::optional<Recording>& Session::recording() const {
  return impl_->recording();
}

bool Session::run_until(Step until) {
  if (impl_->ended()) throw UsageError("the run has ended: no more simulation after end()");
  if (until <= impl_->now()) {
    throw UsageError(fmt::format("run until {} ms: the run is already at {} ms",
                                 impl_->grid().to_ms(until), impl_->grid().to_ms(impl_->now())));
  }
  impl_->resume_after_stop();
  const bool completed = impl_->advance(until);
  const RunResult& r = impl_->result();
  if (r.status == "failed") {
    const RunResult ended = impl_->end();
    throw Error(ended.code, ended.message);
  }
  return completed;
}
Step Session::now() const {
  return impl_->now();
}
const TimeGrid& Session::grid() const {
  return impl_->grid();
}
void Session::request_stop() {
  impl_->request_stop();
}
const std::vector<std::string>& Session::population_names() const {
  return impl_->population_names();
}
const std::vector<std::uint64_t>& Session::population_sizes() const {
  return impl_->population_sizes();
}
std::vector<std::string> Session::projection_names() const {
  std::vector<std::string> out;
  for (const auto& p : impl_->simulator().network().projections()) out.push_back(p.name);
  return out;
}

namespace {
std::size_t variable_index(const Population& pop, const std::string& population,
                           const std::string& variable) {
  const auto vars = pop.state_vars();
  std::vector<std::string> names;
  for (std::size_t v = 0; v < vars.size(); ++v) {
    if (vars[v].name == variable) return v;
    names.push_back(vars[v].name);
  }
  throw ConfigError(
      fmt::format("population '{}' has no state variable '{}'{}; it has: {}", population, variable,
                  did_you_mean(variable, names),
                  names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
}

void check_index(std::size_t k, std::size_t n, const char* what) {
  if (k >= n) {
    throw ConfigError(
        fmt::format("{} index {} is out of range: valid is 0 to {}", what, k, n == 0 ? 0 : n - 1));
  }
}
}  // namespace

std::vector<double> Session::state(std::size_t population, const std::string& variable) const {
  const auto& pops = impl_->simulator().network().populations();
  check_index(population, pops.size(), "population");
  const Population& pop = *pops[population].population;
  const std::size_t v = variable_index(pop, pops[population].name, variable);
  std::vector<double> out(pop.size());
  for (NeuronIndex i = 0; i < pop.size(); ++i) out[i] = pop.state(v, i, impl_->now());
  return out;
}

void Session::set_state(std::size_t population, const std::string& variable,
                        std::span<const double> values) {
  const auto& pops = impl_->simulator().network().populations();
  check_index(population, pops.size(), "population");
  Population& pop = *pops[population].population;
  const std::string& name = pops[population].name;
  const std::size_t v = variable_index(pop, name, variable);
  if (impl_->simulator().mode(population) != UpdateMode::stepped && impl_->now() > 0) {
    // An event-driven model holds each neuron's state as of its last event.
    throw UsageError(fmt::format(
        "population '{}' is updated event by event: its state can be set before the first run "
        "only",
        name));
  }
  if (values.size() != pop.size()) {
    throw ConfigError(fmt::format("{} of population '{}': {} values for {} neurons", variable, name,
                                  values.size(), pop.size()));
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw ConfigError(fmt::format("{} of neuron {} of population '{}' = {}: must be finite",
                                    variable, i, name, values[i]));
    }
  }
  for (NeuronIndex i = 0; i < pop.size(); ++i) pop.set_state(v, i, values[i]);
}

std::vector<SynapseRecord> Session::synapses(std::size_t projection) {
  Simulator& sim = impl_->simulator();
  check_index(projection, sim.network().projections().size(), "projection");
  sim.sync_plasticity();
  return sim.connectivity(projection).canonical();
}

namespace {
// `base` with the values of `changes` put in (names checked against m's).
ParamMap merged_params(const ModelInfo& m, const ParamMap& base, const ParamMap& changes) {
  ParamMap named(base.owner());
  for (const auto& name : changes.names()) named.set(name, *changes.find(name));
  Registry::check_param_names(m, named);
  ParamMap out = base;
  for (const auto& name : changes.names()) out.set(name, *changes.find(name));
  return out;
}

// Every parameter of m: its value in `p`, else its default.
std::vector<std::pair<std::string, ParamValue>> params_in_force(const ModelInfo& m,
                                                                const ParamMap& p) {
  std::vector<std::pair<std::string, ParamValue>> out;
  for (const auto& info : m.params) {
    if (const ParamValue* v = p.find(info.name))
      out.emplace_back(info.name, *v);
    else if (!std::isnan(info.default_value))
      out.emplace_back(info.name, info.default_value);
    else
      out.emplace_back(info.name, info.default_text);
  }
  return out;
}

std::size_t stimulus_index(const io::Config& c, const std::string& name) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < c.stimuli.size(); ++k) {
    if (c.stimuli[k].name == name) return k;
    names.push_back(c.stimuli[k].name);
  }
  throw ConfigError(
      fmt::format("unknown stimulus '{}'{}; the config has: {}", name, did_you_mean(name, names),
                  names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
}
}  // namespace

void Session::set_params(std::size_t population, const ParamMap& changes) {
  if (impl_->ended()) throw UsageError("the run has ended: no more changes after end()");
  const auto& c = impl_->config();
  const auto& pops = impl_->simulator().network().populations();
  check_index(population, pops.size(), "population");
  const auto& pc = c.populations[population];
  const ModelInfo& m = impl_->registry().get(pc.model, fmt::format("population '{}'", pc.name));
  if (!m.make_population) {
    throw UsageError(fmt::format("population '{}' ({}): the model has no parameters to change",
                                 pc.name, pc.model));
  }
  auto& changed = impl_->changed_params();
  const auto it = changed.find(population);
  ParamMap base = it != changed.end() ? it->second : io::population_params(c, population);
  // New spike times replace the old ones, whether these came as a list or
  // a file (spike_generator takes one of the two).
  for (const auto& [given, other] : {std::pair{"spike_times", "spike_times_file"},
                                     std::pair{"spike_times_file", "spike_times"}}) {
    if (!changes.has(given) || !base.has(other)) continue;
    ParamMap kept(base.owner());
    for (const auto& name : base.names())
      if (name != other) kept.set(name, *base.find(name));
    base = std::move(kept);
  }
  ParamMap next = merged_params(m, base, changes);
  const ModelContext ctx{
      pc.name,           static_cast<std::size_t>(pc.size),     next, impl_->grid(),
      c.simulation.seed, static_cast<std::uint32_t>(population)};
  impl_->simulator().replace_population(population, m.make_population(ctx));
  changed[population] = std::move(next);
}

std::vector<std::pair<std::string, ParamValue>> Session::params(std::size_t population) const {
  const auto& c = impl_->config();
  check_index(population, c.populations.size(), "population");
  const auto& pc = c.populations[population];
  const ModelInfo& m = impl_->registry().get(pc.model, fmt::format("population '{}'", pc.name));
  const auto& changed = impl_->changed_params();
  const auto it = changed.find(population);
  return params_in_force(m,
                         it != changed.end() ? it->second : io::population_params(c, population));
}

void Session::set_stimulus(const std::string& name, const ParamMap& changes) {
  if (impl_->ended()) throw UsageError("the run has ended: no more changes after end()");
  const auto& c = impl_->config();
  const auto& sc = c.stimuli[stimulus_index(c, name)];
  const ModelInfo& m = impl_->registry().get(sc.model, fmt::format("stimulus '{}'", sc.name));
  auto& changed = impl_->changed_stimuli();
  const auto it = changed.find(name);
  ParamMap next = merged_params(m, it != changed.end() ? it->second : sc.params, changes);
  Simulator& sim = impl_->simulator();
  const auto& net = sim.network();
  if (m.make_drive) {
    const PoissonDrive drive = m.make_drive(next, impl_->grid());  // checks first
    for (std::size_t k = 0; k < net.poisson_inputs().size(); ++k)
      if (net.poisson_inputs()[k].name == name) sim.set_poisson_drive(k, drive);
  } else if (m.make_wave) {
    for (std::size_t k = 0; k < net.stimuli().size(); ++k) {
      if (net.stimuli()[k].name != name) continue;
      const WaveContext ctx{net.seed(), static_cast<std::uint32_t>(k)};
      sim.set_stimulus_wave(k, m.make_wave(next, impl_->grid(), ctx));  // checks first
    }
  } else {
    auto schedule = m.make_stimulus(next, impl_->grid());
    for (std::size_t k = 0; k < net.stimuli().size(); ++k)
      if (net.stimuli()[k].name == name) sim.set_stimulus_changes(k, schedule);
  }
  changed[name] = std::move(next);
}

std::vector<std::pair<std::string, ParamValue>> Session::stimulus_params(
    const std::string& name) const {
  const auto& c = impl_->config();
  const auto& sc = c.stimuli[stimulus_index(c, name)];
  const ModelInfo& m = impl_->registry().get(sc.model, fmt::format("stimulus '{}'", sc.name));
  const auto& changed = impl_->changed_stimuli();
  const auto it = changed.find(name);
  return params_in_force(m, it != changed.end() ? it->second : sc.params);
}

std::vector<std::string> Session::stimulus_names() const {
  std::vector<std::string> out;
  for (const auto& s : impl_->config().stimuli) out.push_back(s.name);
  return out;
}

void Session::set_weights(std::size_t projection, std::span<const double> weights) {
  Simulator& sim = impl_->simulator();
  const auto& projections = sim.network().projections();
  check_index(projection, projections.size(), "projection");
  const std::string& name = projections[projection].name;
  Connectivity& conn = sim.connectivity_for_update(projection);
  if (weights.size() != conn.size()) {
    throw ConfigError(fmt::format("weights of projection '{}': {} values for {} synapses", name,
                                  weights.size(), conn.size()));
  }
  for (std::size_t k = 0; k < weights.size(); ++k) {
    const double w = weights[k];
    if (!std::isfinite(w) || std::abs(w) > std::numeric_limits<float>::max()) {
      throw ConfigError(fmt::format(
          "weight of synapse {} of projection '{}' = {}: must be finite and fit a float32", k, name,
          w));
    }
  }
  if (const auto* rule = sim.plasticity(projection)) {
    const auto [lo, hi] = std::minmax_element(weights.begin(), weights.end());
    if (lo != weights.end()) rule->check_weights(*lo, *hi, name);
  }
  sim.sync_plasticity();  // lazily updated weights first, or they would overwrite these
  const auto locations = conn.canonical_locations();
  for (std::size_t k = 0; k < weights.size(); ++k) {
    conn.block(locations[k].part).weight[locations[k].index] = static_cast<float>(weights[k]);
  }
  sim.weights_replaced(projection);
}

void Session::clamp(std::size_t population, Step step, NeuronIndex neuron) {
  Simulator& sim = impl_->simulator();
  check_index(population, sim.network().populations().size(), "population");
  sim.clamp(population, step, neuron);
}

void Session::add_reward(const std::string& modulator, Step step, double amount) {
  Simulator& sim = impl_->simulator();
  const auto& mods = sim.network().modulators();
  std::vector<std::string> names;
  for (std::size_t k = 0; k < mods.size(); ++k) {
    if (mods[k].name() == modulator) {
      if (!std::isfinite(amount)) {
        throw DataError(
            fmt::format("reward of neuromodulator '{}' = {}: must be finite", modulator, amount));
      }
      sim.add_reward(k, step, amount);
      return;
    }
    names.push_back(mods[k].name());
  }
  throw ConfigError(
      fmt::format("unknown neuromodulator '{}'{}; the config defines: {}", modulator,
                  did_you_mean(modulator, names),
                  names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
}

void Session::set_spike_listener(std::function<void(std::span<const SpikeRecord>)> listener) {
  impl_->set_listener(std::move(listener));
}

void Session::append_row(std::size_t table, std::span<const double> row) {
  impl_->append_row(table, row);
}

void Session::set_checkpoint_state(std::function<void(StateArchive&)> walk) {
  impl_->set_app_state(std::move(walk));
}

void Session::checkpoint() {
  if (impl_->ended()) throw UsageError("the run has ended: no checkpoint after end()");
  impl_->checkpoint_here();
}

RunResult Session::end() {
  return impl_->end();
}
bool Session::ended() const {
  return impl_->ended();
}

}  // namespace spikeline::app
