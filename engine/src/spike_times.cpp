#include "spikeline/engine/spike_times.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "spikeline/engine/error.hpp"

namespace spikeline {

namespace {

// A time as a step >= 1; `what` names the element in messages. Throws ConfigError.
Step spike_step(double ms, const TimeGrid& grid, const std::string& what) {
  const Step s = grid.time_steps(ms, what);
  if (s < 1) {
    throw ConfigError(
        fmt::format("{} = {} ms is invalid: spike times must be >= dt = {} ms (the "
                    "first simulated step)",
                    what, ms, grid.dt()));
  }
  return s;
}

void check_order(Step s, Step prev, double ms, double prev_ms, const std::string& what) {
  if (s < prev) {
    throw ConfigError(
        fmt::format("{} = {} ms is before the previous time {} ms: spike times "
                    "must be sorted non-decreasingly",
                    what, ms, prev_ms));
  }
}

std::vector<std::vector<Step>> from_list(const ParamMap& p, const TimeGrid& grid,
                                         std::size_t size) {
  const auto lists = p.nested_list("spike_times");
  if (lists.size() > 1 && lists.size() != size) {
    throw ConfigError(
        fmt::format("{} has {} lists, but the population has {} neurons: give one "
                    "list per neuron, or a single list for all",
                    p.item("spike_times"), lists.size(), size));
  }
  const bool nested = lists.size() > 1;
  std::vector<std::vector<Step>> out(lists.size());
  for (std::size_t n = 0; n < lists.size(); ++n) {
    out[n].reserve(lists[n].size());
    for (std::size_t k = 0; k < lists[n].size(); ++k) {
      const double ms = lists[n][k];
      const std::string what = nested ? fmt::format("{}[{}][{}]", p.item("spike_times"), n, k)
                                      : fmt::format("{}[{}]", p.item("spike_times"), k);
      const Step s = spike_step(ms, grid, what);
      if (k > 0) check_order(s, out[n].back(), ms, lists[n][k - 1], what);
      out[n].push_back(s);
    }
  }
  return out;
}

std::vector<std::vector<Step>> from_file(const ParamMap& p, const std::string& path,
                                         const TimeGrid& grid, std::size_t size) {
  // Regular files only, checked before opening: a FIFO would block the open
  // (and `validate`) until a writer comes, a device be read without end.
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  if (type == std::filesystem::file_type::directory) {
    throw Error(ExitCode::no_input,
                fmt::format("{}: '{}' is a directory; give a file of 'node_id time_ms' lines",
                            p.item("spike_times_file"), path));
  }
  if (!ec && type != std::filesystem::file_type::regular) {
    throw Error(ExitCode::no_input,
                fmt::format("{}: '{}' is not a regular file (a FIFO, a device or a socket); give "
                            "a file of 'node_id time_ms' lines",
                            p.item("spike_times_file"), path));
  }
  std::ifstream file(path);
  if (!file) {
    throw Error(ExitCode::no_input,
                fmt::format("{}: cannot open '{}': {}", p.item("spike_times_file"), path,
                            std::strerror(errno)));
  }
  std::vector<std::vector<Step>> out(size);
  std::vector<double> last_ms(size, 0.0);
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(file, line)) {
    ++line_no;
    const auto where = [&] { return fmt::format("{} line {}", path, line_no); };
    std::string_view text(line);
    if (const auto hash = text.find('#'); hash != std::string_view::npos)
      text = text.substr(0, hash);
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string body(text);
    const char* cur = body.c_str();
    char* end = nullptr;
    errno = 0;
    const long long node = std::strtoll(cur, &end, 10);
    if (end == cur || errno != 0 || (*end != ' ' && *end != '\t')) {
      throw DataError(
          fmt::format("{}: expected 'node_id time_ms', got '{}'", where(), quote_input(line)));
    }
    cur = end;
    const double ms = std::strtod(cur, &end);
    if (end == cur) {
      throw DataError(
          fmt::format("{}: expected 'node_id time_ms', got '{}'", where(), quote_input(line)));
    }
    if (std::string_view(end).find_first_not_of(" \t\r") != std::string_view::npos) {
      throw DataError(
          fmt::format("{}: unexpected text after the time in '{}'", where(), quote_input(line)));
    }
    if (node < 0 || static_cast<unsigned long long>(node) >= size) {
      throw DataError(
          fmt::format("{}: node_id {} is out of range: the population has {} neurons "
                      "(valid 0 .. {})",
                      where(), node, size, size - 1));
    }
    const auto i = static_cast<std::size_t>(node);
    Step s = 0;
    try {
      s = spike_step(ms, grid, fmt::format("spike time of node {}", node));
      if (!out[i].empty()) {
        check_order(s, out[i].back(), ms, last_ms[i], fmt::format("spike time of node {}", node));
      }
    } catch (const ConfigError& e) {
      throw DataError(fmt::format("{}: {}", where(), e.what()));
    }
    out[i].push_back(s);
    last_ms[i] = ms;
  }
  if (file.bad()) {
    throw IoError(ExitCode::io,
                  fmt::format("{}: reading '{}' failed: {}", p.item("spike_times_file"), path,
                              std::strerror(errno)));
  }
  return out;
}

}  // namespace

std::vector<std::vector<Step>> read_spike_times(const ParamMap& p, const TimeGrid& grid,
                                                std::size_t size) {
  if (p.has("spike_times_file") && p.has("spike_times")) {
    throw ConfigError(fmt::format("{} and {} are both given: use one of them",
                                  p.item("spike_times"), p.item("spike_times_file")));
  }
  if (p.has("spike_times_file")) {
    const std::string path = p.text("spike_times_file", "");
    if (path.empty()) {
      throw ConfigError(
          fmt::format("{} is empty: it must name a file", p.item("spike_times_file")));
    }
    return from_file(p, path, grid, size);
  }
  return from_list(p, grid, size);
}

}  // namespace spikeline
