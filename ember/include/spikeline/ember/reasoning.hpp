// The reasoning command: EMBER's replaceable reasoning engine, a program the
// user configures (a local LLM client, a script) that answers each action.
//
// What it receives. The program is started once per action with
// ReasoningParams::command as its argv (the first word is looked up in PATH
// unless it holds a '/'; no shell is involved here); the session passes
// `[ember.reasoning] command`, a shell command line, as
// ["/bin/sh", "-c", COMMAND]. It gets the session's environment and working
// directory, and only three open files: its standard input holds the
// action's request, one JSON value on one line followed by a newline, then
// end of file; its standard output and standard error are pipes to the
// session. It runs in a process group of its own, so Ctrl-C at the terminal
// does not reach it (the session stops it itself).
//
// What it must answer. Its standard output, whole, is its answer: exactly one
// JSON value of any kind (an object, an array, a string, a number...), with
// whitespace around it allowed, at most `[ember.reasoning] max_answer_bytes`
// (1 MiB by default) and nested at most 1000 levels deep. It must then exit
// with status 0. The answer is recorded beside the action in its compact
// form (whitespace between tokens removed, keys in the order written). It
// may stop reading its input early: an answer given without reading the
// whole request still counts. What it writes on standard error is ignored
// when it succeeds and quoted (the end of it) when it fails.
//
// The timeout. `[ember.reasoning] timeout` (30 s by default, at most
// 86400 s) covers the whole exchange: start, request, answer, exit. A command
// still running then, or whose children still hold its standard output or
// error open, is killed with its whole process group (SIGKILL). A process
// that left the group (setsid) is beyond reach: the session stops waiting
// for the pipes it holds 2 s after the kill.
//
// On failure the action is still recorded, with an error in place of the
// answer, and the session goes on: the substrate never waits much longer
// than the timeout and never depends on the command's success. The errors:
//   - the program is not found or cannot be executed (named, with the PATH
//     that was searched);
//   - it timed out (killed, with its process group);
//   - it exited with a non-zero status, or was killed by a signal (the
//     status or the signal, and the last lines of its standard error);
//   - it answered nothing (empty or blank standard output);
//   - its answer is larger than the limit (it is killed as soon as the
//     limit is passed);
//   - its answer is not one JSON value (the parser's message, with where,
//     and a quoted excerpt of the answer);
//   - the session was interrupted (SIGINT/SIGTERM) while it ran (killed).
// A command that exits successfully is not killed: processes it started and
// detached from its standard output and error are left alone.
#pragma once

#include <csignal>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace spikeline::ember {

struct ReasoningParams {
  // The program and its arguments ([ember.reasoning] command).
  std::vector<std::string> command;
  // Limit of the whole exchange, s ([ember.reasoning] timeout): (0, 86400].
  double timeout_s = 30;
  // Limit of the answer, bytes ([ember.reasoning] max_answer_bytes):
  // [1, 1 GiB].
  std::size_t max_answer_bytes = std::size_t{1} << 20;

  // Throws ConfigError naming the item, the bad value and the valid range.
  void validate() const;
};

struct ReasoningAnswer {
  bool ok = false;
  // The answer as compact JSON text (when ok).
  std::string answer;
  // What went wrong, as a sentence starting "the reasoning command ..."
  // (when not ok): the session prefixes it with the action it answers.
  std::string error;
  // Wall time of the exchange, s.
  double seconds = 0;
};

class ReasoningEngine {
 public:
  // Validates `p` (ConfigError).
  explicit ReasoningEngine(ReasoningParams p);

  // Runs the command on `request_json` (written as given, followed by a
  // newline) and returns its answer or the error. Never throws for anything
  // the command does, and returns within the timeout (plus the moment it
  // takes to kill and reap). No child process, zombie or file descriptor is
  // left behind. Safe to call from several threads at once.
  //
  // `stop`, when given, is the session's signal flag (set by its SIGINT or
  // SIGTERM handler to the signal number): checked every 50 ms, so that
  // Ctrl-C stops a long exchange promptly instead of after the timeout
  // (the command is killed and the error says so).
  ReasoningAnswer ask(std::string_view request_json,
                      const volatile std::sig_atomic_t* stop = nullptr) const;

 private:
  ReasoningParams params_;
};

}  // namespace spikeline::ember
