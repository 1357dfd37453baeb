// The plugin loader and adapter: a plain-C plugin (tests/plugin/plugins/
// c_plugin.c) loads, runs, exposes its state, checkpoints; each broken
// variant of it is refused with a message naming the file and the problem,
// and leaves the registry as it was.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/neuromodulator.hpp"
#include "spikeline/engine/random.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/engine/state_archive.hpp"
#include "spikeline/neurons/builtin.hpp"
#include "spikeline/plugin.h"
#include "spikeline/plugin.hpp"
#include "spikeline/plugin/loader.hpp"

using namespace spikeline;
using Catch::Contains;

namespace {

std::string test_plugin(const char* name) {
  return std::string(SPIKELINE_TEST_PLUGIN_DIR) + "/libtest_plugin_" + name + ".so";
}

Registry builtins() {
  Registry r;
  register_builtin_models(r);
  return r;
}

// The error `load_plugin(path)` throws: its message and code; the registry
// must be unchanged.
std::pair<std::string, ExitCode> refusal(const std::string& path) {
  Registry r = builtins();
  const std::size_t before = r.all().size();
  try {
    plugin::load_plugin(path, r);
  } catch (const Error& e) {
    CHECK(r.all().size() == before);
    return {e.what(), e.code()};
  }
  FAIL("no error for " << path);
  return {};
}

}  // namespace

TEST_CASE("a C plugin loads, lists its tables and runs", "[plugin][loader]") {
  Registry r = builtins();
  const auto info = plugin::load_plugin(test_plugin("ok"), r);
  CHECK(info.name == "c_plugin");
  CHECK(info.version == "0.1");
  CHECK(info.abi_major == SPIKELINE_PLUGIN_ABI_MAJOR);
  CHECK(info.models == std::vector<std::string>{"c_leaky"});
  const ModelInfo& m = r.get("c_leaky", "test");
  CHECK(m.origin == test_plugin("ok"));
  CHECK(m.summary == "a leaky integrator written in C");
  REQUIRE(m.params.size() == 4);  // tau, theta, I_e and the choice reset
  CHECK(m.params[0].doc == "time constant (> 0)");
  CHECK(m.params[0].per_neuron);
  CHECK(m.params[1].default_value == 1.0);
  REQUIRE(m.state_vars.size() == 1);
  CHECK(r.get("iaf_cond_exp", "test").origin.empty());

  // Three neurons, per-neuron I_e: x -> I_e with tau = 10 ms; theta = 1.
  const TimeGrid grid(0.1);
  ParamMap params("population 'p' (c_leaky)");
  params.set("I_e", std::vector<double>{0.0, 0.5, 2.0});
  auto pop = m.make_population({"p", 3, params, grid, 1, 0});
  std::vector<float> ex(3, 0.0f), in(3, 0.0f);
  std::vector<NeuronIndex> fired;
  SpikeSink sink(fired);
  ex[0] = 0.25f;
  for (Step t = 1; t <= 100; ++t)
    pop->update(t, {0, 3}, InputView{ex.data(), in.data(), nullptr}, sink);
  CHECK(ex[0] == 0.0f);  // consumed
  // Neuron 0: 0.25 decaying; neuron 1 approaches 0.5; neuron 2 fires.
  CHECK(pop->state(0, 0, 100) == Approx(0.25 * std::pow(0.99, 99)).epsilon(1e-12));
  CHECK(pop->state(0, 1, 100) == Approx(0.5 * (1 - std::pow(0.99, 100))).epsilon(1e-12));
  CHECK(!fired.empty());
  for (auto i : fired) CHECK(i == 2);

  // State access, the non-finite scan and checkpoints go through the table.
  pop->set_state(0, 1, -3.0);
  CHECK(pop->state(0, 1, 100) == -3.0);
  CHECK(!pop->find_non_finite({0, 3}, 100));
  REQUIRE(pop->checkpointable());
  MemoryArchive a;
  pop->checkpoint(a);
  REQUIRE(a.fields().size() == 1);
  CHECK(a.fields()[0].first == "x");
  auto other = m.make_population({"p", 3, params, grid, 1, 0});
  a.set_loading(true);
  other->checkpoint(a);
  for (NeuronIndex i = 0; i < 3; ++i) CHECK(other->state(0, i, 100) == pop->state(0, i, 100));
  CHECK(other->fingerprint() == pop->fingerprint());
  CHECK(other->fingerprint() != 0);
  pop->set_state(0, 2, NAN);
  const auto bad = pop->find_non_finite({0, 3}, 100);
  REQUIRE(bad);
  CHECK(bad->neuron == 2);
}

TEST_CASE("a plugin's parameters are checked against its table", "[plugin][loader]") {
  Registry r;
  plugin::load_plugin(test_plugin("ok"), r);
  const ModelInfo& m = r.get("c_leaky", "test");
  const TimeGrid grid(0.1);
  ParamMap p("population 'p' (c_leaky)");
  p.set("tau", 0.0);
  REQUIRE_THROWS_WITH(m.make_population({"p", 2, p, grid, 1, 0}),
                      Contains("population 'p' (c_leaky) parameter tau = 0 ms") &&
                          Contains("is invalid: it must be finite and > 0"));
  ParamMap q("population 'p' (c_leaky)");
  q.set("theta", std::vector<double>{1.0, 2.0});
  REQUIRE_THROWS_WITH(m.make_population({"p", 2, q, grid, 1, 0}),
                      Contains("theta cannot vary per neuron") && Contains("tau, I_e"));
  ParamMap s("population 'p' (c_leaky)");
  s.set("tau", std::vector<double>{1.0, -2.0});
  REQUIRE_THROWS_WITH(m.make_population({"p", 2, s, grid, 1, 0}),
                      Contains("tau of neuron 1 = -2 ms"));
}

TEST_CASE("the AdEx plugin refuses parameters that are wrong together", "[plugin][loader]") {
  Registry r;
  plugin::load_plugin(SPIKELINE_AEIF_PLUGIN, r);
  const TimeGrid grid(0.1);
  ParamMap p("population 'p' (aeif_cond_exp)");
  p.set("V_peak", -55.0);
  REQUIRE_THROWS_WITH(
      r.get("aeif_cond_exp", "test").make_population({"p", 1, p, grid, 1, 0}),
      Contains("aeif_cond_exp' (population 'p'): the parameters are refused: V_peak = -55") &&
          Contains(">= V_th"));
  ParamMap q("population 'p' (aeif_cond_exp)");
  q.set("t_ref", 0.25);
  REQUIRE_THROWS_WITH(r.get("aeif_cond_exp", "test").make_population({"p", 1, q, grid, 1, 0}),
                      Contains("not a whole number of steps"));
}

TEST_CASE("an update error ends with the plugin's message", "[plugin][loader]") {
  Registry r;
  plugin::load_plugin(test_plugin("update_error"), r);
  const TimeGrid grid(0.1);
  const ParamMap p("population 'p' (c_leaky)");
  auto pop = r.get("c_leaky", "test").make_population({"p", 4, p, grid, 1, 0});
  std::vector<float> ex(4, 0.0f), in(4, 0.0f);
  std::vector<NeuronIndex> fired;
  SpikeSink sink(fired);
  for (Step t = 1; t < 50; ++t)
    pop->update(t, {0, 4}, InputView{ex.data(), in.data(), nullptr}, sink);
  try {
    pop->update(50, {2, 4}, InputView{ex.data(), in.data(), nullptr}, sink);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::software);
    CHECK_THAT(e.what(), Contains("libtest_plugin_update_error.so' model 'c_leaky' (population "
                                  "'p'): update failed at step 50 (5 ms): the membrane of "
                                  "neuron 2 exploded"));
  }
}

TEST_CASE("bad plugins are refused with the file and the problem", "[plugin][loader]") {
  {
    const auto [what, code] = refusal("/nonexistent/libnothing.so");
    CHECK(code == ExitCode::no_input);
    CHECK_THAT(what, Contains("plugin '/nonexistent/libnothing.so': no such file"));
  }
  {
    const std::string text = std::string(SPIKELINE_SOURCE_DIR) + "/examples/coba.toml";
    const auto [what, code] = refusal(text);
    CHECK(code == ExitCode::config);
    CHECK_THAT(what, Contains("coba.toml': cannot be loaded as a shared library"));
  }
  {
    const auto [what, code] = refusal(test_plugin("no_entry"));
    CHECK(code == ExitCode::config);
    CHECK_THAT(what, Contains("libtest_plugin_no_entry.so': no entry point spikeline_plugin_init"));
  }
  {
    const auto [what, code] = refusal(test_plugin("major"));
    CHECK(code == ExitCode::config);
    CHECK_THAT(what,
               Contains("libtest_plugin_major.so': built for plugin ABI 2." +
                        std::to_string(SPIKELINE_PLUGIN_ABI_MINOR) + ", this spikeline speaks 1." +
                        std::to_string(SPIKELINE_PLUGIN_ABI_MINOR)) &&
                   Contains("rebuild"));
  }
  {
    const auto [what, code] = refusal(test_plugin("minor"));
    CHECK(code == ExitCode::config);
    CHECK_THAT(
        what,
        Contains("built for plugin ABI 1." + std::to_string(SPIKELINE_PLUGIN_ABI_MINOR + 1) +
                 ", newer than this spikeline's 1." + std::to_string(SPIKELINE_PLUGIN_ABI_MINOR)));
  }
  {
    const auto [what, code] = refusal(test_plugin("duplicate"));
    CHECK(code == ExitCode::config);
    CHECK_THAT(what, Contains("libtest_plugin_duplicate.so': model 'iaf_cond_exp' is already "
                              "registered (a built-in model)"));
  }
  {
    const auto [what, code] = refusal(test_plugin("nan_default"));
    CHECK(code == ExitCode::config);
    CHECK_THAT(what, Contains("libtest_plugin_nan_default.so': model 'c_leaky' parameter theta "
                              "has a NaN default"));
  }
  {
    const auto [what, code] = refusal(test_plugin("init_error"));
    CHECK(code == ExitCode::config);
    CHECK_THAT(what, Contains("libtest_plugin_init_error.so': initialisation failed: no licence "
                              "for this plugin"));
  }
  // The same model from two plugins: the second names the first.
  Registry r;
  plugin::load_plugin(test_plugin("ok"), r);
  REQUIRE_THROWS_WITH(
      plugin::load_plugin(test_plugin("update_error"), r),
      Contains("model 'c_leaky' is already registered (by plugin '" + test_plugin("ok") + "')"));
  // The same file twice through load_plugins: loaded once.
  Registry s;
  const auto loaded = plugin::load_plugins(
      {test_plugin("ok"), std::string(SPIKELINE_TEST_PLUGIN_DIR) + "/./libtest_plugin_ok.so"}, s);
  CHECK(loaded.size() == 1);
}

namespace {
// A model and a rule with constants, written with the C++ layer.
struct WithConstants {
  static constexpr const char* name = "with_constants";
  static constexpr const char* doc = "";
  static constexpr spk_param params[] = {plugin::param("p", "", 1.0, "")};
  static constexpr spk_state_var state[] = {plugin::state("x", "", "", 0.0)};
  struct Constants {
    double a, b, c;
    std::int32_t n;
  };
  static void prepare(plugin::Setup<WithConstants>& s) { s.constants().n = 7; }
  template <class N>
  static void update(N&) {}
};
struct RuleWithConstants : plugin::LearningRule {
  static constexpr const char* name = "rule_with_constants";
  static constexpr const char* doc = "";
  static constexpr spk_param params[] = {plugin::param("p", "", 1.0, "")};
  struct Constants {
    double a[5];
  };
  static void on_pre(plugin::Pre<RuleWithConstants>&) {}
  static void on_post(plugin::Post<RuleWithConstants>&) {}
};
}  // namespace

TEST_CASE("the C++ layer declares the size of the author's constants") {
  // The simulator allocates exactly this much for prepare() to fill: a
  // smaller size (the size of a trait instead of the struct) overflowed it.
  constexpr spk_neuron_model m = plugin::detail::describe<WithConstants>();
  STATIC_REQUIRE(m.constants_size == sizeof(WithConstants::Constants));
  constexpr spk_learning_rule r = plugin::detail::describe_learning_rule<RuleWithConstants>();
  STATIC_REQUIRE(r.constants_size == sizeof(RuleWithConstants::Constants));
  STATIC_REQUIRE(r.n_pre_state == 0);
  STATIC_REQUIRE(r.check_weights == nullptr);
}

TEST_CASE("a plugin's learning rule is registered with its origin and table") {
  Registry r = builtins();
  const std::size_t rules = r.rules().size();
  const auto info = plugin::load_plugin(test_plugin("ok"), r);
  REQUIRE(info.rules == std::vector<std::string>{"c_hebb"});
  REQUIRE(r.rules().size() == rules + 1);
  const RuleInfo& rule = r.get_rule("c_hebb", "test");
  CHECK(rule.origin == test_plugin("ok"));
  REQUIRE(rule.params.size() == 4);  // A, window, w_max and the choice bound
  CHECK(rule.params[3].name == "bound");
  CHECK(rule.params[3].default_text == "skip");
  CHECK(rule.params[1].name == "window");
  CHECK(rule.params[1].unit == "ms");
  CHECK(rule.params[1].default_value == 5.0);
  // Made with its defaults: "weight" and the synapse variable "count".
  const auto made = rule.make(ParamMap("projection 'p' plasticity"), TimeGrid(0.1));
  CHECK(made->synapse_variables() == std::vector<std::string>{"weight", "count"});
  CHECK(made->checkpointable());
  CHECK(made->fingerprint() != 0);
}

namespace {
// c_leaky's x at each of `steps` steps from 0, with I_e constant, tau =
// 10 ms, theta = 1, dt = 0.1 ms, as c_plugin.c integrates it; `subtract`:
// reset = "subtract" (x -= theta), else x = 0.
std::vector<double> leaky_reference(double I_e, int steps, bool subtract,
                                    std::vector<int>& spike_steps) {
  std::vector<double> x;
  double v = 0.0;
  for (int t = 1; t <= steps; ++t) {
    v += 0.1 / 10.0 * (I_e - v);
    if (v >= 1.0) {
      v = subtract ? v - 1.0 : 0.0;
      spike_steps.push_back(t);
    }
    x.push_back(v);
  }
  return x;
}
}  // namespace

TEST_CASE("a choice parameter (ABI 1.1): listed, resolved from the config's word, checked",
          "[plugin][loader]") {
  Registry r;
  plugin::load_plugin(test_plugin("ok"), r);
  const ModelInfo& m = r.get("c_leaky", "test");
  const ParamInfo& reset = m.params.back();
  CHECK(reset.name == "reset");
  CHECK(std::isnan(reset.default_value));
  CHECK(reset.default_text == "zero");
  CHECK(reset.doc == "after a spike: \"zero\" or \"subtract\"");
  CHECK(!reset.per_neuron);

  // The same drive under either reset: exact states and spike steps of the
  // reference integration (the model reads the index the word resolves to).
  const TimeGrid grid(0.1);
  for (const char* word : {"", "zero", "subtract"}) {
    INFO("reset = '" << word << "'");
    ParamMap p("population 'p' (c_leaky)");
    p.set("I_e", 25.0);
    if (*word != '\0') p.set("reset", std::string(word));
    auto pop = m.make_population({"p", 1, p, grid, 1, 0});
    std::vector<int> want_spikes, got_spikes;
    const bool subtract = std::string(word) == "subtract";
    const auto want = leaky_reference(25.0, 200, subtract, want_spikes);
    std::vector<float> ex(1, 0.0f), in(1, 0.0f);
    for (int t = 1; t <= 200; ++t) {
      std::vector<NeuronIndex> fired;
      SpikeSink sink(fired);
      pop->update(t, {0, 1}, InputView{ex.data(), in.data(), nullptr}, sink);
      if (!fired.empty()) got_spikes.push_back(t);
      REQUIRE(pop->state(0, 0, t) == want[t - 1]);
    }
    CHECK(got_spikes == want_spikes);
    CHECK(want_spikes.size() >= 3);
  }
  // The two resets differ on this drive (else the loop above proves nothing).
  std::vector<int> a, b;
  leaky_reference(25.0, 200, false, a);
  leaky_reference(25.0, 200, true, b);
  CHECK(a != b);

  // A word not among the choices, a number, a list: refused by name.
  ParamMap typo("population 'p' (c_leaky)");
  typo.set("reset", std::string("substract"));
  REQUIRE_THROWS_WITH(
      m.make_population({"p", 1, typo, grid, 1, 0}),
      Contains("population 'p' (c_leaky) parameter reset = 'substract' is invalid") &&
          Contains("subtract") && Contains("valid choices are zero, subtract"));
  ParamMap number("population 'p' (c_leaky)");
  number.set("reset", 1.0);
  REQUIRE_THROWS_WITH(m.make_population({"p", 1, number, grid, 1, 0}), Contains("reset"));
  ParamMap list("population 'p' (c_leaky)");
  list.set("reset", std::vector<double>{0.0, 1.0});
  REQUIRE_THROWS_WITH(m.make_population({"p", 2, list, grid, 1, 0}),
                      Contains("reset takes one word, one of zero, subtract"));
}

TEST_CASE("a plugin built for ABI 1.0 loads into 1.1: no choices, defaults", "[plugin][loader]") {
  Registry r = builtins();
  const auto info = plugin::load_plugin(test_plugin("abi_1_0"), r);
  CHECK(info.abi_minor == 0);
  CHECK(info.models == std::vector<std::string>{"c_leaky"});
  CHECK(info.rules == std::vector<std::string>{"c_hebb"});
  CHECK(info.connection_rules == std::vector<std::string>{"c_stride"});
  const ModelInfo& m = r.get("c_leaky", "test");
  REQUIRE(m.params.size() == 3);  // the descriptor ends before the choices
  CHECK(r.get_rule("c_hebb", "test").params.size() == 3);
  CHECK(r.get_connection_rule("c_stride", "test").params.size() == 4);
  CHECK(r.get_rule("c_hebb", "test").provenance == "plugin 'c_plugin' version 0.1, ABI 1.0");
  // It runs as 1.0 did: reset to zero.
  const TimeGrid grid(0.1);
  ParamMap p("population 'p' (c_leaky)");
  p.set("I_e", 25.0);
  auto pop = m.make_population({"p", 1, p, grid, 1, 0});
  std::vector<int> want_spikes;
  const auto want = leaky_reference(25.0, 100, false, want_spikes);
  std::vector<float> ex(1, 0.0f), in(1, 0.0f);
  std::vector<NeuronIndex> fired;
  SpikeSink sink(fired);
  for (int t = 1; t <= 100; ++t)
    pop->update(t, {0, 1}, InputView{ex.data(), in.data(), nullptr}, sink);
  CHECK(pop->state(0, 0, 100) == want.back());
  CHECK(fired.size() == want_spikes.size());
}

TEST_CASE("a plugin built for ABI 1.2 loads into 1.3: nothing required", "[plugin][loader]") {
  Registry r = builtins();
  const auto info = plugin::load_plugin(test_plugin("abi_1_2"), r);
  CHECK(info.abi_minor == 2);
  CHECK(info.connection_rules == std::vector<std::string>{"c_stride"});
  const ModelInfo& m = r.get("c_leaky", "test");
  REQUIRE(m.params.size() == 4);  // its choice (1.1) is there
  for (const auto& p : m.params) CHECK_FALSE(p.required);
  const auto& rule = r.get_connection_rule("c_stride", "test");
  REQUIRE(rule.params.size() == 5);
  CHECK(rule.params[1].name == "fan");
  CHECK(rule.params[1].default_value == 2.0);
  CHECK_FALSE(rule.params[1].required);
  CHECK(rule.provenance == "plugin 'c_plugin' version 0.1, ABI 1.2");
  // Its defaults still apply: nothing was given.
  const TimeGrid grid(0.1);
  CHECK_NOTHROW(m.make_population({"p", 2, ParamMap("population 'p' (c_leaky)"), grid, 1, 0}));
  CHECK_NOTHROW(rule.make(ParamMap("projection 'x' rule c_stride"),
                          {"projection 'x'", 4, 4, true, true, true, 0.1}));
}

TEST_CASE("required parameters (ABI 1.3): listed as required, refused when missing",
          "[plugin][loader]") {
  Registry r = builtins();
  const auto info = plugin::load_plugin(test_plugin("required"), r);
  CHECK(info.abi_minor == SPIKELINE_PLUGIN_ABI_MINOR);  // built with this header
  const ModelInfo& m = r.get("c_leaky", "test");
  REQUIRE(m.params.size() == 4);
  CHECK(m.params[1].name == "theta");
  CHECK(m.params[1].required);
  CHECK(std::isnan(m.params[1].default_value));
  CHECK_FALSE(m.params[0].required);
  const TimeGrid grid(0.1);
  try {
    m.make_population({"p", 2, ParamMap("population 'p' (c_leaky)"), grid, 1, 0});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::config);
    CHECK_THAT(e.what(), Contains("population 'p' (c_leaky) parameter theta is required but "
                                  "missing (it has no default; valid: any finite number)"));
  }
  ParamMap given("population 'p' (c_leaky)");
  given.set("theta", 2.0);
  CHECK_NOTHROW(m.make_population({"p", 2, given, grid, 1, 0}));

  const auto& rule = r.get_connection_rule("c_stride", "test");
  REQUIRE(rule.params.size() == 5);
  CHECK(rule.params[1].name == "fan");
  CHECK(rule.params[1].required);
  const PairRuleContext ctx{"projection 'x'", 4, 4, true, true, true, 0.1};
  try {
    rule.make(ParamMap("projection 'x' rule c_stride"), ctx);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::config);
    CHECK_THAT(e.what(), Contains("projection 'x' rule c_stride parameter fan is required but "
                                  "missing (it has no default; valid: >= 0)"));
  }
  ParamMap fan("projection 'x' rule c_stride");
  fan.set("fan", 3.0);
  CHECK_NOTHROW(rule.make(fan, ctx));
  // A given value is checked against the range as any other.
  fan.set("fan", -1.0);
  CHECK_THROWS_WITH(rule.make(fan, ctx), Contains("parameter fan = -1 is invalid"));
}

TEST_CASE("malformed lists of required parameters are refused by name", "[plugin][loader]") {
  {
    const auto [what, code] = refusal(test_plugin("required_unknown"));
    CHECK(code == ExitCode::config);
    CHECK_THAT(what, Contains("libtest_plugin_required_unknown.so': connection rule 'c_stride' "
                              "lists fanout as required, but has no parameter of that name") &&
                         Contains("fan") &&
                         Contains("its parameters: stride, fan, copies, random"));
  }
  {
    const auto [what, code] = refusal(test_plugin("required_choice"));
    CHECK(code == ExitCode::config);
    CHECK_THAT(what, Contains("connection rule 'c_stride' lists the choice parameter direction as "
                              "required: only a numeric parameter can be"));
  }
  {
    const auto [what, code] = refusal(test_plugin("required_twice"));
    CHECK(code == ExitCode::config);
    CHECK_THAT(what, Contains("libtest_plugin_required_twice.so': model 'c_leaky' lists the "
                              "required parameter theta twice"));
  }
}

TEST_CASE("malformed choice tables are refused by name", "[plugin][loader]") {
  {
    const auto [what, code] = refusal(test_plugin("bad_choice"));
    CHECK(code == ExitCode::config);
    CHECK_THAT(what, Contains("libtest_plugin_bad_choice.so': model 'c_leaky' choice parameter "
                              "reset has the default index 2, but only 2 words (valid: 0 to 1)"));
  }
  {
    const auto [what, code] = refusal(test_plugin("choice_twice"));
    CHECK(code == ExitCode::config);
    CHECK_THAT(what,
               Contains("model 'c_leaky' choice parameter reset lists the word 'zero' twice"));
  }
}

namespace {
struct WithChoices {
  static constexpr const char* name = "with_choices";
  static constexpr const char* doc = "";
  static constexpr spk_param params[] = {plugin::param("p", "", 1.0, "")};
  static constexpr const char* kModes[] = {"a", "b", "c"};
  static constexpr spk_choice choices[] = {plugin::choice("mode", "the mode", kModes, 2)};
  static constexpr spk_state_var state[] = {plugin::state("x", "", "", 0.0)};
  template <class N>
  static void update(N&) {}
};
}  // namespace

namespace {
// A model whose state has bounds (ABI 1.1), registered as a catalogue.
struct WithBounds {
  static constexpr const char* name = "with_bounds";
  static constexpr const char* doc = "";
  static constexpr spk_param params[] = {plugin::param("p", "", 1.0, "")};
  static constexpr spk_state_var state[] = {plugin::state("x", "", "", 0.0),
                                            plugin::counter("flag", "", "", 0)};
  static constexpr spk_bounds state_bounds[] = {plugin::bounds().above(-1.0),
                                                plugin::bounds().at_least(0.0).at_most(1.0)};
  template <class N>
  static void update(N&) {}
};
int bounds_catalogue(std::uint32_t, std::uint32_t, const spk_plugin** out, char*, std::size_t) {
  return plugin::detail::init<WithBounds>("test", "1", out);
}
}  // namespace

TEST_CASE("state bounds (ABI 1.1): a value set from outside them is refused", "[plugin][loader]") {
  Registry r;
  plugin::register_catalogue(&bounds_catalogue, r);
  const TimeGrid grid(0.1);
  auto pop = r.get("with_bounds", "test").make_population({"p", 3, ParamMap("p"), grid, 1, 0});
  pop->set_state(0, 0, -0.5);
  pop->set_state(1, 2, 1.0);
  CHECK(pop->state(0, 0, 0) == -0.5);
  CHECK(pop->state(1, 2, 0) == 1.0);
  REQUIRE_THROWS_WITH(pop->set_state(0, 1, -1.0),
                      Contains("model 'with_bounds' (population 'p'): state variable x of neuron 1 "
                               "= -1 is invalid: it must be finite and > -1"));
  // Its open upper end refuses an infinity too.
  REQUIRE_THROWS_WITH(pop->set_state(0, 1, INFINITY),
                      Contains("x of neuron 1 = inf is invalid: it must be finite and > -1"));
  REQUIRE_THROWS_WITH(
      pop->set_state(1, 2, 2.0),
      Contains("state variable flag of neuron 2 = 2 is invalid: it must be in [0, 1]"));
  REQUIRE_THROWS_WITH(pop->set_state(0, 1, NAN), Contains("x of neuron 1 = nan"));
  CHECK(pop->state(1, 2, 0) == 1.0);  // unchanged by the refused value
}

namespace {
// A rule whose table is sized from its parameter n (ABI 1.1).
struct TableRule : plugin::LearningRule {
  static constexpr const char* name = "table_rule";
  static constexpr const char* doc = "";
  static constexpr spk_param params[] = {plugin::param("n", "", 4.0, "").positive()};
  struct Constants {
    std::uint32_t n;
  };
  static std::size_t table_size(const plugin::RuleSetup<TableRule>& s) {
    return static_cast<std::size_t>(s.param(0));
  }
  static void prepare(plugin::RuleSetup<TableRule>& s) {
    s.constants().n = static_cast<std::uint32_t>(s.param(0));
    for (std::uint32_t k = 0; k < s.constants().n; ++k) s.table()[k] = 0.5 * k;
  }
  static void on_pre(plugin::Pre<TableRule>&) {}
  static void on_post(plugin::Post<TableRule>&) {}
};
int table_catalogue(std::uint32_t, std::uint32_t, const spk_plugin** out, char*, std::size_t) {
  return plugin::detail::init<TableRule>("test", "1", out);
}
}  // namespace

TEST_CASE("a rule's table sized from its parameters (ABI 1.1)", "[plugin][loader]") {
  constexpr spk_learning_rule d = plugin::detail::describe_learning_rule<TableRule>();
  // A run-time check: with -fsanitize, GCC does not fold a function's
  // address compared with null into a constant.
  REQUIRE(d.constants_size_of != nullptr);
  // The layer's size: the Constants on their own line, then the table.
  spk_rule_ctx ctx{};
  ctx.struct_size = sizeof ctx;
  const double n[] = {1000.0};
  ctx.params = n;
  ctx.n_params = 1;
  CHECK(d.constants_size_of(&ctx) == 64 + 8 * 1000);
  // Made through the adapter: prepare() fills all of it (ASan would see an
  // overflow); a size beyond the bound is refused by name.
  Registry r;
  plugin::register_catalogue(&table_catalogue, r);
  ParamMap p("projection 'p' plasticity");
  p.set("n", 100000.0);
  CHECK(r.get_rule("table_rule", "test").make(p, TimeGrid(0.1)) != nullptr);
  p.set("n", 1e9);
  REQUIRE_THROWS_WITH(r.get_rule("table_rule", "test").make(p, TimeGrid(0.1)),
                      Contains("projection 'p' plasticity: rule 'table_rule': the rule asks for "
                               "8000000064 bytes of constants, more than the 1073741824"));
}

namespace {
// A model whose state is its neurons' noise of the last step (ABI 1.1).
struct Noisy {
  static constexpr const char* name = "noisy";
  static constexpr const char* doc = "";
  static constexpr spk_param params[] = {plugin::param("p", "", 1.0, "")};
  static constexpr spk_state_var state[] = {plugin::state("x", "", "", 0.0)};
  template <class N>
  static void update(N& n) {
    n.uniform(static_cast<std::uint64_t>(n.step()), n.begin(), n.end() - n.begin(),
              n.state(0) + n.begin());
  }
};
int noisy_catalogue(std::uint32_t, std::uint32_t, const spk_plugin** out, char*, std::size_t) {
  return plugin::detail::init<Noisy>("test", "1", out);
}
}  // namespace

TEST_CASE("a model's noise streams (ABI 1.1): each neuron's own, whatever the ranges",
          "[plugin][loader]") {
  Registry r;
  plugin::register_catalogue(&noisy_catalogue, r);
  const TimeGrid grid(0.1);
  const std::uint64_t seed = 42;
  const std::uint32_t index = 3;  // the population's index: its stream
  auto pop = r.get("noisy", "test").make_population({"p", 10, ParamMap("p"), grid, seed, index});
  std::vector<float> ex(10, 0.0f), in(10, 0.0f);
  std::vector<NeuronIndex> fired;
  SpikeSink sink(fired);
  for (Step t : {1, 2, 1000}) {
    // Two ranges, as two partitions would call them.
    pop->update(t, {0, 3}, InputView{ex.data(), in.data(), nullptr}, sink);
    pop->update(t, {3, 10}, InputView{ex.data(), in.data(), nullptr}, sink);
    for (NeuronIndex i = 0; i < 10; ++i) {
      RandomStream want(seed, stream_id(StreamKind::model_noise, index), i,
                        static_cast<std::uint64_t>(t));
      const double u = pop->state(0, i, t);
      CHECK(u == want.uniform());
      CHECK((u > 0 && u < 1));
    }
  }
  CHECK(pop->state(0, 0, 1000) != pop->state(0, 1, 1000));
}

TEST_CASE("the C++ layer declares choice tables") {
  constexpr spk_neuron_model m = plugin::detail::describe<WithChoices>();
  STATIC_REQUIRE(m.n_choices == 1);
  STATIC_REQUIRE(m.choices[0].n_choices == 3);
  STATIC_REQUIRE(m.choices[0].default_index == 2);
  STATIC_REQUIRE(m.struct_size == sizeof(spk_neuron_model));
  constexpr spk_neuron_model none = plugin::detail::describe<WithConstants>();
  STATIC_REQUIRE(none.n_choices == 0);
}

namespace {
// Per-neuron constants beside population-wide ones: three arrays (two of
// doubles, one of int32) after a Constants struct of an odd size.
struct WithEachConstants {
  static constexpr const char* name = "with_each_constants";
  static constexpr const char* doc = "";
  static constexpr spk_param params[] = {
      plugin::param("tau", "ms", 10.0, "").positive().per_neuron()};
  static constexpr spk_state_var state[] = {plugin::state("x", "", "", 0.0)};
  struct Constants {
    double a;
    std::int32_t n;
  };
  enum { kP, kSteps, kQ };
  static constexpr std::uint32_t each_constants = 3;
  static void prepare(plugin::Setup<WithEachConstants>& s) {
    s.constants() = {-1.5, -7};
    double* P = s.each(kP);
    std::int32_t* steps = s.each<std::int32_t>(kSteps);
    double* Q = s.each(kQ);
    for (std::uint32_t i = 0; i < s.size(); ++i) {
      P[i] = std::exp(-s.dt() / s.param(0, i));
      steps[i] = static_cast<std::int32_t>(i) * 3 + 1;
      Q[i] = -static_cast<double>(i);
    }
  }
  template <class N>
  static void update(N&) {}
};
}  // namespace

TEST_CASE(
    "per-neuron constants: arrays on their own lines inside the block the simulator "
    "allocates") {
  constexpr spk_neuron_model m = plugin::detail::describe<WithEachConstants>();
  STATIC_REQUIRE(m.constants_size_per_neuron == 3 * 8);
  for (std::uint32_t n : {1u, 7u, 8u, 9u, 1000u}) {
    // The simulator's allocation: this many bytes, on a line. Filled with a
    // sentinel past the end, which prepare() must not reach.
    const std::size_t bytes = m.constants_size + n * m.constants_size_per_neuron;
    std::vector<unsigned char> raw(bytes + 2 * 64 + 64, 0xAB);
    auto* block = reinterpret_cast<unsigned char*>(
        (reinterpret_cast<std::uintptr_t>(raw.data()) + 63) / 64 * 64);
    std::fill(block, block + bytes, 0);
    std::vector<double> tau(n);
    for (std::uint32_t i = 0; i < n; ++i) tau[i] = 1.0 + i;
    const double* params[] = {tau.data()};
    const unsigned char per_neuron[] = {1};
    spk_model_ctx ctx{};
    ctx.struct_size = sizeof ctx;
    ctx.population = "p";
    ctx.size = n;
    ctx.dt = 0.1;
    ctx.n_params = 1;
    ctx.params = params;
    ctx.param_per_neuron = per_neuron;
    ctx.constants = block;
    char error[256] = "";
    REQUIRE(m.prepare(&ctx, error, sizeof error) == SPK_OK);

    // What update() reads is what prepare() wrote: nothing overlapped.
    const plugin::Initial<WithEachConstants> view(&ctx, nullptr);
    CHECK(view.constants().a == -1.5);
    CHECK(view.constants().n == -7);
    const double* P = view.each(WithEachConstants::kP);
    const std::int32_t* steps = view.each<std::int32_t>(WithEachConstants::kSteps);
    const double* Q = view.each(WithEachConstants::kQ);
    for (const void* a : {static_cast<const void*>(P), static_cast<const void*>(steps),
                          static_cast<const void*>(Q)})
      CHECK(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
    for (std::uint32_t i = 0; i < n; ++i) {
      CHECK(P[i] == std::exp(-0.1 / (1.0 + i)));
      CHECK(steps[i] == static_cast<std::int32_t>(i) * 3 + 1);
      CHECK(Q[i] == -static_cast<double>(i));
    }
    CHECK(reinterpret_cast<const unsigned char*>(Q + n) <= block + bytes);
    for (std::size_t b = bytes; b < bytes + 64; ++b) CHECK(block[b] == 0xAB);
  }
}

namespace {
int each_catalogue(std::uint32_t, std::uint32_t, const spk_plugin** out, char*, std::size_t) {
  return plugin::detail::init<WithEachConstants>("test catalogue", "1", out);
}
}  // namespace

TEST_CASE("a catalogue compiled in registers as built in, with the plugin checks") {
  // iaf_psc_exp and iaf_cond_exp are one: register_builtin_models put them
  // there through the catalogue, as built-ins (no plugin file, nothing for a
  // checkpoint to record or reload), with the layer's int32 counter.
  Registry r = builtins();
  for (const char* name : {"iaf_psc_exp", "iaf_cond_exp"}) {
    CAPTURE(name);
    const ModelInfo& b = r.get(name, "test");
    CHECK(b.origin.empty());
    CHECK(b.provenance.empty());
    REQUIRE(!b.state_vars.empty());
    CHECK(b.state_vars.back().name == "refractory");
  }

  const plugin::PluginInfo info = plugin::register_catalogue(&each_catalogue, r);
  CHECK(info.models == std::vector<std::string>{"with_each_constants"});
  const ModelInfo& m = r.get("with_each_constants", "test");
  CHECK(m.origin.empty());
  CHECK(m.provenance.empty());
  // Its populations speak as a built-in's do: no plugin file in messages.
  const TimeGrid grid(0.1);
  ParamMap p("population 'p' (with_each_constants)");
  p.set("tau", std::vector<double>{1.0, -2.0});
  REQUIRE_THROWS_WITH(m.make_population({"p", 2, p, grid, 1, 0}),
                      Contains("population 'p' (with_each_constants) parameter tau of neuron 1 = "
                               "-2 ms is invalid: it must be finite and > 0") &&
                          !Contains("plugin '"));
  const auto pop = m.make_population({"p", 3, ParamMap("population 'p'"), grid, 1, 0});
  CHECK(pop->fingerprint() == 0);  // as every built-in model's
  // The same checks as a loaded plugin's: a name taken is refused, and the
  // registry is left as it was.
  const std::size_t before = r.all().size();
  REQUIRE_THROWS_WITH(plugin::register_catalogue(&each_catalogue, r),
                      Contains("model 'with_each_constants' is already registered (a built-in "
                               "model)"));
  CHECK(r.all().size() == before);
}

namespace {
// A rule of ABI 1.4 as an author declares it: a neuromodulator, a sync, a
// value and delivered amounts (the events themselves are tested through
// the CLI: tests/cli/test_plugin_modulated.py).
struct Modulated : plugin::LearningRule {
  static constexpr const char* name = "modulated_rule";
  static constexpr const char* doc = "";
  static constexpr const char* modulator = "dopamine";
  static constexpr bool delivers = true;
  static constexpr spk_param params[] = {plugin::param("a", "", 1.0, "")};
  static void on_pre(plugin::Pre<Modulated>&) {}
  static void on_post(plugin::Post<Modulated>&) {}
  static void sync(plugin::Sync<Modulated>&) {}
  static double value(const plugin::Value<Modulated>& v, std::uint32_t, std::uint32_t) {
    return v.level(v.step());
  }
};
// Delivers only with short-term plasticity (tau_rec > 0), as reward_stdp.
struct MaybeDelivers : plugin::LearningRule {
  static constexpr const char* name = "maybe_delivers";
  static constexpr const char* doc = "";
  static constexpr spk_param params[] = {plugin::param("tau_rec", "ms", 0.0, "").nonnegative()};
  static bool delivers(const plugin::RuleSetup<MaybeDelivers>& s) { return s.param(0) > 0; }
  static void on_pre(plugin::Pre<MaybeDelivers>&) {}
  static void on_post(plugin::Post<MaybeDelivers>&) {}
};
int modulated_catalogue(std::uint32_t, std::uint32_t, const spk_plugin** out, char*, std::size_t) {
  return plugin::detail::init<Modulated>("test", "1", out);
}
}  // namespace

TEST_CASE("ABI 1.4: a rule's neuromodulator, sync, value and delivered amounts",
          "[plugin][loader]") {
  constexpr spk_learning_rule d = plugin::detail::describe_learning_rule<Modulated>();
  CHECK(std::string(d.modulator) == "dopamine");
  REQUIRE(d.delivers != nullptr);
  CHECK(d.delivers(nullptr) == 1);  // a constant: the context is not read
  REQUIRE(d.sync != nullptr);
  REQUIRE(d.synapse_value != nullptr);
  // A rule without them (ABI 1.3 and before, or not asked): all zero.
  constexpr spk_learning_rule t = plugin::detail::describe_learning_rule<TableRule>();
  CHECK(t.modulator == nullptr);
  CHECK(t.sync == nullptr);
  CHECK(t.synapse_value == nullptr);
  CHECK(t.delivers == nullptr);

  // Registered: the config's `modulator` key, with the rule's default.
  Registry r;
  plugin::register_catalogue(&modulated_catalogue, r);
  const RuleInfo& info = r.get_rule("modulated_rule", "test");
  REQUIRE(info.params.size() == 2);
  CHECK(info.params[1].name == "modulator");
  CHECK(info.params[1].default_text == "dopamine");
  CHECK_FALSE(info.params[1].required);
  ParamMap p("projection 'p' plasticity");
  CHECK(info.make(p, TimeGrid(0.1))->modulator() == "dopamine");
  p.set("modulator", std::string("serotonin"));
  CHECK(info.make(p, TimeGrid(0.1))->modulator() == "serotonin");
  p.set("modulator", std::string(""));
  CHECK_THROWS_WITH(info.make(p, TimeGrid(0.1)),
                    Contains("projection 'p' plasticity parameter modulator: rule "
                             "'modulated_rule' reads a neuromodulator: name one"));

  // Whether a projection's rule delivers may follow its parameters.
  constexpr spk_learning_rule m = plugin::detail::describe_learning_rule<MaybeDelivers>();
  REQUIRE(m.delivers != nullptr);
  spk_rule_ctx ctx{};
  const double zero[] = {0.0}, some[] = {800.0};
  ctx.params = zero;
  CHECK(m.delivers(&ctx) == 0);
  ctx.params = some;
  CHECK(m.delivers(&ctx) == 1);
  // A value other than 0 or 1 is refused, naming the projection and the rule.
  Registry bad = builtins();
  plugin::load_plugin(test_plugin("rule_bad_delivers"), bad);
  CHECK_THROWS_WITH(
      bad.get_rule("c_hebb", "test").make(ParamMap("projection 'b' plasticity"), TimeGrid(0.1)),
      Contains("projection 'b' plasticity: plugin '" + test_plugin("rule_bad_delivers") +
               "' rule 'c_hebb': delivers() returned 2: valid are 0 (the weights "
               "are delivered) and 1 (on_pre writes what is delivered)"));

  // A rule built for ABI 1.2 reads none: its descriptor ends before the
  // fields of 1.4, and a modulator key is refused.
  Registry old = builtins();
  plugin::load_plugin(test_plugin("abi_1_2"), old);
  const RuleInfo& hebb = old.get_rule("c_hebb", "test");
  CHECK(hebb.make(ParamMap("q"), TimeGrid(0.1))->modulator().empty());
  ParamMap q("projection 'q' plasticity");
  q.set("modulator", std::string("dopamine"));
  CHECK_THROWS_WITH(hebb.make(q, TimeGrid(0.1)),
                    Contains("projection 'q' plasticity parameter modulator: plugin '" +
                             test_plugin("abi_1_2") + "' rule 'c_hebb' reads no neuromodulator"));
}

TEST_CASE(
    "ABI 1.4: a rule reads the neuromodulator's pulses in place, and its level as the "
    "simulator computes it",
    "[plugin][loader]") {
  Neuromodulator da("dopamine", 37.5, 0.1);
  da.add(20, 0.5);
  da.add(5, 1.25);
  da.add(20, -0.1);  // two pulses at one step
  da.add(400, 2.0);
  const auto& pulses = da.pulses();
  // The records a rule is handed are the neuromodulator's own.
  const auto* rows = reinterpret_cast<const spk_pulse*>(pulses.data());
  REQUIRE(pulses.size() == 4);
  CHECK(rows[1].step == 20);
  CHECK(rows[1].amount == 0.5);
  CHECK(rows[2].level_after == da.level_after(2));
  spk_rule_ctx ctx{};
  ctx.dt = 0.1;
  ctx.modulator_tau = 37.5;
  for (const Step t : {Step{0}, Step{4}, Step{5}, Step{6}, Step{19}, Step{20}, Step{21}, Step{399},
                       Step{400}, Step{1000}}) {
    spk_rule_args a{};
    a.step = t;
    a.pulses = rows;
    a.n_pulses = da.first_after(t);
    const plugin::Value<Modulated> v(&ctx, &a);
    CHECK(v.pulses().size() == da.first_after(t));
    CHECK(v.level(t) == da.at(t));  // bit for bit: the same expression
    if (t >= 20) CHECK(v.level(19) == da.at(19));
  }
}

namespace {
// ABI 1.7: recorded variables chosen from the parameters, computed by
// value(), apart from the stored state ("last" is kept, not recorded).
struct Recorded : plugin::LearningRule {
  static constexpr const char* name = "recorded_rule";
  static constexpr const char* doc = "";
  static constexpr spk_param params[] = {plugin::param("per_group", "", 0.0, "").nonnegative()};
  static constexpr spk_state_var synapse_state[] = {plugin::state("last", "", "", 0.0)};
  static constexpr const char* kNames[] = {"gain", "u"};
  static std::span<const char* const> recorded(const plugin::RuleSetup<Recorded>& s) {
    return {kNames, s.param(0) > 0 ? 2u : 1u};
  }
  static void on_pre(plugin::Pre<Recorded>&) {}
  static void on_post(plugin::Post<Recorded>&) {}
  static double value(const plugin::Value<Recorded>&, std::uint32_t, std::uint32_t) { return 0.0; }
};
// Names a recorded variable "weight", which is always the weight.
struct RecordsWeight : plugin::LearningRule {
  static constexpr const char* name = "records_weight";
  static constexpr const char* doc = "";
  static constexpr spk_param params[] = {plugin::param("a", "", 0.0, "")};
  static constexpr const char* kNames[] = {"gain", "weight"};
  static std::span<const char* const> recorded(const plugin::RuleSetup<RecordsWeight>&) {
    return kNames;
  }
  static void on_pre(plugin::Pre<RecordsWeight>&) {}
  static void on_post(plugin::Post<RecordsWeight>&) {}
  static double value(const plugin::Value<RecordsWeight>&, std::uint32_t, std::uint32_t) {
    return 0.0;
  }
};
int recorded_catalogue(std::uint32_t, std::uint32_t, const spk_plugin** out, char*, std::size_t) {
  return plugin::detail::init<Recorded, RecordsWeight>("test", "1", out);
}
// Recorded variables without a value() to compute them.
constexpr spk_learning_rule kNoValue = [] {
  spk_learning_rule d = plugin::detail::describe_learning_rule<Recorded>();
  d.synapse_value = nullptr;
  return d;
}();
int no_value_catalogue(std::uint32_t, std::uint32_t, const spk_plugin** out, char*, std::size_t) {
  static const spk_learning_rule* const rules[] = {&kNoValue};
  static const spk_plugin d{sizeof(spk_plugin),
                            SPIKELINE_PLUGIN_ABI_MAJOR,
                            SPIKELINE_PLUGIN_ABI_MINOR,
                            "test",
                            "1",
                            nullptr,
                            0,
                            rules,
                            1,
                            nullptr,
                            0,
                            nullptr,
                            0};
  *out = &d;
  return SPK_OK;
}
}  // namespace

TEST_CASE("ABI 1.7: a rule's recorded variables, from its parameters, apart from its state",
          "[plugin][loader]") {
  constexpr spk_learning_rule t = plugin::detail::describe_learning_rule<TableRule>();
  CHECK(t.recorded == nullptr);  // the synapse_state rows, as before 1.7
  Registry r;
  plugin::register_catalogue(&recorded_catalogue, r);
  const RuleInfo& info = r.get_rule("recorded_rule", "test");
  ParamMap p("projection 'p' plasticity");
  CHECK(info.make(p, TimeGrid(0.1))->synapse_variables() ==
        std::vector<std::string>{"weight", "gain"});
  p.set("per_group", 1.0);
  const auto made = info.make(p, TimeGrid(0.1));
  CHECK(made->synapse_variables() == std::vector<std::string>{"weight", "gain", "u"});
  CHECK_THROWS_WITH(r.get_rule("records_weight", "test")
                        .make(ParamMap("projection 'q' plasticity"), TimeGrid(0.1)),
                    Contains("projection 'q' plasticity: rule 'records_weight': recorded variable "
                             "1 ('weight') is refused"));
  Registry bad;
  CHECK_THROWS_WITH(plugin::register_catalogue(&no_value_catalogue, bad),
                    Contains("lists recorded synapse variables but has no synapse_value"));
}
