// The simulation loop's thread team (engine-private): every task of every
// phase runs exactly once, the phase is complete when run() returns, errors
// reach the caller, and a team whose helpers are busy or asleep still
// completes its phases.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "../../engine/src/step_team.hpp"

using spikeline::detail::StepTeam;

TEST_CASE("step team: each task once per phase, all done when run returns", "[team]") {
  for (const int threads : {1, 2, 3, 8}) {
    for (const std::size_t tasks : {std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
      INFO(threads << " threads, " << tasks << " tasks");
      StepTeam team(threads, tasks);
      // Plain (non-atomic) counters: a task that ran twice or concurrently
      // with the check, or a phase not finished at return, shows as a wrong
      // count (and as a race under TSan).
      std::vector<long> runs(tasks, 0);
      std::vector<std::atomic<int>> inside(tasks);
      bool overlap = false;
      const std::function<void(std::size_t)> task = [&](std::size_t i) {
        if (inside[i].fetch_add(1) != 0) overlap = true;
        ++runs[i];
        inside[i].fetch_sub(1);
      };
      const long phases = 20000;
      for (long p = 1; p <= phases; ++p) {
        team.run(task);
        for (std::size_t i = 0; i < tasks; ++i) REQUIRE(runs[i] == p);
      }
      CHECK_FALSE(overlap);
    }
  }
}

TEST_CASE("step team: a task's exception reaches the caller, the others still run", "[team]") {
  StepTeam team(2, 4);
  std::vector<int> runs(4, 0);
  const std::function<void(std::size_t)> failing = [&](std::size_t i) {
    ++runs[i];
    if (i == 2) throw std::runtime_error("task 2 failed");
  };
  CHECK_THROWS_WITH(team.run(failing), "task 2 failed");
  CHECK(runs == std::vector<int>{1, 1, 1, 1});
  // The team is usable afterwards, and the error is not raised again.
  const std::function<void(std::size_t)> fine = [&](std::size_t i) { ++runs[i]; };
  team.run(fine);
  CHECK(runs == std::vector<int>{2, 2, 2, 2});
}

TEST_CASE("step team: helpers that slept between phases wake for the next", "[team]") {
  StepTeam team(3, 6);
  std::atomic<int> total{0};
  std::vector<std::thread::id> who(6);
  const std::function<void(std::size_t)> task = [&](std::size_t i) {
    who[i] = std::this_thread::get_id();
    ++total;
  };
  for (int p = 0; p < 5; ++p) {
    team.run(task);
    // Longer than the helpers spin: they go to sleep on the doorbell.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(total == 30);
  // A long task keeps one thread busy: the others take the rest (all of it
  // unless the machine is so loaded that no helper ran for 50 ms).
  const std::function<void(std::size_t)> slow = [&](std::size_t i) {
    who[i] = std::this_thread::get_id();
    if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  };
  team.run(slow);
  int by_others = 0;
  for (std::size_t i = 1; i < 6; ++i) by_others += who[i] != who[0];
  CHECK(by_others >= 1);
}
