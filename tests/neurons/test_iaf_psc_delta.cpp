#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "spikeline/engine/random.hpp"

#include "harness.hpp"

using namespace spikeline;
using spikeline::test::Harness;

namespace {

// The spike steps of a neuron under constant current I (pA) from V = V0 at
// step 0, from the closed form V(k) = V_inf + (V0 - V_inf) exp(-k dt / tau_m):
// after a spike at s the neuron is refractory for R steps and restarts from
// V_reset at step s + R.
std::vector<Step> analytic_spikes(double I, double V0, Step until) {
  const double C = 250, tau = 10, E_L = -70, V_th = -55, V_reset = -70, dt = 0.1;
  const Step R = 20;
  const double V_inf = E_L + I * tau / C;
  std::vector<Step> out;
  Step origin = 0;
  double start = V0;
  for (Step k = 1; k <= until; ++k) {
    const double v = V_inf + (start - V_inf) * std::exp(-(k - origin) * dt / tau);
    if (v >= V_th) {
      out.push_back(k);
      origin = k + R;
      start = V_reset;
      k += R;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("iaf_psc_delta: spike times under constant current match the closed form",
          "[iaf_psc_delta]") {
  const Step until = 10000;  // 1 s
  const double I = 500;      // V_inf = -50 mV, above V_th = -55 mV
  const auto expected = analytic_spikes(I, -70, until);
  // First spike: V_inf - (V_inf - E_L) exp(-t / tau) = V_th at t = -tau ln(1 - 15/20) = 13.86 ms.
  REQUIRE(expected.front() == 139);
  REQUIRE(expected.size() > 50);

  SECTION("through I_e") {
    auto p = test::params("iaf_psc_delta");
    p.set("I_e", I);
    Harness h("iaf_psc_delta", p, 0.1, 1);
    REQUIRE(h.pop->preferred_mode() == UpdateMode::stepped);
    std::vector<Step> got;
    for (Step k = 1; k <= until; ++k) {
      if (!h.step(k).empty()) got.push_back(k);
    }
    REQUIRE(got == expected);
  }
  SECTION("through an injected current") {
    Harness h("iaf_psc_delta", test::params("iaf_psc_delta"), 0.1, 1);
    REQUIRE(h.pop->preferred_mode() == UpdateMode::event_driven);
    h.current[0] = I;
    std::vector<Step> got;
    for (Step k = 1; k <= until; ++k) {
      if (!h.step(k).empty()) got.push_back(k);
    }
    REQUIRE(got == expected);
  }
  SECTION("from a start above rest") {
    const auto from_high = analytic_spikes(I, -60, until);
    REQUIRE(from_high.front() < expected.front());
    auto p = test::params("iaf_psc_delta");
    p.set("I_e", I);
    Harness h("iaf_psc_delta", p, 0.1, 1);
    h.set("V_m", 0, -60);
    std::vector<Step> got;
    for (Step k = 1; k <= until; ++k) {
      if (!h.step(k).empty()) got.push_back(k);
    }
    REQUIRE(got == from_high);
  }
}

TEST_CASE("iaf_psc_delta: jumps, threshold and the refractory boundary, on both paths",
          "[iaf_psc_delta]") {
  // Spike at step 6 (-70 + 10 P22 + 6 = -54.1 mV >= -55). R = 20: steps 7..26
  // are refractory (input at 10 and 26 is discarded), step 27 is free and
  // starts from V_reset: -70 + 20 = -50 mV spikes.
  struct In {
    Step t;
    double w;
  };
  const std::vector<In> inputs = {{5, 10}, {6, 6}, {10, 20}, {26, 20}, {27, 20}, {60, -3}};
  const double P22 = std::exp(-0.1 / 10);
  for (const bool lazy : {false, true}) {
    CAPTURE(lazy);
    Harness h("iaf_psc_delta", test::params("iaf_psc_delta"), 0.1, 1);
    std::vector<Step> spikes;
    for (Step k = 1; k <= 100; ++k) {
      bool touched = false;
      for (const auto& e : inputs) {
        if (e.t == k) {
          h.input(0, e.w);
          touched = true;
        }
      }
      bool fired = false;
      if (!lazy) {
        fired = !h.step(k).empty();
      } else if (touched) {
        fired = !h.touch(k, {0}).empty();
      }
      if (fired) spikes.push_back(k);
      if (k == 5) REQUIRE(h.state("V_m", 0, 5) == Approx(-60.0).margin(1e-12));
      if (k >= 7 && k <= 26) REQUIRE(h.state("V_m", 0, k) == -70.0);
      if (k == 60) REQUIRE(h.state("V_m", 0, 60) == Approx(-73.0).margin(1e-12));
    }
    REQUIRE(spikes == std::vector<Step>{6, 27});
    // After the spike at 27 and R = 20, V restarts from V_reset at step 47:
    // the jump of -3 mV at 60 decays for 40 steps by step 100.
    REQUIRE(h.state("V_m", 0, 100) == Approx(-70.0 - 3.0 * std::pow(P22, 40)).margin(1e-12));
  }
}

TEST_CASE("iaf_psc_delta: stepped and event-driven paths agree on random input",
          "[iaf_psc_delta]") {
  struct Variant {
    const char* name;
    double V_min, V_reset;
  };
  for (const Variant var :
       {Variant{"no V_min", -INFINITY, -70}, Variant{"V_min below E_L", -72, -70},
        Variant{"V_min above E_L", -68, -65}}) {
    CAPTURE(var.name);
    auto p = test::params("iaf_psc_delta");
    p.set("V_min", var.V_min);
    p.set("V_reset", var.V_reset);
    p.set("t_ref", 1.5);
    const std::size_t n = 40;
    Harness stepped("iaf_psc_delta", p, 0.1, n);
    Harness lazy("iaf_psc_delta", p, 0.1, n);
    REQUIRE(lazy.pop->preferred_mode() == UpdateMode::event_driven);
    RandomStream rng(7, stream_id(StreamKind::user, 1), 0);
    for (NeuronIndex i = 0; i < n; ++i) {
      const double v0 = rng.uniform(-80, -56);  // some start below V_min
      stepped.set("V_m", i, v0);
      lazy.set("V_m", i, v0);
    }
    std::size_t spikes = 0;
    for (Step k = 1; k <= 20000; ++k) {
      std::vector<NeuronIndex> touched;
      for (NeuronIndex i = 0; i < n; ++i) {
        if (rng.uniform() < 0.03) {
          const double w = rng.uniform(-4, 8);
          stepped.input(i, w);
          lazy.input(i, w);
          touched.push_back(i);
        }
      }
      const auto a = stepped.step(k);
      const auto b = touched.empty() ? std::vector<NeuronIndex>{} : lazy.touch(k, touched);
      REQUIRE(a == b);
      spikes += a.size();
      if (k % 997 == 0) {
        for (NeuronIndex i = 0; i < n; ++i) {
          REQUIRE(lazy.state("V_m", i, k) ==
                  Approx(stepped.state("V_m", i, k)).margin(1e-9).epsilon(0));
        }
      }
    }
    REQUIRE(spikes > 500);  // the comparison covered plenty of spikes and refractory periods
    for (NeuronIndex i = 0; i < n; ++i) {
      REQUIRE(lazy.state("V_m", i, 20000) ==
              Approx(stepped.state("V_m", i, 20000)).margin(1e-9).epsilon(0));
    }
  }
}

TEST_CASE("iaf_psc_delta: update() catches up a neuron left behind by the lazy path",
          "[iaf_psc_delta]") {
  Harness a("iaf_psc_delta", test::params("iaf_psc_delta"), 0.1, 1);
  Harness b("iaf_psc_delta", test::params("iaf_psc_delta"), 0.1, 1);
  a.input(0, 12);
  b.input(0, 12);
  a.step(1);
  b.touch(1, {0});
  for (Step k = 2; k <= 50; ++k) a.step(k);
  // b was not touched for steps 2..49; a current now forces stepping at 50.
  b.step(50);
  REQUIRE(b.state("V_m", 0, 50) == Approx(a.state("V_m", 0, 50)).margin(1e-12));
  REQUIRE(b.state("V_m", 0, 50) == Approx(-70 + 12 * std::exp(-49 * 0.1 / 10)).margin(1e-12));
}
