// Discrimination retention: how much of an embedding space's ability to
// tell concepts apart survives the population code (shared/specs/ember.md,
// "Discrimination retention"; docs/ember.md).
//
// A labelled set of embeddings (C concepts, P paraphrases each). For every
// unordered pair of items, a similarity: cosine on the embeddings, weighted
// Jaccard on the volleys. Discriminability = the AUC that a random
// within-concept pair is more similar than a random between-concept pair
// (ties count one half: the Mann-Whitney statistic over all pairs).
//   retention = (AUC_spikes - 0.5) / (AUC_embeddings - 0.5)
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "spikeline/encoding/population_code.hpp"

namespace spikeline::encoding {

// Row-major embeddings with a concept label each.
struct LabelledSet {
  std::size_t dim = 0;
  std::vector<double> embeddings;  // labels.size() * dim
  std::vector<std::uint32_t> labels;
  std::span<const double> item(std::size_t i) const { return {&embeddings[i * dim], dim}; }
};

// The spec's standard synthetic set: concept centres N(0, I_d), a paraphrase
// = its centre + noise * N(0, I_d); item c * paraphrases + p is paraphrase p
// of concept c. The normals come from the counter-based streams
// (seed, stream (synthetic_embeddings, 0), entity = concept) for the centres
// and (seed, stream (synthetic_embeddings, 1), entity = item) for the noise,
// d draws each in dimension order. ConfigError for a zero size.
LabelledSet synthetic_set(std::size_t dim, std::uint64_t seed, std::size_t concepts = 40,
                          std::size_t paraphrases = 8, double noise = 1.5);

// P(a random `positive` score > a random `negative` one), ties one half.
// O((n + m) log(n + m)). ConfigError if either is empty or holds a NaN.
double auc(std::span<const double> positive, std::span<const double> negative);

double cosine(std::span<const double> a, std::span<const double> b);

// Weighted Jaccard similarity of two volleys over the spike counts per
// neuron: sum_n min(a_n, b_n) / sum_n max(a_n, b_n) (Ioffe 2010's weighted
// Jaccard). With one spike per driven neuron (the plain code) it is the
// Jaccard index |A & B| / |A | B| of the driven sets, as the spec defines it;
// with graded counts a neuron driven by both volleys counts as much as the
// smaller count, so a shared dimension that is strong in both weighs more
// than one that barely made the top k in one of them. 1 for two empty volleys.
double weighted_jaccard(const Volley& a, const Volley& b);

struct Retention {
  double auc_embeddings = 0;
  double auc_spikes = 0;
  double retention = 0;
};

// Encodes every item with `code` and measures both AUCs over all pairs.
Retention retention(const LabelledSet& set, const PopulationCode& code);

}  // namespace spikeline::encoding
