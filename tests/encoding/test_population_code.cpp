// The EMBER population code (encoding/population_code.hpp): which dimensions
// it keeps, which neurons they drive, how many spikes and when, and every
// bad input's message.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "spikeline/encoding/population_code.hpp"
#include "spikeline/encoding/retention.hpp"
#include "spikeline/engine/error.hpp"

using namespace spikeline::encoding;
using Catch::Matchers::Contains;

namespace {

// A volley's structural invariants, whatever the input.
void check_volley(const Volley& v, const PopulationCodeParams& p) {
  REQUIRE(v.kept.size() == p.k);
  REQUIRE(v.neurons.size() == p.k * p.neurons_per_dim);
  REQUIRE(v.counts.size() == v.neurons.size());
  CHECK(std::is_sorted(v.neurons.begin(), v.neurons.end()));
  CHECK(std::adjacent_find(v.neurons.begin(), v.neurons.end()) == v.neurons.end());
  CHECK(v.neurons.back() < p.sensory_size);
  const auto total = std::accumulate(v.counts.begin(), v.counts.end(), std::size_t{0});
  REQUIRE(v.spikes.size() == total);
  std::set<std::pair<std::uint64_t, std::uint32_t>> seen;
  for (const Spike& s : v.spikes) {
    CHECK(s.step < p.window_steps());
    CHECK(seen.insert({s.step, s.neuron}).second);  // never two in one step
    CHECK(std::binary_search(v.neurons.begin(), v.neurons.end(), s.neuron));
  }
  CHECK(std::is_sorted(v.spikes.begin(), v.spikes.end(), [](const Spike& a, const Spike& b) {
    return a.step < b.step || (a.step == b.step && a.neuron < b.neuron);
  }));
}

std::vector<std::uint32_t> kept_indices(const Volley& v) {
  std::vector<std::uint32_t> out;
  for (const auto& kd : v.kept) out.push_back(kd.index);
  return out;
}

}  // namespace

TEST_CASE("encoder: k * m distinct neurons are driven whatever d", "[encoding]") {
  for (auto params : {PopulationCodeParams::plain(), PopulationCodeParams::improved()}) {
    for (std::size_t d : {64, 100, 384, 768, 1536, 4096}) {
      const LabelledSet set = synthetic_set(d, 7, 2, 2);
      const PopulationCode code(params);
      for (std::size_t i = 0; i < set.labels.size(); ++i) {
        check_volley(code.encode(set.item(i)), params);
      }
    }
  }
}

TEST_CASE("encoder: a volley is a function of the embedding and the seed", "[encoding]") {
  const LabelledSet set = synthetic_set(384, 3, 3, 1);
  auto params = PopulationCodeParams::improved();
  params.seed = 11;
  const PopulationCode a(params), b(params);
  for (std::size_t i = 0; i < 3; ++i) {
    const Volley x = a.encode(set.item(i)), y = b.encode(set.item(i));
    CHECK(x.neurons == y.neurons);
    CHECK(x.counts == y.counts);
    CHECK(x.spikes == y.spikes);
  }
  // Another seed: the same dimensions kept, other neurons and phases.
  params.seed = 12;
  const Volley x = a.encode(set.item(0)), z = PopulationCode(params).encode(set.item(0));
  CHECK(kept_indices(x) == kept_indices(z));
  CHECK(x.counts.size() == z.counts.size());
  CHECK(x.neurons != z.neurons);
}

TEST_CASE("encoder: the plain code keeps the k largest z, the improved one the k largest |z|",
          "[encoding]") {
  // Own-entry z-score: mean 0.25, so the largest entries are the largest z.
  const std::vector<double> e = {-9, 0, 1, 3, 2, 0.5, 0, 4.5};
  auto plain = PopulationCodeParams::plain();
  plain.k = 3;
  const Volley v = PopulationCode(plain).encode(e);
  CHECK(kept_indices(v) == std::vector<std::uint32_t>{3, 4, 7});
  for (const auto& kd : v.kept) CHECK_FALSE(kd.negative);
  CHECK(v.counts == std::vector<std::uint32_t>(24, 1));

  auto both = PopulationCodeParams::improved();
  both.k = 3;
  const Volley w = PopulationCode(both).encode(e);
  CHECK(kept_indices(w) == std::vector<std::uint32_t>{0, 3, 7});
  CHECK(w.kept[0].negative);
  CHECK_FALSE(w.kept[1].negative);
  // z = (e - mean) / sd by hand.
  const double mean = 2.0 / 8;
  double ss = 0;
  for (double x : e) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / 8);
  CHECK(w.kept[0].z == Approx((-9 - mean) / sd).epsilon(1e-12));
  CHECK(w.kept[2].z == Approx((4.5 - mean) / sd).epsilon(1e-12));

  // Ties go to the lower index.
  plain.k = 1;
  CHECK(kept_indices(PopulationCode(plain).encode(std::vector<double>{1, 5, 5, 0})) ==
        std::vector<std::uint32_t>{1});
}

TEST_CASE("encoder: graded counts are round(spikes_per_z |z|) in [1, spikes]", "[encoding]") {
  // With corpus statistics mean 0, sd 1, z is the embedding itself.
  auto p = PopulationCodeParams::improved();
  p.k = 4;
  p.neurons_per_dim = 2;
  p.corpus = CorpusStats{std::vector<double>(5, 0.0), std::vector<double>(5, 1.0)};
  const Volley v = PopulationCode(p).encode(std::vector<double>{0.1, -1.3, 10, 0.6, 0.0});
  // Kept: 2 (|z| 10), 1 (1.3), 3 (0.6), 0 (0.1); codes ascending: 0, 3 (1 neg), 4, 6.
  REQUIRE(kept_indices(v) == std::vector<std::uint32_t>{0, 1, 2, 3});
  std::multiset<std::uint32_t> counts(v.counts.begin(), v.counts.end());
  // 0.1 -> round(0.4) = 0 -> 1; 1.3 -> 5; 10 -> 40 -> 16 (the cap); 0.6 -> round(2.4) = 2.
  CHECK(counts == std::multiset<std::uint32_t>{1, 1, 5, 5, 16, 16, 2, 2});
  check_volley(v, p);
  // 16 spikes in 100 steps: evenly spread, 6 or 7 steps apart.
  const std::uint32_t n16 =
      v.neurons[std::find(v.counts.begin(), v.counts.end(), 16u) - v.counts.begin()];
  std::vector<std::uint64_t> steps;
  for (const Spike& s : v.spikes) {
    if (s.neuron == n16) steps.push_back(s.step);
  }
  REQUIRE(steps.size() == 16);
  for (std::size_t j = 1; j < steps.size(); ++j) {
    CHECK(steps[j] - steps[j - 1] >= 6);
    CHECK(steps[j] - steps[j - 1] <= 7);
  }
}

TEST_CASE("encoder: a dimension drives the same neurons in every input", "[encoding]") {
  auto p = PopulationCodeParams::plain();
  p.k = 1;
  const PopulationCode code(p);
  const Volley a = code.encode(std::vector<double>{0, 0, 7, 1, 0});
  const Volley b = code.encode(std::vector<double>{3, -2, 9, 5, 1});
  REQUIRE(kept_indices(a) == std::vector<std::uint32_t>{2});
  REQUIRE(kept_indices(b) == std::vector<std::uint32_t>{2});
  CHECK(a.neurons == b.neurons);
  CHECK(a.spikes == b.spikes);
  // The negative block of a dimension is another set of neurons.
  auto q = PopulationCodeParams::improved();
  q.k = 1;
  const Volley pos = PopulationCode(q).encode(std::vector<double>{0, 0, 7, 0, 0});
  const Volley neg = PopulationCode(q).encode(std::vector<double>{0, 0, -7, 0, 0});
  CHECK(neg.kept[0].negative);
  std::vector<std::uint32_t> shared;
  std::set_intersection(pos.neurons.begin(), pos.neurons.end(), neg.neurons.begin(),
                        neg.neurons.end(), std::back_inserter(shared));
  CHECK(shared.empty());
}

TEST_CASE("encoder: collisions are redrawn, still k * m distinct neurons", "[encoding]") {
  // 64 dimensions x 2 signs into 64 neurons: blocks must collide.
  auto p = PopulationCodeParams::improved();
  p.k = 4;
  p.neurons_per_dim = 8;
  p.sensory_size = 64;
  const PopulationCode code(p);
  const LabelledSet set = synthetic_set(64, 5, 20, 1);
  for (std::size_t i = 0; i < 20; ++i) check_volley(code.encode(set.item(i)), p);
}

TEST_CASE("corpus statistics: mean and population sd per dimension", "[encoding]") {
  const std::vector<double> data = {1, 10, 3, 10, 5, 40};  // 3 embeddings of 2
  const CorpusStats s = CorpusStats::from_embeddings(data, 2);
  CHECK(s.mean == std::vector<double>{3, 20});
  CHECK(s.sd[0] == Approx(std::sqrt(8.0 / 3)).epsilon(1e-14));
  CHECK(s.sd[1] == Approx(std::sqrt(600.0 / 3)).epsilon(1e-14));
  // The code uses them: dimension 1 of (3, 40) has z = 20 / sd1 = 1.41 > z0 = 0.
  auto p = PopulationCodeParams::plain();
  p.k = 1;
  p.corpus = s;
  const Volley v = PopulationCode(p).encode(std::vector<double>{3, 40});
  CHECK(kept_indices(v) == std::vector<std::uint32_t>{1});
  CHECK(v.kept[0].z == Approx(20 / s.sd[1]).epsilon(1e-14));
}

TEST_CASE("encoder: bad embeddings are refused with the item, value and range", "[encoding]") {
  auto p = PopulationCodeParams::plain();
  p.k = 4;
  const PopulationCode code(p);
  using spikeline::DataError;
  REQUIRE_THROWS_AS(code.encode(std::vector<double>{}), DataError);
  REQUIRE_THROWS_WITH(code.encode(std::vector<double>{}),
                      "embedding is empty: it must have at least 1 entry");
  REQUIRE_THROWS_WITH(code.encode(std::vector<double>{1, 2, 3}),
                      "encoder.k = 4 exceeds the embedding's 3 dimensions: k must be in [1, 3]");
  REQUIRE_THROWS_WITH(code.encode(std::vector<double>{1, 2, NAN, 3, 4}),
                      "embedding[2] = nan is invalid: every entry must be finite");
  REQUIRE_THROWS_WITH(code.encode(std::vector<double>{1, 2, 3, -INFINITY, 4}),
                      "embedding[3] = -inf is invalid: every entry must be finite");
  REQUIRE_THROWS_WITH(code.encode(std::vector<double>(6, 0.5)),
                      Contains("embedding is constant (0.5 in all 6 entries)"));
  auto q = p;
  q.corpus = CorpusStats{std::vector<double>(5, 0.0), std::vector<double>(5, 1.0)};
  REQUIRE_THROWS_WITH(
      PopulationCode(q).encode(std::vector<double>(6, 1.0)),
      "embedding has 6 dimensions: the corpus statistics have 5, and it must match them");
  // With corpus statistics a constant vector is fine.
  CHECK(PopulationCode(q).encode(std::vector<double>(5, 1.0)).neurons.size() == 32);

  using spikeline::DataError;
  REQUIRE_THROWS_WITH(CorpusStats::from_embeddings(std::vector<double>{1, 2, 3}, 2),
                      Contains("3 numbers do not make embeddings of dimension 2"));
  REQUIRE_THROWS_WITH(CorpusStats::from_embeddings(std::vector<double>{1, 2}, 2),
                      Contains("1 embedding(s) given: a standard deviation needs at least 2"));
  REQUIRE_THROWS_WITH(CorpusStats::from_embeddings(std::vector<double>{1, 2, 1, INFINITY}, 2),
                      Contains("embedding 1 has inf at dimension 1"));
  REQUIRE_THROWS_WITH(CorpusStats::from_embeddings(std::vector<double>{1, 2, 1, 3}, 2),
                      Contains("dimension 0 is constant (1) across the 2 embeddings"));
}

TEST_CASE("encoder: bad parameters are refused with the item, value and range", "[encoding]") {
  using spikeline::ConfigError;
  auto bad = [](auto change) {
    auto p = PopulationCodeParams::plain();
    change(p);
    return p;
  };
  REQUIRE_THROWS_AS(PopulationCode(bad([](auto& p) { p.k = 0; })), ConfigError);
  REQUIRE_THROWS_WITH(PopulationCode(bad([](auto& p) { p.k = 0; })),
                      "encoder.k = 0 is invalid: it must be >= 1");
  REQUIRE_THROWS_WITH(PopulationCode(bad([](auto& p) { p.neurons_per_dim = 0; })),
                      "encoder.neurons_per_dim = 0 is invalid: it must be >= 1");
  REQUIRE_THROWS_WITH(PopulationCode(bad([](auto& p) { p.sensory_size = 1; })),
                      "encoder.sensory_size = 1 is invalid: it must be in [2, 4294967295]");
  REQUIRE_THROWS_WITH(
      PopulationCode(bad([](auto& p) { p.k = 3126; })),
      "encoder.k = 3126 with encoder.neurons_per_dim = 8 drive more neurons than fit: k * "
      "neurons_per_dim must be at most half of encoder.sensory_size = 50000 (so at most 25000)");
  REQUIRE_THROWS_WITH(PopulationCode(bad([](auto& p) { p.dt_ms = NAN; })),
                      "encoder.dt_ms = nan ms is invalid: it must be finite and > 0");
  REQUIRE_THROWS_WITH(PopulationCode(bad([](auto& p) { p.window_ms = 0.5; })),
                      Contains("encoder.window_ms = 0.5 ms is invalid: it must be finite and in "
                               "[dt_ms, 1e9 dt_ms] = [1, 1000000000] ms"));
  REQUIRE_THROWS_WITH(PopulationCode(bad([](auto& p) { p.window_ms = 100.5; })),
                      Contains("encoder.window_ms = 100.5 ms is invalid: it must be a whole "
                               "number of steps of dt_ms = 1 ms"));
  REQUIRE_THROWS_WITH(PopulationCode(bad([](auto& p) { p.spikes = 101; })),
                      Contains("encoder.spikes = 101 is invalid: it must be in [1, 100]"));
  REQUIRE_THROWS_WITH(PopulationCode(bad([](auto& p) { p.spikes_per_z = -1; })),
                      "encoder.spikes_per_z = -1 is invalid: it must be finite and > 0");
  REQUIRE_THROWS_WITH(PopulationCode(bad([](auto& p) {
                        p.corpus = CorpusStats{{0.0, 1.0}, {1.0}};
                      })),
                      Contains("encoder.corpus: 2 means and 1 standard deviations"));
  REQUIRE_THROWS_WITH(PopulationCode(bad([](auto& p) {
                        p.corpus = CorpusStats{{0.0, 1.0}, {1.0, 0.0}};
                      })),
                      "encoder.corpus: sd[1] = 0 is invalid: it must be finite and > 0");
  REQUIRE_THROWS_WITH(PopulationCode(bad([](auto& p) {
                        p.corpus = CorpusStats{{0.0, NAN}, {1.0, 1.0}};
                      })),
                      "encoder.corpus: mean[1] = nan is invalid: it must be finite");
}
