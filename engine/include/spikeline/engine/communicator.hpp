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

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

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
  // Element-wise over the ranks, in place.
  virtual void allreduce_min(std::span<std::uint64_t> values) = 0;
  virtual void allreduce_max(std::span<std::uint64_t> values) = 0;
  virtual void allreduce_sum(std::span<std::uint64_t> values) = 0;
  // What carries the messages ("Open MPI v4.1.4", "none": one process).
  virtual std::string library() const = 0;
};

// One process: every collective is the identity.
class SerialCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::uint64_t allgatherv(std::span<const std::byte> mine, std::vector<std::byte>& all,
                           std::vector<std::size_t>& counts, std::uint64_t flags) override;
  void allreduce_min(std::span<std::uint64_t>) override {}
  void allreduce_max(std::span<std::uint64_t>) override {}
  void allreduce_sum(std::span<std::uint64_t>) override {}
  std::string library() const override { return "none"; }
};

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

}  // namespace spikeline
