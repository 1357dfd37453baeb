#include "spikeline/io/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>

#include "hdf5_util.hpp"
#include "spikeline/io/output_files.hpp"

namespace spikeline::io {

using detail::Handle;

namespace {

constexpr const char* kFormat = "spikeline checkpoint";

hid_t native_type(FieldType t) {
  switch (t) {
    case FieldType::f32:
      return H5T_NATIVE_FLOAT;
    case FieldType::f64:
      return H5T_NATIVE_DOUBLE;
    case FieldType::i8:
      return H5T_NATIVE_INT8;
    case FieldType::i16:
      return H5T_NATIVE_INT16;
    case FieldType::i32:
      return H5T_NATIVE_INT32;
    case FieldType::i64:
      return H5T_NATIVE_INT64;
    case FieldType::u8:
    case FieldType::bytes:
      return H5T_NATIVE_UINT8;
    case FieldType::u16:
      return H5T_NATIVE_UINT16;
    case FieldType::u32:
      return H5T_NATIVE_UINT32;
    case FieldType::u64:
      return H5T_NATIVE_UINT64;
  }
  return H5T_NATIVE_UINT8;
}

std::size_t type_size(FieldType t) {
  return t == FieldType::bytes ? 1 : H5Tget_size(native_type(t));
}

// The field type of a stored dataset, from its HDF5 class, size and sign.
std::optional<FieldType> field_type(hid_t dtype, bool is_struct) {
  const H5T_class_t cls = H5Tget_class(dtype);
  const std::size_t size = H5Tget_size(dtype);
  if (cls == H5T_FLOAT) {
    if (size == 4) return FieldType::f32;
    if (size == 8) return FieldType::f64;
    return std::nullopt;
  }
  if (cls != H5T_INTEGER) return std::nullopt;
  const bool is_signed = H5Tget_sign(dtype) == H5T_SGN_2;
  if (is_struct) return size == 1 && !is_signed ? std::optional(FieldType::bytes) : std::nullopt;
  switch (size) {
    case 1:
      return is_signed ? FieldType::i8 : FieldType::u8;
    case 2:
      return is_signed ? FieldType::i16 : FieldType::u16;
    case 4:
      return is_signed ? FieldType::i32 : FieldType::u32;
    case 8:
      return is_signed ? FieldType::i64 : FieldType::u64;
    default:
      return std::nullopt;
  }
}

struct Writer {
  std::string path;  // for messages: the final name

  [[noreturn]] void fail(const std::string& what) const {
    throw IoError(ExitCode::io,
                  fmt::format("checkpoint {}: {}: {}", path, what, detail::hdf5_reason()));
  }
  hid_t check(hid_t id, const std::string& what) const {
    if (id < 0) fail(what);
    return id;
  }
  void wrote(detail::AttributeStep step, const char* name) const {
    if (step == detail::AttributeStep::create) fail("attribute");
    if (step == detail::AttributeStep::write) fail(std::string("cannot write attribute ") + name);
  }
  void attribute(hid_t object, const char* name, hid_t type, const void* value) const {
    wrote(detail::write_attribute(object, name, type, type, value), name);
  }
  void string_attribute(hid_t object, const char* name, const std::string& value) const {
    wrote(detail::write_string_attribute(object, name, value), name);
  }
};

// Flushes a file's data and its directory entry to disk.
void sync_path(const std::string& path, const std::string& what, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    throw IoError(ExitCode::io, fmt::format("checkpoint {}: cannot sync {} to disk: {}", path, what,
                                            std::strerror(err)));
  }
  ::close(fd);
}

[[noreturn]] void corrupt(const std::string& path, const std::string& what) {
  throw CheckpointError(fmt::format("checkpoint {}: {}", path, what));
}

std::string read_string_attribute(hid_t object, const char* name, const std::string& path) {
  if (H5Aexists(object, name) <= 0) corrupt(path, fmt::format("attribute '{}' is missing", name));
  Handle attr = detail::attribute_handle(H5Aopen(object, name, H5P_DEFAULT));
  Handle type = detail::type_handle(H5Aget_type(attr.get()));
  if (!attr.valid() || H5Tget_class(type.get()) != H5T_STRING ||
      H5Tis_variable_str(type.get()) > 0) {
    corrupt(path, fmt::format("attribute '{}' is not a fixed-length string", name));
  }
  std::string value(H5Tget_size(type.get()), '\0');
  if (H5Aread(attr.get(), type.get(), value.data()) < 0)
    corrupt(path, fmt::format("cannot read attribute '{}'", name));
  value.resize(std::strlen(value.c_str()));
  return value;
}

template <class T>
T read_attribute(hid_t object, const char* name, hid_t type, const std::string& path) {
  if (H5Aexists(object, name) <= 0) corrupt(path, fmt::format("attribute '{}' is missing", name));
  Handle attr = detail::attribute_handle(H5Aopen(object, name, H5P_DEFAULT));
  T value{};
  if (!attr.valid() || H5Aread(attr.get(), type, &value) < 0)
    corrupt(path, fmt::format("cannot read attribute '{}'", name));
  return value;
}

struct VisitState {
  std::string file;
  MemoryArchive* archive;
  std::exception_ptr error;  // thrown after H5Ovisit returns, not through its C frames
};

void read_field(hid_t group, const char* name, VisitState& st);

herr_t visit(hid_t group, const char* name, const H5O_info_t* info, void* data) {
  auto& st = *static_cast<VisitState*>(data);
  if (info->type != H5O_TYPE_DATASET) return 0;
  try {
    read_field(group, name, st);
  } catch (...) {
    st.error = std::current_exception();
    return -1;  // stops the iteration
  }
  return 0;
}

void read_field(hid_t group, const char* name, VisitState& st) {
  Handle ds = detail::dataset_handle(H5Dopen2(group, name, H5P_DEFAULT));
  if (!ds.valid()) corrupt(st.file, fmt::format("cannot open /state/{}", name));
  Handle type = detail::type_handle(H5Dget_type(ds.get()));
  Handle space = detail::space_handle(H5Dget_space(ds.get()));
  const bool is_struct = H5Aexists(ds.get(), "element_size") > 0;
  const auto ft = field_type(type.get(), is_struct);
  if (!ft || H5Sget_simple_extent_ndims(space.get()) != 1) {
    corrupt(st.file, fmt::format("/state/{} is not a 1-D array of numbers", name));
  }
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  MemoryArchive::Field f{*ft, type_size(*ft), {}};
  if (is_struct) {
    f.elem_size =
        read_attribute<std::uint64_t>(ds.get(), "element_size", H5T_NATIVE_UINT64, st.file);
  }
  f.bytes.resize(n * type_size(*ft));
  if (n > 0 &&
      H5Dread(ds.get(), native_type(*ft), H5S_ALL, H5S_ALL, H5P_DEFAULT, f.bytes.data()) < 0) {
    corrupt(st.file, fmt::format("cannot read /state/{}: {}", name, detail::hdf5_reason()));
  }
  st.archive->add(name, std::move(f));
}

}  // namespace

void check_checkpoint_writable(const std::string& path) {
  check_output_path(path, "checkpoint");
}

void write_checkpoint(const std::string& path, const MemoryArchive& state, double simulated_ms) {
  detail::silence_hdf5_errors();
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string tmp = make_temporary(path, "checkpoint");
  Writer w{path};
  try {
    {
      Handle file =
          detail::file_handle(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
      if (!file.valid()) {
        throw IoError(ExitCode::cant_create, fmt::format("checkpoint {}: cannot create {}: {}",
                                                         path, tmp, detail::hdf5_reason()));
      }
      w.string_attribute(file.get(), "format", kFormat);
      const std::uint32_t version = kCheckpointFormatVersion;
      w.attribute(file.get(), "format_version", H5T_NATIVE_UINT32, &version);
      w.string_attribute(file.get(), "spikeline_version", SPIKELINE_VERSION);
      const std::uint64_t sum = checksum(state);
      w.attribute(file.get(), "checksum", H5T_NATIVE_UINT64, &sum);
      w.attribute(file.get(), "simulated_ms", H5T_NATIVE_DOUBLE, &simulated_ms);
      Handle lcpl = detail::plist_handle(H5Pcreate(H5P_LINK_CREATE));
      H5Pset_create_intermediate_group(lcpl.get(), 1);
      Handle root = detail::group_handle(
          w.check(H5Gcreate2(file.get(), "state", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  "cannot create /state"));
      for (const auto& [name, f] : state.fields()) {
        const hsize_t n = f.bytes.size() / type_size(f.type);
        // HDF5 cannot lay out an empty contiguous array: an empty field is
        // an extendible (chunked) one.
        const hsize_t unlimited = H5S_UNLIMITED, one = 1;
        Handle space = detail::space_handle(H5Screate_simple(1, &n, n == 0 ? &unlimited : nullptr));
        Handle dcpl = detail::plist_handle(H5Pcreate(H5P_DATASET_CREATE));
        if (n == 0) H5Pset_chunk(dcpl.get(), 1, &one);
        Handle ds = detail::dataset_handle(
            w.check(H5Dcreate2(root.get(), name.c_str(), native_type(f.type), space.get(),
                               lcpl.get(), dcpl.get(), H5P_DEFAULT),
                    "cannot create /state/" + name));
        if (n > 0 && H5Dwrite(ds.get(), native_type(f.type), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                              f.bytes.data()) < 0) {
          w.fail("cannot write /state/" + name);
        }
        if (f.type == FieldType::bytes) {
          const std::uint64_t size = f.elem_size;
          w.attribute(ds.get(), "element_size", H5T_NATIVE_UINT64, &size);
        }
      }
      root.reset();
      if (file.close() < 0) w.fail("cannot close " + tmp);
    }
    sync_path(tmp, "the file", O_RDONLY);
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) {
      throw IoError(ExitCode::io, fmt::format("checkpoint {}: cannot rename {} to it: {}", path,
                                              tmp, ec.message()));
    }
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);  // the previous checkpoint, if any, is untouched
    throw;
  }
  sync_path(dir.string(), "the directory", O_RDONLY | O_DIRECTORY);
  remove_stale_temporaries(path, tmp);
}

MemoryArchive read_checkpoint(const std::string& path) {
  detail::silence_hdf5_errors();
  const auto type = detail::path_type(path);
  if (type == std::filesystem::file_type::not_found) {
    throw Error(ExitCode::no_input, fmt::format("checkpoint {}: no such file", path));
  }
  if (type != std::filesystem::file_type::regular) {
    throw Error(ExitCode::no_input,
                fmt::format("checkpoint {}: is {}, not a checkpoint: only regular files are read",
                            path, detail::file_type_name(type)));
  }
  if (detail::is_hdf5_file(path) <= 0) {
    corrupt(path, "not an HDF5 file (truncated or not a checkpoint)");
  }
  Handle file = detail::file_handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) corrupt(path, "cannot open: " + detail::hdf5_reason());
  if (H5Aexists(file.get(), "format") <= 0 ||
      read_string_attribute(file.get(), "format", path) != kFormat) {
    corrupt(path, "not a spikeline checkpoint (no attribute format = \"spikeline checkpoint\")");
  }
  const auto version =
      read_attribute<std::uint32_t>(file.get(), "format_version", H5T_NATIVE_UINT32, path);
  if (version != kCheckpointFormatVersion) {
    corrupt(path, fmt::format("format version {} is not the one this spikeline reads ({})", version,
                              kCheckpointFormatVersion));
  }
  const std::string written_by = read_string_attribute(file.get(), "spikeline_version", path);
  if (written_by != SPIKELINE_VERSION) {
    corrupt(path, fmt::format("written by spikeline {}, this is spikeline {}: a checkpoint can "
                              "only be resumed by the version that wrote it",
                              written_by, SPIKELINE_VERSION));
  }
  const auto stored_sum =
      read_attribute<std::uint64_t>(file.get(), "checksum", H5T_NATIVE_UINT64, path);
  MemoryArchive archive;
  if (H5Lexists(file.get(), "state", H5P_DEFAULT) <= 0) corrupt(path, "no /state group");
  Handle root = detail::group_handle(H5Gopen2(file.get(), "state", H5P_DEFAULT));
  VisitState st{path, &archive, nullptr};
  const herr_t visited = H5Ovisit(root.get(), H5_INDEX_NAME, H5_ITER_INC, visit, &st);
  if (st.error) {
    detail::hdf5_reason();  // clears the stack the stopped iteration left
    std::rethrow_exception(st.error);
  }
  if (visited < 0) corrupt(path, "cannot read /state: " + detail::hdf5_reason());
  if (checksum(archive) != stored_sum) {
    corrupt(path, fmt::format("checksum mismatch (stored {:016x}, computed {:016x}): the file "
                              "is corrupted",
                              stored_sum, checksum(archive)));
  }
  archive.set_loading(true);
  return archive;
}

void text_field(StateArchive& a, std::string_view name, std::string& text) {
  std::vector<std::uint8_t> bytes(text.begin(), text.end());
  a.field(name, bytes, true);
  if (a.loading()) text.assign(bytes.begin(), bytes.end());
}

}  // namespace spikeline::io
