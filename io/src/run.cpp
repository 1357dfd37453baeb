#include "spikeline/io/run.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>

#include <tbb/global_control.h>

#include "spikeline/engine/event_queue.hpp"
#include "spikeline/engine/simulator.hpp"
#include "spikeline/io/build.hpp"
#include "spikeline/io/reward_input.hpp"
#include "spikeline/io/sonata_writer.hpp"

namespace spikeline::io {

namespace {

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
  RunObserver(Simulator& sim, SonataWriter* writer, std::vector<int> spike_slot, Step stop,
              bool progress, const volatile std::sig_atomic_t* stop_signal)
      : sim_(sim),
        writer_(writer),
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
  void add_trigger(RewardTrigger t) { triggers_.push_back(std::move(t)); }
  void end_progress() const {
    if (progress_) std::fprintf(stderr, "\n");
  }

 private:
  Simulator& sim_;
  SonataWriter* writer_;
  std::vector<int> spike_slot_;
  std::vector<RewardTrigger> triggers_;
  Step stop_;
  bool progress_;
  const volatile std::sig_atomic_t* stop_signal_;
  std::vector<std::vector<double>> times_;
  std::vector<std::vector<std::uint64_t>> ids_;
  double last_print_ = -1;
  Clock::time_point started_;
};

// Samples the synapses of one [[record_weights]]: all of a projection's, or
// the chosen ones, read through the plasticity rule without changing it.
class WeightRecorder {
 public:
  WeightRecorder(const Simulator& sim, const WeightRecordConfig& config,
                 const WeightRecordInfo& info)
      : projection_(info.projection), variables_(info.variables) {
    const Connectivity& conn = sim.connectivity(projection_);
    if (!config.chosen()) {
      locations_ = conn.canonical_locations();
      return;
    }
    const std::string& proj = config.projection;
    for (const auto id : config.synapses) {
      if (id >= conn.size()) {
        throw ConfigError(fmt::format(
            "record_weights '{}': synapse (edge id) {} is out of range: projection '{}' has {} "
            "synapses (ids 0 to {})",
            config.name, id, proj, conn.size(), conn.size() == 0 ? 0 : conn.size() - 1));
      }
      edge_ids_.push_back(id);
    }
    if (!config.sources.empty()) {
      // Canonical order is by source, then target: each pair is a range.
      const auto edges = conn.canonical();
      for (std::size_t i = 0; i < config.sources.size(); ++i) {
        const auto key = std::make_pair(config.sources[i], config.targets[i]);
        const auto range =
            std::equal_range(edges.begin(), edges.end(), key,
                             [](const auto& a, const auto& b) { return pair_of(a) < pair_of(b); });
        if (range.first == range.second) {
          throw ConfigError(fmt::format(
              "record_weights '{}': projection '{}' has no synapse from source {} to target {}",
              config.name, proj, key.first, key.second));
        }
        for (auto it = range.first; it != range.second; ++it) {
          edge_ids_.push_back(static_cast<std::uint64_t>(it - edges.begin()));
        }
      }
    }
    std::sort(edge_ids_.begin(), edge_ids_.end());
    edge_ids_.erase(std::unique(edge_ids_.begin(), edge_ids_.end()), edge_ids_.end());
    const auto all = conn.canonical_locations();
    for (const auto id : edge_ids_) locations_.push_back(all[id]);
  }

  std::size_t size() const { return locations_.size(); }
  const std::vector<std::uint64_t>& edge_ids() const { return edge_ids_; }

  void sample(SonataWriter& w, std::size_t slot, const Simulator& sim) {
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
    w.append_weight_snapshot(slot, sim.grid().to_ms(sim.now()), values_);
  }

 private:
  static std::pair<std::uint64_t, std::uint64_t> pair_of(const SynapseRecord& r) {
    return {r.source, r.target};
  }
  static std::pair<std::uint64_t, std::uint64_t> pair_of(
      const std::pair<std::uint64_t, std::uint64_t>& p) {
    return p;
  }

  std::uint32_t projection_;
  std::vector<std::size_t> variables_;
  std::vector<SynapseLocation> locations_;
  std::vector<std::uint64_t> edge_ids_;
  std::vector<float> values_;
};

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
  std::string pops;
  for (const auto& p : populations) {
    if (!pops.empty()) pops += ",";
    pops += fmt::format(R"({{"name":"{}","size":{},"spikes":{},"rate_hz":{}}})", p.name, p.size,
                        p.spikes, p.rate_hz);
  }
  std::string msg;
  for (char ch : message) {
    if (ch == '"' || ch == '\\') msg += '\\';
    if (ch == '\n') {
      msg += "\\n";
      continue;
    }
    msg += ch;
  }
  std::string rw;
  for (const auto& [name, n] : rewards) {
    if (!rw.empty()) rw += ",";
    rw += fmt::format(R"("{}":{})", name, n);
  }
  return fmt::format(
      R"({{"status":"{}","message":"{}","simulated_ms":{},"build_s":{},"loop_s":{},"total_s":{},"synapses":{},"synapse_bytes":{},"populations":[{}],"rewards":{{{}}}}})",
      status, msg, simulated_ms, build_s, loop_s, total_s, synapses, synapse_bytes, pops, rw);
}

RunResult run(const Config& c, const Registry& registry, const RunOptions& options) {
  const auto t_start = Clock::now();
  RunResult result;
  // The build (synapses are drawn in parallel) uses the run's threads too.
  BuiltNetwork built = [&] {
    const int threads = c.simulation.threads;
    std::optional<tbb::global_control> cap;
    if (threads >= 1 && threads <= 1024) {
      cap.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    }
    return build_network(c, registry);
  }();
  const TimeGrid grid = built.network.grid();
  const Step stop = grid.time_steps(c.simulation.duration_ms, "simulation.duration");
  const Step flush_every = grid.delay_steps(c.output.flush_interval_ms, "output.flush_interval");

  // Population metadata before the network moves into the simulator.
  std::vector<std::string> names, models;
  std::vector<std::uint64_t> sizes;
  for (const auto& p : built.network.populations()) {
    names.push_back(p.name);
    models.push_back(p.model);
    sizes.push_back(p.population->size());
  }
  std::vector<std::pair<std::string, std::pair<std::uint32_t, std::uint32_t>>> proj_meta;
  for (const auto& p : built.network.projections())
    proj_meta.push_back({p.name, {p.source, p.target}});

  SimulationOptions so;
  so.threads = c.simulation.threads;
  so.partitions = c.simulation.partitions;
  so.max_rate_hz = c.simulation.max_rate_hz;
  so.guard_interval_ms = c.simulation.guard_interval_ms;
  so.wall_limit_s = c.simulation.wall_limit_s;
  Simulator sim(std::move(built.network), so);
  result.synapses = sim.synapse_count();
  std::vector<RewardTrigger> triggers;
  for (std::size_t k = 0; k < c.rewards.size(); ++k) {
    const auto& rw = c.rewards[k];
    if (!rw.has_trigger) continue;
    // A reward triggered by a spike in the window just simulated must fall
    // after that window: the smallest delay must span a whole window.
    const double low = rw.delay_ms.is_constant() ? rw.delay_ms.value : rw.delay_ms.low;
    if (std::llround(low / grid.dt()) < sim.window()) {
      throw ConfigError(fmt::format(
          "[[reward]] trigger.delay can be {} ms, shorter than the simulation's lookahead window "
          "of {} ms (the shortest synaptic delay): give it a lower bound >= {} ms",
          low, grid.to_ms(sim.window()), grid.to_ms(sim.window())));
    }
    std::size_t m = 0;
    for (std::size_t j = 0; j < c.neuromodulators.size(); ++j) {
      if (c.neuromodulators[j].name == rw.modulator) m = j;
    }
    auto pop = [&](const std::string& name) {
      return static_cast<std::uint32_t>(std::find(names.begin(), names.end(), name) -
                                        names.begin());
    };
    triggers.push_back(
        {m, rw.amount, pop(rw.pre_population), pop(rw.post_population),
         static_cast<NeuronIndex>(rw.pre_node), static_cast<NeuronIndex>(rw.post_node),
         grid.delay_steps(rw.window_ms, "[[reward]] trigger.window"), rw.delay_ms,
         RandomStream(c.simulation.seed,
                      stream_id(StreamKind::reward, static_cast<std::uint32_t>(k)), 0)});
  }

  result.synapse_bytes = sim.synapse_memory_bytes();

  // External rewards: a file is read and scheduled now (like a schedule in
  // the config); a stream is polled between windows.
  std::optional<RewardInput> reward_input;
  Step reward_poll = 0;
  auto schedule = [&](const std::vector<RewardLine>& lines) {
    for (const auto& line : lines) {
      const std::string where =
          fmt::format("--reward-input {} line {}", reward_input->name(), line.line);
      std::vector<std::string> known;
      std::optional<std::size_t> m;
      for (std::size_t j = 0; j < c.neuromodulators.size(); ++j) {
        known.push_back(c.neuromodulators[j].name);
        if (known.back() == line.modulator) m = j;
      }
      if (!m) {
        throw DataError(fmt::format(
            "{}: unknown neuromodulator '{}'{}; defined: {}", where, line.modulator,
            did_you_mean(line.modulator, known),
            known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", "))));
      }
      Step at = sim.now() + 1;  // as soon as possible
      if (line.time_ms) {
        at = grid.time_steps(*line.time_ms, where + " time");
        if (at <= sim.now()) {
          throw DataError(
              fmt::format("{}: time {} ms is already simulated (the run is at {} ms); "
                          "give a later time, or none for 'as soon as possible'",
                          where, *line.time_ms, grid.to_ms(sim.now())));
        }
      }
      sim.add_reward(*m, at, line.amount);
    }
  };
  if (!options.reward_input.empty()) {
    reward_input.emplace(options.reward_input);
    if (reward_input->is_file()) {
      schedule(reward_input->poll());
    } else {
      reward_poll = grid.delay_steps(options.reward_poll_ms, "--reward-poll");
    }
  }

  // The output file is created only now that everything is known to be valid.
  std::optional<SonataWriter> writer;
  std::vector<int> spike_slot(names.size(), -1);
  // Chosen synapses are resolved (and checked) before the file is created.
  std::vector<WeightRecorder> recorders;
  for (const auto& info : built.weight_records) {
    recorders.emplace_back(sim, c.weight_records[info.record], info);
  }
  if (!c.output.file.empty()) {
    OutputLayout layout;
    layout.path = c.output.file;
    for (std::size_t q = 0; q < names.size(); ++q) {
      if (!c.populations[q].record_spikes) continue;
      spike_slot[q] = static_cast<int>(layout.spikes.size());
      layout.spikes.push_back({names[q], sizes[q]});
    }
    for (const auto& pr : built.probes) {
      layout.reports.push_back({pr.population, pr.variables, pr.units, pr.nodes,
                                grid.to_ms(pr.start), grid.to_ms(pr.interval)});
    }
    if (c.output.write_edges) {
      for (std::size_t k = 0; k < proj_meta.size(); ++k) {
        layout.edges.push_back({proj_meta[k].first, names[proj_meta[k].second.first],
                                names[proj_meta[k].second.second], sim.connectivity(k).size()});
      }
    }
    for (std::size_t r = 0; r < built.weight_records.size(); ++r) {
      const auto& info = built.weight_records[r];
      const auto& config = c.weight_records[info.record];
      WeightSnapshotLayout w;
      w.name = config.name;
      w.projection = config.projection;
      w.count = recorders[r].size();
      w.edge_ids = recorders[r].edge_ids();
      const auto names = sim.synapse_variables(info.projection);
      for (const auto v : info.variables) w.variables.push_back(names[v]);
      layout.weight_snapshots.push_back(std::move(w));
    }
    for (const auto& m : built.modulator_records) {
      layout.modulators.push_back({sim.network().modulators()[m.modulator].name()});
    }
    layout.config_text = c.resolved_toml;
    layout.command_line = options.command_line;
    layout.version = SPIKELINE_VERSION;
    layout.seed = c.simulation.seed;
    layout.threads = c.simulation.threads;
    layout.dt_ms = grid.dt();
    writer.emplace(layout);
  }
  result.build_s = seconds_since(t_start);

  RunObserver obs(sim, writer ? &*writer : nullptr, spike_slot, stop, options.progress,
                  options.stop_signal);
  for (auto& t : triggers) obs.add_trigger(std::move(t));
  const auto t_loop = Clock::now();
  bool completed = true;
  try {
    // Recording (weight snapshots) and flushing are events of a control
    // queue; the simulation runs from one control event to the next.
    EventQueue control;
    if (writer) control.push({flush_every, EventKind::flush, 0, 0, 0, 0});
    // Control events: a = 0 for weight records, 1 for neuromodulator
    // records (b = the index), 2 for polling the reward input.
    for (std::uint32_t k = 0; writer && k < built.weight_records.size(); ++k) {
      control.push({built.weight_records[k].interval, EventKind::record, 0, k, 0, 0});
    }
    for (std::uint32_t k = 0; writer && k < built.modulator_records.size(); ++k) {
      control.push({built.modulator_records[k].interval, EventKind::record, 1, k, 0, 0});
    }
    if (reward_poll > 0) control.push({reward_poll, EventKind::record, 2, 0, 0, 0});
    while (sim.now() < stop && completed) {
      const Step until = control.empty() ? stop : std::min(stop, control.top().step);
      completed = sim.run_until(until, obs);
      while (completed && control.due(sim.now())) {
        Event e = control.top();
        control.pop();
        if (e.kind == EventKind::record && e.a == 0) {
          recorders[e.b].sample(*writer, e.b, sim);
          e.step += built.weight_records[e.b].interval;
        } else if (e.kind == EventKind::record && e.a == 2) {
          schedule(reward_input->poll());
          if (reward_input->at_end()) continue;  // nothing more will come
          e.step += reward_poll;
        } else if (e.kind == EventKind::record) {
          const auto& m = built.modulator_records[e.b];
          writer->append_modulator_sample(e.b, grid.to_ms(sim.now()),
                                          sim.network().modulators()[m.modulator].at(sim.now()));
          e.step += m.interval;
        } else {
          writer->set_simulated_time(grid.to_ms(sim.now()));
          writer->flush();
          e.step += flush_every;
        }
        control.push(e);
      }
    }
    result.status = completed ? "complete" : "interrupted";
    if (!completed) {
      const int sig = options.stop_signal ? *options.stop_signal : SIGINT;
      result.code = sig == SIGTERM ? ExitCode::terminated : ExitCode::interrupted;
      result.message = fmt::format("stopped by signal {}", sig);
    }
  } catch (const Error& e) {
    result.status = "failed";
    result.code = e.code();
    result.message = e.what();
  }
  obs.end_progress();
  result.loop_s = seconds_since(t_loop);
  result.simulated_ms = grid.to_ms(sim.now());
  const double seconds = result.simulated_ms / 1000.0;
  for (std::size_t q = 0; q < names.size(); ++q) {
    const auto n = sim.spike_counts()[q];
    result.populations.push_back(
        {names[q], sizes[q], n,
         seconds > 0 ? static_cast<double>(n) / (seconds * static_cast<double>(sizes[q])) : 0});
  }
  sim.sync_plasticity();  // lazily updated plastic weights, current at the end
  for (const auto& m : sim.network().modulators()) {
    result.rewards.emplace_back(m.name(), m.first_after(sim.now()));
  }
  if (writer) {
    if (c.output.write_edges) {
      for (std::size_t k = 0; k < proj_meta.size(); ++k) {
        const auto syn = sim.connectivity(k).canonical();
        std::vector<std::uint64_t> src(syn.size()), tgt(syn.size());
        std::vector<float> delay(syn.size()), weight(syn.size());
        for (std::size_t e = 0; e < syn.size(); ++e) {
          src[e] = syn[e].source;
          tgt[e] = syn[e].target;
          delay[e] = static_cast<float>(grid.to_ms(syn[e].delay));
          weight[e] = syn[e].weight;
        }
        writer->write_edges(k, src, tgt, delay, weight);
      }
    }
    result.total_s = seconds_since(t_start);
    writer->set_simulated_time(result.simulated_ms);
    writer->finish(result.status == "complete" ? RunStatus::complete
                   : result.status == "failed" ? RunStatus::failed
                                               : RunStatus::interrupted,
                   result.summary_json());
  }
  result.total_s = seconds_since(t_start);
  return result;
}

}  // namespace spikeline::io
