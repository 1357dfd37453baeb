// Rewards from outside the process, for closed-loop experiments: a file or a
// stream (stdin, a named pipe) of lines
//
//   [TIME_MS] MODULATOR AMOUNT        e.g. "2500 dopamine 0.5" or "dopamine 0.5"
//
// ('#' starts a comment; blank lines are skipped). A line with a time is a
// pulse at that simulated time, which must not be simulated yet; a line
// without one is a pulse as soon as possible (the step after the current
// one). A regular file is read whole before the run, so its rewards are as
// reproducible as a schedule in the config; a stream is polled without
// blocking between lookahead windows (every `--reward-poll` ms of simulated
// time), so the moment a time-less line takes effect depends on when it
// arrives.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace spikeline::io {

struct RewardLine {
  std::optional<double> time_ms;  // absent: as soon as possible
  std::string modulator;
  double amount = 0;
  std::size_t line = 0;  // for messages
};

class RewardInput {
 public:
  // "-" is stdin. Error(no_input) (exit 66) naming the path when it cannot
  // be opened or is a directory.
  explicit RewardInput(const std::string& path);
  ~RewardInput();
  RewardInput(const RewardInput&) = delete;
  RewardInput& operator=(const RewardInput&) = delete;

  // The complete lines available now, without blocking. DataError naming the
  // source, the line and the text (cut by quote_input) for a malformed line.
  std::vector<RewardLine> poll();
  // A regular file (read whole by the first poll()) rather than a stream.
  bool is_file() const { return regular_; }
  bool at_end() const { return eof_; }
  const std::string& name() const { return name_; }

 private:
  RewardLine parse(const std::string& text) const;

  std::string name_;
  int fd_ = -1;
  bool owned_ = false;
  bool regular_ = false;
  bool eof_ = false;
  std::string pending_;
  std::size_t line_ = 0;
};

}  // namespace spikeline::io
