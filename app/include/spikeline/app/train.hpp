// `spikeline train`: the working-memory task of Perrinet (2026), trained by
// surrogate-gradient BPTT (learning/bptt.hpp) on the engine's own forward
// passes. docs/training.md documents the config keys and the output file.
//
// The network is an ordinary config: a lif_discrete population and a
// recurrent projection with one synapse per (source, target, delay), e.g.
// all_to_all with taps = 41 and delay = 1 step. [task] names them and says
// what to store: M patterns of T steps, each entry a Bernoulli(p_A) draw from
// the task's seed (or read from an HDF5 file). A trial of pattern m is
//
//   background (B steps of Bernoulli(p_A) clamped spikes)
//   cue        (the pattern's first D steps clamped)
//   free run   (pattern steps D .. T-1, nothing clamped: scored)
//   background (B steps)
//
// and recall is scored on the free-running part only: the network's spikes
// against the pattern, exact bins, precision, recall and F1 pooled over
// neurons, steps and patterns (and per pattern). Training trials clamp the
// cue only, or (clamp = "pattern", the default) the whole pattern, so that
// every step's context is the stored one (teacher forcing); the loss is
// scored on the same steps. Initial weights come from the closed forms
// (a Hebbian sum normalised per context, or by the mean context size), a
// normal draw, zero, or the config's projection (e.g. explicit edges from a
// file: trained weights).
// Each training step runs a batch of trials forward, backward, and one
// optimizer step; recall is evaluated every eval_every steps and at the end.
// After training, [evaluation] perturbs the cue (bit flips, a cut cue,
// silenced neurons) and replays all patterns in one sequence.
#pragma once

#include <csignal>
#include <string>
#include <vector>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/io/config.hpp"

namespace spikeline::app {

struct TrainOptions {
  std::string command_line;
  bool progress = false;  // a live line on stderr
  const volatile std::sig_atomic_t* stop_signal = nullptr;
  // The output was named on the command line (-o): as RunOptions says.
  bool output_on_command_line = false;
};

// Precision, recall, F1 of spikes against targets (exact bins).
struct Score {
  double tp = 0, fp = 0, fn = 0;
  double precision() const { return tp + fp > 0 ? tp / (tp + fp) : 1.0; }
  double recall() const { return tp + fn > 0 ? tp / (tp + fn) : 1.0; }
  double f1() const { return 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 1.0; }
  Score& operator+=(const Score& o) {
    tp += o.tp;
    fp += o.fp;
    fn += o.fn;
    return *this;
  }
};

struct TrainResult {
  ExitCode code = ExitCode::ok;
  std::string status;  // complete, interrupted, failed
  std::string message;
  std::size_t steps = 0;  // training steps done
  Score initial, recall;  // recall before and after training, pooled
  double loss = 0;        // the last step's
  double build_s = 0, init_s = 0, train_s = 0, eval_s = 0, total_s = 0;
  std::string summary_line() const;
};

// Builds, initialises, trains, evaluates and writes the output file (the
// config's output.file). Errors before training starts are thrown.
TrainResult train(const io::Config& config, const Registry& registry, const TrainOptions& options);

}  // namespace spikeline::app
