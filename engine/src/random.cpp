#include "spikeline/engine/random.hpp"

#include "spikeline/engine/state_archive.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace spikeline {

namespace {

constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // Philox4x32 multipliers
constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // key increments

// Philox4x32-10 written out lane by lane (the same rounds and constants as
// Random123's philox4x32, checked against RandomStream in tests/engine).
void uniform_portable(std::uint64_t seed, std::uint32_t stream, std::uint32_t first,
                      std::uint64_t counter, std::size_t n, double* out) {
  const auto key0 = static_cast<std::uint32_t>(seed);
  const auto key1 = static_cast<std::uint32_t>(seed >> 32);
  const auto c2 = static_cast<std::uint32_t>(counter);
  const auto c3 = static_cast<std::uint32_t>(counter >> 32);
  for (std::size_t j = 0; j < n; ++j) {
    std::uint32_t x0 = stream, x1 = first + static_cast<std::uint32_t>(j), x2 = c2, x3 = c3;
    std::uint32_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
      const std::uint64_t p0 = std::uint64_t{kM0} * x0, p1 = std::uint64_t{kM1} * x2;
      const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
      const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
      x0 = hi1 ^ x1 ^ k0;
      x1 = lo1;
      x2 = hi0 ^ x3 ^ k1;
      x3 = lo0;
      k0 += kW0;
      k1 += kW1;
    }
    // uniform(): the top 53 bits of (x0 << 32 | x1), plus one half, over 2^53,
    // from two parts that convert exactly from signed 32-bit integers.
    const auto high = static_cast<std::int32_t>(x0 >> 1);
    const auto low = static_cast<std::int32_t>(((x0 & 1u) << 21) | (x1 >> 11));
    out[j] = (static_cast<double>(high) * 0x1.0p22 + static_cast<double>(low) + 0.5) * 0x1.0p-53;
  }
}

#if defined(__x86_64__)
// Eight streams per AVX2 register. The 32 x 32 -> 64-bit products come from
// vpmuludq on the even lanes and on the odd lanes shifted down, then are
// blended back into high and low words (what a compiler does not find).
__attribute__((target("avx2"))) inline void mulhilo(__m256i x, __m256i m, __m256i& hi,
                                                    __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(x, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

__attribute__((target("avx2"))) std::size_t uniform_avx2(std::uint64_t seed, std::uint32_t stream,
                                                         std::uint32_t first, std::uint64_t counter,
                                                         std::size_t n, double* out) {
  const __m256i m0 = _mm256_set1_epi64x(kM0), m1 = _mm256_set1_epi64x(kM1);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256d scale_high = _mm256_set1_pd(0x1.0p22), half = _mm256_set1_pd(0.5),
                scale = _mm256_set1_pd(0x1.0p-53);
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256i x0 = _mm256_set1_epi32(static_cast<int>(stream));
    __m256i x1 = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(first + j)), lanes);
    __m256i x2 = _mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(counter)));
    __m256i x3 = _mm256_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(counter >> 32)));
    auto k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
    for (int round = 0; round < 10; ++round) {
      __m256i hi0, lo0, hi1, lo1;
      mulhilo(x0, m0, hi0, lo0);
      mulhilo(x2, m1, hi1, lo1);
      x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32(static_cast<int>(k0)));
      x1 = lo1;
      x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32(static_cast<int>(k1)));
      x3 = lo0;
      k0 += kW0;
      k1 += kW1;
    }
    const __m256i high = _mm256_srli_epi32(x0, 1);
    const __m256i low = _mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(x0, one), 21),
                                        _mm256_srli_epi32(x1, 11));
    for (int h = 0; h < 2; ++h) {
      const __m128i hi32 =
          h == 0 ? _mm256_castsi256_si128(high) : _mm256_extracti128_si256(high, 1);
      const __m128i lo32 = h == 0 ? _mm256_castsi256_si128(low) : _mm256_extracti128_si256(low, 1);
      const __m256d v =
          _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(hi32), scale_high),
                                      _mm256_cvtepi32_pd(lo32)),
                        half);
      _mm256_storeu_pd(out + j + 4 * h, _mm256_mul_pd(v, scale));
    }
  }
  return j;
}
#endif

}  // namespace

void uniform_per_entity(std::uint64_t seed, std::uint32_t stream, std::uint32_t first,
                        std::uint64_t counter, std::size_t n, double* out) {
  std::size_t done = 0;
#if defined(__x86_64__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) done = uniform_avx2(seed, stream, first, counter, n, out);
#endif
  uniform_portable(seed, stream, first + static_cast<std::uint32_t>(done), counter, n - done,
                   out + done);
}

void RandomStream::checkpoint(StateArchive& a) {
  a.value("counter", counter_);
  std::uint8_t pos = static_cast<std::uint8_t>(pos_), spare = have_spare_ ? 1 : 0;
  a.value("position", pos);
  a.value("have_spare", spare);
  a.value("spare", spare_);
  if (!a.loading()) return;
  if (pos > 4 || (pos < 4 && counter_ == 0)) {
    throw CheckpointError(fmt::format(
        "checkpoint: random stream at block {} position {}: no such place", counter_, pos));
  }
  have_spare_ = spare != 0;
  if (pos < 4) {
    --counter_;  // the current block is the one before the counter
    refill();
  }
  pos_ = pos;
}

}  // namespace spikeline
