// Per-window compute and exchange times of a real network, per rank: the
// input of the discrete-event model in bench/scaling_model.py, which needs
// how long each rank computes in each window and how long it then waits.
//
//   [mpirun -np K] ./build/bench/window_times CONFIG --out PREFIX
//       [--threads T] [--warmup MS] [--duration MS] [--set key=value ...]
//
// It builds CONFIG as `spikeline run` does (built-in models and rules, no
// output file), runs --warmup ms untimed, then --duration ms with a
// timestamp at three points of every window, without touching the engine:
// the simulator's Communicator is wrapped, so the entry into and the return
// from the window's allgatherv (the exchange: headers, then records) are
// seen, and the observer's on_window marks the end of the window. Per
// window w, on each rank:
//   compute  = (enter(w) - end(w-1)) + (end(w) - leave(w))
//              (the stepping of the rank's partitions, then the merge of the
//              global spikes and the observer)
//   exchange = leave(w) - enter(w)
//              (the collective, including the wait for the slowest rank)
// One process (no launcher) makes no exchange: compute is the whole window.
// Rank r writes PREFIX.rR.txt: one line per window, "compute_us exchange_us
// spikes" (spikes: the window's global count).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/communicator.hpp"
#include "spikeline/engine/simulator.hpp"
#include "spikeline/io/build.hpp"
#include "spikeline/io/config.hpp"
#include "spikeline/learning/builtin.hpp"
#include "spikeline/mpi/communicator.hpp"
#include "spikeline/neurons/builtin.hpp"
#include "spikeline/synapses/connect.hpp"

using namespace spikeline;
using Clock = std::chrono::steady_clock;

namespace {

// Forwards every call to the real communicator; timestamps allgatherv, the
// one collective of a window, while `recording`.
class TimedCommunicator final : public Communicator {
 public:
  explicit TimedCommunicator(std::shared_ptr<Communicator> inner) : inner_(std::move(inner)) {}
  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  std::uint64_t allgatherv(std::span<const std::byte> mine, std::vector<std::byte>& all,
                           std::vector<std::size_t>& counts, std::uint64_t flags) override {
    const Clock::time_point enter = Clock::now();
    const std::uint64_t any = inner_->allgatherv(mine, all, counts, flags);
    if (recording) calls.push_back({enter, Clock::now()});
    return any;
  }
  void gatherv(std::span<const std::byte> mine, std::vector<std::byte>& all,
               std::vector<std::size_t>& counts) override {
    inner_->gatherv(mine, all, counts);
  }
  void broadcast(std::vector<std::byte>& bytes) override { inner_->broadcast(bytes); }
  void alltoallv(const std::vector<std::vector<std::byte>>& to,
                 std::vector<std::vector<std::byte>>& from) override {
    inner_->alltoallv(to, from);
  }
  void allreduce_min(std::span<std::uint64_t> v) override { inner_->allreduce_min(v); }
  void allreduce_max(std::span<std::uint64_t> v) override { inner_->allreduce_max(v); }
  void allreduce_sum(std::span<std::uint64_t> v) override { inner_->allreduce_sum(v); }
  std::string library() const override { return inner_->library(); }

  struct Call {
    Clock::time_point enter, leave;
  };
  bool recording = false;
  std::vector<Call> calls;

 private:
  std::shared_ptr<Communicator> inner_;
};

class WindowClock final : public SimulationObserver {
 public:
  void on_spikes(std::span<const SpikeRecord> spikes) override { pending_ += spikes.size(); }
  void on_window(Step) override {
    if (recording) {
      ends.push_back(Clock::now());
      spikes.push_back(pending_);
    }
    pending_ = 0;
  }
  bool recording = false;
  std::vector<Clock::time_point> ends;
  std::vector<std::size_t> spikes;

 private:
  std::size_t pending_ = 0;
};

double us(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "window_times: %s\nusage: window_times CONFIG --out PREFIX [--threads T] "
               "[--warmup MS] [--duration MS] [--set key=value ...]\n",
               why.c_str());
  std::exit(64);
}

double number(const char* option, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (*end != '\0' || !(v >= 0))
    usage(std::string(option) + ": '" + text + "' is not a number >= 0");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  auto timed = std::make_shared<TimedCommunicator>(mpi::make_communicator(argc, argv));
  std::string config_path, prefix;
  std::vector<std::string> overrides;
  int threads = 1;
  double warmup_ms = 0, duration_ms = 100;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--out" && has_value) {
      prefix = argv[++i];
    } else if (a == "--threads" && has_value) {
      threads = static_cast<int>(number("--threads", argv[++i]));
      if (threads < 1) usage("--threads must be at least 1");
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
  if (config_path.empty() || prefix.empty()) usage("CONFIG and --out are required");

  try {
    Registry registry;
    register_builtin_models(registry);
    register_builtin_rules(registry);
    synapses::register_builtin_connection_rules(registry);
    const io::Config config = io::load_config(config_path, overrides);
    io::BuiltNetwork built = io::build_network(config, registry);
    const double dt = config.simulation.dt_ms;
    SimulationOptions options;
    options.threads = threads;
    options.comm = timed;
    // One exchange per window, as the model's input assumes (a network
    // with a window of >= 2 steps would otherwise exchange twice per window).
    options.overlap = SimulationOptions::Overlap::never;
    Simulator sim(std::move(built.network), options);
    const auto steps = [&](double ms) { return static_cast<Step>(ms / dt + 0.5); };

    WindowClock clock;
    sim.run_until(steps(warmup_ms), clock);
    timed->recording = clock.recording = true;
    const Clock::time_point start = Clock::now();
    sim.run_until(steps(warmup_ms) + steps(duration_ms), clock);

    const bool exchanged = timed->size() > 1;
    // run_until ends with the ranks' agreement on the last window's checks
    // (agree(): one allgatherv more), not a window's exchange.
    if (exchanged && timed->calls.size() == clock.ends.size() + 1) timed->calls.pop_back();
    if (exchanged && timed->calls.size() != clock.ends.size()) {
      std::fprintf(stderr, "window_times: %zu exchanges in %zu windows: not one per window\n",
                   timed->calls.size(), clock.ends.size());
      return 70;
    }
    const std::string path = prefix + ".r" + std::to_string(timed->rank()) + ".txt";
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) usage("cannot write " + path);
    std::fprintf(f, "# %s, %d rank(s) x %d thread(s), window %lld step(s) of %g ms\n",
                 config_path.c_str(), timed->size(), threads, static_cast<long long>(sim.window()),
                 dt);
    std::fprintf(f, "# compute_us exchange_us spikes\n");
    Clock::time_point previous = start;
    for (std::size_t w = 0; w < clock.ends.size(); ++w) {
      double compute = us(clock.ends[w] - previous), exchange = 0;
      if (exchanged) {
        exchange = us(timed->calls[w].leave - timed->calls[w].enter);
        compute -= exchange;
      }
      std::fprintf(f, "%.3f %.3f %zu\n", compute, exchange, clock.spikes[w]);
      previous = clock.ends[w];
    }
    std::fclose(f);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "window_times: %s\n", e.what());
    return 1;
  }
  return 0;
}
