// What the per-partition source bitmaps save in filing (issue 24, slice 9):
// one network built once per filing mode (SimulationOptions::source_bitmaps:
// never, always, automatic), all alive at once, run in turns over the same
// stretches of simulated time, so that every mode meets the same activity
// and the same state of the machine.
//
//   ./build/bench/file_spikes CONFIG [--partitions 16,32,64] [--modes never,always,automatic]
//       [--reps 5] [--warmup MS] [--duration MS] [--set key=value ...]
//
// One thread. Per partition count it builds the modes' simulators, runs
// --warmup ms untimed, then --reps times --duration ms for each mode in
// turn (the order rotated from rep to rep), timing run_until. The modes
// change filing only, so a difference of loop times is a difference of
// filing. The spikes of every stretch must be the same in every mode
// (checked: a digest per stretch; exit 70 otherwise). Prints one JSON
// object per line on stdout: per (partitions, mode) the loop seconds of
// each rep, the spikes, and the bitmaps kept (blocks, and their bytes).
//
// With one mode and --reps 1 it is what bench/file_spikes.py runs under
// callgrind (instructions of Simulator::enqueue alone).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "spikeline/engine/simulator.hpp"
#include "spikeline/io/build.hpp"
#include "spikeline/io/config.hpp"
#include "spikeline/learning/builtin.hpp"
#include "spikeline/neurons/builtin.hpp"
#include "spikeline/synapses/connect.hpp"

using namespace spikeline;
using Clock = std::chrono::steady_clock;
using Mode = SimulationOptions::SourceBitmaps;

namespace {

// FNV-1a over a stretch's spikes: equal digests, the same spikes.
class Digest final : public SimulationObserver {
 public:
  void on_spikes(std::span<const SpikeRecord> spikes) override {
    for (const auto& s : spikes) {
      mix(static_cast<std::uint64_t>(s.step));
      mix((std::uint64_t{s.population} << 32) | s.neuron);
    }
    count += spikes.size();
  }
  std::uint64_t value = 1469598103934665603ull;
  std::size_t count = 0;

 private:
  void mix(std::uint64_t v) {
    for (int b = 0; b < 8; ++b) {
      value ^= (v >> (8 * b)) & 0xff;
      value *= 1099511628211ull;
    }
  }
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "file_spikes: %s\nusage: file_spikes CONFIG [--partitions 16,32,64] "
               "[--modes never,always,automatic] [--reps 5] [--warmup MS] [--duration MS] "
               "[--set key=value ...]\n",
               why.c_str());
  std::exit(64);
}

double number(const char* option, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (*end != '\0' || !(v >= 0))
    usage(std::string(option) + ": '" + text + "' is not a number >= 0");
  return v;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

Mode mode_of(const std::string& name) {
  if (name == "never") return Mode::never;
  if (name == "always") return Mode::always;
  if (name == "automatic") return Mode::automatic;
  usage("--modes: '" + name + "' is not one of never, always, automatic");
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::vector<std::string> overrides, modes = {"never", "always", "automatic"};
  std::vector<unsigned> partition_counts = {16, 32, 64};
  int reps = 5;
  double warmup_ms = 100, duration_ms = 200;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--partitions" && has_value) {
      partition_counts.clear();
      for (const auto& p : split(argv[++i])) {
        const double v = number("--partitions", p);
        if (v < 1) usage("--partitions: each count must be at least 1");
        partition_counts.push_back(static_cast<unsigned>(v));
      }
    } else if (a == "--modes" && has_value) {
      modes = split(argv[++i]);
      for (const auto& m : modes) mode_of(m);
    } else if (a == "--reps" && has_value) {
      reps = static_cast<int>(number("--reps", argv[++i]));
      if (reps < 1) usage("--reps must be at least 1");
    } else if (a == "--warmup" && has_value) {
      warmup_ms = number("--warmup", argv[++i]);
    } else if (a == "--duration" && has_value) {
      duration_ms = number("--duration", argv[++i]);
    } else if (a == "--set" && has_value) {
      overrides.push_back(argv[++i]);
    } else if (config_path.empty() && !a.empty() && a[0] != '-') {
      config_path = a;
    } else {
      usage("unknown or incomplete argument '" + a + "'");
    }
  }
  if (config_path.empty()) usage("CONFIG is required");

  try {
    Registry registry;
    register_builtin_models(registry);
    register_builtin_rules(registry);
    synapses::register_builtin_connection_rules(registry);
    const io::Config config = io::load_config(config_path, overrides);
    const double dt = config.simulation.dt_ms;
    const auto steps = [&](double ms) { return static_cast<Step>(ms / dt + 0.5); };
    for (const unsigned partitions : partition_counts) {
      std::vector<std::unique_ptr<Simulator>> sims;
      for (const auto& m : modes) {
        io::BuiltNetwork built = io::build_network(config, registry);
        SimulationOptions options;
        options.threads = 1;
        options.partitions = partitions;
        options.source_bitmaps = mode_of(m);
        sims.push_back(std::make_unique<Simulator>(std::move(built.network), options));
        Digest warm;
        sims.back()->run_until(steps(warmup_ms), warm);
      }
      const std::size_t n = modes.size();
      std::vector<std::vector<double>> seconds(n);
      std::size_t spikes = 0;
      for (int rep = 0; rep < reps; ++rep) {
        const Step stop = steps(warmup_ms) + (rep + 1) * steps(duration_ms);
        std::vector<std::uint64_t> digests(n);
        for (std::size_t j = 0; j < n; ++j) {
          const std::size_t m = (j + static_cast<std::size_t>(rep)) % n;
          Digest d;
          const Clock::time_point t0 = Clock::now();
          sims[m]->run_until(stop, d);
          seconds[m].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
          digests[m] = d.value;
          if (m == 0) spikes += d.count;
        }
        if (std::count(digests.begin(), digests.end(), digests[0]) != static_cast<long>(n)) {
          std::fprintf(stderr, "file_spikes: the spikes differ between modes at %u partitions\n",
                       partitions);
          return 70;
        }
      }
      for (std::size_t m = 0; m < n; ++m) {
        const Simulator& sim = *sims[m];
        std::size_t kept = 0, blocks = 0, bytes = 0;
        for (std::size_t k = 0; k < sim.network().projections().size(); ++k) {
          for (unsigned p = 0; p < partitions; ++p) {
            const auto bits = sim.source_bitmap(k, p);
            blocks += sim.connectivity(k).block(p).row.empty() ? 0 : 1;
            kept += bits.empty() ? 0 : 1;
            bytes += bits.size_bytes();
          }
        }
        std::printf(
            "{\"partitions\": %u, \"mode\": \"%s\", \"steps\": %lld, \"spikes\": %zu, "
            "\"blocks\": %zu, \"bitmaps\": %zu, \"bitmap_bytes\": %zu, \"loop_s\": [",
            partitions, modes[m].c_str(), static_cast<long long>(reps * steps(duration_ms)), spikes,
            blocks, kept, bytes);
        for (std::size_t r = 0; r < seconds[m].size(); ++r)
          std::printf("%s%.6f", r ? ", " : "", seconds[m][r]);
        std::printf("]}\n");
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "file_spikes: %s\n", e.what());
    return 1;
  }
  return 0;
}
