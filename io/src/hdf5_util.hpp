// Private HDF5 helpers shared by the writer, the reader, checkpoints and
// dataset files: what a path is before HDF5 opens it, fixed-length UTF-8
// strings, attributes. Each caller builds its own message (its context, its
// exit code) from what these return. Not installed; only io/src includes it.
#pragma once

#include <hdf5.h>

#include <filesystem>
#include <string>
#include <vector>

#include "hdf5_handle.hpp"

namespace spikeline::io::detail {

// What `path` names, without opening it (a FIFO would block the open):
// not_found for nothing there (or a status error).
std::filesystem::file_type path_type(const std::string& path);

// "a directory", "a FIFO (named pipe)", "a character device", ...: what a
// path of a type other than regular is, for messages.
const char* file_type_name(std::filesystem::file_type type);

// Whether HDF5 recognises the file: H5Fis_hdf5's answer (> 0 yes, 0 no,
// < 0 it could not look, e.g. no permission), with the error stack cleared.
htri_t is_hdf5_file(const std::string& path);

// A fixed-length, NUL-padded UTF-8 string type of `bytes` (at least 1).
Handle utf8_string_type(std::size_t bytes);

// Which step of writing an attribute failed (the reason: hdf5_reason()).
enum class AttributeStep { done, create, write };

// Creates attribute `name` of `object`, scalar (n = 0) or 1-D of n values,
// and writes `value`.
AttributeStep write_attribute(hid_t object, const char* name, hid_t file_type, hid_t mem_type,
                              const void* value, hsize_t n = 0);
// A scalar fixed-length UTF-8 string attribute.
AttributeStep write_string_attribute(hid_t object, const char* name, const std::string& value);
// A 1-D attribute of fixed-length UTF-8 strings, as wide as the longest.
AttributeStep write_strings_attribute(hid_t object, const char* name,
                                      const std::vector<std::string>& values);

// The strings of a string attribute (is_attribute) or dataset, fixed- or
// variable-length, each cut at its first NUL; empty when it holds no strings
// or cannot be read.
std::vector<std::string> read_strings(hid_t object, bool is_attribute);

}  // namespace spikeline::io::detail
