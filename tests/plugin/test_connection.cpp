// Connection-rule plugins: the C test plugin's c_stride and the example
// ring_gaussian, loaded into a Registry and drawn through synapses/ as a
// projection would be: exact pairs, the same synapses whatever the ranges of
// targets asked for, and refusals by name.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <tbb/global_control.h>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/plugin/loader.hpp"
#include "spikeline/synapses/connect.hpp"

using namespace spikeline;
using Catch::Contains;

namespace {

std::string test_plugin(const char* name) {
  return std::string(SPIKELINE_TEST_PLUGIN_DIR) + "/libtest_plugin_" + name + ".so";
}

Registry with_builtin_rules() {
  Registry r;
  synapses::register_builtin_connection_rules(r);
  return r;
}

struct Projection {
  std::size_t ns, nt;
  bool same;
  std::uint64_t seed = 7;
};

// The spec of a projection with the registered rule `name` and `params`.
synapses::ConnectionSpec spec_of(const Registry& r, const std::string& name, const ParamMap& params,
                                 const Projection& p, bool autapses = true, bool multapses = true) {
  synapses::ConnectionSpec spec;
  spec.name = "projection 'test'";
  spec.rule = synapses::Rule::plugin;
  spec.plugin_rule = name;
  spec.autapses = autapses;
  spec.multapses = multapses;
  spec.weight = synapses::ValueSpec::constant(2.0);
  spec.delay = synapses::ValueSpec::constant(0.5);
  spec.pair_rule = r.get_connection_rule(name, "test")
                       .make(params, {spec.name, p.ns, p.nt, p.same, autapses, multapses, 0.1});
  return spec;
}

std::vector<SynapseRecord> draw(const synapses::ConnectionSpec& spec, const Projection& p,
                                const TimeGrid& grid) {
  return synapses::connect(spec, {p.ns, p.nt, p.same, grid, p.seed, 3});
}

std::vector<std::pair<NeuronIndex, NeuronIndex>> pairs_of(const std::vector<SynapseRecord>& recs) {
  std::vector<std::pair<NeuronIndex, NeuronIndex>> out;
  for (const auto& r : recs) out.emplace_back(r.target, r.source);
  return out;
}

}  // namespace

TEST_CASE("a C connection rule loads with its table and makes exactly its pairs",
          "[plugin][connection]") {
  Registry r = with_builtin_rules();
  const auto info = plugin::load_plugin(test_plugin("ok"), r);
  CHECK(info.connection_rules == std::vector<std::string>{"c_stride", "c_spread", "c_counted"});
  const auto& rule = r.get_connection_rule("c_stride", "test");
  CHECK(rule.origin == test_plugin("ok"));
  CHECK(rule.summary == "fan sources at a stride, written in C");
  REQUIRE(rule.params.size() == 5);  // and the choice `direction`
  CHECK(rule.params[2].doc == "synapses per pair (in [1, 4])");

  const TimeGrid grid(0.1);
  const Projection p{10, 6, false};
  ParamMap params("projection 'test' rule c_stride");
  params.set("stride", 4.0);
  params.set("fan", 3.0);
  const auto recs = draw(spec_of(r, "c_stride", params, p), p, grid);
  std::vector<std::pair<NeuronIndex, NeuronIndex>> want;
  for (NeuronIndex t = 0; t < 6; ++t)
    for (NeuronIndex k = 0; k < 3; ++k) want.emplace_back(t, (t + 4 * k) % 10);
  CHECK(pairs_of(recs) == want);
  for (const auto& s : recs) {
    CHECK(s.weight == 2.0f);
    CHECK(s.delay == 5);
  }
  // direction = "down" (a choice, ABI 1.1) walks the other way.
  params.set("direction", std::string("down"));
  want.clear();
  for (NeuronIndex t = 0; t < 6; ++t)
    for (NeuronIndex k = 0; k < 3; ++k) want.emplace_back(t, (t + 10 * 3 - 4 * k) % 10);
  CHECK(pairs_of(draw(spec_of(r, "c_stride", params, p), p, grid)) == want);
  params.set("direction", std::string("sideways"));
  REQUIRE_THROWS_WITH(
      spec_of(r, "c_stride", params, p),
      Contains("direction = 'sideways' is invalid") && Contains("valid choices are up, down"));
}

TEST_CASE("a plugin rule draws the same synapses for any range of targets",
          "[plugin][connection]") {
  Registry r = with_builtin_rules();
  plugin::load_plugin(test_plugin("ok"), r);
  plugin::load_plugin(SPIKELINE_RING_PLUGIN, r);
  const TimeGrid grid(0.1);
  const Projection p{300, 200, false};
  ParamMap ring("projection 'test' rule ring_gaussian");
  ring.set("sigma", 0.05);
  ParamMap stride("projection 'test' rule c_stride");
  stride.set("random", 1.0);
  for (const auto& [name, params] : {std::pair{"ring_gaussian", ring}, {"c_stride", stride}}) {
    INFO(name);
    auto spec = spec_of(r, name, params, p);
    spec.weight = synapses::ValueSpec::normal(1.0, 0.5);
    const auto whole = draw(spec, p, grid);
    const auto source = synapses::make_source(spec, {p.ns, p.nt, p.same, grid, p.seed, 3});
    std::vector<SynapseRecord> pieces, counted;
    for (NeuronIndex a = 0; a < p.nt; a += 37) {
      const NeuronIndex b = std::min<NeuronIndex>(a + 37, static_cast<NeuronIndex>(p.nt));
      source->generate(a, b,
                       [&](auto recs) { pieces.insert(pieces.end(), recs.begin(), recs.end()); });
      source->generate_pairs(
          a, b, [&](auto recs) { counted.insert(counted.end(), recs.begin(), recs.end()); });
    }
    REQUIRE(pieces.size() == whole.size());
    CHECK(pairs_of(counted) == pairs_of(whole));
    bool same = true;
    for (std::size_t k = 0; k < whole.size(); ++k)
      same = same && whole[k].source == pieces[k].source && whole[k].target == pieces[k].target &&
             whole[k].weight == pieces[k].weight && whole[k].delay == pieces[k].delay;
    CHECK(same);
    Projection other = p;
    other.seed = 8;
    CHECK(pairs_of(draw(spec, other, grid)) != pairs_of(whole));
  }
}

TEST_CASE("ring_gaussian with a narrow kernel connects each neuron to its own position",
          "[plugin][connection]") {
  Registry r = with_builtin_rules();
  plugin::load_plugin(SPIKELINE_RING_PLUGIN, r);
  const TimeGrid grid(0.1);
  // p(0) = 1 and p(1/100) = exp(-(0.01 / 1e-4)^2 / 2) = 0: source s onto
  // target s only; targets at twice the density meet a source every other one.
  ParamMap narrow("projection 'test' rule ring_gaussian");
  narrow.set("sigma", 1e-4);
  const Projection p{100, 200, false};
  std::vector<std::pair<NeuronIndex, NeuronIndex>> want;
  for (NeuronIndex t = 0; t < 200; t += 2) want.emplace_back(t, t / 2);
  CHECK(pairs_of(draw(spec_of(r, "ring_gaussian", narrow, p), p, grid)) == want);
  // The same population without autapses: nothing left.
  const Projection self{100, 100, true};
  CHECK(draw(spec_of(r, "ring_gaussian", narrow, self, false), self, grid).empty());
  // expected_pairs: the kernel's integral, 100 * 200 * sigma sqrt(2 pi).
  CHECK(synapses::expected_synapses(spec_of(r, "ring_gaussian", narrow, p),
                                    {p.ns, p.nt, p.same, grid, p.seed, 3}) ==
        Approx(100 * 200 * 1e-4 * std::sqrt(2 * std::numbers::pi)).epsilon(1e-9));
}

TEST_CASE("broken connection-rule plugins are refused by name", "[plugin][connection]") {
  Registry r = with_builtin_rules();
  const std::size_t before = r.connection_rules().size();
  try {
    plugin::load_plugin(test_plugin("conn_duplicate"), r);
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Contains(test_plugin("conn_duplicate")) &&
                             Contains("connection rule 'fixed_indegree' is already registered "
                                      "(a built-in rule)"));
  }
  CHECK(r.connection_rules().size() == before);
  CHECK_FALSE(r.has("c_leaky"));  // nothing of the refused plugin registered

  plugin::load_plugin(test_plugin("conn_bad_source"), r);
  const TimeGrid grid(0.1);
  const Projection p{10, 10, false};
  const auto spec = spec_of(r, "c_stride", ParamMap("p"), p);
  CHECK_THROWS_WITH(draw(spec, p, grid),
                    Contains("projection 'test'") && Contains("rule 'c_stride'") &&
                        Contains("returned source 10 for target 3: out of range, valid is 0 to 9"));
  ParamMap bad("projection 'test' rule c_stride");
  bad.set("copies", 5.0);
  CHECK_THROWS_WITH(
      spec_of(r, "c_stride", bad, p),
      Contains("projection 'test' rule c_stride parameter copies") && Contains("[1, 4]"));
}

namespace {

// The synapses of `spec` drawn with `threads` threads at most.
std::vector<SynapseRecord> draw_on(int threads, const synapses::ConnectionSpec& spec,
                                   const Projection& p, const TimeGrid& grid) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  return draw(spec, p, grid);
}

// The built-in rules and the C test plugin's.
Registry with_test_plugin() {
  Registry r = with_builtin_rules();
  plugin::load_plugin(test_plugin("ok"), r);
  return r;
}

bool identical(const std::vector<SynapseRecord>& a, const std::vector<SynapseRecord>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k].source != b[k].source || a[k].target != b[k].target || a[k].weight != b[k].weight ||
        a[k].delay != b[k].delay)
      return false;
  }
  return true;
}

}  // namespace

TEST_CASE("a rule drawn by source (ABI 1.5) makes exactly its pairs, source by source",
          "[plugin][connection]") {
  const Registry r = with_test_plugin();
  const TimeGrid grid(0.1);
  ParamMap params("projection 'test' rule c_spread");
  params.set("fan", 3.0);
  // Source s onto s mod 7, and the next two (mod 7), in source order.
  const Projection p{5, 7, false};
  const auto spec = spec_of(r, "c_spread", params, p);
  const auto source = synapses::make_source(spec, {p.ns, p.nt, p.same, grid, p.seed, 3});
  CHECK(source->by_source());
  CHECK_FALSE(source->by_target());
  std::vector<std::pair<NeuronIndex, NeuronIndex>> want;
  for (NeuronIndex s = 0; s < 5; ++s)
    for (NeuronIndex k = 0; k < 3; ++k) want.emplace_back((s + k) % 7, s);
  CHECK(pairs_of(draw(spec, p, grid)) == want);
  // The sources of a range alone, as each process of a run draws its share.
  std::vector<SynapseRecord> share;
  source->generate_sources(2, 4,
                           [&](auto recs) { share.insert(share.end(), recs.begin(), recs.end()); });
  CHECK(pairs_of(share) ==
        std::vector<std::pair<NeuronIndex, NeuronIndex>>(want.begin() + 6, want.begin() + 12));
  // Without autapses the source itself is dropped: s onto s + 1, s + 2.
  const Projection self{6, 6, true};
  want.clear();
  for (NeuronIndex s = 0; s < 6; ++s)
    for (NeuronIndex k = 1; k < 3; ++k) want.emplace_back((s + k) % 6, s);
  CHECK(pairs_of(draw(spec_of(r, "c_spread", params, self, false), self, grid)) == want);
  // Without multapses a target twice for one source is refused: 3 targets
  // of 2 wrap around.
  const Projection narrow{4, 2, false};
  CHECK_THROWS_WITH(draw(spec_of(r, "c_spread", params, narrow, true, false), narrow, grid),
                    Contains("projection 'test': plugin '" + test_plugin("ok") +
                             "' rule 'c_spread' returned "
                             "target 0 twice for source 0, but multapses = false"));
}

TEST_CASE(
    "per-target counts (ABI 1.5): exact counts summing to the total, then each target's "
    "sources",
    "[plugin][connection]") {
  const Registry r = with_test_plugin();
  const TimeGrid grid(0.1);
  ParamMap params("projection 'test' rule c_counted");
  params.set("total", 10.0);
  // 10 pairs over 3 targets: 4, 3, 3; target t's sources t, t + 1, ... mod 4.
  const Projection p{4, 3, false};
  const auto recs = draw(spec_of(r, "c_counted", params, p), p, grid);
  std::vector<std::pair<NeuronIndex, NeuronIndex>> want;
  for (NeuronIndex t = 0; t < 3; ++t)
    for (NeuronIndex j = 0; j < (t == 0 ? 4u : 3u); ++j) want.emplace_back(t, (t + j) % 4);
  CHECK(pairs_of(recs) == want);
}

TEST_CASE("rules of ABI 1.5 draw the same synapses at 1 and 2 threads and for any range",
          "[plugin][connection]") {
  const Registry r = with_test_plugin();
  const TimeGrid grid(0.1);
  const Projection p{3000, 2000, false};
  ParamMap spread("projection 'test' rule c_spread");
  spread.set("random", 1.0);
  spread.set("fan", 40.0);
  ParamMap counted("projection 'test' rule c_counted");
  counted.set("random", 1.0);
  counted.set("total", 100000.0);
  for (const auto& [name, params] : {std::pair{"c_spread", spread}, {"c_counted", counted}}) {
    INFO(name);
    auto spec = spec_of(r, name, params, p);
    spec.weight = synapses::ValueSpec::normal(1.0, 0.5);
    spec.delay = synapses::ValueSpec::uniform(0.1, 3.0);
    const auto one = draw_on(1, spec, p, grid);
    const auto two = draw_on(2, spec, p, grid);
    CHECK(one.size() == (std::string(name) == "c_spread" ? 3000u * 40 : 100000u));
    CHECK(identical(one, two));
    // Targets asked for in ranges, as partitions are laid out: the whole
    // list restricted to each range, in order.
    const auto source = synapses::make_source(spec, {p.ns, p.nt, p.same, grid, p.seed, 3});
    for (NeuronIndex a = 0; a < p.nt; a += 700) {
      const NeuronIndex b = std::min<NeuronIndex>(a + 700, static_cast<NeuronIndex>(p.nt));
      std::vector<SynapseRecord> piece, want;
      source->generate(a, b,
                       [&](auto recs) { piece.insert(piece.end(), recs.begin(), recs.end()); });
      for (const auto& s : one)
        if (s.target >= a && s.target < b) want.push_back(s);
      CHECK(identical(piece, want));
    }
    Projection other = p;
    other.seed = 8;
    CHECK(pairs_of(draw(spec, other, grid)) != pairs_of(one));
  }
}

TEST_CASE("broken rules of ABI 1.5 are refused by name", "[plugin][connection]") {
  Registry r = with_builtin_rules();
  const TimeGrid grid(0.1);
  CHECK_THROWS_WITH(plugin::load_plugin(test_plugin("conn_both"), r),
                    Contains(test_plugin("conn_both")) &&
                        Contains("connection rule 'c_spread' sets both connect and "
                                 "connect_source: a rule draws either by target or by source, "
                                 "set exactly one"));
  CHECK_THROWS_WITH(plugin::load_plugin(test_plugin("conn_no_connect"), r),
                    Contains(test_plugin("conn_no_connect")) &&
                        Contains("connection rule 'c_stride' has no connect function: set "
                                 "connect (the sources of a target) or connect_source"));
  CHECK_FALSE(r.has_connection_rule("c_spread"));

  plugin::load_plugin(test_plugin("conn_bad_target"), r);
  const Projection p{5, 7, false};
  CHECK_THROWS_WITH(draw(spec_of(r, "c_spread", ParamMap("p"), p), p, grid),
                    Contains("projection 'test': plugin '" + test_plugin("conn_bad_target") +
                             "' rule 'c_spread' returned target 7 for source 2: out of range, "
                             "valid is 0 to 6"));

  // 10 pairs onto 2 targets of 4 sources without multapses: counts 5 and 5,
  // but a target takes each of its 4 sources once.
  ParamMap counted("projection 'test' rule c_counted");
  counted.set("total", 10.0);
  const Projection q{4, 2, false};
  CHECK_THROWS_WITH(
      draw(spec_of(r, "c_counted", counted, q, true, false), q, grid),
      Contains("projection 'test': plugin '" + test_plugin("conn_bad_target") +
               "' rule 'c_counted' drew count 5 for target 0: out of range, valid is 0 to 4 "
               "(its sources, each once, without multapses)"));
  // A source population of one neuron onto itself without autapses: no
  // source to draw from.
  const Projection lone{1, 1, true};
  counted.set("total", 1.0);
  CHECK_THROWS_WITH(draw(spec_of(r, "c_counted", counted, lone, false), lone, grid),
                    Contains("rule 'c_counted' drew count 1 for target 0: out of range, valid is "
                             "0 to 0 (the target has no source to draw from)"));
  // connect adds one source more than target 0's count.
  counted.set("total", 6.0);
  counted.set("extra", 1.0);
  CHECK_THROWS_WITH(draw(spec_of(r, "c_counted", counted, q), q, grid),
                    Contains("rule 'c_counted' returned 4 sources for target 0, but its count "
                             "is 3"));
}
