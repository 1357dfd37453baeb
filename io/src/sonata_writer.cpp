#include "spikeline/io/sonata_writer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <tuple>

#include "hdf5_util.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/io/output_files.hpp"

namespace spikeline::io {

using detail::Handle;

std::string report_path(const std::string& name, const std::string& population) {
  return name.empty() ? "/report/" + population : "/reports/" + name + "/" + population;
}

const char* to_string(RunStatus status) {
  switch (status) {
    case RunStatus::complete:
      return "complete";
    case RunStatus::interrupted:
      return "interrupted";
    case RunStatus::failed:
      return "failed";
  }
  return "failed";
}

namespace {

// 64 Ki elements per chunk: large enough for fast sequential writes, small
// enough that the per-dataset buffer (one chunk) stays at most 512 KiB.
constexpr hsize_t kChunkElements = hsize_t{1} << 16;
// A table's rows per chunk: a log grows by a row per step, so a full chunk
// of 2^16 doubles per column (512 KiB) would be mostly empty.
constexpr hsize_t kTableChunkRows = 1024;
constexpr std::size_t kStatusBytes = 16;
constexpr std::uint32_t kSonataMagic = 0x0A7A;

template <class T>
hid_t native_type();
template <>
hid_t native_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t native_type<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
hid_t native_type<std::uint64_t>() {
  return H5T_NATIVE_UINT64;
}

[[noreturn]] void internal_error(const std::string& what) {
  throw Error(ExitCode::software, "internal error in the HDF5 writer: " + what);
}

// A name becomes one HDF5 path component.
void check_name(const std::string& kind, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    throw ConfigError(
        fmt::format("{} name '{}' cannot be stored in the output file: names must be non-empty, "
                    "must not be '.' or '..' and must not contain '/'",
                    kind, name));
  }
}

void check_unique(const std::string& kind, std::set<std::string>& seen, const std::string& name) {
  check_name(kind, name);
  if (!seen.insert(name).second) {
    throw ConfigError(fmt::format("{} '{}' appears twice in the output layout", kind, name));
  }
}

void validate(const OutputLayout& layout) {
  std::set<std::string> seen;
  for (const auto& s : layout.spikes) check_unique("spike population", seen, s.name);
  seen.clear();
  for (const auto& r : layout.reports) {
    check_name("report population", r.population);
    if (!r.name.empty()) check_name("report", r.name);
    const std::string path = r.path();
    if (!seen.insert(path).second) {
      throw ConfigError(fmt::format(
          "two reports would both be written to {}: a report of population '{}' without a name "
          "is /report/{}, at most one per population; others need distinct names",
          path, r.population, r.population));
    }
    if (r.node_ids.empty()) {
      throw ConfigError(fmt::format("report {} records no nodes", path));
    }
    if (r.variables.empty()) {
      throw ConfigError(fmt::format("report {} records no variables", path));
    }
    if (r.units.size() != r.variables.size()) {
      throw ConfigError(fmt::format("report {} has {} variables but {} units (one per variable)",
                                    path, r.variables.size(), r.units.size()));
    }
    if (!(r.step_ms > 0) || !std::isfinite(r.step_ms)) {
      throw ConfigError(
          fmt::format("report {}: step {} ms must be finite and > 0", path, r.step_ms));
    }
    if (!std::isfinite(r.start_ms)) {
      throw ConfigError(fmt::format("report {}: start {} ms must be finite", path, r.start_ms));
    }
  }
  seen.clear();
  for (const auto& e : layout.edges) {
    check_unique("edges population", seen, e.name);
    check_name("source population", e.source_population);
    check_name("target population", e.target_population);
  }
  seen.clear();
  for (const auto& w : layout.weight_snapshots) {
    check_unique("weight record", seen, w.name);
    std::set<std::string> vars{"data", "time", "edge_ids"};
    for (const auto& v : w.variables) check_unique("weight record variable", vars, v);
    if (!w.edge_ids.empty() && w.edge_ids.size() != w.count) {
      throw ConfigError(fmt::format("weight record '{}': {} edge ids for {} synapses", w.name,
                                    w.edge_ids.size(), w.count));
    }
  }
  seen.clear();
  for (const auto& m : layout.modulators) check_unique("neuromodulator record", seen, m.name);
  // A table's group may be a path ("ember/actions"): each component a
  // name, the first none of the writer's own groups.
  const std::set<std::string> own = {"spikes",          "report", "reports",   "weights",
                                     "neuromodulators", "edges",  "provenance"};
  seen.clear();
  for (const auto& t : layout.tables) {
    std::size_t from = 0;
    for (std::size_t slash = t.group.find('/');; slash = t.group.find('/', from)) {
      check_name("table", t.group.substr(from, slash - from));
      if (slash == std::string::npos) break;
      from = slash + 1;
    }
    const std::string top = t.group.substr(0, t.group.find('/'));
    if (own.count(top) != 0) {
      throw ConfigError(
          fmt::format("table '{}' would be inside the writer's own group '/{}'", t.group, top));
    }
    if (!seen.insert(t.group).second) {
      throw ConfigError(fmt::format("table '{}' appears twice in the output layout", t.group));
    }
    if (t.columns.empty()) {
      throw ConfigError(fmt::format("table '{}' has no columns", t.group));
    }
    std::set<std::string> columns;
    for (const auto& c : t.columns) check_unique("table column", columns, c);
  }
}

// How the writer opens its file. SWMR needs the latest file format. With
// HDF5's default caches a long run's memory crept up with its output: the
// distal-reward example went from 32 to 38 MiB between 0.5 and 2 simulated
// hours (bench/soak.py). The writer touches only the end of each dataset,
// so small fixed caches serve it as well: with these, 24 MiB, flat.
Handle writer_access() {
  Handle fapl = detail::plist_handle(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  H5AC_cache_config_t mdc{};
  mdc.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  if (H5Pget_mdc_config(fapl.get(), &mdc) >= 0) {
    mdc.set_initial_size = true;
    mdc.initial_size = 1 << 20;
    mdc.min_size = 1 << 20;
    mdc.max_size = 2 << 20;
    H5Pset_mdc_config(fapl.get(), &mdc);
  }
  // Appends reach HDF5 in whole chunks (only a flush writes a partial one),
  // so the per-dataset chunk cache (1 MiB each by default) buys nothing.
  H5Pset_cache(fapl.get(), 0, 127, 64 << 10, 1.0);
  return fapl;
}

}  // namespace

// One extendible dataset of rows of `width` values (width 1: a 1-D dataset),
// with a buffer so that appends reach the file in whole chunks.
template <class T>
struct Appendable {
  Handle dataset;
  std::string name;  // for messages
  int rank = 1;
  hsize_t width = 1;
  hsize_t chunk_rows = 1;
  hsize_t rows = 0;       // in the file
  hsize_t committed = 0;  // in the file as of the last successful commit()
  std::vector<T> pending;

  hsize_t pending_rows() const { return width == 0 ? 0 : pending.size() / width; }
};

struct Report {
  Appendable<float> data;
  Handle time;  // [start, stop, step]
  double start_ms = 0;
  double step_ms = 0;
  hsize_t columns = 0;
  hsize_t frames_appended = 0;  // also counts those still buffered
};

struct SpikeSink {
  Appendable<double> times;
  Appendable<std::uint64_t> nodes;
};

struct Snapshots {
  Appendable<float> data;
  std::vector<Appendable<float>> extra;  // one per additional variable
  Appendable<double> time;
  bool write_through = true;  // whole projections: large, rare samples
};

struct ModulatorSink {
  Appendable<double> data;
  Appendable<double> time;
};

struct Table {
  std::vector<Appendable<double>> columns;
};

// One of an edges population's two SONATA indices: for each node, rows
// [begin, end) of range_to_edge_id; each row a run [begin, end) of
// consecutive edges onto (or from) it.
struct EdgeIndex {
  std::uint64_t nodes = 0;
  Handle node_ranges, ranges;
  // Counted as the edges are written: each node's runs (at [id + 1], to be
  // summed into first rows), and for a node of one run, where it starts.
  std::vector<std::uint64_t> first_row, first_edge, edges;
  std::uint64_t previous = std::numeric_limits<std::uint64_t>::max();
  bool one_run_each = true;  // no node has two runs (ids sorted): no second pass

  void count(std::uint64_t first, std::span<const std::uint64_t> ids) {
    if (first_row.empty()) {
      first_row.assign(nodes + 1, 0);
      first_edge.assign(nodes, 0);
      edges.assign(nodes, 0);
    }
    for (std::size_t k = 0; k < ids.size(); ++k) {
      const std::uint64_t id = ids[k];
      if (id >= nodes) internal_error(fmt::format("edge node id {} of {} nodes", id, nodes));
      ++edges[id];
      if (id != previous) {
        if (first_row[id + 1]++ == 0) {
          first_edge[id] = first + k;
        } else {
          one_run_each = false;
        }
      }
      previous = id;
    }
  }
};

struct EdgeSink {
  std::uint64_t count = 0;
  std::uint64_t rows_written = 0;
  bool written = false;
  bool rewritable = false;
  Handle source, target, weight, delay;
  std::optional<EdgeIndex> by_source, by_target;
};

struct SonataWriter::Impl {
  std::string path;
  Handle file;  // declared first: closed after every dataset
  std::vector<SpikeSink> spikes;
  std::vector<Report> reports;
  std::vector<Snapshots> snapshots;
  std::vector<ModulatorSink> modulators;
  std::vector<EdgeSink> edges;
  std::vector<Table> tables;
  Handle status, summary, simulated;
  double simulated_ms = 0;
  bool finished = false;
  // Opening the objects of an existing file (resume) instead of creating
  // them: the create_* functions below do both, so the two cannot disagree
  // about the layout. Attributes and contents known at creation are left
  // as they are.
  bool reopening = false;
  std::string run_id_text;
  // A write or flush failed (a full disk): nothing more is written but the
  // status, so that what the file holds stays what the last flush committed.
  mutable bool broken = false;

  void require_open(const char* call) const {
    if (finished) internal_error(std::string(call) + " after finish()");
  }

  [[noreturn]] void fail(ExitCode code, const std::string& what) const {
    broken = true;
    throw IoError(code, fmt::format("{}: {}: {}", path, what, detail::hdf5_reason()));
  }
  hid_t check(hid_t id, ExitCode code, const std::string& what) const {
    if (id < 0) fail(code, what);
    return id;
  }
  void check(herr_t status, const std::string& what) const {
    if (status < 0) fail(ExitCode::io, what);
  }

  // ---- creation (before SWMR) ----

  // A file being reopened lacks an object this layout has.
  [[noreturn]] void not_this_run(const std::string& what) const {
    throw DataError(fmt::format("{}: not the output of the checkpointed run: {} ({})", path, what,
                                detail::hdf5_reason()));
  }

  Handle create_group(hid_t parent, const std::string& name) const {
    if (reopening) {
      const hid_t id = H5Gopen2(parent, name.c_str(), H5P_DEFAULT);
      if (id < 0) not_this_run("no group '" + name + "'");
      return detail::group_handle(id);
    }
    return detail::group_handle(
        check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
              ExitCode::cant_create, "cannot create group '" + name + "'"));
  }

  Handle open_dataset(hid_t parent, const std::string& name) const {
    const hid_t id = H5Dopen2(parent, name.c_str(), H5P_DEFAULT);
    if (id < 0) not_this_run("no dataset '" + name + "'");
    return detail::dataset_handle(id);
  }

  // Attributes are written once, when the file is created.
  void wrote(detail::AttributeStep step, const std::string& name) const {
    if (step == detail::AttributeStep::create) {
      fail(ExitCode::cant_create, "cannot create attribute '" + name + "'");
    }
    if (step == detail::AttributeStep::write) {
      fail(ExitCode::cant_create, "cannot write attribute '" + name + "'");
    }
  }
  void attribute(hid_t object, const std::string& name, hid_t file_type, hid_t mem_type,
                 const void* value, hsize_t n = 0) const {
    if (!reopening)
      wrote(detail::write_attribute(object, name.c_str(), file_type, mem_type, value, n), name);
  }
  void string_attribute(hid_t object, const std::string& name, const std::string& value) const {
    if (!reopening) wrote(detail::write_string_attribute(object, name.c_str(), value), name);
  }
  void strings_attribute(hid_t object, const std::string& name,
                         const std::vector<std::string>& values) const {
    if (!reopening) wrote(detail::write_strings_attribute(object, name.c_str(), values), name);
  }
  static Handle string_type(std::size_t bytes) { return detail::utf8_string_type(bytes); }

  // A scalar or 1-D contiguous dataset, allocated now so that it can be
  // rewritten in place under SWMR (only raw data changes, no metadata).
  Handle fixed_dataset(hid_t parent, const std::string& name, hid_t file_type, hid_t mem_type,
                       const void* value, hsize_t n = 0) const {
    if (reopening) return open_dataset(parent, name);
    Handle space =
        detail::space_handle(n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr));
    Handle dcpl = detail::plist_handle(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY);
    Handle ds = detail::dataset_handle(
        check(H5Dcreate2(parent, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(),
                         H5P_DEFAULT),
              ExitCode::cant_create, "cannot create dataset '" + name + "'"));
    if (value != nullptr &&
        H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, value) < 0) {
      fail(ExitCode::cant_create, "cannot write dataset '" + name + "'");
    }
    return ds;
  }

  // A 1-D contiguous dataset of `n` elements, its file space allocated now
  // and never moved: written (and rewritten) in place, also under SWMR. Not
  // filled: its writer writes every element before a flush.
  Handle in_place(hid_t parent, const std::string& name, hid_t file_type, hsize_t n) const {
    if (reopening) return open_dataset(parent, name);
    Handle space = detail::space_handle(H5Screate_simple(1, &n, nullptr));
    Handle dcpl = detail::plist_handle(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
    return detail::dataset_handle(check(H5Dcreate2(parent, name.c_str(), file_type, space.get(),
                                                   H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                                        ExitCode::cant_create,
                                        "cannot create dataset '" + name + "'"));
  }

  Handle string_dataset(hid_t parent, const std::string& name, const std::string& value) const {
    Handle type = string_type(value.size());
    std::string buffer = value;
    buffer.resize(std::max<std::size_t>(value.size(), 1), '\0');
    return fixed_dataset(parent, name, type.get(), type.get(), buffer.data());
  }

  // A chunked dataset [rows x width] (or [rows] when rank is 1), extendible
  // along rows; `rows` > 0 for datasets whose size is known up front, or
  // `written_once` for one whose size will be (an edge index): both are
  // compressed. Returns it with the rows per chunk.
  std::pair<Handle, hsize_t> chunked_dataset(hid_t parent, const std::string& name, hid_t file_type,
                                             int rank, hsize_t width, hsize_t rows,
                                             hsize_t max_chunk_rows = kChunkElements,
                                             bool written_once = false) const {
    if (reopening) return open_chunked(parent, name, rank, width);
    const hsize_t chunk_width = std::clamp<hsize_t>(width, 1, kChunkElements);
    hsize_t chunk_rows =
        std::clamp<hsize_t>(kChunkElements / chunk_width, 1, std::max<hsize_t>(max_chunk_rows, 1));
    if (rows > 0) chunk_rows = std::min(chunk_rows, rows);
    const std::array<hsize_t, 2> dims{rows, width};
    const std::array<hsize_t, 2> max_dims{H5S_UNLIMITED, H5S_UNLIMITED};
    const std::array<hsize_t, 2> chunk{chunk_rows, chunk_width};
    Handle space = detail::space_handle(H5Screate_simple(rank, dims.data(), max_dims.data()));
    Handle dcpl = detail::plist_handle(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(dcpl.get(), rank, chunk.data());
    if ((rows > 0 || written_once) && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
      // Datasets of a known size (edges) are written once, whole: compressed
      // (byte shuffle, then deflate at its fastest), since ids, delays and
      // group columns are highly regular. Appended ones stay uncompressed.
      H5Pset_shuffle(dcpl.get());
      H5Pset_deflate(dcpl.get(), 1);
    }
    Handle ds = detail::dataset_handle(
        check(H5Dcreate2(parent, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(),
                         H5P_DEFAULT),
              ExitCode::cant_create, "cannot create dataset '" + name + "'"));
    return {std::move(ds), chunk_rows};
  }

  // An existing chunked dataset of this rank and width, with its rows per chunk.
  std::pair<Handle, hsize_t> open_chunked(hid_t parent, const std::string& name, int rank,
                                          hsize_t width) const {
    Handle ds = open_dataset(parent, name);
    Handle space = detail::space_handle(H5Dget_space(ds.get()));
    Handle dcpl = detail::plist_handle(H5Dget_create_plist(ds.get()));
    std::array<hsize_t, 2> dims{0, 0}, chunk{0, 0};
    if (H5Sget_simple_extent_ndims(space.get()) != rank ||
        H5Pget_chunk(dcpl.get(), rank, chunk.data()) != rank) {
      not_this_run(fmt::format("dataset '{}' is not a chunked array of rank {}", name, rank));
    }
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    if (rank == 2 && dims[1] != width) {
      not_this_run(
          fmt::format("dataset '{}' has {} columns where this run has {}", name, dims[1], width));
    }
    return {std::move(ds), chunk[0]};
  }

  template <class T>
  Appendable<T> appendable(hid_t parent, const std::string& name, hid_t file_type, int rank,
                           hsize_t width, hsize_t max_chunk_rows = kChunkElements) const {
    Appendable<T> a;
    a.name = name;
    a.rank = rank;
    a.width = width;
    std::tie(a.dataset, a.chunk_rows) =
        chunked_dataset(parent, name, file_type, rank, width, 0, max_chunk_rows);
    if (reopening) {
      std::array<hsize_t, 2> dims{0, 0};
      Handle space = detail::space_handle(H5Dget_space(a.dataset.get()));
      H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
      a.rows = dims[0];
    }
    return a;
  }

  // Cuts a dataset back to `rows` <= a.rows (resume).
  template <class T>
  void cut(Appendable<T>& a, hsize_t rows) {
    const std::array<hsize_t, 2> extent{rows, a.width};
    check(H5Dset_extent(a.dataset.get(), extent.data()), "cannot cut '" + a.name + "'");
    a.rows = a.committed = rows;
  }

  // ---- writing (also under SWMR) ----

  // Writes `n` rows at row `at`, growing the dataset when needed.
  template <class T>
  void write_rows(Appendable<T>& a, const T* data, hsize_t at, hsize_t n) const {
    if (n == 0) return;
    const std::array<hsize_t, 2> start{at, 0};
    const std::array<hsize_t, 2> count{n, a.width};
    if (at + n > a.rows) {
      const std::array<hsize_t, 2> extent{at + n, a.width};
      check(H5Dset_extent(a.dataset.get(), extent.data()), "cannot extend '" + a.name + "'");
      a.rows = at + n;
    }
    Handle file_space = detail::space_handle(H5Dget_space(a.dataset.get()));
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                              nullptr),
          "cannot select rows of '" + a.name + "'");
    const hsize_t elements = n * a.width;
    Handle memory_space = detail::space_handle(H5Screate_simple(1, &elements, nullptr));
    if (H5Dwrite(a.dataset.get(), native_type<T>(), memory_space.get(), file_space.get(),
                 H5P_DEFAULT, data) < 0) {
      // Rows that hold no data must not stay in the extent (a reader would
      // take their fill values for data).
      const std::string reason = detail::hdf5_reason();
      const std::array<hsize_t, 2> extent{at, a.width};
      if (H5Dset_extent(a.dataset.get(), extent.data()) >= 0) a.rows = at;
      broken = true;
      throw IoError(ExitCode::io, fmt::format("{}: cannot write '{}': {}", path, a.name, reason));
    }
  }

  // Writes buffered rows: only whole chunks unless `all`.
  template <class T>
  void drain(Appendable<T>& a, bool all) const {
    if (broken) return;
    const hsize_t buffered = a.pending_rows();
    const hsize_t n = all ? buffered : buffered / a.chunk_rows * a.chunk_rows;
    if (n == 0) return;
    write_rows(a, a.pending.data(), a.rows, n);
    a.pending.erase(a.pending.begin(),
                    a.pending.begin() + static_cast<std::ptrdiff_t>(n * a.width));
  }

  template <class T>
  void append(Appendable<T>& a, std::span<const T> values) const {
    if (a.width == 0 || broken) return;
    a.pending.insert(a.pending.end(), values.begin(), values.end());
    if (a.pending_rows() >= a.chunk_rows) drain(a, false);
  }

  void write_scalar_double(const Handle& ds, double value, const std::string& name) const {
    check(H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value),
          "cannot write '" + name + "'");
  }

  void write_status(const char* text) const {
    std::array<char, kStatusBytes> buffer{};
    std::copy_n(text, std::min(std::char_traits<char>::length(text), kStatusBytes), buffer.begin());
    Handle type = string_type(kStatusBytes);
    check(H5Dwrite(status.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()),
          "cannot write /provenance/status");
  }

  void write_pending() {
    for (auto& s : spikes) {
      drain(s.times, true);
      drain(s.nodes, true);
    }
    for (auto& r : reports) {
      drain(r.data, true);
      const std::array<double, 3> time{
          r.start_ms, r.start_ms + static_cast<double>(r.frames_appended) * r.step_ms, r.step_ms};
      check(H5Dwrite(r.time.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, time.data()),
            "cannot write '" + r.data.name + "' mapping/time");
    }
    for (auto& s : snapshots) {
      drain(s.data, true);
      for (auto& x : s.extra) drain(x, true);
      drain(s.time, true);
    }
    for (auto& m : modulators) {
      drain(m.data, true);
      drain(m.time, true);
    }
    for (auto& t : tables)
      for (auto& c : t.columns) drain(c, true);
  }

  void flush_file() const {
    check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "cannot flush the file");
  }

  // Everything buffered to disk, then the simulated time it covers: the
  // time is written only once the data it vouches for is on disk, so a
  // failure in between leaves the previous (still true) time.
  void commit() {
    try {
      write_pending();
      flush_file();
    } catch (const IoError&) {
      roll_back();
      throw;
    }
    write_scalar_double(simulated, simulated_ms, "/provenance/simulated_ms");
    flush_file();
    for_each_appendable([](auto& a, auto) { a.committed = a.rows; });
  }

  // After a failed commit: every dataset back to what the last commit put
  // on disk (rows written since may be fill values on disk), best effort.
  void roll_back() {
    for_each_appendable([&](auto& a, auto) {
      const std::array<hsize_t, 2> extent{a.committed, a.width};
      if (a.rows > a.committed && H5Dset_extent(a.dataset.get(), extent.data()) >= 0)
        a.rows = a.committed;
    });
    H5Fflush(file.get(), H5F_SCOPE_GLOBAL);
    detail::hdf5_reason();  // clears the error stack
  }

  // f(dataset, rows) for every appendable dataset, with the rows `at`
  // records for it (0 without one).
  template <class F>
  void for_each_appendable(F&& f, const OutputPosition* at = nullptr) {
    auto rows = [&](const std::vector<std::uint64_t> OutputPosition::*field, std::size_t i) {
      return at ? hsize_t{(at->*field)[i]} : hsize_t{0};
    };
    for (std::size_t i = 0; i < spikes.size(); ++i) {
      f(spikes[i].times, rows(&OutputPosition::spikes, i));
      f(spikes[i].nodes, rows(&OutputPosition::spikes, i));
    }
    for (std::size_t i = 0; i < reports.size(); ++i) {
      f(reports[i].data, rows(&OutputPosition::frames, i));
    }
    for (std::size_t i = 0; i < snapshots.size(); ++i) {
      const hsize_t n = rows(&OutputPosition::weight_samples, i);
      f(snapshots[i].data, n);
      for (auto& x : snapshots[i].extra) f(x, n);
      f(snapshots[i].time, n);
    }
    for (std::size_t i = 0; i < modulators.size(); ++i) {
      f(modulators[i].data, rows(&OutputPosition::modulator_samples, i));
      f(modulators[i].time, rows(&OutputPosition::modulator_samples, i));
    }
    for (std::size_t i = 0; i < tables.size(); ++i) {
      for (auto& c : tables[i].columns) f(c, rows(&OutputPosition::table_rows, i));
    }
  }

  // ---- construction ----

  void create_all(const OutputLayout& layout) {
    run_id_text = layout.run_id;
    create_spikes(layout);
    create_reports(layout);
    create_snapshots(layout);
    create_modulators(layout);
    create_edges(layout);
    create_tables(layout);
    create_provenance(layout);
  }

  // From here on no object or attribute can be created or changed, only
  // dataset contents and extents; in exchange the file stays readable.
  void start_swmr(ExitCode code = ExitCode::cant_create) const {
    if (H5Fstart_swmr_write(file.get()) < 0) fail(code, "cannot start SWMR writing");
  }

  void write_summary(const std::string& json) const {
    std::string buffer = json;
    buffer.resize(kMaxSummaryBytes, '\0');
    Handle type = string_type(kMaxSummaryBytes);
    check(H5Dwrite(summary.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()),
          "cannot write /provenance/summary");
  }

  // The text of a scalar fixed-length string dataset.
  std::string read_string(const Handle& ds, const std::string& name) const {
    Handle type = detail::type_handle(H5Dget_type(ds.get()));
    if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0) {
      not_this_run("'" + name + "' is not a fixed-length string");
    }
    std::string text(H5Tget_size(type.get()), '\0');
    if (H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data()) < 0) {
      not_this_run("cannot read '" + name + "'");
    }
    text.resize(std::strlen(text.c_str()));
    return text;
  }

  // Appends a line to /provenance/resumed (rewritten whole: before SWMR).
  void add_resumed_line(const std::string& line) {
    Handle group = create_group(file.get(), "provenance");
    std::string text;
    const bool had = H5Lexists(group.get(), "resumed", H5P_DEFAULT) > 0;
    if (had) text = read_string(open_dataset(group.get(), "resumed"), "/provenance/resumed");
    text += line + "\n";
    // The new text is written beside the old one and takes its name only
    // once it is complete, so a failure keeps the history.
    if (H5Lexists(group.get(), "resumed.new", H5P_DEFAULT) > 0) {
      check(H5Ldelete(group.get(), "resumed.new", H5P_DEFAULT),
            "cannot replace /provenance/resumed");
    }
    const bool was = reopening;
    reopening = false;
    string_dataset(group.get(), "resumed.new", text);
    reopening = was;
    if (had)
      check(H5Ldelete(group.get(), "resumed", H5P_DEFAULT), "cannot replace /provenance/resumed");
    check(H5Lmove(group.get(), "resumed.new", group.get(), "resumed", H5P_DEFAULT, H5P_DEFAULT),
          "cannot replace /provenance/resumed");
  }

  void create_spikes(const OutputLayout& layout) {
    if (layout.spikes.empty()) return;
    Handle root = create_group(file.get(), "spikes");
    Handle sorting = detail::type_handle(H5Tenum_create(H5T_NATIVE_UINT8));
    for (std::uint8_t value = 0; const char* name : {"none", "by_id", "by_time"}) {
      H5Tenum_insert(sorting.get(), name, &value);
      ++value;
    }
    const std::uint8_t by_time = 2;
    for (const auto& pop : layout.spikes) {
      Handle group = create_group(root.get(), pop.name);
      attribute(group.get(), "sorting", sorting.get(), sorting.get(), &by_time);
      attribute(group.get(), "node_count", H5T_STD_U64LE, H5T_NATIVE_UINT64, &pop.size);
      SpikeSink sink;
      sink.times = appendable<double>(group.get(), "timestamps", H5T_IEEE_F64LE, 1, 1);
      string_attribute(sink.times.dataset.get(), "units", "ms");
      sink.nodes = appendable<std::uint64_t>(group.get(), "node_ids", H5T_STD_U64LE, 1, 1);
      sink.times.name = "/spikes/" + pop.name + "/timestamps";
      sink.nodes.name = "/spikes/" + pop.name + "/node_ids";
      spikes.push_back(std::move(sink));
    }
  }

  // Unnamed reports under /report, named ones under /reports/<name>, in
  // the layout's order (which is the order of position().frames).
  void create_reports(const OutputLayout& layout) {
    Handle unnamed, named;
    std::map<std::string, Handle> by_name;
    for (const auto& spec : layout.reports) {
      hid_t parent = -1;
      if (spec.name.empty()) {
        if (!unnamed.valid()) unnamed = create_group(file.get(), "report");
        parent = unnamed.get();
      } else {
        if (!named.valid()) named = create_group(file.get(), "reports");
        auto [at, added] = by_name.try_emplace(spec.name);
        if (added) at->second = create_group(named.get(), spec.name);
        parent = at->second.get();
      }
      Handle group = create_group(parent, spec.population);
      const hsize_t nodes = spec.node_ids.size();
      const hsize_t k = spec.variables.size();
      Report r;
      r.start_ms = spec.start_ms;
      r.step_ms = spec.step_ms;
      r.columns = nodes * k;
      r.data = appendable<float>(group.get(), "data", H5T_IEEE_F32LE, 2, r.columns);
      r.data.name = spec.path() + "/data";
      const bool same_units = std::all_of(spec.units.begin(), spec.units.end(),
                                          [&](const std::string& u) { return u == spec.units[0]; });
      string_attribute(r.data.dataset.get(), "units", same_units ? spec.units[0] : "mixed");
      strings_attribute(r.data.dataset.get(), "variables", spec.variables);
      strings_attribute(r.data.dataset.get(), "variable_units", spec.units);

      Handle mapping = create_group(group.get(), "mapping");
      std::vector<std::uint64_t> pointers(nodes + 1);
      for (hsize_t i = 0; i <= nodes; ++i) pointers[i] = i * k;
      std::vector<std::uint32_t> elements(r.columns);
      for (hsize_t c = 0; c < r.columns; ++c) elements[c] = static_cast<std::uint32_t>(c % k);
      fixed_dataset(mapping.get(), "node_ids", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                    spec.node_ids.data(), nodes);
      fixed_dataset(mapping.get(), "index_pointers", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                    pointers.data(), nodes + 1);
      fixed_dataset(mapping.get(), "element_ids", H5T_STD_U32LE, H5T_NATIVE_UINT32, elements.data(),
                    r.columns);
      const std::array<double, 3> time{spec.start_ms, spec.start_ms, spec.step_ms};
      r.time =
          fixed_dataset(mapping.get(), "time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, time.data(), 3);
      string_attribute(r.time.get(), "units", "ms");
      reports.push_back(std::move(r));
    }
  }

  void create_snapshots(const OutputLayout& layout) {
    if (layout.weight_snapshots.empty()) return;
    Handle root = create_group(file.get(), "weights");
    for (const auto& spec : layout.weight_snapshots) {
      Handle group = create_group(root.get(), spec.name);
      string_attribute(group.get(), "projection", spec.projection);
      const std::string path = "/weights/" + spec.name + "/";
      Snapshots s;
      s.data = appendable<float>(group.get(), "data", H5T_IEEE_F32LE, 2, spec.count);
      s.data.name = path + "data";
      for (const auto& v : spec.variables) {
        s.extra.push_back(appendable<float>(group.get(), v, H5T_IEEE_F32LE, 2, spec.count));
        s.extra.back().name = path + v;
      }
      // Whole-projection snapshots are large and rare: each is written
      // through. Trajectories of chosen synapses are buffered until a flush.
      s.write_through = spec.edge_ids.empty();
      s.time = appendable<double>(group.get(), "time", H5T_IEEE_F64LE, 1, 1);
      s.time.name = path + "time";
      string_attribute(s.time.dataset.get(), "units", "ms");
      if (!spec.edge_ids.empty() && !reopening) {
        Handle ids =
            chunked_dataset(group.get(), "edge_ids", H5T_STD_U64LE, 1, 1, spec.edge_ids.size())
                .first;
        check(H5Dwrite(ids.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                       spec.edge_ids.data()),
              "cannot write " + path + "edge_ids");
      }
      snapshots.push_back(std::move(s));
    }
  }

  void create_modulators(const OutputLayout& layout) {
    if (layout.modulators.empty()) return;
    Handle root = create_group(file.get(), "neuromodulators");
    for (const auto& spec : layout.modulators) {
      Handle group = create_group(root.get(), spec.name);
      const std::string path = "/neuromodulators/" + spec.name + "/";
      ModulatorSink m;
      m.data = appendable<double>(group.get(), "data", H5T_IEEE_F64LE, 1, 1);
      m.data.name = path + "data";
      m.time = appendable<double>(group.get(), "time", H5T_IEEE_F64LE, 1, 1);
      m.time.name = path + "time";
      string_attribute(m.time.dataset.get(), "units", "ms");
      modulators.push_back(std::move(m));
    }
  }

  void create_edges(const OutputLayout& layout) {
    if (layout.edges.empty()) return;
    Handle root = create_group(file.get(), "edges");
    for (const auto& spec : layout.edges) {
      Handle group = create_group(root.get(), spec.name);
      const hsize_t n = spec.count;
      EdgeSink e;
      e.count = n;
      auto fixed_size = [&](hid_t parent, const char* name, hid_t type) {
        return chunked_dataset(parent, name, type, 1, 1, n).first;
      };
      e.source = fixed_size(group.get(), "source_node_id", H5T_STD_U64LE);
      string_attribute(e.source.get(), "node_population", spec.source_population);
      e.target = fixed_size(group.get(), "target_node_id", H5T_STD_U64LE);
      string_attribute(e.target.get(), "node_population", spec.target_population);
      // Known now: one edge type, one group, edges in order. Written a
      // million at a time, so that no buffer grows with the projection.
      auto known = [&](const char* name, hid_t file_type, hid_t mem_type, auto value_of) {
        if (reopening) return;
        using T = decltype(value_of(hsize_t{0}));
        Handle ds = fixed_size(group.get(), name, file_type);
        constexpr hsize_t kBlock = hsize_t{1} << 20;
        std::vector<T> buffer(static_cast<std::size_t>(std::min(n, kBlock)));
        for (hsize_t first = 0; first < n; first += kBlock) {
          const hsize_t count = std::min(kBlock, n - first);
          for (hsize_t i = 0; i < count; ++i) buffer[i] = value_of(first + i);
          Handle space = detail::space_handle(H5Dget_space(ds.get()));
          Handle mem = detail::space_handle(H5Screate_simple(1, &count, nullptr));
          if (H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &first, nullptr, &count, nullptr) <
                  0 ||
              H5Dwrite(ds.get(), mem_type, mem.get(), space.get(), H5P_DEFAULT, buffer.data()) <
                  0) {
            fail(ExitCode::cant_create, fmt::format("cannot write /edges/{}/{}", spec.name, name));
          }
        }
      };
      known("edge_type_id", H5T_STD_I64LE, H5T_NATIVE_INT64,
            [](hsize_t) { return std::int64_t{0}; });
      known("edge_group_id", H5T_STD_U32LE, H5T_NATIVE_UINT32,
            [](hsize_t) { return std::uint32_t{0}; });
      known("edge_group_index", H5T_STD_U64LE, H5T_NATIVE_UINT64,
            [](hsize_t i) { return static_cast<std::uint64_t>(i); });
      Handle attributes = create_group(group.get(), "0");
      e.rewritable = spec.rewritable;
      e.weight = spec.rewritable ? in_place(attributes.get(), "syn_weight", H5T_IEEE_F32LE, n)
                                 : fixed_size(attributes.get(), "syn_weight", H5T_IEEE_F32LE);
      e.delay = fixed_size(attributes.get(), "delay", H5T_IEEE_F32LE);
      string_attribute(e.delay.get(), "units", "ms");
      // A file reopened to resume has the indices when the run that made it
      // wrote them (runs before they existed did not).
      if (spec.source_count > 0 && spec.target_count > 0 &&
          (!reopening || H5Lexists(group.get(), "indices", H5P_DEFAULT) > 0)) {
        Handle indices = create_group(group.get(), "indices");
        auto index = [&](const char* name, std::uint64_t nodes) {
          Handle g = create_group(indices.get(), name);
          EdgeIndex x;
          x.nodes = nodes;
          x.node_ranges =
              chunked_dataset(g.get(), "node_id_to_ranges", H5T_STD_U64LE, 2, 2, nodes).first;
          // Its rows are known once the edges are: created empty, extended then.
          x.ranges = chunked_dataset(g.get(), "range_to_edge_id", H5T_STD_U64LE, 2, 2, 0,
                                     kChunkElements, true)
                         .first;
          return x;
        };
        e.by_source = index("source_to_target", spec.source_count);
        e.by_target = index("target_to_source", spec.target_count);
      }
      edges.push_back(std::move(e));
    }
  }

  void create_tables(const OutputLayout& layout) {
    for (const auto& spec : layout.tables) {
      // A group path ("ember/actions"): its parents are created (or, when
      // reopening, opened) first; tables may share a parent.
      for (std::size_t slash = spec.group.find('/'); slash != std::string::npos;
           slash = spec.group.find('/', slash + 1)) {
        const std::string parent = spec.group.substr(0, slash);
        if (H5Lexists(file.get(), parent.c_str(), H5P_DEFAULT) <= 0)
          create_group(file.get(), parent);
      }
      Handle group = create_group(file.get(), spec.group);
      Table t;
      for (const auto& column : spec.columns) {
        t.columns.push_back(
            appendable<double>(group.get(), column, H5T_IEEE_F64LE, 1, 1, kTableChunkRows));
        t.columns.back().name = "/" + spec.group + "/" + column;
      }
      tables.push_back(std::move(t));
    }
  }

  // Writes `n` values of a fixed-size 1-D dataset from element `first`.
  void write_indices(EdgeSink& e, std::size_t k) const {
    const std::string what = fmt::format("the index of edges {}", k);
    if (e.by_source) write_index(e.source, e.count, *e.by_source, what + " by source");
    if (e.by_target) write_index(e.target, e.count, *e.by_target, what + " by target");
  }

  // Rows [first, first + n) of a 2-column dataset.
  void write_rows(const Handle& ds, hsize_t first, hsize_t n, const std::uint64_t* data,
                  const std::string& what) const {
    const std::array<hsize_t, 2> start{first, 0}, count{n, 2};
    Handle file_space = detail::space_handle(H5Dget_space(ds.get()));
    Handle memory_space = detail::space_handle(H5Screate_simple(2, count.data(), nullptr));
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                              nullptr),
          "cannot select " + what);
    check(H5Dwrite(ds.get(), H5T_NATIVE_UINT64, memory_space.get(), file_space.get(), H5P_DEFAULT,
                   data),
          "cannot write " + what);
  }

  // Calls f(first, ids) for the ids of a written edge column, a block at a time.
  template <class F>
  void read_ids(const Handle& ds, std::uint64_t count, const std::string& what, F&& f) const {
    constexpr hsize_t kBlock = hsize_t{1} << 20;
    std::vector<std::uint64_t> ids(static_cast<std::size_t>(std::min<hsize_t>(count, kBlock)));
    for (hsize_t first = 0; first < count; first += kBlock) {
      hsize_t n = std::min<hsize_t>(kBlock, count - first);
      Handle file_space = detail::space_handle(H5Dget_space(ds.get()));
      Handle memory_space = detail::space_handle(H5Screate_simple(1, &n, nullptr));
      check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &first, nullptr, &n, nullptr),
            "cannot select " + what);
      check(H5Dread(ds.get(), H5T_NATIVE_UINT64, memory_space.get(), file_space.get(), H5P_DEFAULT,
                    ids.data()),
            "cannot read back " + what);
      f(first, std::span<const std::uint64_t>(ids.data(), n));
    }
  }

  // An edge index: each node's runs of consecutive edges were counted as the
  // edges were written (EdgeIndex::count); placed here by node. When no node
  // has two runs (the source index: edges are written by source) the rows
  // follow from the counts; otherwise the written ids are read back a window
  // of nodes at a time, so that memory is 8 bytes a node plus at most
  // kWindow runs, not 16 bytes an edge (a file sorted by source has about
  // one run per edge by target).
  void write_index(const Handle& ids, std::uint64_t count, EdgeIndex& x,
                   const std::string& what) const {
    if (x.first_row.empty()) x.count(0, {});
    std::vector<std::uint64_t> first_row = std::move(x.first_row);
    for (std::uint64_t t = 0; t < x.nodes; ++t) first_row[t + 1] += first_row[t];
    const std::uint64_t runs = first_row[x.nodes];
    constexpr std::uint64_t kNodeBlock = std::uint64_t{1} << 19;
    std::vector<std::uint64_t> rows;
    for (std::uint64_t a = 0; a < x.nodes; a += kNodeBlock) {
      const std::uint64_t n = std::min(kNodeBlock, x.nodes - a);
      rows.resize(2 * n);
      for (std::uint64_t k = 0; k < n; ++k) {
        rows[2 * k] = first_row[a + k];
        rows[2 * k + 1] = first_row[a + k + 1];
      }
      write_rows(x.node_ranges, a, n, rows.data(), what + "/node_id_to_ranges");
    }
    const std::array<hsize_t, 2> dims{runs, 2};
    check(H5Dset_extent(x.ranges.get(), dims.data()),
          "cannot extend " + what + "/range_to_edge_id");
    if (x.one_run_each) {
      // Node t's run is its edges: [first_edge, first_edge + its count).
      rows.clear();
      const auto flush = [&](std::uint64_t at) {
        write_rows(x.ranges, at, rows.size() / 2, rows.data(), what + "/range_to_edge_id");
        rows.clear();
      };
      std::uint64_t at = 0;
      for (std::uint64_t t = 0; t < x.nodes; ++t) {
        if (first_row[t + 1] == first_row[t]) continue;
        rows.push_back(x.first_edge[t]);
        rows.push_back(x.first_edge[t] + x.edges[t]);
        if (rows.size() == 2 * kNodeBlock) {
          flush(at);
          at += kNodeBlock;
        }
      }
      if (!rows.empty()) flush(at);
      return;
    }
    const std::string ids_what = what + "'s node ids";
    constexpr std::uint64_t kWindow = std::uint64_t{1} << 22;  // runs: 64 MB
    std::vector<std::uint64_t> cursor;
    for (std::uint64_t lo = 0; lo < x.nodes;) {
      std::uint64_t hi = lo + 1;
      while (hi < x.nodes && first_row[hi + 1] - first_row[lo] <= kWindow) ++hi;
      const std::uint64_t r0 = first_row[lo], r1 = first_row[hi];
      if (r1 > r0) {
        rows.assign(2 * (r1 - r0), 0);
        cursor.assign(first_row.begin() + static_cast<std::ptrdiff_t>(lo),
                      first_row.begin() + static_cast<std::ptrdiff_t>(hi));
        std::uint64_t previous = std::numeric_limits<std::uint64_t>::max();
        read_ids(ids, count, ids_what,
                 [&](std::uint64_t first, std::span<const std::uint64_t> block) {
                   for (std::size_t k = 0; k < block.size(); ++k) {
                     const std::uint64_t id = block[k], e = first + k;
                     if (id >= lo && id < hi) {
                       if (id != previous) rows[2 * (cursor[id - lo]++ - r0)] = e;
                       rows[2 * (cursor[id - lo] - 1 - r0) + 1] = e + 1;
                     }
                     previous = id;
                   }
                 });
        write_rows(x.ranges, r0, r1 - r0, rows.data(), what + "/range_to_edge_id");
      }
      lo = hi;
    }
  }

  void write_slice(const Handle& ds, hid_t type, hsize_t first, hsize_t n, const void* data,
                   const std::string& what) const {
    Handle file_space = detail::space_handle(H5Dget_space(ds.get()));
    Handle memory_space = detail::space_handle(H5Screate_simple(1, &n, nullptr));
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &first, nullptr, &n, nullptr),
          "cannot select " + what);
    check(H5Dwrite(ds.get(), type, memory_space.get(), file_space.get(), H5P_DEFAULT, data),
          "cannot write " + what);
  }

  void create_provenance(const OutputLayout& layout) {
    Handle group = create_group(file.get(), "provenance");
    string_dataset(group.get(), "config", layout.config_text);
    string_dataset(group.get(), "command_line", layout.command_line);
    string_dataset(group.get(), "version", layout.version);
    string_dataset(group.get(), "run_id", layout.run_id);
    fixed_dataset(group.get(), "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &layout.seed);
    const std::int32_t threads = layout.threads;
    fixed_dataset(group.get(), "threads", H5T_STD_I32LE, H5T_NATIVE_INT32, &threads);
    Handle dt =
        fixed_dataset(group.get(), "dt_ms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &layout.dt_ms);
    string_attribute(dt.get(), "units", "ms");
    const double zero = 0;
    simulated =
        fixed_dataset(group.get(), "simulated_ms", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &zero);
    string_attribute(simulated.get(), "units", "ms");
    {
      Handle type = string_type(kStatusBytes);
      status = fixed_dataset(group.get(), "status", type.get(), type.get(), nullptr);
    }
    if (reopening) {
      summary = open_dataset(group.get(), "summary");
      return;
    }
    // One element, written once by finish(): a chunk allocated under SWMR.
    // Compressed, so the unused capacity costs almost nothing.
    Handle type = string_type(kMaxSummaryBytes);
    const hsize_t one = 1;
    Handle space = detail::space_handle(H5Screate_simple(1, &one, &one));
    Handle dcpl = detail::plist_handle(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(dcpl.get(), 1, &one);
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) H5Pset_deflate(dcpl.get(), 1);
    summary = detail::dataset_handle(
        check(H5Dcreate2(group.get(), "summary", type.get(), space.get(), H5P_DEFAULT, dcpl.get(),
                         H5P_DEFAULT),
              ExitCode::cant_create, "cannot create dataset '/provenance/summary'"));
  }
};

SonataWriter::SonataWriter(const OutputLayout& layout) : impl_(std::make_unique<Impl>()) {
  validate(layout);
  detail::silence_hdf5_errors();
  Impl& w = *impl_;
  w.path = layout.path;

  // Created under a temporary name and renamed over the path once laid out
  // (output_files.hpp): what is at the path stays intact until then.
  check_output_path(layout.path, "output file");
  const std::string target = link_target(layout.path);
  const std::string tmp = make_temporary(target, "output file");
  try {
    Handle fapl = writer_access();
    const hid_t file = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
    if (file < 0) {
      throw IoError(ExitCode::cant_create, fmt::format("cannot create output file '{}': {}",
                                                       layout.path, detail::hdf5_reason()));
    }
    w.file = detail::file_handle(file);
    const std::array<std::uint32_t, 2> version{0, 1};
    w.attribute(file, "magic", H5T_STD_U32LE, H5T_NATIVE_UINT32, &kSonataMagic);
    w.attribute(file, "version", H5T_STD_U32LE, H5T_NATIVE_UINT32, version.data(), 2);
    w.create_all(layout);
    w.write_status("running");
    w.start_swmr();
    replace_with(tmp, target, "output file");
  } catch (...) {
    // A file that could not even be laid out (a full disk) holds nothing:
    // it is removed; what was at the path is untouched.
    w = Impl{};
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  remove_stale_temporaries(target, "");
}

SonataWriter::SonataWriter(const OutputLayout& layout, const OutputPosition& at,
                           const std::string& resumed_line)
    : impl_(std::make_unique<Impl>()) {
  validate(layout);
  detail::silence_hdf5_errors();
  Impl& w = *impl_;
  w.path = layout.path;
  w.reopening = true;
  const auto type = detail::path_type(layout.path);
  if (type == std::filesystem::file_type::not_found) {
    throw Error(ExitCode::no_input,
                fmt::format("output file '{}' of the checkpointed run does not exist: resuming "
                            "continues that file",
                            layout.path));
  }
  if (type != std::filesystem::file_type::regular) {
    throw Error(ExitCode::no_input,
                fmt::format("output file '{}' of the checkpointed run is {}, not a regular file: "
                            "resuming continues that file",
                            layout.path, detail::file_type_name(type)));
  }
  if (detail::is_hdf5_file(layout.path) <= 0) {
    throw DataError(
        fmt::format("{}: not an HDF5 file: resuming continues the output file of the "
                    "checkpointed run",
                    layout.path));
  }
  Handle fapl = writer_access();
  // A killed run leaves its file marked as open for writing (SWMR), which
  // a plain open refuses; this is what `h5clear -s` does (a property of
  // the file-access class, public since HDF5 1.10).
  hbool_t clear = 1;
  if (H5Pexist(fapl.get(), "clear_status_flags") > 0) {
    H5Pset(fapl.get(), "clear_status_flags", &clear);
  }
  const hid_t file = H5Fopen(layout.path.c_str(), H5F_ACC_RDWR, fapl.get());
  if (file < 0) {
    throw IoError(ExitCode::io, fmt::format("cannot open output file '{}' to continue it: {}",
                                            layout.path, detail::hdf5_reason()));
  }
  w.file = detail::file_handle(file);
  // Nothing in the file changes until it is known to be the right one.
  {
    Handle group = w.create_group(file, "provenance");
    const std::string id =
        w.read_string(w.open_dataset(group.get(), "run_id"), "/provenance/run_id");
    if (id != at.run_id) {
      throw DataError(fmt::format(
          "{}: written by run {}, the checkpoint belongs to run {}: not the output of the "
          "checkpointed run",
          layout.path, id, at.run_id));
    }
  }
  w.create_all(layout);
  auto expect = [&](const char* what, std::size_t n, std::size_t have) {
    if (n != have) {
      throw DataError(fmt::format("{}: the checkpoint records {} {} where the output has {}",
                                  layout.path, n, what, have));
    }
  };
  expect("spike populations", at.spikes.size(), w.spikes.size());
  expect("reports", at.frames.size(), w.reports.size());
  expect("weight records", at.weight_samples.size(), w.snapshots.size());
  expect("neuromodulator records", at.modulator_samples.size(), w.modulators.size());
  expect("tables", at.table_rows.size(), w.tables.size());
  w.for_each_appendable(
      [&](const auto& a, hsize_t rows) {
        if (rows > a.rows) {
          throw DataError(fmt::format(
              "{}: {} holds {} rows where the checkpoint recorded {}: the file is not the one the "
              "checkpointed run wrote (or it was cut since)",
              layout.path, a.name, a.rows, rows));
        }
      },
      &at);
  // Checked: from here on the file is changed, and a failure is an I/O error.
  w.for_each_appendable([&](auto& a, hsize_t rows) { w.cut(a, rows); }, &at);
  for (std::size_t i = 0; i < w.reports.size(); ++i) w.reports[i].frames_appended = at.frames[i];
  w.simulated_ms = at.simulated_ms;
  w.write_scalar_double(w.simulated, at.simulated_ms, "/provenance/simulated_ms");
  w.write_summary("");
  w.write_status("running");
  w.add_resumed_line(resumed_line);
  w.flush_file();
  w.start_swmr(ExitCode::io);
}

SonataWriter::SonataWriter(SonataWriter&&) noexcept = default;
SonataWriter& SonataWriter::operator=(SonataWriter&&) noexcept = default;

SonataWriter::~SonataWriter() {
  if (!impl_ || impl_->finished || !impl_->file.valid()) return;
  try {
    if (!impl_->broken) impl_->commit();
  } catch (...) {
  }
  try {
    impl_->write_status("failed");
    impl_->flush_file();
  } catch (...) {
  }
}

const std::string& SonataWriter::path() const {
  return impl_->path;
}

OutputPosition SonataWriter::position() const {
  const Impl& w = *impl_;
  OutputPosition p;
  p.run_id = w.run_id_text;
  p.simulated_ms = w.simulated_ms;
  for (const auto& s : w.spikes) p.spikes.push_back(s.times.rows + s.times.pending_rows());
  for (const auto& r : w.reports) p.frames.push_back(r.frames_appended);
  for (const auto& s : w.snapshots) p.weight_samples.push_back(s.time.rows + s.time.pending_rows());
  for (const auto& m : w.modulators)
    p.modulator_samples.push_back(m.time.rows + m.time.pending_rows());
  for (const auto& t : w.tables)
    p.table_rows.push_back(t.columns[0].rows + t.columns[0].pending_rows());
  return p;
}

void SonataWriter::append_spikes(std::size_t population, std::span<const double> times_ms,
                                 std::span<const std::uint64_t> node_ids) {
  impl_->require_open("append_spikes()");
  if (population >= impl_->spikes.size())
    internal_error("no spike population " + std::to_string(population));
  if (times_ms.size() != node_ids.size()) {
    internal_error(fmt::format("{} spike times but {} node ids", times_ms.size(), node_ids.size()));
  }
  auto& sink = impl_->spikes[population];
  impl_->append(sink.times, times_ms);
  impl_->append(sink.nodes, node_ids);
}

void SonataWriter::append_frames(std::size_t report, std::span<const float> frames) {
  impl_->require_open("append_frames()");
  if (report >= impl_->reports.size()) internal_error("no report " + std::to_string(report));
  auto& r = impl_->reports[report];
  if (r.columns == 0) return;
  if (frames.size() % r.columns != 0) {
    internal_error(fmt::format("{} values are not whole frames of {} columns for '{}'",
                               frames.size(), r.columns, r.data.name));
  }
  r.frames_appended += frames.size() / r.columns;
  impl_->append(r.data, frames);
}

void SonataWriter::append_weight_snapshot(std::size_t snapshot, double time_ms,
                                          std::span<const float> values) {
  impl_->require_open("append_weight_snapshot()");
  if (snapshot >= impl_->snapshots.size())
    internal_error("no weight snapshot " + std::to_string(snapshot));
  auto& s = impl_->snapshots[snapshot];
  const std::size_t n = s.data.width;
  if (values.size() != n * (1 + s.extra.size())) {
    internal_error(fmt::format("{} values for '{}' of {} x {}", values.size(), s.data.name, n,
                               1 + s.extra.size()));
  }
  impl_->append(s.data, values.first(n));
  for (std::size_t v = 0; v < s.extra.size(); ++v)
    impl_->append(s.extra[v], values.subspan((v + 1) * n, n));
  impl_->append(s.time, std::span<const double>(&time_ms, 1));
  if (s.write_through) {
    impl_->drain(s.data, true);
    for (auto& x : s.extra) impl_->drain(x, true);
    impl_->drain(s.time, true);
  }
}

void SonataWriter::append_modulator_sample(std::size_t modulator, double time_ms, double value) {
  impl_->require_open("append_modulator_sample()");
  if (modulator >= impl_->modulators.size())
    internal_error("no neuromodulator record " + std::to_string(modulator));
  auto& m = impl_->modulators[modulator];
  impl_->append(m.data, std::span<const double>(&value, 1));
  impl_->append(m.time, std::span<const double>(&time_ms, 1));
}

void SonataWriter::write_edges(std::size_t edges, std::span<const std::uint64_t> source,
                               std::span<const std::uint64_t> target,
                               std::span<const float> delay_ms, std::span<const float> weight) {
  write_edges(edges, 0, source, target, delay_ms, weight);
}

void SonataWriter::write_edges(std::size_t edges, std::uint64_t first,
                               std::span<const std::uint64_t> source,
                               std::span<const std::uint64_t> target,
                               std::span<const float> delay_ms, std::span<const float> weight) {
  impl_->require_open("write_edges()");
  if (edges >= impl_->edges.size()) internal_error("no edges population " + std::to_string(edges));
  if (impl_->broken) return;
  auto& e = impl_->edges[edges];
  const hsize_t n = source.size();
  if (target.size() != n || delay_ms.size() != n || weight.size() != n || first + n > e.count ||
      first != e.rows_written) {
    internal_error(fmt::format(
        "edges {}: edges [{}, {}) of {} (written so far {}), with {} targets, {} delays, {} "
        "weights",
        edges, first, first + n, e.count, e.rows_written, target.size(), delay_ms.size(),
        weight.size()));
  }
  if (n == 0) {
    e.written = e.rows_written == e.count;
    if (e.written) impl_->write_indices(e, edges);
    return;
  }
  const std::string what = "edges " + std::to_string(edges);
  impl_->write_slice(e.source, H5T_NATIVE_UINT64, first, n, source.data(), what);
  impl_->write_slice(e.target, H5T_NATIVE_UINT64, first, n, target.data(), what);
  impl_->write_slice(e.weight, H5T_NATIVE_FLOAT, first, n, weight.data(), what);
  impl_->write_slice(e.delay, H5T_NATIVE_FLOAT, first, n, delay_ms.data(), what);
  if (e.by_source) e.by_source->count(first, source);
  if (e.by_target) e.by_target->count(first, target);
  e.rows_written += n;
  e.written = e.rows_written == e.count;
  if (e.written) impl_->write_indices(e, edges);
}

void SonataWriter::rewrite_edge_weights(std::size_t edges, std::uint64_t first,
                                        std::span<const float> weight) {
  impl_->require_open("rewrite_edge_weights()");
  if (edges >= impl_->edges.size()) internal_error("no edges population " + std::to_string(edges));
  if (impl_->broken) return;
  const auto& e = impl_->edges[edges];
  const hsize_t n = weight.size();
  if (!e.rewritable || !e.written || first + n > e.count) {
    internal_error(
        fmt::format("edges {}: weights [{}, {}) rewritten, of {} edges ({} written, {}rewritable)",
                    edges, first, first + n, e.count, e.rows_written, e.rewritable ? "" : "not "));
  }
  if (n == 0) return;
  impl_->write_slice(e.weight, H5T_NATIVE_FLOAT, first, n, weight.data(),
                     "the weights of edges " + std::to_string(edges));
}

namespace {

// Every synapse of `connectivity` in canonical order, a million at a time:
// 24 MB of buffers whatever the size of the projection. block(first, source,
// target, delay_ms, weight) gets each block; without a grid only the weights
// are filled.
template <class Block>
void edge_blocks(const Connectivity& connectivity, const TimeGrid* grid, Block&& block) {
  std::vector<std::uint64_t> src, tgt;
  std::vector<float> delay, weight;
  std::uint64_t first = 0;
  auto flush = [&] {
    block(first, src, tgt, delay, weight);
    first += weight.size();
    src.clear();
    tgt.clear();
    delay.clear();
    weight.clear();
  };
  // In canonical order, a million edges at a time: 24 MB of buffers
  // whatever the size of the projection (kEdgeWriteBytes), allocated once.
  const std::size_t n = std::min(kEdgesPerWrite, connectivity.size());
  weight.reserve(n);
  if (grid != nullptr) {
    src.reserve(n);
    tgt.reserve(n);
    delay.reserve(n);
  }
  connectivity.for_each_canonical([&](const SynapseRecord& r) {
    if (grid != nullptr) {
      src.push_back(r.source);
      tgt.push_back(r.target);
      delay.push_back(static_cast<float>(grid->to_ms(r.delay)));
    }
    weight.push_back(r.weight);
    if (weight.size() == kEdgesPerWrite) flush();
  });
  flush();
}

}  // namespace

void write_edges(SonataWriter& writer, std::size_t edges, const Connectivity& connectivity,
                 const TimeGrid& grid) {
  edge_blocks(connectivity, &grid,
              [&](std::uint64_t first, auto& src, auto& tgt, auto& delay, auto& weight) {
                writer.write_edges(edges, first, src, tgt, delay, weight);
              });
}

void rewrite_edge_weights(SonataWriter& writer, std::size_t edges,
                          const Connectivity& connectivity) {
  edge_blocks(connectivity, nullptr, [&](std::uint64_t first, auto&, auto&, auto&, auto& weight) {
    writer.rewrite_edge_weights(edges, first, weight);
  });
}

void SonataWriter::append_row(std::size_t table, std::span<const double> row) {
  impl_->require_open("append_row()");
  if (table >= impl_->tables.size()) internal_error("no table " + std::to_string(table));
  auto& columns = impl_->tables[table].columns;
  if (row.size() != columns.size()) {
    internal_error(fmt::format("a row of {} values for table {} of {} columns", row.size(), table,
                               columns.size()));
  }
  for (std::size_t k = 0; k < columns.size(); ++k) impl_->append(columns[k], row.subspan(k, 1));
}

void SonataWriter::set_simulated_time(double time_ms) {
  impl_->simulated_ms = time_ms;
}

void SonataWriter::flush() {
  impl_->require_open("flush()");
  if (impl_->broken) return;  // the error was reported where it happened
  impl_->commit();
}

bool SonataWriter::failed() const {
  return impl_->broken;
}

void SonataWriter::finish(RunStatus status, const std::string& summary_json) {
  Impl& w = *impl_;
  w.require_open("finish()");
  w.finished = true;  // whatever happens below, the destructor must not write again
  const bool fits = summary_json.size() <= kMaxSummaryBytes;
  if (w.broken) {
    // A write failed earlier (and was reported): only say so, and close.
    try {
      w.write_status("failed");
      w.flush_file();
    } catch (...) {
    }
    return;
  }
  try {
    w.commit();
    if (fits) w.write_summary(summary_json);
    // The status goes last: "complete" means everything before it is there.
    w.flush_file();
    w.write_status(to_string(status));
    w.flush_file();
  } catch (...) {
    try {
      w.write_status("failed");
      w.flush_file();
    } catch (...) {
    }
    throw;
  }
  // Close every object, then the file, and report a failed close.
  w.spikes.clear();
  w.reports.clear();
  w.snapshots.clear();
  w.modulators.clear();
  w.edges.clear();
  w.tables.clear();
  w.status.reset();
  w.summary.reset();
  w.simulated.reset();
  if (w.file.close() < 0) w.fail(ExitCode::io, "cannot close the file");
  if (!fits) {
    throw Error(ExitCode::software,
                fmt::format("{}: the run summary ({} bytes) is longer than the {} bytes the file "
                            "can hold; it was not stored",
                            w.path, summary_json.size(), kMaxSummaryBytes));
  }
}

}  // namespace spikeline::io
