// Per-neuron parameters (issue 19): a parameter given as a list of `size`
// values reaches each neuron; the analytic periods and threshold crossings
// of each neuron; a heterogeneous population is, neuron for neuron, the
// homogeneous population of that neuron's values (bit for bit); and the
// errors name the population, the parameter, the neuron, the value and the
// valid range.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "spikeline/engine/random.hpp"

#include "harness.hpp"

using namespace spikeline;
using spikeline::test::Harness;

namespace {

// The steps at which neuron i spikes in steps 1..steps.
std::vector<std::vector<Step>> spike_steps(Harness& h, Step steps) {
  std::vector<std::vector<Step>> out(h.pop->size());
  for (Step k = 1; k <= steps; ++k)
    for (const NeuronIndex i : h.step(k)) out[i].push_back(k);
  return out;
}

// The first step k at which E_L + I_e tau/C (1 - exp(-k dt / tau)) >= V_th,
// from the closed form T* = -tau ln(1 - (V_th - E_L) C / (I_e tau)). The
// test needs T*/dt away from a whole number (the model's V at that step is
// the closed form's to rounding, about 1e-14 relative).
Step first_crossing(double I_e, double V_th, double E_L, double tau, double C, double dt) {
  const double T = -tau * std::log(1.0 - (V_th - E_L) * C / (I_e * tau));
  const double steps = T / dt;
  REQUIRE(std::abs(steps - std::round(steps)) > 1e-6);
  return static_cast<Step>(std::ceil(steps));
}

std::string error_of(const std::string& model, const ParamMap& p, std::size_t size) {
  try {
    Harness h(model, p, 0.1, size);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("per-neuron I_e: each neuron fires at its own analytic period",
          "[heterogeneous][iaf_psc_exp][iaf_psc_delta]") {
  // From rest (V_reset = E_L), a neuron first crosses at step k1 (above); it
  // is then held for R = t_ref / dt steps and integrates again from E_L, so
  // it spikes at k1, 2 k1 + R, 3 k1 + 2 R, ...
  const double dt = 0.1, C = 250, tau = 10, E_L = -70, V_th = -55;
  const std::vector<double> I_e{400.0, 451.0, 523.0, 777.0, 1234.5};
  const Step R = 20;  // t_ref = 2 ms
  for (const std::string model : {"iaf_psc_exp", "iaf_psc_delta"}) {
    CAPTURE(model);
    auto p = test::params(model);
    p.set("I_e", I_e);
    Harness h(model, p, dt, I_e.size());
    const auto spikes = spike_steps(h, 2000);
    for (std::size_t i = 0; i < I_e.size(); ++i) {
      CAPTURE(i, I_e[i]);
      const Step k1 = first_crossing(I_e[i], V_th, E_L, tau, C, dt);
      REQUIRE(spikes[i].size() >= 5);
      for (std::size_t n = 0; n < spikes[i].size(); ++n)
        REQUIRE(spikes[i][n] == static_cast<Step>(n + 1) * k1 + static_cast<Step>(n) * R);
    }
  }
}

TEST_CASE("per-neuron V_th: each neuron crosses its own threshold at its analytic time",
          "[heterogeneous][iaf_psc_exp]") {
  const double dt = 0.1, C = 250, tau = 10, E_L = -70, I_e = 500;
  const std::vector<double> V_th{-60.5, -58.3, -55.1, -52.7, -51.05};
  auto p = test::params("iaf_psc_exp");
  p.set("I_e", I_e);
  p.set("V_th", V_th);
  Harness h("iaf_psc_exp", p, dt, V_th.size());
  const auto spikes = spike_steps(h, 300);
  for (std::size_t i = 0; i < V_th.size(); ++i) {
    CAPTURE(i, V_th[i]);
    REQUIRE(!spikes[i].empty());
    REQUIRE(spikes[i][0] == first_crossing(I_e, V_th[i], E_L, tau, C, dt));
  }
  // The same thresholds in the event-driven model with an input jump: a
  // neuron spikes on a jump exactly when the jump reaches its threshold.
  auto q = test::params("iaf_psc_delta");
  q.set("V_th", V_th);
  Harness d("iaf_psc_delta", q, dt, V_th.size());
  REQUIRE(d.pop->preferred_mode() == UpdateMode::event_driven);
  std::vector<NeuronIndex> all;
  for (NeuronIndex i = 0; i < V_th.size(); ++i) {
    d.input(i, 13.0);  // -70 + 13 = -57 mV: above the first two thresholds only
    all.push_back(i);
  }
  REQUIRE(d.touch(5, all) == std::vector<NeuronIndex>{0, 1});
}

TEST_CASE("a heterogeneous population is each neuron's homogeneous population, bit for bit",
          "[heterogeneous]") {
  // Neuron i of a population whose parameters vary is compared with neuron i
  // of a homogeneous population of the same size given neuron i's values,
  // under the same random input, current and (izhikevich) noise: every state
  // variable at every step, and every spike.
  struct Case {
    std::string model;
    std::vector<std::pair<std::string, std::vector<double>>> vary;
    std::vector<std::pair<std::string, double>> fixed;
    double weight;
  };
  const std::vector<Case> cases{
      {"iaf_psc_exp",
       {{"C_m", {200, 250, 300, 260}},
        {"tau_m", {10, 15, 8, 20}},
        {"tau_syn_ex", {2, 5, 0.5, 20}},
        {"tau_syn_in", {3, 1, 1, 15}},
        {"t_ref", {2, 0.5, 0, 5}},
        {"E_L", {-70, -65, -72, -68}},
        {"V_reset", {-70, -60, -75, -69}},
        {"V_th", {-55, -52, -57, -50}},
        {"I_e", {300, 0, 700, 100}}},
       {},
       400},
      {"iaf_cond_exp",
       {{"C_m", {200, 250, 300, 260}},
        {"g_L", {10, 16, 12, 20}},
        {"E_L", {-60, -70, -65, -62}},
        {"V_th", {-50, -55, -52, -48}},
        {"V_reset", {-60, -65, -70, -61}},
        {"t_ref", {5, 2, 0, 1}},
        {"E_ex", {0, -5, 5, 0}},
        {"E_in", {-80, -85, -75, -90}},
        {"tau_syn_ex", {5, 0.2, 2, 10}},
        {"tau_syn_in", {10, 2, 5, 20}},
        {"I_e", {100, 300, 250, 500}}},
       {},
       8},
      {"iaf_psc_delta",
       {{"C_m", {200, 250, 300, 260}},
        {"tau_m", {10, 15, 8, 20}},
        {"t_ref", {2, 0.5, 0, 5}},
        {"E_L", {-70, -65, -72, -68}},
        {"V_reset", {-70, -60, -75, -69}},
        {"V_th", {-55, -52, -57, -50}},
        {"I_e", {300, 0, 450, 100}}},
       {},
       3},
      {"izhikevich",
       {{"a", {0.02, 0.1, 0.02, 0.02}},
        {"b", {0.2, 0.2, 0.25, 0.2}},
        {"c", {-65, -65, -65, -50}},
        {"d", {8, 2, 2, 2}},
        {"V_th", {30, 25, 30, 35}},
        {"I_e", {10, 5, 8, 7}}},
       {{"noise_amplitude", 6.0}},
       4},
      {"lif_discrete", {{"beta", {0.7, 0.9, 0.5, 1.0}}, {"theta", {1.0, 0.5, 2.0, 1.5}}}, {}, 3.0},
  };
  const std::size_t n = 4;
  const Step steps = 3000;
  for (const auto& c : cases) {
    for (std::size_t i = 0; i < n; ++i) {
      CAPTURE(c.model, i);
      auto het_p = test::params(c.model);
      auto hom_p = test::params(c.model);
      for (const auto& [name, values] : c.vary) {
        het_p.set(name, values);
        hom_p.set(name, values[i]);
      }
      for (const auto& [name, value] : c.fixed) {
        het_p.set(name, value);
        hom_p.set(name, value);
      }
      Harness het(c.model, het_p, 0.1, n, 5, 2);
      Harness hom(c.model, hom_p, 0.1, n, 5, 2);
      const auto vars = het.pop->state_vars();
      RandomStream rng(11, 0, static_cast<std::uint32_t>(i));
      std::size_t fired = 0;
      for (Step k = 1; k <= steps; ++k) {
        // The same input to neuron i of both: a spike with probability 0.2
        // per step, of either sign, and a current that changes now and then.
        if (rng.uniform() < 0.2) {
          const double w = (rng.uniform() < 0.7 ? 1 : -1) * c.weight * rng.uniform();
          het.input(i, w);
          hom.input(i, w);
        }
        if (k % 500 == 0) het.current[i] = hom.current[i] = c.weight * (rng.uniform() - 0.3);
        const auto& a = het.step(k);
        const auto& b = hom.step(k);
        const bool het_spiked = std::count(a.begin(), a.end(), i) != 0;
        const bool hom_spiked = std::count(b.begin(), b.end(), i) != 0;
        CAPTURE(k);
        REQUIRE(het_spiked == hom_spiked);
        fired += het_spiked;
        for (std::size_t v = 0; v < vars.size(); ++v)
          REQUIRE(het.pop->state(v, i, k) == hom.pop->state(v, i, k));
      }
      CHECK(fired >= 5);  // the comparison covers spikes, resets and refractory periods
    }
  }
}

TEST_CASE("per-neuron initial state: izhikevich starts at each neuron's c and b c",
          "[heterogeneous][izhikevich]") {
  auto p = test::params("izhikevich");
  p.set("b", std::vector<double>{0.2, 0.25, 0.1});
  p.set("c", std::vector<double>{-65.0, -50.0, -55.0});
  Harness h("izhikevich", p, 0.1, 3);
  REQUIRE(h.state("V_m", 1, 0) == -50.0);
  REQUIRE(h.state("U_m", 1, 0) == 0.25 * -50.0);
  REQUIRE(h.state("U_m", 2, 0) == 0.1 * -55.0);
  // iaf models start at each neuron's E_L.
  auto q = test::params("iaf_cond_exp");
  q.set("E_L", std::vector<double>{-60.0, -70.0});
  Harness c("iaf_cond_exp", q, 0.1, 2);
  REQUIRE(c.state("V_m", 0, 0) == -60.0);
  REQUIRE(c.state("V_m", 1, 0) == -70.0);
}

TEST_CASE("poisson_generator: each neuron fires at its own rate", "[heterogeneous][generator]") {
  // 4000 s at rates 0, 5, 20 and 80 Hz: counts ~ Poisson(rate T); each must
  // lie within 5 standard deviations of rate T (a false failure has
  // probability below 1e-6 per neuron). A rate of 0 never fires.
  const std::vector<double> rates{0.0, 5.0, 20.0, 80.0};
  auto p = test::params("poisson_generator");
  p.set("rate", rates);
  auto pop = test::make("poisson_generator", p, TimeGrid(0.1), rates.size());
  const Step end = 40'000'000;  // 4000 s
  for (NeuronIndex i = 0; i < rates.size(); ++i) {
    std::uint64_t count = 0;
    while (pop->next_spike(i) <= end) ++count;
    const double mean = rates[i] * 4000.0;
    CAPTURE(i, rates[i], count, mean);
    REQUIRE(std::abs(static_cast<double>(count) - mean) <= 5 * std::sqrt(mean));
  }
}

TEST_CASE("per-neuron values: errors name the population, parameter, neuron, value and range",
          "[heterogeneous][errors]") {
  auto p = test::params("iaf_psc_exp");
  p.set("V_th", std::vector<double>{-55.0, -54.0, -53.0});
  CHECK(error_of("iaf_psc_exp", p, 4) ==
        "population 'p' (iaf_psc_exp) parameter V_th has 3 values: it takes one number, a "
        "distribution, or an array of exactly 4 numbers (one per neuron)");

  p.set("V_th", std::vector<double>{-55.0, -54.0, NAN, -53.0});
  CHECK(error_of("iaf_psc_exp", p, 4) ==
        "population 'p' (iaf_psc_exp) parameter V_th of neuron 2 = nan mV is invalid: it must "
        "be a finite number");

  auto q = test::params("iaf_cond_exp");
  q.set("tau_syn_ex", std::vector<double>{5.0, -1.0});
  CHECK(error_of("iaf_cond_exp", q, 2) ==
        "population 'p' (iaf_cond_exp) parameter tau_syn_ex of neuron 1 = -1 ms is invalid: it "
        "must be finite and > 0");

  // The relation V_reset < V_th, per neuron.
  auto r = test::params("iaf_psc_delta");
  r.set("V_th", std::vector<double>{-55.0, -56.0, -71.0});
  const std::string rel = error_of("iaf_psc_delta", r, 3);
  CHECK_THAT(rel, Catch::Contains("parameter V_reset of neuron 2 = -70 mV") &&
                      Catch::Contains("parameter V_th of neuron 2 = -71 mV"));

  // t_ref off the grid, per neuron.
  auto t = test::params("iaf_psc_exp");
  t.set("t_ref", std::vector<double>{2.0, 2.05});
  CHECK_THAT(error_of("iaf_psc_exp", t, 2),
             Catch::Contains("parameter t_ref of neuron 1 = 2.05 ms"));

  // A parameter that cannot vary.
  auto z = test::params("izhikevich");
  z.set("noise_amplitude", std::vector<double>{1.0, 2.0});
  CHECK(error_of("izhikevich", z, 2) ==
        "population 'p' (izhikevich) parameter noise_amplitude cannot vary per neuron (an array "
        "or a distribution was given): it must be one number; parameters that can: a, b, c, d, "
        "V_th, I_e");
  auto v = test::params("iaf_psc_delta");
  v.set("V_min", std::vector<double>{-80.0, -90.0});
  CHECK_THAT(
      error_of("iaf_psc_delta", v, 2),
      Catch::Contains("parameter V_min cannot vary per neuron") &&
          Catch::Contains("parameters that can: C_m, tau_m, t_ref, E_L, V_reset, V_th, I_e"));
}

TEST_CASE("the model registry says which parameters vary per neuron", "[heterogeneous]") {
  const auto reg = test::builtin_registry();
  auto varying = [&](const std::string& model) {
    std::vector<std::string> out;
    for (const auto& p : reg.get(model, "test").params)
      if (p.per_neuron) out.push_back(p.name);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(varying("iaf_psc_exp") ==
        V{"C_m", "tau_m", "tau_syn_ex", "tau_syn_in", "t_ref", "E_L", "V_reset", "V_th", "I_e"});
  CHECK(varying("iaf_cond_exp") == V{"C_m", "g_L", "E_L", "V_th", "V_reset", "t_ref", "E_ex",
                                     "E_in", "tau_syn_ex", "tau_syn_in", "I_e"});
  CHECK(varying("iaf_psc_delta") == V{"C_m", "tau_m", "t_ref", "E_L", "V_reset", "V_th", "I_e"});
  CHECK(varying("izhikevich") == V{"a", "b", "c", "d", "V_th", "I_e"});
  CHECK(varying("lif_discrete") == V{"beta", "theta"});
  CHECK(varying("poisson_generator") == V{"rate"});
  CHECK(varying("spike_generator").empty());
}
