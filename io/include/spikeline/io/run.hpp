// Running a configured simulation to an HDF5 file: what `spikeline run` does.
//
// Order of work, chosen so that a mistake costs nothing: the config is
// checked and the whole network built before the output file is created; a
// run stopped by a signal or a guard keeps everything simulated so far,
// flushed, with /provenance/status saying why it ended.
#pragma once

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/io/config.hpp"

namespace spikeline::io {

struct RunOptions {
  std::string command_line;
  bool progress = false;  // live progress line on stderr
  // Rewards from a file or a stream ("-": stdin); see reward_input.hpp.
  std::string reward_input;
  double reward_poll_ms = 10;  // simulated time between polls of a stream
  // Set asynchronously (by a signal handler) to the signal number to stop.
  const volatile std::sig_atomic_t* stop_signal = nullptr;
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
  std::vector<PopulationStats> populations;
  // Reward pulses per neuromodulator (scheduled and triggered), by name.
  std::vector<std::pair<std::string, std::uint64_t>> rewards;
  std::string summary_line() const;
  std::string summary_json() const;
};

// Builds and runs; errors before the run starts are thrown (nothing is
// written), errors during the run are returned in RunResult (the output file
// is kept, marked failed).
RunResult run(const Config& config, const Registry& registry, const RunOptions& options);

}  // namespace spikeline::io
