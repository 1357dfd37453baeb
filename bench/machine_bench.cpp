// What this machine does for the engine's two-thread phases: the figures
// behind docs/performance.md's analysis of the 2-thread speed-up.
//
//   cmake --build build --target machine_bench && ./build/bench/machine_bench
//
// 1. update: iaf_cond_exp's own update loop (the built-in model, through the
//    registry), ns per neuron per step at sizes from L1 to beyond L2, at one
//    thread and at two threads that each update half (a spin barrier per
//    step, as the engine's team does).
// 2. hand-over: the round trip of a store seen by the other core and
//    answered, polling with and without `pause`.
// 3. bandwidth: a read-modify-write stream over 64 MiB per thread, one
//    thread alone and two at once.
// Times are medians of 5 repetitions; the machine drifts, so compare the
// rows of one run, not runs.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "spikeline/engine/params.hpp"
#include "spikeline/engine/population.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/engine/time_grid.hpp"
#include "spikeline/neurons/builtin.hpp"

using namespace spikeline;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

template <class F>
double median_of_5(F&& f) {
  std::vector<double> t;
  for (int r = 0; r < 5; ++r) t.push_back(f());
  std::sort(t.begin(), t.end());
  return t[2];
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// One COBA-like population with its input buffers, updated as the engine does.
struct Part {
  TimeGrid grid{0.1};
  ParamMap params{"population 'p' (iaf_cond_exp)"};
  std::unique_ptr<Population> pop;
  std::vector<float> ex, in;
  std::vector<NeuronIndex> spikes;
  explicit Part(const Registry& reg, std::size_t n) : ex(n, 0.0f), in(n, 0.0f) {
    const ModelContext ctx{"p", n, params, grid, 1, 0};
    pop = reg.get("iaf_cond_exp", "bench").make_population(ctx);
    // Spread V over [-60, -50) mV so that some neurons fire, as in COBA.
    for (std::size_t i = 0; i < n; ++i)
      pop->set_state(0, static_cast<NeuronIndex>(i), -60.0 + static_cast<double>(i % 97) / 9.7);
  }
  void step(Step t) {
    // A few inputs per step, as 20 Hz x in-degree 80 gives.
    for (std::size_t i = static_cast<std::size_t>(t) % 53; i < ex.size(); i += 53) ex[i] += 6.0f;
    spikes.clear();
    SpikeSink sink(spikes);
    pop->update(t, {0, static_cast<NeuronIndex>(pop->size())}, {ex.data(), in.data(), nullptr},
                sink);
  }
};

// Runs `steps` phases on two threads, as the engine's team does: phase s
// opens with a store, runs mine(s) here and theirs(s) on a helper that polls
// for it, and closes when the helper's answer is seen. Returns seconds.
template <class Mine, class Theirs>
double lockstep_seconds(long steps, bool pause, Mine&& mine, Theirs&& theirs) {
  alignas(64) std::atomic<long> phase{0};
  alignas(64) std::atomic<long> done{0};
  auto wait_for = [pause](const std::atomic<long>& a, long s) {
    while (a.load(std::memory_order_acquire) < s) {
      if (pause) cpu_relax();
    }
  };
  std::thread helper([&] {
    for (long s = 1; s <= steps; ++s) {
      wait_for(phase, s);
      theirs(s);
      done.store(s, std::memory_order_release);
    }
  });
  const auto t0 = Clock::now();
  for (long s = 1; s <= steps; ++s) {
    phase.store(s, std::memory_order_release);
    mine(s);
    wait_for(done, s);
  }
  const double t = seconds_since(t0);
  helper.join();
  return t;
}

// ns per neuron per step for n neurons, updated by `threads` threads (each
// its own half when 2).
double update_ns(const Registry& reg, std::size_t n, int threads) {
  const long steps = std::max<long>(200, static_cast<long>(4e8 / static_cast<double>(n * 36)));
  const double per = 1e9 / static_cast<double>(steps * static_cast<long>(n));
  if (threads == 1) {
    Part p(reg, n);
    return median_of_5([&] {
      const auto t0 = Clock::now();
      for (long s = 1; s <= steps; ++s) p.step(s);
      return seconds_since(t0) * per;
    });
  }
  Part a(reg, n / 2), b(reg, n - n / 2);
  return median_of_5([&] {
    return lockstep_seconds(
               steps, false, [&](long s) { a.step(s); }, [&](long s) { b.step(s); }) *
           per;
  });
}

// Round trip of a store answered by the other thread, in ns.
double handover_ns(bool pause) {
  constexpr long kTrips = 200000;
  return median_of_5([&] {
    return lockstep_seconds(
               kTrips, pause, [](long) {}, [](long) {}) /
           kTrips * 1e9;
  });
}

// GB/s (bytes read + written) of each of `threads` threads streaming over
// its own 64 MiB.
double bandwidth_gbs(int threads) {
  constexpr std::size_t kDoubles = std::size_t{64} << 17;  // 64 MiB
  constexpr int kPasses = 10;
  std::vector<std::vector<double>> data(static_cast<std::size_t>(threads),
                                        std::vector<double>(kDoubles, 1.0));
  return median_of_5([&] {
    std::vector<double> secs(static_cast<std::size_t>(threads));
    std::vector<std::thread> team;
    for (int k = 0; k < threads; ++k) {
      team.emplace_back([&, k] {
        auto& v = data[static_cast<std::size_t>(k)];
        const auto t0 = Clock::now();
        for (int p = 0; p < kPasses; ++p) {
          for (double& x : v) x = x * 0.999999 + 1.0;
        }
        secs[static_cast<std::size_t>(k)] = seconds_since(t0);
      });
    }
    for (auto& t : team) t.join();
    const double slowest = *std::max_element(secs.begin(), secs.end());
    return 2.0 * kPasses * static_cast<double>(kDoubles * sizeof(double)) / slowest / 1e9;
  });
}

}  // namespace

int main() {
  Registry reg;
  register_builtin_models(reg);
  std::printf("## update: iaf_cond_exp, ns per neuron per step\n\n");
  std::printf("| neurons | state | 1 thread | 2 threads | speed-up |\n|---|---|---|---|---|\n");
  for (const std::size_t n : {1000, 4000, 16000, 64000, 256000}) {
    const double one = update_ns(reg, n, 1), two = update_ns(reg, n, 2);
    std::printf("| %zu | %.0f KiB | %.3f | %.3f | %.2fx |\n", n, static_cast<double>(n) * 36 / 1024,
                one, two, one / two);
  }
  std::printf("\n## hand-over round trip between two threads\n\n");
  std::printf("| polling | ns |\n|---|---|\n| with pause | %.0f |\n| without pause | %.0f |\n",
              handover_ns(true), handover_ns(false));
  std::printf("\n## bandwidth: read-modify-write over 64 MiB per thread\n\n");
  std::printf("| threads | GB/s per thread |\n|---|---|\n| 1 | %.1f |\n| 2 at once | %.1f |\n",
              bandwidth_gbs(1), bandwidth_gbs(2));
  return 0;
}
