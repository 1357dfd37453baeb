#include "spikeline/engine/simulator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <thread>
#include <utility>

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/random.hpp"
#include "spikeline/engine/state_archive.hpp"
#include "step_team.hpp"

namespace spikeline {

namespace {
// Window length when the network has no projection (nothing to exchange): it
// only sets how often observers hear from the simulation.
constexpr Step kWindowWithoutProjections = 100;
}  // namespace

// The threads a run uses. The global_control lifts oneTBB's default cap at
// the number of cores, so that --threads 4 on two cores means four threads
// (the determinism tests rely on it); it lasts as long as the simulator.
struct Simulator::Arena {
  explicit Arena(int threads)
      : control(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads)),
        arena(threads) {}
  tbb::global_control control;
  tbb::task_arena arena;
};

struct Simulator::Partition {
  unsigned index = 0;
  EventQueue queue;
  std::vector<IndexRange> ranges;                       // per population
  std::vector<std::vector<NeuronIndex>> touched;        // per population (event-driven only)
  std::vector<std::vector<NeuronIndex>> stim_neurons;   // per stimulus: its neurons here
  std::vector<std::vector<NeuronIndex>> drive_neurons;  // per Poisson input: its neurons here
  std::vector<double> drive_uniform;                    // scratch: one step's first uniforms
  struct ProbeColumn {
    std::uint32_t column;
    NeuronIndex neuron;
    std::size_t variable;
  };
  std::vector<std::vector<ProbeColumn>> probe_columns;  // per probe
  std::vector<NeuronIndex> emitted;
  // Clamped neurons per population at the current step (clamp events).
  std::vector<std::vector<NeuronIndex>> clamped;
  std::vector<float> dropout_scale;  // scratch: one step's input-dropout scales
  std::vector<SpikeRecord> spikes;   // this window
  // Spike deliveries due in the next ring.size() steps, bucketed by arrival
  // step modulo the ring size (a calendar queue: O(1) per delivery).
  struct Delivery {
    std::uint32_t projection;
    std::uint32_t group;
  };
  std::vector<std::vector<Delivery>> ring;
  // For plastic projections: each owned target's incoming synapses (index
  // into the block) and their delay groups, so a postsynaptic spike can
  // visit them. Indexed by projection; empty for static ones.
  struct Incoming {
    NeuronIndex first = 0;
    std::vector<std::uint32_t> ptr;
    std::vector<std::uint32_t> synapse;
    std::vector<std::uint32_t> group;
  };
  std::vector<Incoming> incoming;
  // Per projection: the sources with synapses here, one bit each, tested
  // before a spike's row is read (Simulator::enqueue); empty where the
  // rows are dense (source_bits).
  std::vector<std::vector<std::uint64_t>> sources;
};

// Sampling plan of one probe in the current window.
struct Simulator::ProbeWindow {
  std::int64_t first_sample = 0;  // index m of the first sample in the window
  std::int64_t rows = 0;
  std::size_t columns = 0;
};

namespace {
SimulationOptions resolved(SimulationOptions o) {
  if (!o.comm) o.comm = std::make_shared<SerialCommunicator>();
  // (threads is checked below: an invalid count must not fail here first)
  if (o.partitions == 0) {
    o.partitions = static_cast<unsigned>(std::clamp(o.threads, 1, 1024)) *
                   static_cast<unsigned>(std::max(o.comm->size(), 1));
  }
  return o;
}

// A bitmap is kept where at most this share of the sources have synapses
// in the block. Filing then reads a bit (n_source / 8 bytes, which stay in
// cache) instead of two entries of the row (4 bytes per source, which miss
// it); where most sources have synapses the test saves little and costs a
// load and a branch per spike and projection: bitmaps on every block of
// COBA 64,000 at 16 and 32 partitions, where 39 to 98 % of a block's
// sources have synapses in it, ran 1.09x and 1.15x the loop time without
// (bench/results/file_spikes.md).
constexpr std::size_t kSparseNumerator = 1, kSparseDenominator = 2;

// The sources with at least one delay group in `blk`: bit s % 64 of word
// s / 64. Empty when the block is empty (its row is, and filing skips it
// on that) or when `mode` says no bitmap here.
std::vector<std::uint64_t> source_bits(const SynapseBlock& blk,
                                       SimulationOptions::SourceBitmaps mode) {
  using Mode = SimulationOptions::SourceBitmaps;
  if (blk.row.empty() || mode == Mode::never) return {};
  const std::size_t n = blk.row.size() - 1;
  std::vector<std::uint64_t> bits((n + 63) / 64, 0);
  std::size_t with = 0;
  for (std::size_t s = 0; s < n; ++s) {
    if (blk.row[s] == blk.row[s + 1]) continue;
    bits[s / 64] |= std::uint64_t{1} << (s % 64);
    ++with;
  }
  if (mode == Mode::automatic && with * kSparseDenominator > n * kSparseNumerator) return {};
  return bits;
}

// False when `bits` is a bitmap without source s (true without a bitmap).
inline bool may_have(const std::vector<std::uint64_t>& bits, NeuronIndex s) {
  return bits.empty() || ((bits[s / 64] >> (s % 64)) & 1) != 0;
}

// One spike as it travels between processes (8 bytes): the neuron's global
// id (population base + index) and its step after the window's start.
struct WireSpike {
  std::uint32_t gid;
  std::uint32_t step_offset;  // step - t0 - 1, in [0, window)
};
}  // namespace

void check_stop(const volatile std::sig_atomic_t* stop, const char* what) {
  if (stop == nullptr) return;
  const int sig = *stop;
  if (sig == 0) return;
  throw Error(sig == SIGINT ? ExitCode::interrupted : ExitCode::terminated,
              fmt::format("stopped by signal {} while {}", sig, what));
}

Simulator::Simulator(Network network, SimulationOptions options)
    : network_(std::move(network)),
      options_(resolved(std::move(options))),
      parts_(options_.partitions),
      comm_(options_.comm) {
  if (options_.threads < 1 || options_.threads > 1024) {
    throw ConfigError(
        fmt::format("threads = {} is out of range: valid is 1 to 1024", options_.threads));
  }
  const int ranks = comm_->size();
  if (parts_.count() < static_cast<unsigned>(ranks)) {
    throw ConfigError(fmt::format(
        "simulation.partitions = {} is fewer than the {} MPI ranks: each rank needs at least one "
        "partition; give at least {}, or leave it unset (one per thread per rank)",
        parts_.count(), ranks, ranks));
  }
  placement_ = place(parts_.count(), comm_->rank(), ranks);
  gid_base_.assign(1, 0);
  for (const auto& p : network_.populations())
    gid_base_.push_back(gid_base_.back() + p.population->size());
  if (ranks > 1 && gid_base_.back() > std::numeric_limits<std::uint32_t>::max()) {
    throw ConfigError(fmt::format(
        "the network has {} neurons; a run of several processes supports at most {} (32-bit "
        "neuron ids in the spike exchange)",
        gid_base_.back(), std::numeric_limits<std::uint32_t>::max()));
  }
  if (!(options_.max_rate_hz >= 0) || !(options_.wall_limit_s >= 0) ||
      !(options_.guard_interval_ms > 0)) {
    throw ConfigError(
        "guards: max_rate, wall_limit and guard_interval must be >= 0 (interval > 0)");
  }
  arena_ = std::make_unique<Arena>(options_.threads);
  lay_out_projections();
  if (options_.window_steps < 0 || options_.window_steps > window_) {
    throw Error(ExitCode::usage,
                fmt::format("window_steps = {} is outside [0, {}]: a window spans at most the "
                            "shortest delay, {} steps (0: that)",
                            options_.window_steps, window_, window_));
  }
  window_steps_ = options_.window_steps > 0 ? options_.window_steps : window_;
  using Overlap = SimulationOptions::Overlap;
  overlap_ = window_steps_ >= 2 && (options_.overlap == Overlap::always ||
                                    (options_.overlap == Overlap::automatic && comm_->size() > 1));
  choose_update_modes();
  make_inputs();
  make_partitions();
  bind_plasticity();
  const std::size_t n_pop = network_.populations().size();
  for (auto& set : probe_sets_) {
    set.plan.resize(network_.probes().size());
    set.frames.resize(network_.probes().size());
  }
  spike_counts_.assign(n_pop, 0);
  guard_counts_.assign(n_pop, 0);
  seed_queues();
}

// The synapses onto this process's partitions of a rule drawn source by
// source: this process draws sources [r*n/K, (r+1)*n/K) and sends each
// synapse to the process that owns its target's partition; what arrives is
// kept in sender order. Senders hold ascending ranges of sources and send in
// drawing order, so the list is the whole projection's order restricted to
// this process's targets: the order the layout needs (bit-identical to one
// process). O(E/K) draws and memory per process; every synapse crosses the
// network once, at build.
std::vector<SynapseRecord> Simulator::draw_by_source(const SynapseSource& source,
                                                     std::size_t n_source, std::size_t n_target) {
  const auto ranks = static_cast<std::size_t>(comm_->size());
  const auto me = static_cast<std::size_t>(comm_->rank());
  std::vector<std::vector<std::byte>> to(ranks), from;
  const auto first = static_cast<NeuronIndex>(me * n_source / ranks);
  const auto last = static_cast<NeuronIndex>((me + 1) * n_source / ranks);
  const auto failure = failure_of([&] {
    source.generate_sources(first, last, [&](std::span<const SynapseRecord> records) {
      check_stop(options_.stop_signal, "building the network");
      for (const auto& r : records) {
        // A target out of range is refused by the layout (on its owner);
        // here it only must not pick a process that does not exist.
        const auto t = std::min<std::size_t>(r.target, n_target == 0 ? 0 : n_target - 1);
        const auto owner = static_cast<std::size_t>(rank_of(
            parts_.part_of(n_target, static_cast<NeuronIndex>(t)), parts_.count(), comm_->size()));
        const auto* b = reinterpret_cast<const std::byte*>(&r);
        to[owner].insert(to[owner].end(), b, b + sizeof r);
      }
    });
  });
  agree(*comm_, failure, me);
  comm_->alltoallv(to, from);
  std::vector<SynapseRecord> kept;
  std::size_t total = 0;
  for (const auto& bytes : from) total += bytes.size() / sizeof(SynapseRecord);
  kept.resize(total);
  std::size_t at = 0;
  for (const auto& bytes : from) {
    if (bytes.empty()) continue;
    std::memcpy(kept.data() + at, bytes.data(), bytes.size());
    at += bytes.size() / sizeof(SynapseRecord);
  }
  return kept;
}

void Simulator::lay_out_projections() {
  auto& pops = network_.populations();
  const std::size_t n_pop = pops.size();
  // Lay out every projection's synapses for the partitioning. Projections
  // are laid out concurrently as well as their partitions: one projection's
  // two partitions rarely take the same time, and a thread that finishes
  // its share starts on another projection instead of waiting (PD14, 64
  // projections). The first projection's error in order is the one
  // reported, as in a serial build.
  projections_from_.resize(n_pop);
  auto& projections = network_.projections();
  for (const auto& proj : projections) {
    const auto& tgt = pops[proj.target];
    if (tgt.population->preferred_mode() == UpdateMode::scheduled) {
      throw ConfigError(fmt::format(
          "projection '{}': population '{}' ({}) is a generator and cannot receive synapses",
          proj.name, tgt.name, tgt.model));
    }
  }
  // Rules drawn source by source, in a run of several processes: each
  // draws a K-th of the sources and hands every synapse to its target's
  // process, in order, one projection at a time on this thread (the
  // exchange is a collective); the layout below then works from the list.
  if (comm_->size() > 1) {
    for (auto& proj : projections) {
      if (!proj.drawn || !proj.drawn->by_source()) continue;
      proj.synapses = draw_by_source(*proj.drawn, pops[proj.source].population->size(),
                                     pops[proj.target].population->size());
      proj.drawn.reset();
    }
  }
  std::vector<std::optional<Connectivity>> laid_out(projections.size());
  std::vector<std::exception_ptr> errors(projections.size());
  tbb::parallel_for(std::size_t{0}, projections.size(), [&](std::size_t k) {
    auto& proj = projections[k];
    const std::size_t n_source = pops[proj.source].population->size();
    const std::size_t n_target = pops[proj.target].population->size();
    try {
      // Ctrl-C stops the layout at its next slice of synapses or run of rows.
      const auto stop = [this] { check_stop(options_.stop_signal, "building the network"); };
      stop();
      if (proj.drawn) {
        laid_out[k].emplace(*proj.drawn, n_source, n_target, parts_, stop, placement_);
        proj.drawn.reset();
      } else {
        laid_out[k].emplace(std::move(proj.synapses), n_source, n_target, parts_, stop, placement_);
      }
      proj.synapses = {};
    } catch (...) {
      errors[k] = std::current_exception();
    }
  });
  // Every process learns whether any failed before the next collective
  // (the largest exit code): the others then stop too instead of waiting.
  // Each process reports its own error; the others say that one failed.
  const ExitCode failed = [&] {
    for (const auto& e : errors) {
      if (!e) continue;
      try {
        std::rethrow_exception(e);
      } catch (const Error& err) {
        return err.code();
      } catch (...) {
        return ExitCode::software;
      }
    }
    return ExitCode::ok;
  }();
  std::uint64_t min_delay = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_delay[2] = {0, static_cast<std::uint64_t>(failed)};
  total_synapses_.assign(projections.size(), 0);
  for (std::size_t k = 0; k < projections.size(); ++k) {
    if (!laid_out[k]) continue;
    const auto& c = *laid_out[k];
    total_synapses_[k] = c.size();
    if (c.size() > 0) min_delay = std::min<std::uint64_t>(min_delay, c.min_delay());
    max_delay[0] = std::max<std::uint64_t>(max_delay[0], c.max_delay());
  }
  comm_->allreduce_max(max_delay);
  if (max_delay[1] != 0) {
    for (const auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
    throw Error(static_cast<ExitCode>(max_delay[1]),
                "another MPI rank failed while laying out the synapses (its error is in its own "
                "output)");
  }
  // The window and the calendar are the run's, not this process's: the
  // same at any number of processes (the checkpoint indexes the calendar
  // by step modulo its size; observers see the same windows).
  comm_->allreduce_min({&min_delay, 1});
  comm_->allreduce_sum(total_synapses_);
  for (std::size_t k = 0; k < projections.size(); ++k) {
    if (total_synapses_[k] >= std::numeric_limits<std::uint32_t>::max()) {
      throw ConfigError(fmt::format("projection '{}' has {} synapses; at most {} are supported",
                                    projections[k].name, total_synapses_[k],
                                    std::numeric_limits<std::uint32_t>::max() - 1));
    }
    connectivity_.push_back(std::move(*laid_out[k]));
    laid_out[k].reset();
    if (connectivity_.back().size() > 0)
      projections_from_[projections[k].source].push_back(static_cast<std::uint32_t>(k));
  }
  window_ = min_delay != std::numeric_limits<std::uint64_t>::max() ? static_cast<Step>(min_delay)
                                                                   : kWindowWithoutProjections;
  // Arrivals lie in (window end, window end + max delay]: max_delay + 1
  // buckets keep every step in flight distinct.
  ring_size_ = static_cast<std::size_t>(max_delay[0]) + 1;
}

void Simulator::choose_update_modes() {
  auto& pops = network_.populations();
  const std::size_t n_pop = pops.size();
  // Update modes: the lazy path is ruled out by an injected current.
  modes_.resize(n_pop);
  for (std::size_t q = 0; q < n_pop; ++q) modes_[q] = pops[q].population->preferred_mode();
  for (const auto& s : network_.stimuli()) {
    if (modes_[s.population] == UpdateMode::event_driven)
      modes_[s.population] = UpdateMode::stepped;
    if (modes_[s.population] == UpdateMode::scheduled) {
      throw ConfigError(
          fmt::format("stimulus '{}': population '{}' is a generator; a current cannot "
                      "be injected into it",
                      s.name, pops[s.population].name));
    }
  }

  for (const auto& d : network_.poisson_inputs()) {
    if (modes_[d.population] == UpdateMode::scheduled) {
      throw ConfigError(
          fmt::format("stimulus '{}': population '{}' is a generator; it cannot receive input",
                      d.name, pops[d.population].name));
    }
  }
}

void Simulator::make_inputs() {
  auto& pops = network_.populations();
  const std::size_t n_pop = pops.size();
  dropout_.resize(n_pop);
  inputs_.resize(n_pop);
  for (std::size_t q = 0; q < n_pop; ++q) {
    const auto n = pops[q].population->size();
    inputs_[q].ex.assign(n, 0.0f);
    inputs_[q].in.assign(n, 0.0f);
    // Only a population that a stimulus reaches gets a current array: the
    // models skip a null one, and streaming zeros was 10% of the bytes of
    // COBA's update loop.
    const bool stimulated = std::any_of(network_.stimuli().begin(), network_.stimuli().end(),
                                        [&](const auto& s) { return s.population == q; });
    if (stimulated) inputs_[q].current.assign(n, 0.0);
    // A current computed every step (a wave) is added to the running sum
    // of the changes in an array of its own, so that the sum stays what
    // the changes made it (and what a checkpoint holds).
    for (std::size_t k = 0; k < network_.stimuli().size(); ++k) {
      const auto& s = network_.stimuli()[k];
      if (s.population == q && s.wave) inputs_[q].waves.push_back(static_cast<std::uint32_t>(k));
    }
    if (!inputs_[q].waves.empty()) inputs_[q].total.assign(n, 0.0);
    if (modes_[q] == UpdateMode::event_driven) inputs_[q].touched.assign(n, 0);
  }
}

void Simulator::make_partitions() {
  auto& pops = network_.populations();
  const std::size_t n_pop = pops.size();
  for (unsigned p = placement_.first; p < placement_.end; ++p) {
    auto part = std::make_unique<Partition>();
    part->index = p;
    part->touched.resize(n_pop);
    part->clamped.resize(n_pop);
    part->ring.resize(ring_size_);
    for (std::size_t q = 0; q < n_pop; ++q) {
      part->ranges.push_back(parts_.range(pops[q].population->size(), p));
    }
    // A stimulus's or Poisson input's neurons in this partition, in order.
    const auto mine = [&](std::uint32_t population, const std::vector<NeuronIndex>& neurons) {
      const IndexRange r = part->ranges[population];
      std::vector<NeuronIndex> out;
      if (neurons.empty()) {
        for (NeuronIndex i = r.begin; i < r.end; ++i) out.push_back(i);
      } else {
        for (const auto i : neurons) {
          if (i >= r.begin && i < r.end) out.push_back(i);
        }
      }
      return out;
    };
    for (const auto& s : network_.stimuli())
      part->stim_neurons.push_back(mine(s.population, s.neurons));
    for (const auto& d : network_.poisson_inputs())
      part->drive_neurons.push_back(mine(d.population, d.neurons));
    for (const auto& probe : network_.probes()) {
      const IndexRange r = part->ranges[probe.population];
      std::vector<Partition::ProbeColumn> cols;
      for (std::size_t node = 0; node < probe.neurons.size(); ++node) {
        const NeuronIndex i = probe.neurons[node];
        if (i < r.begin || i >= r.end) continue;
        for (std::size_t v = 0; v < probe.variables.size(); ++v) {
          cols.push_back({static_cast<std::uint32_t>(node * probe.variables.size() + v), i,
                          probe.variables[v]});
        }
      }
      part->probe_columns.push_back(std::move(cols));
    }
    partitions_.push_back(std::move(part));
  }
  // The layout is fixed from here on (trainers and checkpoints change
  // weights, never which synapses exist), so the bitmaps are made once.
  tbb::parallel_for(std::size_t{0}, partitions_.size(), [&](std::size_t i) {
    Partition& part = *partitions_[i];
    part.sources.reserve(connectivity_.size());
    for (const auto& c : connectivity_)
      part.sources.push_back(source_bits(c.block(part.index), options_.source_bitmaps));
  });
  // A thread per partition at most: more would only spin.
  if (const auto members = std::min<std::size_t>(options_.threads, partitions_.size());
      members > 1) {
    team_ = std::make_unique<detail::StepTeam>(static_cast<int>(members), partitions_.size());
  }
}

void Simulator::bind_plasticity() {
  const std::size_t n_pop = network_.populations().size();
  // Plastic projections: incoming indices and the rules' per-partition state.
  plastic_into_.resize(n_pop);
  for (std::size_t k = 0; k < network_.projections().size(); ++k) {
    auto& proj = network_.projections()[k];
    if (!proj.plasticity) continue;
    if (const std::string m = proj.plasticity->modulator(); !m.empty()) {
      std::vector<std::string> names;
      const Neuromodulator* found = nullptr;
      for (const auto& mod : network_.modulators()) {
        names.push_back(mod.name());
        if (mod.name() == m) found = &mod;
      }
      if (!found) {
        throw ConfigError(fmt::format(
            "projection '{}': its plasticity rule reads neuromodulator '{}', "
            "which is not defined{}; defined: {}",
            proj.name, m, did_you_mean(m, names),
            names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
      }
      proj.plasticity->attach(*found);
    }
    plastic_into_[proj.target].push_back(static_cast<std::uint32_t>(k));
    for (auto& part : partitions_) {
      const IndexRange r = part->ranges[proj.target];
      const SynapseBlock& blk = connectivity_[k].block(part->index);
      part->incoming.resize(network_.projections().size());
      auto& in = part->incoming[k];
      in.first = r.begin;
      in.ptr.assign(static_cast<std::size_t>(r.end - r.begin) + 1, 0);
      for (const DelayGroup& g : blk.all_groups()) {
        for (std::uint32_t s = g.begin; s < g.end; ++s) ++in.ptr[blk.target_of(g, s) - r.begin + 1];
      }
      for (std::size_t j = 1; j < in.ptr.size(); ++j) in.ptr[j] += in.ptr[j - 1];
      in.synapse.resize(blk.size());
      in.group.resize(blk.size());
      std::vector<std::uint32_t> fill(in.ptr.begin(), in.ptr.end() - 1);
      for (std::uint32_t g = 0; g < blk.group_count(); ++g) {
        const DelayGroup grp = blk.group(g);
        for (std::uint32_t s = grp.begin; s < grp.end; ++s) {
          const std::uint32_t slot = fill[blk.target_of(grp, s) - r.begin]++;
          in.synapse[slot] = s;
          in.group[slot] = g;
        }
      }
      proj.plasticity->bind(part->index, blk, r, proj.name);
    }
  }
}

void Simulator::seed_queues() {
  auto& pops = network_.populations();
  const std::size_t n_pop = pops.size();
  // Seed the queues: generators' first spikes and the stimuli's current changes.
  for (auto& part : partitions_) {
    for (std::size_t q = 0; q < n_pop; ++q) {
      if (modes_[q] != UpdateMode::scheduled) continue;
      const IndexRange r = part->ranges[q];
      for (NeuronIndex i = r.begin; i < r.end; ++i) {
        const Step s = pops[q].population->next_spike(i);
        if (s == kNever) continue;
        if (s < 1) {
          throw ConfigError(
              fmt::format("population '{}' node {}: a spike at step {} is before the "
                          "first simulated step (spike times must be >= dt)",
                          pops[q].name, i, s));
        }
        part->queue.push({s, EventKind::emission, static_cast<std::uint32_t>(q), i, 0, 0});
      }
    }
    for (const auto& c : network_.clamps()) {
      if (modes_[c.population] == UpdateMode::scheduled) {
        throw ConfigError(
            fmt::format("clamp '{}': population '{}' is a generator; its spikes "
                        "cannot be clamped",
                        c.name, pops[c.population].name));
      }
      const IndexRange r = part->ranges[c.population];
      for (const auto& [step, neuron] : c.spikes) {
        if (neuron >= r.begin && neuron < r.end)
          part->queue.push({step, EventKind::clamp, c.population, neuron, 0, 0});
      }
    }
    for (std::size_t k = 0; k < network_.stimuli().size(); ++k) {
      if (part->stim_neurons[k].empty()) continue;
      const auto& changes = network_.stimuli()[k].changes;
      for (std::size_t c = 0; c < changes.size(); ++c) {
        // A change at time s*dt shapes the dynamics from then on: it is first
        // seen by the update of step s + 1 (which integrates over (s*dt, (s+1)*dt]).
        part->queue.push({changes[c].step + 1, EventKind::current, static_cast<std::uint32_t>(k),
                          static_cast<std::uint32_t>(c), 0, 0});
      }
    }
  }
}

Simulator::~Simulator() = default;

void input_dropout_scales(std::uint64_t seed, std::uint32_t population, std::uint64_t key,
                          Step step, NeuronIndex first, std::size_t n, double p, float* scale) {
  thread_local std::vector<double> u;
  u.resize(n);
  const std::uint64_t counter = (key << 44) | static_cast<std::uint64_t>(step);
  uniform_per_entity(seed, stream_id(StreamKind::dropout, population), first, counter, n, u.data());
  const float keep = static_cast<float>(1.0 / (1.0 - p));
  for (std::size_t j = 0; j < n; ++j) scale[j] = u[j] < p ? 0.0f : keep;
}

void Simulator::apply_dropout(Partition& part, std::size_t q, Step t) {
  const IndexRange r = part.ranges[q];
  const std::size_t n = r.end - r.begin;
  part.dropout_scale.resize(n);
  input_dropout_scales(network_.seed(), static_cast<std::uint32_t>(q), dropout_[q].key, t, r.begin,
                       n, dropout_[q].p, part.dropout_scale.data());
  float* ex = inputs_[q].ex.data() + r.begin;
  float* in = inputs_[q].in.data() + r.begin;
  const float* scale = part.dropout_scale.data();
  for (std::size_t j = 0; j < n; ++j) {
    ex[j] *= scale[j];
    in[j] *= scale[j];
  }
}

void Simulator::set_input_dropout(std::size_t population, double p, std::uint64_t key) {
  auto& pops = network_.populations();
  if (population >= pops.size())
    throw Error(ExitCode::software, "set_input_dropout: no such population");
  if (!(p >= 0 && p < 1)) {
    throw ConfigError(fmt::format("population '{}': input dropout p = {} is out of range [0, 1)",
                                  pops[population].name, p));
  }
  if (p > 0 && modes_[population] != UpdateMode::stepped) {
    throw ConfigError(fmt::format("population '{}' ({}): input dropout needs a stepped model",
                                  pops[population].name, pops[population].model));
  }
  if (key >= (std::uint64_t{1} << 20)) {
    throw Error(ExitCode::software, fmt::format("set_input_dropout: key {} >= 2^20", key));
  }
  dropout_[population] = {p, key};
}

void Simulator::replace_population(std::size_t population, std::unique_ptr<Population> next) {
  auto& entry = network_.populations().at(population);
  Population& old = *entry.population;
  const auto refuse = [&](std::string_view why) {
    throw UsageError(
        fmt::format("population '{}' ({}): its parameters cannot change between "
                    "pieces: {}",
                    entry.name, entry.model, why));
  };
  if (next->size() != old.size()) {
    throw Error(ExitCode::software,
                fmt::format("population '{}': the rebuilt model has {} neurons, not {}", entry.name,
                            next->size(), old.size()));
  }
  if (modes_[population] == UpdateMode::scheduled) {
    if (next->preferred_mode() != UpdateMode::scheduled || !next->take_over(old, now_))
      refuse("the model cannot take over a generator's schedule");
    reschedule(population, *next);
    entry.population = std::move(next);
    return;
  }
  if (next->preferred_mode() != old.preferred_mode())
    refuse("the new values change how the model is updated (stepped or event by event)");
  if (modes_[population] == UpdateMode::event_driven && now_ > 0)
    refuse(
        "it is updated event by event (each neuron holds its state as of its last event): "
        "set them before the first run");
  if (!old.checkpointable() || !next->checkpointable())
    refuse("the model cannot hand its state over (it has no checkpoint fields)");
  // The state goes over as the checkpoint's fields: whatever the model's
  // future depends on (its tables' arrays, refractory counters, ...).
  MemoryArchive a;
  old.checkpoint(a);
  a.set_loading(true);
  next->checkpoint(a);
  entry.population = std::move(next);
}

void Simulator::reschedule(std::size_t population, Population& next) {
  // The old generator's emissions still queued (all after now) are dropped,
  // the new one's next spikes queued in their place.
  const auto q = static_cast<std::uint32_t>(population);
  for (auto& part : partitions_) {
    std::vector<Event> kept = part->queue.events();
    std::erase_if(kept, [q](const Event& e) { return e.kind == EventKind::emission && e.a == q; });
    part->queue.clear();
    for (const Event& e : kept) part->queue.push(e);
    const IndexRange r = part->ranges[population];
    for (NeuronIndex i = r.begin; i < r.end; ++i) {
      const Step s = next.next_spike(i);
      if (s == kNever) continue;
      if (s <= now_) {
        throw Error(ExitCode::software,
                    fmt::format("population '{}': the new generator scheduled a spike at step {}, "
                                "not after the current step {}",
                                network_.populations()[population].name, s, now_));
      }
      part->queue.push({s, EventKind::emission, q, i, 0, 0});
    }
  }
}

void Simulator::set_stimulus_changes(std::size_t stimulus, std::vector<CurrentChange> changes) {
  auto& s = network_.stimuli().at(stimulus);
  // A change at step c is applied by the update of step c + 1 (seed_queues):
  // those with c < now() are in the current array already.
  double applied_old = 0, applied_new = 0;
  for (auto& c : s.changes) {
    if (c.step < now_)
      applied_old += c.delta_pA;
    else
      c.delta_pA = 0;  // still queued: voided (the events stay, and add nothing)
  }
  std::vector<CurrentChange> future;
  for (const auto& c : changes) {
    if (c.step < now_)
      applied_new += c.delta_pA;
    else
      future.push_back(c);
  }
  const double correction = applied_new - applied_old;
  // Bookkeeping only (no event: applied below, at once), so that a later
  // change sums what is in the current array: the old changes applied, then
  // this one.
  if (correction != 0) s.changes.push_back({now_ - 1, correction});
  const std::size_t queued = s.changes.size();
  s.changes.insert(s.changes.end(), future.begin(), future.end());
  auto& cur = inputs_[s.population].current;
  for (auto& part : partitions_) {
    const auto& mine = part->stim_neurons[stimulus];
    if (mine.empty()) continue;
    if (correction != 0)
      for (const NeuronIndex i : mine) cur[i] += correction;
    for (std::size_t c = queued; c < s.changes.size(); ++c) {
      part->queue.push({s.changes[c].step + 1, EventKind::current,
                        static_cast<std::uint32_t>(stimulus), static_cast<std::uint32_t>(c), 0, 0});
    }
  }
}

void Simulator::set_stimulus_wave(std::size_t stimulus, std::shared_ptr<const CurrentWave> wave) {
  auto& s = network_.stimuli().at(stimulus);
  if (!s.wave || !wave) {
    throw Error(ExitCode::software,
                fmt::format("stimulus '{}': a wave can only replace a wave", s.name));
  }
  s.wave = std::move(wave);
}

void Simulator::set_poisson_drive(std::size_t input, const PoissonDrive& drive) {
  network_.poisson_inputs().at(input).drive = drive;
}

void Simulator::clamp(std::size_t population, Step step, NeuronIndex neuron) {
  auto& pops = network_.populations();
  if (population >= pops.size()) throw Error(ExitCode::software, "clamp: no such population");
  const auto& pop = pops[population];
  if (modes_[population] == UpdateMode::scheduled) {
    throw ConfigError(fmt::format(
        "population '{}' ({}) is a generator: its spikes cannot be clamped", pop.name, pop.model));
  }
  if (neuron >= pop.population->size()) {
    throw ConfigError(
        fmt::format("clamp of population '{}': node {} is out of range (size {}, ids 0 to {})",
                    pop.name, neuron, pop.population->size(), pop.population->size() - 1));
  }
  if (step <= now_) {
    throw Error(ExitCode::software,
                fmt::format("clamp of population '{}': step {} is not after the current step {}",
                            pop.name, step, now_));
  }
  // Every process is told; the one that owns the neuron files it.
  const unsigned part = parts_.part_of(pop.population->size(), neuron);
  if (!placement_.owns(part)) return;
  partitions_[part - placement_.first]->queue.push(
      {step, EventKind::clamp, static_cast<std::uint32_t>(population), neuron, 0, 0});
}

void Simulator::add_reward(std::size_t modulator, Step step, double amount) {
  auto& mods = network_.modulators();
  if (modulator >= mods.size())
    throw Error(ExitCode::software, "add_reward: no such neuromodulator");
  if (step <= now_) {
    throw Error(
        ExitCode::software,
        fmt::format("neuromodulator '{}': a pulse at step {} is not after the current step {}",
                    mods[modulator].name(), step, now_));
  }
  mods[modulator].add(step, amount);
}

void Simulator::sync_plasticity() {
  for (std::size_t k = 0; k < network_.projections().size(); ++k) {
    auto* rule = network_.projections()[k].plasticity.get();
    if (!rule) continue;
    for_each_partition(
        [&](Partition& part) { rule->sync(part.index, connectivity_[k].block(part.index), now_); });
  }
}

void Simulator::weights_replaced(std::size_t projection) {
  auto* rule = network_.projections()[projection].plasticity.get();
  if (!rule) return;
  for_each_partition([&](Partition& part) {
    rule->weights_replaced(part.index, connectivity_[projection].block(part.index));
  });
}

std::vector<std::string> Simulator::synapse_variables(std::size_t projection) const {
  const auto* rule = plasticity(projection);
  return rule ? rule->synapse_variables() : std::vector<std::string>{"weight"};
}

double Simulator::synapse_value(std::size_t projection, std::size_t var,
                                SynapseLocation where) const {
  const SynapseBlock& block = connectivity_[projection].block(where.part);
  const auto* rule = plasticity(projection);
  return rule ? rule->synapse_value(var, where.part, block, where.index, now_)
              : block.weight[where.index];
}

std::string Simulator::why_not_checkpointable() const {
  for (const auto& p : network_.populations()) {
    if (!p.population->checkpointable()) {
      return fmt::format("population '{}': model '{}' does not support checkpoints", p.name,
                         p.model);
    }
  }
  for (const auto& p : network_.projections()) {
    if (p.plasticity && !p.plasticity->checkpointable()) {
      return fmt::format("projection '{}': its plasticity rule does not support checkpoints",
                         p.name);
    }
  }
  return {};
}

namespace {

// Hashes a block's stored targets as the 32-bit array that held them before
// narrow blocks stored 16-bit offsets (what Hash64::add of that array did):
// a fingerprint describes the network, not its storage, so checkpoints
// written before stay valid.
void add_stored_targets(Hash64& h, const SynapseBlock& b) {
  if (!b.narrow) {
    h.add(b.target);
    return;
  }
  h.add_word(b.offset.size() * sizeof(NeuronIndex));
  std::uint64_t word = 0;
  std::size_t i = 0;
  for (const std::uint16_t o : b.offset) {
    word |= std::uint64_t{b.base + o} << (32 * (i++ % 2));
    if (i % 2 == 0) {
      h.add_word(word);
      word = 0;
    }
  }
  h.add_word(word);  // the tail: the odd target, or zero
}

}  // namespace

// Each block of each projection is hashed on its own, by the process that
// holds it; the processes exchange these hashes and every one hashes the
// same sequence (the projections' descriptions, then per projection its
// blocks' hashes in partition order), so the value does not depend on the
// number of processes.
std::uint64_t Simulator::fingerprint() const {
  const auto& projections = network_.projections();
  std::vector<std::uint64_t> mine;  // per projection, per local partition
  for (std::size_t k = 0; k < connectivity_.size(); ++k) {
    for (unsigned p = placement_.first; p < placement_.end; ++p) {
      const SynapseBlock& b = connectivity_[k].block(p);
      Hash64 h;
      h.add(b.row);
      for (const DelayGroup& g : b.all_groups()) {
        h.add_word(g.begin);
        h.add_word(g.end);
        h.add_word(std::uint64_t{g.delay} << 1 | (g.consecutive ? 1 : 0));
        h.add_word(g.first);
      }
      add_stored_targets(h, b);
      if (!projections[k].plasticity) h.add(b.weight);  // plastic weights are in the checkpoint
      mine.push_back(h.value());
    }
  }
  std::vector<std::size_t> counts;
  const std::vector<std::uint64_t> all =
      allgather_records(*comm_, std::span<const std::uint64_t>(mine), counts);
  // block_hash[k * P + p], from each rank's (projection, partition) order.
  const unsigned n_parts = parts_.count();
  std::vector<std::uint64_t> block_hash(connectivity_.size() * n_parts, 0);
  std::size_t at = 0;
  for (int r = 0; r < comm_->size(); ++r) {
    const Placement pl = place(n_parts, r, comm_->size());
    for (std::size_t k = 0; k < connectivity_.size(); ++k) {
      for (unsigned p = pl.first; p < pl.end; ++p) block_hash[k * n_parts + p] = all.at(at++);
    }
  }
  Hash64 h;
  h.add_word(parts_.count());
  for (const auto& p : network_.populations()) {
    h.add(p.name);
    h.add(p.model);
    h.add_word(p.population->size());
    h.add_word(p.population->fingerprint());
  }
  for (std::size_t k = 0; k < connectivity_.size(); ++k) {
    const auto& proj = network_.projections()[k];
    h.add(proj.name);
    h.add_word(proj.source);
    h.add_word(proj.target);
    h.add_word(proj.plasticity ? 1 : 0);
    // Only when there is one: checkpoints of built-in rules keep their fingerprint.
    if (const std::uint64_t f = proj.plasticity ? proj.plasticity->fingerprint() : 0; f != 0) {
      h.add_word(f);
    }
    for (unsigned p = 0; p < n_parts; ++p) h.add_word(block_hash[k * n_parts + p]);
  }
  return h.value();
}

void Simulator::checkpoint(StateArchive& a) {
  if (const std::string why = why_not_checkpointable(); !why.empty()) {
    throw ConfigError("cannot checkpoint: " + why);
  }
  StateArchive::Scope scope(a, "simulator");
  std::uint32_t parts = parts_.count();
  a.value("partition_count", parts);
  if (parts != parts_.count()) {
    throw CheckpointError(fmt::format(
        "the checkpoint was written with {} partitions, this simulation has {}: resume with "
        "--partitions {} (the partitioning is part of the state; threads may differ)",
        parts, parts_.count(), parts));
  }
  a.value("now", now_);
  a.value("guard_start", guard_start_);
  a.field("spike_counts", spike_counts_);
  a.field("guard_counts", guard_counts_);

  auto& pops = network_.populations();
  for (std::size_t q = 0; q < pops.size(); ++q) {
    StateArchive::Scope pop(a, "populations/" + pops[q].name);
    pops[q].population->checkpoint(a);
    // Between windows the synaptic inputs are consumed (zero); the injected
    // current is the running sum of the stimuli's changes.
    a.field("input/ex", inputs_[q].ex);
    a.field("input/in", inputs_[q].in);
    a.field("input/current", inputs_[q].current);
    a.value("input/dropout_p", dropout_[q].p);
    a.value("input/dropout_key", dropout_[q].key);
  }
  for (auto& m : network_.modulators()) {
    StateArchive::Scope mod(a, "neuromodulators/" + m.name());
    m.checkpoint(a);
  }
  for (std::size_t k = 0; k < connectivity_.size(); ++k) {
    auto* rule = network_.projections()[k].plasticity.get();
    if (!rule) continue;
    // This process's partitions only: the others' blocks are not laid out here.
    for (unsigned p = placement_.first; p < placement_.end; ++p) {
      StateArchive::Scope part(a,
                               fmt::format("projections/{}/{}", network_.projections()[k].name, p));
      a.field("weight", connectivity_[k].block(p).weight);
      rule->checkpoint(p, a);
    }
  }
  for (auto& part : partitions_) {
    StateArchive::Scope scope_part(a, fmt::format("partitions/{}", part->index));
    {
      // Generator emissions and current changes.
      StateArchive::Scope queue(a, "queue");
      part->queue.checkpoint(
          a, nullptr,
          [](const Event&, std::uint8_t kind, const void*) {
            if (kind != static_cast<std::uint8_t>(EventKind::current) &&
                kind != static_cast<std::uint8_t>(EventKind::emission) &&
                kind != static_cast<std::uint8_t>(EventKind::clamp)) {
              throw CheckpointError(fmt::format("checkpoint: event of unknown kind {} in the queue",
                                                static_cast<int>(kind)));
            }
          },
          nullptr);
    }
    // Spikes in flight: the calendar's buckets, indexed by step modulo its
    // size, which the same network gives again.
    std::vector<std::uint64_t> sizes;
    std::vector<Partition::Delivery> flat;
    for (const auto& bucket : part->ring) {
      sizes.push_back(bucket.size());
      flat.insert(flat.end(), bucket.begin(), bucket.end());
    }
    a.field("in_flight/bucket_sizes", sizes);
    a.field("in_flight/deliveries", flat, true);
    if (!a.loading()) continue;

    std::uint64_t total = 0;
    for (const auto s : sizes) total += s;
    if (total != flat.size()) {
      throw CheckpointError(
          fmt::format("checkpoint: partition {} has {} spikes in flight but its buckets count {}",
                      part->index, flat.size(), total));
    }
    std::size_t at = 0;
    for (std::size_t b = 0; b < part->ring.size(); ++b) {
      part->ring[b].assign(flat.begin() + static_cast<std::ptrdiff_t>(at),
                           flat.begin() + static_cast<std::ptrdiff_t>(at + sizes[b]));
      at += sizes[b];
      for (const auto& d : part->ring[b]) {
        if (d.projection >= connectivity_.size() ||
            d.group >= connectivity_[d.projection].block(part->index).groups.size()) {
          throw CheckpointError(fmt::format(
              "checkpoint: a spike in flight in partition {} names projection {} group {}, "
              "which this network does not have",
              part->index, d.projection, d.group));
        }
      }
    }
  }
}

namespace {

// Which part of a run's checkpoint a field is (gather_checkpoint): one
// partition's (its group: "simulator/partitions/" or
// "simulator/projections/<name>/"), a population's, or a field that every
// process saves alike.
struct FieldRole {
  enum Kind { of_partition, of_population, replicated } kind = replicated;
  std::string group;       // partition: the fields of all partitions of this kind
  unsigned partition = 0;  // partition: which one
  std::size_t index = 0;   // population: which one
};

}  // namespace

std::optional<MemoryArchive> Simulator::gather_checkpoint(const MemoryArchive& mine, bool ok) {
  // A leading byte says whether the rank saved its fields.
  std::vector<std::byte> bytes{ok ? std::byte{1} : std::byte{0}};
  if (ok) {
    const std::vector<std::byte> fields = to_bytes(mine);
    bytes.insert(bytes.end(), fields.begin(), fields.end());
  }
  std::vector<std::byte> all;
  std::vector<std::size_t> counts;
  comm_->gatherv(bytes, all, counts);
  if (comm_->rank() != 0) return std::nullopt;
  const int ranks = comm_->size();
  std::vector<std::span<const std::byte>> of_rank;
  std::size_t at = 0;
  for (int r = 0; r < ranks; ++r) {
    of_rank.push_back(std::span<const std::byte>(all).subspan(at, counts[r]));
    at += counts[r];
    if (of_rank.back().empty() || of_rank.back()[0] != std::byte{1}) return std::nullopt;
  }
  std::vector<MemoryArchive> others;  // ranks 1.. (rank 0's is `mine`)
  for (int r = 1; r < ranks; ++r) others.push_back(archive_from_bytes(of_rank[r].subspan(1)));

  const auto& pops = network_.populations();
  const auto& projections = network_.projections();
  const auto role_of = [&](const std::string& path) {
    FieldRole role;
    const auto partition_at = [&](std::size_t from) {
      const std::size_t slash = path.find('/', from);
      role.kind = FieldRole::of_partition;
      role.group = path.substr(0, from);
      role.partition = static_cast<unsigned>(std::stoul(path.substr(from, slash - from)));
    };
    constexpr std::string_view partitions = "simulator/partitions/";
    constexpr std::string_view by_projection = "simulator/projections/";
    constexpr std::string_view by_population = "simulator/populations/";
    if (path.starts_with(partitions)) {
      partition_at(partitions.size());
    } else if (path.starts_with(by_projection)) {
      for (const auto& proj : projections) {
        const std::string prefix = std::string(by_projection) + proj.name + '/';
        if (path.starts_with(prefix)) partition_at(prefix.size());
      }
    } else if (path.starts_with(by_population)) {
      for (std::size_t q = 0; q < pops.size(); ++q) {
        if (path.starts_with(std::string(by_population) + pops[q].name + '/')) {
          role.kind = FieldRole::of_population;
          role.index = q;
        }
      }
    }
    return role;
  };
  const unsigned n_parts = parts_.count();
  const auto check_owner = [&](const std::string& path, const FieldRole& role, int r) {
    if (!place(n_parts, r, ranks).owns(role.partition)) {
      throw CheckpointError(fmt::format(
          "checkpoint field '{}' came from MPI rank {}, which does not own partition {}", path, r,
          role.partition));
    }
  };

  // Per rank > 0: its partitions' fields by group, in its order; the
  // others by path.
  std::vector<std::map<std::string, std::vector<std::size_t>>> groups(others.size());
  std::vector<std::map<std::string, std::size_t, std::less<>>> by_path(others.size());
  for (std::size_t o = 0; o < others.size(); ++o) {
    const auto& fields = others[o].fields();
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const FieldRole role = role_of(fields[i].first);
      if (role.kind == FieldRole::of_partition) {
        check_owner(fields[i].first, role, static_cast<int>(o + 1));
        groups[o][role.group].push_back(i);
      } else {
        by_path[o].emplace(fields[i].first, i);
      }
    }
  }

  // Rank 0's fields in order; after rank 0's part of a partition group, the
  // other ranks' parts of it in rank order: the order of one process, which
  // walks partitions 0..P-1 (rank r owns a contiguous block of them).
  MemoryArchive merged;
  std::string open_group;
  const auto close_group = [&] {
    if (open_group.empty()) return;
    for (std::size_t o = 0; o < others.size(); ++o) {
      for (const std::size_t i : groups[o][open_group]) {
        const auto& [path, f] = others[o].fields()[i];
        merged.add(path, f);
      }
      groups[o].erase(open_group);
    }
    open_group.clear();
  };
  for (const auto& [path, field] : mine.fields()) {
    const FieldRole role = role_of(path);
    if (role.kind != FieldRole::of_partition || role.group != open_group) close_group();
    if (role.kind == FieldRole::of_partition) {
      check_owner(path, role, 0);
      open_group = role.group;
      merged.add(path, field);
      continue;
    }
    MemoryArchive::Field f = field;
    const std::size_t n = f.elem_size > 0 ? f.bytes.size() / f.elem_size : 0;
    // A population's per-neuron array is current only for the neurons this
    // rank steps (its partitions' ranges): each range from its owner.
    const bool per_neuron =
        role.kind == FieldRole::of_population && n == pops[role.index].population->size();
    for (std::size_t o = 0; o < others.size(); ++o) {
      const auto it = by_path[o].find(path);
      if (it == by_path[o].end()) {
        // What the caller saves on rank 0 alone (the run's own fields) is
        // not the simulator's: only the simulator's must be on every rank.
        if (path.starts_with("simulator/")) {
          throw CheckpointError(fmt::format(
              "checkpoint field '{}' was saved by MPI rank 0 but not by rank {}", path, o + 1));
        }
        continue;
      }
      const MemoryArchive::Field& theirs = others[o].fields()[it->second].second;
      by_path[o].erase(it);
      if (theirs.type != f.type || theirs.elem_size != f.elem_size ||
          theirs.bytes.size() != f.bytes.size()) {
        throw CheckpointError(fmt::format(
            "checkpoint field '{}' has another type or size on MPI rank {} ({} values of {} "
            "bytes) than on rank 0 ({} of {})",
            path, o + 1, theirs.bytes.size() / std::max<std::size_t>(theirs.elem_size, 1),
            theirs.elem_size, n, f.elem_size));
      }
      if (per_neuron) {
        const Placement pl = place(n_parts, static_cast<int>(o + 1), ranks);
        const std::size_t size = pops[role.index].population->size();
        const std::size_t begin = parts_.range(size, pl.first).begin * f.elem_size;
        const std::size_t end = parts_.range(size, pl.end - 1).end * f.elem_size;
        std::copy(theirs.bytes.begin() + static_cast<std::ptrdiff_t>(begin),
                  theirs.bytes.begin() + static_cast<std::ptrdiff_t>(end),
                  f.bytes.begin() + static_cast<std::ptrdiff_t>(begin));
      } else if (theirs.bytes != f.bytes) {
        throw CheckpointError(fmt::format(
            "checkpoint field '{}' differs between MPI ranks 0 and {}: it is not per neuron and "
            "not the same on every rank, so no rank's copy is the run's (a model or rule that "
            "keeps state outside its partitions cannot be checkpointed by several processes)",
            path, o + 1));
      }
    }
    merged.add(path, std::move(f));
  }
  close_group();
  for (std::size_t o = 0; o < others.size(); ++o) {
    if (!by_path[o].empty() || !groups[o].empty()) {
      throw CheckpointError(fmt::format(
          "checkpoint field '{}' was saved by MPI rank {} but not by rank 0",
          !by_path[o].empty() ? by_path[o].begin()->first : groups[o].begin()->first, o + 1));
    }
  }
  return merged;
}

std::size_t Simulator::synapse_count() const {
  std::size_t n = 0;
  for (const auto c : total_synapses_) n += c;
  return n;
}

std::span<const std::uint64_t> Simulator::source_bitmap(std::size_t projection,
                                                        unsigned partition) const {
  if (projection >= connectivity_.size()) {
    throw UsageError(
        fmt::format("source_bitmap: projection {} is out of range: the network has {} projections",
                    projection, connectivity_.size()));
  }
  if (!placement_.owns(partition)) {
    throw UsageError(
        fmt::format("source_bitmap: partition {} is not this process's: valid is {} to {}",
                    partition, placement_.first, placement_.end - 1));
  }
  return partitions_.at(partition - placement_.first)->sources[projection];
}

std::size_t Simulator::synapse_memory_bytes() const {
  std::size_t n = 0;
  for (const auto& c : connectivity_) n += c.memory_bytes();
  return n;
}

void Simulator::deliver(Partition& part, std::uint32_t projection, std::uint32_t group, Step t) {
  auto& blk = connectivity_[projection].block(part.index);
  const float* weight = blk.weight.data();
  if (auto* rule = network_.projections()[projection].plasticity.get()) {
    rule->on_pre(part.index, blk, group, t);
    // Short-term plasticity: the amounts on_pre wrote, not the weights.
    if (const float* amounts = rule->delivered(part.index)) weight = amounts;
  }
  const DelayGroup g = blk.group(group);
  const auto tq = network_.projections()[projection].target;
  Inputs& in = inputs_[tq];
  float* ex = in.ex.data();
  float* inh = in.in.data();
  if (modes_[tq] == UpdateMode::event_driven) {
    auto& touched = part.touched[tq];
    for (std::uint32_t k = g.begin; k < g.end; ++k) {
      const NeuronIndex j = blk.target_of(g, k);
      const float w = weight[k];
      (w >= 0 ? ex : inh)[j] += w;
      if (!in.touched[j]) {
        in.touched[j] = 1;
        touched.push_back(j);
      }
    }
  } else if (g.consecutive) {
    // Dense rows (all-to-all, multi-tap): a plain vector loop. Adding
    // max(w, 0) to ex and min(w, 0) to in gives the same sums as routing by
    // sign: the other array gets a zero, which changes no value.
    float* __restrict e = ex + g.first;
    float* __restrict i = inh + g.first;
    const float* __restrict w = weight + g.begin;
    const std::uint32_t n = g.end - g.begin;
    for (std::uint32_t k = 0; k < n; ++k) {
      e[k] += std::max(w[k], 0.0f);
      i[k] += std::min(w[k], 0.0f);
    }
  } else {
    blk.with_targets(g, [&](const auto* target, NeuronIndex base) {
      float* e = ex + base;
      float* i = inh + base;
      const float* w = weight + g.begin;
      const std::uint32_t n = g.end - g.begin;
      for (std::uint32_t k = 0; k < n; ++k) (w[k] >= 0 ? e : i)[target[k]] += w[k];
    });
  }
}

namespace {
// A function that only prefetches has no side effect GCC can see: its
// pure-const analysis marks it const, and a call to it that returns nothing
// is deleted. Until this was found, GCC 12 had removed every
// prefetch of filing and, once its lambdas were shared, of delivery (COBA
// 64,000: loop 1.4 -> 2.3 s). Each prefetching helper is therefore inlined
// into the loop that calls it, before that analysis runs.
#define SPIKELINE_PREFETCHER __attribute__((always_inline))

// Fetches every cache line of [p, p + bytes), at most kMaxLines of them: a
// group of 80 synapses spans 5 lines of weights and 3 of targets, and only
// the first of each was fetched before (COBA 64,000: 75% of delivery's time
// on those loads).
[[gnu::always_inline]] inline void prefetch_lines(const void* p, std::size_t bytes) {
  constexpr std::size_t kLine = 64, kMaxLines = 16;
  const auto first = reinterpret_cast<std::uintptr_t>(p) & ~(kLine - 1);
  const auto last = reinterpret_cast<std::uintptr_t>(p) + (bytes == 0 ? 0 : bytes - 1);
  std::size_t lines = 0;
  for (std::uintptr_t a = first; a <= last && lines < kMaxLines; a += kLine, ++lines) {
    __builtin_prefetch(reinterpret_cast<const void*>(a));
  }
}
}  // namespace

// The groups of a bucket belong to whichever sources spiked: in a large
// network each is a cache miss for its header and another for its weights and
// targets, and delivery waits on memory (PD14: the two loads were 70% of the
// loop's time). The bucket says in advance which groups come, so their
// headers are fetched kHeaderAhead deliveries ahead and their synapses
// kDataAhead ahead (once the header is in cache).
void Simulator::deliver_bucket(Partition& part, Step t) {
  auto& bucket = part.ring[static_cast<std::size_t>(t) % ring_size_];
  constexpr std::size_t kHeaderAhead = 16, kDataAhead = 8;
  const std::size_t n = bucket.size();
  auto block = [&](std::size_t i) -> const SynapseBlock& {
    return connectivity_[bucket[i].projection].block(part.index);
  };
  auto fetch_header = [&](std::size_t i) SPIKELINE_PREFETCHER {
    __builtin_prefetch(block(i).groups.data() + bucket[i].group);
  };
  auto fetch_synapses = [&](std::size_t i) SPIKELINE_PREFETCHER {
    const SynapseBlock& b = block(i);
    const PackedGroup* g = b.groups.data() + bucket[i].group;
    const std::uint32_t count = g[1].begin - g->begin;
    prefetch_lines(b.weight.data() + g->begin, count * sizeof(float));
    if (!g->consecutive) {
      prefetch_lines(b.target_address(*g),
                     count * (b.narrow ? sizeof(std::uint16_t) : sizeof(NeuronIndex)));
    }
  };
  // The first deliveries are fetched before the loop: a small bucket (COBA
  // 4,000: 8 groups per step) never reached the distances below, and its
  // groups' misses came one after another.
  for (std::size_t i = 0; i < std::min(n, kHeaderAhead); ++i) fetch_header(i);
  for (std::size_t i = 0; i < std::min(n, kDataAhead); ++i) fetch_synapses(i);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kHeaderAhead < n) fetch_header(i + kHeaderAhead);
    if (i + kDataAhead < n) fetch_synapses(i + kDataAhead);
    deliver(part, bucket[i].projection, bucket[i].group, t);
  }
  bucket.clear();
}

void Simulator::handle_event(Partition& part, Step t) {
  auto& pops = network_.populations();
  const Event e = part.queue.top();
  part.queue.pop();
  switch (e.kind) {
    case EventKind::current: {
      const auto& s = network_.stimuli()[e.a];
      const double delta = s.changes[e.b].delta_pA;
      auto& cur = inputs_[s.population].current;
      for (const NeuronIndex i : part.stim_neurons[e.a]) cur[i] += delta;
      break;
    }
    case EventKind::emission: {
      part.spikes.push_back({t, e.a, e.b});
      const Step next = pops[e.a].population->next_spike(e.b);
      if (next != kNever) {
        if (next < t) {
          throw Error(ExitCode::software,
                      fmt::format("model '{}' scheduled a spike in the past (step {} < {})",
                                  pops[e.a].model, next, t));
        }
        part.queue.push({next, EventKind::emission, e.a, e.b, 0, 0});
      }
      break;
    }
    case EventKind::clamp:
      part.clamped[e.a].push_back(e.b);  // in neuron order: the queue's total order
      break;
    default:
      throw Error(ExitCode::software,
                  fmt::format("unexpected event kind {} in the queue", static_cast<int>(e.kind)));
  }
}

void Simulator::drive(Partition& part, std::size_t k, Step t) {
  const PoissonInput& d = network_.poisson_inputs()[k];
  const PoissonDrive& p = d.drive;
  if (t <= p.start_step || t > p.stop_step) return;
  const double mean = p.sources * p.rate_hz * 1e-3 * grid().dt();
  if (!(mean > 0)) return;
  const auto q = d.population;
  Inputs& in = inputs_[q];
  float* target = p.weight >= 0 ? in.ex.data() : in.in.data();
  const auto weight = static_cast<float>(p.weight);
  const bool lazy = modes_[q] == UpdateMode::event_driven;
  const std::uint32_t stream = stream_id(StreamKind::poisson_input, static_cast<std::uint32_t>(k));
  const std::uint64_t seed = network_.seed();
  const auto& neurons = part.drive_neurons[k];
  const auto add = [&](NeuronIndex j, std::uint64_t count) {
    target[j] += static_cast<float>(count) * weight;
    if (lazy && !in.touched[j]) {
      in.touched[j] = 1;
      part.touched[q].push_back(j);
    }
  };
  // The count of neuron j at step t is a function of (seed, k, j, t) only.
  // Below a mean of 10 it is the inverse of the Poisson distribution at the
  // stream's first uniform, drawn for a run of neurons at once (most steps
  // bring nothing: one comparison); above, RandomStream::poisson (PTRS).
  constexpr double kInversionLimit = 10.0;
  if (mean >= kInversionLimit) {
    for (const NeuronIndex j : neurons) add(j, RandomStream(seed, stream, j, t).poisson(mean));
    return;
  }
  const double p0 = std::exp(-mean);
  auto& u = part.drive_uniform;
  const auto count_of = [&](double x) {
    std::uint64_t n = 0;
    double pmf = p0, cdf = p0;
    while (x > cdf && pmf > 0) {
      ++n;
      pmf *= mean / static_cast<double>(n);
      cdf += pmf;
    }
    return n;
  };
  // The neurons come as runs of consecutive ids (all of a range, or a node
  // list); each run's uniforms are drawn at once.
  for (std::size_t a = 0; a < neurons.size();) {
    std::size_t b = a + 1;
    while (b < neurons.size() && neurons[b] == neurons[b - 1] + 1) ++b;
    u.resize(b - a);
    uniform_per_entity(seed, stream, neurons[a], static_cast<std::uint64_t>(t), b - a, u.data());
    for (std::size_t j = 0; j < b - a; ++j) {
      if (u[j] > p0) add(neurons[a + j], count_of(u[j]));
    }
    a = b;
  }
}

const double* Simulator::wave_current(const Partition& part, std::size_t q, Step t) {
  Inputs& in = inputs_[q];
  const IndexRange r = part.ranges[q];
  // The changes' sum, then each wave in stimulus order: the same sums for
  // a neuron however the neurons are partitioned.
  std::copy(in.current.begin() + r.begin, in.current.begin() + r.end, in.total.begin() + r.begin);
  for (const std::uint32_t k : in.waves) {
    const auto& mine = part.stim_neurons[k];
    if (!mine.empty()) network_.stimuli()[k].wave->add(t, mine, in.total.data());
  }
  return in.total.data();
}

void Simulator::step_partition(Partition& part, Step t) {
  auto& pops = network_.populations();
  // 1. Events due now, in their total order: current changes, then spike
  // deliveries, then generator emissions (see event_queue.hpp).
  while (part.queue.due(t) && part.queue.top().kind < EventKind::delivery) {
    handle_event(part, t);
  }
  deliver_bucket(part, t);
  while (part.queue.due(t)) handle_event(part, t);
  // Poisson inputs add after the deliveries, in their order: the sums into
  // a neuron's input happen in the same order however the work is split.
  for (std::size_t k = 0; k < network_.poisson_inputs().size(); ++k) {
    if (!part.drive_neurons[k].empty()) drive(part, k, t);
  }
  // 2. Update the populations.
  for (std::size_t q = 0; q < pops.size(); ++q) {
    const IndexRange r = part.ranges[q];
    if (r.begin == r.end || modes_[q] == UpdateMode::scheduled) continue;
    Inputs& in = inputs_[q];
    if (dropout_[q].p > 0) apply_dropout(part, q, t);
    const InputView view{in.ex.data(), in.in.data(),
                         !in.total.empty()    ? wave_current(part, q, t)
                         : in.current.empty() ? nullptr
                                              : in.current.data()};
    part.emitted.clear();
    SpikeSink sink(part.emitted);
    auto& clamped = part.clamped[q];
    if (modes_[q] == UpdateMode::stepped) {
      pops[q].population->update(t, r, view, sink);
    } else {
      auto& touched = part.touched[q];
      if (!touched.empty()) {
        pops[q].population->update_touched(t, touched, view, sink);
        for (const NeuronIndex j : touched) in.touched[j] = 0;
        touched.clear();
      } else if (clamped.empty()) {
        continue;
      }
    }
    if (!clamped.empty()) {
      // The union of own and clamped spikes, each neuron once, in order.
      std::sort(part.emitted.begin(), part.emitted.end());
      const std::size_t own = part.emitted.size();
      for (const NeuronIndex i : clamped) {
        if (!std::binary_search(part.emitted.begin(), part.emitted.begin() + own, i))
          part.emitted.push_back(i);
      }
      std::inplace_merge(part.emitted.begin(), part.emitted.begin() + own, part.emitted.end());
      part.emitted.erase(std::unique(part.emitted.begin(), part.emitted.end()), part.emitted.end());
      clamped.clear();
    }
    for (const NeuronIndex i : part.emitted) {
      part.spikes.push_back({t, static_cast<std::uint32_t>(q), i});
    }
    // Postsynaptic spikes reach the plastic synapses onto them.
    for (const std::uint32_t k : plastic_into_[q]) {
      auto& rule = *network_.projections()[k].plasticity;
      auto& blk = connectivity_[k].block(part.index);
      const auto& in = part.incoming[k];
      for (const NeuronIndex i : part.emitted) {
        const std::uint32_t b = in.ptr[i - in.first], e = in.ptr[i - in.first + 1];
        rule.on_post(part.index, blk, i, {in.synapse.data() + b, e - b},
                     {in.group.data() + b, e - b}, t);
      }
    }
  }
}

// Each spike's row and then its first groups are cache misses in a large
// network (COBA 16,000: 90% of this function's time on those two loads):
// the rows of spike i + 16 and the groups of spike i + 8 are fetched ahead.
// A projection whose synapses all have one delay (COBA, most networks) needs
// no group read here at all: its groups are first touched when delivered,
// and fetched ahead there (COBA 64,000: the group loads were 70% of this
// function's time; the prefetches below were then missing from the binary,
// see SPIKELINE_PREFETCHER).
void Simulator::enqueue(Partition& part, std::span<const SpikeRecord> spikes) {
  constexpr std::size_t kRowAhead = 16, kGroupAhead = 8;
  auto prefetch = [&](std::size_t i, bool groups) SPIKELINE_PREFETCHER {
    const SpikeRecord& s = spikes[i];
    for (const std::uint32_t k : projections_from_[s.population]) {
      const auto& blk = connectivity_[k].block(part.index);
      if (blk.row.empty() || !may_have(part.sources[k], s.neuron)) continue;
      if (!groups) {
        __builtin_prefetch(blk.row.data() + s.neuron);
      } else if (connectivity_[k].distinct_delays() != 1) {
        __builtin_prefetch(blk.groups.data() + blk.row[s.neuron]);
      }
    }
  };
  // The bucket of step s + d is (s mod size) + d, less size once at most
  // (d <= max delay < size): one division per spike step, not per group.
  Step base_step = -1;
  std::size_t base = 0;
  auto bucket = [&](std::uint32_t delay) -> std::vector<Partition::Delivery>& {
    std::size_t b = base + delay;
    if (b >= ring_size_) b -= ring_size_;
    return part.ring[b];
  };
  for (std::size_t i = 0; i < spikes.size(); ++i) {
    if (i + kRowAhead < spikes.size()) prefetch(i + kRowAhead, false);
    if (i + kGroupAhead < spikes.size()) prefetch(i + kGroupAhead, true);
    const SpikeRecord& s = spikes[i];
    if (s.step != base_step) {
      base_step = s.step;
      base = static_cast<std::size_t>(s.step) % ring_size_;
    }
    for (const std::uint32_t k : projections_from_[s.population]) {
      // A clear bit: no synapse of this source here (the row's two entries
      // would be equal), so nothing would be filed.
      if (!may_have(part.sources[k], s.neuron)) continue;
      const Connectivity& c = connectivity_[k];
      const auto& blk = c.block(part.index);
      if (blk.row.empty()) continue;
      const std::uint32_t first = blk.row[s.neuron];
      const std::uint32_t last = blk.row[s.neuron + 1];
      if (c.distinct_delays() == 1) {
        auto& to = bucket(c.min_delay());
        for (std::uint32_t g = first; g < last; ++g) to.push_back({k, g});
      } else {
        for (std::uint32_t g = first; g < last; ++g) bucket(blk.groups[g].delay).push_back({k, g});
      }
    }
  }
}

Step Simulator::guard_steps() const {
  return std::max<Step>(1, std::llround(options_.guard_interval_ms / grid().dt()));
}

void Simulator::check_guards(Step window_end) {
  const auto& pops = network_.populations();
  if (options_.max_rate_hz > 0) {
    const Step interval = guard_steps();
    if (window_end - guard_start_ >= interval) {
      const double seconds = grid().to_ms(window_end - guard_start_) / 1000.0;
      for (std::size_t q = 0; q < pops.size(); ++q) {
        const double rate = static_cast<double>(guard_counts_[q]) /
                            (seconds * static_cast<double>(pops[q].population->size()));
        if (rate > options_.max_rate_hz) {
          throw GuardError(fmt::format(
              "population '{}' fired at {:.1f} Hz between {} and {} ms, above the limit "
              "max_rate = {} Hz: the run was stopped (runaway activity)",
              pops[q].name, rate, grid().to_ms(guard_start_), grid().to_ms(window_end),
              options_.max_rate_hz));
        }
      }
      std::fill(guard_counts_.begin(), guard_counts_.end(), 0);
      guard_start_ = window_end;
    }
  }
  if (options_.wall_limit_s > 0) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (elapsed > options_.wall_limit_s) {
      throw GuardError(fmt::format(
          "the run took {:.1f} s of wall-clock time, above the limit wall_limit = {} s: stopped at "
          "{} ms of simulated time",
          elapsed, options_.wall_limit_s, grid().to_ms(window_end)));
    }
  }
}

void Simulator::check_state(Step now) {
  // Between windows, on this thread: no partition is stepping. One virtual
  // call per population and partition; the models scan their own arrays
  // (COBA 4,000: 12,000 values per guard interval of 1,000 steps).
  state_checked_ = now;
  next_state_check_ = (now / guard_steps() + 1) * guard_steps();
  const auto& pops = network_.populations();
  for (std::size_t q = 0; q < pops.size(); ++q) {
    const Population& pop = *pops[q].population;
    if (pop.state_vars().empty()) continue;  // generators
    for (const auto& part : partitions_) {
      const auto bad = pop.find_non_finite(part->ranges[q], now);
      if (!bad) continue;
      state_failure_key_ = (std::uint64_t{q} << 32) | part->index;
      const StateVarInfo& var = pop.state_vars()[bad->variable];
      throw GuardError(fmt::format(
          "population '{}' neuron {}: state variable {} = {}{} at {} ms is not a finite number: "
          "the run was stopped (the model diverged; check its parameters, initial values and "
          "inputs; the state is checked every guard_interval = {} ms of simulated time, "
          "before each flush and at the end)",
          pops[q].name, bad->neuron, var.name,
          std::isnan(bad->value) ? "nan" : fmt::format("{}", bad->value),
          var.unit.empty() ? "" : " " + var.unit, grid().to_ms(now), grid().to_ms(guard_steps())));
    }
  }
}

template <typename F>
void Simulator::for_each_partition(F&& f) {
  if (options_.threads == 1) {
    // No task dispatch for a serial run: windows can be a single step.
    for (auto& part : partitions_) f(*part);
    return;
  }
  arena_->arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, partitions_.size(), 1),
        [&](const tbb::blocked_range<std::size_t>& range) {
          for (std::size_t p = range.begin(); p != range.end(); ++p) f(*partitions_[p]);
        },
        tbb::simple_partitioner());
  });
}

void Simulator::plan_probes(unsigned set, Step t0, Step t1) {
  const auto& probes = network_.probes();
  auto& [plans, frames] = probe_sets_[set];
  // Which samples each probe takes in (t0, t1] (none after its stop).
  for (std::size_t k = 0; k < probes.size(); ++k) {
    const auto& pr = probes[k];
    auto first_m = [&](Step after) {  // smallest m with start + m*interval > after
      after = std::min(after, pr.stop);
      if (after < pr.start) return std::int64_t{0};
      return static_cast<std::int64_t>((after - pr.start) / pr.interval + 1);
    };
    auto& plan = plans[k];
    plan.first_sample = first_m(t0);
    plan.rows = first_m(t1) - plan.first_sample;
    plan.columns = pr.neurons.size() * pr.variables.size();
    frames[k].assign(static_cast<std::size_t>(plan.rows) * plan.columns, 0.0f);
  }
}

void Simulator::sample_probes(const Partition& part, Step t) {
  const auto& probes = network_.probes();
  auto& [plans, frames] = probe_sets_[sampling_];
  for (std::size_t k = 0; k < probes.size(); ++k) {
    const auto& pr = probes[k];
    if (t < pr.start || t > pr.stop || (t - pr.start) % pr.interval != 0) continue;
    const auto& plan = plans[k];
    const auto row = (t - pr.start) / pr.interval - plan.first_sample;
    float* frame = frames[k].data() + row * plan.columns;
    const auto& pop = *network_.populations()[pr.population].population;
    for (const auto& col : part.probe_columns[k]) {
      frame[col.column] = static_cast<float>(pop.state(col.variable, col.neuron, t));
    }
  }
}

void Simulator::step_window(Partition& part, Step t0, Step t1, const std::function<void()>* poll) {
  part.spikes.clear();
  for (Step t = t0 + 1; t <= t1; ++t) {
    step_partition(part, t);
    sample_probes(part, t);
    if (poll != nullptr) (*poll)();
  }
  // Sorted here, in parallel, so that the exchange merges. A partition's
  // spikes come in step order and, within a step, in population and neuron
  // order, except for generators' emissions (filed before the updates).
  if (!std::is_sorted(part.spikes.begin(), part.spikes.end())) {
    std::sort(part.spikes.begin(), part.spikes.end());
  }
}

// The encoding is relative to the epoch's first step, so that a record
// holds its step in 32 bits (Epoch::t0 decodes it).
void Simulator::start_exchange(Epoch& epoch, std::uint64_t flags) {
  // One sorted list, identical whatever the partitioning (the order is
  // total: a neuron spikes once per step). The partitions' lists are
  // sorted, so merging them one after another costs n per partition
  // instead of n log n (COBA 64,000 at 2 threads: the sort was 4,000 of
  // the 8,700 ticks per step the helper waited for).
  const bool alone = comm_->size() == 1;
  epoch.flags = flags;
  auto& out = alone ? epoch.spikes : window_spikes_;
  // A process that failed stepped nothing (its lists are an older epoch's):
  // it sends no spikes, and every process then agrees on the failure.
  if (flags & kFailedFlag) {
    out.clear();
    for (auto& part : partitions_) part->spikes.clear();
  }
  out.assign(partitions_[0]->spikes.begin(), partitions_[0]->spikes.end());
  for (std::size_t p = 1; p < partitions_.size(); ++p) {
    const auto& more = partitions_[p]->spikes;
    if (more.empty()) continue;
    merge_scratch_.clear();
    std::merge(out.begin(), out.end(), more.begin(), more.end(),
               std::back_inserter(merge_scratch_));
    std::swap(out, merge_scratch_);
  }
  if (alone) return;
  // The buffers live from window to window: allocated per window, the
  // received records (above glibc's mmap threshold from about 64 KiB) cost
  // page faults every window, 1.9-4.2 ms against 20-250 us for the bare
  // MPI_Allgatherv at 25,000 records per rank (bench/results/mpi_scaling.md).
  wire_out_.resize(out.size() * sizeof(WireSpike));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const SpikeRecord& s = out[i];
    const WireSpike w{static_cast<std::uint32_t>(gid_base_[s.population] + s.neuron),
                      static_cast<std::uint32_t>(s.step - epoch.t0 - 1)};
    std::memcpy(wire_out_.data() + i * sizeof w, &w, sizeof w);
  }
  exchange_ = comm_->start_allgatherv(wire_out_, wire_in_, wire_counts_, flags);
}

// Every process's spikes of the epoch, in the order one process gives them.
// Each process's list is sorted by (step, population, neuron), which is the
// order of (step offset, global id); the allgather hands them over in rank
// order and a merge rebuilds the one sorted list. The order is total (a
// neuron spikes once per step; a generator's repeated spikes in a step are
// equal records), so the merged list is the single process's, element by
// element: every partition then files the same deliveries in the same order.
//
// The exchange also carries each process's stop request (a signal reaches
// the processes at different moments): all stop after the same window; and
// whether it failed: all then agree on the failure (run_until).
std::span<const SpikeRecord> Simulator::finish_exchange(Epoch& epoch, std::uint64_t& flags) {
  flags = epoch.flags;
  if (comm_->size() > 1) {
    try {
      flags = std::exchange(exchange_, nullptr)->wait();
      if (flags & kFailedFlag) return {};  // agreed on next
    } catch (const CommunicationError& e) {
      throw CommunicationError(
          e.code(), fmt::format("the spike exchange of the window ({}, {}] ms: {}",
                                grid().to_ms(epoch.t0), grid().to_ms(epoch.t1), e.what()));
    }
    const auto decode = [&](std::size_t i) {
      WireSpike w;
      std::memcpy(&w, wire_in_.data() + i * sizeof w, sizeof w);
      const auto q = static_cast<std::uint32_t>(
          std::upper_bound(gid_base_.begin(), gid_base_.end(), std::uint64_t{w.gid}) -
          gid_base_.begin() - 1);
      return SpikeRecord{epoch.t0 + 1 + static_cast<Step>(w.step_offset), q,
                         static_cast<NeuronIndex>(w.gid - gid_base_[q])};
    };
    auto& all = epoch.spikes;
    all.clear();
    std::size_t at = 0;
    for (const std::size_t bytes : wire_counts_) {
      const std::size_t n = bytes / sizeof(WireSpike);
      wire_block_.clear();
      for (std::size_t i = at; i < at + n; ++i) wire_block_.push_back(decode(i));
      at += n;
      if (wire_block_.empty()) continue;
      merge_scratch_.clear();
      std::merge(all.begin(), all.end(), wire_block_.begin(), wire_block_.end(),
                 std::back_inserter(merge_scratch_));
      std::swap(all, merge_scratch_);
    }
  }
  for (const auto& s : epoch.spikes) {
    ++spike_counts_[s.population];
    ++guard_counts_[s.population];
  }
  return epoch.spikes;
}

// Each process sampled the columns of its own partitions into its frame
// buffers; rank 0, which writes them, needs every column. Per probe that
// samples in this epoch (the plan is the same everywhere): the number of
// this process's columns, then each column's index and its rows' values.
// One gather per epoch that samples, of what was sampled (blocking: it does
// not overlap computation).
void Simulator::gather_frames(ProbeFrames& set) {
  auto& [plans, frames] = set;
  if (std::none_of(plans.begin(), plans.end(), [](const ProbeWindow& p) { return p.rows > 0; })) {
    return;
  }
  std::vector<std::byte> mine;
  const auto put = [&](const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    mine.insert(mine.end(), b, b + n);
  };
  if (comm_->rank() != 0) {
    for (std::size_t k = 0; k < plans.size(); ++k) {
      const auto& plan = plans[k];
      if (plan.rows <= 0) continue;
      std::uint32_t n = 0;
      for (const auto& part : partitions_) n += part->probe_columns[k].size();
      put(&n, sizeof n);
      for (const auto& part : partitions_) {
        for (const auto& col : part->probe_columns[k]) {
          put(&col.column, sizeof col.column);
          for (std::int64_t row = 0; row < plan.rows; ++row) {
            put(&frames[k][row * plan.columns + col.column], sizeof(float));
          }
        }
      }
    }
  }
  std::vector<std::byte> all;
  std::vector<std::size_t> counts;
  comm_->gatherv(mine, all, counts);
  std::size_t at = 0;
  const auto get = [&](void* p, std::size_t n) {
    std::memcpy(p, all.data() + at, n);
    at += n;
  };
  for (std::size_t r = 1; r < counts.size(); ++r) {
    for (std::size_t k = 0; k < plans.size(); ++k) {
      const auto& plan = plans[k];
      if (plan.rows <= 0) continue;
      std::uint32_t n = 0;
      get(&n, sizeof n);
      for (std::uint32_t c = 0; c < n; ++c) {
        std::uint32_t column = 0;
        get(&column, sizeof column);
        for (std::int64_t row = 0; row < plan.rows; ++row) {
          get(&frames[k][row * plan.columns + column], sizeof(float));
        }
      }
    }
  }
}

std::vector<float> Simulator::probe_frame(std::size_t probe) const {
  const auto& probes = network_.probes();
  if (probe >= probes.size()) {
    throw Error(ExitCode::software, fmt::format("probe_frame: no probe {}", probe));
  }
  const auto& pr = probes[probe];
  const auto& pop = *network_.populations()[pr.population].population;
  std::vector<float> frame;
  frame.reserve(pr.neurons.size() * pr.variables.size());
  for (const NeuronIndex i : pr.neurons) {
    for (const std::size_t v : pr.variables) {
      frame.push_back(static_cast<float>(pop.state(v, i, now_)));
    }
  }
  return frame;
}

// The loop in epochs (docs/mpi-design.md 3.3). Without overlap an epoch is
// a window of window_steps_ <= W steps (W: the shortest delay):
//
//   phase(k):  file the global spikes of epoch k-1; step epoch k
//   then:      exchange epoch k's spikes; observers, guards of epoch k
//
// With overlap each window is two epochs of floor(L/2) and ceil(L/2)
// steps (L = window_steps_ >= 2), so that two consecutive epochs span at
// most W steps: a spike of epoch j (step >= t_j + 1, delay >= W) arrives at
// t_{j+2} + 1 or later, and epoch j+1 can be stepped before epoch j's
// spikes are known:
//
//   phase(k):  file the global spikes of epoch k-2; step epoch k, while the
//              main thread moves epoch k-1's exchange on (between its
//              partitions and steps: Open MPI progresses only in MPI calls)
//   then:      wait for epoch k-1's exchange; observers, guards of epoch k-1;
//              start epoch k's exchange
//
// The results do not change: each partition files the epochs in time order,
// each one sorted, so every delay bucket fills in global emission order as
// before; a reward that a trigger schedules for a spike of epoch j (delay
// >= W, checked by the caller) falls after t_{j+2} = now(), on every
// process alike. Guards and stops act at window ends, as without overlap;
// the state is checked at a window's end when it is current and the
// verdict reported after the observer and the guards, in that order. What
// changes: observers and agreements come one epoch later (a stop or a
// failure ends the run one window later), and there are twice as many
// exchanges.
bool Simulator::run_until(Step stop, SimulationObserver& observer, bool check_at_end) {
  // The wall-clock guard counts from the first call: a run made of several
  // run_until calls (one per flush or snapshot) is still one run.
  // (The rate guard's interval is state: it starts at step 0, or where a
  // checkpoint left it.)
  if (!clock_started_) {
    started_ = std::chrono::steady_clock::now();
    clock_started_ = true;
  }
  // Epoch k is epochs_[k % 3]: epoch k-2 waits to be filed while k-1's
  // exchange is in flight and k is stepped.
  auto& epochs = epochs_;
  std::uint64_t k = 0;
  bool unsent = false;     // epoch k is stepped, its exchange not started
  bool in_flight = false;  // epoch k-1's exchange is started, not finished
  // Epochs whose global spikes are still to be filed, in time order. Each
  // partition files them at the start of the next phase, before it steps:
  // one parallel phase per epoch instead of two (COBA's windows are single
  // steps). The last ones are filed before returning, so that between calls
  // (checkpoints, weight reads) nothing is pending.
  std::vector<std::uint64_t> unfiled;
  bool stepping = true;
  Step t0 = now_, t1 = now_;
  const auto main_thread = std::this_thread::get_id();
  bool exchanged = true;  // the exchange in flight (if any) is complete
  const std::function<void()> poll = [&] {
    if (!exchanged && exchange_) exchanged = exchange_->test();
  };
  const bool polling = overlap_ && comm_->size() > 1;
  auto task = [&](Partition& part) {
    for (const std::uint64_t j : unfiled) enqueue(part, epochs[j % 3].spikes);
    if (stepping) {
      step_window(part, t0, t1,
                  polling && std::this_thread::get_id() == main_thread ? &poll : nullptr);
    }
  };
  const std::function<void(std::size_t)> team_task = [&](std::size_t p) { task(*partitions_[p]); };
  auto phase = [&] {
    try {
      if (team_) {
        team_->run(team_task, polling ? &poll : nullptr);
      } else {
        for (auto& part : partitions_) {
          task(*part);
          if (polling) poll();
        }
      }
    } catch (...) {
      unfiled.clear();  // filed by every task before it stepped
      throw;
    }
    unfiled.clear();
  };

  bool completed = true;
  // Several processes learn of a stop request in the exchange, so that all
  // stop after the same window (one window later than one process would).
  const bool alone = comm_->size() == 1;
  bool stop_seen = false;
  // Likewise of a failure: a process that fails (a model's update, a
  // guard, its observer's write, a NaN in its partitions) keeps it, does
  // nothing more, and says so in the next exchange, which every process
  // joins; then all agree on one failure and throw it. Thrown at once, the
  // others would wait for ever in an exchange it never joins. The key says
  // which failure one process would have met first: the checks after a
  // window (observer, guards, state, in that order) before the next
  // window's computation; within the state check, the first population
  // and partition.
  std::exception_ptr failure;
  std::uint64_t failure_key = 0;
  enum Stage : std::uint64_t { kObserver, kGuard, kState, kPhase };
  auto guarded = [&](Stage stage, auto&& f) {
    if (alone) return f();
    if (failure || !(failure = failure_of(f))) return;
    const auto rank = static_cast<std::uint64_t>(comm_->rank());
    failure_key = (std::uint64_t{stage} << 56) | (stage == kState ? state_failure_key_ : rank);
  };
  // Epoch j's exchange finished, its spikes counted and handed to the
  // observer; the guards at a window's end.
  auto complete = [&](std::uint64_t j) {
    Epoch& ep = epochs[j % 3];
    std::uint64_t flags = 0;
    const std::span<const SpikeRecord> spikes = finish_exchange(ep, flags);
    if (flags & kFailedFlag) agree(*comm_, failure, failure_key);  // throws everywhere
    if (flags & kStopFlag) stop_seen = true;
    unfiled.push_back(j);
    ProbeFrames& set = probe_sets_[ep.probes];
    if (!alone) gather_frames(set);
    guarded(kObserver, [&] {
      observer.on_spikes(spikes);
      for (std::size_t p = 0; p < set.plan.size(); ++p) {
        if (set.plan[p].rows > 0) observer.on_frames(p, set.frames[p]);
      }
      if (ep.window_end) observer.on_window(ep.t1);
    });
    if (!ep.window_end) return;
    guarded(kGuard, [&] { check_guards(ep.t1); });
    if (ep.state_failure) {
      guarded(kState, [&] {
        state_failure_key_ = ep.state_key;
        std::rethrow_exception(std::exchange(ep.state_failure, nullptr));
      });
    }
  };
  const Step first_part = overlap_ ? window_steps_ / 2 : window_steps_;
  Step window_end = now_;
  try {
    while (now_ < stop) {
      const bool window_start = now_ == window_end;
      if (window_start) {
        if (stop_seen || (alone && stop_requested_.load(std::memory_order_relaxed))) {
          completed = false;
          break;
        }
        window_end = std::min(stop, now_ + window_steps_);
      }
      Epoch& ep = epochs[k % 3];
      ep.t0 = t0 = now_;
      ep.t1 = t1 = window_start ? std::min(window_end, now_ + first_part) : window_end;
      ep.window_end = ep.t1 == window_end;
      ep.probes = sampling_ = static_cast<unsigned>(k % 2);
      ep.state_failure = nullptr;
      plan_probes(ep.probes, t0, t1);
      guarded(kPhase, phase);
      unsent = true;
      now_ = t1;
      // The state at a window's end is current only now.
      if (ep.window_end && now_ >= next_state_check_ && !failure) {
        ep.state_failure = failure_of([&] { check_state(now_); });
        ep.state_key = state_failure_key_;
      }
      if (in_flight) {
        in_flight = false;
        complete(k - 1);
      }
      std::uint64_t flags = stop_requested_.load(std::memory_order_relaxed) ? kStopFlag : 0;
      if (failure) flags |= kFailedFlag;
      start_exchange(ep, flags);
      unsent = false;
      exchanged = false;
      in_flight = true;
      if (!overlap_) {
        in_flight = false;
        complete(k);
      }
      ++k;
    }
    if (in_flight) {
      in_flight = false;
      complete(k - 1);
    }
    if (stop_seen) completed = false;
    if (completed && check_at_end && state_checked_ != now_) {
      guarded(kState, [&] { check_state(now_); });
    }
    // What the last window's checks found (one collective per call).
    if (!alone) agree(*comm_, failure, failure_key);
  } catch (...) {
    // A guard or an observer stopped the run: leave the delay lines whole,
    // on this thread alone. (After a task's own error nothing is pending.)
    // One process also files an epoch stepped after the one the observer
    // saw (with overlap); of several, the run is over for every process.
    exchange_.reset();
    if (alone) {
      if (in_flight) unfiled.push_back(k - 1);
      if (unsent) {
        start_exchange(epochs[k % 3], 0);
        unfiled.push_back(k);
      }
    }
    for (auto& part : partitions_) {
      for (const std::uint64_t j : unfiled) enqueue(*part, epochs[j % 3].spikes);
    }
    throw;
  }
  stepping = false;
  if (!unfiled.empty()) phase();
  return completed;
}

}  // namespace spikeline
