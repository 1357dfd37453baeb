// The reasoning command (reasoning.hpp): one child process per request,
// started without fork(), fed and drained through poll(), bounded in time and
// in size, always reaped.
#include "spikeline/ember/reasoning.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spikeline/engine/error.hpp"

extern char** environ;

namespace spikeline::ember {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kMaxTimeout = 86400;  // a day: anything longer is a typo
constexpr std::size_t kMaxAnswerLimit = std::size_t{1} << 30;
// nlohmann parses iteratively but serialises recursively: a garbage answer of
// a million '[' would overflow the stack in dump().
constexpr int kMaxDepth = 1000;
// The end of the command's standard error kept for a failure's message.
constexpr std::size_t kStderrKept = 4096;
constexpr std::size_t kStderrQuoted = 300;
constexpr int kStderrLines = 3;
constexpr std::size_t kAnswerQuoted = 120;
constexpr std::size_t kChunk = 64 * 1024;
// After a kill, how long to wait for the pipes to close: processes of the
// group close them as they die; one outside it (which left the group) is not
// waited for longer than this.
constexpr auto kKillGrace = std::chrono::seconds(2);
// How often the session's stop flag is looked at: a signal is delivered to
// any thread of the process, rarely the one waiting in poll().
constexpr int kStopCheckMs = 50;

// A failure of the session's side (pipe, posix_spawn's set-up): reported as
// the reason the command could not be run.
struct SystemFailure : std::runtime_error {
  SystemFailure(const char* call, int err)
      : std::runtime_error(fmt::format("{}: {}", call, std::strerror(err))) {}
};

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Moved above 2 (still close-on-exec): the child's 0, 1 and 2 are set by
// dup2 one after the other, which must not overwrite a pipe end still to be
// duplicated. Only a session that closed its own standard files gets a pipe
// end below 3.
void lift_above_stdio(Fd& fd) {
  if (fd.get() > 2) return;
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) throw SystemFailure("fcntl", errno);
  fd = Fd(moved);
}

void set_nonblocking(const Fd& fd) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0)
    throw SystemFailure("fcntl", errno);
}

// Both ends close-on-exec: another thread spawning at the same moment must
// not inherit them (a stray write end would keep our reads from ever seeing
// end of file). The child gets its ends through dup2, which clears the flag.
struct Pipe {
  Fd read, write;
};
Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw SystemFailure("pipe2", errno);
  Pipe p{Fd(fds[0]), Fd(fds[1])};
  lift_above_stdio(p.read);
  lift_above_stdio(p.write);
  return p;
}

// SIGPIPE, blocked in the calling thread for the exchange. Writing to a
// pipe whose reader has gone raises SIGPIPE in the writing thread, whose
// default action kills the whole session; blocked, the signal stays pending
// on this thread and write() fails with EPIPE, which the exchange handles.
// On the way out a SIGPIPE that became pending here is consumed
// (sigtimedwait with a zero timeout) before the old mask is restored, so it
// is never delivered late; one already pending before is left alone. Only
// this thread's mask changes: the others (oneTBB's workers) are untouched,
// and the process-wide disposition is not changed behind the session's back.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    was_pending_ = pending();
  }
  ~SigpipeBlock() {
    if (!was_pending_ && pending()) {
      const timespec zero{};
      while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  bool pending() const {
    sigset_t set;
    sigemptyset(&set);
    return sigpending(&set) == 0 && sigismember(&set, SIGPIPE) == 1;
  }
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

// posix_spawn's file actions and attributes, destroyed on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    if (int e = posix_spawn_file_actions_init(&actions_)) throw SystemFailure("posix_spawn", e);
    if (int e = posix_spawnattr_init(&attr_)) {
      posix_spawn_file_actions_destroy(&actions_);
      throw SystemFailure("posix_spawn", e);
    }
  }
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attr_);
    posix_spawn_file_actions_destroy(&actions_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  posix_spawn_file_actions_t* actions() { return &actions_; }
  posix_spawnattr_t* attr() { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_{};
  posix_spawnattr_t attr_{};
};

void check(int err) {
  if (err != 0) throw SystemFailure("posix_spawn", err);
}

// The child: killed with its process group and reaped when it goes out of
// scope unreaped (an exception mid-exchange), so that no path leaves a
// zombie or a running command behind.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (!reaped_) {
      kill_group();
      wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The child leads its group (POSIX_SPAWN_SETPGROUP), so the group's id is
  // its pid, valid while it is unreaped: grandchildren die with it. The
  // child itself is killed by its pid too, in case it left the group: the
  // blocking wait that follows must end.
  void kill_group() const {
    if (reaped_) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
  }
  // Its wait status once it has exited (without blocking).
  std::optional<int> try_wait() {
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (r == 0) return std::nullopt;
    reaped_ = true;
    // ECHILD: someone else reaped it (a SIGCHLD set to SIG_IGN): unknown.
    return r < 0 ? -1 : status;
  }
  int wait() {
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return r < 0 ? -1 : status;
  }

 private:
  pid_t pid_;
  bool reaped_ = false;
};

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("{} (SIG{})", sig, abbrev) : std::to_string(sig);
}

// Why posix_spawnp failed, for `program`.
std::string spawn_error(const std::string& program, int err) {
  const std::string name = escaped(program);
  // Without a '/', the name is looked up in PATH (glibc's default when unset).
  std::string where;
  if (program.find('/') == std::string::npos) {
    const char* path = std::getenv("PATH");
    where = path ? fmt::format(" (PATH was searched: {})", escaped(quote_input(path, 300)))
                 : " (PATH is unset: /bin:/usr/bin were searched)";
  }
  switch (err) {
    case ENOENT:
      return where.empty()
                 ? fmt::format("the reasoning command '{}' was not found: no such file", name)
                 : fmt::format("the reasoning command '{}' was not found{}", name, where);
    case EACCES:
      return fmt::format("the reasoning command '{}' cannot be executed: permission denied{}", name,
                         where);
    case ENOEXEC:
      return fmt::format(
          "the reasoning command '{}' cannot be executed: it is not a program (a script needs a #! "
          "line)",
          name);
    default:
      return fmt::format("the reasoning command '{}' could not be started: {}", name,
                         std::strerror(err));
  }
}

// The end of the command's standard error, for a failure's message: its last
// few lines, at most a few hundred bytes, control characters escaped.
std::string stderr_tail(std::string_view err) {
  while (!err.empty() && std::isspace(static_cast<unsigned char>(err.back()))) err.remove_suffix(1);
  if (err.empty()) return "; its standard error is empty";
  // Back to just after the kStderrLines-th newline from the end.
  std::size_t start = err.size();
  for (int lines = 0; start > 0; --start)
    if (err[start - 1] == '\n' && ++lines == kStderrLines) break;
  std::string_view tail = err.substr(start);
  bool cut = start > 0;
  if (tail.size() > kStderrQuoted) {
    tail = tail.substr(tail.size() - kStderrQuoted);
    cut = true;
  }
  // Not in the middle of a character: skip continuation bytes.
  while (!tail.empty() && (static_cast<unsigned char>(tail.front()) & 0xC0) == 0x80)
    tail.remove_prefix(1);
  return fmt::format("; its standard error ends: '{}{}'", cut ? "..." : "", escaped(tail));
}

// The error of an answer that did not parse, or "" with `compact` set.
std::string parse_answer(const std::string& text, std::string& compact) {
  // ordered: the answer keeps its keys in the order the command wrote them.
  using json = nlohmann::ordered_json;
  if (std::all_of(text.begin(), text.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
    return text.empty()
               ? "the reasoning command gave no answer: its standard output is empty"
               : "the reasoning command gave no answer: its standard output holds only whitespace";
  struct TooDeep {};
  try {
    const json::parser_callback_t depth_guard = [](int depth, json::parse_event_t, json&) {
      // 0 for the outermost value's start: depth kMaxDepth is one level too many.
      if (depth >= kMaxDepth) throw TooDeep{};
      return true;
    };
    compact = json::parse(text, depth_guard).dump();
    return "";
  } catch (const TooDeep&) {
    return fmt::format(
        "the reasoning command's answer nests deeper than {} levels; the answer: '{}'", kMaxDepth,
        escaped(quote_input(text, kAnswerQuoted)));
  } catch (const json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    std::string_view what = e.what();
    if (const auto close = what.find("] "); what.starts_with("[json.") && close != what.npos)
      what.remove_prefix(close + 2);
    return fmt::format("the reasoning command's answer is not one JSON value: {}; the answer: '{}'",
                       what, escaped(quote_input(text, kAnswerQuoted)));
  }
}

// Why the exchange ended before the command was done.
enum class Cut { none, timed_out, too_big, stopped };

// The exchange's state: the pipes, what is written and read.
class Exchange {
 public:
  Exchange(Fd in, Fd out, Fd err, std::string input, std::size_t max_answer)
      : in_(std::move(in)),
        out_(std::move(out)),
        err_(std::move(err)),
        input_(std::move(input)),
        max_answer_(max_answer) {}

  // Writes the request and reads both outputs until all three pipes are
  // closed, the deadline passes, the answer grows too large or the stop
  // flag is raised. poll() on all three at once: a command that writes a
  // large answer before reading a large request (or the reverse) would
  // deadlock a sequential write-then-read.
  Cut run(Clock::time_point deadline, const volatile std::sig_atomic_t* stop) {
    while (in_.is_open() || out_.is_open() || err_.is_open()) {
      if (stop && *stop) return Cut::stopped;
      const int wait_ms = remaining_ms(deadline, stop);
      if (wait_ms <= 0) return Cut::timed_out;
      pollfd fds[3];
      nfds_t n = 0;
      for (const Fd* fd : {&in_, &out_, &err_})
        if (fd->is_open())
          fds[n++] = pollfd{fd->get(), static_cast<short>(fd == &in_ ? POLLOUT : POLLIN), 0};
      const int ready = ::poll(fds, n, wait_ms);
      if (ready < 0 && errno != EINTR) throw SystemFailure("poll", errno);
      if (ready <= 0) continue;
      for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        if (fds[i].fd == in_.get())
          write_some();
        else if (fds[i].fd == out_.get()) {
          read_some(out_, answer_);
          if (answer_.size() > max_answer_) return Cut::too_big;
        } else {
          read_some(err_, err_tail_);
          if (err_tail_.size() > 2 * kStderrKept)
            err_tail_.erase(0, err_tail_.size() - kStderrKept);
        }
      }
    }
    return Cut::none;
  }

  // After a kill: reads (and drops) until the pipes close, that is until
  // every process of the group has died, or the grace period ends.
  void drain() {
    in_.reset();
    const auto until = Clock::now() + kKillGrace;
    std::string dropped;
    while (out_.is_open() || err_.is_open()) {
      const int wait_ms = remaining_ms(until, nullptr);
      if (wait_ms <= 0) break;
      pollfd fds[2];
      nfds_t n = 0;
      for (const Fd* fd : {&out_, &err_})
        if (fd->is_open()) fds[n++] = pollfd{fd->get(), POLLIN, 0};
      if (::poll(fds, n, wait_ms) <= 0) continue;
      for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        read_some(fds[i].fd == out_.get() ? out_ : err_, dropped);
        dropped.clear();
      }
    }
  }

  const std::string& answer() const { return answer_; }
  const std::string& err_tail() const { return err_tail_; }

 private:
  // Milliseconds to wait in poll(): to the deadline, or to the next look at
  // the stop flag.
  static int remaining_ms(Clock::time_point deadline, const volatile std::sig_atomic_t* stop) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return 0;
    // Rounded up: a wait of 0 ms for the last fraction would spin.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    const auto cap = stop ? kStopCheckMs : 3'600'000;
    return static_cast<int>(std::min<decltype(ms)>(ms, cap));
  }

  void write_some() {
    const std::size_t n = std::min(kChunk, input_.size() - written_);
    const ssize_t w = ::write(in_.get(), input_.data() + written_, n);
    if (w > 0) written_ += static_cast<std::size_t>(w);
    // EPIPE (the command stopped reading: its answer still counts) or
    // another error: nothing more can be written.
    if (w < 0 && errno != EAGAIN && errno != EINTR) in_.reset();
    // All written: closing is the request's end of file.
    if (written_ == input_.size()) in_.reset();
  }
  static void read_some(Fd& fd, std::string& into) {
    char buf[kChunk];
    const ssize_t r = ::read(fd.get(), buf, sizeof buf);
    if (r > 0)
      into.append(buf, static_cast<std::size_t>(r));
    else if (r == 0 || (errno != EAGAIN && errno != EINTR))
      fd.reset();
  }

  Fd in_, out_, err_;
  std::string input_;
  std::size_t written_ = 0;
  std::size_t max_answer_;
  std::string answer_, err_tail_;
};

}  // namespace

void ReasoningParams::validate() const {
  if (command.empty())
    throw ConfigError(
        "[ember.reasoning] command = [] is invalid: it must hold the program and its arguments, at "
        "least one word (e.g. [\"my-llm-client\", \"--json\"])");
  for (std::size_t i = 0; i < command.size(); ++i)
    if (command[i].find('\0') != std::string::npos)
      throw ConfigError(fmt::format(
          "[ember.reasoning] command[{}] = '{}' is invalid: it must not hold a NUL character", i,
          escaped(quote_input(command[i]))));
  if (command[0].empty())
    throw ConfigError(
        "[ember.reasoning] command[0] = '' is invalid: the program's name must not be empty");
  if (!std::isfinite(timeout_s) || !(timeout_s > 0) || timeout_s > kMaxTimeout)
    throw ConfigError(fmt::format(
        "[ember.reasoning] timeout = {} s is invalid: it must be finite and in (0, {}] s",
        timeout_s, kMaxTimeout));
  if (max_answer_bytes < 1 || max_answer_bytes > kMaxAnswerLimit)
    throw ConfigError(
        fmt::format("[ember.reasoning] max_answer_bytes = {} is invalid: it must be in [1, {}]",
                    max_answer_bytes, kMaxAnswerLimit));
}

ReasoningEngine::ReasoningEngine(ReasoningParams p) : params_(std::move(p)) {
  params_.validate();
}

ReasoningAnswer ReasoningEngine::ask(std::string_view request_json,
                                     const volatile std::sig_atomic_t* stop) const {
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(params_.timeout_s));
  ReasoningAnswer result;
  const auto fail = [&](std::string why) {
    result.error = std::move(why);
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  };
  const auto stopped_message = [&](int sig) {
    return fmt::format("the reasoning command was stopped: the session received signal {}; killed",
                       signal_name(sig));
  };
  if (stop && *stop) return fail(stopped_message(*stop));

  // Declared before the child: destroyed after it, so that a SIGPIPE raised
  // by a write is consumed only once the child is reaped.
  SigpipeBlock sigpipe;
  try {
    Pipe in = make_pipe(), out = make_pipe(), err = make_pipe();
    SpawnSetup setup;
    check(posix_spawn_file_actions_adddup2(setup.actions(), in.read.get(), 0));
    check(posix_spawn_file_actions_adddup2(setup.actions(), out.write.get(), 1));
    check(posix_spawn_file_actions_adddup2(setup.actions(), err.write.get(), 2));
    // Only 0, 1 and 2: the session's HDF5 output and checkpoints, opened
    // without close-on-exec by the HDF5 library, stay out of its reach.
    check(posix_spawn_file_actions_addclosefrom_np(setup.actions(), 3));
    // Its own process group (leader: itself), so that a timeout kills it
    // with everything it started, and terminal signals do not reach it.
    // The calling thread's mask (SIGPIPE blocked just above, maybe more)
    // must not be inherited, nor an ignored SIGPIPE: a program expects the
    // defaults.
    check(posix_spawnattr_setflags(
        setup.attr(), POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
    check(posix_spawnattr_setpgroup(setup.attr(), 0));
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    check(posix_spawnattr_setsigmask(setup.attr(), &none));
    check(posix_spawnattr_setsigdefault(setup.attr(), &defaults));

    std::vector<char*> argv;
    for (const auto& word : params_.command) argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    // glibc's posix_spawnp (clone with CLONE_VFORK, then exec) is safe in a
    // threaded process, unlike fork(), and reports a failed exec (program
    // not found...) as its return value.
    if (int e = posix_spawnp(&pid, argv[0], setup.actions(), setup.attr(), argv.data(), environ))
      return fail(spawn_error(params_.command[0], e));
    Child child(pid);
    // The child's ends now belong to it alone: our copies would keep its
    // stdout from ever reaching end of file.
    in.read.reset();
    out.write.reset();
    err.write.reset();
    set_nonblocking(in.write);
    set_nonblocking(out.read);
    set_nonblocking(err.read);

    std::string input;
    input.reserve(request_json.size() + 1);
    input.append(request_json);
    input.push_back('\n');
    Exchange exchange(std::move(in.write), std::move(out.read), std::move(err.read),
                      std::move(input), params_.max_answer_bytes);
    Cut cut = exchange.run(deadline, stop);
    // The pipes are closed; the command exits (or has closed them and runs
    // on: it gets the rest of the deadline). It usually exits a moment after
    // closing them: looked at again after 50 us, then twice as long each
    // time, up to the stop flag's period.
    std::optional<int> status;
    for (auto delay = std::chrono::microseconds(50); cut == Cut::none;) {
      if ((status = child.try_wait())) break;
      const auto now = Clock::now();
      if (stop && *stop)
        cut = Cut::stopped;
      else if (now >= deadline)
        cut = Cut::timed_out;
      else
        std::this_thread::sleep_for(std::min<Clock::duration>(delay, deadline - now));
      delay =
          std::min<std::chrono::microseconds>(2 * delay, std::chrono::milliseconds(kStopCheckMs));
    }
    if (cut != Cut::none) {
      child.kill_group();
      exchange.drain();
      child.wait();
      switch (cut) {
        case Cut::timed_out:
          return fail(fmt::format(
              "the reasoning command timed out after {} s ([ember.reasoning] timeout); killed",
              params_.timeout_s));
        case Cut::too_big:
          return fail(fmt::format(
              "the reasoning command's answer is larger than {} bytes "
              "([ember.reasoning] max_answer_bytes); stopped reading it and killed the command",
              params_.max_answer_bytes));
        default:
          return fail(stopped_message(stop ? *stop : 0));
      }
    }
    if (*status < 0) return fail("the reasoning command's exit status was lost (reaped elsewhere)");
    if (WIFSIGNALED(*status))
      return fail(fmt::format("the reasoning command was killed by signal {}{}",
                              signal_name(WTERMSIG(*status)), stderr_tail(exchange.err_tail())));
    if (WEXITSTATUS(*status) != 0)
      return fail(fmt::format("the reasoning command failed with exit status {}{}",
                              WEXITSTATUS(*status), stderr_tail(exchange.err_tail())));
    if (std::string why = parse_answer(exchange.answer(), result.answer); !why.empty())
      return fail(std::move(why));
    result.ok = true;
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  } catch (const std::exception& e) {
    return fail(fmt::format("the reasoning command could not be run: {}", e.what()));
  }
}

}  // namespace spikeline::ember
