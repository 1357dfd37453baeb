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

namespace {

// Drives one population stepped and an identical one event-driven with the
// same random jumps (in [-4, jump_max] mV, 3 % of neurons a step) for 2 s
// at dt = 0.1 ms, from random V_m in [V_low, -56) (and w in [0, w_max) with
// adaptation): the spike steps must be identical, V_m (and w) equal to
// rounding at every 997th step and at the end. Returns the spike count.
std::size_t paths_agree(const ParamMap& p, std::uint64_t seed, double V_low, double jump_max,
                        double w_max) {
  const std::size_t n = 40;
  Harness stepped("iaf_psc_delta", p, 0.1, n);
  Harness lazy("iaf_psc_delta", p, 0.1, n);
  REQUIRE(lazy.pop->preferred_mode() == UpdateMode::event_driven);
  RandomStream rng(seed, stream_id(StreamKind::user, 1), 0);
  for (NeuronIndex i = 0; i < n; ++i) {
    const double v0 = rng.uniform(V_low, -56);
    stepped.set("V_m", i, v0);
    lazy.set("V_m", i, v0);
    if (w_max > 0) {
      const double w0 = rng.uniform(0, w_max);
      stepped.set("w", i, w0);
      lazy.set("w", i, w0);
    }
  }
  auto compare = [&](Step k) {
    for (NeuronIndex i = 0; i < n; ++i) {
      for (const char* var : {"V_m", "w"}) {
        REQUIRE(lazy.state(var, i, k) == Approx(stepped.state(var, i, k)).margin(1e-9).epsilon(0));
      }
    }
  };
  std::size_t spikes = 0;
  for (Step k = 1; k <= 20000; ++k) {
    std::vector<NeuronIndex> touched;
    for (NeuronIndex i = 0; i < n; ++i) {
      if (rng.uniform() < 0.03) {
        const double w = rng.uniform(-4, jump_max);
        stepped.input(i, w);
        lazy.input(i, w);
        touched.push_back(i);
      }
    }
    const auto a = stepped.step(k);
    const auto b = touched.empty() ? std::vector<NeuronIndex>{} : lazy.touch(k, touched);
    REQUIRE(a == b);
    spikes += a.size();
    if (k % 997 == 0) compare(k);
  }
  compare(20000);
  return spikes;
}

}  // namespace

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
    // Some neurons start below V_min; the comparison covers plenty of
    // spikes and refractory periods.
    REQUIRE(paths_agree(p, 7, -80, 8, 0) > 500);
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

namespace {

// An independent integration of iaf_psc_delta with spike-frequency
// adaptation: RK4 with 200 substeps per step of
//   dV/dt = -(V - E_L) / tau_m + (I - w) / C_m,   dw/dt = -w / tau_w,
// the threshold tested at the steps, w += b at a spike, V held at V_reset
// for R steps (w decays on). Returns the spike steps; V and w at `until`.
struct AdaptRef {
  std::vector<Step> spikes;
  double V, w;
};
AdaptRef adapt_reference(double I, double b, double tau_w, Step until) {
  const double C = 250, tau = 10, E_L = -70, V_th = -55, V_reset = -70, dt = 0.1;
  const Step R = 20;
  const int sub = 200;
  const double h = dt / sub;
  auto dV = [&](double V, double w) { return -(V - E_L) / tau + (I - w) / C; };
  AdaptRef r{{}, E_L, 0.0};
  Step refr_end = -1;
  for (Step k = 1; k <= until; ++k) {
    for (int s = 0; s < sub; ++s) {
      const double V = r.V, w = r.w;
      const double k1v = dV(V, w), k1w = -w / tau_w;
      const double k2v = dV(V + h / 2 * k1v, w + h / 2 * k1w), k2w = -(w + h / 2 * k1w) / tau_w;
      const double k3v = dV(V + h / 2 * k2v, w + h / 2 * k2w), k3w = -(w + h / 2 * k2w) / tau_w;
      const double k4v = dV(V + h * k3v, w + h * k3w), k4w = -(w + h * k3w) / tau_w;
      r.V = V + h / 6 * (k1v + 2 * k2v + 2 * k3v + k4v);
      r.w = w + h / 6 * (k1w + 2 * k2w + 2 * k3w + k4w);
    }
    if (k <= refr_end) {
      r.V = V_reset;
    } else if (r.V >= V_th) {
      r.spikes.push_back(k);
      r.V = V_reset;
      r.w += b;
      refr_end = k + R;
    }
  }
  return r;
}

}  // namespace

TEST_CASE("iaf_psc_delta: spike-frequency adaptation matches an independent integration",
          "[iaf_psc_delta]") {
  const Step until = 10000;  // 1 s
  const double I = 600, b = 30;
  // tau_w = tau_m exercises the kernel's limit (g -> e^-a, no 0/0).
  for (const double tau_w : {150.0, 10.0, 4.0}) {
    CAPTURE(tau_w);
    const auto ref = adapt_reference(I, b, tau_w, until);
    const auto plain = adapt_reference(I, 0, tau_w, until);
    auto p = test::params("iaf_psc_delta");
    p.set("I_e", I);
    p.set("b", b);
    p.set("tau_w", tau_w);
    Harness h("iaf_psc_delta", p, 0.1, 1);
    std::vector<Step> got;
    for (Step k = 1; k <= until; ++k) {
      if (!h.step(k).empty()) got.push_back(k);
    }
    REQUIRE(got == ref.spikes);
    REQUIRE(h.state("V_m", 0, until) == Approx(ref.V).margin(1e-9));
    REQUIRE(h.state("w", 0, until) == Approx(ref.w).margin(1e-9));
    // Adaptation: fewer spikes than without it, and intervals that grow.
    REQUIRE(got.size() < plain.spikes.size());
    if (tau_w == 150.0) {
      REQUIRE(got.size() > 10);
      REQUIRE(got[1] - got[0] < got.back() - got[got.size() - 2]);
    }
  }
}

TEST_CASE("iaf_psc_delta: with adaptation, the stepped and event-driven paths agree",
          "[iaf_psc_delta]") {
  // tau_w > tau_m, = tau_m and < tau_m: each branch of the lazy closed form.
  for (const double tau_w : {100.0, 10.0, 4.0}) {
    CAPTURE(tau_w);
    auto p = test::params("iaf_psc_delta");
    p.set("b", 40.0);
    p.set("tau_w", tau_w);
    p.set("t_ref", 1.5);
    REQUIRE(paths_agree(p, 11, -75, 9, 50) > 500);
  }
}

TEST_CASE("iaf_psc_delta: adaptation's bad values are refused", "[iaf_psc_delta]") {
  auto p = test::params("iaf_psc_delta");
  SECTION("negative b") {
    p.set("b", -1.0);
    REQUIRE_THROWS_WITH(Harness("iaf_psc_delta", p, 0.1, 1),
                        Catch::Contains("b") && Catch::Contains("-1") && Catch::Contains(">= 0"));
  }
  SECTION("tau_w = 0") {
    p.set("tau_w", 0.0);
    REQUIRE_THROWS_WITH(Harness("iaf_psc_delta", p, 0.1, 1),
                        Catch::Contains("tau_w") && Catch::Contains("> 0"));
  }
  SECTION("V_min with b > 0") {
    p.set("b", 5.0);
    p.set("V_min", -80.0);
    REQUIRE_THROWS_WITH(
        Harness("iaf_psc_delta", p, 0.1, 1),
        Catch::Contains("V_min = -80 mV cannot be combined") && Catch::Contains("b = 5 pA"));
  }
  SECTION("a negative w") {
    p.set("b", 5.0);
    Harness h("iaf_psc_delta", p, 0.1, 3);
    REQUIRE_THROWS_WITH(
        h.set("w", 2, -0.5),
        Catch::Contains("w of neuron 2 = -0.5 pA is invalid") && Catch::Contains(">= 0"));
  }
}
