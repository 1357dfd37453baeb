#include "spikeline/io/dataset_file.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "hdf5_util.hpp"
#include "spikeline/engine/error.hpp"

namespace spikeline::io {

using detail::Handle;

struct DatasetFile::Impl {
  std::string path;
  Handle file;

  [[noreturn]] void fail_write(const std::string& name) const {
    throw IoError(ExitCode::io,
                  fmt::format("{}: cannot write /{}: {}", path, name, detail::hdf5_reason()));
  }
  // Opens dataset `name` for a whole read: the type check `accept` (which
  // throws its own message) first, then the rank; `dims` gets the shape.
  // Returns the dataset and its number of elements.
  template <class Accept>
  std::pair<Handle, std::uint64_t> open_whole(const std::string& name, int rank,
                                              std::vector<std::uint64_t>& dims,
                                              Accept accept) const {
    Handle ds = detail::dataset_handle(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT));
    if (!ds.valid()) throw DataError(fmt::format("{}: no dataset /{}", path, name));
    Handle type = detail::type_handle(H5Dget_type(ds.get()));
    accept(type.get());
    Handle space = detail::space_handle(H5Dget_space(ds.get()));
    const int found = H5Sget_simple_extent_ndims(space.get());
    if (found != rank) {
      throw DataError(
          fmt::format("{}: /{} has {} dimensions, expected {}", path, name, found, rank));
    }
    std::vector<hsize_t> d(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
    dims.assign(d.begin(), d.end());
    std::uint64_t total = 1;
    for (const auto x : d) total *= x;
    return {std::move(ds), total};
  }
  // Creation properties that make the missing groups of a dataset's path.
  static Handle intermediate_groups() {
    Handle lcpl = detail::plist_handle(H5Pcreate(H5P_LINK_CREATE));
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    return lcpl;
  }
};

struct DatasetFile::ByteSlabs::Impl {
  const DatasetFile::Impl* file;
  std::string name;
  hsize_t rows, cols;
  Handle dataset, space, memory;
};

namespace {

// A stored type as a reader would name it: "float64", "int16", "string".
std::string type_name(hid_t type) {
  const std::size_t bits = H5Tget_size(type) * 8;
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return fmt::format("{}int{}", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
    case H5T_FLOAT:
      return fmt::format("float{}", bits);
    case H5T_STRING:
      return "string";
    case H5T_ENUM:
      return "enum";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_REFERENCE:
      return "reference";
    default:
      return "unknown";
  }
}

// Whether `type` stores integers: an integer type, or an enum over one.
bool stores_integers(hid_t type) {
  const H5T_class_t c = H5Tget_class(type);
  if (c == H5T_INTEGER) return true;
  if (c != H5T_ENUM) return false;
  Handle base = detail::type_handle(H5Tget_super(type));
  return base.valid() && H5Tget_class(base.get()) == H5T_INTEGER;
}

// The first value a conversion to uint8 found out of range (HDF5 would
// clamp it to 0 or 255 without a word): the read is aborted instead.
struct OutOfRange {
  bool found = false;
  std::string value;  // the stored integer, where it can be decoded
};

// The integer at `data`, stored as `type` (at most 8 bytes), as text.
std::string integer_text(hid_t type, const void* data) {
  const std::size_t size = H5Tget_size(type);
  if (H5Tget_class(type) != H5T_INTEGER || size == 0 || size > 8) return "";
  unsigned char bytes[8] = {};
  std::memcpy(bytes, data, size);
  if (H5Tget_order(type) == H5T_ORDER_BE) std::reverse(bytes, bytes + size);
  std::uint64_t u = 0;
  for (std::size_t k = size; k-- > 0;) u = (u << 8) | bytes[k];
  const bool negative = H5Tget_sign(type) == H5T_SGN_2 && (bytes[size - 1] & 0x80) != 0;
  if (!negative) return fmt::format("{}", u);
  if (size < 8) u |= ~std::uint64_t{0} << (8 * size);  // sign extension
  return fmt::format("{}", static_cast<std::int64_t>(u));
}

H5T_conv_ret_t abort_out_of_range(H5T_conv_except_t kind, hid_t source, hid_t, void* value, void*,
                                  void* user) {
  if (kind != H5T_CONV_EXCEPT_RANGE_HI && kind != H5T_CONV_EXCEPT_RANGE_LOW) {
    return H5T_CONV_UNHANDLED;
  }
  auto& out = *static_cast<OutOfRange*>(user);
  if (!out.found && source >= 0) out.value = integer_text(source, value);
  out.found = true;
  return H5T_CONV_ABORT;
}

}  // namespace

DatasetFile::DatasetFile(const std::string& path, Mode mode) : impl_(std::make_unique<Impl>()) {
  detail::silence_hdf5_errors();
  impl_->path = path;
  if (mode == Mode::create) {
    impl_->file =
        detail::file_handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    if (!impl_->file.valid()) {
      throw Error(ExitCode::cant_create,
                  fmt::format("{}: cannot create: {}", path, detail::hdf5_reason()));
    }
    return;
  }
  // Missing, or not a file at all, is a missing input (66); a file that HDF5
  // cannot read is bad data (65). HDF5's own message says neither clearly.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw Error(ExitCode::no_input, fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    throw Error(ExitCode::no_input, fmt::format("{}: is {}, not a regular file", path,
                                                detail::file_type_name(detail::path_type(path))));
  }
  if (detail::is_hdf5_file(path) <= 0) throw DataError(fmt::format("{}: not an HDF5 file", path));
  impl_->file = detail::file_handle(
      H5Fopen(path.c_str(), mode == Mode::read ? H5F_ACC_RDONLY : H5F_ACC_RDWR, H5P_DEFAULT));
  if (!impl_->file.valid()) {
    throw Error(mode == Mode::read ? ExitCode::no_input : ExitCode::io,
                fmt::format("{}: cannot open: {}", path, detail::hdf5_reason()));
  }
}

DatasetFile::~DatasetFile() = default;
DatasetFile::DatasetFile(DatasetFile&&) noexcept = default;
DatasetFile& DatasetFile::operator=(DatasetFile&&) noexcept = default;

const std::string& DatasetFile::path() const {
  return impl_->path;
}

void DatasetFile::write(const std::string& name, std::span<const double> data,
                        std::initializer_list<std::uint64_t> dims) {
  const std::vector<hsize_t> d(dims.begin(), dims.end());
  Handle lcpl = Impl::intermediate_groups();
  Handle space =
      detail::space_handle(H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr));
  Handle ds = detail::dataset_handle(H5Dcreate2(impl_->file.get(), name.c_str(), H5T_NATIVE_DOUBLE,
                                                space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!ds.valid() || (!data.empty() && H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                                                H5P_DEFAULT, data.data()) < 0)) {
    impl_->fail_write(name);
  }
}

DatasetFile::ByteSlabs::ByteSlabs(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DatasetFile::ByteSlabs::~ByteSlabs() = default;
DatasetFile::ByteSlabs::ByteSlabs(ByteSlabs&&) noexcept = default;

DatasetFile::ByteSlabs DatasetFile::create_byte_slabs(const std::string& name, std::uint64_t slabs,
                                                      std::uint64_t rows, std::uint64_t cols) {
  auto s = std::make_unique<ByteSlabs::Impl>();
  s->file = impl_.get();
  s->name = name;
  s->rows = rows;
  s->cols = cols;
  const hsize_t dims[3] = {slabs, rows, cols};
  Handle lcpl = Impl::intermediate_groups();
  Handle dcpl = detail::plist_handle(H5Pcreate(H5P_DATASET_CREATE));
  if (slabs > 0 && rows > 0 && cols > 0) {
    // A slab a chunk, compressed: rasters are mostly zeros.
    const hsize_t chunk[3] = {1, rows, cols};
    H5Pset_chunk(dcpl.get(), 3, chunk);
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) H5Pset_deflate(dcpl.get(), 1);
  }
  s->space = detail::space_handle(H5Screate_simple(3, dims, nullptr));
  s->dataset =
      detail::dataset_handle(H5Dcreate2(impl_->file.get(), name.c_str(), H5T_NATIVE_UINT8,
                                        s->space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT));
  if (!s->dataset.valid()) impl_->fail_write(name);
  const hsize_t one[3] = {1, rows, cols};
  s->memory = detail::space_handle(H5Screate_simple(3, one, nullptr));
  return ByteSlabs(std::move(s));
}

void DatasetFile::ByteSlabs::write(std::uint64_t index, std::span<const std::uint8_t> slab) {
  auto& s = *impl_;
  if (slab.size() != s.rows * s.cols) {
    throw Error(ExitCode::software,
                fmt::format("{}: slab {} of /{} holds {} bytes, not {} x {}", s.file->path, index,
                            s.name, slab.size(), s.rows, s.cols));
  }
  const hsize_t start[3] = {index, 0, 0};
  const hsize_t one[3] = {1, s.rows, s.cols};
  if (H5Sselect_hyperslab(s.space.get(), H5S_SELECT_SET, start, nullptr, one, nullptr) < 0 ||
      H5Dwrite(s.dataset.get(), H5T_NATIVE_UINT8, s.memory.get(), s.space.get(), H5P_DEFAULT,
               slab.data()) < 0) {
    s.file->fail_write(s.name);
  }
}

std::vector<std::uint8_t> DatasetFile::read_bytes(const std::string& name, int rank,
                                                  std::vector<std::uint64_t>& dims,
                                                  Stored stored) const {
  const std::string& path = impl_->path;
  const auto [ds, total] = impl_->open_whole(name, rank, dims, [&](hid_t type) {
    if (stored == Stored::integer && !stores_integers(type)) {
      throw DataError(
          fmt::format("{}: /{} is stored as {}, not as integers", path, name, type_name(type)));
    }
  });
  std::vector<std::uint8_t> bytes(total);
  OutOfRange out_of_range;
  Handle transfer = detail::plist_handle(H5Pcreate(H5P_DATASET_XFER));
  H5Pset_type_conv_cb(transfer.get(), abort_out_of_range, &out_of_range);
  if (!bytes.empty() &&
      H5Dread(ds.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, transfer.get(), bytes.data()) < 0) {
    const std::string reason = detail::hdf5_reason();
    if (out_of_range.found) {
      throw DataError(fmt::format("{}: /{} holds {}, outside 0 .. 255", path, name,
                                  out_of_range.value.empty() ? "a value" : out_of_range.value));
    }
    throw DataError(fmt::format("{}: cannot read /{} as bytes: {}", path, name, reason));
  }
  return bytes;
}

bool DatasetFile::has(const std::string& name) const {
  return H5Lexists(impl_->file.get(), name.c_str(), H5P_DEFAULT) > 0;
}

std::vector<double> DatasetFile::read_doubles(const std::string& name, int rank,
                                              std::vector<std::uint64_t>& dims) const {
  const std::string& path = impl_->path;
  const auto [ds, total] = impl_->open_whole(name, rank, dims, [&](hid_t type) {
    const H5T_class_t c = H5Tget_class(type);
    if (c != H5T_INTEGER && c != H5T_FLOAT) {
      throw DataError(
          fmt::format("{}: /{} is stored as {}, not as numbers", path, name, type_name(type)));
    }
  });
  std::vector<double> values(total);
  if (!values.empty() &&
      H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
    throw DataError(
        fmt::format("{}: cannot read /{} as numbers: {}", path, name, detail::hdf5_reason()));
  }
  return values;
}

std::vector<std::string> DatasetFile::read_strings(const std::string& name) const {
  const std::string& path = impl_->path;
  std::vector<std::uint64_t> dims;
  const auto [ds, total] = impl_->open_whole(name, 1, dims, [&](hid_t type) {
    if (H5Tget_class(type) != H5T_STRING) {
      throw DataError(
          fmt::format("{}: /{} is stored as {}, not as strings", path, name, type_name(type)));
    }
  });
  std::vector<std::string> values = detail::read_strings(ds.get(), false);
  if (values.size() != total) {
    throw DataError(
        fmt::format("{}: cannot read /{} as strings: {}", path, name, detail::hdf5_reason()));
  }
  return values;
}

void DatasetFile::close() {
  if (impl_->file.close() < 0) {
    throw IoError(ExitCode::io,
                  fmt::format("{}: cannot close: {}", impl_->path, detail::hdf5_reason()));
  }
}

}  // namespace spikeline::io
