// A built-in deterministic text embedder: hashed character n-grams, so that
// the EMBER loop runs offline and in tests without an embedding model.
//
//   1. The text is lower-cased (ASCII letters only; other bytes, UTF-8
//      included, are kept as they are), runs of whitespace become one space,
//      and one space is added at each end, so that words' first and last
//      letters make n-grams of their own.
//   2. Every n-gram of bytes, n in [min_n, max_n], adds +1 or -1 to one of
//      d dimensions: the dimension and the sign come from a 64-bit hash of
//      (n-gram, seed) (FNV-1a, then the splitmix64 finaliser), the signed
//      feature hashing of Weinberger et al. (2009). Signs make collisions
//      cancel on average instead of adding up.
//   3. The vector is L2-normalised.
//
// Properties: identical texts give identical vectors on every machine (no
// floating point before the normalisation, integer hashing only); the
// cosine of two texts grows with the n-grams they share, so paraphrases
// that keep words (or their stems) score far above unrelated texts, while
// synonyms with no letters in common do not. It is a lexical embedder, not
// a semantic one: plug a real model in through JSON lines (docs/ember.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "spikeline/engine/params.hpp"

namespace spikeline::encoding {

struct NgramEmbedderParams {
  std::size_t dim = 384;  // output dimensions, in [1, 1e6]
  std::size_t min_n = 3;  // shortest n-gram, >= 1
  std::size_t max_n = 5;  // longest, in [min_n, 32]
  std::uint64_t seed = 0;
  // ConfigError naming the parameter, the value and the valid range.
  void validate() const;
  // From a config table (`[ember.embedder]`, a [[clamp]]'s `embedder`):
  // dim, min_n, max_n, seed, and the caller's `other_keys` (left to it).
  // Validated.
  static NgramEmbedderParams from(const ParamMap& table,
                                  const std::vector<std::string>& other_keys = {});
};

class NgramEmbedder {
 public:
  explicit NgramEmbedder(NgramEmbedderParams params);
  // DataError for a text with no non-whitespace character (no embedding
  // exists for it).
  std::vector<double> embed(std::string_view text) const;
  const NgramEmbedderParams& params() const { return params_; }

 private:
  NgramEmbedderParams params_;
};

}  // namespace spikeline::encoding
