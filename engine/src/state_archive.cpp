#include "spikeline/engine/state_archive.hpp"

#include <algorithm>
#include <bit>

namespace spikeline {

const char* to_string(FieldType type) {
  switch (type) {
    case FieldType::f32:
      return "float32";
    case FieldType::f64:
      return "float64";
    case FieldType::i8:
      return "int8";
    case FieldType::i16:
      return "int16";
    case FieldType::i32:
      return "int32";
    case FieldType::i64:
      return "int64";
    case FieldType::u8:
      return "uint8";
    case FieldType::u16:
      return "uint16";
    case FieldType::u32:
      return "uint32";
    case FieldType::u64:
      return "uint64";
    case FieldType::bytes:
      return "bytes";
  }
  return "?";
}

void MemoryArchive::add(std::string path, Field f) {
  if (index_.count(path)) {
    throw Error(ExitCode::software, fmt::format("checkpoint field '{}' saved twice", path));
  }
  // A file stores the fields as a tree (HDF5 groups), where a name cannot be
  // both a field and a scope.
  for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (index_.count(path.substr(0, slash))) {
      throw Error(ExitCode::software, fmt::format("checkpoint field '{}' lies inside field '{}'",
                                                  path, path.substr(0, slash)));
    }
  }
  const std::string scope = path + '/';
  if (const auto it = index_.lower_bound(scope);
      it != index_.end() && it->first.compare(0, scope.size(), scope) == 0) {
    throw Error(
        ExitCode::software,
        fmt::format("checkpoint field '{}' is also the scope of field '{}'", path, it->first));
  }
  index_.emplace(path, fields_.size());
  fields_.emplace_back(std::move(path), std::move(f));
}

void MemoryArchive::save(const std::string& path, FieldType type, std::size_t elem_size,
                         const void* data, std::size_t n) {
  Field f{type, elem_size, {}};
  const auto* p = static_cast<const unsigned char*>(data);
  f.bytes.assign(p, p + n * elem_size);
  add(path, std::move(f));
}

const MemoryArchive::Field& MemoryArchive::find(const std::string& path) const {
  const auto it = index_.find(path);
  if (it == index_.end()) {
    throw CheckpointError(fmt::format(
        "checkpoint field '{}' is missing: the checkpoint belongs to another network or "
        "another version",
        path));
  }
  return fields_[it->second].second;
}

std::size_t MemoryArchive::stored_count(const std::string& path, FieldType type,
                                        std::size_t elem_size) {
  const Field& f = find(path);
  if (f.type != type || f.elem_size != elem_size) {
    throw CheckpointError(fmt::format(
        "checkpoint field '{}' holds {} of {} bytes where {} of {} bytes are expected: the "
        "checkpoint comes from another version",
        path, to_string(f.type), f.elem_size, to_string(type), elem_size));
  }
  if (f.bytes.size() % elem_size != 0) {
    throw CheckpointError(
        fmt::format("checkpoint field '{}' is truncated ({} bytes)", path, f.bytes.size()));
  }
  return f.bytes.size() / elem_size;
}

void MemoryArchive::load(const std::string& path, void* data, std::size_t bytes) {
  const Field& f = find(path);
  if (bytes != f.bytes.size()) {
    throw Error(ExitCode::software,
                fmt::format("checkpoint field '{}': {} bytes requested, {} stored", path, bytes,
                            f.bytes.size()));
  }
  if (bytes > 0) std::memcpy(data, f.bytes.data(), bytes);
}

void Hash64::add_word(std::uint64_t w) {
  constexpr std::uint64_t k1 = 0x9E3779B185EBCA87ULL;
  constexpr std::uint64_t k2 = 0xC2B2AE3D27D4EB4FULL;
  h_ = std::rotl(h_ ^ (w * k2), 31) * k1;
}

void Hash64::add(const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  add_word(n);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    add_word(w);
  }
  std::uint64_t tail = 0;
  if (n > i) std::memcpy(&tail, p + i, n - i);
  add_word(tail);
}

std::uint64_t checksum(const MemoryArchive& archive) {
  // In path order, so that a file that stores the fields in another order
  // (HDF5 lists a group's members by name) has the same checksum.
  std::vector<const std::pair<std::string, MemoryArchive::Field>*> sorted;
  for (const auto& f : archive.fields()) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(), [](auto* x, auto* y) { return x->first < y->first; });
  Hash64 h;
  for (const auto* field : sorted) {
    const auto& [path, f] = *field;
    h.add(path);
    h.add_word(static_cast<std::uint64_t>(f.type) << 32 | f.elem_size);
    h.add(f.bytes);
  }
  return h.value();
}

}  // namespace spikeline
