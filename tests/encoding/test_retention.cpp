// The retention measure (encoding/retention.hpp): the AUC and the weighted
// Jaccard by hand, the synthetic set, and the codes' retention against the
// spec's figures.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "spikeline/encoding/retention.hpp"
#include "spikeline/engine/error.hpp"

using namespace spikeline::encoding;
using Catch::Matchers::Contains;

TEST_CASE("retention: the AUC of a tiny case, by hand", "[encoding]") {
  // Pairs (positive, negative): 0.9 beats 0.5 and 0.1 (2); each 0.5 ties the
  // 0.5 (1/2) and beats 0.1 (1): (2 + 1.5 + 1.5) / 6.
  CHECK(auc(std::vector<double>{0.9, 0.5, 0.5}, std::vector<double>{0.5, 0.1}) ==
        Approx(5.0 / 6).epsilon(1e-15));
  CHECK(auc(std::vector<double>{2, 3}, std::vector<double>{0, 1}) == 1.0);
  CHECK(auc(std::vector<double>{0, 1}, std::vector<double>{2, 3}) == 0.0);
  CHECK(auc(std::vector<double>{1, 1, 1}, std::vector<double>{1, 1}) == 0.5);
  REQUIRE_THROWS_WITH(auc(std::vector<double>{}, std::vector<double>{1}),
                      "auc: 0 positive and 1 negative scores: both must be >= 1");
  REQUIRE_THROWS_WITH(auc(std::vector<double>{NAN}, std::vector<double>{1}),
                      "auc: a score is NaN: scores must be numbers");
}

TEST_CASE("retention: weighted Jaccard of spike counts, by hand", "[encoding]") {
  Volley a, b;
  a.neurons = {1, 4, 9};
  a.counts = {2, 3, 1};
  b.neurons = {4, 5, 9};
  b.counts = {1, 4, 1};
  // min: n4 1, n9 1 = 2; max: n1 2, n4 3, n5 4, n9 1 = 10.
  CHECK(weighted_jaccard(a, b) == 0.2);
  CHECK(weighted_jaccard(b, a) == 0.2);
  CHECK(weighted_jaccard(a, a) == 1.0);
  // One spike each: the Jaccard index of the sets, |{4, 9}| / |{1, 4, 5, 9}|.
  a.counts = {1, 1, 1};
  b.counts = {1, 1, 1};
  CHECK(weighted_jaccard(a, b) == 0.5);
  CHECK(weighted_jaccard(Volley{}, Volley{}) == 1.0);
}

TEST_CASE("retention: the synthetic set is the spec's, from the seed", "[encoding]") {
  const LabelledSet s = synthetic_set(64, 1);
  REQUIRE(s.labels.size() == 320);
  REQUIRE(s.embeddings.size() == 320 * 64);
  CHECK(s.labels[0] == 0);
  CHECK(s.labels[7] == 0);
  CHECK(s.labels[8] == 1);
  CHECK(s.labels[319] == 39);
  CHECK(synthetic_set(64, 1).embeddings == s.embeddings);
  CHECK(synthetic_set(64, 2).embeddings != s.embeddings);
  // Entries are N(0, 1 + 1.5^2 = 3.25); with 20,480 of them (not
  // independent: 8 share a centre) the variance estimate's standard error is
  // about 0.07, so +-0.3 is more than 4 of them.
  double sum = 0, ss = 0;
  for (double x : s.embeddings) sum += x;
  const double mean = sum / static_cast<double>(s.embeddings.size());
  for (double x : s.embeddings) ss += (x - mean) * (x - mean);
  CHECK(std::abs(mean) < 0.1);
  CHECK(ss / static_cast<double>(s.embeddings.size()) == Approx(3.25).margin(0.3));
  // Paraphrases of one concept differ by 1.5 sqrt(2) N(0, I) only: their
  // difference's variance is 4.5, a centre's and another's 2 * 3.25.
  double within = 0, between = 0;
  for (std::size_t i = 0; i < 64; ++i) {
    within += std::pow(s.item(0)[i] - s.item(1)[i], 2);
    between += std::pow(s.item(0)[i] - s.item(8)[i], 2);
  }
  CHECK(within / 64 == Approx(4.5).margin(1.6));  // chi2(64): sd of the mean 4.5 * 0.18
  CHECK(between / 64 == Approx(6.5).margin(2.3));
  REQUIRE_THROWS_WITH(synthetic_set(0, 1),
                      Contains("dim = 0, concepts = 40, paraphrases = 8: each must be >= 1"));
}

TEST_CASE("retention: the pairs' AUCs, bit for bit from their definitions", "[encoding]") {
  // retention() scores pairs on a fast path; the definitions, pair by pair.
  const LabelledSet set = synthetic_set(96, 4, 6, 3);
  for (auto params : {PopulationCodeParams::plain(), PopulationCodeParams::improved()}) {
    params.k = 12;
    const PopulationCode code(params);
    std::vector<double> we, be, ws, bs;
    for (std::size_t i = 0; i < 18; ++i) {
      for (std::size_t j = i + 1; j < 18; ++j) {
        const bool same = i / 3 == j / 3;
        (same ? we : be).push_back(cosine(set.item(i), set.item(j)));
        (same ? ws : bs)
            .push_back(weighted_jaccard(code.encode(set.item(i)), code.encode(set.item(j))));
      }
    }
    const Retention r = retention(set, code);
    CHECK(r.auc_embeddings == auc(we, be));
    CHECK(r.auc_spikes == auc(ws, bs));
    CHECK(r.retention == (auc(ws, bs) - 0.5) / (auc(we, be) - 0.5));
    CHECK(r.retention > 0.1);  // not a degenerate case
  }
}

// The spec measured the plain code (k = min(64, d / 8), m = 8) at about
// 0.50 at d = 64 and 0.90-0.95 at d = 384 and above. Over ten seeds of the
// standard set (bench/results/ember_retention.md) we measure 0.551 +- 0.025
// (sd; range 0.52-0.60) at d = 64 and 0.919 +- 0.008 (0.905-0.927) at
// d = 384. The windows hold the spec's figure and our mean, each widened by
// 3-4 of the seeds' standard deviations: a change of the code that moves
// retention by more than the seed-to-seed spread fails.
TEST_CASE("retention: the plain code reproduces the spec's figures", "[encoding]") {
  auto p = PopulationCodeParams::plain();
  p.k = 8;
  const Retention r64 = retention(synthetic_set(64, 1), PopulationCode(p));
  CHECK(r64.auc_embeddings > 0.95);
  CHECK(r64.retention > 0.42);
  CHECK(r64.retention < 0.65);
  p.k = 48;
  const Retention r384 = retention(synthetic_set(384, 1), PopulationCode(p));
  CHECK(r384.auc_embeddings > 0.999);
  CHECK(r384.retention > 0.87);
  CHECK(r384.retention < 0.96);
  // k = d: every input drives the same neurons, every pair has Jaccard 1,
  // AUC exactly 1/2 and retention exactly 0.
  p.k = 64;
  CHECK(retention(synthetic_set(64, 1, 10, 4), PopulationCode(p)).retention == 0.0);
}

// The bar for the improved code is 0.9 at every d. The two ends of
// the range on the standard set (seed 1; over ten seeds the full set
// measures 0.944-0.959 at d = 64 and 0.915-0.940 at d = 1536: d = 1536, where
// k = 64 keeps 4 % of the dimensions, is the closest to the bar). A smaller
// set would be cheaper but its spread (about twice the full set's at a
// quarter of the pairs) would put the bar within reach of chance.
TEST_CASE("retention: the improved code keeps >= 0.9 at d = 64 and 1536", "[encoding]") {
  const PopulationCode code(PopulationCodeParams::improved());
  for (std::size_t d : {64, 1536}) {
    const Retention r = retention(synthetic_set(d, 1), code);
    INFO("d = " << d << ", retention " << r.retention);
    CHECK(r.retention >= 0.9);
  }
}
