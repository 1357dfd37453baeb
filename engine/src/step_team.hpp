// A fixed team of threads for the simulation loop's parallel phases (private
// to the engine).
//
// A window of the loop can be a single step of a few microseconds (COBA
// 4,000: one 0.1 ms step is ~5 us of work), and tbb::parallel_for costs
// microseconds per call to wake and join its workers: at 2 threads COBA
// 4,000 ran no faster than at 1. The team's helpers stay awake between
// phases, spinning for a short while before they sleep, so starting a phase
// costs a store and joining it a load.
//
// Tasks are claimed, not assigned: thread m first tries tasks m, m + T, ...
// (so a partition tends to stay in one core's cache), then any task left.
// A phase therefore completes even when a helper is slow, descheduled or not
// started yet; the caller never waits for a thread to arrive, only for the
// claimed tasks to finish. Which thread runs a task never changes a result:
// the tasks are the partitions, which share nothing within a phase.
//
// Helpers are plain std::threads rather than TBB tasks: a spinning TBB task
// could be picked up by the calling thread itself while it waits inside a
// nested TBB call (a model's or a rule's), and then wait for itself.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace spikeline::detail {

class StepTeam {
 public:
  // A team of `threads` (the caller and threads - 1 helpers, started on the
  // first run()) for phases of `tasks` tasks each.
  StepTeam(int threads, std::size_t tasks);
  ~StepTeam();
  StepTeam(const StepTeam&) = delete;
  StepTeam& operator=(const StepTeam&) = delete;

  // Runs task(i) for every i in [0, tasks) on the team, the calling thread
  // included, and returns when all have finished; rethrows the first
  // exception a task threw (the other tasks still run). One caller at a time.
  // `between`, when given, is called on the calling thread alone, after
  // each task it ran and while it waits for the others: the rank's main
  // thread so moves a non-blocking MPI exchange on during the phase (MPI
  // is called from that thread only, and Open MPI progresses only inside
  // MPI calls).
  void run(const std::function<void(std::size_t)>& task,
           const std::function<void()>* between = nullptr);

 private:
  void start();
  void helper(unsigned member);
  // Claims and runs tasks of phase `phase` until none is left.
  void work(unsigned member, std::uint64_t phase, const std::function<void()>* between = nullptr);
  void run_task(std::size_t i);

  const unsigned threads_;
  const std::size_t tasks_;
  const std::function<void(std::size_t)>* job_ = nullptr;  // written between phases
  // The current phase; claimed_[i] is the last phase in which task i was
  // claimed, so a helper still looking at an old phase claims nothing.
  std::atomic<std::uint64_t> phase_{0};
  std::unique_ptr<std::atomic<std::uint64_t>[]> claimed_;
  std::atomic<std::size_t> done_{0};  // tasks finished in the current phase
  // Sleeping helpers wait on the doorbell (32 bits: what the OS waits on).
  std::atomic<std::uint32_t> bell_{0};
  std::atomic<unsigned> sleepers_{0};
  std::atomic<bool> quit_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;
  std::vector<std::thread> helpers_;
};

}  // namespace spikeline::detail
