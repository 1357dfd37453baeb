#include "hdf5_util.hpp"

#include <algorithm>
#include <system_error>

namespace spikeline::io::detail {

std::filesystem::file_type path_type(const std::string& path) {
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  return ec ? std::filesystem::file_type::not_found : type;
}

const char* file_type_name(std::filesystem::file_type type) {
  using std::filesystem::file_type;
  switch (type) {
    case file_type::directory:
      return "a directory";
    case file_type::fifo:
      return "a FIFO (named pipe)";
    case file_type::character:
      return "a character device";
    case file_type::block:
      return "a block device";
    case file_type::socket:
      return "a socket";
    default:
      return "not a regular file";
  }
}

htri_t is_hdf5_file(const std::string& path) {
  const htri_t answer = H5Fis_hdf5(path.c_str());
  H5Eclear2(H5E_DEFAULT);
  return answer;
}

Handle utf8_string_type(std::size_t bytes) {
  Handle type = type_handle(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), std::max<std::size_t>(bytes, 1));
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

AttributeStep write_attribute(hid_t object, const char* name, hid_t file_type, hid_t mem_type,
                              const void* value, hsize_t n) {
  Handle space = space_handle(n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr));
  Handle attr =
      attribute_handle(H5Acreate2(object, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.valid()) return AttributeStep::create;
  return H5Awrite(attr.get(), mem_type, value) < 0 ? AttributeStep::write : AttributeStep::done;
}

AttributeStep write_string_attribute(hid_t object, const char* name, const std::string& value) {
  Handle type = utf8_string_type(value.size());
  std::string buffer = value;
  buffer.resize(std::max<std::size_t>(value.size(), 1), '\0');
  return write_attribute(object, name, type.get(), type.get(), buffer.data());
}

AttributeStep write_strings_attribute(hid_t object, const char* name,
                                      const std::vector<std::string>& values) {
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  std::string buffer(width * values.size(), '\0');
  for (std::size_t i = 0; i < values.size(); ++i)
    buffer.replace(i * width, values[i].size(), values[i]);
  Handle type = utf8_string_type(width);
  return write_attribute(object, name, type.get(), type.get(), buffer.data(), values.size());
}

std::vector<std::string> read_strings(hid_t object, bool is_attribute) {
  Handle type = type_handle(is_attribute ? H5Aget_type(object) : H5Dget_type(object));
  if (H5Tget_class(type.get()) != H5T_STRING) return {};
  Handle space = space_handle(is_attribute ? H5Aget_space(object) : H5Dget_space(object));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n <= 0) return {};
  std::vector<std::string> out(static_cast<std::size_t>(n));
  // HDF5 does not convert between character sets, and a NULLTERM memory
  // type would drop the last byte of a full NULLPAD string: read as stored.
  Handle mem_type = type_handle(H5Tcopy(H5T_C_S1));
  H5Tset_cset(mem_type.get(), H5Tget_cset(type.get()));
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Tset_size(mem_type.get(), H5T_VARIABLE);
    std::vector<char*> pointers(out.size(), nullptr);
    const herr_t status = is_attribute ? H5Aread(object, mem_type.get(), pointers.data())
                                       : H5Dread(object, mem_type.get(), H5S_ALL, H5S_ALL,
                                                 H5P_DEFAULT, pointers.data());
    if (status < 0) return {};
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (pointers[i] != nullptr) out[i] = pointers[i];
    }
    H5Dvlen_reclaim(mem_type.get(), space.get(), H5P_DEFAULT, pointers.data());
    return out;
  }
  const std::size_t width = H5Tget_size(type.get());
  H5Tset_size(mem_type.get(), width);
  H5Tset_strpad(mem_type.get(), H5T_STR_NULLPAD);
  std::string buffer(width * out.size(), '\0');
  const herr_t status =
      is_attribute ? H5Aread(object, mem_type.get(), buffer.data())
                   : H5Dread(object, mem_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data());
  if (status < 0) return {};
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::string s = buffer.substr(i * width, width);
    s.resize(std::min(s.size(), s.find('\0')));
    out[i] = s;
  }
  return out;
}

}  // namespace spikeline::io::detail
