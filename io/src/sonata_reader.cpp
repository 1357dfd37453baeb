#include "spikeline/io/sonata_reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>

#include "hdf5_util.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/io/sonata_writer.hpp"

namespace spikeline::io {

using detail::Handle;

namespace {

// Read this many elements at a time when scanning a dataset.
constexpr hsize_t kBlock = hsize_t{1} << 20;

struct OpenFile {
  std::string path;
  Handle file;
  bool swmr = false;

  [[noreturn]] void bad(const std::string& what) const {
    throw DataError(fmt::format("{}: {}", path, what));
  }
};

OpenFile open_file(const std::string& path) {
  detail::silence_hdf5_errors();
  // HDF5 opens whatever it is given: a FIFO blocks the open until a writer
  // comes (inspect hung), a device is read without end. Regular files only.
  const auto type = detail::path_type(path);
  if (type == std::filesystem::file_type::not_found) {
    throw Error(ExitCode::no_input, fmt::format("{}: no such file", path));
  }
  if (type != std::filesystem::file_type::regular) {
    throw Error(ExitCode::no_input,
                fmt::format("{}: is {}, not an HDF5 file: only regular files are read", path,
                            detail::file_type_name(type)));
  }
  OpenFile f;
  f.path = path;
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) {
    const std::string reason = detail::hdf5_reason();
    // A file still marked as being written (by a live or a killed SWMR
    // writer) opens only in SWMR read mode.
    // A SWMR reader retries a metadata read whose checksum fails (it may
    // race the writer), 100 times with growing sleeps by default: on a
    // damaged file that is minutes of waiting (found by fuzzing). A few
    // attempts cover a live writer's races.
    Handle fapl = detail::plist_handle(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_metadata_read_attempts(fapl.get(), 4);
    id = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl.get());
    if (id < 0) {
      detail::hdf5_reason();
      if (detail::is_hdf5_file(path) == 0) f.bad("not an HDF5 file");
      // Readable but not openable: a damaged file (bad data), not a missing one.
      if (::access(path.c_str(), R_OK) == 0) f.bad("damaged HDF5 file, cannot open it: " + reason);
      throw Error(ExitCode::no_input, fmt::format("{}: cannot open: {}", path, reason));
    }
    f.swmr = true;
  }
  f.file = detail::file_handle(id);
  return f;
}

// Whether `path` (relative to `loc`, '/'-separated) names an existing object.
bool exists(hid_t loc, const std::string& path) {
  if (path.empty() || path == "/") return true;
  std::size_t from = path[0] == '/' ? 1 : 0;
  while (true) {
    const auto slash = path.find('/', from);
    const std::string prefix = path.substr(0, slash);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) {
      detail::hdf5_reason();
      return false;
    }
    if (slash == std::string::npos) return true;
    from = slash + 1;
  }
}

H5I_type_t object_type(hid_t loc, const std::string& path) {
  if (!exists(loc, path)) return H5I_BADID;
  Handle object{H5Oopen(loc, path.c_str(), H5P_DEFAULT), H5Oclose};
  if (!object.valid()) {
    detail::hdf5_reason();
    return H5I_BADID;
  }
  return H5Iget_type(object.get());
}

// Names of the groups directly under `group_path`, sorted.
std::vector<std::string> child_groups(const OpenFile& f, const std::string& group_path) {
  std::vector<std::string> names;
  if (object_type(f.file.get(), group_path) != H5I_GROUP) return names;
  Handle group = detail::group_handle(H5Gopen2(f.file.get(), group_path.c_str(), H5P_DEFAULT));
  H5G_info_t info;
  if (H5Gget_info(group.get(), &info) < 0) f.bad("cannot list " + group_path);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i,
                                            nullptr, 0, H5P_DEFAULT);
    if (size < 0) continue;
    std::string name(static_cast<std::size_t>(size) + 1, '\0');
    H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                       H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(size));
    if (object_type(group.get(), name) == H5I_GROUP) names.push_back(name);
  }
  detail::hdf5_reason();
  std::sort(names.begin(), names.end());
  return names;
}

Handle open_dataset(const OpenFile& f, const std::string& path) {
  const H5I_type_t type = object_type(f.file.get(), path);
  if (type == H5I_BADID) f.bad("dataset " + path + " is missing");
  if (type != H5I_DATASET) f.bad(path + " is not a dataset");
  return detail::dataset_handle(H5Dopen2(f.file.get(), path.c_str(), H5P_DEFAULT));
}

std::vector<hsize_t> dims(hid_t dataset) {
  Handle space = detail::space_handle(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> d(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
  return d;
}

hsize_t length_1d(const OpenFile& f, hid_t dataset, const std::string& path) {
  const auto d = dims(dataset);
  if (d.size() != 1) f.bad(fmt::format("{} has {} dimensions, expected 1", path, d.size()));
  return d[0];
}

H5T_class_t type_class(hid_t dataset) {
  Handle type = detail::type_handle(H5Dget_type(dataset));
  return H5Tget_class(type.get());
}

bool is_signed(hid_t dataset) {
  Handle type = detail::type_handle(H5Dget_type(dataset));
  return H5Tget_sign(type.get()) == H5T_SGN_2;
}

const char* class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "floating-point";
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    default:
      return "non-numeric";
  }
}

// Elements [start, start + count) of a 1-D dataset, converted to T.
template <class T>
std::vector<T> read_range(const OpenFile& f, hid_t dataset, hid_t mem_type, hsize_t start,
                          hsize_t count, const std::string& path) {
  std::vector<T> out(count);
  if (count == 0) return out;
  Handle file_space = detail::space_handle(H5Dget_space(dataset));
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  Handle memory_space = detail::space_handle(H5Screate_simple(1, &count, nullptr));
  if (H5Dread(dataset, mem_type, memory_space.get(), file_space.get(), H5P_DEFAULT, out.data()) <
      0) {
    throw IoError(ExitCode::io,
                  fmt::format("{}: cannot read {}: {}", f.path, path, detail::hdf5_reason()));
  }
  return out;
}

template <class T>
std::vector<T> read_all(const OpenFile& f, hid_t dataset, hid_t mem_type, const std::string& path) {
  return read_range<T>(f, dataset, mem_type, 0, length_1d(f, dataset, path), path);
}

std::optional<std::string> string_attribute(hid_t object, const char* name) {
  if (H5Aexists(object, name) <= 0) return std::nullopt;
  Handle attr = detail::attribute_handle(H5Aopen(object, name, H5P_DEFAULT));
  auto values = detail::read_strings(attr.get(), true);
  if (values.empty()) return std::nullopt;
  return values[0];
}

std::optional<std::string> string_dataset(const OpenFile& f, const std::string& path) {
  if (object_type(f.file.get(), path) != H5I_DATASET) return std::nullopt;
  Handle ds = open_dataset(f, path);
  auto values = detail::read_strings(ds.get(), false);
  if (values.empty()) return std::nullopt;
  return values[0];
}

template <class T>
std::optional<T> scalar_dataset(const OpenFile& f, const std::string& path, hid_t mem_type) {
  if (object_type(f.file.get(), path) != H5I_DATASET) return std::nullopt;
  Handle ds = open_dataset(f, path);
  Handle space = detail::space_handle(H5Dget_space(ds.get()));
  if (H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;
  T value{};
  if (H5Dread(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) < 0) {
    detail::hdf5_reason();
    return std::nullopt;
  }
  return value;
}

std::string node_population(const OpenFile& f, const std::string& path) {
  Handle ds = open_dataset(f, path);
  auto name = string_attribute(ds.get(), "node_population");
  if (!name) f.bad(path + " has no string attribute 'node_population'");
  return *name;
}

// ---- the metadata inspect holds a file to (problems: exit 65) ----

using Problems = std::vector<std::string>;

// One value of the class `want` at `path`, or a problem that says what is
// there instead. Returns whether it is fine.
bool check_scalar(const OpenFile& f, const std::string& path, H5T_class_t want, const char* what,
                  Problems& problems) {
  const H5I_type_t type = object_type(f.file.get(), path);
  if (type != H5I_DATASET) {
    problems.push_back(type == H5I_BADID ? fmt::format("dataset {} is missing", path)
                                         : fmt::format("{} is not a dataset", path));
    return false;
  }
  Handle ds = open_dataset(f, path);
  const H5T_class_t c = type_class(ds.get());
  if (c != want) {
    problems.push_back(fmt::format("{} holds {} values, expected {}", path, class_name(c), what));
    return false;
  }
  Handle space = detail::space_handle(H5Dget_space(ds.get()));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n != 1) {
    problems.push_back(fmt::format("{} holds {} values, expected one", path, n));
    return false;
  }
  return true;
}

// /provenance, as every spikeline output file has it (a SONATA file from
// another tool has no /provenance and is not held to this).
void check_provenance(const OpenFile& f, const FileSummary& s, Problems& problems) {
  for (const char* name : {"status", "version", "command_line", "config", "run_id", "summary"}) {
    check_scalar(f, fmt::format("/provenance/{}", name), H5T_STRING, "a string", problems);
  }
  const bool seed = check_scalar(f, "/provenance/seed", H5T_INTEGER, "an integer", problems);
  const bool threads = check_scalar(f, "/provenance/threads", H5T_INTEGER, "an integer", problems);
  const bool dt = check_scalar(f, "/provenance/dt_ms", H5T_FLOAT, "a number (ms)", problems);
  const bool simulated =
      check_scalar(f, "/provenance/simulated_ms", H5T_FLOAT, "a number (ms)", problems);
  if (seed && !s.seed) problems.emplace_back("/provenance/seed cannot be read as an integer >= 0");
  if (threads && !(s.threads.value_or(0) >= 1)) {
    problems.push_back(
        fmt::format("/provenance/threads is {}: valid is 1 to 1024", s.threads.value_or(0)));
  }
  if (dt && !(s.dt_ms.value_or(0) > 0 && std::isfinite(*s.dt_ms))) {
    problems.push_back(
        fmt::format("/provenance/dt_ms is {}: it must be finite and > 0", s.dt_ms.value_or(NAN)));
  }
  if (simulated && !(s.simulated_ms.value_or(-1) >= 0 && std::isfinite(*s.simulated_ms))) {
    problems.push_back(fmt::format("/provenance/simulated_ms is {}: it must be finite and >= 0",
                                   s.simulated_ms.value_or(NAN)));
  }
  const std::vector<std::string> statuses = {"running", "complete", "interrupted", "failed"};
  if (object_type(f.file.get(), "/provenance/status") == H5I_DATASET &&
      std::find(statuses.begin(), statuses.end(), s.status) == statuses.end()) {
    problems.push_back(fmt::format("/provenance/status is '{}': valid are {}", escaped(s.status),
                                   fmt::join(statuses, ", ")));
  }
}

// The attribute `name` of `object` when it holds one value of an integer
// class; otherwise nothing, and a problem when it is there but not that.
std::optional<std::uint64_t> integer_attribute(hid_t object, const char* name,
                                               const std::string& where, Problems& problems) {
  if (H5Aexists(object, name) <= 0) return std::nullopt;
  Handle attr = detail::attribute_handle(H5Aopen(object, name, H5P_DEFAULT));
  Handle type = detail::type_handle(H5Aget_type(attr.get()));
  Handle space = detail::space_handle(H5Aget_space(attr.get()));
  const H5T_class_t c = H5Tget_class(type.get());
  std::uint64_t value = 0;
  if (c != H5T_INTEGER || H5Sget_simple_extent_npoints(space.get()) != 1 ||
      H5Aread(attr.get(), H5T_NATIVE_UINT64, &value) < 0) {
    detail::hdf5_reason();
    problems.push_back(fmt::format("{}: attribute {} holds {} ({} values), expected one integer",
                                   where, name, class_name(c),
                                   H5Sget_simple_extent_npoints(space.get())));
    return std::nullopt;
  }
  return value;
}

// A spikes group's `sorting` attribute (SONATA: an enum none = 0,
// by_id = 1, by_time = 2; a string or a plain integer of those is taken
// too): its name, or "" with a problem when it holds anything else.
std::string sorting_of(hid_t group, const std::string& where, Problems& problems) {
  static const std::array<std::string, 3> kNames = {"none", "by_id", "by_time"};
  Handle attr = detail::attribute_handle(H5Aopen(group, "sorting", H5P_DEFAULT));
  Handle type = detail::type_handle(H5Aget_type(attr.get()));
  Handle space = detail::space_handle(H5Aget_space(attr.get()));
  const H5T_class_t c = H5Tget_class(type.get());
  const std::string valid = "valid are none (0), by_id (1), by_time (2)";
  if (H5Sget_simple_extent_npoints(space.get()) != 1) {
    problems.push_back(fmt::format("{}: attribute sorting holds {} values, expected one", where,
                                   H5Sget_simple_extent_npoints(space.get())));
    return "";
  }
  std::string name;
  if (c == H5T_STRING) {
    const auto values = detail::read_strings(attr.get(), true);
    name = values.empty() ? std::string{} : values[0];
  } else if (c == H5T_ENUM) {
    Handle native = detail::type_handle(H5Tget_native_type(type.get(), H5T_DIR_DEFAULT));
    std::vector<unsigned char> raw(std::max<std::size_t>(H5Tget_size(native.get()), 1));
    char text[64] = {};
    if (H5Aread(attr.get(), native.get(), raw.data()) < 0 ||
        H5Tenum_nameof(native.get(), raw.data(), text, sizeof text) < 0) {
      detail::hdf5_reason();
      problems.push_back(
          fmt::format("{}: attribute sorting holds a value that is none of its enum's names; {}",
                      where, valid));
      return "";
    }
    name = text;
  } else if (c == H5T_INTEGER) {
    std::int64_t v = -1;
    if (H5Aread(attr.get(), H5T_NATIVE_INT64, &v) < 0) detail::hdf5_reason();
    if (v < 0 || v > 2) {
      problems.push_back(fmt::format("{}: attribute sorting is {}: {}", where, v, valid));
      return "";
    }
    name = kNames[static_cast<std::size_t>(v)];
  } else {
    problems.push_back(
        fmt::format("{}: attribute sorting holds {} values: {}", where, class_name(c), valid));
    return "";
  }
  if (std::find(kNames.begin(), kNames.end(), name) == kNames.end()) {
    problems.push_back(
        fmt::format("{}: attribute sorting is '{}': {}", where, escaped(name), valid));
    return "";
  }
  return name;
}

}  // namespace

std::vector<std::string> list_edge_populations(const std::string& path) {
  const OpenFile f = open_file(path);
  return child_groups(f, "/edges");
}

namespace {

// A run of consecutive positions [start, start + count) of a 1-D dataset.
struct Run {
  std::uint64_t start, count;
};

// Runs closer than this many elements are read as one span, the gap read
// and dropped: a read costs more than a few KiB of data. (Unions of 1,024
// hyperslabs per read took 36 s to read a quarter of the targets of 4
// million edges in source order; spans, 0.9 s.) A span is at most
// kMaxSpan elements.
constexpr std::uint64_t kGap = 4096;
constexpr std::uint64_t kMaxSpan = std::uint64_t{1} << 20;

// The elements of the runs (ascending and disjoint) of a 1-D dataset,
// converted to T, in order: runs near each other read as one span.
template <class T>
std::vector<T> read_runs(const OpenFile& f, hid_t dataset, hid_t mem_type,
                         const std::vector<Run>& runs, const std::string& path) {
  if (runs.size() == 1) {
    return read_range<T>(f, dataset, mem_type, runs[0].start, runs[0].count, path);
  }
  std::vector<T> out;
  for (std::size_t a = 0; a < runs.size();) {
    // Runs [a, b) lie in the span [lo, hi).
    const std::uint64_t lo = runs[a].start;
    std::uint64_t hi = lo + runs[a].count;
    std::size_t b = a + 1;
    while (b < runs.size() && runs[b].start - hi <= kGap &&
           runs[b].start + runs[b].count - lo <= kMaxSpan) {
      hi = runs[b].start + runs[b].count;
      ++b;
    }
    const auto span = read_range<T>(f, dataset, mem_type, lo, hi - lo, path);
    for (; a < b; ++a) {
      const auto from = span.begin() + static_cast<std::ptrdiff_t>(runs[a].start - lo);
      out.insert(out.end(), from, from + static_cast<std::ptrdiff_t>(runs[a].count));
    }
  }
  return out;
}

// An integer dataset of ids (node, group or row ids), opened and checked.
struct IdColumn {
  Handle dataset;
  std::string path;
  bool is_signed = false;
  std::uint64_t length = 0;
};

IdColumn open_ids(const OpenFile& f, const std::string& path) {
  IdColumn c{open_dataset(f, path), path};
  const H5T_class_t k = type_class(c.dataset.get());
  if (k != H5T_INTEGER) {
    f.bad(fmt::format("{} holds {} values; node and group ids must be integers", path,
                      class_name(k)));
  }
  c.is_signed = is_signed(c.dataset.get());
  c.length = length_1d(f, c.dataset.get(), path);
  return c;
}

// The ids at the runs' positions (ids[k] the position of value k, for
// messages), none negative.
std::vector<std::uint64_t> ids_at(const OpenFile& f, const IdColumn& c,
                                  const std::vector<Run>& runs,
                                  const std::vector<std::uint64_t>& ids) {
  if (!c.is_signed) {
    return read_runs<std::uint64_t>(f, c.dataset.get(), H5T_NATIVE_UINT64, runs, c.path);
  }
  const auto values = read_runs<std::int64_t>(f, c.dataset.get(), H5T_NATIVE_INT64, runs, c.path);
  std::vector<std::uint64_t> out(values.size());
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (values[k] < 0)
      f.bad(fmt::format("{}[{}] is {}: ids must be >= 0", c.path, ids[k], values[k]));
    out[k] = static_cast<std::uint64_t>(values[k]);
  }
  return out;
}

// A dataset of numbers (weights, delays).
Handle open_numbers(const OpenFile& f, const std::string& path, std::uint64_t& length) {
  Handle ds = open_dataset(f, path);
  const H5T_class_t c = type_class(ds.get());
  if (c != H5T_FLOAT && c != H5T_INTEGER) {
    f.bad(fmt::format("{} holds {} values, expected numbers", path, class_name(c)));
  }
  length = length_1d(f, ds.get(), path);
  return ds;
}

// An index dataset of (n, 2) integers, whose rows [row, row + count) are
// read as pairs (begin, end).
struct PairColumn {
  Handle dataset;
  std::string path;
  bool is_signed = false;
  std::uint64_t rows = 0;
};

PairColumn open_pairs(const OpenFile& f, const std::string& path) {
  PairColumn c{open_dataset(f, path), path};
  const auto d = dims(c.dataset.get());
  const H5T_class_t k = type_class(c.dataset.get());
  if (d.size() != 2 || d[1] != 2 || k != H5T_INTEGER) {
    f.bad(fmt::format("{} holds {} values of {} dimensions{}: a SONATA index is (n, 2) integers",
                      path, class_name(k), d.size(),
                      d.size() == 2 ? fmt::format(" ({} x {})", d[0], d[1]) : std::string{}));
  }
  c.is_signed = is_signed(c.dataset.get());
  c.rows = d[0];
  return c;
}

std::vector<std::uint64_t> read_pairs(const OpenFile& f, const PairColumn& c, std::uint64_t row,
                                      std::uint64_t count) {
  if (count == 0) return {};
  std::vector<std::int64_t> values(2 * count);
  Handle file_space = detail::space_handle(H5Dget_space(c.dataset.get()));
  const hsize_t start[2] = {row, 0}, n[2] = {count, 2};
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, n, nullptr);
  Handle memory_space = detail::space_handle(H5Screate_simple(2, n, nullptr));
  // Read as unsigned or signed 64-bit integers into the same bytes.
  if (H5Dread(c.dataset.get(), c.is_signed ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64,
              memory_space.get(), file_space.get(), H5P_DEFAULT, values.data()) < 0) {
    throw IoError(ExitCode::io,
                  fmt::format("{}: cannot read {}: {}", f.path, c.path, detail::hdf5_reason()));
  }
  std::vector<std::uint64_t> out(values.size());
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (c.is_signed && values[k] < 0) {
      f.bad(fmt::format("{}[{}] is [{}, {}]: a range's ends must be >= 0", c.path, row + k / 2,
                        values[k - k % 2], values[k - k % 2 + 1]));
    }
    out[k] = static_cast<std::uint64_t>(values[k]);
  }
  return out;
}

// A run of edges with the node the index lists them for.
struct Piece {
  std::uint64_t begin, end, node;
};

}  // namespace

struct EdgesFile::Impl {
  OpenFile f;
  std::string base;  // /edges/<population>
  std::string source_population, target_population;
  IdColumn source, target;
  std::uint64_t n = 0;
  bool grouped = false;
  IdColumn group_id, group_index;
  struct Group {
    Handle weight, delay;
    std::uint64_t rows = 0;
  };
  std::map<std::uint64_t, Group> groups;  // opened when an edge first names them
  bool indexed = false;
  PairColumn node_to_ranges, range_to_edges;
  std::uint64_t block = 0;
  std::uint64_t edges_read = 0;

  const Group& group(std::uint64_t g, std::uint64_t edge);
  void check_index(const std::string& index);
  template <typename Visit>
  void walk(std::uint64_t first, std::uint64_t last, Visit&& visit) const;
  std::vector<Piece> listed(std::uint64_t first, std::uint64_t last) const;
  bool read_whole(const Sink& sink);
  template <typename Visit>
  void in_blocks(Visit&& visit);
  [[noreturn]] void misplaced(std::uint64_t edge, std::uint64_t node, std::uint64_t target) const {
    f.bad(fmt::format("{} lists edge {} for node {}, but {}/target_node_id[{}] is {}",
                      range_to_edges.path, edge, node, base, edge, target));
  }
  void scan(std::uint64_t first, std::uint64_t last, const Sink& sink);
  void emit(const std::vector<Run>& runs, std::vector<std::uint64_t> ids,
            std::vector<std::uint64_t> targets, const Sink& sink);
  void read_grouped(const std::vector<Run>& runs, const std::vector<std::uint64_t>& ids,
                    EdgesBlock& b);
};

// Group g of the edge attributes, opened and checked when edge `edge` first
// names it.
const EdgesFile::Impl::Group& EdgesFile::Impl::group(std::uint64_t g, std::uint64_t edge) {
  auto it = groups.find(g);
  if (it != groups.end()) return it->second;
  const std::string path = fmt::format("{}/{}", base, g);
  if (object_type(f.file.get(), path) != H5I_GROUP) {
    f.bad(fmt::format("edge {} is in group {}, but there is no group {}", edge, g, path));
  }
  Group out;
  std::uint64_t delays = 0;
  out.weight = open_numbers(f, path + "/syn_weight", out.rows);
  out.delay = open_numbers(f, path + "/delay", delays);
  if (out.rows != delays) {
    f.bad(fmt::format("{}/syn_weight has {} entries but {}/delay has {}", path, out.rows, path,
                      delays));
  }
  if (!grouped && out.rows != n) {
    f.bad(fmt::format("{}/syn_weight has {} entries but there are {} edges", path, out.rows, n));
  }
  return groups.emplace(g, std::move(out)).first->second;
}

void EdgesFile::Impl::check_index(const std::string& index) {
  const std::string plural = index + "/node_id_to_ranges";
  const std::string node_path = exists(f.file.get(), plural) ? plural : index + "/node_id_to_range";
  node_to_ranges = open_pairs(f, node_path);
  range_to_edges = open_pairs(f, index + "/range_to_edge_id");
  indexed = true;
}

// Calls visit(piece) for each run of edges the index lists for the nodes
// [first, last), in node order; a node past the index's rows has none.
template <typename Visit>
void EdgesFile::Impl::walk(std::uint64_t first, std::uint64_t last, Visit&& visit) const {
  const std::uint64_t end = std::min(last, node_to_ranges.rows);
  for (std::uint64_t a = first; a < end; a += block) {
    const std::uint64_t count = std::min(block, end - a);
    const auto nodes = read_pairs(f, node_to_ranges, a, count);
    // Rows of range_to_edge_id are read a window of consecutive rows at a
    // time (consecutive nodes' ranges are usually adjacent).
    std::uint64_t window = 0, window_end = 0;
    std::vector<std::uint64_t> edges;
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::uint64_t node = a + i, r0 = nodes[2 * i], r1 = nodes[2 * i + 1];
      if (r0 > r1 || r1 > range_to_edges.rows) {
        f.bad(fmt::format("{}[{}] is [{}, {}]: valid are 0 <= begin <= end <= {} (the rows of {})",
                          node_to_ranges.path, node, r0, r1, range_to_edges.rows,
                          range_to_edges.path));
      }
      for (std::uint64_t r = r0; r < r1; ++r) {
        if (r < window || r >= window_end) {
          window = r;
          window_end = std::min(r + block, range_to_edges.rows);
          edges = read_pairs(f, range_to_edges, window, window_end - window);
        }
        const std::uint64_t e0 = edges[2 * (r - window)], e1 = edges[2 * (r - window) + 1];
        if (e0 > e1 || e1 > n) {
          f.bad(fmt::format("{}[{}] is [{}, {}]: valid are 0 <= begin <= end <= {} (the edges)",
                            range_to_edges.path, r, e0, e1, n));
        }
        if (e0 < e1) visit(Piece{e0, e1, node});
      }
    }
  }
}

// The runs of edges the index lists for the nodes [first, last), sorted by
// edge id (file order).
std::vector<Piece> EdgesFile::Impl::listed(std::uint64_t first, std::uint64_t last) const {
  std::vector<Piece> pieces;
  walk(first, last, [&](const Piece& p) { pieces.push_back(p); });
  std::sort(pieces.begin(), pieces.end(),
            [](const Piece& x, const Piece& y) { return x.begin < y.begin; });
  for (std::size_t k = 1; k < pieces.size(); ++k) {
    if (pieces[k].begin < pieces[k - 1].end) {
      f.bad(
          fmt::format("{} lists edges [{}, {}) for node {} and [{}, {}) for node {}: an edge is "
                      "listed once",
                      range_to_edges.path, pieces[k - 1].begin, pieces[k - 1].end,
                      pieces[k - 1].node, pieces[k].begin, pieces[k].end, pieces[k].node));
    }
  }
  return pieces;
}

// Every node the index lists, read by one reader (one process): when the
// index lists each edge exactly once, that is every edge, read in file
// order a block at a time as the scan does. The index's runs of a file
// sorted by source are single edges in node order; sorting 4 million of
// them to file order (listed()) cost a one-process build more than reading
// through them (2.3 s against 1.7 s before the index was used). Each
// edge's node goes in an array instead (4 bytes per edge, against the 24
// of a run), filled in one pass over the index. An index that lists an
// edge twice or leaves one out returns false: listed() then reads exactly
// the listed edges, or says what is wrong, as any number of ranks would.
bool EdgesFile::Impl::read_whole(const Sink& sink) {
  constexpr std::uint32_t kUnlisted = std::numeric_limits<std::uint32_t>::max();
  if (node_to_ranges.rows >= kUnlisted) return false;
  std::vector<std::uint32_t> node_of(n, kUnlisted);
  std::uint64_t listed_edges = 0;
  bool once = true;
  walk(0, node_to_ranges.rows, [&](const Piece& p) {
    if (!once) return;
    for (std::uint64_t e = p.begin; e < p.end; ++e) {
      if (node_of[e] != kUnlisted) {
        once = false;
        return;
      }
      node_of[e] = static_cast<std::uint32_t>(p.node);
    }
    listed_edges += p.end - p.begin;
  });
  if (!once || listed_edges != n) return false;
  in_blocks(
      [&](const Run& run, std::vector<std::uint64_t> ids, std::vector<std::uint64_t> targets) {
        for (std::uint64_t k = 0; k < run.count; ++k) {
          const std::uint64_t e = run.start + k;
          if (targets[k] != node_of[e]) misplaced(e, node_of[e], targets[k]);
        }
        emit({run}, std::move(ids), std::move(targets), sink);
      });
  return true;
}

// Calls f(run, ids, targets) for each block of edges in file order, with
// their target ids read.
template <typename Visit>
void EdgesFile::Impl::in_blocks(Visit&& visit) {
  for (std::uint64_t a = 0; a < n; a += block) {
    const std::uint64_t count = std::min(block, n - a);
    std::vector<std::uint64_t> ids(count);
    std::iota(ids.begin(), ids.end(), a);
    const Run run{a, count};
    auto targets = ids_at(f, target, {run}, ids);
    edges_read += count;
    visit(run, std::move(ids), std::move(targets));
  }
}

// Without the index: target_node_id a block at a time, and the rest of the
// edges onto [first, last).
void EdgesFile::Impl::scan(std::uint64_t first, std::uint64_t last, const Sink& sink) {
  in_blocks([&](const Run& all, std::vector<std::uint64_t>, std::vector<std::uint64_t> targets) {
    const std::uint64_t a = all.start;
    std::vector<Run> runs;
    std::vector<std::uint64_t> kept_ids, kept_targets;
    for (std::uint64_t k = 0; k < all.count; ++k) {
      if (targets[k] < first || targets[k] >= last) continue;
      if (!runs.empty() && runs.back().start + runs.back().count == a + k) {
        ++runs.back().count;
      } else {
        runs.push_back({a + k, 1});
      }
      kept_ids.push_back(a + k);
      kept_targets.push_back(targets[k]);
    }
    if (!runs.empty()) emit(runs, std::move(kept_ids), std::move(kept_targets), sink);
  });
}

// The edges at the runs' positions (ids, with their targets read), with
// their sources, weights and delays.
void EdgesFile::Impl::emit(const std::vector<Run>& runs, std::vector<std::uint64_t> ids,
                           std::vector<std::uint64_t> targets, const Sink& sink) {
  EdgesBlock b;
  b.source = ids_at(f, source, runs, ids);
  const std::size_t count = ids.size();
  if (!grouped) {
    // Group "0", edge by edge: the rows are the edges' runs.
    const Group& grp = group(0, ids[0]);
    b.weight =
        read_runs<float>(f, grp.weight.get(), H5T_NATIVE_FLOAT, runs, base + "/0/syn_weight");
    b.delay_ms = read_runs<float>(f, grp.delay.get(), H5T_NATIVE_FLOAT, runs, base + "/0/delay");
  } else {
    read_grouped(runs, ids, b);
  }
  for (std::size_t k = 0; k < count; ++k) {
    if (!std::isfinite(b.weight[k])) {
      f.bad(fmt::format("{}: the weight of edge {} is {}: weights must be finite", base, ids[k],
                        b.weight[k]));
    }
    if (!(b.delay_ms[k] >= 0) || !std::isfinite(b.delay_ms[k])) {
      f.bad(fmt::format("{}: the delay of edge {} is {} ms: delays must be finite and >= 0", base,
                        ids[k], b.delay_ms[k]));
    }
  }
  b.id = std::move(ids);
  b.target = std::move(targets);
  sink(b);
}

// The weights and delays of the edges at the runs' positions from the
// groups that edge_group_id and edge_group_index point them to.
void EdgesFile::Impl::read_grouped(const std::vector<Run>& runs,
                                   const std::vector<std::uint64_t>& ids, EdgesBlock& b) {
  const std::size_t count = ids.size();
  const auto group_of = ids_at(f, group_id, runs, ids);
  const auto row_of = ids_at(f, group_index, runs, ids);
  b.weight.resize(count);
  b.delay_ms.resize(count);
  // Each group's rows are read as runs of consecutive rows, in row order.
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return group_of[x] != group_of[y] ? group_of[x] < group_of[y] : row_of[x] < row_of[y];
  });
  std::vector<std::size_t> slot(count);  // each edge's value among its group's rows read
  for (std::size_t at = 0; at < count;) {
    const std::uint64_t g = group_of[order[at]];
    const Group& grp = group(g, ids[order[at]]);
    std::vector<Run> rows;
    std::size_t values = 0, stop = at;
    for (; stop < count && group_of[order[stop]] == g; ++stop) {
      const std::size_t k = order[stop];
      const std::uint64_t row = row_of[k];
      if (row >= grp.rows) {
        f.bad(fmt::format("{}/edge_group_index[{}] is {}, but group {} has {} rows", base, ids[k],
                          row, g, grp.rows));
      }
      if (rows.empty() || row >= rows.back().start + rows.back().count) {
        if (!rows.empty() && row == rows.back().start + rows.back().count) {
          ++rows.back().count;
        } else {
          rows.push_back({row, 1});
        }
        ++values;
      }
      slot[k] = values - 1;
    }
    const std::string path = fmt::format("{}/{}", base, g);
    const auto weights =
        read_runs<float>(f, grp.weight.get(), H5T_NATIVE_FLOAT, rows, path + "/syn_weight");
    const auto delays =
        read_runs<float>(f, grp.delay.get(), H5T_NATIVE_FLOAT, rows, path + "/delay");
    for (std::size_t i = at; i < stop; ++i) {
      const std::size_t k = order[i];
      b.weight[k] = weights[slot[k]];
      b.delay_ms[k] = delays[slot[k]];
    }
    at = stop;
  }
}

EdgesFile::EdgesFile(const std::string& path, const std::string& edge_population,
                     std::uint64_t block)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.f = open_file(path);
  m.block = std::max<std::uint64_t>(block, 1);
  const OpenFile& f = m.f;
  if (object_type(f.file.get(), "/edges") != H5I_GROUP) {
    f.bad("no /edges group: not a SONATA edges file");
  }
  const auto names = child_groups(f, "/edges");
  if (std::find(names.begin(), names.end(), edge_population) == names.end()) {
    f.bad(fmt::format(
        "no edge population '{}' under /edges{}; the file has: {}", edge_population,
        did_you_mean(edge_population, names),
        names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
  }
  // A run writes its final edges when it ends; in a file whose run was
  // killed they were never written (the datasets exist, full of zeros).
  if (string_dataset(f, "/provenance/status").value_or("") == "running") {
    f.bad(
        fmt::format("/edges/{} was never written: the run that made this file did not finish "
                    "(/provenance/status is 'running': killed, or still going)",
                    edge_population));
  }
  m.base = "/edges/" + edge_population;
  const std::string& base = m.base;
  m.source_population = node_population(f, base + "/source_node_id");
  m.target_population = node_population(f, base + "/target_node_id");
  m.source = open_ids(f, base + "/source_node_id");
  m.target = open_ids(f, base + "/target_node_id");
  m.n = m.source.length;
  if (m.target.length != m.n) {
    f.bad(fmt::format("{}/source_node_id has {} edges but {}/target_node_id has {}", base, m.n,
                      base, m.target.length));
  }
  // Edge attributes live in groups: edge i is row edge_group_index[i] of the
  // datasets in group edge_group_id[i]. Without those, group "0" is per edge.
  m.grouped = exists(f.file.get(), base + "/edge_group_id") &&
              exists(f.file.get(), base + "/edge_group_index");
  if (m.grouped) {
    m.group_id = open_ids(f, base + "/edge_group_id");
    m.group_index = open_ids(f, base + "/edge_group_index");
    for (const auto* c : {&m.group_id, &m.group_index}) {
      if (c->length != m.n) {
        f.bad(fmt::format("{} has {} entries but there are {} edges", c->path, c->length, m.n));
      }
    }
  } else if (m.n > 0) {
    m.group(0, 0);
  }
  const std::string index = base + "/indices/target_to_source";
  if (object_type(f.file.get(), index) == H5I_GROUP) m.check_index(index);
}

EdgesFile::EdgesFile(EdgesFile&&) noexcept = default;
EdgesFile& EdgesFile::operator=(EdgesFile&&) noexcept = default;
EdgesFile::~EdgesFile() = default;

const std::string& EdgesFile::path() const {
  return impl_->f.path;
}
const std::string& EdgesFile::source_population() const {
  return impl_->source_population;
}
const std::string& EdgesFile::target_population() const {
  return impl_->target_population;
}
std::uint64_t EdgesFile::size() const {
  return impl_->n;
}
bool EdgesFile::indexed() const {
  return impl_->indexed;
}
std::uint64_t EdgesFile::edges_read() const {
  return impl_->edges_read;
}

void EdgesFile::read_all(const Sink& sink) const {
  impl_->scan(0, std::numeric_limits<std::uint64_t>::max(), sink);
}

void EdgesFile::read(std::uint64_t first, std::uint64_t last, const Sink& sink) const {
  Impl& m = *impl_;
  if (first >= last) return;
  if (!m.indexed) {
    m.scan(first, last, sink);
    return;
  }
  if (first == 0 && last >= m.node_to_ranges.rows && m.read_whole(sink)) return;
  const auto pieces = m.listed(first, last);
  // Blocks of at most `block` edges; a long run is split.
  std::vector<Run> runs;
  std::vector<std::uint64_t> ids, nodes;
  const auto flush = [&] {
    if (ids.empty()) return;
    auto targets = ids_at(m.f, m.target, runs, ids);
    m.edges_read += ids.size();
    for (std::size_t k = 0; k < ids.size(); ++k) {
      if (targets[k] != nodes[k]) m.misplaced(ids[k], nodes[k], targets[k]);
    }
    m.emit(runs, std::move(ids), std::move(targets), sink);
    runs.clear();
    ids.clear();
    nodes.clear();
  };
  for (const auto& p : pieces) {
    for (std::uint64_t at = p.begin; at < p.end;) {
      const std::uint64_t take = std::min(p.end - at, m.block - ids.size());
      runs.push_back({at, take});
      for (std::uint64_t e = at; e < at + take; ++e) {
        ids.push_back(e);
        nodes.push_back(p.node);
      }
      at += take;
      if (ids.size() == m.block) flush();
    }
  }
  flush();
}

EdgesData read_edges(const std::string& path, const std::string& edge_population) {
  const EdgesFile file(path, edge_population);
  EdgesData e;
  e.source_population = file.source_population();
  e.target_population = file.target_population();
  file.read_all([&](const EdgesBlock& b) {
    e.source.insert(e.source.end(), b.source.begin(), b.source.end());
    e.target.insert(e.target.end(), b.target.begin(), b.target.end());
    e.weight.insert(e.weight.end(), b.weight.begin(), b.weight.end());
    e.delay_ms.insert(e.delay_ms.end(), b.delay_ms.begin(), b.delay_ms.end());
  });
  return e;
}

namespace {

// The parts of inspect(), one per top-level group of the file; each adds
// its summaries, and what is wrong to s.problems (or, where a file still
// being written may differ from a closed one, to s.notes).

// /spikes/<population>: counts, time range, node ids against node_count,
// and the sorting the attribute claims.
void summarize_spikes(const OpenFile& f, bool ours, bool unclosed, FileSummary& s) {
  for (const auto& name : child_groups(f, "/spikes")) {
    const std::string base = "/spikes/" + name;
    SpikePopulationSummary p;
    p.name = name;
    if (!exists(f.file.get(), base + "/timestamps") || !exists(f.file.get(), base + "/node_ids")) {
      s.problems.push_back(base + " lacks timestamps or node_ids");
      s.spikes.push_back(p);
      continue;
    }
    Handle times = open_dataset(f, base + "/timestamps");
    Handle nodes = open_dataset(f, base + "/node_ids");
    const H5T_class_t time_class = type_class(times.get()), node_class = type_class(nodes.get());
    if ((time_class != H5T_FLOAT && time_class != H5T_INTEGER) || node_class != H5T_INTEGER) {
      s.problems.push_back(
          fmt::format("{}: timestamps hold {} values and node_ids {} values; expected numbers "
                      "and integers",
                      base, class_name(time_class), class_name(node_class)));
      s.spikes.push_back(p);
      continue;
    }
    const hsize_t n_times = length_1d(f, times.get(), base + "/timestamps");
    const hsize_t n_nodes = length_1d(f, nodes.get(), base + "/node_ids");
    if (n_times != n_nodes) {
      (unclosed ? s.notes : s.problems)
          .push_back(fmt::format("{}: {} timestamps but {} node ids; using the first {}", base,
                                 n_times, n_nodes, std::min(n_times, n_nodes)));
    }
    Handle group = detail::group_handle(H5Gopen2(f.file.get(), base.c_str(), H5P_DEFAULT));
    std::string sorting;
    if (H5Aexists(group.get(), "sorting") > 0) {
      sorting = sorting_of(group.get(), base, s.problems);
    } else if (ours) {
      s.problems.push_back(base + " has no attribute sorting (none, by_id or by_time)");
    }
    const auto node_count = integer_attribute(group.get(), "node_count", base, s.problems);
    p.spikes = std::min(n_times, n_nodes);
    std::uint64_t max_node = 0;
    bool in_order = true;
    double previous = -INFINITY;
    for (hsize_t at = 0; at < p.spikes; at += kBlock) {
      const hsize_t count = std::min(kBlock, p.spikes - at);
      const auto t = read_range<double>(f, times.get(), H5T_NATIVE_DOUBLE, at, count, base);
      const auto ids =
          read_range<std::uint64_t>(f, nodes.get(), H5T_NATIVE_UINT64, at, count, base);
      const auto [lo, hi] = std::minmax_element(t.begin(), t.end());
      p.t_first_ms = std::min(*lo, p.t_first_ms.value_or(*lo));
      p.t_last_ms = std::max(*hi, p.t_last_ms.value_or(*hi));
      max_node = std::max(max_node, *std::max_element(ids.begin(), ids.end()));
      in_order = in_order && !(t.front() < previous) && std::is_sorted(t.begin(), t.end());
      previous = t.back();
    }
    if (sorting == "by_time" && !in_order) {
      s.problems.push_back(base +
                           "/timestamps are not in time order, but attribute sorting is by_time");
    }
    p.nodes = p.spikes > 0 ? max_node + 1 : 0;
    if (node_count) {
      if (p.spikes > 0 && max_node >= *node_count) {
        s.problems.push_back(
            fmt::format("{}/node_ids holds node {}, but attribute node_count is {}", base, max_node,
                        *node_count));
      }
      p.nodes = *node_count;
    }
    if (s.simulated_ms && *s.simulated_ms > 0 && p.nodes > 0) {
      p.mean_rate_hz =
          static_cast<double>(p.spikes) / static_cast<double>(p.nodes) / (*s.simulated_ms / 1000.0);
    }
    s.spikes.push_back(p);
  }
}

// The frame report /report/<population> (name "") or /reports/<name>/<population>.
void summarize_report(const OpenFile& f, const std::string& name, const std::string& population,
                      FileSummary& s) {
  const std::string base = report_path(name, population);
  ReportSummary r;
  r.name = name;
  r.population = population;
  if (object_type(f.file.get(), base + "/data") == H5I_DATASET) {
    Handle data = open_dataset(f, base + "/data");
    const auto d = dims(data.get());
    if (!d.empty()) r.frames = d[0];
    r.variables = [&] {
      if (H5Aexists(data.get(), "variables") <= 0) return std::vector<std::string>{};
      Handle attr = detail::attribute_handle(H5Aopen(data.get(), "variables", H5P_DEFAULT));
      return detail::read_strings(attr.get(), true);
    }();
  } else {
    s.problems.push_back(base + "/data is missing");
  }
  if (object_type(f.file.get(), base + "/mapping/node_ids") == H5I_DATASET) {
    Handle ids = open_dataset(f, base + "/mapping/node_ids");
    const auto d = dims(ids.get());
    if (!d.empty()) r.nodes = d[0];
  }
  if (object_type(f.file.get(), base + "/mapping/time") == H5I_DATASET) {
    Handle time = open_dataset(f, base + "/mapping/time");
    const auto t = read_all<double>(f, time.get(), H5T_NATIVE_DOUBLE, base + "/mapping/time");
    if (t.size() == 3) {
      r.start_ms = t[0];
      r.step_ms = t[2];
    } else {
      s.problems.push_back(
          fmt::format("{}/mapping/time holds {} values, expected 3 (start, "
                      "stop, step)",
                      base, t.size()));
    }
  }
  s.reports.push_back(r);
}

// /report/<population>: the unnamed frame reports; /reports/<name>/<population>:
// the named ones (each name a group laid out like /report).
void summarize_reports(const OpenFile& f, FileSummary& s) {
  for (const auto& population : child_groups(f, "/report")) {
    summarize_report(f, "", population, s);
  }
  for (const auto& name : child_groups(f, "/reports")) {
    for (const auto& population : child_groups(f, "/reports/" + name)) {
      summarize_report(f, name, population, s);
    }
  }
}

// /edges/<projection>: edge populations.
void summarize_edges(const OpenFile& f, FileSummary& s) {
  for (const auto& name : child_groups(f, "/edges")) {
    const std::string base = "/edges/" + name;
    EdgesSummary e;
    e.name = name;
    std::optional<hsize_t> lengths[2];
    std::string* populations[2] = {&e.source_population, &e.target_population};
    for (const int k : {0, 1}) {
      const std::string path = base + (k == 0 ? "/source_node_id" : "/target_node_id");
      if (object_type(f.file.get(), path) != H5I_DATASET) {
        s.problems.push_back(fmt::format("dataset {} is missing", path));
        continue;
      }
      Handle ids = open_dataset(f, path);
      const auto d = dims(ids.get());
      if (!d.empty()) lengths[k] = d[0];
      const auto population = string_attribute(ids.get(), "node_population");
      *populations[k] = population.value_or("?");
      if (!population) s.problems.push_back(path + " has no string attribute node_population");
    }
    e.count = lengths[0].value_or(0);
    if (lengths[0] && lengths[1] && *lengths[0] != *lengths[1]) {
      s.problems.push_back(fmt::format("{}: {} source_node_id but {} target_node_id", base,
                                       *lengths[0], *lengths[1]));
    }
    s.edges.push_back(e);
  }
  if (!s.edges.empty() && s.status == "running") {
    s.notes.emplace_back("/edges: not written (the final weights are written when a run ends)");
  }
}

// /weights/<name>: weight snapshots.
void summarize_weights(const OpenFile& f, FileSummary& s) {
  for (const auto& name : child_groups(f, "/weights")) {
    const std::string base = "/weights/" + name;
    WeightsSummary w;
    w.projection = name;
    if (object_type(f.file.get(), base + "/data") == H5I_DATASET) {
      Handle data = open_dataset(f, base + "/data");
      const auto d = dims(data.get());
      if (d.size() == 2) {
        w.snapshots = d[0];
        w.weights = d[1];
      }
    }
    s.weights.push_back(w);
  }
}

}  // namespace

FileSummary inspect(const std::string& path) {
  const OpenFile f = open_file(path);
  FileSummary s;
  s.path = path;
  s.opened_swmr = f.swmr;

  s.status = string_dataset(f, "/provenance/status").value_or("");
  s.version = string_dataset(f, "/provenance/version").value_or("");
  s.command_line = string_dataset(f, "/provenance/command_line").value_or("");
  s.seed = scalar_dataset<std::uint64_t>(f, "/provenance/seed", H5T_NATIVE_UINT64);
  s.threads = scalar_dataset<int>(f, "/provenance/threads", H5T_NATIVE_INT);
  s.dt_ms = scalar_dataset<double>(f, "/provenance/dt_ms", H5T_NATIVE_DOUBLE);
  s.simulated_ms = scalar_dataset<double>(f, "/provenance/simulated_ms", H5T_NATIVE_DOUBLE);
  // spikeline's own files carry /provenance and are held to its layout.
  const bool ours = object_type(f.file.get(), "/provenance") == H5I_GROUP;
  if (ours) check_provenance(f, s, s.problems);
  // A file not closed by its writer (a run going on, or killed) may hold
  // more of one dataset than of another beyond its last flush.
  const bool unclosed = f.swmr || s.status == "running";
  summarize_spikes(f, ours, unclosed, s);
  summarize_reports(f, s);
  summarize_edges(f, s);
  summarize_weights(f, s);
  return s;
}

namespace {

// `align` has one letter per column: 'l' for text, 'r' for numbers.
std::string table(const std::string& align, const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text = " ";
    for (std::size_t c = 0; c < cells.size(); ++c) {
      text += align[c] == 'l' ? fmt::format(" {:<{}} ", cells[c], width[c])
                              : fmt::format(" {:>{}} ", cells[c], width[c]);
    }
    text.erase(text.find_last_not_of(' ') + 1);
    out += text + "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

std::string number(std::optional<double> value) {
  return value ? fmt::format("{:.6g}", *value) : std::string("-");
}

}  // namespace

std::string format_summary(const FileSummary& s) {
  std::string out = fmt::format("file      {}\n", s.path);
  std::string status = s.status.empty() ? std::string("unknown (no /provenance/status)") : s.status;
  if (s.status == "running") status += " (the run is still going, or was killed)";
  out += fmt::format("status    {}\n", status);
  if (s.opened_swmr) out += "          (opened in SWMR read mode: the file was not closed)\n";
  if (!s.version.empty()) out += fmt::format("version   {}\n", s.version);
  if (!s.command_line.empty()) out += fmt::format("command   {}\n", s.command_line);
  if (s.seed) out += fmt::format("seed      {}\n", *s.seed);
  if (s.threads) out += fmt::format("threads   {}\n", *s.threads);
  if (s.dt_ms) out += fmt::format("dt        {} ms\n", *s.dt_ms);
  if (s.simulated_ms) out += fmt::format("simulated {} ms\n", *s.simulated_ms);

  if (!s.spikes.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : s.spikes) {
      rows.push_back({p.name, std::to_string(p.nodes), std::to_string(p.spikes),
                      number(p.t_first_ms), number(p.t_last_ms), number(p.mean_rate_hz)});
    }
    out += "\nspikes\n" +
           table("lrrrrr",
                 {"population", "nodes", "spikes", "first (ms)", "last (ms)", "rate (Hz)"}, rows);
  }
  if (!s.reports.empty()) {
    // A "report" column only when some report is named (/reports/<name>).
    const bool named = std::any_of(s.reports.begin(), s.reports.end(),
                                   [](const ReportSummary& r) { return !r.name.empty(); });
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : s.reports) {
      std::vector<std::string> row{
          r.population,
          std::to_string(r.nodes),
          r.variables.empty() ? std::string("-") : fmt::format("{}", fmt::join(r.variables, ",")),
          std::to_string(r.frames),
          number(r.start_ms),
          number(r.step_ms)};
      if (named) row.insert(row.begin(), r.name.empty() ? std::string("-") : r.name);
      rows.push_back(std::move(row));
    }
    std::vector<std::string> header{"population", "nodes",      "variables",
                                    "frames",     "start (ms)", "step (ms)"};
    if (named) header.insert(header.begin(), "report");
    out += "\nreports\n" + table(named ? "llrlrrr" : "lrlrrr", header, rows);
  }
  if (!s.weights.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& w : s.weights) {
      rows.push_back({w.projection, std::to_string(w.weights), std::to_string(w.snapshots)});
    }
    out += "\nweight snapshots\n" + table("lrr", {"projection", "weights", "snapshots"}, rows);
  }
  if (!s.edges.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : s.edges) {
      rows.push_back({e.name, e.source_population, e.target_population, std::to_string(e.count)});
    }
    out += "\nedges\n" + table("lllr", {"name", "source", "target", "edges"}, rows);
  }
  if (!s.notes.empty()) {
    out += "\nnotes\n";
    for (const auto& n : s.notes) out += "  " + n + "\n";
  }
  if (!s.problems.empty()) {
    out += "\nproblems\n";
    for (const auto& p : s.problems) out += "  " + p + "\n";
  }
  return out;
}

}  // namespace spikeline::io
