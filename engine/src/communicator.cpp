#include "spikeline/engine/communicator.hpp"

#include <new>
#include <stdexcept>

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

namespace {
// An exchange that completed when it started.
class Completed final : public Communicator::Pending {
 public:
  explicit Completed(std::uint64_t flags) : flags_(flags) {}
  bool test() override { return true; }
  std::uint64_t wait() override { return flags_; }

 private:
  std::uint64_t flags_;
};
}  // namespace

std::unique_ptr<Communicator::Pending> Communicator::start_allgatherv(
    std::span<const std::byte> mine, std::vector<std::byte>& all, std::vector<std::size_t>& counts,
    std::uint64_t flags) {
  return std::make_unique<Completed>(allgatherv(mine, all, counts, flags));
}

void SerialCommunicator::gatherv(std::span<const std::byte> mine, std::vector<std::byte>& all,
                                 std::vector<std::size_t>& counts) {
  all.assign(mine.begin(), mine.end());
  counts.assign(1, mine.size());
}

void agree(Communicator& comm, std::exception_ptr failure, std::uint64_t key) {
  // A failed rank sends its key, exit code and message.
  std::vector<std::byte> mine;
  if (failure) {
    ExitCode code = ExitCode::software;
    std::string message;
    try {
      std::rethrow_exception(failure);
    } catch (const CommunicationError&) {
      throw;
    } catch (const Error& e) {
      code = e.code();
      message = e.what();
    } catch (const std::bad_alloc&) {
      message = "out of memory";
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
      message = "an unknown exception";
    }
    const auto code_word = static_cast<std::uint32_t>(code);
    mine.resize(12 + message.size());
    std::memcpy(mine.data(), &key, 8);
    std::memcpy(mine.data() + 8, &code_word, 4);
    std::memcpy(mine.data() + 12, message.data(), message.size());
  }
  std::vector<std::byte> all;
  std::vector<std::size_t> counts;
  if (comm.allgatherv(mine, all, counts, failure ? 1 : 0) == 0) return;
  // The lowest key; a rank's bytes are in rank order, so the first one
  // found of equal keys is the lowest rank's.
  int owner = -1;
  std::uint64_t best = 0;
  std::size_t at = 0, best_at = 0;
  for (std::size_t r = 0; r < counts.size(); at += counts[r], ++r) {
    if (counts[r] < 12) continue;
    std::uint64_t k = 0;
    std::memcpy(&k, all.data() + at, 8);
    if (owner < 0 || k < best) {
      owner = static_cast<int>(r);
      best = k;
      best_at = at;
    }
  }
  if (owner < 0) throw Error(ExitCode::software, "another MPI rank failed");
  if (owner == comm.rank()) std::rethrow_exception(failure);
  std::uint32_t code = 0;
  std::memcpy(&code, all.data() + best_at + 8, 4);
  const auto* text = reinterpret_cast<const char*>(all.data() + best_at + 12);
  throw Error(static_cast<ExitCode>(code),
              std::string(text, counts[static_cast<std::size_t>(owner)] - 12));
}

}  // namespace spikeline
