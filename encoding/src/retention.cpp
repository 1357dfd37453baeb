#include "spikeline/encoding/retention.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/random.hpp"

namespace spikeline::encoding {

LabelledSet synthetic_set(std::size_t dim, std::uint64_t seed, std::size_t concepts,
                          std::size_t paraphrases, double noise) {
  if (dim < 1 || concepts < 1 || paraphrases < 1) {
    throw ConfigError(
        fmt::format("synthetic set: dim = {}, concepts = {}, paraphrases = {}: each must be >= 1",
                    dim, concepts, paraphrases));
  }
  if (!(std::isfinite(noise) && noise >= 0)) {
    throw ConfigError(
        fmt::format("synthetic set: noise = {} is invalid: it must be finite and >= 0", noise));
  }
  LabelledSet set;
  set.dim = dim;
  set.embeddings.resize(concepts * paraphrases * dim);
  set.labels.resize(concepts * paraphrases);
  std::vector<double> centre(dim);
  for (std::size_t c = 0; c < concepts; ++c) {
    RandomStream centres(seed, stream_id(StreamKind::synthetic_embeddings, 0),
                         static_cast<std::uint32_t>(c));
    for (double& x : centre) x = centres.normal();
    for (std::size_t p = 0; p < paraphrases; ++p) {
      const std::size_t item = c * paraphrases + p;
      RandomStream draws(seed, stream_id(StreamKind::synthetic_embeddings, 1),
                         static_cast<std::uint32_t>(item));
      for (std::size_t i = 0; i < dim; ++i) {
        set.embeddings[item * dim + i] = centre[i] + noise * draws.normal();
      }
      set.labels[item] = static_cast<std::uint32_t>(c);
    }
  }
  return set;
}

double auc(std::span<const double> positive, std::span<const double> negative) {
  if (positive.empty() || negative.empty()) {
    throw ConfigError(fmt::format("auc: {} positive and {} negative scores: both must be >= 1",
                                  positive.size(), negative.size()));
  }
  // Ranks of the pooled scores, tied runs given their mean rank; the
  // positives' rank sum minus its minimum counts the (negative, positive)
  // pairs in order (Mann-Whitney U).
  std::vector<std::pair<double, bool>> pooled;
  pooled.reserve(positive.size() + negative.size());
  for (double s : positive) pooled.emplace_back(s, true);
  for (double s : negative) pooled.emplace_back(s, false);
  for (const auto& [s, pos] : pooled) {
    if (std::isnan(s)) throw ConfigError("auc: a score is NaN: scores must be numbers");
  }
  std::sort(pooled.begin(), pooled.end());
  double rank_sum = 0;
  for (std::size_t i = 0; i < pooled.size();) {
    std::size_t j = i;
    std::size_t pos_in_run = 0;
    while (j < pooled.size() && pooled[j].first == pooled[i].first)
      pos_in_run += pooled[j++].second;
    const double mean_rank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1 .. j
    rank_sum += mean_rank * static_cast<double>(pos_in_run);
    i = j;
  }
  const double n1 = static_cast<double>(positive.size());
  const double n0 = static_cast<double>(negative.size());
  return (rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0);
}

double cosine(std::span<const double> a, std::span<const double> b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

double weighted_jaccard(const Volley& a, const Volley& b) {
  double lo = 0, hi = 0;
  std::size_t i = 0, j = 0;
  while (i < a.neurons.size() || j < b.neurons.size()) {
    if (j == b.neurons.size() || (i < a.neurons.size() && a.neurons[i] < b.neurons[j])) {
      hi += a.counts[i++];
    } else if (i == a.neurons.size() || b.neurons[j] < a.neurons[i]) {
      hi += b.counts[j++];
    } else {
      lo += std::min(a.counts[i], b.counts[j]);
      hi += std::max(a.counts[i], b.counts[j]);
      ++i;
      ++j;
    }
  }
  return hi == 0 ? 1.0 : lo / hi;
}

Retention retention(const LabelledSet& set, const PopulationCode& code) {
  const std::size_t n = set.labels.size();
  std::vector<Volley> volleys;
  std::vector<std::uint64_t> totals;  // spikes of each volley
  volleys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    volleys.push_back(code.encode(set.item(i)));
    totals.push_back(std::accumulate(volleys.back().counts.begin(), volleys.back().counts.end(),
                                     std::uint64_t{0}));
  }
  // weighted_jaccard for every pair, with item i's counts scattered into a
  // dense array: sum max = total_i + total_j - sum min, so only a lookup per
  // neuron of j (the merge of two sorted lists took 5 times as long). Integer
  // sums: the same value, bit for bit.
  std::vector<std::uint32_t> dense(code.params().sensory_size, 0);
  std::vector<double> within_emb, between_emb, within_spk, between_spk;
  for (std::size_t i = 0; i < n; ++i) {
    const Volley& a = volleys[i];
    for (std::size_t q = 0; q < a.neurons.size(); ++q) dense[a.neurons[q]] = a.counts[q];
    for (std::size_t j = i + 1; j < n; ++j) {
      const Volley& b = volleys[j];
      std::uint64_t lo = 0;
      for (std::size_t q = 0; q < b.neurons.size(); ++q) {
        lo += std::min(dense[b.neurons[q]], b.counts[q]);
      }
      const std::uint64_t hi = totals[i] + totals[j] - lo;
      const bool same = set.labels[i] == set.labels[j];
      (same ? within_emb : between_emb).push_back(cosine(set.item(i), set.item(j)));
      (same ? within_spk : between_spk)
          .push_back(hi == 0 ? 1.0 : static_cast<double>(lo) / static_cast<double>(hi));
    }
    for (std::uint32_t neuron : a.neurons) dense[neuron] = 0;
  }
  Retention r;
  r.auc_embeddings = auc(within_emb, between_emb);
  r.auc_spikes = auc(within_spk, between_spk);
  r.retention = (r.auc_spikes - 0.5) / (r.auc_embeddings - 0.5);
  return r;
}

}  // namespace spikeline::encoding
