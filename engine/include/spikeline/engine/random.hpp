// Counter-based random streams.
//
// Every random number in spikeline is a pure function of
// (seed, stream, entity, counter): Philox4x32-10 (Salmon et al. 2011, via
// Random123) encrypts the counter (stream, entity, counter) under the key
// (seed). No generator state is shared between neurons or threads, so the
// thread count, the partitioning and the order in which work is scheduled
// cannot change a result, and a checkpoint only needs the counters.
//
// The distributions are our own (not <random>'s, whose algorithms differ
// between standard libraries) so results are bit-identical across platforms.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

#include <Random123/philox.h>

namespace spikeline {

class StateArchive;

// What a stream is used for; combined with an object index (population,
// projection) into the 32-bit stream id, so that two uses never share numbers.
enum class StreamKind : std::uint32_t {
  initial_state = 1,
  connectivity = 2,
  weights = 3,
  delays = 4,
  generator = 5,
  model_noise = 6,
  learning = 7,
  user = 8,
  reward = 9,
  dropout = 10,
  poisson_input = 11,
  // Per-neuron parameters drawn from a distribution: stream (parameters,
  // population index), entity = neuron, counter from fnv1a32(name) << 32.
  parameters = 12,
  // Current devices (noise_current, a plugin's, through plugin ABI 1.6):
  // stream (noise_current, stimulus index), entity = neuron, counter as the
  // device chooses (noise_current: the index of the noise interval, aligned
  // to time 0).
  noise_current = 13,
  // The input encoder (encoding/): stream (encoding, 0), entity = a kept
  // dimension's code (2 index + sign) for its neurons; stream (encoding, 1),
  // entity = neuron for the phase of its spikes in the window.
  encoding = 14,
  // The synthetic labelled embeddings of encoding/retention.hpp: stream
  // (synthetic_embeddings, 0), entity = concept for the centres; stream
  // (synthetic_embeddings, 1), entity = item for the paraphrase noise.
  synthetic_embeddings = 15,
};

constexpr std::uint32_t stream_id(StreamKind kind, std::uint32_t index) {
  return (static_cast<std::uint32_t>(kind) << 24) ^ (index & 0x00ffffffu);
}

class RandomStream {
 public:
  RandomStream(std::uint64_t seed, std::uint32_t stream, std::uint32_t entity,
               std::uint64_t counter = 0)
      : key_{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}},
        stream_(stream),
        entity_(entity),
        counter_(counter) {}

  // Position of the next block. With the place in the current block, the
  // whole state besides the key: checkpoint() walks it.
  std::uint64_t counter() const noexcept { return counter_; }
  void checkpoint(StateArchive& a);

  std::uint32_t next_u32() {
    if (pos_ == 4) refill();
    return block_[pos_++];
  }
  std::uint64_t next_u64() {
    const std::uint64_t hi = next_u32();
    return (hi << 32) | next_u32();
  }
  // Uniform on (0, 1): 53 random bits, never exactly 0 or 1, so log() is safe.
  double uniform() { return (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53; }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Uniform integer in [0, n) without modulo bias (Lemire 2019).
  std::uint64_t below(std::uint64_t n);
  // Standard normal: the ziggurat (Marsaglia and Tsang 2000, 256 layers),
  // exact. One 64-bit draw and a multiply 98.8% of the time, where
  // Box-Muller took a log and a sincos per pair (PD14 at scale 0.35, whose
  // weights and delays are normal: build 2.4-2.7 -> 1.9-2.1 s at 2 threads).
  double normal();
  double normal(double mean, double sd) { return mean + sd * normal(); }
  double exponential(double rate) { return -std::log(uniform()) / rate; }
  // Number of failures before the first success of Bernoulli(p) trials, p in (0, 1].
  std::uint64_t geometric(double p);
  // Poisson(lambda): inversion for small lambda, PTRS (Hörmann 1993) above 10.
  std::uint64_t poisson(double lambda);
  // Binomial(n, p): the geometric waiting-time method while n*min(p, 1-p) < 10
  // (cost ~ n*p), BTRS above (Hörmann 1993, transformed rejection with
  // squeeze: a few uniforms whatever n). Exact in both regimes.
  std::uint64_t binomial(std::uint64_t n, double p);

 private:
  // The 1.2% of draws outside a layer's rectangle (the wedges, the tail).
  double normal_slow(std::uint64_t bits, double x);
  void refill() {
    using Philox = r123::Philox4x32;
    const Philox::ctr_type ctr = {{stream_, entity_, static_cast<std::uint32_t>(counter_),
                                   static_cast<std::uint32_t>(counter_ >> 32)}};
    const Philox::key_type key = {{key_[0], key_[1]}};
    const auto out = Philox{}(ctr, key);
    for (int i = 0; i < 4; ++i) block_[i] = out.v[i];
    ++counter_;
    pos_ = 0;
  }

  std::array<std::uint32_t, 2> key_;
  std::uint32_t stream_;
  std::uint32_t entity_;
  std::uint64_t counter_;
  std::array<std::uint32_t, 4> block_{};
  int pos_ = 4;
};

// The first uniform() of many entities' streams at once:
//   out[j] = RandomStream(seed, stream, first + j, counter).uniform(), j < n,
// bit for bit. Neuron models that draw one number per neuron per step (noise
// currents) call this instead of a RandomStream per neuron: the Philox rounds
// are lane-wise multiplies and xors, computed eight streams per register
// where the CPU has AVX2 (a portable loop elsewhere and for the remainder).
void uniform_per_entity(std::uint64_t seed, std::uint32_t stream, std::uint32_t first,
                        std::uint64_t counter, std::size_t n, double* out);

// GCC and Clang's 128-bit integer; __extension__ keeps -Wpedantic quiet.
__extension__ using uint128 = unsigned __int128;

inline std::uint64_t RandomStream::below(std::uint64_t n) {
  if (n <= 1) return 0;
  // 64x64 -> 128 multiply-shift with rejection of the biased low range.
  uint128 m = static_cast<uint128>(next_u64()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = -n % n;
    while (low < threshold) {
      m = static_cast<uint128>(next_u64()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

namespace detail {
extern const std::array<double, 257> kNormalLayerX;  // x[0] > x[1] = r > ... > x[256] = 0
extern const std::array<double, 257> kNormalLayerF;  // exp(-x[i]^2 / 2)
}  // namespace detail

inline double RandomStream::normal() {
  // Bits 0-7 pick the layer, bit 8 the sign, bits 11-63 the position.
  const std::uint64_t bits = next_u64();
  const unsigned i = bits & 0xff;
  const double x = static_cast<double>(bits >> 11) * 0x1.0p-53 * detail::kNormalLayerX[i];
  if (x < detail::kNormalLayerX[i + 1]) return (bits >> 8) & 1 ? -x : x;
  return normal_slow(bits, x);
}

inline std::uint64_t RandomStream::geometric(double p) {
  if (p >= 1.0) return 0;
  return static_cast<std::uint64_t>(std::floor(std::log(uniform()) / std::log1p(-p)));
}

inline std::uint64_t RandomStream::poisson(double lambda) {
  if (!(lambda > 0)) return 0;
  if (lambda < 10) {
    // Inversion by sequential search.
    const double limit = std::exp(-lambda);
    double prod = uniform();
    std::uint64_t k = 0;
    while (prod > limit) {
      prod *= uniform();
      ++k;
    }
    return k;
  }
  // PTRS: transformed rejection with squeeze (Hörmann 1993).
  const double slam = std::sqrt(lambda), loglam = std::log(lambda);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = uniform() - 0.5, v = uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<std::uint64_t>(k);
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
        -lambda + k * loglam - std::lgamma(k + 1)) {
      return static_cast<std::uint64_t>(k);
    }
  }
}

inline std::uint64_t RandomStream::binomial(std::uint64_t n, double p) {
  if (!(p > 0) || n == 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(n, 1.0 - p);  // the rejection needs p <= 1/2
  const double nd = static_cast<double>(n);
  if (nd * p < 10) {
    std::uint64_t count = 0;
    std::uint64_t pos = geometric(p);
    while (pos < n) {
      ++count;
      pos += 1 + geometric(p);
    }
    return count;
  }
  // BTRS, with the exact log-density (lgamma) in the acceptance test.
  const double q = 1.0 - p, spq = std::sqrt(nd * p * q);
  const double b = 1.15 + 2.53 * spq, a = -0.0873 + 0.0248 * b + 0.01 * p;
  const double c = nd * p + 0.5, vr = 0.92 - 4.2 / b;
  const double alpha = (2.83 + 5.1 / b) * spq, lpq = std::log(p / q);
  const double m = std::floor((nd + 1) * p);
  const double h = std::lgamma(m + 1) + std::lgamma(nd - m + 1);
  for (;;) {
    const double u = uniform() - 0.5, v = uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2 * a / us + b) * u + c);
    if (k < 0 || k > nd) continue;
    if (us >= 0.07 && v <= vr) return static_cast<std::uint64_t>(k);
    if (std::log(v * alpha / (a / (us * us) + b)) <=
        h - std::lgamma(k + 1) - std::lgamma(nd - k + 1) + (k - m) * lpq) {
      return static_cast<std::uint64_t>(k);
    }
  }
}

}  // namespace spikeline
