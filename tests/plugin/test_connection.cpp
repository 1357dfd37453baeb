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
  CHECK(info.connection_rules == std::vector<std::string>{"c_stride"});
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
