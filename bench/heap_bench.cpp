// Which Boost heap for the event queue? The workload the heap actually
// carries: generator emissions (one pending event per generator neuron, each
// popped and re-pushed a random distance ahead) -- the sparse_lif case with
// 1,000,000 Poisson generators, and smaller ones. Spike deliveries go through
// the calendar, not the heap (docs/architecture.md).
//
//   cmake --build build --target heap_bench && ./build/bench/heap_bench
#include <boost/heap/binomial_heap.hpp>
#include <boost/heap/d_ary_heap.hpp>
#include <boost/heap/fibonacci_heap.hpp>
#include <boost/heap/pairing_heap.hpp>
#include <boost/heap/skew_heap.hpp>
#include <chrono>
#include <cstdio>

#include "spikeline/engine/event_queue.hpp"
#include "spikeline/engine/random.hpp"

using namespace spikeline;

namespace {
struct Later {
  bool operator()(const Event& x, const Event& y) const { return y < x; }
};

template <typename Heap>
double run(std::size_t pending, std::size_t pops, std::uint64_t& checksum) {
  Heap heap;
  RandomStream rng(1, 1, 1);
  // Mean inter-event interval of 20,000 steps (0.5 Hz at dt = 0.1 ms).
  for (std::uint32_t i = 0; i < pending; ++i) {
    heap.push({static_cast<Step>(rng.exponential(1.0 / 20000.0)), EventKind::emission, 0, i, 0, 0});
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < pops; ++k) {
    Event e = heap.top();
    heap.pop();
    checksum += static_cast<std::uint64_t>(e.step) ^ e.b;
    e.step += 1 + static_cast<Step>(rng.exponential(1.0 / 20000.0));
    heap.push(e);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
         static_cast<double>(pops) * 1e9;
}
}  // namespace

int main() {
  using namespace boost::heap;
  std::uint64_t sum = 0;
  std::printf("ns per pop+push, by number of pending events\n%-14s", "heap");
  const std::size_t sizes[] = {1000, 100000, 1000000};
  for (auto n : sizes) std::printf("%12zu", n);
  std::printf("\n");
  auto row = [&](const char* name, auto fn) {
    std::printf("%-14s", name);
    for (auto n : sizes) std::printf("%12.1f", fn(n));
    std::printf("\n");
  };
  const std::size_t pops = 2000000;
  row("d_ary 2", [&](std::size_t n) {
    return run<d_ary_heap<Event, arity<2>, compare<Later>>>(n, pops, sum);
  });
  row("d_ary 4", [&](std::size_t n) {
    return run<d_ary_heap<Event, arity<4>, compare<Later>>>(n, pops, sum);
  });
  row("d_ary 8", [&](std::size_t n) {
    return run<d_ary_heap<Event, arity<8>, compare<Later>>>(n, pops, sum);
  });
  row("pairing",
      [&](std::size_t n) { return run<pairing_heap<Event, compare<Later>>>(n, pops, sum); });
  row("binomial",
      [&](std::size_t n) { return run<binomial_heap<Event, compare<Later>>>(n, pops, sum); });
  row("fibonacci",
      [&](std::size_t n) { return run<fibonacci_heap<Event, compare<Later>>>(n, pops, sum); });
  row("skew", [&](std::size_t n) { return run<skew_heap<Event, compare<Later>>>(n, pops, sum); });
  std::printf("(checksum %llu)\n", static_cast<unsigned long long>(sum));
}
