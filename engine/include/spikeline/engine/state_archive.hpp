// Saving and restoring the state a run's future depends on (checkpoints).
//
// One function per component walks its state in both directions, in the
// style of Boost.Serialization's `serialize(Archive&)`:
//
//   void MyModel::checkpoint(StateArchive& a) {
//     a.field("V", V_);          // save: writes V_; load: reads into V_
//     a.field("refractory", refr_);
//   }
//
// so that what is saved and what is restored cannot drift apart. Fields are
// named arrays of numbers under a scope path ("populations/exc/V"); a struct
// of numbers (a trace's value and last step) is stored as raw bytes, with its
// size checked on load. On load, an array must have the size the freshly
// built component already has (the network is rebuilt from the same config
// before the state is restored): a different size means the checkpoint does
// not belong to this network, and is refused with both sizes named.
//
// The engine knows no file format: io/ implements the archive over HDF5, and
// MemoryArchive below keeps everything in memory (tests, and the checksum).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "spikeline/engine/error.hpp"

namespace spikeline {

// A checkpoint that cannot be used: corrupt, from another version, or of
// another network. Exit code 65 (bad input data).
struct CheckpointError : DataError {
  explicit CheckpointError(const std::string& what) : DataError(what) {}
};

// The stored element type of a field.
enum class FieldType : std::uint8_t { f32, f64, i8, i16, i32, i64, u8, u16, u32, u64, bytes };

template <class T>
constexpr FieldType field_type_of() {
  if constexpr (std::is_same_v<T, float>)
    return FieldType::f32;
  else if constexpr (std::is_same_v<T, double>)
    return FieldType::f64;
  else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    if constexpr (sizeof(T) == 1)
      return FieldType::i8;
    else if constexpr (sizeof(T) == 2)
      return FieldType::i16;
    else if constexpr (sizeof(T) == 4)
      return FieldType::i32;
    else
      return FieldType::i64;
  } else if constexpr (std::is_integral_v<T>) {
    if constexpr (sizeof(T) == 1)
      return FieldType::u8;
    else if constexpr (sizeof(T) == 2)
      return FieldType::u16;
    else if constexpr (sizeof(T) == 4)
      return FieldType::u32;
    else
      return FieldType::u64;
  } else {
    return FieldType::bytes;
  }
}

const char* to_string(FieldType type);

class StateArchive {
 public:
  virtual ~StateArchive() = default;
  virtual bool loading() const = 0;

  // An array. Saving writes `v`; loading replaces its contents, which must
  // have v.size() elements, or any number when `resizable`.
  template <class T, class Alloc>
  void field(std::string_view name, std::vector<T, Alloc>& v, bool resizable = false) {
    static_assert(std::is_trivially_copyable_v<T>, "a field must be plain data");
    constexpr FieldType type = field_type_of<T>();
    const std::string path = qualified(name);
    if (!loading()) {
      save(path, type, sizeof(T), v.data(), v.size());
      return;
    }
    const std::size_t n = stored_count(path, type, sizeof(T));
    if (!resizable && n != v.size()) {
      throw CheckpointError(fmt::format(
          "checkpoint field '{}' holds {} values where this network has {}: the checkpoint "
          "belongs to another network",
          path, n, v.size()));
    }
    v.resize(n);
    load(path, v.data(), n * sizeof(T));
  }
  // A single value.
  template <class T>
  void value(std::string_view name, T& x) {
    std::vector<T> one{x};
    field(name, one);
    x = one[0];
  }

  // Nests the names of the fields within (RAII).
  class Scope {
   public:
    Scope(StateArchive& a, std::string_view name) : a_(a), size_(a.prefix_.size()) {
      a_.prefix_.append(name).push_back('/');
    }
    ~Scope() { a_.prefix_.resize(size_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    StateArchive& a_;
    std::size_t size_;
  };

 protected:
  // Stores n elements of elem_size bytes under `path`.
  virtual void save(const std::string& path, FieldType type, std::size_t elem_size,
                    const void* data, std::size_t n) = 0;
  // The number of elements stored under `path`; CheckpointError when there
  // is none, or its type or element size differ.
  virtual std::size_t stored_count(const std::string& path, FieldType type,
                                   std::size_t elem_size) = 0;
  // Copies the stored bytes of `path` (exactly `bytes` of them).
  virtual void load(const std::string& path, void* data, std::size_t bytes) = 0;

 private:
  std::string qualified(std::string_view name) const { return prefix_ + std::string(name); }
  std::string prefix_;
};

// An archive in memory: save into it, then load from it.
class MemoryArchive : public StateArchive {
 public:
  struct Field {
    FieldType type;
    std::size_t elem_size;
    std::vector<unsigned char> bytes;
  };
  bool loading() const override { return loading_; }
  void set_loading(bool loading) { loading_ = loading; }
  // Fields in the order they were saved.
  const std::vector<std::pair<std::string, Field>>& fields() const { return fields_; }
  bool has(std::string_view path) const { return index_.find(path) != index_.end(); }
  void add(std::string path, Field f);

 protected:
  void save(const std::string& path, FieldType type, std::size_t elem_size, const void* data,
            std::size_t n) override;
  std::size_t stored_count(const std::string& path, FieldType type, std::size_t elem_size) override;
  void load(const std::string& path, void* data, std::size_t bytes) override;

 private:
  const Field& find(const std::string& path) const;
  bool loading_ = false;
  std::vector<std::pair<std::string, Field>> fields_;
  std::map<std::string, std::size_t, std::less<>> index_;
};

// An archive's fields (in order) as one block of bytes, and back: how a
// checkpoint travels between the processes of a run (gathered to rank 0,
// which writes it; broadcast from rank 0, which read it). The block lives
// as long as one run: native byte order, no version of its own.
std::vector<std::byte> to_bytes(const MemoryArchive& archive);
// CheckpointError when `bytes` is not such a block (cut short).
MemoryArchive archive_from_bytes(std::span<const std::byte> bytes);

// A 64-bit non-cryptographic hash (the word mixing of xxHash64): fast enough
// for gigabytes of weights, and any flipped bit changes it.
class Hash64 {
 public:
  void add(const void* data, std::size_t bytes);
  void add(std::string_view s) { add(s.data(), s.size()); }
  template <class T>
  void add(const std::vector<T>& v) {
    static_assert(std::has_unique_object_representations_v<T> || std::is_floating_point_v<T>,
                  "hashing padding bytes");
    add(v.data(), v.size() * sizeof(T));
  }
  void add_word(std::uint64_t w);
  std::uint64_t value() const { return h_ ^ (h_ >> 29); }

 private:
  std::uint64_t h_ = 0x27D4EB2F165667C5ULL;
};

// A 64-bit checksum of the fields (names, types and bytes; in path order):
// what a checkpoint file stores to detect corruption.
std::uint64_t checksum(const MemoryArchive& archive);

}  // namespace spikeline
