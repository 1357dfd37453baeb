// Checks that the ThreadSanitizer build sees what it must (scripts/tsan.sh):
//   tsan_canary race   -- two tasks of a tbb::parallel_for, made to run at
//                         the same time on two threads, write one int
//                         unsynchronised: TSan must report it (the test
//                         expects failure), or the checked build is blind;
//   tsan_canary clean  -- each task writes its own slot, and the results are
//                         read after the parallel_for: TSan must stay quiet,
//                         or it does not see oneTBB's hand-off (an
//                         uninstrumented libtbb) and every report is noise.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

int main(int argc, char** argv) {
  const bool race = argc > 1 && std::strcmp(argv[1], "race") == 0;
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 4);
  std::vector<long> slots(2, 0);
  long shared = 0;
  // Each task waits (a bounded time) until both have started, so that they
  // overlap on two threads. The counter is relaxed: it orders nothing, so
  // TSan sees no synchronisation between the tasks' writes.
  std::atomic<int> started{0};
  tbb::parallel_for(
      0, 2,
      [&](int i) {
        started.fetch_add(1, std::memory_order_relaxed);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (started.load(std::memory_order_relaxed) < 2 &&
               std::chrono::steady_clock::now() < until) {
          std::this_thread::yield();
        }
        for (int k = 0; k < 1000; ++k) slots[i] += k;
        if (race) shared += i + 1;
      },
      tbb::simple_partitioner());
  long sum = shared;
  for (const long s : slots) sum += s;
  std::printf("%ld (tasks overlapped: %s)\n", sum, started.load() == 2 ? "yes" : "no");
  return 0;
}
