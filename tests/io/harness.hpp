// Helpers shared by the io/ tests: a temporary directory per test, and
// read-back checks written in Python (h5py), as users read the files.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace spikeline::io::test {

namespace fs = std::filesystem;

// A fresh directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("spikeline_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Runs `script` with /usr/bin/python3 and the arguments; returns its exit code.
inline int run_python(const TempDir& dir, const std::string& script, const std::string& args) {
  static int n = 0;
  const std::string script_path = dir.file("check_" + std::to_string(n++) + ".py");
  std::ofstream(script_path) << script;
  const int status = std::system(("/usr/bin/python3 " + script_path + " " + args).c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs `write` in a child process whose files may not grow beyond `bytes`,
// so that writes fail as on a full disk (EFBIG instead of ENOSPC). Returns
// the exit code of the Error it threw (0: none, 1: another exception, -1:
// the child died).
template <class Error>
int exit_code_with_file_limit(rlim_t bytes, const std::function<void()>& write) {
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{bytes, bytes};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int code = 0;
    try {
      write();
    } catch (const Error& e) {
      code = static_cast<int>(e.code());
    } catch (...) {
      code = 1;
    }
    ::_exit(code);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace spikeline::io::test
