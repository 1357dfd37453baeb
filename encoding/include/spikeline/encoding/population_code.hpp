// The EMBER input encoder: a text embedding in, a spike volley on the
// sensory layer out (docs/ember.md; shared/specs/ember.md, "Encoder").
//
//   1. z_i = (e_i - mu_i) / sigma_i, with mu, sigma per dimension from a
//      reference corpus (CorpusStats) when one is given, else the mean and
//      standard deviation of the vector's own entries.
//   2. Keep k dimensions: the k largest z (tails = upper, the spec's plain
//      code) or the k largest |z| (tails = both). Ties go to the lower index.
//   3. Each kept dimension, with the sign of its z under tails = both, is a
//      code c = 2 i + (z < 0); c owns m sensory neurons, drawn from the
//      counter-based stream (seed, stream (encoding, 0), entity = c): a hash
//      of the index, the same for every input. Where a draw hits a neuron
//      already driven by this volley (a collision), the next draw of the same
//      stream is taken; codes are served in ascending order, so the volley is
//      a function of the set of kept codes alone, and exactly k m distinct
//      neurons are driven whatever the embedding dimension d.
//   4. Each driven neuron fires `spikes` times in the window (plain), or
//      clamp(round(spikes_per_z |z|), 1, spikes) times (graded), at the steps
//      floor((j + u) W / n), j < n, of the W-step window, with u in [0, 1)
//      from the stream (seed, stream (encoding, 1), entity = neuron): spread
//      over the window, never two in one step, the same phase every time.
//
// Why the improved code (both tails, graded): the plain code keeps one bit
// (kept or not) of the k largest entries, and at d = 64 with k = d / 8 = 8
// two paraphrases share few of them (retention about 0.5); the lower tail
// carries as much information as the upper one and the grading keeps the
// magnitude, so the same k m neurons carry more of the vector
// (bench/results/ember_retention.md).
//
// Pure computation: no I/O, no state between calls; a PopulationCode may be
// shared between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "spikeline/engine/params.hpp"

namespace spikeline::encoding {

// Mean and standard deviation per dimension of a reference corpus of
// embeddings. Population standard deviation (divide by n).
struct CorpusStats {
  std::vector<double> mean;
  std::vector<double> sd;

  // From `count` embeddings of `dim` entries each, row-major in `data`.
  // DataError for fewer than 2 embeddings, a size that is not count * dim,
  // a non-finite entry (naming embedding and dimension) or a dimension that
  // is constant across the corpus (sd 0: no z-score exists).
  static CorpusStats from_embeddings(std::span<const double> data, std::size_t dim);

  std::size_t dim() const { return mean.size(); }
  // ConfigError unless mean and sd have the same non-zero size, every mean
  // is finite and every sd finite and > 0 (naming the dimension).
  void validate() const;
};

struct PopulationCodeParams {
  enum class Tails { upper, both };

  std::size_t k = 64;                // dimensions kept, >= 1 and <= d
  std::size_t neurons_per_dim = 8;   // m, >= 1
  std::size_t sensory_size = 50000;  // neurons of the sensory layer
  double window_ms = 100;            // presentation window, > 0
  double dt_ms = 1;                  // the simulation step; window / dt whole
  Tails tails = Tails::upper;
  bool graded = false;       // spike count by |z|
  double spikes_per_z = 4;   // graded: spikes per unit of |z|
  std::uint32_t spikes = 1;  // plain: each neuron's count; graded: the cap
  std::uint64_t seed = 0;
  std::optional<CorpusStats> corpus;  // absent: z over the vector's own entries

  // The spec's plain code and the improved one the benchmark measures.
  static PopulationCodeParams plain();
  static PopulationCodeParams improved();
  // The improved code with the values of a config table (`[ember.encoder]`,
  // a [[clamp]]'s `encoder`): k, neurons_per_dim, window (ms), tails
  // ("both" | "upper"), spikes_per_z (0: the plain count), spikes, seed;
  // `corpus` is allowed and left to the caller (a file). dt and the
  // sensory size come from the network. Validated (ConfigError naming the
  // key).
  static PopulationCodeParams from(const ParamMap& table, double dt_ms, std::uint64_t sensory_size);

  std::uint64_t window_steps() const;
  // ConfigError naming the parameter, its value and the valid range:
  // k, neurons_per_dim, sensory_size >= 1; k * neurons_per_dim at most half
  // of sensory_size (so that collision draws stay cheap) and below 2^32;
  // window_ms, dt_ms finite and > 0 with window_ms / dt_ms a whole number of
  // steps; spikes in 1 .. window steps; spikes_per_z finite and > 0; the
  // corpus statistics valid.
  void validate() const;
};

// A kept dimension: its index, its z and whether the negative block drives.
struct KeptDimension {
  std::uint32_t index = 0;
  double z = 0;
  bool negative = false;
};

struct Spike {
  std::uint64_t step = 0;  // within the window, 0 .. window_steps - 1
  std::uint32_t neuron = 0;
  friend bool operator==(const Spike&, const Spike&) = default;
};

struct Volley {
  std::vector<KeptDimension> kept;     // ascending code (2 index + negative)
  std::vector<std::uint32_t> neurons;  // driven neurons, ascending
  std::vector<std::uint32_t> counts;   // spikes of neurons[i] in the window
  std::vector<Spike> spikes;           // ordered by (step, neuron)
};

class PopulationCode {
 public:
  // Validates `params` (ConfigError).
  explicit PopulationCode(PopulationCodeParams params);

  // DataError naming the problem, the value and the valid range for an
  // empty embedding, one whose size differs from the corpus statistics', a
  // NaN or infinite entry (with its index), k > d, or (without corpus
  // statistics) a constant vector, which has no z-score.
  Volley encode(std::span<const double> embedding) const;

  const PopulationCodeParams& params() const { return params_; }

 private:
  PopulationCodeParams params_;
};

}  // namespace spikeline::encoding
