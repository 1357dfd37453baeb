// The reasoning command (ember/reasoning.hpp): answers of every kind, large
// requests and answers, and each failure's message, with no child process,
// zombie or file descriptor left behind.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "spikeline/ember/reasoning.hpp"
#include "spikeline/engine/error.hpp"

using namespace spikeline::ember;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

namespace fs = std::filesystem;

// A fresh directory under the system's temporary one, removed at the end.
struct Scratch {
  fs::path path;
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "spikeline_ember_XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const char* name) const { return (path / name).string(); }
};

// An engine running `script` with /bin/sh -c.
ReasoningEngine shell(const std::string& script, double timeout_s = 20,
                      std::size_t max_answer_bytes = std::size_t{1} << 20) {
  return ReasoningEngine({.command = {"/bin/sh", "-c", script},
                          .timeout_s = timeout_s,
                          .max_answer_bytes = max_answer_bytes});
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Whether SIGPIPE is blocked in, or pending on, the calling thread.
bool sigpipe_blocked() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}
bool sigpipe_pending() {
  sigset_t set;
  sigpending(&set);
  return sigismember(&set, SIGPIPE) == 1;
}

// Asks, then checks that the exchange left nothing behind: no child of
// this process (running or zombie), no file descriptor more, SIGPIPE
// neither left blocked nor pending.
ReasoningAnswer ask_clean(const ReasoningEngine& engine, std::string_view request = "{}") {
  const std::size_t fds = open_fds();
  const ReasoningAnswer a = engine.ask(request);
  int status = 0;
  CHECK(::waitpid(-1, &status, WNOHANG) == -1);
  CHECK(errno == ECHILD);
  CHECK(open_fds() == fds);
  CHECK_FALSE(sigpipe_blocked());
  CHECK_FALSE(sigpipe_pending());
  CHECK(a.seconds >= 0);
  INFO("answer: " << a.answer << "; error: " << a.error);
  CHECK(a.ok == a.error.empty());
  return a;
}

std::string failure(const ReasoningEngine& engine, std::string_view request = "{}") {
  const ReasoningAnswer a = ask_clean(engine, request);
  CHECK_FALSE(a.ok);
  CHECK(a.answer.empty());
  return a.error;
}

pid_t read_pid(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  in >> pid;
  REQUIRE(pid > 0);
  return pid;
}

// Whether process `pid` has died: gone, or a zombie that its new parent
// (init, once our child died) has not reaped yet. A process killed by
// SIGKILL closes its files (the pipes' end of file, which ask() waits for)
// a moment before it becomes a zombie: that moment is waited for, up to
// 10 s (a bound, not a timing).
bool dead(pid_t pid) {
  for (int i = 0; i < 1000; ++i) {
    if (::kill(pid, 0) != 0) return errno == ESRCH;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    const std::string text((std::istreambuf_iterator<char>(stat)), {});
    const auto close = text.rfind(')');
    if (close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z')
      return true;
    ::usleep(10'000);
  }
  return false;
}

}  // namespace

TEST_CASE("reasoning: an answer is one JSON value of any kind recorded compact", "[ember]") {
  auto a = ask_clean(shell(R"(printf '{ "action" : 1,\n "words": [ "a", "b" ] }\n')"));
  CHECK(a.ok);
  CHECK(a.answer == R"({"action":1,"words":["a","b"]})");
  CHECK(a.error.empty());

  CHECK(ask_clean(shell(R"(echo '"just a string"')")).answer == R"("just a string")");
  CHECK(ask_clean(shell("echo 42")).answer == "42");
  CHECK(ask_clean(shell("echo '  [true, null]  '")).answer == "[true,null]");
  // Standard error of a command that succeeds is ignored.
  CHECK(ask_clean(shell("echo noise >&2; echo '{}'; echo more noise >&2")).answer == "{}");
  // With the exact limit: the whole of standard output counts.
  CHECK(ask_clean(shell(R"(printf '"12345678"')", 20, 10)).answer == R"("12345678")");
}

TEST_CASE("reasoning: the request reaches the command's stdin as one line", "[ember]") {
  const std::string request =
      R"({"action":3,"associations":[{"text":"water the plants","strength":0.75}]})";
  CHECK(ask_clean(shell("cat"), request).answer == request);
  // Exactly the request and a newline, then end of file.
  CHECK(ask_clean(shell("wc -c"), request).answer == std::to_string(request.size() + 1));
  CHECK(ask_clean(shell("wc -l"), request).answer == "1");
}

TEST_CASE("reasoning: large requests and answers do not deadlock", "[ember]") {
  // A 6 MB request that cat sends straight back: both pipes fill at once,
  // which a write-everything-then-read exchange would never get through.
  const std::string request = "\"" + std::string(6'000'000, 'x') + "\"";
  const auto echoed = ask_clean(shell("cat", 60, 8'000'000), request);
  CHECK(echoed.ok);
  CHECK(echoed.answer == request);
  // Read whole, answered by its size.
  CHECK(ask_clean(shell("wc -c", 60), request).answer == std::to_string(request.size() + 1));
}

TEST_CASE("reasoning: a command that does not read its request still answers", "[ember]") {
  // 8 MB do not fit in a pipe: the writes meet a closed pipe (EPIPE), which
  // neither kills the test process (SIGPIPE) nor loses the answer.
  const std::string request = "\"" + std::string(8'000'000, 'y') + "\"";
  CHECK(ask_clean(shell(R"(echo '{"ok":true}')"), request).answer == R"({"ok":true})");
  CHECK(ask_clean(shell(R"(exec 0<&-; sleep 0.2; echo '"late"')"), request).answer == R"("late")");
  // The same while the calling thread already blocks SIGPIPE: still blocked
  // after, and the SIGPIPE the exchange raised consumed.
  sigset_t pipe, old;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &old);
  const auto a = shell("echo 1").ask(request);
  CHECK(a.answer == "1");
  CHECK(sigpipe_blocked());
  CHECK_FALSE(sigpipe_pending());
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

TEST_CASE("reasoning: the command starts clean and apart from the session", "[ember]") {
  // The session's state the command must not inherit: a file opened without
  // close-on-exec (as HDF5 opens its files), a blocked signal, an ignored
  // SIGPIPE.
  Scratch dir;
  const int fd = ::open(dir.file("output.h5").c_str(), O_CREAT | O_WRONLY, 0600);
  REQUIRE(fd > 2);
  sigset_t usr2, old_mask;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr2, &old_mask);
  const auto old_pipe = std::signal(SIGPIPE, SIG_IGN);
  // [leads its own process group, blocked signals, SIGPIPE ignored, has fd]
  // (glibc's posix_spawn leaves its own internal signals 32 and 33 ignored
  // in the child, which its new program's glibc takes back: not checked.)
  const std::string script = fmt::format(
      R"(set -- $(cut -d' ' -f5 /proc/$$/stat); [ "$1" = $$ ] && printf '[true' || printf '[false';
         printf ', "%s"' $(sed -n 's/^SigBlk:\t//p' /proc/$$/status);
         printf ', %s' $(( 0x$(sed -n 's/^SigIgn:\t//p' /proc/$$/status) >> (13 - 1) & 1 ));
         [ -e /proc/$$/fd/{} ] && echo ', true]' || echo ', false]')",
      fd);
  const auto a = ask_clean(shell(script));
  std::signal(SIGPIPE, old_pipe);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::close(fd);
  CHECK(a.answer == R"([true,"0000000000000000",0,false])");
}

TEST_CASE("reasoning: a program that cannot be run is named", "[ember]") {
  const char* path = std::getenv("PATH");
  REQUIRE(path != nullptr);
  CHECK(failure(ReasoningEngine({.command = {"spikeline-no-such-llm", "--json"}})) ==
        std::string("the reasoning command 'spikeline-no-such-llm' was not found (PATH was "
                    "searched: ") +
            spikeline::quote_input(path, 300) + ")");
  CHECK(failure(ReasoningEngine({.command = {"/nonexistent/llm"}})) ==
        "the reasoning command '/nonexistent/llm' was not found: no such file");
  Scratch dir;
  const std::string script = dir.file("answer.sh");
  std::ofstream(script) << "#!/bin/sh\necho 1\n";
  CHECK(failure(ReasoningEngine({.command = {script}})) ==
        "the reasoning command '" + script + "' cannot be executed: permission denied");
  fs::permissions(script, fs::perms::owner_exec, fs::perm_options::add);
  CHECK(ask_clean(ReasoningEngine({.command = {script}})).answer == "1");
  // A directory is found but is no program.
  CHECK_THAT(failure(ReasoningEngine({.command = {dir.path.string()}})),
             Contains("cannot be executed: permission denied"));
}

TEST_CASE("reasoning: a failing command gives its status and the end of its stderr", "[ember]") {
  CHECK(failure(shell("echo 'loading model' >&2; echo 'out of memory' >&2; exit 3")) ==
        "the reasoning command failed with exit status 3; its standard error ends: 'loading "
        "model\\nout of memory'");
  // Only the last lines, marked as cut.
  CHECK(failure(shell("for i in 1 2 3 4 5; do echo line $i >&2; done; echo '{}'; exit 1")) ==
        "the reasoning command failed with exit status 1; its standard error ends: '...line "
        "3\\nline 4\\nline 5'");
  // At most 300 bytes of them.
  const std::string long_line(5000, 'e');
  const std::string error = failure(shell("echo " + long_line + " >&2; exit 2"));
  CHECK(error == "the reasoning command failed with exit status 2; its standard error ends: '..." +
                     std::string(300, 'e') + "'");
  CHECK(failure(shell("exit 1")) ==
        "the reasoning command failed with exit status 1; its standard error is empty");
}

TEST_CASE("reasoning: a command killed by a signal names it", "[ember]") {
  CHECK(failure(shell("echo dying >&2; kill -KILL $$")) ==
        "the reasoning command was killed by signal 9 (SIGKILL); its standard error ends: "
        "'dying'");
  CHECK(failure(shell("kill -SEGV $$")) ==
        "the reasoning command was killed by signal 11 (SIGSEGV); its standard error is empty");
}

TEST_CASE("reasoning: no answer or garbage or an answer too large is an error", "[ember]") {
  CHECK(failure(shell("true")) ==
        "the reasoning command gave no answer: its standard output is empty");
  CHECK(failure(shell("printf ' \\n\\t\\n'")) ==
        "the reasoning command gave no answer: its standard output holds only whitespace");
  CHECK(failure(shell("echo 'Sure! Here is my answer.'")) ==
        "the reasoning command's answer is not one JSON value: parse error at line 1, column 1: "
        "syntax error while parsing value - invalid literal; last read: 'S'; the answer: 'Sure! "
        "Here is my answer.\\n'");
  // Two values (JSON lines) are not one.
  CHECK_THAT(failure(shell("echo '{}'; echo '{}'")),
             StartsWith("the reasoning command's answer is not one JSON value: parse error at "
                        "line 2, column 1: syntax error while parsing value - unexpected '{'; "
                        "expected end of input"));
  // A long answer is quoted cut, its control characters escaped.
  const std::string garbage = failure(shell("printf '\\033[31m'; yes abc | head -c 5000"));
  CHECK_THAT(garbage, Contains("; the answer: '\\x1b[31mabc\\nabc"));
  CHECK_THAT(garbage, Contains("... (5005 bytes)'"));
  CHECK(garbage.size() < 400);
  // Invalid UTF-8 in a string.
  CHECK_THAT(failure(shell("printf '\"\\377\"'")),
             Contains("is not one JSON value: parse error at line 1, column 2: syntax error while "
                      "parsing value - invalid string: ill-formed UTF-8 byte"));

  // Larger than the limit: stopped (yes never ends by itself).
  CHECK(failure(shell("yes '\"x\"'", 20, 1000)) ==
        "the reasoning command's answer is larger than 1000 bytes ([ember.reasoning] "
        "max_answer_bytes); "
        "stopped reading it and killed the command");
  CHECK(
      failure(shell(R"(printf '"12345678"')", 20, 9)) ==
      "the reasoning command's answer is larger than 9 bytes ([ember.reasoning] max_answer_bytes); "
      "stopped reading it and killed the command");
}

TEST_CASE("reasoning: an answer nested too deep is refused without overflowing the stack",
          "[ember]") {
  // Large enough for a million levels (2 MB).
  const auto nested = [](int depth) {
    return shell("printf '%*s' " + std::to_string(depth) + " '' | tr ' ' '['; printf '%*s' " +
                     std::to_string(depth) + " '' | tr ' ' ']'",
                 20, 4'000'000);
  };
  CHECK(ask_clean(nested(1000)).answer == std::string(1000, '[') + std::string(1000, ']'));
  CHECK_THAT(failure(nested(1001)),
             StartsWith("the reasoning command's answer nests deeper than 1000 levels; the "
                        "answer: '[[[["));
  // A million levels: the limit holds whatever the depth.
  CHECK_THAT(failure(nested(1'000'000), "{}"), Contains("nests deeper than 1000 levels"));
}

TEST_CASE("reasoning: a timeout kills the command and its whole process group", "[ember]") {
  Scratch dir;
  const std::string child = dir.file("child"), grandchild = dir.file("grandchild");
  CHECK(failure(shell("echo $$ > " + child + "; sleep 30", 0.3)) ==
        "the reasoning command timed out after 0.3 s ([ember.reasoning] timeout); killed");
  CHECK(dead(read_pid(child)));

  // It answered and exited at once, but a background process holds its
  // stdout: the answer is not complete until that closes.
  CHECK(failure(shell("sleep 30 & echo $! > " + grandchild + "; echo '{}'", 0.3)) ==
        "the reasoning command timed out after 0.3 s ([ember.reasoning] timeout); killed");
  CHECK(dead(read_pid(grandchild)));

  // One that closes its outputs and stays alive.
  CHECK(failure(shell("exec >&- 2>&-; echo $$ > " + child + "; sleep 30", 0.3)) ==
        "the reasoning command timed out after 0.3 s ([ember.reasoning] timeout); killed");
  CHECK(dead(read_pid(child)));

  // One that neither reads its request nor answers, with a request that
  // does not fit in the pipe.
  CHECK(failure(shell("sleep 30", 0.3), std::string(1'000'000, ' ')) ==
        "the reasoning command timed out after 0.3 s ([ember.reasoning] timeout); killed");
}

TEST_CASE("reasoning: a process that left the group does not keep the session waiting", "[ember]") {
  // setsid forks (sh leads its group): the new session's sleep holds the
  // pipes, out of the group's reach; the session gives up on them.
  Scratch dir;
  const std::string escaped = dir.file("escaped");
  CHECK(failure(shell("setsid sh -c 'echo $$ > " + escaped + "; exec sleep 30'; echo '{}'", 0.3)) ==
        "the reasoning command timed out after 0.3 s ([ember.reasoning] timeout); killed");
  // Ours to clean up.
  const pid_t pid = read_pid(escaped);
  CHECK(::kill(pid, SIGKILL) == 0);
}

namespace {
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_usr1(int sig) {
  g_stop = sig;
}
}  // namespace

TEST_CASE("reasoning: the session's stop flag ends an exchange", "[ember]") {
  struct sigaction action {
  }, old{};
  action.sa_handler = on_usr1;
  sigemptyset(&action.sa_mask);
  REQUIRE(sigaction(SIGUSR1, &action, &old) == 0);
  g_stop = 0;
  const std::string expected = "the reasoning command was stopped: the session received signal " +
                               std::to_string(SIGUSR1) + " (SIGUSR1); killed";
  // The command itself signals the session (its parent), as a Ctrl-C would.
  const std::size_t fds = open_fds();
  const auto a = shell("kill -USR1 $PPID; sleep 30", 600).ask("{}", &g_stop);
  CHECK_FALSE(a.ok);
  CHECK(a.error == expected);
  CHECK(open_fds() == fds);
  int status = 0;
  CHECK(::waitpid(-1, &status, WNOHANG) == -1);
  // Raised before: not started at all.
  CHECK(shell("echo 1").ask("{}", &g_stop).error == expected);
  g_stop = 0;
  CHECK(shell("echo 1").ask("{}", &g_stop).answer == "1");
  sigaction(SIGUSR1, &old, nullptr);
}

TEST_CASE("reasoning: several threads may ask at once", "[ember]") {
  const auto engine = shell("cat");
  std::vector<ReasoningAnswer> answers(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < answers.size(); ++i)
    threads.emplace_back([&, i] { answers[i] = engine.ask(fmt::format("[{}]", i)); });
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < answers.size(); ++i)
    CHECK(answers[i].answer == fmt::format("[{}]", i));
}

TEST_CASE("reasoning: bad parameters are refused naming the item and the value and the range",
          "[ember]") {
  using spikeline::ConfigError;
  const auto params = [](std::vector<std::string> command, double timeout = 30,
                         std::size_t bytes = 1024) {
    return ReasoningParams{
        .command = std::move(command), .timeout_s = timeout, .max_answer_bytes = bytes};
  };
  CHECK_NOTHROW(params({"llm"}).validate());
  CHECK_NOTHROW(params({"llm"}, 86400, std::size_t{1} << 30).validate());
  REQUIRE_THROWS_AS(params({}).validate(), ConfigError);
  REQUIRE_THROWS_WITH(params({}).validate(),
                      "[ember.reasoning] command = [] is invalid: it must hold the program and its "
                      "arguments, at least one word (e.g. [\"my-llm-client\", \"--json\"])");
  REQUIRE_THROWS_WITH(
      params({"", "-x"}).validate(),
      "[ember.reasoning] command[0] = '' is invalid: the program's name must not be empty");
  REQUIRE_THROWS_WITH(
      params({"llm", std::string("a\0b", 3)}).validate(),
      "[ember.reasoning] command[1] = 'a\\0b' is invalid: it must not hold a NUL character");
  for (const double bad : {0.0, -1.0, 86401.0, std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity()}) {
    REQUIRE_THROWS_WITH(params({"llm"}, bad).validate(),
                        fmt::format("[ember.reasoning] timeout = {} s is invalid: it must be "
                                    "finite and in (0, 86400] s",
                                    bad));
  }
  REQUIRE_THROWS_WITH(
      params({"llm"}, 30, 0).validate(),
      "[ember.reasoning] max_answer_bytes = 0 is invalid: it must be in [1, 1073741824]");
  REQUIRE_THROWS_WITH(params({"llm"}, 30, (std::size_t{1} << 30) + 1).validate(),
                      "[ember.reasoning] max_answer_bytes = 1073741825 is invalid: it must be in "
                      "[1, 1073741824]");
  // The engine validates at construction.
  REQUIRE_THROWS_AS(ReasoningEngine(params({"llm"}, -1)), ConfigError);
}
