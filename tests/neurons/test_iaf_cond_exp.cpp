#include <catch2/catch.hpp>

#include <cmath>

#include "harness.hpp"

using namespace spikeline;
using spikeline::test::Harness;

TEST_CASE("iaf_cond_exp: one step is forward Euler for V and exact decay for g", "[iaf_cond_exp]") {
  auto p = test::params("iaf_cond_exp");
  p.set("I_e", 100.0);
  const double dt = 0.1, C = 250, g_L = 16.6667, E_L = -70, E_ex = 0, E_in = -85;
  Harness h("iaf_cond_exp", p, dt, 2);
  h.set("V_m", 0, -60);
  h.set("g_ex", 0, 10);
  h.set("g_in", 0, 20);
  h.current[0] = 30;
  h.input(0, 3);   // excitatory: g_ex += 3
  h.input(0, -4);  // inhibitory: g_in += 4
  REQUIRE(h.step(1).empty());
  const double v0 = -60, ge = 10, gi = 20;
  const double v1 =
      v0 + dt / C * (-g_L * (v0 - E_L) - ge * (v0 - E_ex) - gi * (v0 - E_in) + 100 + 30);
  REQUIRE(h.state("V_m", 0, 1) == Approx(v1).epsilon(1e-14));
  REQUIRE(h.state("g_ex", 0, 1) == Approx(10 * std::exp(-dt / 0.2) + 3).epsilon(1e-14));
  REQUIRE(h.state("g_in", 0, 1) == Approx(20 * std::exp(-dt / 2) + 4).epsilon(1e-14));
  // The other neuron, at rest with no input, only feels I_e.
  REQUIRE(h.state("V_m", 1, 1) == Approx(-70 + dt / C * 100).epsilon(1e-14));
  // The input was consumed.
  REQUIRE(h.ex[0] == 0.0f);
  REQUIRE(h.in[0] == 0.0f);
  // Input arriving at step 1 reaches V at step 2 (through g).
  const double v2 = v1 + dt / C *
                             (-g_L * (v1 - E_L) - h.state("g_ex", 0, 1) * (v1 - E_ex) -
                              h.state("g_in", 0, 1) * (v1 - E_in) + 100 + 30);
  h.step(2);
  REQUIRE(h.state("V_m", 0, 2) == Approx(v2).epsilon(1e-14));
}

TEST_CASE("iaf_cond_exp: no spike and V clamped for t_ref after a spike, g keeps evolving",
          "[iaf_cond_exp]") {
  auto p = test::params("iaf_cond_exp");
  p.set("I_e", 1000.0);  // fires regularly
  p.set("t_ref", 2.0);
  Harness h("iaf_cond_exp", p, 0.1, 1);
  const Step R = 20;
  std::vector<Step> spikes;
  for (Step k = 1; k <= 5000; ++k) {
    if (k == static_cast<Step>(spikes.size()) + 1000)
      h.input(0, 5.0);  // some g input at arbitrary steps
    const bool fired = !h.step(k).empty();
    if (fired) spikes.push_back(k);
    if (!spikes.empty() && k > spikes.back() && k <= spikes.back() + R) {
      REQUIRE_FALSE(fired);
      REQUIRE(h.state("V_m", 0, k) == -60.0);
    }
    if (!spikes.empty() && k == spikes.back() + R + 1) {
      REQUIRE(h.state("V_m", 0, k) > -60.0);  // integrating again
    }
  }
  REQUIRE(spikes.size() > 10);
  for (std::size_t n = 1; n < spikes.size(); ++n) REQUIRE(spikes[n] - spikes[n - 1] > R);

  // During refractoriness the conductances decay and accept input.
  Harness g("iaf_cond_exp", p, 0.1, 1);
  g.set("V_m", 0, -54.0);  // spikes at step 1
  REQUIRE(g.step(1).size() == 1);
  g.input(0, 2.0);
  g.input(0, -3.0);
  g.step(2);
  REQUIRE(g.state("V_m", 0, 2) == -60.0);
  REQUIRE(g.state("g_ex", 0, 2) == 2.0);
  REQUIRE(g.state("g_in", 0, 2) == 3.0);
  g.step(3);
  REQUIRE(g.state("g_ex", 0, 3) == Approx(2.0 * std::exp(-0.1 / 0.2)).epsilon(1e-14));
  REQUIRE(g.state("g_in", 0, 3) == Approx(3.0 * std::exp(-0.1 / 2)).epsilon(1e-14));
}

TEST_CASE("iaf_cond_exp: every neuron over threshold is emitted once, in order, across chunks",
          "[iaf_cond_exp]") {
  // The update flags spikes in chunks of 64 and scans the flags eight at a
  // time: neurons at the edges of both, and in a chunk's short tail (150 =
  // 2 x 64 + 22), must each come out once and in ascending order.
  const std::vector<NeuronIndex> over = {0,  1,  7,   8,   9,   15,  16,  62,  63,  64, 65,
                                         71, 72, 127, 128, 135, 136, 143, 144, 148, 149};
  Harness h("iaf_cond_exp", test::params("iaf_cond_exp"), 0.1, 150);
  for (NeuronIndex i = 0; i < 150; ++i) h.set("V_m", i, -65.0);
  for (const NeuronIndex i : over) h.set("V_m", i, -50.0);
  REQUIRE(h.step(1) == over);
  REQUIRE(h.step(2).empty());  // all of them now refractory, the rest at rest
}
