// Latency and bandwidth of the spike exchange as the simulator runs it
// (docs/mpi-design.md, 3.1, protocol v1): Communicator::allgatherv through
// allgather_records, i.e. an MPI_Allgather of the 16-byte headers {count,
// flags} and then, when some rank has records, an MPI_Allgatherv of the
// 8-byte records {gid, step_offset}. Beside it, the bare MPI_Allgather of
// one 16-byte header: the floor of any exchange that needs the counts.
//
//   mpirun -np K ./build/bench/mpi_exchange [--json] [--records 0,1,25,...]
//
// Every rank sends the same number of records n (the simulator's ranks send
// about S/K each in a random network). Each case runs `blocks` blocks of
// `iterations` exchanges after a warm-up; a block's time is the slowest
// rank's (an exchange ends for the run when it ends on every rank) divided
// by the iterations. The minimum over blocks is the machine's best, the
// median what a run sees. With more ranks than cores (K = 4 here on 2) a
// collective waits for the scheduler to run the other ranks: that is
// overhead of oversubscription, not of the protocol.
//
// alpha and beta come from a least-squares line through the cases with
// records below 64 KiB received: time = alpha + beta * bytes received per
// rank (8 n K).
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/communicator.hpp"
#include "spikeline/mpi/communicator.hpp"

using namespace spikeline;

namespace {

// The simulator's record (engine/src/simulator.cpp, WireSpike): 8 bytes.
struct WireSpike {
  std::uint32_t gid;
  std::uint32_t step_offset;
};

struct Timing {
  double min_us = 0, median_us = 0;
};

// Runs `op` blocks x iterations times (after `iterations` warm-up calls);
// per block the slowest rank's mean time per call, in microseconds.
template <class Op>
Timing measure(Op&& op, int blocks, int iterations) {
  for (int i = 0; i < iterations; ++i) op();
  std::vector<double> per_block;
  for (int b = 0; b < blocks; ++b) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    for (int i = 0; i < iterations; ++i) op();
    double t = (MPI_Wtime() - t0) / iterations;
    MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    per_block.push_back(t * 1e6);
  }
  std::sort(per_block.begin(), per_block.end());
  return {per_block.front(), per_block[per_block.size() / 2]};
}

std::vector<std::size_t> parse_list(const std::string& s) {
  std::vector<std::size_t> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t comma = s.find(',', start);
    const std::string item = s.substr(start, comma - start);
    char* end = nullptr;
    const unsigned long long v = std::strtoull(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0') {
      std::fprintf(stderr, "mpi_exchange: --records: '%s' is not a count (e.g. 0,1,25)\n",
                   item.c_str());
      std::exit(64);
    }
    out.push_back(static_cast<std::size_t>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::shared_ptr<Communicator> comm = mpi::make_communicator(argc, argv);
  if (comm->size() < 2) {
    std::fprintf(stderr, "mpi_exchange: run it under mpirun with 2 ranks or more (got %d)\n",
                 comm->size());
    return 64;
  }
  bool json = false;
  std::vector<std::size_t> records = {0, 1, 25, 250, 2500, 25000};
  int blocks = 7;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--records" && i + 1 < argc) {
      records = parse_list(argv[++i]);
    } else if (a == "--blocks" && i + 1 < argc) {
      blocks = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr,
                   "mpi_exchange: unknown argument '%s' (--json, --records N,N,..., --blocks B)\n",
                   a.c_str());
      return 64;
    }
  }
  const int k = comm->size();
  const bool root = comm->rank() == 0;

  // The bare collective: one 16-byte header per rank.
  const std::uint64_t header[2] = {0, 0};
  std::vector<std::uint64_t> headers(2 * static_cast<std::size_t>(k));
  const Timing bare = measure(
      [&] {
        MPI_Allgather(header, 2, MPI_UINT64_T, headers.data(), 2, MPI_UINT64_T, MPI_COMM_WORLD);
      },
      blocks, 2000);

  struct Row {
    std::size_t records;
    double bytes_received;
    Timing t, bare_allgatherv;
  };
  std::vector<Row> rows;
  for (const std::size_t n : records) {
    // Distinct records per rank, so that no transport can short-cut equal data.
    std::vector<WireSpike> mine(n);
    for (std::size_t i = 0; i < n; ++i) {
      mine[i] = {static_cast<std::uint32_t>(comm->rank() * n + i),
                 static_cast<std::uint32_t>(i % 7)};
    }
    std::vector<std::size_t> counts;
    std::uint64_t checksum = 0;
    // Fewer iterations for the large cases: each block stays near 0.1 s.
    const int iterations = n >= 25000 ? 50 : n >= 2500 ? 300 : 2000;
    const Timing t = measure(
        [&] {
          std::uint64_t flags = 0;
          const std::vector<WireSpike> all =
              allgather_records(*comm, std::span<const WireSpike>(mine), counts, &flags);
          checksum += all.size();
        },
        blocks, iterations);
    if (checksum == 0 && n > 0) std::fprintf(stderr, "mpi_exchange: nothing received\n");
    // The same records by the bare MPI_Allgatherv into buffers allocated
    // once: what the protocol adds is its header collective and the fresh
    // vectors of each call (allgather_records returns a new vector).
    std::vector<WireSpike> all(n * static_cast<std::size_t>(k));
    std::vector<int> count(static_cast<std::size_t>(k), static_cast<int>(2 * n)),
        displacement(count.size());
    for (std::size_t r = 0; r < count.size(); ++r) displacement[r] = static_cast<int>(2 * n * r);
    const Timing bare_v =
        n == 0
            ? Timing{}
            : measure(
                  [&] {
                    MPI_Allgatherv(mine.data(), static_cast<int>(2 * n), MPI_UINT32_T, all.data(),
                                   count.data(), displacement.data(), MPI_UINT32_T, MPI_COMM_WORLD);
                  },
                  blocks, iterations);
    rows.push_back({n, 8.0 * static_cast<double>(n) * k, t, bare_v});
  }

  // Least squares through the cases with records (the n = 0 case runs one
  // collective, not two) and below 64 KiB received: median times against
  // bytes received. From about 128 KiB of fresh vectors per call (glibc's
  // default mmap and trim thresholds) the two vectors that allgather_records
  // allocates per call are mapped or trimmed afresh and page-faulted on
  // every call: on this VM 1.9 ms at 400 kB at K = 2, against 64 us with
  // MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ raised and 23 us for
  // the bare MPI_Allgatherv. That regime is reported as measured, not fitted.
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int m = 0;
  for (const Row& r : rows) {
    if (r.records == 0 || r.bytes_received >= 65536) continue;
    sx += r.bytes_received;
    sy += r.t.median_us;
    sxx += r.bytes_received * r.bytes_received;
    sxy += r.bytes_received * r.t.median_us;
    ++m;
  }
  double alpha = 0, beta = 0;
  if (m >= 2) {
    beta = (m * sxy - sx * sy) / (m * sxx - sx * sx);
    alpha = (sy - beta * sx) / m;
  }

  if (root) {
    if (json) {
      std::printf(
          "{\"ranks\": %d, \"blocks\": %d, \"bare_allgather_us\": {\"min\": %.4f, \"median\": "
          "%.4f},\n",
          k, blocks, bare.min_us, bare.median_us);
      std::printf(" \"alpha_us\": %.4f, \"beta_ns_per_byte\": %.6f, \"cases\": [\n", alpha,
                  beta * 1e3);
      for (std::size_t i = 0; i < rows.size(); ++i) {
        std::printf(
            "  {\"records_per_rank\": %zu, \"bytes_received\": %.0f, \"min_us\": %.4f, "
            "\"median_us\": %.4f, \"bare_allgatherv_min_us\": %.4f, "
            "\"bare_allgatherv_median_us\": %.4f}%s\n",
            rows[i].records, rows[i].bytes_received, rows[i].t.min_us, rows[i].t.median_us,
            rows[i].bare_allgatherv.min_us, rows[i].bare_allgatherv.median_us,
            i + 1 < rows.size() ? "," : "");
      }
      std::printf("]}\n");
    } else {
      std::printf("K = %d (%s)\nbare MPI_Allgather of 16 B: min %.2f us, median %.2f us\n", k,
                  comm->library().c_str(), bare.min_us, bare.median_us);
      std::printf("records/rank  bytes received  min us  median us  bare Allgatherv median us\n");
      for (const Row& r : rows) {
        std::printf("%12zu  %14.0f  %6.2f  %9.2f  %9.2f\n", r.records, r.bytes_received, r.t.min_us,
                    r.t.median_us, r.bare_allgatherv.median_us);
      }
      std::printf("alpha %.2f us, beta %.4f ns/B (%.2f GB/s)\n", alpha, beta * 1e3,
                  beta > 0 ? 1e-3 / beta : 0.0);
    }
  }
  return 0;
}
