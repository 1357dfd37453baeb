// Determinism of connect(), expected_synapses(), and the layout of connect()'s
// output in a Connectivity for different partitionings.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "spikeline/engine/error.hpp"

#include "harness.hpp"

using namespace spikeline;
using namespace spikeline::test;
using Catch::Contains;

namespace {

const TimeGrid grid(0.1);

// One spec per random rule, with random weights and delays, so that every
// random draw connect() makes is covered.
std::vector<ConnectionSpec> random_specs() {
  std::vector<ConnectionSpec> out;
  auto base = spec(Rule::fixed_probability, "projection 'r'");
  base.weight = ValueSpec::normal(1.0, 0.5);
  base.delay = ValueSpec::uniform(0.1, 3.0);
  base.p = 0.1;
  out.push_back(base);
  base.rule = Rule::fixed_indegree;
  base.indegree = 12;
  out.push_back(base);
  base.multapses = false;
  out.push_back(base);
  base.rule = Rule::fixed_outdegree;
  base.outdegree = 9;
  out.push_back(base);
  base.multapses = true;
  out.push_back(base);
  base.rule = Rule::fixed_total_number;
  base.total = 3000;
  out.push_back(base);
  base.rule = Rule::all_to_all;
  out.push_back(base);
  base.rule = Rule::one_to_one;
  out.push_back(base);
  return out;
}

}  // namespace

TEST_CASE("connect is a pure function of the seed and the projection index", "[determinism]") {
  for (const auto& s : random_specs()) {
    CAPTURE(synapses::rule_name(s.rule), s.multapses);
    const auto a = run(s, 120, 120, true, grid, 7, 3);
    REQUIRE(!a.empty());
    // Repeated calls: identical records, bit for bit.
    CHECK(same_records(a, run(s, 120, 120, true, grid, 7, 3)));
    CHECK(same_records(a, run(s, 120, 120, true, grid, 7, 3)));
    // Another seed, another projection: different networks.
    CHECK_FALSE(same_records(a, run(s, 120, 120, true, grid, 8, 3)));
    CHECK_FALSE(same_records(a, run(s, 120, 120, true, grid, 7, 4)));
    // Seeds that differ only in the high 32 bits are different seeds.
    CHECK_FALSE(same_records(a, run(s, 120, 120, true, grid, 7 + (std::uint64_t(1) << 32), 3)));
  }
}

TEST_CASE("expected_synapses is exact for the deterministic rules", "[expected]") {
  auto check = [](ConnectionSpec s, std::size_t ns, std::size_t nt, bool same) {
    for (const std::uint32_t taps : {1u, 3u}) {
      s.taps = taps;
      const auto ctx = context(ns, nt, same, grid);
      const auto r = synapses::connect(s, ctx);
      CAPTURE(synapses::rule_name(s.rule), ns, nt, same, s.autapses, s.multapses, taps);
      CHECK(synapses::expected_synapses(s, ctx) == double(r.size()));
    }
  };
  for (const bool autapses : {true, false}) {
    auto s = spec(Rule::one_to_one);
    s.autapses = autapses;
    check(s, 10, 10, false);
    check(s, 10, 10, true);  // without autapses: 0 synapses
    s.rule = Rule::all_to_all;
    check(s, 10, 10, true);
    check(s, 10, 10, false);
    check(s, 7, 13, false);
    for (const bool multapses : {true, false}) {
      s.multapses = multapses;
      s.rule = Rule::fixed_indegree;
      s.indegree = 4;
      check(s, 10, 10, true);
      check(s, 8, 30, false);
      s.rule = Rule::fixed_outdegree;
      s.outdegree = 5;
      check(s, 10, 10, true);
      check(s, 30, 8, false);
    }
    s.multapses = true;
    s.rule = Rule::fixed_total_number;
    s.total = 77;
    check(s, 10, 10, true);
    check(s, 6, 9, false);
  }
  auto e = spec(Rule::explicit_edges);
  e.edges.source = {0, 1, 2, 2};
  e.edges.target = {1, 1, 0, 0};
  check(e, 3, 3, false);
  e.edges.weight = {1, 2, 3, 4};
  check(e, 3, 3, false);
}

TEST_CASE("expected_synapses for fixed_probability is the binomial mean", "[expected]") {
  // 4 sigma of Binomial(pairs, p): false failure ~6e-5 (see harness.hpp).
  auto s = spec(Rule::fixed_probability);
  s.p = 0.05;
  for (const bool autapses : {true, false}) {
    s.autapses = autapses;
    for (const std::uint32_t taps : {1u, 2u}) {
      s.taps = taps;
      const auto ctx = context(500, 500, true, grid);
      const double expected = synapses::expected_synapses(s, ctx);
      const double pairs = autapses ? 500.0 * 500.0 : 500.0 * 499.0;
      CHECK(expected == Approx(s.p * pairs * taps).epsilon(1e-12));
      const double sigma = taps * std::sqrt(pairs * s.p * (1 - s.p));
      const double actual = double(synapses::connect(s, ctx).size());
      CAPTURE(autapses, taps, expected, actual, sigma);
      CHECK(std::abs(actual - expected) < 4 * sigma);
    }
  }
}

TEST_CASE("projections too large for memory are refused before they are drawn", "[expected]") {
  auto s = spec(Rule::all_to_all, "projection 'huge'");
  REQUIRE_THROWS_AS(run(s, 100000, 100000, false, grid), ConfigError);
  REQUIRE_THROWS_WITH(run(s, 100000, 100000, false, grid), Contains("projection 'huge'"));
}

TEST_CASE("a Connectivity from connect()'s output is the same for 1 and 5 partitions",
          "[connectivity]") {
  for (auto s : random_specs()) {
    if (s.rule == Rule::one_to_one) continue;
    CAPTURE(synapses::rule_name(s.rule), s.multapses);
    const std::size_t ns = 47, nt = 53;  // not multiples of 5
    const auto r = run(s, ns, nt, false, grid, 99, 1);
    const Connectivity one(r, ns, nt, Partitioning(1));
    const Connectivity five(r, ns, nt, Partitioning(5));
    CHECK(one.size() == r.size());
    CHECK(five.size() == r.size());
    const auto c1 = one.canonical();
    const auto c5 = five.canonical();
    CHECK(same_records(c1, c5));
    // And both are connect()'s records in (source, target, delay, insertion)
    // order.
    auto sorted = r;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const SynapseRecord& a, const SynapseRecord& b) {
                       if (a.source != b.source) return a.source < b.source;
                       if (a.target != b.target) return a.target < b.target;
                       return a.delay < b.delay;
                     });
    CHECK(same_records(c1, sorted));
  }
  // Multi-tap synapses too.
  const TimeGrid ms(1.0);
  auto s = spec(Rule::fixed_indegree);
  s.indegree = 3;
  s.taps = 41;
  s.weight = ValueSpec::normal(0, 1);
  const auto r = run(s, 20, 23, false, ms);
  CHECK(same_records(Connectivity(r, 20, 23, Partitioning(1)).canonical(),
                     Connectivity(r, 20, 23, Partitioning(5)).canonical()));
}

namespace {

bool same_blocks(const Connectivity& a, const Connectivity& b) {
  if (a.size() != b.size() || a.blocks() != b.blocks() || a.min_delay() != b.min_delay() ||
      a.max_delay() != b.max_delay() || a.distinct_delays() != b.distinct_delays()) {
    return false;
  }
  for (unsigned p = 0; p < a.blocks(); ++p) {
    const auto &x = a.block(p), &y = b.block(p);
    if (x.row != y.row || x.narrow != y.narrow || x.base != y.base || x.offset != y.offset ||
        x.target != y.target || x.weight != y.weight || x.groups.size() != y.groups.size()) {
      return false;
    }
    for (std::size_t g = 0; g < x.groups.size(); ++g) {
      if (x.groups[g].begin != y.groups[g].begin || x.groups[g].delay != y.groups[g].delay ||
          x.groups[g].consecutive != y.groups[g].consecutive ||
          x.groups[g].first != y.groups[g].first) {
        return false;
      }
    }
  }
  return true;
}

// A source that breaks the contract: its second pass differs from its first.
class FickleSource final : public SynapseSource {
 public:
  bool by_target() const override { return true; }
  void generate(NeuronIndex first, NeuronIndex last, const Sink& sink) const override {
    std::vector<SynapseRecord> r;
    for (NeuronIndex t = first; t < last; ++t) r.push_back({0, t, 1.0f, 1});
    if (calls_++ % 2 == 1) r.push_back({0, first, 1.0f, 2});
    sink(r);
  }

 private:
  mutable std::atomic<int> calls_{0};
};

// Same count on both passes, but the second moves synapse `moved` to the
// other of two sources: moved to source 1 (the last), its row would run past
// the block; moved to source 0, into source 1's row.
class SwappingSource final : public SynapseSource {
 public:
  explicit SwappingSource(std::size_t moved) : moved_(moved) {}
  bool by_target() const override { return true; }
  void generate(NeuronIndex first, NeuronIndex last, const Sink& sink) const override {
    std::vector<SynapseRecord> r;
    for (NeuronIndex t = first; t < last; ++t) r.push_back({t % 2, t, 1.0f, 1});
    if (calls_++ % 2 == 1) r[moved_].source = 1 - r[moved_].source;
    sink(r);
  }

 private:
  std::size_t moved_;
  mutable std::atomic<int> calls_{0};
};

// Valid pairs for the counting pass, an invalid delay when placed: the
// placing pass is the first to see the delays.
class BadDelaySource final : public SynapseSource {
 public:
  bool by_target() const override { return true; }
  void generate(NeuronIndex first, NeuronIndex last, const Sink& sink) const override {
    std::vector<SynapseRecord> r;
    for (NeuronIndex t = first; t < last; ++t) r.push_back({0, t, 1.0f, 0});
    sink(r);
  }
  void generate_pairs(NeuronIndex first, NeuronIndex last, const Sink& sink) const override {
    std::vector<SynapseRecord> r;
    for (NeuronIndex t = first; t < last; ++t) r.push_back({0, t, 0.0f, 1});
    sink(r);
  }
};

class OutOfRangeSource final : public SynapseSource {
 public:
  bool by_target() const override { return true; }
  void generate(NeuronIndex, NeuronIndex, const Sink& sink) const override {
    const SynapseRecord r[1] = {{3, 7, 1.0f, 1}};  // target 7 whatever the range
    sink(r);
  }
};

}  // namespace

TEST_CASE("a Connectivity drawn from make_source is laid out exactly as from connect()'s list",
          "[connectivity]") {
  // The lazy source is asked for each partition's targets, twice; the layout
  // (every block's arrays, not just the canonical order) must not change.
  auto specs = random_specs();
  auto listed = spec(Rule::explicit_edges);  // in no particular order, with multapses
  for (std::uint64_t k = 0; k < 400; ++k) {
    listed.edges.source.push_back((k * 7919) % 47);
    listed.edges.target.push_back((k * 104729) % 47);
    listed.edges.weight.push_back(0.001 * static_cast<double>(k));
    listed.edges.delay_ms.push_back(0.1 * static_cast<double>(1 + k % 5));
  }
  specs.push_back(listed);
  // The same pairs with weights and delays drawn (from each target's stream).
  auto drawn = listed;
  drawn.edges.weight.clear();
  drawn.edges.delay_ms.clear();
  drawn.weight = ValueSpec::normal(1.0, 0.5);
  drawn.delay = ValueSpec::uniform(0.1, 2.0);
  specs.push_back(drawn);
  for (auto s : specs) {
    CAPTURE(synapses::rule_name(s.rule), s.multapses);
    const bool square = s.rule == Rule::one_to_one || s.rule == Rule::explicit_edges;
    const std::size_t ns = 47, nt = square ? 47 : 53;
    const auto ctx = context(ns, nt, true, grid, 99, 1);
    const auto r = synapses::connect(s, ctx);
    const auto src = synapses::make_source(s, ctx);
    // Any range of targets: the full list's synapses onto it, in its order.
    std::vector<SynapseRecord> want, got;
    for (const auto& x : r)
      if (x.target >= 10 && x.target < 30) want.push_back(x);
    src->generate(10, 30, [&](std::span<const SynapseRecord> part) {
      got.insert(got.end(), part.begin(), part.end());
    });
    REQUIRE(!want.empty());
    CHECK(same_records(got, want));
    // generate_pairs: the same pairs in the same order (what the counting
    // pass relies on), whatever it leaves out.
    std::vector<SynapseRecord> pairs;
    src->generate_pairs(10, 30, [&](std::span<const SynapseRecord> part) {
      pairs.insert(pairs.end(), part.begin(), part.end());
    });
    REQUIRE(pairs.size() == got.size());
    for (std::size_t k = 0; k < pairs.size(); ++k) {
      CHECK(pairs[k].source == got[k].source);
      CHECK(pairs[k].target == got[k].target);
    }
    for (unsigned parts : {1u, 2u, 5u}) {
      CAPTURE(parts);
      CHECK(same_blocks(Connectivity(r, ns, nt, Partitioning(parts)),
                        Connectivity(*src, ns, nt, Partitioning(parts))));
    }
  }
  // Large enough that a partition is drawn in several slices (2^16 synapses
  // each; 700,000 per partition here), with 41 taps.
  const TimeGrid ms(1.0);
  auto s = spec(Rule::all_to_all);
  s.taps = 41;
  s.weight = ValueSpec::normal(0, 1);
  const auto ctx = context(180, 190, true, ms, 5, 0);  // 1.4M synapses
  const auto r = synapses::connect(s, ctx);
  REQUIRE(r.size() == 180u * 190u * 41u);
  CHECK(same_blocks(Connectivity(r, 180, 190, Partitioning(2)),
                    Connectivity(*synapses::make_source(s, ctx), 180, 190, Partitioning(2))));
}

TEST_CASE("a synapse source that breaks its contract is refused", "[connectivity]") {
  CHECK_THROWS_WITH(Connectivity(FickleSource(), 1, 10, Partitioning(2)),
                    Contains("more synapses on its second pass"));
  for (const std::size_t moved : {0u, 1u}) {
    CHECK_THROWS_WITH(Connectivity(SwappingSource(moved), 2, 10, Partitioning(1)),
                      Contains("passes disagree on the sources"));
  }
  CHECK_THROWS_WITH(Connectivity(BadDelaySource(), 1, 10, Partitioning(1)),
                    Contains("synapse 0 -> 0 (delay 0 steps) is invalid"));
  // A target outside the partition asked for: named, with the valid ranges.
  CHECK_THROWS_WITH(Connectivity(OutOfRangeSource(), 4, 5, Partitioning(1)),
                    Contains("synapse 3 -> 7 (delay 1 steps) is invalid: sources must be < 4, "
                             "targets < 5"));
}
