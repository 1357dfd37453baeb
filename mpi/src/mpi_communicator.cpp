#include "spikeline/mpi/communicator.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "spikeline/engine/error.hpp"

namespace spikeline::mpi {

namespace {

// An MPI error cannot be agreed between the ranks (the transport failed):
// it is reported as an I/O error.
void throw_if_failed(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw CommunicationError(ExitCode::io,
                           fmt::format("{} failed: {}", what, std::string(text, length)));
}

// How long an exchange may stay incomplete after a signal before this rank
// gives up on it: SPIKELINE_MPI_GRACE_S, else half a second (Open MPI
// sends SIGKILL one second after its SIGTERM: odls_base_sigkill_timeout).
double grace_from_environment(double fallback) {
  const char* text = std::getenv("SPIKELINE_MPI_GRACE_S");
  if (text == nullptr) return fallback;
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(v >= 0) || v > 3600) {
    throw Error(
        ExitCode::usage,
        fmt::format("SPIKELINE_MPI_GRACE_S = '{}' is not a number of seconds in [0, 3600]", text));
  }
  return v;
}

std::chrono::microseconds latency_from_environment() {
  const char* text = std::getenv("SPIKELINE_MPI_TEST_LATENCY_US");
  if (text == nullptr) return {};
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 0 || v > 1000000) {
    throw Error(ExitCode::usage,
                fmt::format("SPIKELINE_MPI_TEST_LATENCY_US = '{}' is not a whole number of "
                            "microseconds in [0, 1000000]",
                            text));
  }
  return std::chrono::microseconds(v);
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
    // Once the ranks lost each other, MPI_Finalize would wait for the
    // ones that are gone: leave now, with the failure's code (the launcher
    // then ends the job, if it has not already).
    if (broken_ != ExitCode::ok) std::_Exit(static_cast<int>(broken_));
    MPI_Comm_free(&comm_);
    MPI_Finalize();
  }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  std::uint64_t allgatherv(std::span<const std::byte> mine, std::vector<std::byte>& all,
                           std::vector<std::size_t>& counts, std::uint64_t flags) override {
    return Allgatherv(*this, mine, all, counts, flags).wait();
  }
  std::unique_ptr<Pending> start_allgatherv(std::span<const std::byte> mine,
                                            std::vector<std::byte>& all,
                                            std::vector<std::size_t>& counts,
                                            std::uint64_t flags) override {
    return std::make_unique<Allgatherv>(*this, mine, all, counts, flags);
  }
  void gatherv(std::span<const std::byte> mine, std::vector<std::byte>& all,
               std::vector<std::size_t>& counts) override {
    // Every rank learns every size (one collective), so that all run the
    // same rounds without a second one.
    const std::uint64_t n = mine.size();
    std::vector<std::uint64_t> sizes(static_cast<std::size_t>(size_));
    collective("MPI_Iallgather", [&](MPI_Request* q) {
      return MPI_Iallgather(&n, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, comm_, q);
    });
    const std::uint64_t largest = *std::max_element(sizes.begin(), sizes.end());
    all.clear();
    counts.clear();
    std::vector<std::uint64_t> offset(sizes.size());
    if (rank_ == 0) {
      std::uint64_t total = 0;
      for (std::size_t r = 0; r < sizes.size(); ++r) {
        offset[r] = total;
        total += sizes[r];
      }
      all.resize(total);
      counts.assign(sizes.begin(), sizes.end());
    }
    // MPI counts are ints: rounds of at most kRound / K bytes per rank keep
    // every round's total under 2^31 (a checkpoint of a large plastic
    // network is larger).
    const std::uint64_t chunk = std::max<std::uint64_t>(1, kRound / static_cast<unsigned>(size_));
    std::vector<std::byte> round;
    std::vector<int> count(sizes.size()), displacement(sizes.size());
    for (std::uint64_t start = 0; start < largest; start += chunk) {
      const auto piece = [&](std::uint64_t size) {
        return static_cast<int>(start >= size ? 0 : std::min(chunk, size - start));
      };
      int total = 0;
      if (rank_ == 0) {
        for (std::size_t r = 0; r < sizes.size(); ++r) {
          count[r] = piece(sizes[r]);
          displacement[r] = total;
          total += count[r];
        }
        round.resize(static_cast<std::size_t>(total));
      }
      collective("MPI_Igatherv", [&](MPI_Request* q) {
        return MPI_Igatherv(mine.data() + std::min(start, n), piece(n), MPI_BYTE, round.data(),
                            count.data(), displacement.data(), MPI_BYTE, 0, comm_, q);
      });
      if (rank_ != 0) continue;
      for (std::size_t r = 0; r < sizes.size(); ++r) {
        std::copy_n(round.data() + displacement[r], count[r], all.data() + offset[r] + start);
      }
    }
  }
  void alltoallv(const std::vector<std::vector<std::byte>>& to,
                 std::vector<std::vector<std::byte>>& from) override {
    const auto k = static_cast<std::size_t>(size_);
    if (to.size() != k) {
      throw Error(ExitCode::software,
                  fmt::format("alltoallv: {} destinations for {} ranks", to.size(), k));
    }
    std::vector<std::uint64_t> out(k), in(k);
    for (std::size_t r = 0; r < k; ++r) out[r] = to[r].size();
    collective("MPI_Ialltoall", [&](MPI_Request* q) {
      return MPI_Ialltoall(out.data(), 1, MPI_UINT64_T, in.data(), 1, MPI_UINT64_T, comm_, q);
    });
    // Rounds of at most kRound / K bytes per pair of ranks (MPI counts are
    // ints); every rank runs as many as the largest pair needs.
    std::uint64_t largest = 0;
    for (std::size_t r = 0; r < k; ++r) largest = std::max({largest, out[r], in[r]});
    reduce({&largest, 1}, MPI_MAX);
    from.assign(k, {});
    for (std::size_t r = 0; r < k; ++r) from[r].resize(in[r]);
    const std::uint64_t chunk = std::max<std::uint64_t>(1, kRound / k);
    std::vector<int> send_count(k), send_at(k), recv_count(k), recv_at(k);
    std::vector<std::byte> send, recv;
    for (std::uint64_t start = 0; start < largest; start += chunk) {
      const auto piece = [&](std::uint64_t size) {
        return static_cast<int>(start >= size ? 0 : std::min(chunk, size - start));
      };
      int s_total = 0, r_total = 0;
      for (std::size_t r = 0; r < k; ++r) {
        send_count[r] = piece(out[r]);
        send_at[r] = s_total;
        s_total += send_count[r];
        recv_count[r] = piece(in[r]);
        recv_at[r] = r_total;
        r_total += recv_count[r];
      }
      send.resize(static_cast<std::size_t>(s_total));
      recv.resize(static_cast<std::size_t>(r_total));
      for (std::size_t r = 0; r < k; ++r) {
        std::copy_n(to[r].data() + std::min(start, out[r]), send_count[r],
                    send.data() + send_at[r]);
      }
      collective("MPI_Ialltoallv", [&](MPI_Request* q) {
        return MPI_Ialltoallv(send.data(), send_count.data(), send_at.data(), MPI_BYTE, recv.data(),
                              recv_count.data(), recv_at.data(), MPI_BYTE, comm_, q);
      });
      for (std::size_t r = 0; r < k; ++r) {
        std::copy_n(recv.data() + recv_at[r], recv_count[r], from[r].data() + start);
      }
    }
  }
  void broadcast(std::vector<std::byte>& bytes) override {
    std::uint64_t n = bytes.size();
    collective("MPI_Ibcast",
               [&](MPI_Request* q) { return MPI_Ibcast(&n, 1, MPI_UINT64_T, 0, comm_, q); });
    bytes.resize(n);
    for (std::uint64_t start = 0; start < n; start += kRound) {
      const auto piece = static_cast<int>(std::min(kRound, n - start));
      collective("MPI_Ibcast", [&](MPI_Request* q) {
        return MPI_Ibcast(bytes.data() + start, piece, MPI_BYTE, 0, comm_, q);
      });
    }
  }
  void allreduce_min(std::span<std::uint64_t> v) override { reduce(v, MPI_MIN); }
  void allreduce_max(std::span<std::uint64_t> v) override { reduce(v, MPI_MAX); }
  void allreduce_sum(std::span<std::uint64_t> v) override { reduce(v, MPI_SUM); }

  ExitCode broken() const override { return broken_; }
  void watch_signal(const volatile std::sig_atomic_t* signal, double grace_s) override {
    signal_ = signal;
    grace_s_ = grace_from_environment(grace_s);
  }

  std::string library() const override {
    char text[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "MPI";
    std::string s(text, length);
    // "Open MPI v4.1.4, package: ...": the name and version.
    return s.substr(0, s.find_first_of(",\n"));
  }

 private:
  // A failed MPI call breaks the communicator (the destructor then leaves
  // without MPI_Finalize).
  void check(int rc, const char* what) {
    if (rc == MPI_SUCCESS) return;
    broken_ = ExitCode::io;
    throw_if_failed(rc, what);
  }

  // Starts a collective (`start` returns its MPI status and sets the
  // request) and waits for it (wait()): every collective of a run, so that
  // no rank waits for ever on one that died.
  template <class Start>
  void collective(const char* what, Start start) {
    MPI_Request request = MPI_REQUEST_NULL;
    check(start(&request), what);
    wait([&] { return test(request, what); });
  }

  bool test(MPI_Request& request, const char* what) {
    int done = 0;
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), what);
    return done != 0;
  }

  // Calls done() until it holds. After a signal (a Ctrl-C reaches every
  // rank, which all complete the exchange within microseconds; a dead rank
  // makes the launcher SIGTERM the others) it waits grace_s_ more, then
  // gives up: CommunicationError.
  template <class Done>
  void wait(Done done) {
    using Clock = std::chrono::steady_clock;
    std::optional<Clock::time_point> signalled;
    for (unsigned spins = 1;; ++spins) {
      if (done()) return;
      if (signal_ != nullptr && *signal_ != 0) {
        const auto now = Clock::now();
        if (!signalled) signalled = now;
        if (std::chrono::duration<double>(now - *signalled).count() > grace_s_) {
          broken_ = ExitCode::software;
          const std::string message = fmt::format(
              "rank {} of {}: an exchange between the ranks did not complete within {} s of "
              "signal {}: another rank has died or stopped (the launcher's message names it; "
              "SPIKELINE_MPI_GRACE_S sets the wait)",
              rank_, size_, grace_s_, static_cast<int>(*signal_));
          // Only rank 0 speaks through std::cerr; the others say it here,
          // since rank 0 may be the one that died.
          if (rank_ != 0) std::fprintf(stderr, "spikeline: error: %s\n", message.c_str());
          throw CommunicationError(ExitCode::software, message);
        }
      }
      // Four ranks on two cores: let the others run.
      if (spins % 256 == 0) std::this_thread::yield();
    }
  }

  // allgatherv in two non-blocking rounds: the headers of every rank (its
  // byte count and its flags, 16 bytes), then, when some rank has bytes,
  // the bytes. test() starts the second round once the first completed.
  // Every round is waited for by wait() (above), so that a rank whose peer
  // died does not wait for ever; a rank can die between the two rounds (a
  // test's kill -9 did, on a loaded machine, and rank 0 then hung in a
  // blocking MPI_Allgatherv until the launcher's SIGKILL left the file
  // open). (On loopback at 2 ranks, 1.8 us per exchange against 1.1 us for
  // a blocking MPI_Allgather of the headers: mpi-design.md 10.2.)
  class Allgatherv final : public Pending {
   public:
    Allgatherv(MpiCommunicator& c, std::span<const std::byte> mine, std::vector<std::byte>& all,
               std::vector<std::size_t>& counts, std::uint64_t flags)
        : c_(c),
          mine_(mine),
          all_(all),
          counts_(counts),
          header_{mine.size(), flags},
          headers_(2 * static_cast<std::size_t>(c.size_)),
          started_(std::chrono::steady_clock::now()) {
      c_.check(MPI_Iallgather(header_, 2, MPI_UINT64_T, headers_.data(), 2, MPI_UINT64_T, c_.comm_,
                              &request_),
               "MPI_Iallgather");
    }
    // Left unfinished only when the ranks lost each other (a
    // CommunicationError): the process then leaves without MPI_Finalize.
    ~Allgatherv() override = default;
    Allgatherv(const Allgatherv&) = delete;
    Allgatherv& operator=(const Allgatherv&) = delete;
    bool test() override {
      if (round_ == kHeaders && c_.test(request_, "MPI_Iallgather")) start_bytes();
      if (round_ == kBytes && c_.test(request_, "MPI_Iallgatherv")) round_ = kDone;
      return round_ == kDone && c_.latency_passed(started_);
    }
    std::uint64_t wait() override {
      c_.wait([&] { return test(); });
      return any_;
    }

   private:
    void start_bytes() {
      const auto k = headers_.size() / 2;
      counts_.resize(k);
      count_.resize(k);
      displacement_.resize(k);
      std::uint64_t total = 0;
      for (std::size_t r = 0; r < k; ++r) {
        const std::uint64_t size = headers_[2 * r];
        any_ |= headers_[2 * r + 1];
        if (total + size > static_cast<std::uint64_t>(INT_MAX)) {
          round_ = kDone;
          throw Error(ExitCode::software,
                      fmt::format("an exchange of {} bytes or more: at most {} are supported",
                                  total + size, INT_MAX));
        }
        counts_[r] = size;
        count_[r] = static_cast<int>(size);
        displacement_[r] = static_cast<int>(total);
        total += size;
      }
      all_.resize(total);
      if (total == 0) {
        round_ = kDone;
        return;
      }
      round_ = kBytes;
      c_.check(MPI_Iallgatherv(mine_.data(), static_cast<int>(mine_.size()), MPI_BYTE, all_.data(),
                               count_.data(), displacement_.data(), MPI_BYTE, c_.comm_, &request_),
               "MPI_Iallgatherv");
    }

    enum Round { kHeaders, kBytes, kDone };
    MpiCommunicator& c_;
    std::span<const std::byte> mine_;
    std::vector<std::byte>& all_;
    std::vector<std::size_t>& counts_;
    std::uint64_t header_[2];
    std::vector<std::uint64_t> headers_;
    std::vector<int> count_, displacement_;
    std::uint64_t any_ = 0;
    Round round_ = kHeaders;
    MPI_Request request_ = MPI_REQUEST_NULL;
    std::chrono::steady_clock::time_point started_;
  };

  // A test hook: SPIKELINE_MPI_TEST_LATENCY_US makes an exchange complete
  // no sooner than that many microseconds after it started (a spin, not a
  // sleep), as a network with that latency would; shows how much of it the
  // overlap of the exchange with computation hides.
  bool latency_passed(std::chrono::steady_clock::time_point started) const {
    return latency_.count() == 0 || std::chrono::steady_clock::now() - started >= latency_;
  }

  void reduce(std::span<std::uint64_t> v, MPI_Op op) {
    collective("MPI_Iallreduce", [&](MPI_Request* q) {
      return MPI_Iallreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_UINT64_T, op,
                            comm_, q);
    });
  }

  static constexpr std::uint64_t kRound = std::uint64_t{1} << 30;

  MPI_Comm comm_ = MPI_COMM_NULL;
  ExitCode broken_ = ExitCode::ok;
  const volatile std::sig_atomic_t* signal_ = nullptr;
  double grace_s_ = 0.5;
  std::chrono::microseconds latency_ = latency_from_environment();
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
  throw_if_failed(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  return std::make_shared<MpiCommunicator>();
}

}  // namespace spikeline::mpi
