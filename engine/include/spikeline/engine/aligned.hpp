#pragma once
// Arrays aligned to a cache line, for the state a model's update loop
// streams through.
//
// Why: the update loops are vectorised (AVX-512 clones load 64 bytes at a
// time). malloc aligns to 16 bytes, so an array of doubles starts anywhere
// in a cache line and most of its 64-byte loads and stores straddle two
// lines; where each of a model's arrays happened to start then decided up
// to about 10% of COBA's loop time, differently for two builds of the same
// model. An AlignedVector starts every array on a line.
#include <cstddef>
#include <new>
#include <vector>

namespace spikeline {

inline constexpr std::size_t kCacheLine = 64;

template <class T>
struct CacheAligned {
  using value_type = T;
  CacheAligned() noexcept = default;
  template <class U>
  CacheAligned(const CacheAligned<U>&) noexcept {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{kCacheLine}));
  }
  void deallocate(T* p, std::size_t) noexcept {
    ::operator delete (p, std::align_val_t{kCacheLine});
  }
  template <class U>
  bool operator==(const CacheAligned<U>&) const noexcept {
    return true;
  }
};

template <class T>
using AlignedVector = std::vector<T, CacheAligned<T>>;

// A model's state variable: one double per neuron (StateTable's arrays).
using StateArray = AlignedVector<double>;

}  // namespace spikeline
