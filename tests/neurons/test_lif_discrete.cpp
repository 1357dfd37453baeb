#include <catch2/catch.hpp>

#include <vector>

#include "spikeline/engine/random.hpp"

#include "harness.hpp"

using namespace spikeline;
using spikeline::test::Harness;

TEST_CASE("lif_discrete: both reset modes match a reference loop", "[lif_discrete]") {
  for (const char* mode : {"subtract", "zero"}) {
    CAPTURE(mode);
    const bool subtract = std::string(mode) == "subtract";
    auto p = test::params("lif_discrete");
    p.set("reset", std::string(mode));
    p.set("beta", 0.8);
    p.set("theta", 1.2);
    const std::size_t n = 20;
    Harness h("lif_discrete", p, 1.0, n);
    std::vector<double> u(n, 0.0), s(n, 0.0);
    RandomStream rng(3, stream_id(StreamKind::user, 2), 0);
    std::size_t spikes = 0;
    for (Step t = 1; t <= 2000; ++t) {
      std::vector<double> I(n, 0.0);
      for (NeuronIndex i = 0; i < n; ++i) {
        if (rng.uniform() < 0.3) {
          // weights exactly representable as float, as the engine stores them
          const double w = static_cast<float>(rng.uniform(-0.5, 1.0));
          I[i] += w;
          h.input(i, w);
        }
      }
      h.current[3] = t > 500 ? 0.25 : 0.0;
      I[3] += h.current[3];
      std::vector<NeuronIndex> expected;
      for (NeuronIndex i = 0; i < n; ++i) {
        u[i] = subtract ? 0.8 * u[i] + I[i] - 1.2 * s[i] : 0.8 * u[i] * (1 - s[i]) + I[i];
        s[i] = u[i] > 1.2 ? 1.0 : 0.0;
        if (s[i] != 0) expected.push_back(i);
      }
      REQUIRE(h.step(t) == expected);
      spikes += expected.size();
      for (NeuronIndex i = 0; i < n; ++i) {
        REQUIRE(h.state("u", i, t) == Approx(u[i]).margin(1e-12));
        REQUIRE(h.state("s", i, t) == s[i]);
      }
    }
    REQUIRE(spikes > 100);
  }
}

TEST_CASE("lif_discrete: the threshold is strict", "[lif_discrete]") {
  auto p = test::params("lif_discrete");
  p.set("theta", 1.0);
  Harness h("lif_discrete", p, 1.0, 2);
  h.input(0, 1.0);   // u = 1.0: not above theta
  h.input(1, 1.25);  // u = 1.25 > 1
  REQUIRE(h.step(1) == std::vector<NeuronIndex>{1});
  // Subtract mode: u(2) = 0.7 * 1.25 - 1 for neuron 1.
  h.step(2);
  REQUIRE(h.state("u", 1, 2) == Approx(0.7 * 1.25 - 1.0).margin(1e-15));
  REQUIRE(h.state("u", 0, 2) == Approx(0.7).margin(1e-15));
}
