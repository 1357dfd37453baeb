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

namespace {

// Each field: path length, path, type, element size, byte count, bytes.
void put_word(std::vector<std::byte>& out, std::uint64_t w) {
  const auto* p = reinterpret_cast<const std::byte*>(&w);
  out.insert(out.end(), p, p + sizeof w);
}

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  bool done() const { return at_ == bytes_.size(); }
  std::span<const std::byte> take(std::uint64_t n) {
    if (n > bytes_.size() - at_) {
      throw CheckpointError(fmt::format(
          "checkpoint fields received from another process are cut short: {} bytes needed at "
          "byte {} of {}",
          n, at_, bytes_.size()));
    }
    const auto out = bytes_.subspan(at_, n);
    at_ += n;
    return out;
  }
  std::uint64_t word() {
    std::uint64_t w = 0;
    std::memcpy(&w, take(sizeof w).data(), sizeof w);
    return w;
  }

 private:
  std::span<const std::byte> bytes_;
  std::size_t at_ = 0;
};

}  // namespace

std::vector<std::byte> to_bytes(const MemoryArchive& archive) {
  std::size_t total = 0;
  for (const auto& [path, f] : archive.fields()) total += 4 * 8 + path.size() + f.bytes.size();
  std::vector<std::byte> out;
  out.reserve(total);
  for (const auto& [path, f] : archive.fields()) {
    put_word(out, path.size());
    const auto* name = reinterpret_cast<const std::byte*>(path.data());
    out.insert(out.end(), name, name + path.size());
    put_word(out, static_cast<std::uint64_t>(f.type));
    put_word(out, f.elem_size);
    put_word(out, f.bytes.size());
    const auto* data = reinterpret_cast<const std::byte*>(f.bytes.data());
    out.insert(out.end(), data, data + f.bytes.size());
  }
  return out;
}

MemoryArchive archive_from_bytes(std::span<const std::byte> bytes) {
  MemoryArchive archive;
  ByteReader in(bytes);
  while (!in.done()) {
    const auto name = in.take(in.word());
    std::string path(reinterpret_cast<const char*>(name.data()), name.size());
    MemoryArchive::Field f;
    const std::uint64_t type = in.word();
    if (type > static_cast<std::uint64_t>(FieldType::bytes)) {
      throw CheckpointError(
          fmt::format("checkpoint field '{}' received with an unknown type {}", path, type));
    }
    f.type = static_cast<FieldType>(type);
    f.elem_size = in.word();
    const auto data = in.take(in.word());
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    f.bytes.assign(p, p + data.size());
    archive.add(std::move(path), std::move(f));
  }
  return archive;
}

}  // namespace spikeline
