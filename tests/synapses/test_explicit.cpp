// Explicit edges (a SONATA edges file or a list in the config).
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "spikeline/engine/error.hpp"

#include "harness.hpp"

using namespace spikeline;
using namespace spikeline::test;
using Catch::Contains;

namespace {

const TimeGrid grid(0.1);

ConnectionSpec edges(std::vector<std::uint64_t> source, std::vector<std::uint64_t> target,
                     std::vector<double> weight = {}, std::vector<double> delay = {}) {
  auto s = spec(Rule::explicit_edges, "projection 'file'");
  s.edges.source = std::move(source);
  s.edges.target = std::move(target);
  s.edges.weight = std::move(weight);
  s.edges.delay_ms = std::move(delay);
  return s;
}

}  // namespace

TEST_CASE("explicit edges come out in the given order with the listed weights and delays",
          "[explicit]") {
  const auto s = edges({0, 2, 1, 2, 0}, {1, 0, 1, 2, 1}, {0.5, -1.0, 2.0, 3.0, 0.25},
                       {0.1, 0.2, 1.0, 0.3, 0.1});
  const auto r = run(s, 3, 3, true, grid);
  REQUIRE(r.size() == 5);
  const std::uint32_t src[] = {0, 2, 1, 2, 0}, tgt[] = {1, 0, 1, 2, 1}, del[] = {1, 2, 10, 3, 1};
  const float w[] = {0.5f, -1.0f, 2.0f, 3.0f, 0.25f};
  for (std::size_t k = 0; k < 5; ++k) {
    CAPTURE(k);
    CHECK(r[k].source == src[k]);
    CHECK(r[k].target == tgt[k]);
    CHECK(r[k].weight == w[k]);
    CHECK(r[k].delay == del[k]);
  }
  // Different source and target sizes.
  const auto rect = run(edges({4}, {1}, {1.5}, {0.4}), 5, 2, false, grid);
  REQUIRE(rect.size() == 1);
  CHECK((rect[0].source == 4 && rect[0].target == 1 && rect[0].delay == 4));
}

TEST_CASE("explicit edges without lists take the projection's weight and delay", "[explicit]") {
  auto s = edges({0, 1, 2}, {2, 1, 0});
  s.weight = ValueSpec::constant(2.5);
  s.delay = ValueSpec::constant(0.5);
  const auto r = run(s, 3, 3, false, grid);
  REQUIRE(r.size() == 3);
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(r[k].source == k);
    CHECK(r[k].target == 2 - k);
    CHECK(r[k].weight == 2.5f);
    CHECK(r[k].delay == 5);
  }
  // Only the weights listed: delays from the spec.
  s.edges.weight = {1, 2, 3};
  const auto w = run(s, 3, 3, false, grid);
  REQUIRE(w.size() == 3);
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(w[k].weight == float(k + 1));
    CHECK(w[k].delay == 5);
  }
  // Only the delays listed: weights from the spec.
  s.edges.weight.clear();
  s.edges.delay_ms = {0.1, 0.2, 0.3};
  const auto d = run(s, 3, 3, false, grid);
  REQUIRE(d.size() == 3);
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(d[k].weight == 2.5f);
    CHECK(d[k].delay == k + 1);
  }
  CHECK(run(edges({}, {}), 3, 3, false, grid).empty());
}

TEST_CASE("explicit edges out of range name the edge and the valid range", "[explicit]") {
  const auto bad_source = edges({0, 1, 3}, {0, 0, 0});
  REQUIRE_THROWS_AS(run(bad_source, 3, 4, false, grid), DataError);
  REQUIRE_THROWS_WITH(run(bad_source, 3, 4, false, grid),
                      Contains("projection 'file'") && Contains("edge 2") && Contains("< 3"));
  const auto bad_target = edges({0, 1}, {0, 4});
  REQUIRE_THROWS_AS(run(bad_target, 3, 4, false, grid), DataError);
  REQUIRE_THROWS_WITH(run(bad_target, 3, 4, false, grid),
                      Contains("edge 1") && Contains("4") && Contains("< 4"));
}

TEST_CASE("explicit edge lists of different lengths are a data error", "[explicit]") {
  REQUIRE_THROWS_AS(run(edges({0, 1}, {0}), 3, 3, false, grid), DataError);
  REQUIRE_THROWS_WITH(run(edges({0, 1}, {0}), 3, 3, false, grid),
                      Contains("projection 'file'") && Contains("length"));
  REQUIRE_THROWS_AS(run(edges({0, 1}, {0, 1}, {1.0}), 3, 3, false, grid), DataError);
  REQUIRE_THROWS_AS(run(edges({0, 1}, {0, 1}, {}, {0.1, 0.2, 0.3}), 3, 3, false, grid), DataError);
  REQUIRE_THROWS_AS(run(edges({0}, {0, 1}, {1.0, 1.0}, {0.1, 0.1}), 3, 3, false, grid), DataError);
}

TEST_CASE("explicit delays off the grid or weights that are not finite name the edge",
          "[explicit]") {
  const auto off = edges({0, 1, 2}, {0, 1, 2}, {}, {0.1, 0.2, 0.15});
  REQUIRE_THROWS_AS(run(off, 3, 3, false, grid), DataError);
  REQUIRE_THROWS_WITH(run(off, 3, 3, false, grid), Contains("projection 'file'") &&
                                                       Contains("edge 2") && Contains("0.15") &&
                                                       Contains("not a whole number"));
  const auto short_delay = edges({0, 1}, {0, 1}, {}, {0.05, 0.2});
  REQUIRE_THROWS_AS(run(short_delay, 3, 3, false, grid), DataError);
  REQUIRE_THROWS_WITH(run(short_delay, 3, 3, false, grid), Contains("edge 0"));
  const auto nan_weight = edges({0, 1}, {0, 1}, {1.0, NAN});
  REQUIRE_THROWS_AS(run(nan_weight, 3, 3, false, grid), DataError);
  REQUIRE_THROWS_WITH(run(nan_weight, 3, 3, false, grid), Contains("edge 1"));
}

TEST_CASE("explicit edges with taps: one synapse per tap", "[explicit][taps]") {
  const TimeGrid ms(1.0);
  auto s = edges({0, 1}, {1, 0}, {0.5, 0.75}, {2.0, 5.0});
  s.taps = 3;
  const auto r = run(s, 2, 2, false, ms);
  REQUIRE(r.size() == 6);
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK((r[k].source == 0 && r[k].target == 1 && r[k].weight == 0.5f && r[k].delay == 2 + k));
    CHECK((r[3 + k].source == 1 && r[3 + k].weight == 0.75f && r[3 + k].delay == 5 + k));
  }
}

TEST_CASE("explicit edges with listed delays and a weight distribution draw a weight per tap",
          "[explicit][taps]") {
  // connect.hpp: "every connected pair gets D synapses ... and a weight drawn
  // for each tap". With the delays listed but the weights from a
  // distribution, each tap must get its own draw, as it does when neither
  // list is given.
  const TimeGrid ms(1.0);
  auto s = edges({0, 1}, {1, 0}, {}, {2.0, 5.0});
  s.taps = 8;
  s.weight = ValueSpec::normal(0, 1);
  const auto r = run(s, 2, 2, false, ms);
  REQUIRE(r.size() == 16);
  for (std::size_t e = 0; e < 2; ++e) {
    CAPTURE(e);
    std::set<float> w;
    for (std::size_t k = 0; k < 8; ++k) w.insert(r[8 * e + k].weight);
    CHECK(w.size() > 1);
  }
  // Neither list: a draw per tap (for comparison; this path is right).
  s.edges.delay_ms.clear();
  s.delay = ValueSpec::constant(2.0);
  const auto r2 = run(s, 2, 2, false, ms);
  REQUIRE(r2.size() == 16);
  std::set<float> w2;
  for (std::size_t k = 0; k < 8; ++k) w2.insert(r2[k].weight);
  CHECK(w2.size() > 1);
}
