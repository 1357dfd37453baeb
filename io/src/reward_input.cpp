#include "spikeline/io/reward_input.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "spikeline/engine/error.hpp"

namespace spikeline::io {

RewardInput::RewardInput(const std::string& path)
    : name_(path == "-" ? std::string("stdin") : path) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
  } else {
    // A device is no reward stream: /dev/zero was read without end until the
    // memory ran out. Refused before it is opened; a named pipe is a stream.
    struct stat before {};
    if (::stat(path.c_str(), &before) == 0 &&
        (S_ISCHR(before.st_mode) || S_ISBLK(before.st_mode))) {
      throw Error(ExitCode::no_input,
                  fmt::format("--reward-input: '{}' is a {} device, not a file or a stream; give a "
                              "file or a named pipe of '[TIME_MS] MODULATOR AMOUNT' lines ('-' "
                              "for stdin)",
                              path, S_ISCHR(before.st_mode) ? "character" : "block"));
    }
    fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
      throw Error(ExitCode::no_input,
                  fmt::format("--reward-input: cannot open '{}': {}", path, std::strerror(errno)));
    }
    owned_ = true;
  }
  struct stat st {};
  const bool known = ::fstat(fd_, &st) == 0;
  if (known && S_ISDIR(st.st_mode)) {
    if (owned_) ::close(fd_);
    throw Error(ExitCode::no_input,
                fmt::format("--reward-input: '{}' is a directory; give a file or a stream of "
                            "'[TIME_MS] MODULATOR AMOUNT' lines ('-' for stdin)",
                            name_));
  }
  regular_ = known && S_ISREG(st.st_mode);
  if (!regular_) {
    // Polled between windows: reads must never wait for the writer.
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  }
}

RewardInput::~RewardInput() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

std::vector<RewardLine> RewardInput::poll() {
  std::vector<RewardLine> out;
  if (eof_) return out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n > 0) {
      pending_.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      eof_ = true;
      if (!pending_.empty() && pending_.back() != '\n') pending_ += '\n';  // a last unended line
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;  // nothing more now
    throw DataError(
        fmt::format("--reward-input: cannot read '{}': {}", name_, std::strerror(errno)));
  }
  std::size_t start = 0;
  for (std::size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
    ++line_;
    std::string text = pending_.substr(start, end - start);
    if (const auto hash = text.find('#'); hash != std::string::npos) text.resize(hash);
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    out.push_back(parse(text));
  }
  pending_.erase(0, start);
  return out;
}

RewardLine RewardInput::parse(const std::string& text) const {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  auto fail = [&](const std::string& why) -> RewardLine {
    throw DataError(fmt::format(
        "--reward-input {} line {}: '{}': {}; expected '[TIME_MS] MODULATOR AMOUNT', e.g. "
        "'2500 dopamine 0.5'",
        name_, line_, quote_input(text), why));
  };
  auto number = [&](const std::string& w, const char* what) {
    double v = 0;
    const auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
    if (ec != std::errc() || p != w.data() + w.size())
      fail(fmt::format("{} '{}' is not a number", what, quote_input(w)));
    if (!std::isfinite(v)) fail(fmt::format("{} {} must be finite", what, quote_input(w)));
    return v;
  };
  if (words.size() != 2 && words.size() != 3) {
    return fail(fmt::format("{} fields", words.size()));
  }
  RewardLine r;
  r.line = line_;
  if (words.size() == 3) {
    r.time_ms = number(words[0], "time");
    if (!(*r.time_ms > 0)) fail(fmt::format("time {} ms must be > 0", quote_input(words[0])));
  }
  r.modulator = words[words.size() - 2];
  r.amount = number(words.back(), "amount");
  return r;
}

}  // namespace spikeline::io
