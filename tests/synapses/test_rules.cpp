// Connection rules: which pairs each rule connects, the autapse and multapse
// options, the statistics of the random rules, and the errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/synapses/sampling.hpp"

#include "harness.hpp"

using namespace spikeline;
using namespace spikeline::test;
using Catch::Contains;

namespace {
const TimeGrid grid(0.1);
}

// ---------------------------------------------------------------- one_to_one

TEST_CASE("one_to_one connects exactly i -> i", "[rules][one_to_one]") {
  auto s = spec(Rule::one_to_one);
  s.weight = ValueSpec::constant(2.5);
  s.delay = ValueSpec::constant(0.7);
  for (const bool same : {false, true}) {
    CAPTURE(same);
    const auto r = run(s, 50, 50, same, grid);
    REQUIRE(r.size() == 50);
    for (std::size_t i = 0; i < r.size(); ++i) {
      CHECK(r[i].source == i);
      CHECK(r[i].target == i);
      CHECK(r[i].weight == 2.5f);
      CHECK(r[i].delay == 7);
    }
  }
}

TEST_CASE("one_to_one needs equal sizes and names the projection and both", "[rules][one_to_one]") {
  auto s = spec(Rule::one_to_one, "projection 'exc->inh'");
  REQUIRE_THROWS_AS(run(s, 7, 9, false, grid), ConfigError);
  REQUIRE_THROWS_WITH(run(s, 7, 9, false, grid),
                      Contains("projection 'exc->inh'") && Contains("7") && Contains("9"));
  REQUIRE_THROWS_WITH(run(s, 12, 5, false, grid), Contains("12") && Contains("5"));
}

TEST_CASE("one_to_one without autapses", "[rules][one_to_one]") {
  auto s = spec(Rule::one_to_one);
  s.autapses = false;
  SECTION("within one population it makes nothing") {
    CHECK(run(s, 20, 20, true, grid).empty());
  }
  SECTION("between two populations i -> i is not an autapse") {
    const auto r = run(s, 20, 20, false, grid);
    REQUIRE(r.size() == 20);
    for (std::size_t i = 0; i < r.size(); ++i) CHECK((r[i].source == i && r[i].target == i));
  }
}

// ---------------------------------------------------------------- all_to_all

TEST_CASE("all_to_all connects every pair once", "[rules][all_to_all]") {
  auto s = spec(Rule::all_to_all);
  const auto r = run(s, 6, 4, false, grid);
  REQUIRE(r.size() == 24);
  const auto pairs = pair_counts(r);
  REQUIRE(pairs.size() == 24);
  for (const auto& [p, n] : pairs) {
    CHECK(p.first < 6);
    CHECK(p.second < 4);
    CHECK(n == 1);
  }
  // Same population with autapses (the default): the diagonal is included.
  const auto self = run(s, 5, 5, true, grid);
  CHECK(self.size() == 25);
  CHECK(autapse_count(self) == 5);
}

TEST_CASE("all_to_all without autapses drops the diagonal of one population only",
          "[rules][all_to_all]") {
  auto s = spec(Rule::all_to_all);
  s.autapses = false;
  const auto r = run(s, 7, 7, true, grid);
  REQUIRE(r.size() == 7 * 7 - 7);
  CHECK(autapse_count(r) == 0);
  const auto pairs = pair_counts(r);
  CHECK(pairs.size() == 42);
  for (const auto& [p, n] : pairs) CHECK(n == 1);

  // Two different populations: i -> i connects two different neurons.
  const auto other = run(s, 7, 7, false, grid);
  CHECK(other.size() == 49);
  CHECK(autapse_count(other) == 7);
  const auto rect = run(s, 5, 8, false, grid);
  CHECK(rect.size() == 40);
  CHECK(autapse_count(rect) == 5);
}

// ---------------------------------------------------------------- fixed_probability

TEST_CASE("fixed_probability makes about p * pairs synapses, each pair at most once",
          "[rules][fixed_probability]") {
  // The count is Binomial(pairs, p). 4 sigma two-sided: a correct rule fails
  // with probability ~6e-5 for a random seed; see harness.hpp.
  auto s = spec(Rule::fixed_probability);
  s.p = 0.1;
  const std::size_t ns = 400, nt = 300;
  const auto r = run(s, ns, nt, false, grid);
  const double pairs = double(ns) * double(nt);
  const double mean = s.p * pairs, sigma = std::sqrt(pairs * s.p * (1 - s.p));
  CAPTURE(r.size(), mean, sigma);
  CHECK(std::abs(double(r.size()) - mean) < 4 * sigma);
  for (const auto& [p, n] : pair_counts(r)) {
    REQUIRE(n == 1);
    REQUIRE(p.first < ns);
    REQUIRE(p.second < nt);
  }
}

TEST_CASE("fixed_probability draws every source equally often, including the first and last",
          "[rules][fixed_probability]") {
  // Per-source counts are independent Binomial(nt, p); sum (O-E)^2/E is then
  // about (1-p) chi-square(ns), below the chi-square(ns) bound at 1e-4.
  // A skipping error (starting at 1 + geometric, or stepping by geometric
  // without the +1) would empty source 0 or double the density.
  auto s = spec(Rule::fixed_probability);
  s.p = 0.1;
  const std::size_t ns = 50, nt = 4000;
  const auto r = run(s, ns, nt, false, grid);
  const auto counts = per_source(r, ns);
  const double x2 = chi_square(counts, s.p * double(nt));
  CAPTURE(x2, counts.front(), counts.back());
  CHECK(x2 < chi_square_bound(double(ns)));
  CHECK(counts.front() > 0);
  CHECK(counts.back() > 0);
}

TEST_CASE("fixed_probability without autapses", "[rules][fixed_probability]") {
  auto s = spec(Rule::fixed_probability);
  s.p = 0.3;
  s.autapses = false;
  const std::size_t n = 300;
  const auto r = run(s, n, n, true, grid);
  CHECK(autapse_count(r) == 0);
  const double pairs = double(n) * double(n - 1);
  CHECK(std::abs(double(r.size()) - s.p * pairs) < 4 * std::sqrt(pairs * s.p * (1 - s.p)));
  // Different populations keep i -> i.
  CHECK(autapse_count(run(s, n, n, false, grid)) > 0);
}

TEST_CASE("fixed_probability with p = 0 and p = 1", "[rules][fixed_probability]") {
  auto s = spec(Rule::fixed_probability);
  s.p = 0;
  CHECK(run(s, 100, 80, false, grid).empty());
  s.p = 1;
  const auto all = run(s, 30, 20, false, grid);
  REQUIRE(all.size() == 600);
  CHECK(pair_counts(all).size() == 600);
  s.autapses = false;
  const auto no_self = run(s, 20, 20, true, grid);
  CHECK(no_self.size() == 380);
  CHECK(autapse_count(no_self) == 0);
  CHECK(pair_counts(no_self).size() == 380);
}

TEST_CASE("fixed_probability refuses p outside [0, 1] and names the value",
          "[rules][fixed_probability]") {
  auto s = spec(Rule::fixed_probability, "projection 'e->i'");
  s.p = 1.5;
  REQUIRE_THROWS_AS(run(s, 10, 10, false, grid), ConfigError);
  REQUIRE_THROWS_WITH(run(s, 10, 10, false, grid),
                      Contains("projection 'e->i'") && Contains("p = 1.5") && Contains("[0, 1]"));
  s.p = -0.1;
  REQUIRE_THROWS_WITH(run(s, 10, 10, false, grid), Contains("p = -0.1"));
  s.p = NAN;
  REQUIRE_THROWS_WITH(run(s, 10, 10, false, grid), Contains("p = nan"));
  s.p = INFINITY;
  REQUIRE_THROWS_AS(run(s, 10, 10, false, grid), ConfigError);
}

TEST_CASE("fixed_probability with a huge p reports p, not a synapse count",
          "[rules][fixed_probability]") {
  // p is validated only after the size estimate p * pairs, so p = 1e6 on
  // 100 x 100 neurons reports "about 1e+10 synapses; a projection holds at
  // most 4e9" instead of "p = 1e+06 is out of range: valid is [0, 1]".
  auto s = spec(Rule::fixed_probability);
  s.p = 1e6;
  REQUIRE_THROWS_AS(run(s, 100, 100, false, grid), ConfigError);
  REQUIRE_THROWS_WITH(run(s, 100, 100, false, grid), Contains("p = 1000000") && Contains("[0, 1]"));
}

// ---------------------------------------------------------------- fixed_indegree

TEST_CASE("fixed_indegree gives every target exactly K uniformly drawn sources",
          "[rules][fixed_indegree]") {
  const std::size_t ns = 50, nt = 2000, K = 10;
  auto s = spec(Rule::fixed_indegree);
  s.indegree = K;
  for (const bool multapses : {true, false}) {
    CAPTURE(multapses);
    s.multapses = multapses;
    const auto r = run(s, ns, nt, false, grid);
    REQUIRE(r.size() == K * nt);
    for (const auto n : per_target(r, nt)) REQUIRE(n == K);
    if (!multapses) {
      for (const auto& [p, n] : pair_counts(r)) REQUIRE(n == 1);
    }
    // Sources uniform: chi-square over ns cells (ns - 1 dof) at 1e-4.
    const double x2 = chi_square(per_source(r, ns), double(K * nt) / double(ns));
    CAPTURE(x2, chi_square_bound(ns - 1.0));
    CHECK(x2 < chi_square_bound(ns - 1.0));
  }
}

TEST_CASE("fixed_indegree with multapses actually draws repeated sources",
          "[rules][fixed_indegree]") {
  // 20 draws from 10 sources: a repeat is certain (pigeonhole).
  auto s = spec(Rule::fixed_indegree);
  s.indegree = 20;
  const auto r = run(s, 10, 5, false, grid);
  REQUIRE(r.size() == 100);
  std::size_t repeats = 0;
  for (const auto& [p, n] : pair_counts(r)) repeats += n > 1;
  CHECK(repeats > 0);
}

TEST_CASE("fixed_indegree without autapses never draws i -> i and stays uniform over the others",
          "[rules][fixed_indegree]") {
  const std::size_t n = 100, K = 40;
  auto s = spec(Rule::fixed_indegree);
  s.indegree = K;
  s.autapses = false;
  for (const bool multapses : {true, false}) {
    CAPTURE(multapses);
    s.multapses = multapses;
    const auto r = run(s, n, n, true, grid);
    REQUIRE(r.size() == n * K);
    CHECK(autapse_count(r) == 0);
    for (const auto c : per_target(r, n)) REQUIRE(c == K);
    if (!multapses) {
      for (const auto& [p, c] : pair_counts(r)) REQUIRE(c == 1);
    }
    // The offset (source - target) mod n must be uniform on 1..n-1: skipping
    // the target's own index must not favour its neighbour or drop the last.
    std::vector<std::size_t> offset(n - 1, 0);
    for (const auto& x : r) ++offset[(x.source + n - x.target) % n - 1];
    const double x2 = chi_square(offset, double(n * K) / double(n - 1));
    CAPTURE(x2);
    CHECK(x2 < chi_square_bound(n - 2.0));
    const double x2s = chi_square(per_source(r, n), double(K));
    CHECK(x2s < chi_square_bound(n - 1.0));
  }
  // Different populations: i -> i allowed.
  s.multapses = true;
  CHECK(autapse_count(run(s, n, n, false, grid)) > 0);
}

TEST_CASE("fixed_indegree without multapses needs K <= the pool", "[rules][fixed_indegree]") {
  auto s = spec(Rule::fixed_indegree, "projection 'x->y'");
  s.multapses = false;
  s.indegree = 11;
  REQUIRE_THROWS_AS(run(s, 10, 4, false, grid), ConfigError);
  REQUIRE_THROWS_WITH(run(s, 10, 4, false, grid),
                      Contains("projection 'x->y'") && Contains("11") && Contains("10"));
  // Without autapses the pool is one smaller.
  s.indegree = 10;
  s.autapses = false;
  REQUIRE_THROWS_WITH(run(s, 10, 10, true, grid), Contains("indegree = 10") && Contains("9"));
  // K equal to the pool: every target gets every other neuron once.
  s.indegree = 9;
  const auto r = run(s, 10, 10, true, grid);
  REQUIRE(r.size() == 90);
  CHECK(pair_counts(r).size() == 90);
  CHECK(autapse_count(r) == 0);
  // With multapses K may exceed the pool.
  s.multapses = true;
  s.indegree = 25;
  CHECK(run(s, 10, 10, true, grid).size() == 250);
}

// ---------------------------------------------------------------- fixed_outdegree

TEST_CASE("fixed_outdegree gives every source exactly K uniformly drawn targets",
          "[rules][fixed_outdegree]") {
  const std::size_t ns = 2000, nt = 50, K = 10;
  auto s = spec(Rule::fixed_outdegree);
  s.outdegree = K;
  for (const bool multapses : {true, false}) {
    CAPTURE(multapses);
    s.multapses = multapses;
    const auto r = run(s, ns, nt, false, grid);
    REQUIRE(r.size() == K * ns);
    for (const auto n : per_source(r, ns)) REQUIRE(n == K);
    if (!multapses) {
      for (const auto& [p, n] : pair_counts(r)) REQUIRE(n == 1);
    }
    const double x2 = chi_square(per_target(r, nt), double(K * ns) / double(nt));
    CAPTURE(x2);
    CHECK(x2 < chi_square_bound(nt - 1.0));
  }
}

TEST_CASE("fixed_outdegree without autapses and without multapses", "[rules][fixed_outdegree]") {
  const std::size_t n = 100, K = 40;
  auto s = spec(Rule::fixed_outdegree, "projection 'x->y'");
  s.outdegree = K;
  s.autapses = false;
  for (const bool multapses : {true, false}) {
    CAPTURE(multapses);
    s.multapses = multapses;
    const auto r = run(s, n, n, true, grid);
    REQUIRE(r.size() == n * K);
    CHECK(autapse_count(r) == 0);
    for (const auto c : per_source(r, n)) REQUIRE(c == K);
    if (!multapses) {
      for (const auto& [p, c] : pair_counts(r)) REQUIRE(c == 1);
    }
    std::vector<std::size_t> offset(n - 1, 0);
    for (const auto& x : r) ++offset[(x.target + n - x.source) % n - 1];
    const double x2 = chi_square(offset, double(n * K) / double(n - 1));
    CAPTURE(x2);
    CHECK(x2 < chi_square_bound(n - 2.0));
  }
  s.multapses = false;
  s.outdegree = 100;
  REQUIRE_THROWS_AS(run(s, n, n, true, grid), ConfigError);
  REQUIRE_THROWS_WITH(run(s, n, n, true, grid), Contains("projection 'x->y'") &&
                                                    Contains("outdegree = 100") && Contains("99"));
  s.outdegree = 99;
  CHECK(pair_counts(run(s, n, n, true, grid)).size() == n * (n - 1));
  s.outdegree = 8;
  REQUIRE_THROWS_AS(run(s, 30, 7, false, grid), ConfigError);
}

// ---------------------------------------------------------------- fixed_total_number

TEST_CASE("fixed_total_number makes exactly N synapses, uniform over sources and targets",
          "[rules][fixed_total_number]") {
  const std::size_t ns = 30, nt = 20, N = 6000;
  auto s = spec(Rule::fixed_total_number);
  s.total = N;
  const auto r = run(s, ns, nt, false, grid);
  REQUIRE(r.size() == N);
  for (const auto& x : r) {
    REQUIRE(x.source < ns);
    REQUIRE(x.target < nt);
  }
  CHECK(chi_square(per_source(r, ns), double(N) / ns) < chi_square_bound(ns - 1.0));
  CHECK(chi_square(per_target(r, nt), double(N) / nt) < chi_square_bound(nt - 1.0));
  CHECK(autapse_count(run(s, 20, 20, false, grid)) > 0);

  s.autapses = false;
  const auto no_self = run(s, 20, 20, true, grid);
  CHECK(no_self.size() == N);
  CHECK(autapse_count(no_self) == 0);

  s.total = 0;
  CHECK(run(s, 20, 20, true, grid).empty());
}

TEST_CASE("fixed_total_number drawn target by target is uniform over the eligible pairs",
          "[rules][fixed_total_number]") {
  // Per-target counts (a multinomial weighted by each target's eligible
  // sources) then each target's sources: every eligible pair equally likely,
  // also when a target has one source fewer (no autapses, ns > nt and ns < nt).
  for (const auto& [ns, nt] : {std::pair<std::size_t, std::size_t>{12, 7}, {7, 12}, {10, 10}}) {
    auto s = spec(Rule::fixed_total_number);
    s.autapses = false;
    s.total = 40000;
    const auto r = run(s, ns, nt, true, grid);
    REQUIRE(r.size() == s.total);
    std::vector<std::size_t> pairs(ns * nt, 0);
    for (const auto& x : r) {
      REQUIRE(x.source != x.target);
      pairs[x.source * nt + x.target] += 1;
    }
    const double eligible = static_cast<double>(ns * nt - std::min(ns, nt));
    std::vector<std::size_t> observed;
    for (std::size_t i = 0; i < ns; ++i)
      for (std::size_t j = 0; j < nt; ++j)
        if (i != j) observed.push_back(pairs[i * nt + j]);
    CHECK(chi_square(observed, static_cast<double>(s.total) / eligible) <
          chi_square_bound(eligible - 1));
  }
}

TEST_CASE("fixed_total_number without multapses is refused (documented limitation)",
          "[rules][fixed_total_number]") {
  auto s = spec(Rule::fixed_total_number, "projection 'x->y'");
  s.total = 10;
  s.multapses = false;
  REQUIRE_THROWS_AS(run(s, 20, 20, false, grid), ConfigError);
  REQUIRE_THROWS_WITH(run(s, 20, 20, false, grid),
                      Contains("projection 'x->y'") && Contains("multapses"));
}

// ---------------------------------------------------------------- names

TEST_CASE("rule names round-trip and unknown names get a did-you-mean", "[rules]") {
  for (const auto& name : synapses::rule_names()) {
    CHECK(synapses::rule_name(synapses::parse_rule(name, "x")) == name);
  }
  CHECK(synapses::parse_rule("explicit", "x") == Rule::explicit_edges);
  REQUIRE_THROWS_AS(synapses::parse_rule("fixed_indgree", "projection 'p'"), ConfigError);
  REQUIRE_THROWS_WITH(
      synapses::parse_rule("fixed_indgree", "projection 'p'"),
      Contains("projection 'p'") && Contains("fixed_indgree") && Contains("fixed_indegree"));
}

TEST_CASE("the registry lists exactly the built-in connection rules", "[rules]") {
  // register_builtin_connection_rules describes each rule of rule_table()
  // for `spikeline models` and the duplicate-name check: the two lists
  // must not drift apart.
  Registry r;
  synapses::register_builtin_connection_rules(r);
  std::vector<std::string> listed;
  for (const auto* c : r.connection_rules()) {
    listed.push_back(c->name);
    CHECK(c->origin.empty());
    CHECK(synapses::is_builtin_rule(c->name));
  }
  std::vector<std::string> names = synapses::rule_names();
  std::sort(listed.begin(), listed.end());
  std::sort(names.begin(), names.end());
  CHECK(listed == names);
}

// ------------------------------------------------- through the plugin interface

TEST_CASE("all_to_all and one_to_one register and draw through the plugin interface",
          "[rules][all_to_all][one_to_one]") {
  // As a plugin's rules: with a factory (the adapter), listed as built in.
  Registry r;
  synapses::register_builtin_connection_rules(r);
  for (const char* name : {"all_to_all", "one_to_one"}) {
    CAPTURE(name);
    const auto& info = r.get_connection_rule(name, "test");
    REQUIRE(info.make != nullptr);
    CHECK(info.origin.empty());
    CHECK(info.params.empty());
  }
  // The rules a plugin's adapter makes, asked target by target.
  const PairRuleContext self{"projection 'p'", 5, 5, true, false, true, 0.1};
  const auto all = r.get_connection_rule("all_to_all", "test").make(ParamMap("p"), self);
  CHECK(all->expected_pairs() == 20);
  RandomStream rng(1, 2, 3);
  std::vector<std::uint64_t> sources;
  all->sources(2, rng, sources);
  CHECK(sources == std::vector<std::uint64_t>{0, 1, 3, 4});
  const auto one = r.get_connection_rule("one_to_one", "test").make(ParamMap("p"), self);
  sources.clear();
  one->sources(3, rng, sources);
  CHECK(sources.empty());  // a population onto itself without autapses
  CHECK(one->expected_pairs() == 0);
  const PairRuleContext two{"projection 'q'", 4, 4, false, false, true, 0.1};
  sources.clear();
  r.get_connection_rule("one_to_one", "test").make(ParamMap("q"), two)->sources(3, rng, sources);
  CHECK(sources == std::vector<std::uint64_t>{3});
  // The rule's own check of the sizes (a config hears validate()'s first).
  const PairRuleContext uneven{"projection 'u'", 4, 5, false, true, true, 0.1};
  CHECK_THROWS_WITH(r.get_connection_rule("one_to_one", "test").make(ParamMap("u"), uneven),
                    Contains("one_to_one needs equal sizes"));
}

TEST_CASE("fixed_probability and fixed_indegree draw through the plugin interface, as before",
          "[rules][fixed_probability][fixed_indegree]") {
  // As a plugin's rules (ABI 1.3): each parameter required, listed so.
  Registry r;
  synapses::register_builtin_connection_rules(r);
  for (const auto& [name, param] :
       {std::pair{"fixed_probability", "p"}, {"fixed_indegree", "indegree"}}) {
    CAPTURE(name);
    const auto& info = r.get_connection_rule(name, "test");
    REQUIRE(info.make != nullptr);
    CHECK(info.origin.empty());
    REQUIRE(info.params.size() == 1);
    CHECK(info.params[0].name == param);
    CHECK(info.params[0].required);
    CHECK(std::isnan(info.params[0].default_value));
  }
  const auto& prob = r.get_connection_rule("fixed_probability", "test");
  const auto& indeg = r.get_connection_rule("fixed_indegree", "test");
  const PairRuleContext self{"projection 'p'", 300, 300, true, false, true, 0.1};
  CHECK_THROWS_WITH(prob.make(ParamMap("projection 'p' rule fixed_probability"), self),
                    Contains("projection 'p' rule fixed_probability parameter p is required but "
                             "missing (it has no default; valid: in [0, 1])"));
  CHECK_THROWS_WITH(indeg.make(ParamMap("projection 'p' rule fixed_indegree"), self),
                    Contains("parameter indegree is required but missing"));

  // The sources of each target are exactly the draws of the native rules
  // they replaced (geometric skipping; independent draws or Floyd's
  // sample), from the same stream: every network stays bit-identical.
  ParamMap p("p");
  p.set("p", 0.05);
  const auto bernoulli = prob.make(p, self);
  CHECK(bernoulli->expected_pairs() == Approx(0.05 * (300.0 * 300.0 - 300.0)));
  ParamMap k("k");
  k.set("indegree", 12.0);
  const auto multi = indeg.make(k, self);
  const auto distinct =
      indeg.make(k, PairRuleContext{"projection 'd'", 300, 300, true, false, false, 0.1});
  for (std::uint32_t t = 0; t < 300; t += 7) {
    CAPTURE(t);
    std::vector<std::uint64_t> want, got;
    RandomStream a(5, 6, t), b(5, 6, t);
    for (std::uint64_t s = a.geometric(0.05); s < 300; s += 1 + a.geometric(0.05))
      if (s != t) want.push_back(s);
    bernoulli->sources(t, b, got);
    CHECK(got == want);
    RandomStream c(5, 6, t), d(5, 6, t);
    want.clear();
    got.clear();
    for (int j = 0; j < 12; ++j) {
      std::uint64_t x = c.below(299);
      want.push_back(x >= t ? x + 1 : x);
    }
    multi->sources(t, d, got);
    CHECK(got == want);
    RandomStream e(5, 6, t), f(5, 6, t);
    got.clear();
    distinct->sources(t, f, got);
    CHECK(got ==
          synapses::distinct_sample(300, 12, t, [&](std::uint64_t m) { return e.below(m); }));
  }
  // The rule's own checks (a config hears validate()'s first).
  k.set("indegree", 400.0);
  CHECK_THROWS_WITH(
      indeg.make(k, PairRuleContext{"projection 'd'", 300, 300, true, false, false, 0.1}),
      Contains("indegree = 400 exceeds the 299 sources available without multapses"));
  k.set("indegree", 2.5);
  CHECK_THROWS_WITH(indeg.make(k, self),
                    Contains("indegree = 2.5 is not a whole number in [0, 4294967295]"));
}

TEST_CASE("all_to_all with taps lists every pair's taps in target, source, tap order",
          "[rules][all_to_all]") {
  auto s = spec(Rule::all_to_all);
  s.taps = 3;
  s.delay = ValueSpec::constant(0.5);
  s.autapses = false;
  const auto r = run(s, 3, 3, true, grid);
  REQUIRE(r.size() == 6 * 3);
  std::size_t k = 0;
  for (NeuronIndex t = 0; t < 3; ++t) {
    for (NeuronIndex src = 0; src < 3; ++src) {
      if (src == t) continue;
      for (std::uint32_t tap = 0; tap < 3; ++tap, ++k) {
        CHECK(r[k].target == t);
        CHECK(r[k].source == src);
        CHECK(r[k].delay == 5 + tap);
      }
    }
  }
}
