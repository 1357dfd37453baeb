// A configured simulation run in pieces by its caller, in this process:
// what the Python module drives. It is `spikeline run` (run.hpp) with the
// loop handed over: the same build, the same control events (flushes,
// weight snapshots, rewards), so a run in one piece or in several gives the
// same spikes, bit for bit, as the CLI with the same config and seed.
//
//   app::Session s(config, registry, {});
//   s.record_in_memory();                 // spikes and traces kept here too
//   s.run_until(s.grid().time_steps(500, "t"));
//   s.set_weights(0, new_weights);        // between pieces
//   s.run_until(s.grid().time_steps(1000, "t"));
//   const auto& spikes = s.recording()->spikes;
//   RunResult r = s.end();                // the output file (if any) finished
//
// The output file is written only when the config names one; without it
// nothing touches the disk.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "spikeline/app/run.hpp"
#include "spikeline/engine/simulator.hpp"
#include "spikeline/io/build.hpp"

namespace spikeline::app {

// What a session kept in memory since record_in_memory().
struct Recording {
  // Per population (in config order), every spike in the exchange's order:
  // by step, then neuron. The time in ms is step * dt (as in the file).
  struct Spikes {
    std::vector<Step> steps;
    std::vector<NeuronIndex> ids;
  };
  // Per [[record]], the frames: row-major, rows x columns, the file's
  // layout (docs/output.md).
  struct Trace {
    io::ProbeInfo info;
    std::vector<float> frames;
    std::size_t columns = 0;
  };
  std::vector<Spikes> spikes;
  std::vector<Trace> traces;
};

class RunSession;

class Session {
 public:
  // Builds the network of `config` (ConfigError etc. thrown, nothing
  // written) and, when the config names an output file, creates it.
  Session(io::Config config, const Registry& registry, RunOptions options);
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  // Keeps spikes and traces in memory from now on.
  void record_in_memory();
  const std::optional<Recording>& recording() const;

  // Simulates steps now()+1 .. until (until > now()). Returns false when a
  // stop signal or request_stop() ended it early (the run can go on). A
  // failure (a guard, a write error) ends the run and is thrown as the
  // Error the CLI would report.
  bool run_until(Step until);
  Step now() const;
  const TimeGrid& grid() const;
  // Asks a running run_until to return at the end of its current window;
  // safe from another thread or a signal handler.
  void request_stop();

  // Between pieces: the populations and projections by name, in config
  // order; a state variable of every neuron; every synapse of a projection
  // in canonical order (the SONATA edges' order), weights current (plastic
  // ones brought up to now()).
  const std::vector<std::string>& population_names() const;
  const std::vector<std::uint64_t>& population_sizes() const;
  std::vector<std::string> projection_names() const;
  std::vector<double> state(std::size_t population, const std::string& variable) const;
  void set_state(std::size_t population, const std::string& variable,
                 std::span<const double> values);
  std::vector<SynapseRecord> synapses(std::size_t projection);
  // New weights for every synapse, in canonical order. Each must be finite
  // and a float32; a plastic projection's rule goes on from them.
  void set_weights(std::size_t projection, std::span<const double> weights);

  // Between pieces, NEST's SetStatus between Simulate calls: new values for
  // some parameters of a population (a number, or a list of one per neuron
  // for those the model marks per_neuron), read and checked as a config's
  // (names, ranges, relations such as V_reset < V_th). The model is built
  // anew from its parameters so changed, its precomputed propagators with
  // it, and takes over the state of the old one (Simulator::
  // replace_population): a model described by its tables gets this for
  // free. A generator takes over instead (Simulator::replace_population):
  // a poisson_generator's new rate/start/stop from the next step on, a
  // spike_generator's new spike_times (or spike_times_file, either
  // replacing the other) for its spikes to come, a time at or before now
  // an error. Not for event-driven populations after the first piece (an
  // error says why). A failed change leaves the run as it
  // was. params() gives every parameter as now in force (defaults
  // included).
  void set_params(std::size_t population, const ParamMap& changes);
  std::vector<std::pair<std::string, ParamValue>> params(std::size_t population) const;
  // Between pieces: new values for some parameters of the [[stimulus]]
  // `name` (dc_generator amplitude/start/stop, poisson_input rate/weight/
  // sources/start/stop, step_current, ac_current, noise_current: any of
  // theirs), checked as in a config. From the next step on the
  // device behaves as if configured so from the start: a dc_generator's
  // current is at once what the new schedule gives now, its changes to come
  // follow the new values; a poisson_input draws with the new rate.
  void set_stimulus(const std::string& name, const ParamMap& changes);
  std::vector<std::pair<std::string, ParamValue>> stimulus_params(const std::string& name) const;
  std::vector<std::string> stimulus_names() const;

  // Input and feedback between pieces, for a caller that drives the run
  // (the EMBER session): a spike forced on `neuron` of `population` at
  // `step` > now(), as a [[clamp]] does (Simulator::clamp); a pulse of the
  // neuromodulator `modulator` at `step` > now(). Errors name the item.
  void clamp(std::size_t population, Step step, NeuronIndex neuron);
  void add_reward(const std::string& modulator, Step step, double amount);
  // Every window's spikes (sorted by step, population, neuron), handed to
  // `listener` on the calling thread from the next piece on: what a caller
  // needs to watch activity without keeping it all (record_in_memory).
  void set_spike_listener(std::function<void(std::span<const SpikeRecord>)> listener);
  // A row of table `table` of RunOptions::tables, in the output file (none
  // without one): the caller's own log beside the spikes.
  void append_row(std::size_t table, std::span<const double> row);

  // Checkpoints of a session (RunOptions::checkpoint_path): the caller's
  // own state goes in too, walked by `walk` (saved or loaded, as
  // StateArchive::loading() says, under "app/"). checkpoint() saves now
  // (UsageError without a checkpoint path); resume() builds the session of
  // `config` (which must build the checkpointed network: its fingerprint is
  // checked), restores the simulator, the output file (cut back to what it
  // held at the checkpoint) and, through `walk`, the caller's state.
  void set_checkpoint_state(std::function<void(StateArchive&)> walk);
  void checkpoint();
  static Session resume(io::Config config, const Registry& registry, RunOptions options,
                        const std::string& checkpoint, std::function<void(StateArchive&)> walk);

  // Ends the run: the final weights written and the output finished (marked
  // complete or interrupted); the summary. Later calls return the same.
  RunResult end();
  bool ended() const;

 private:
  explicit Session(std::unique_ptr<RunSession> impl);
  std::unique_ptr<RunSession> impl_;
};

}  // namespace spikeline::app
