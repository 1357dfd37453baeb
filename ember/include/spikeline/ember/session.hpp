// The EMBER session: a conversation presented to the substrate, exchange
// by exchange, and the actions the substrate decides on by itself
// (docs/ember.md; shared/specs/ember.md).
//
// For each exchange (exchange.hpp), at the step T0 the run has reached:
//
//   T0+1 .. T0+W          the user message: its volley (encoding/
//                         population_code.hpp) clamped onto [ember] sensory
//   +gap, W steps         the assistant message, likewise
//   end + reward_delay    a pulse of [ember] modulator (the line's reward,
//                         else [ember] reward; none when 0)
//   end + idle            the idle window: spontaneous activity only
//
// Each message becomes a stored message with an *assembly*: the concept
// neurons ([ember] concept) that fired at least min_spikes times in its
// window. An assembly detector (encoding/assembly_detector.hpp) watches
// the concept layer at every step. An *action* comes when an assembly
// ignites at a step where no input explains it (settle ms or more after
// the last input spike) and at least refractory ms after the last action.
// It carries the associations: the stored messages whose assemblies'
// levels are at least association_level then, strongest first. Each
// action is a JSON line on the actions stream; the reasoning command, when
// configured, gets it on stdin and its answer is recorded beside it.
//
// The session is the Session of app/ (the same build, output and control
// events as `spikeline run`) driven by this loop: spikes go to the config's
// output file, with three tables of the session's own (/ember/exchanges,
// /ember/actions, /ember/associations). With a checkpoint file the whole
// state, the session's included, is saved after every exchange and at the
// end; resuming it and feeding the same later exchanges gives the same
// spikes, weights and actions, bit for bit.
#pragma once

#include <csignal>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

#include "spikeline/app/run.hpp"
#include "spikeline/ember/exchange.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/io/config.hpp"

namespace spikeline::ember {

struct EmberOptions {
  std::string command_line;
  std::string checkpoint_path;  // "" : none
  std::string resume_from;      // a checkpoint to continue ("" : a fresh substrate)
  std::size_t skip = 0;         // exchanges of the input to pass over (already presented)
  double idle_hours = 0;        // simulated idle after the input ends
  bool output_on_command_line = false;
  const volatile std::sig_atomic_t* stop_signal = nullptr;
};

struct EmberResult {
  ExitCode code = ExitCode::ok;
  std::string message;        // why it failed, when it did
  std::size_t exchanges = 0;  // presented, in all (a resumed session's earlier ones too)
  std::size_t actions = 0;    // in all
  std::size_t first_action_exchange = 0;  // 0: none yet
  std::size_t refused_lines = 0;          // input lines refused (bad input) in this process
  app::RunResult run;
};

class EmberSession {
 public:
  // Builds the substrate of `config` (with its [ember] table), or resumes
  // options.resume_from. `actions` receives the action lines, `log` the
  // messages about refused input and failed reasoning.
  EmberSession(io::Config config, const Registry& registry, EmberOptions options,
               std::ostream& actions, std::ostream& log);
  ~EmberSession();
  EmberSession(const EmberSession&) = delete;
  EmberSession& operator=(const EmberSession&) = delete;

  // Reads exchanges from `input` (named `source` in messages) until its end
  // or a stop signal, presenting each. A bad line is refused with a message
  // naming it (the substrate untouched) and the session goes on.
  void read(std::istream& input, const std::string& source);
  // Presents one exchange (DataError for a message that cannot be encoded,
  // before anything is presented).
  void present(const Exchange& exchange, const std::string& where);
  // Simulated idle time, in pieces, actions as they come.
  void idle(double ms);
  // The last checkpoint (with a checkpoint file) and the output finished.
  EmberResult finish();

  std::size_t exchanges() const;
  std::size_t actions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spikeline::ember
