// Running a configured simulation to an HDF5 file: what `spikeline run` does,
// and continuing one from a checkpoint: what `spikeline resume` does.
//
// Order of work, chosen so that a mistake costs nothing: the config is
// checked and the whole network built before the output file is created; a
// run stopped by a signal or a guard keeps everything simulated so far,
// flushed, with /provenance/status saying why it ended.
//
// Checkpoints (checkpoint.hpp): with a checkpoint file, the run saves its
// whole state there every `checkpoint_every_ms` of simulated time (if set),
// when it ends, and when a signal stops it. The output is flushed first, and
// the checkpoint records how much of each dataset it held. resume() rebuilds
// the network from the config saved in the checkpoint, checks that it is the
// same network (a fingerprint of every synapse), restores the state, cuts
// the output file back to what it held at the checkpoint and goes on: spikes,
// traces and weights are the same, bit for bit, as those of a run that was
// never stopped, at any number of threads before and after.
#pragma once

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "spikeline/engine/communicator.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/io/config.hpp"
#include "spikeline/io/sonata_writer.hpp"

namespace spikeline::app {

struct RunOptions {
  std::string command_line;
  bool progress = false;  // live progress line on stderr
  // Rewards from a file or a stream ("-": stdin); see reward_input.hpp.
  std::string reward_input;
  double reward_poll_ms = 10;  // simulated time between polls of a stream
  // Set asynchronously (by a signal handler) to the signal number to stop.
  const volatile std::sig_atomic_t* stop_signal = nullptr;
  // Checkpoints: the file (empty: none) and the simulated time between them
  // (0: only at the end and when stopped by a signal).
  std::string checkpoint_path;
  double checkpoint_every_ms = 0;
  // Which file names come from the command line (the output: -o, the
  // checkpoint: --checkpoint; the config and --reward-input always do): two
  // roles naming one file is then a usage error (64), else 73.
  bool output_on_command_line = false;
  bool checkpoint_on_command_line = true;
  // Tables of the caller's own in the output file (app::Session::append_row).
  std::vector<io::TableLayout> tables;
  // The run's processes (null: this one alone). With several, every one
  // runs the same config; rank 0 alone writes the output file. What is not
  // distributed yet is refused (UsageError, the same on every rank):
  // traces, weight records, edges, checkpoints, reward input.
  std::shared_ptr<Communicator> comm;
};

// What resume() may change: threads, the end time, the checkpoints. The
// network, the seed and the output file are those of the checkpointed run.
struct ResumeOptions {
  RunOptions run;          // checkpoint_path empty: keep the checkpointed run's settings
  int threads = 0;         // 0: as in the checkpointed run
  double duration_ms = 0;  // the new end of the run (simulated ms); 0: the config's
  bool checkpoint_every_given = false;  // run.checkpoint_every_ms replaces the saved interval
};

struct PopulationStats {
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t spikes = 0;
  double rate_hz = 0;
};

struct RunResult {
  ExitCode code = ExitCode::ok;
  std::string status;   // complete, interrupted, failed
  std::string message;  // the error, when failed
  double simulated_ms = 0;
  double build_s = 0, loop_s = 0, total_s = 0;
  std::uint64_t synapses = 0;
  std::uint64_t synapse_bytes = 0;
  // The process's peak resident memory so far (Linux's VmHWM; 0 where the
  // system does not tell). Read by the run itself because a parent's view
  // (wait4's ru_maxrss) includes the parent's own peak, inherited at fork.
  std::uint64_t peak_rss_bytes = 0;
  std::vector<PopulationStats> populations;
  // Reward pulses per neuromodulator (scheduled and triggered), by name.
  std::vector<std::pair<std::string, std::uint64_t>> rewards;
  std::string summary_line() const;
  std::string summary_json() const;
};

// Builds and runs; errors before the run starts are thrown (nothing is
// written), errors during the run are returned in RunResult (the output file
// is kept, marked failed).
RunResult run(const io::Config& config, const Registry& registry, const RunOptions& options);

// Continues the run saved in `checkpoint`. Errors before it starts are
// thrown: CheckpointError (65) for a corrupt checkpoint, one of another
// version or one whose network no longer matches its config or input files;
// DataError for an output file that is not the checkpointed run's.
// `output`, when given, receives the output file's path.
RunResult resume(const std::string& checkpoint, const Registry& registry,
                 const ResumeOptions& options, std::string* output = nullptr);

}  // namespace spikeline::app
