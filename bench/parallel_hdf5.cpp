// Writing a run's spikes into one SONATA file from K ranks: gather to rank 0
// (what spikeline does) against parallel HDF5 (issue 24). Standalone: built by
// bench/parallel_hdf5.sh against Debian's libhdf5-openmpi-dev, never by the
// project's CMake build (which links the serial libhdf5, docs/mpi-design.md
// 5.1); bench/parallel_hdf5.py runs the matrix and writes
// bench/results/parallel_hdf5.md.
//
//   mpirun -np K parallel_hdf5 --model coba|pd14 --strategy S --flush-ms F
//                              [--reps 5] [--dir D]
//
// The data: each population's neurons spike as independent Poisson processes
// at the population's rate (a counter-based hash keyed by population, neuron
// and spike index, so a neuron's spikes do not depend on the rank count),
// on a 0.1 ms grid; rank r owns the contiguous block [r n / K, (r+1) n / K) of
// every population, as spikeline's placement gives it (docs/mpi-design.md).
// They are generated before the clock starts: only the writing is timed.
//
// What is written is what io/src/sonata_writer.cpp writes for spikes:
// /spikes/<pop>/timestamps (float64, ms) and /spikes/<pop>/node_ids (uint64),
// 1-D, chunked by 64 Ki elements, extendible; each population's records in
// the order of one process (by step, then node id); at every flush all
// buffered records, H5Fflush, /provenance/simulated_ms, H5Fflush.
//
// Strategies:
//   gather        per flush an MPI_Gatherv of the ranks' 8-byte records
//                 {gid, step} to rank 0, which merges the rank blocks into
//                 the serial order (as Simulator::gather_spikes does) and
//                 appends them with serial HDF5 calls: the openmpi libhdf5
//                 with the default (sec2) driver, a non-MPI file access list,
//                 opened on rank 0 alone, with the writer's settings (latest
//                 format, SWMR, small caches, whole chunks between flushes).
//   parallel-coll / parallel-indep
//                 the file opened with H5Pset_fapl_mpio on every rank; per
//                 flush an MPI_Allgather of the ranks' counts, a collective
//                 H5Dset_extent, each rank writes its records as one
//                 hyperslab after the lower ranks' (rank-major blocks), with
//                 collective or independent transfer (H5Pset_dxpl_mpio).
//   parallel-ordered
//                 as parallel-coll, but every record goes where one process
//                 puts it: per flush an MPI_Exscan and an MPI_Allreduce of
//                 the per-step counts, and each rank's hyperslab is the union
//                 of one block per step it has spikes in.
//   parallel-sliced
//                 the serial order too, the other way: per flush an
//                 MPI_Allgatherv of the records (in spikeline every rank has
//                 them already: the spike exchange), the merge, and rank r
//                 writes the contiguous slice [r N / K, (r+1) N / K) of each
//                 population's N records; collective transfer.
//
// Times: from a barrier before H5Fcreate to the end of H5Fclose, the slowest
// rank; the phases (communication, extent+write, flush, create+close) are
// rank 0's. One JSON line per repetition on rank 0's stdout.
#include <hdf5.h>
#include <mpi.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr double kDtMs = 0.1;
// io/src/sonata_writer.cpp, kChunkElements.
constexpr hsize_t kChunkElements = hsize_t{1} << 16;

struct Population {
  const char* name;
  std::uint64_t size;
  double rate_hz;
};

struct Model {
  std::vector<Population> populations;
  double duration_ms;
};

// COBA 64,000 (examples/coba.toml at 64,000 neurons, 80 % excitatory): 2 s
// gave 2,450,368 spikes in bench/results/mpi_scaling.md, 19.1 Hz on average.
// PD14 at full scale, 0.4 s as there (98,942 spikes): the population sizes of
// Potjans and Diesmann (2014), rates near their table 6 (about 99,000 spikes
// in 0.4 s).
Model model_named(const std::string& name) {
  if (name == "coba") return {{{"exc", 51200, 19.14}, {"inh", 12800, 19.14}}, 2000.0};
  if (name == "pd14") {
    return {{{"L23e", 20683, 0.9},
             {"L23i", 5834, 2.8},
             {"L4e", 21915, 4.4},
             {"L4i", 5479, 5.7},
             {"L5e", 4850, 7.6},
             {"L5i", 1065, 8.7},
             {"L6e", 14395, 1.1},
             {"L6i", 2948, 7.8}},
            400.0};
  }
  std::fprintf(stderr, "unknown --model '%s' (valid: coba, pd14)\n", name.c_str());
  std::exit(2);
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform in (0, 1] from (population, neuron, k).
double uniform(std::uint64_t population, std::uint64_t neuron, std::uint64_t k) {
  const std::uint64_t h = mix(mix(mix(population + 0x5eed) ^ neuron) ^ k);
  return (static_cast<double>(h >> 11) + 1.0) * 0x1.0p-53;
}

struct Spike {
  std::uint32_t step;  // the spike is at (step + 1) * dt
  std::uint32_t node;  // within its population
  bool operator<(const Spike& o) const { return step != o.step ? step < o.step : node < o.node; }
};

// This rank's spikes of each population, sorted by (step, node).
std::vector<std::vector<Spike>> generate(const Model& m, std::uint32_t steps, int rank, int ranks) {
  std::vector<std::vector<Spike>> out(m.populations.size());
  for (std::size_t p = 0; p < m.populations.size(); ++p) {
    const Population& pop = m.populations[p];
    const double q = pop.rate_hz * kDtMs * 1e-3;  // probability per step
    const double log_stay = std::log1p(-q);
    const std::uint64_t lo = pop.size * rank / ranks, hi = pop.size * (rank + 1) / ranks;
    for (std::uint64_t n = lo; n < hi; ++n) {
      // Geometric gaps between a neuron's spikes: Bernoulli(q) per step.
      std::int64_t step = -1;
      for (std::uint64_t k = 0;; ++k) {
        step += 1 + static_cast<std::int64_t>(std::floor(std::log(uniform(p, n, k)) / log_stay));
        if (step >= steps) break;
        out[p].push_back({static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(n)});
      }
    }
    std::sort(out[p].begin(), out[p].end());
  }
  return out;
}

double now() {
  return MPI_Wtime();
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "parallel_hdf5: %s failed\n", what);
  MPI_Abort(MPI_COMM_WORLD, 3);
  std::abort();
}
void check(herr_t status, const char* what) {
  if (status < 0) die(what);
}
hid_t check_id(hid_t id, const char* what) {
  if (id < 0) die(what);
  return id;
}

struct Phases {
  double comm = 0, write = 0, flush = 0, open_close = 0;
};

// One population's two datasets and how many rows they hold.
struct Sink {
  hid_t times = -1, nodes = -1;
  hsize_t rows = 0;
  std::vector<double> pending_times;  // the gather strategy's chunk buffer
  std::vector<std::uint64_t> pending_nodes;
};

// The file and its datasets, as SonataWriter lays them out (spikes only).
struct File {
  hid_t file = -1, simulated = -1;
  std::vector<Sink> sinks;
};

File create_file(const std::string& path, const Model& m, hid_t fapl) {
  File f;
  f.file = check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "H5Fcreate");
  const hid_t spikes = check_id(H5Gcreate2(f.file, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                "H5Gcreate2 /spikes");
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  check(H5Pset_chunk(dcpl, 1, &kChunkElements), "H5Pset_chunk");
  const hsize_t zero = 0, unlimited = H5S_UNLIMITED;
  const hid_t space = H5Screate_simple(1, &zero, &unlimited);
  for (const auto& pop : m.populations) {
    const hid_t g = check_id(H5Gcreate2(spikes, pop.name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                             "H5Gcreate2 population");
    Sink s;
    s.times =
        check_id(H5Dcreate2(g, "timestamps", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                 "H5Dcreate2 timestamps");
    s.nodes =
        check_id(H5Dcreate2(g, "node_ids", H5T_STD_U64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                 "H5Dcreate2 node_ids");
    f.sinks.push_back(std::move(s));
    H5Gclose(g);
  }
  H5Sclose(space);
  H5Pclose(dcpl);
  H5Gclose(spikes);
  const hid_t prov =
      check_id(H5Gcreate2(f.file, "provenance", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
               "H5Gcreate2 /provenance");
  const hid_t scalar = H5Screate(H5S_SCALAR);
  const hid_t early = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_alloc_time(early, H5D_ALLOC_TIME_EARLY);
  f.simulated = check_id(
      H5Dcreate2(prov, "simulated_ms", H5T_IEEE_F64LE, scalar, H5P_DEFAULT, early, H5P_DEFAULT),
      "H5Dcreate2 simulated_ms");
  H5Pclose(early);
  H5Sclose(scalar);
  H5Gclose(prov);
  return f;
}

void close_file(File& f) {
  for (auto& s : f.sinks) {
    H5Dclose(s.times);
    H5Dclose(s.nodes);
  }
  H5Dclose(f.simulated);
  check(H5Fclose(f.file), "H5Fclose");
}

// Writes n values of each dataset at row `at`, from this rank; the extent is
// the caller's. `selection` is the file-space selection (nullptr: rows
// [at, at + n)); n == 0 selects nothing (collective calls still need it).
void write_rows(hid_t dataset, hid_t memory_type, const void* data, hsize_t at, hsize_t n,
                hid_t dxpl, const std::vector<std::array<hsize_t, 2>>* blocks = nullptr) {
  const hid_t file_space = H5Dget_space(dataset);
  const hsize_t memory_n = std::max<hsize_t>(n, 1);
  const hid_t memory_space = H5Screate_simple(1, &memory_n, nullptr);
  if (n == 0) {
    H5Sselect_none(file_space);
    H5Sselect_none(memory_space);
  } else if (blocks == nullptr) {
    check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &at, nullptr, &n, nullptr),
          "H5Sselect_hyperslab");
  } else {
    H5Sselect_none(file_space);
    for (const auto& [start, count] : *blocks) {
      check(H5Sselect_hyperslab(file_space, H5S_SELECT_OR, &start, nullptr, &count, nullptr),
            "H5Sselect_hyperslab OR");
    }
  }
  check(H5Dwrite(dataset, memory_type, memory_space, file_space, dxpl, data), "H5Dwrite");
  H5Sclose(memory_space);
  H5Sclose(file_space);
}

void extend(Sink& s, hsize_t rows) {
  check(H5Dset_extent(s.times, &rows), "H5Dset_extent timestamps");
  check(H5Dset_extent(s.nodes, &rows), "H5Dset_extent node_ids");
}

// The writer's commit: data, flush, the simulated time, flush.
void commit(const File& f, double simulated_ms, bool writer, hid_t dxpl) {
  check(H5Fflush(f.file, H5F_SCOPE_GLOBAL), "H5Fflush");
  const hid_t scalar = H5Screate(H5S_SCALAR);
  const hid_t space = H5Screate(H5S_SCALAR);
  if (!writer) {
    H5Sselect_none(scalar);
    H5Sselect_none(space);
  }
  check(H5Dwrite(f.simulated, H5T_NATIVE_DOUBLE, scalar, space, dxpl, &simulated_ms),
        "H5Dwrite simulated_ms");
  H5Sclose(space);
  H5Sclose(scalar);
  check(H5Fflush(f.file, H5F_SCOPE_GLOBAL), "H5Fflush");
}

struct Run {
  const Model* model;
  const std::vector<std::vector<Spike>>* mine;
  std::uint32_t steps;
  std::uint32_t flush_steps;  // steps between flushes (the run's length: once at the end)
  int rank, ranks;
};

// The end of each population's records up to step `stop` (exclusive).
std::vector<std::size_t> cut(const Run& r, const std::vector<std::size_t>& from,
                             std::uint32_t stop) {
  std::vector<std::size_t> to(from.size());
  for (std::size_t p = 0; p < from.size(); ++p) {
    const auto& v = (*r.mine)[p];
    to[p] =
        static_cast<std::size_t>(std::lower_bound(v.begin() + static_cast<std::ptrdiff_t>(from[p]),
                                                  v.end(), Spike{stop, 0}) -
                                 v.begin());
  }
  return to;
}

// The simulator's 8-byte spike record (engine/src/simulator.cpp, WireSpike),
// ordered as its window lists are: by step, then global id.
struct Wire {
  std::uint32_t gid, step;
  bool operator<(const Wire& o) const { return step != o.step ? step < o.step : gid < o.gid; }
};

// The first global id of each population, and one past the last.
std::vector<std::uint64_t> gid_bases(const Model& m) {
  std::vector<std::uint64_t> base(m.populations.size() + 1, 0);
  for (std::size_t p = 0; p < m.populations.size(); ++p)
    base[p + 1] = base[p] + m.populations[p].size;
  return base;
}

// This rank's records of the flush [from, to), as the simulator holds them.
void wire_records(const Run& r, const std::vector<std::uint64_t>& base,
                  const std::vector<std::size_t>& from, const std::vector<std::size_t>& to,
                  std::vector<Wire>& out) {
  out.clear();
  for (std::size_t p = 0; p < to.size(); ++p)
    for (std::size_t i = from[p]; i < to[p]; ++i) {
      const Spike& s = (*r.mine)[p][i];
      out.push_back({static_cast<std::uint32_t>(base[p] + s.node), s.step});
    }
  std::sort(out.begin(), out.end());
}

// Simulator::gather_spikes: the rank blocks (each sorted) merged into the
// order of one process.
void merge_blocks(const std::vector<Wire>& in, const std::vector<int>& counts,
                  const std::vector<int>& displs, std::vector<Wire>& merged,
                  std::vector<Wire>& scratch) {
  merged.clear();
  for (std::size_t k = 0; k < counts.size(); ++k) {
    const auto first = in.begin() + displs[k] / static_cast<int>(sizeof(Wire));
    const auto last = first + counts[k] / static_cast<int>(sizeof(Wire));
    scratch.clear();
    std::merge(merged.begin(), merged.end(), first, last, std::back_inserter(scratch));
    std::swap(merged, scratch);
  }
}

// The population of a global id.
std::size_t population_of(const std::vector<std::uint64_t>& base, std::uint32_t gid) {
  return static_cast<std::size_t>(std::upper_bound(base.begin(), base.end(), gid) - base.begin() -
                                  1);
}

// ---- (a) gather to rank 0, serial HDF5 there ----

// SonataWriter's drain: whole chunks, or everything at a flush.
void drain(Sink& s, bool all, Phases& ph) {
  const double t = now();
  const hsize_t buffered = s.pending_times.size();
  const hsize_t n = all ? buffered : buffered / kChunkElements * kChunkElements;
  if (n > 0) {
    extend(s, s.rows + n);
    write_rows(s.times, H5T_NATIVE_DOUBLE, s.pending_times.data(), s.rows, n, H5P_DEFAULT);
    write_rows(s.nodes, H5T_NATIVE_UINT64, s.pending_nodes.data(), s.rows, n, H5P_DEFAULT);
    s.rows += n;
    s.pending_times.erase(s.pending_times.begin(), s.pending_times.begin() + n);
    s.pending_nodes.erase(s.pending_nodes.begin(), s.pending_nodes.begin() + n);
  }
  ph.write += now() - t;
}

Phases run_gather(const Run& r, const std::string& path) {
  Phases ph;
  const Model& m = *r.model;
  const auto base = gid_bases(m);
  File f;
  double t = now();
  if (r.rank == 0) {
    // io/src/sonata_writer.cpp, writer_access(): latest format (SWMR), a
    // small metadata cache, no chunk cache.
    const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    H5AC_cache_config_t mdc{};
    mdc.version = H5AC__CURR_CACHE_CONFIG_VERSION;
    if (H5Pget_mdc_config(fapl, &mdc) >= 0) {
      mdc.set_initial_size = true;
      mdc.initial_size = 1 << 20;
      mdc.min_size = 1 << 20;
      mdc.max_size = 2 << 20;
      H5Pset_mdc_config(fapl, &mdc);
    }
    H5Pset_cache(fapl, 0, 127, 64 << 10, 1.0);
    f = create_file(path, m, fapl);
    H5Pclose(fapl);
    check(H5Fstart_swmr_write(f.file), "H5Fstart_swmr_write");
  }
  ph.open_close += now() - t;

  std::vector<std::size_t> from(m.populations.size(), 0);
  std::vector<Wire> out, in, merged, scratch;
  std::vector<int> counts(r.ranks), displs(r.ranks);
  for (std::uint32_t start = 0; start < r.steps; start += r.flush_steps) {
    const std::uint32_t stop = std::min(r.steps, start + r.flush_steps);
    const auto to = cut(r, from, stop);
    wire_records(r, base, from, to, out);  // untimed: the simulator has them so
    from = to;
    t = now();
    const int bytes = static_cast<int>(out.size() * sizeof(Wire));
    MPI_Gather(&bytes, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (r.rank == 0) {
      int total = 0;
      for (int k = 0; k < r.ranks; ++k) {
        displs[k] = total;
        total += counts[k];
      }
      in.resize(static_cast<std::size_t>(total) / sizeof(Wire));
    }
    MPI_Gatherv(out.data(), bytes, MPI_BYTE, in.data(), counts.data(), displs.data(), MPI_BYTE, 0,
                MPI_COMM_WORLD);
    ph.comm += now() - t;
    if (r.rank != 0) continue;
    t = now();
    merge_blocks(in, counts, displs, merged, scratch);
    ph.comm += now() - t;  // rank 0's share of the gather
    for (const Wire& w : merged) {
      const std::size_t p = population_of(base, w.gid);
      Sink& s = f.sinks[p];
      s.pending_times.push_back((w.step + 1) * kDtMs);
      s.pending_nodes.push_back(w.gid - base[p]);
      if (s.pending_times.size() >= kChunkElements) drain(s, false, ph);
    }
    for (auto& s : f.sinks) drain(s, true, ph);
    t = now();
    commit(f, stop * kDtMs, true, H5P_DEFAULT);
    ph.flush += now() - t;
  }
  t = now();
  if (r.rank == 0) close_file(f);
  ph.open_close += now() - t;
  return ph;
}

// ---- (b) parallel HDF5 ----

enum class Transfer { collective, independent };

// Where a rank's records of a flush go in each population's dataset.
enum class Layout {
  rank_major,  // its own records, after the lower ranks' (not the serial order)
  per_step,    // its own records, each step's block where one process puts it
  sliced,      // a contiguous share of everyone's records, in the serial order
};

Phases run_parallel(const Run& r, const std::string& path, Transfer transfer, Layout layout) {
  Phases ph;
  const Model& m = *r.model;
  const std::size_t pops = m.populations.size();
  const auto base = gid_bases(m);
  double t = now();
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  check(H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL), "H5Pset_fapl_mpio");
  // The same file format as the serial writer's (no SWMR: a single-writer,
  // POSIX-file feature).
  H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  File f = create_file(path, m, fapl);
  H5Pclose(fapl);
  const hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  check(H5Pset_dxpl_mpio(
            dxpl, transfer == Transfer::collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT),
        "H5Pset_dxpl_mpio");
  ph.open_close += now() - t;

  std::vector<std::size_t> from(pops, 0);
  std::vector<std::uint64_t> counts(pops), all(pops * static_cast<std::size_t>(r.ranks));
  std::vector<std::uint64_t> per_step, before, total;
  std::vector<Wire> out, in, merged, scratch;
  std::vector<int> bytes(r.ranks), displs(r.ranks);
  std::vector<double> times;
  std::vector<std::uint64_t> nodes;
  std::vector<std::array<hsize_t, 2>> blocks;
  for (std::uint32_t start = 0; start < r.steps; start += r.flush_steps) {
    const std::uint32_t stop = std::min(r.steps, start + r.flush_steps);
    const std::uint32_t width = stop - start;
    const auto to = cut(r, from, stop);
    if (layout == Layout::sliced) wire_records(r, base, from, to, out);  // untimed, as in gather
    t = now();
    if (layout == Layout::rank_major) {
      for (std::size_t p = 0; p < pops; ++p) counts[p] = to[p] - from[p];
      MPI_Allgather(counts.data(), static_cast<int>(pops), MPI_UINT64_T, all.data(),
                    static_cast<int>(pops), MPI_UINT64_T, MPI_COMM_WORLD);
    } else if (layout == Layout::per_step) {
      // Where one process puts a record: after every earlier step's records,
      // and within its step after the lower ranks' (their nodes are lower).
      per_step.assign(pops * width, 0);
      for (std::size_t p = 0; p < pops; ++p)
        for (std::size_t i = from[p]; i < to[p]; ++i)
          ++per_step[p * width + ((*r.mine)[p][i].step - start)];
      before.assign(per_step.size(), 0);
      total.resize(per_step.size());
      MPI_Exscan(per_step.data(), before.data(), static_cast<int>(per_step.size()), MPI_UINT64_T,
                 MPI_SUM, MPI_COMM_WORLD);
      if (r.rank == 0) std::fill(before.begin(), before.end(), 0);  // Exscan leaves it undefined
      MPI_Allreduce(per_step.data(), total.data(), static_cast<int>(per_step.size()), MPI_UINT64_T,
                    MPI_SUM, MPI_COMM_WORLD);
    } else {
      const int mine = static_cast<int>(out.size() * sizeof(Wire));
      MPI_Allgather(&mine, 1, MPI_INT, bytes.data(), 1, MPI_INT, MPI_COMM_WORLD);
      int sum = 0;
      for (int k = 0; k < r.ranks; ++k) {
        displs[k] = sum;
        sum += bytes[k];
      }
      in.resize(static_cast<std::size_t>(sum) / sizeof(Wire));
      MPI_Allgatherv(out.data(), mine, MPI_BYTE, in.data(), bytes.data(), displs.data(), MPI_BYTE,
                     MPI_COMM_WORLD);
      merge_blocks(in, bytes, displs, merged, scratch);
      // Population-major, each population's records in the serial order.
      // (A stable sort, as measured in bench/results/parallel_hdf5.md: a
      // counting pass by population would be linear and cheaper.)
      std::stable_sort(merged.begin(), merged.end(), [&](const Wire& a, const Wire& b) {
        return population_of(base, a.gid) < population_of(base, b.gid);
      });
    }
    ph.comm += now() - t;
    t = now();
    std::size_t merged_at = 0;
    for (std::size_t p = 0; p < pops; ++p) {
      Sink& s = f.sinks[p];
      hsize_t added = 0, first = 0, n = 0;  // first: this rank's first row after s.rows
      times.clear();
      nodes.clear();
      blocks.clear();
      if (layout == Layout::rank_major) {
        for (int k = 0; k < r.ranks; ++k) {
          const std::uint64_t c = all[static_cast<std::size_t>(k) * pops + p];
          if (k < r.rank) first += c;
          added += c;
        }
      } else if (layout == Layout::per_step) {
        for (std::uint32_t j = 0; j < width; ++j) {
          const std::uint64_t c = per_step[p * width + j];
          if (c > 0) blocks.push_back({s.rows + added + before[p * width + j], c});
          added += total[p * width + j];
        }
      } else {
        std::size_t end = merged_at;
        while (end < merged.size() && merged[end].gid < base[p + 1]) ++end;
        added = end - merged_at;
        first = added * r.rank / r.ranks;
        n = added * (r.rank + 1) / r.ranks - first;
        for (std::size_t i = merged_at + first; i < merged_at + first + n; ++i) {
          times.push_back((merged[i].step + 1) * kDtMs);
          nodes.push_back(merged[i].gid - base[p]);
        }
        merged_at = end;
      }
      if (layout != Layout::sliced) {
        n = to[p] - from[p];
        for (std::size_t i = from[p]; i < to[p]; ++i) {
          times.push_back(((*r.mine)[p][i].step + 1) * kDtMs);
          nodes.push_back((*r.mine)[p][i].node);
        }
      }
      if (added == 0) continue;  // the same on every rank
      extend(s, s.rows + added);
      const auto* selection = layout == Layout::per_step ? &blocks : nullptr;
      write_rows(s.times, H5T_NATIVE_DOUBLE, times.data(), s.rows + first, n, dxpl, selection);
      write_rows(s.nodes, H5T_NATIVE_UINT64, nodes.data(), s.rows + first, n, dxpl, selection);
      s.rows += added;
    }
    from = to;
    ph.write += now() - t;
    t = now();
    commit(f, stop * kDtMs, r.rank == 0, dxpl);
    ph.flush += now() - t;
  }
  t = now();
  H5Pclose(dxpl);
  close_file(f);
  ph.open_close += now() - t;
  return ph;
}

const char* arg(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  const std::string model_name = arg(argc, argv, "--model", "coba");
  const std::string strategy = arg(argc, argv, "--strategy", "gather");
  const double flush_ms = std::atof(arg(argc, argv, "--flush-ms", "0"));
  const int reps = std::atoi(arg(argc, argv, "--reps", "5"));
  const std::string dir = arg(argc, argv, "--dir", ".");
  const Model m = model_named(model_name);
  if (strategy != "gather" && strategy != "parallel-coll" && strategy != "parallel-indep" &&
      strategy != "parallel-ordered" && strategy != "parallel-sliced") {
    if (rank == 0) {
      std::fprintf(stderr,
                   "unknown --strategy '%s' (valid: gather, parallel-coll, parallel-indep, "
                   "parallel-ordered, parallel-sliced)\n",
                   strategy.c_str());
    }
    MPI_Finalize();
    return 2;
  }
  if (!(flush_ms >= 0) || !(reps >= 1)) {
    if (rank == 0) std::fprintf(stderr, "--flush-ms must be >= 0 (0: at the end), --reps >= 1\n");
    MPI_Finalize();
    return 2;
  }
  const auto steps = static_cast<std::uint32_t>(std::lround(m.duration_ms / kDtMs));
  std::uint32_t flush_steps = steps;
  if (flush_ms > 0) {
    flush_steps = static_cast<std::uint32_t>(std::lround(flush_ms / kDtMs));
    if (flush_steps == 0 || std::fabs(flush_steps * kDtMs - flush_ms) > 1e-9) {
      if (rank == 0)
        std::fprintf(stderr, "--flush-ms %g is not a whole number of %g ms steps\n", flush_ms,
                     kDtMs);
      MPI_Finalize();
      return 2;
    }
  }
  const auto mine = generate(m, steps, rank, ranks);
  std::uint64_t local = 0, spikes = 0;
  for (const auto& v : mine) local += v.size();
  MPI_Allreduce(&local, &spikes, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  std::uint64_t neurons = 0;
  for (const auto& p : m.populations) neurons += p.size;
  const Run run{&m, &mine, steps, flush_steps, rank, ranks};
  const std::string path = dir + "/" + model_name + "_" + strategy + "_k" + std::to_string(ranks) +
                           "_f" + (flush_ms > 0 ? std::to_string(flush_steps) : "end") + ".h5";
  for (int rep = 0; rep < reps; ++rep) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = now();
    Phases ph;
    if (strategy == "gather") {
      ph = run_gather(run, path);
    } else {
      const Layout layout = strategy == "parallel-ordered"  ? Layout::per_step
                            : strategy == "parallel-sliced" ? Layout::sliced
                                                            : Layout::rank_major;
      ph = run_parallel(run, path,
                        strategy == "parallel-indep" ? Transfer::independent : Transfer::collective,
                        layout);
    }
    double mine_s = now() - t0, slowest = 0;
    MPI_Reduce(&mine_s, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      std::printf(
          "{\"model\": \"%s\", \"strategy\": \"%s\", \"ranks\": %d, \"flush_ms\": %g, "
          "\"flushes\": %u, \"neurons\": %llu, \"spikes\": %llu, \"rep\": %d, \"total_s\": %.6f, "
          "\"rank0_comm_s\": %.6f, \"rank0_write_s\": %.6f, \"rank0_flush_s\": %.6f, "
          "\"rank0_open_close_s\": %.6f, \"file\": \"%s\"}\n",
          model_name.c_str(), strategy.c_str(), ranks, flush_ms,
          (steps + flush_steps - 1) / flush_steps, static_cast<unsigned long long>(neurons),
          static_cast<unsigned long long>(spikes), rep, slowest, ph.comm, ph.write, ph.flush,
          ph.open_close, path.c_str());
      std::fflush(stdout);
    }
  }
  MPI_Finalize();
  return 0;
}
