#include "spikeline/engine/communicator.hpp"

namespace spikeline {

Placement place(unsigned partitions, int rank, int ranks) {
  const auto k = static_cast<std::uint64_t>(ranks);
  const auto r = static_cast<std::uint64_t>(rank);
  return {static_cast<unsigned>(r * partitions / k),
          static_cast<unsigned>((r + 1) * partitions / k)};
}

int rank_of(unsigned partition, unsigned partitions, int ranks) {
  // The largest r with floor(r * P / K) <= p (Partitioning::part_of's formula).
  return static_cast<int>(((static_cast<std::uint64_t>(partition) + 1) * ranks - 1) / partitions);
}

std::uint64_t SerialCommunicator::allgatherv(std::span<const std::byte> mine,
                                             std::vector<std::byte>& all,
                                             std::vector<std::size_t>& counts,
                                             std::uint64_t flags) {
  all.assign(mine.begin(), mine.end());
  counts.assign(1, mine.size());
  return flags;
}

}  // namespace spikeline
