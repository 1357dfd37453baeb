#include "spikeline/io/dataset_file.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "hdf5_handle.hpp"
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

DatasetFile::DatasetFile(const std::string& path, Mode mode) : impl_(std::make_unique<Impl>()) {
  detail::silence_hdf5_errors();
  impl_->path = path;
  // Missing, or not a file at all, is a missing input (66); a file that HDF5
  // cannot read is bad data (65). HDF5's own message says neither clearly.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw Error(ExitCode::no_input, fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    throw Error(ExitCode::no_input, fmt::format("{}: not a regular file", path));
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw DataError(fmt::format("{}: not an HDF5 file", path));
  }
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
                                                  std::vector<std::uint64_t>& dims) const {
  const std::string& path = impl_->path;
  Handle ds = detail::dataset_handle(H5Dopen2(impl_->file.get(), name.c_str(), H5P_DEFAULT));
  if (!ds.valid()) throw DataError(fmt::format("{}: no dataset /{}", path, name));
  Handle space = detail::space_handle(H5Dget_space(ds.get()));
  const int found = H5Sget_simple_extent_ndims(space.get());
  if (found != rank) {
    throw DataError(fmt::format("{}: /{} has {} dimensions, expected {}", path, name, found, rank));
  }
  std::vector<hsize_t> d(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
  dims.assign(d.begin(), d.end());
  std::uint64_t total = 1;
  for (const auto x : d) total *= x;
  std::vector<std::uint8_t> bytes(total);
  if (!bytes.empty() &&
      H5Dread(ds.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) < 0) {
    throw DataError(
        fmt::format("{}: cannot read /{} as bytes: {}", path, name, detail::hdf5_reason()));
  }
  return bytes;
}

void DatasetFile::close() {
  if (impl_->file.close() < 0) {
    throw IoError(ExitCode::io,
                  fmt::format("{}: cannot close: {}", impl_->path, detail::hdf5_reason()));
  }
}

}  // namespace spikeline::io
