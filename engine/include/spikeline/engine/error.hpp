// Errors with the exit code a command-line user gets for them.
//
// Every error a user can cause names the item, the bad value and the valid
// range; the class says which sysexits(3) code the CLI returns, so that
// scripts can tell a bad config (78) from a missing file (66) or a disk that
// filled up (74) without parsing messages.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace spikeline {

enum class ExitCode : int {
  ok = 0,
  usage = 64,         // EX_USAGE: bad command line
  data = 65,          // EX_DATAERR: bad input data (an edges file, a spike file)
  no_input = 66,      // EX_NOINPUT: an input file does not exist
  unavailable = 69,   // EX_UNAVAILABLE: a program it needs is missing (report: Python)
  cant_create = 73,   // EX_CANTCREAT: the output cannot be created
  io = 74,            // EX_IOERR: reading or writing failed mid-way
  config = 78,        // EX_CONFIG: the configuration is wrong
  software = 70,      // EX_SOFTWARE: a guard stopped the run, or an internal error
  interrupted = 130,  // SIGINT
  terminated = 143,   // SIGTERM
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

struct ConfigError : Error {
  explicit ConfigError(const std::string& what) : Error(ExitCode::config, what) {}
};
struct DataError : Error {
  explicit DataError(const std::string& what) : Error(ExitCode::data, what) {}
};
struct UsageError : Error {
  explicit UsageError(const std::string& what) : Error(ExitCode::usage, what) {}
};
struct IoError : Error {
  IoError(ExitCode code, const std::string& what) : Error(code, what) {}
};
// A run-time guard (rate limit, wall-clock limit) stopped the simulation.
struct GuardError : Error {
  explicit GuardError(const std::string& what) : Error(ExitCode::software, what) {}
};

// The closest of `candidates` to `word` by edit distance, or "" when none is
// close enough to be a plausible typo. Used for did-you-mean hints.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// Text from a user's input (a line of a file or a stream, a word of it) as a
// message quotes it: whole up to `max_bytes`, else its first `max_bytes`
// (cut before a UTF-8 character that would not fit) and "... (N bytes)", so
// that a runaway line cannot flood the terminal or a log.
std::string quote_input(std::string_view text, std::size_t max_bytes = 80);
// `text` with its control characters written as escapes (\n, \t, \0,
// \x1b, ...) and backslashes doubled, so that a message quoting a name a
// user got wrong shows what is in it and cannot rewrite the terminal.
std::string escaped(std::string_view text);

// Whether `text` holds a control character (bytes 0-31 and 127).
bool has_control_char(std::string_view text);

}  // namespace spikeline
