#include <catch2/catch.hpp>

#include <cmath>

#include "spikeline/neurons/iaf_psc_exp.hpp"

#include "harness.hpp"

using namespace spikeline;
using spikeline::test::Harness;

namespace {

// Closed-form response of C dV/dt = -C/tau_m (V - E_L) + I(t) to a current
// I(t) = w exp(-s / tau_s) starting at time 0 (s = time since the pulse).
double psp(double w, double s, double tau_m, double tau_s, double C) {
  if (s <= 0) return 0.0;
  if (tau_m == tau_s) return w / C * s * std::exp(-s / tau_m);
  return w * tau_s * tau_m / (C * (tau_m - tau_s)) * (std::exp(-s / tau_m) - std::exp(-s / tau_s));
}

// |V - V_exact| relative to the deflection from rest, with a floor for V at rest.
bool close(double v, double exact, double rest) {
  return std::abs(v - exact) <= 1e-9 * std::abs(exact - rest) + 1e-12;
}

}  // namespace

TEST_CASE("iaf_psc_exp: membrane potential matches the closed form for current pulses",
          "[iaf_psc_exp]") {
  const double dt = 0.1, C = 250, tau_m = 10, E_L = -70;
  struct Case {
    double tau_ex, tau_in, I_e;
  };
  for (const Case c : {Case{2.0, 5.0, 0.0}, Case{2.0, 5.0, 200.0}, Case{10.0, 10.0, 0.0},
                       Case{10.0, 0.5, 300.0}}) {
    CAPTURE(c.tau_ex, c.tau_in, c.I_e);
    auto p = test::params("iaf_psc_exp");
    p.set("tau_syn_ex", c.tau_ex);
    p.set("tau_syn_in", c.tau_in);
    p.set("I_e", c.I_e);
    p.set("V_th", 1000.0);  // no spikes: the ODE alone
    Harness h("iaf_psc_exp", p, dt, 1);
    const double w_ex = 100, w_in = -50;
    const Step t_ex = 10, t_in = 200;
    for (Step k = 1; k <= 1000; ++k) {  // 100 ms
      if (k == t_ex) h.input(0, w_ex);
      if (k == t_in) h.input(0, w_in);
      REQUIRE(h.step(k).empty());
      // Input at step t0 enters I_syn at t0 and V from t0 + 1 on: the current
      // starts at time t0 dt, so V(k) sees (k - t0) dt of it.
      const double s_ex = (k - t_ex) * dt, s_in = (k - t_in) * dt;
      const double v_exact = E_L + c.I_e * tau_m / C * (1 - std::exp(-k * dt / tau_m)) +
                             psp(w_ex, s_ex, tau_m, c.tau_ex, C) +
                             psp(w_in, s_in, tau_m, c.tau_in, C);
      const double v = h.state("V_m", 0, k);
      CAPTURE(k, v, v_exact);
      REQUIRE(close(v, v_exact, E_L));
      const double i_ex = k >= t_ex ? w_ex * std::exp(-s_ex / c.tau_ex) : 0.0;
      const double i_in = k >= t_in ? w_in * std::exp(-s_in / c.tau_in) : 0.0;
      REQUIRE(std::abs(h.state("I_syn_ex", 0, k) - i_ex) <= 1e-9 * std::abs(w_ex));
      REQUIRE(std::abs(h.state("I_syn_in", 0, k) - i_in) <= 1e-9 * std::abs(w_in));
    }
  }
}

TEST_CASE("iaf_psc_exp: propagator is continuous across the singular case tau_m == tau_syn",
          "[iaf_psc_exp]") {
  const double h = 0.1, C = 250, tau = 10;
  const double singular = psc_exp_propagator(tau, tau, C, h);
  REQUIRE(singular == Approx(h / C * std::exp(-h / tau)).epsilon(1e-15));
  for (const double rel : {1e-12, 1e-9, 1e-7, 1e-5}) {
    CAPTURE(rel);
    const double ts = tau * (1 + rel);
    // Expanding in rel: P21 = h / C exp(-h / tau_m) (1 + h rel / (2 tau_syn)) + O(rel^2).
    const double exact = h / C * std::exp(-h / tau) * (1 + h * rel / (2 * ts));
    REQUIRE(std::abs(psc_exp_propagator(ts, tau, C, h) - exact) <= 2e-8 * singular);
  }
}

TEST_CASE("iaf_psc_exp: refractory period holds V at V_reset while I_syn evolves",
          "[iaf_psc_exp]") {
  auto p = test::params("iaf_psc_exp");
  p.set("t_ref", 2.0);
  Harness h("iaf_psc_exp", p, 0.1, 1);
  h.set("V_m", 0, -55.5);
  h.set("I_syn_ex", 0, 2000.0);  // drives V over threshold within a step
  REQUIRE(h.step(1).size() == 1);
  REQUIRE(h.state("V_m", 0, 1) == -70.0);
  double prev_i = h.state("I_syn_ex", 0, 1);
  for (Step k = 2; k <= 21; ++k) {  // R = 20 refractory steps
    REQUIRE(h.step(k).empty());
    REQUIRE(h.state("V_m", 0, k) == -70.0);
    REQUIRE(h.state("I_syn_ex", 0, k) == Approx(prev_i * std::exp(-0.1 / 2)).epsilon(1e-12));
    prev_i = h.state("I_syn_ex", 0, k);
  }
  h.step(22);
  REQUIRE(h.state("V_m", 0, 22) > -70.0);  // integrates again, driven by I_syn_ex
}
