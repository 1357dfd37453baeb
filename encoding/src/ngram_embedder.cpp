#include "spikeline/encoding/ngram_embedder.hpp"

#include <cmath>
#include <string>

#include <fmt/format.h>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/random.hpp"

namespace spikeline::encoding {

namespace {

bool is_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::uint64_t hash(std::string_view bytes, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  // FNV's low bits mix poorly; the finaliser spreads every input bit.
  return splitmix64(h ^ splitmix64(seed));
}

}  // namespace

NgramEmbedderParams NgramEmbedderParams::from(const ParamMap& t,
                                              const std::vector<std::string>& other_keys) {
  std::vector<std::string> keys = {"dim", "min_n", "max_n", "seed"};
  keys.insert(keys.end(), other_keys.begin(), other_keys.end());
  t.check_keys(keys);
  NgramEmbedderParams g;
  g.dim = t.whole("dim", static_cast<double>(g.dim), 1, 1e6);
  g.min_n = t.whole("min_n", static_cast<double>(g.min_n), 1, 32);
  g.max_n = t.whole("max_n", static_cast<double>(g.max_n), 1, 32);
  g.seed = t.whole("seed", 0, 0, 9007199254740992.0);
  g.validate();
  return g;
}

void NgramEmbedderParams::validate() const {
  if (dim < 1 || dim > 1000000) {
    throw ConfigError(fmt::format("embedder.dim = {} is invalid: it must be in [1, 1000000]", dim));
  }
  if (min_n < 1) {
    throw ConfigError(fmt::format("embedder.min_n = {} is invalid: it must be >= 1", min_n));
  }
  if (max_n < min_n || max_n > 32) {
    throw ConfigError(fmt::format(
        "embedder.max_n = {} is invalid: it must be in [min_n, 32] = [{}, 32]", max_n, min_n));
  }
}

NgramEmbedder::NgramEmbedder(NgramEmbedderParams params) : params_(params) {
  params_.validate();
}

std::vector<double> NgramEmbedder::embed(std::string_view text) const {
  std::string norm = " ";
  for (unsigned char c : text) {
    if (is_space(c)) {
      if (norm.back() != ' ') norm.push_back(' ');
    } else {
      norm.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a')
                                          : static_cast<char>(c));
    }
  }
  if (norm.size() == 1) {
    throw DataError(
        fmt::format("text {} has no character other than whitespace: there is nothing to embed",
                    quote_input(text)));
  }
  if (norm.back() != ' ') norm.push_back(' ');

  // Integer counts first: the sum does not depend on the order of n-grams.
  std::vector<std::int64_t> counts(params_.dim, 0);
  const std::string_view s = norm;
  for (std::size_t n = params_.min_n; n <= params_.max_n && n <= s.size(); ++n) {
    for (std::size_t i = 0; i + n <= s.size(); ++i) {
      const std::uint64_t h = hash(s.substr(i, n), params_.seed);
      // Multiply-shift: the high bits pick the dimension, bit 0 the sign.
      const auto dim = static_cast<std::size_t>((static_cast<uint128>(h) * params_.dim) >> 64);
      counts[dim] += (h & 1) ? 1 : -1;
    }
  }
  double ss = 0;
  for (std::int64_t c : counts) ss += static_cast<double>(c) * static_cast<double>(c);
  if (ss == 0) {
    // Possible only if the signed n-grams cancel exactly in every dimension.
    throw DataError(fmt::format(
        "text {} hashes to the zero vector (its n-grams cancel): change embedder.seed or dim",
        quote_input(text)));
  }
  const double inv = 1.0 / std::sqrt(ss);
  std::vector<double> out(params_.dim);
  for (std::size_t i = 0; i < params_.dim; ++i) out[i] = static_cast<double>(counts[i]) * inv;
  return out;
}

}  // namespace spikeline::encoding
