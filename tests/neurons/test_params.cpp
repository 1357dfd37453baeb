#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "spikeline/engine/error.hpp"

#include "harness.hpp"

using namespace spikeline;
using Catch::Contains;

namespace {
void make(const std::string& model, const ParamMap& p, double dt = 0.1) {
  const TimeGrid grid(dt);
  test::make(model, p, grid, 3);
}
ParamMap with(const std::string& model, const std::string& name, ParamValue v) {
  auto p = test::params(model);
  p.set(name, std::move(v));
  return p;
}
}  // namespace

TEST_CASE("parameter validation names the parameter and the value", "[params]") {
  const char* lif[] = {"iaf_psc_delta", "iaf_psc_exp", "iaf_cond_exp"};
  for (const char* model : lif) {
    CAPTURE(model);
    if (std::string(model) != "iaf_cond_exp") {
      REQUIRE_THROWS_WITH(make(model, with(model, "tau_m", -5.0)),
                          Contains("parameter tau_m = -5 ms") && Contains("> 0"));
    }
    REQUIRE_THROWS_WITH(make(model, with(model, "C_m", NAN)),
                        Contains("parameter C_m = nan pF") && Contains(model));
    auto reset = with(model, "V_reset", -50.0);
    REQUIRE_THROWS_WITH(make(model, reset),
                        Contains("V_reset = -50 mV") && Contains("V_th = -55 mV"));
    reset.set("V_reset", -55.0);
    REQUIRE_THROWS_WITH(make(model, reset), Contains("V_reset = -55 mV"));
    REQUIRE_THROWS_WITH(make(model, with(model, "t_ref", 0.25)), Contains("t_ref = 0.25 ms"));
    REQUIRE_THROWS_WITH(make(model, with(model, "t_ref", -1.0)), Contains("t_ref = -1 ms"));
    REQUIRE_THROWS_WITH(make(model, with(model, "I_e", INFINITY)), Contains("I_e = inf pA"));
  }
  REQUIRE_THROWS_WITH(make("iaf_cond_exp", with("iaf_cond_exp", "g_L", 0.0)),
                      Contains("g_L = 0 nS"));
  REQUIRE_THROWS_WITH(make("iaf_psc_exp", with("iaf_psc_exp", "tau_syn_in", NAN)),
                      Contains("tau_syn_in = nan ms"));
  REQUIRE_THROWS_WITH(make("iaf_psc_delta", with("iaf_psc_delta", "V_min", -60.0)),
                      Contains("V_min = -60 mV"));
  REQUIRE_THROWS_WITH(make("iaf_psc_delta", with("iaf_psc_delta", "V_min", NAN)),
                      Contains("V_min = nan mV"));
  REQUIRE_NOTHROW(make("iaf_psc_delta", with("iaf_psc_delta", "V_min", -80.0)));

  REQUIRE_THROWS_WITH(make("lif_discrete", with("lif_discrete", "beta", 1.5)),
                      Contains("parameter beta = 1.5") && Contains("[0, 1]"));
  REQUIRE_THROWS_WITH(make("lif_discrete", with("lif_discrete", "beta", -0.1)),
                      Contains("beta = -0.1"));
  REQUIRE_THROWS_WITH(make("lif_discrete", with("lif_discrete", "beta", NAN)),
                      Contains("beta = nan"));
  REQUIRE_THROWS_WITH(make("lif_discrete", with("lif_discrete", "theta", 0.0)),
                      Contains("theta = 0"));
  REQUIRE_THROWS_WITH(make("lif_discrete", with("lif_discrete", "reset", std::string("substract"))),
                      Contains("parameter reset = 'substract'") && Contains("subtract, zero") &&
                          Contains("did you mean 'subtract'"));
  REQUIRE_THROWS_WITH(make("lif_discrete", with("lif_discrete", "reset", 1.0)),
                      Contains("reset must be a string"));
  REQUIRE_NOTHROW(make("lif_discrete", with("lif_discrete", "beta", 1.0)));
  REQUIRE_NOTHROW(make("lif_discrete", with("lif_discrete", "reset", std::string("zero"))));

  REQUIRE_THROWS_WITH(make("izhikevich", with("izhikevich", "integration", std::string("rk4"))),
                      Contains("integration = 'rk4'") && Contains("half_steps, euler"));
  REQUIRE_THROWS_WITH(make("izhikevich", with("izhikevich", "noise_amplitude", -1.0)),
                      Contains("noise_amplitude = -1"));
  REQUIRE_THROWS_WITH(make("izhikevich", with("izhikevich", "a", NAN)), Contains("a = nan"));

  REQUIRE_THROWS_WITH(make("poisson_generator", with("poisson_generator", "rate", -3.0)),
                      Contains("rate = -3 Hz"));
  REQUIRE_THROWS_WITH(make("poisson_generator", with("poisson_generator", "start", 0.05)),
                      Contains("start = 0.05 ms"));
  auto window = with("poisson_generator", "start", 10.0);
  window.set("stop", 10.0);
  REQUIRE_THROWS_WITH(make("poisson_generator", window), Contains("start = 10 ms"));
}

TEST_CASE("registry: every built-in model is documented consistently", "[params]") {
  const Registry r = test::builtin_registry();
  const TimeGrid grid(0.1);
  const std::vector<std::string> names = {"iaf_psc_delta",   "iaf_psc_exp",  "iaf_cond_exp",
                                          "izhikevich",      "lif_discrete", "poisson_generator",
                                          "spike_generator", "dc_generator", "poisson_input",
                                          "step_current",    "ac_current",   "noise_current"};
  REQUIRE(r.all().size() == names.size());
  for (const auto& name : names) {
    CAPTURE(name);
    const ModelInfo& m = r.get(name, "test");
    REQUIRE(!m.summary.empty());
    // Setting every parameter to its documented default is accepted (and the
    // names are the ones the model reads: check_param_names passes).
    auto p = test::params(name);
    for (const auto& info : m.params) {
      REQUIRE(!info.doc.empty());
      if (!std::isnan(info.default_value)) p.set(info.name, info.default_value);
    }
    REQUIRE_NOTHROW(Registry::check_param_names(m, p));
    if (m.kind == ModelKind::stimulus) {
      REQUIRE((m.make_stimulus != nullptr) + (m.make_drive != nullptr) + (m.make_wave != nullptr) ==
              1);
      if (m.make_drive)
        REQUIRE_NOTHROW(m.make_drive(p, grid));
      else if (m.make_wave)
        REQUIRE_NOTHROW(m.make_wave(p, grid, {1, 0}));
      else
        REQUIRE_NOTHROW(m.make_stimulus(p, grid));
      continue;
    }
    const auto pop = test::make(name, p, grid, 4);
    const auto vars = pop->state_vars();
    REQUIRE(vars.size() == m.state_vars.size());
    for (std::size_t k = 0; k < vars.size(); ++k) {
      REQUIRE(vars[k].name == m.state_vars[k].name);
      REQUIRE(vars[k].unit == m.state_vars[k].unit);
    }
    REQUIRE((m.kind == ModelKind::generator) == (pop->preferred_mode() == UpdateMode::scheduled));
  }
  Registry twice = test::builtin_registry();
  REQUIRE_THROWS(register_builtin_models(twice));
}

TEST_CASE("find_non_finite names the first neuron and variable that is NaN or infinite",
          "[params]") {
  const TimeGrid grid(0.1);
  const char* models[] = {"iaf_psc_delta", "iaf_psc_exp", "iaf_cond_exp", "izhikevich",
                          "lif_discrete"};
  for (const char* name : models) {
    CAPTURE(name);
    const auto pop = test::make(name, test::params(name), grid, 8);
    const IndexRange all{0, 8};
    REQUIRE(!pop->find_non_finite(all, 0));
    const std::string model = name;
    if (model == "lif_discrete") {
      // lif_discrete declares the bounds of its state (ABI 1.1): u is any
      // finite number, s a counter in [0, 1]. Setting a value outside them is
      // refused by name, so a non-finite u can only come from its update,
      // which find_non_finite then reports as for the other models
      // (izhikevich below exercises that scan on the plugin path).
      CHECK_THROWS_WITH(pop->set_state(0, 5, -INFINITY),
                        "model 'lif_discrete' (population 'p'): state variable u of neuron 5 = "
                        "-inf is invalid: it must be a finite number");
      CHECK_THROWS_WITH(pop->set_state(1, 2, 2.0),
                        "model 'lif_discrete' (population 'p'): state variable s of neuron 2 = 2 "
                        "is invalid: it must be in [0, 1]");
      CHECK_THROWS_WITH(pop->set_state(0, 6, NAN), Catch::Contains("must be a finite number"));
      CHECK(!pop->find_non_finite(all, 0));
      continue;
    }
    // The last variable that holds a real number: the last of iaf_cond_exp's
    // and iaf_psc_exp's, refractory, is a whole-number counter (which refuses
    // a NaN as it is set).
    const std::size_t last =
        model == "iaf_cond_exp" || model == "iaf_psc_exp" ? 2 : pop->state_vars().size() - 1;
    pop->set_state(last, 5, -INFINITY);
    pop->set_state(0, 6, NAN);
    auto bad = pop->find_non_finite(all, 0);
    REQUIRE(bad);
    CHECK(bad->neuron == 5);
    CHECK(bad->variable == last);
    CHECK(bad->value == -INFINITY);
    // Only the range asked about: a partition's share.
    bad = pop->find_non_finite({6, 8}, 0);
    REQUIRE(bad);
    CHECK(bad->neuron == 6);
    CHECK(std::isnan(bad->value));
    CHECK(!pop->find_non_finite({0, 5}, 0));
    CHECK(!pop->find_non_finite({7, 8}, 0));
  }
  // iaf_psc_delta scans its stored V; a neuron left behind by the lazy path
  // is still found at a later step.
  const auto lazy = test::make("iaf_psc_delta", test::params("iaf_psc_delta"), grid, 4);
  lazy->set_state(0, 3, INFINITY);
  const auto bad = lazy->find_non_finite({0, 4}, 1000);
  REQUIRE(bad);
  CHECK(bad->neuron == 3);
  CHECK(bad->value == INFINITY);
  // Generators have no state to check.
  const auto gen = test::make("poisson_generator", test::params("poisson_generator"), grid, 4);
  CHECK(!gen->find_non_finite({0, 4}, 0));
}
