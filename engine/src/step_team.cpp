#include "step_team.hpp"

#include <algorithm>
#include <chrono>
#include <system_error>
#include <utility>

namespace spikeline::detail {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// How long a waiting thread spins before it sleeps (helpers) or yields (the
// caller): longer than the serial part of a window usually takes (merging
// and handing out its spikes), shorter than an output flush.
constexpr auto kSpin = std::chrono::microseconds(50);

// The first kTightSpins polls have no pause. Under a hypervisor a run of
// pauses can make the host step in (KVM's pause-loop exiting takes a
// spinning vCPU for one waiting on a lock): on this project's 2-core VM a
// hand-over round trip once took 580 ns with a pause per poll against 150 ns
// without, and at other times 110-130 ns either way (bench/machine_bench).
// COBA 4,000 hands over twice per 0.1 ms step. A longer wait (an output
// flush, a slow partition) pauses, so as not to starve an SMT sibling.
constexpr unsigned kTightSpins = 2048;
// Spins until done() holds, for kSpin at most; returns whether it holds.
template <class Done>
bool spin(Done&& done) {
  for (unsigned k = 0; k < kTightSpins; ++k) {
    if (done()) return true;
  }
  const auto start = std::chrono::steady_clock::now();
  for (unsigned k = 1; !done(); ++k) {
    cpu_relax();
    if (k % 256 == 0 && std::chrono::steady_clock::now() - start > kSpin) return done();
  }
  return true;
}

}  // namespace

StepTeam::StepTeam(int threads, std::size_t tasks)
    : threads_(static_cast<unsigned>(std::max(threads, 1))),
      tasks_(tasks),
      claimed_(std::make_unique<std::atomic<std::uint64_t>[]>(tasks)) {}

StepTeam::~StepTeam() {
  quit_.store(true, std::memory_order_seq_cst);
  bell_.fetch_add(1, std::memory_order_seq_cst);
  bell_.notify_all();
  for (auto& t : helpers_) t.join();
}

void StepTeam::start() {
  helpers_.reserve(threads_ - 1);
  for (unsigned m = 1; m < threads_; ++m) {
    try {
      helpers_.emplace_back([this, m] { helper(m); });
    } catch (const std::system_error&) {
      break;  // no thread to be had: the phases complete with fewer helpers
    }
  }
}

void StepTeam::run(const std::function<void(std::size_t)>& task,
                   const std::function<void()>* between) {
  if (threads_ > 1 && helpers_.capacity() == 0) start();
  job_ = &task;
  done_.store(0, std::memory_order_relaxed);
  const std::uint64_t phase = phase_.load(std::memory_order_relaxed) + 1;
  phase_.store(phase, std::memory_order_release);  // publishes job_ and done_
  // Dekker with helper(): the doorbell rings before sleepers_ is read, a
  // helper counts itself before it waits on the doorbell, so either this
  // thread sees it sleeping or it sees the new ring.
  bell_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) != 0) bell_.notify_all();
  // A failing `between` (an MPI error) is the phase's error, like a task's,
  // and is not called again: the phase still completes.
  std::function<void()> guarded;
  if (between != nullptr) {
    guarded = [&] {
      if (between == nullptr) return;
      try {
        (*between)();
      } catch (...) {
        between = nullptr;
        const std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
    };
  }
  work(0, phase, between != nullptr ? &guarded : nullptr);
  auto all_done = [&] { return done_.load(std::memory_order_acquire) == tasks_; };
  if (guarded) {
    for (unsigned k = 1; !all_done(); ++k) {
      guarded();
      if (k % 256 == 0) std::this_thread::yield();
    }
  } else if (!spin(all_done)) {
    while (!all_done()) std::this_thread::yield();
  }
  job_ = nullptr;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void StepTeam::helper(unsigned member) {
  std::uint64_t seen = 0;
  while (!quit_.load(std::memory_order_acquire)) {
    const std::uint32_t bell = bell_.load(std::memory_order_acquire);
    const std::uint64_t phase = phase_.load(std::memory_order_acquire);
    if (phase != seen) {
      seen = phase;
      work(member, phase);
      continue;
    }
    // Spin for a new phase, then sleep on the doorbell.
    const bool sleep = !spin([&] {
      return phase_.load(std::memory_order_acquire) != seen ||
             quit_.load(std::memory_order_relaxed);
    });
    if (sleep) {
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      bell_.wait(bell, std::memory_order_seq_cst);
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
}

void StepTeam::work(unsigned member, std::uint64_t phase, const std::function<void()>* between) {
  // Task i is unclaimed in phase p when claimed_[i] < p. Every task is
  // claimed once per phase, so for a helper still at an older phase q the
  // stamp is already >= q and it claims nothing.
  auto claim = [&](std::size_t i) {
    std::uint64_t stamp = claimed_[i].load(std::memory_order_relaxed);
    return stamp < phase &&
           claimed_[i].compare_exchange_strong(stamp, phase, std::memory_order_acq_rel);
  };
  auto run = [&](std::size_t i) {
    run_task(i);
    if (between != nullptr) (*between)();
  };
  for (std::size_t i = member; i < tasks_; i += threads_) {
    if (claim(i)) run(i);
  }
  for (std::size_t i = 0; i < tasks_; ++i) {
    if (claim(i)) run(i);
  }
}

void StepTeam::run_task(std::size_t i) {
  try {
    (*job_)(i);
  } catch (...) {
    const std::lock_guard<std::mutex> lock(error_mutex_);
    if (!error_) error_ = std::current_exception();
  }
  done_.fetch_add(1, std::memory_order_release);
}

}  // namespace spikeline::detail
