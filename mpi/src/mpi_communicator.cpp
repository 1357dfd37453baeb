#include "spikeline/mpi/communicator.hpp"

#include <mpi.h>

#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "spikeline/engine/error.hpp"

namespace spikeline::mpi {

namespace {

// An MPI error cannot be agreed between the ranks (the transport failed):
// it is reported as an I/O error.
void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw Error(ExitCode::io, fmt::format("{} failed: {}", what, std::string(text, length)));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  ~MpiCommunicator() override {
    MPI_Comm_free(&comm_);
    MPI_Finalize();
  }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  std::uint64_t allgatherv(std::span<const std::byte> mine, std::vector<std::byte>& all,
                           std::vector<std::size_t>& counts, std::uint64_t flags) override {
    // The header of each rank: its byte count and its flags (16 bytes).
    const std::uint64_t header[2] = {mine.size(), flags};
    std::vector<std::uint64_t> headers(2 * static_cast<std::size_t>(size_));
    check(MPI_Allgather(header, 2, MPI_UINT64_T, headers.data(), 2, MPI_UINT64_T, comm_),
          "MPI_Allgather");
    std::vector<std::uint64_t> sizes(static_cast<std::size_t>(size_));
    std::uint64_t any = 0;
    for (std::size_t r = 0; r < sizes.size(); ++r) {
      sizes[r] = headers[2 * r];
      any |= headers[2 * r + 1];
    }
    const std::uint64_t n = mine.size();
    counts.assign(sizes.begin(), sizes.end());
    std::uint64_t total = 0;
    std::vector<int> count(sizes.size()), displacement(sizes.size());
    for (std::size_t r = 0; r < sizes.size(); ++r) {
      if (total + sizes[r] > static_cast<std::uint64_t>(INT_MAX)) {
        throw Error(ExitCode::software,
                    fmt::format("an exchange of {} bytes or more: at most {} are supported",
                                total + sizes[r], INT_MAX));
      }
      count[r] = static_cast<int>(sizes[r]);
      displacement[r] = static_cast<int>(total);
      total += sizes[r];
    }
    all.resize(total);
    if (total == 0) return any;
    check(MPI_Allgatherv(mine.data(), static_cast<int>(n), MPI_BYTE, all.data(), count.data(),
                         displacement.data(), MPI_BYTE, comm_),
          "MPI_Allgatherv");
    return any;
  }
  void allreduce_min(std::span<std::uint64_t> v) override { reduce(v, MPI_MIN); }
  void allreduce_max(std::span<std::uint64_t> v) override { reduce(v, MPI_MAX); }
  void allreduce_sum(std::span<std::uint64_t> v) override { reduce(v, MPI_SUM); }

  std::string library() const override {
    char text[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "MPI";
    std::string s(text, length);
    // "Open MPI v4.1.4, package: ...": the name and version.
    return s.substr(0, s.find_first_of(",\n"));
  }

 private:
  void reduce(std::span<std::uint64_t> v, MPI_Op op) {
    check(
        MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_UINT64_T, op, comm_),
        "MPI_Allreduce");
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
};

}  // namespace

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

std::shared_ptr<Communicator> make_communicator(int& argc, char**& argv) {
  if (!launched_by_mpi()) return std::make_shared<SerialCommunicator>();
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  return std::make_shared<MpiCommunicator>();
}

}  // namespace spikeline::mpi
