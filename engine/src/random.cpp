#include "spikeline/engine/random.hpp"

namespace spikeline {

// Philox4x32-10 written out lane by lane (the same rounds and constants as
// Random123's philox4x32, checked against it in tests/engine): the counter
// words other than the entity are the same in every lane, so the compiler
// turns the loop into vector multiplies (pmuludq and its wider forms).
__attribute__((target_clones("default", "avx2", "avx512f"))) void uniform_per_entity(
    std::uint64_t seed, std::uint32_t stream, std::uint32_t first, std::uint64_t counter,
    std::size_t n, double* out) {
  constexpr std::uint64_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  const auto key0 = static_cast<std::uint32_t>(seed);
  const auto key1 = static_cast<std::uint32_t>(seed >> 32);
  const auto c2 = static_cast<std::uint32_t>(counter);
  const auto c3 = static_cast<std::uint32_t>(counter >> 32);
  for (std::size_t j = 0; j < n; ++j) {
    std::uint32_t x0 = stream, x1 = first + static_cast<std::uint32_t>(j), x2 = c2, x3 = c3;
    std::uint32_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
      const std::uint64_t p0 = kM0 * x0, p1 = kM1 * x2;
      const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
      const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
      x0 = hi1 ^ x1 ^ k0;
      x1 = lo1;
      x2 = hi0 ^ x3 ^ k1;
      x3 = lo0;
      k0 += kW0;
      k1 += kW1;
    }
    // uniform(): the top 53 bits of (x0 << 32 | x1), plus one half, over 2^53. Split
    // into two parts that convert exactly from signed 32-bit integers.
    const auto high = static_cast<std::int32_t>(x0 >> 1);
    const auto low = static_cast<std::int32_t>(((x0 & 1u) << 21) | (x1 >> 11));
    out[j] = (static_cast<double>(high) * 0x1.0p22 + static_cast<double>(low) + 0.5) * 0x1.0p-53;
  }
}

}  // namespace spikeline
