// Checks that the ThreadSanitizer build sees what it must (scripts/tsan.sh):
//   tsan_canary race   -- threads of a tbb::parallel_for write one int
//                         unsynchronised: TSan must report it (the test
//                         expects failure), or the checked build is blind;
//   tsan_canary clean  -- each task writes its own slot, and the results are
//                         read after the parallel_for: TSan must stay quiet,
//                         or it does not see oneTBB's hand-off (an
//                         uninstrumented libtbb) and every report is noise.
#include <cstdio>
#include <cstring>
#include <vector>

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

int main(int argc, char** argv) {
  const bool race = argc > 1 && std::strcmp(argv[1], "race") == 0;
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 4);
  std::vector<long> slots(64, 0);
  long shared = 0;
  tbb::parallel_for(0, 64, [&](int i) {
    for (int k = 0; k < 1000; ++k) slots[i] += k;
    if (race) shared += i;
  });
  long sum = shared;
  for (const long s : slots) sum += s;
  std::printf("%ld\n", sum);
  return 0;
}
