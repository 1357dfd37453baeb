// Processes of one run: which partitions a process (an MPI rank) owns, and
// the few collective operations the simulator needs to run as one of K.
//
// The engine knows no MPI: it talks to a Communicator, which is the serial
// one (one process, every call a copy) unless a launcher started K
// processes, in which case tools/ hands it the MPI one (mpi/, built only
// when MPI is found). docs/mpi-design.md has the design.
//
// Placement: rank r of K owns the contiguous block [r*P/K, (r+1)*P/K) of
// the P partitions (the floor formula of Partitioning::range), so a rank's
// share of each population is one contiguous range of neurons and its
// spikes of a step leave it sorted by neuron.
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/error.hpp"

namespace spikeline {

// Which partitions this rank owns: [first, end).
struct Placement {
  unsigned first = 0, end = 0;
  bool owns(unsigned p) const { return p >= first && p < end; }
  unsigned count() const { return end - first; }
};

// Rank `rank` of `ranks`' partitions out of `partitions` (ranks <= partitions).
Placement place(unsigned partitions, int rank, int ranks);
// The rank that owns `partition`.
int rank_of(unsigned partition, unsigned partitions, int ranks);

// The processes could not talk to each other: an MPI call failed, or an
// exchange did not complete after a signal (another rank died and the
// launcher is ending the job). Unlike any other failure it cannot be agreed
// on (agree() would wait for the same ranks), so the process leaves without
// finalising MPI (Communicator::broken).
class CommunicationError : public Error {
 public:
  CommunicationError(ExitCode code, const std::string& what) : Error(code, what) {}
};

// The collective operations of a run of K processes. Every rank calls each
// one in the same order (they are collectives); results are the same on
// every rank. Called from one thread per process only.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Every rank's `mine`, concatenated in rank order; counts[r] receives
  // rank r's number of bytes. Two collectives: the counts with each rank's
  // `flags` beside them, then the bytes (none when every rank sends
  // nothing). Returns the bitwise or of every rank's flags (a window's
  // exchange carries the ranks' stop requests so).
  virtual std::uint64_t allgatherv(std::span<const std::byte> mine, std::vector<std::byte>& all,
                                   std::vector<std::size_t>& counts, std::uint64_t flags) = 0;
  // An allgatherv started and not yet waited for.
  class Pending {
   public:
    virtual ~Pending() = default;
    // Moves the exchange on and says whether it is complete. Open MPI
    // progresses a non-blocking collective only inside MPI calls, so the
    // caller calls this now and then while it computes.
    virtual bool test() = 0;
    // Waits until it is complete (as allgatherv waits: given up after a
    // signal and a grace); returns the or of every rank's flags.
    virtual std::uint64_t wait() = 0;
  };
  // allgatherv without waiting for it: `mine`, `all` and `counts` must
  // stay as they are until wait() returned, and no other collective may
  // start before. The spike exchange of one epoch so overlaps the
  // computation of the next (Simulator, SimulationOptions::overlap). This
  // default completes it at once.
  virtual std::unique_ptr<Pending> start_allgatherv(std::span<const std::byte> mine,
                                                    std::vector<std::byte>& all,
                                                    std::vector<std::size_t>& counts,
                                                    std::uint64_t flags);
  // Every rank's `mine`, concatenated in rank order, at rank 0 only
  // (`counts[r]`: rank r's bytes); elsewhere `all` and `counts` are left
  // empty. What rank 0 alone writes (traces, weights, a checkpoint) comes
  // to it so, without every rank receiving every rank's data.
  virtual void gatherv(std::span<const std::byte> mine, std::vector<std::byte>& all,
                       std::vector<std::size_t>& counts) = 0;
  // Rank 0's `bytes` on every rank (resized to rank 0's size): what rank 0
  // alone reads (a reward stream, a checkpoint file) reaches the others so.
  virtual void broadcast(std::vector<std::byte>& bytes) = 0;
  // Personalised all-to-all: `to[r]` goes to rank r; `from[r]` receives
  // what rank r sent to this one (K entries each). What each rank holds of
  // the synapses drawn elsewhere reaches it so (fixed_outdegree: every rank
  // draws its sources' synapses, for every rank's targets).
  virtual void alltoallv(const std::vector<std::vector<std::byte>>& to,
                         std::vector<std::vector<std::byte>>& from) = 0;
  // Element-wise over the ranks, in place.
  virtual void allreduce_min(std::span<std::uint64_t> values) = 0;
  virtual void allreduce_max(std::span<std::uint64_t> values) = 0;
  virtual void allreduce_sum(std::span<std::uint64_t> values) = 0;
  // What carries the messages ("Open MPI v4.1.4", "none": one process).
  virtual std::string library() const = 0;
  // The exit code of the CommunicationError this communicator threw, or
  // ok: once broken, the process must not finalise MPI (it would wait for
  // the ranks that are gone) and leaves with that code.
  virtual ExitCode broken() const { return ExitCode::ok; }
  // Where the process's SIGINT/SIGTERM handler records the signal. A wait
  // for an exchange that outlasts a signal by `grace_s` seconds is given up
  // (CommunicationError): when one rank dies the launcher signals the
  // others, which would otherwise wait for it for ever.
  virtual void watch_signal(const volatile std::sig_atomic_t* /*signal*/, double /*grace_s*/) {}
};

// One process: every collective is the identity.
class SerialCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::uint64_t allgatherv(std::span<const std::byte> mine, std::vector<std::byte>& all,
                           std::vector<std::size_t>& counts, std::uint64_t flags) override;
  void gatherv(std::span<const std::byte> mine, std::vector<std::byte>& all,
               std::vector<std::size_t>& counts) override;
  void broadcast(std::vector<std::byte>&) override {}
  void alltoallv(const std::vector<std::vector<std::byte>>& to,
                 std::vector<std::vector<std::byte>>& from) override {
    from = to;
  }
  void allreduce_min(std::span<std::uint64_t>) override {}
  void allreduce_max(std::span<std::uint64_t>) override {}
  void allreduce_sum(std::span<std::uint64_t>) override {}
  std::string library() const override { return "none"; }
};

// The outcome of a stage that every rank went through (each one calls this
// at the same point, so it is a collective): returns when no rank failed;
// otherwise every rank throws the failure with the lowest key (ties: the
// lowest rank). Its owner rethrows its own exception (type kept), every
// other rank an Error with the same code and message, so that all end the
// run alike and the one output file says what happened. One collective of
// a 16-byte header per rank when nobody failed. A CommunicationError is
// never agreed: it is thrown at once.
void agree(Communicator& comm, std::exception_ptr failure, std::uint64_t key);

// Runs f and returns the exception it threw (null: none), to be agreed on;
// a CommunicationError is thrown on at once.
template <typename F>
std::exception_ptr failure_of(F&& f) {
  try {
    f();
  } catch (const CommunicationError&) {
    throw;
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

// The typed form of Communicator::allgatherv for trivially copyable records;
// `flags`, when given, receives the or of every rank's flags (in: its own).
template <class T>
std::vector<T> allgather_records(Communicator& comm, std::span<const T> mine,
                                 std::vector<std::size_t>& counts, std::uint64_t* flags = nullptr) {
  std::vector<std::byte> bytes;
  const std::uint64_t any = comm.allgatherv(std::as_bytes(mine), bytes, counts, flags ? *flags : 0);
  if (flags) *flags = any;
  for (auto& c : counts) c /= sizeof(T);
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

// The typed form of Communicator::gatherv: every rank's records at rank 0,
// in rank order (empty elsewhere).
template <class T>
std::vector<T> gather_records(Communicator& comm, std::span<const T> mine,
                              std::vector<std::size_t>& counts) {
  std::vector<std::byte> bytes;
  comm.gatherv(std::as_bytes(mine), bytes, counts);
  for (auto& c : counts) c /= sizeof(T);
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

}  // namespace spikeline
