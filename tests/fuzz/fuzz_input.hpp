// Helpers of the fuzz targets. Input reads choices out of a fuzzer's input bytes (for
// structure-aware targets): each call takes a few bytes from the front; past the end every choice
// is the smallest one, so a short input still describes a whole (small) case.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "spikeline/engine/registry.hpp"
#include "spikeline/learning/builtin.hpp"
#include "spikeline/neurons/builtin.hpp"
#include "spikeline/synapses/connect.hpp"

namespace spikeline::fuzz {

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  // A number in [low, high].
  template <class T>
  T in_range(T low, T high) {
    const auto span = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
    std::uint64_t x = 0;
    for (std::uint64_t seen = 0; seen < span && pos_ < size_; seen = (seen << 8) | 0xff) {
      x = (x << 8) | data_[pos_++];
    }
    return static_cast<T>(static_cast<std::uint64_t>(low) +
                          (span == ~std::uint64_t{0} ? x : x % (span + 1)));
  }
  bool flag() { return byte() & 1; }
  // True with probability about p.
  bool chance(double p) { return byte() < p * 256; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string bytes(std::size_t n) {
    std::string s;
    while (s.size() < n && pos_ < size_) s.push_back(static_cast<char>(data_[pos_++]));
    return s;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// The built-in models and rules, registered once.
inline const Registry& builtin_registry() {
  static const Registry r = [] {
    Registry reg;
    register_builtin_models(reg);
    register_builtin_rules(reg);
    synapses::register_builtin_connection_rules(reg);
    return reg;
  }();
  return r;
}

// Moves the process into a fresh folder of its own under TMPDIR, so that the
// files a target writes, and relative names in a fuzzed config, stay there.
inline void work_in_scratch_folder() {
  const auto dir =
      std::filesystem::temp_directory_path() / ("spikeline-fuzz-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::current_path(dir);
}

}  // namespace spikeline::fuzz
