// The population-activity detector: levels against their closed form,
// ignition steps, the hysteresis, the state round trip and the refusals.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "spikeline/encoding/assembly_detector.hpp"
#include "spikeline/engine/error.hpp"

using namespace spikeline;
using namespace spikeline::encoding;

namespace {

AssemblyDetectorParams params(double tau = 20, double threshold = 0.5) {
  AssemblyDetectorParams p;
  p.tau_ms = tau;
  p.threshold = threshold;
  p.dt_ms = 1;
  return p;
}

std::string message_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("assembly levels follow the leaky integrator's closed form", "[detector]") {
  AssemblyDetector d(params(20, 1.0), 100);
  d.add({0, 1, 2, 3});  // 4 neurons: each spike adds 1/4
  const std::uint32_t n0[] = {0, 1};
  d.observe(10, n0, nullptr);
  CHECK(d.level(0, 10) == Approx(0.5).epsilon(1e-15));
  // e^{-15/20} later, plus one more spike at 25.
  const std::uint32_t n1[] = {3};
  d.observe(25, n1, nullptr);
  const double expected = 0.5 * std::exp(-15.0 / 20.0) + 0.25;
  CHECK(d.level(0, 25) == Approx(expected).epsilon(1e-14));
  CHECK(d.level(0, 65) == Approx(expected * std::exp(-40.0 / 20.0)).epsilon(1e-14));
  // Neurons outside every assembly change nothing.
  const std::uint32_t other[] = {50, 99};
  d.observe(65, other, nullptr);
  CHECK(d.levels(65)[0] == Approx(expected * std::exp(-2.0)).epsilon(1e-14));
}

TEST_CASE("an assembly ignites at the step its level reaches the threshold", "[detector]") {
  AssemblyDetector d(params(20, 0.5), 10);
  d.add({0, 1, 2, 3});
  d.add({3, 4});  // overlapping: neuron 3 counts for both
  std::vector<Ignition> out;
  const std::uint32_t a[] = {0};
  d.observe(1, a, &out);
  CHECK(out.empty());  // 0.25
  const std::uint32_t b[] = {3};
  d.observe(2, b, &out);  // assembly 0: 0.25 e^{-1/20} + 0.25 < 0.5; assembly 1: 0.5
  REQUIRE(out.size() == 1);
  CHECK(out[0].assembly == 1);
  CHECK(out[0].step == 2);
  CHECK(out[0].level == Approx(0.5));
  const std::uint32_t c[] = {1, 2};
  d.observe(2, c, &out);  // same step, more spikes: assembly 0 crosses now
  REQUIRE(out.size() == 2);
  CHECK(out[1].assembly == 0);
  CHECK(out[1].step == 2);
}

TEST_CASE("an assembly ignites again only after its level fell below half the threshold",
          "[detector]") {
  AssemblyDetector d(params(10, 0.5), 4);
  d.add({0, 1});
  std::vector<Ignition> out;
  const std::uint32_t both[] = {0, 1};
  d.observe(0, both, &out);  // 1.0: ignites
  REQUIRE(out.size() == 1);
  // At step 5 the level is e^{-0.5} = 0.61 > 0.25: a spike there (+0.5)
  // is the same ignition going on.
  const std::uint32_t one[] = {0};
  d.observe(5, one, &out);
  CHECK(out.size() == 1);
  // It falls below 0.25 after ln(1.107/0.25) * 10 = 14.9 steps: at step 20
  // it is 0.25, at 21 below; a spike then (+0.5) ignites again.
  d.observe(19, std::span<const std::uint32_t>{}, &out);
  const double at20 = (std::exp(-0.5) + 0.5) * std::exp(-1.5);
  REQUIRE(at20 < 0.25);
  d.observe(20, both, &out);
  REQUIRE(out.size() == 2);
  CHECK(out[1].step == 20);
  CHECK(out[1].level == Approx(at20 + 0.5));  // the first of the two spikes crosses
}

TEST_CASE("the detector's state restores exactly into a detector of the same assemblies",
          "[detector]") {
  AssemblyDetector a(params(), 50);
  a.add({1, 2, 3});
  a.add({10, 20});
  const std::uint32_t s[] = {1, 10, 20};
  std::vector<Ignition> out;
  a.observe(7, s, &out);
  AssemblyDetector b(params(), 50);
  b.add({1, 2, 3});
  b.add({10, 20});
  b.restore(a.state());
  CHECK(b.levels(30) == a.levels(30));
  // Both go on alike: the assembly that ignited stays disarmed in both.
  const std::uint32_t again[] = {10, 20};
  std::vector<Ignition> oa, ob;
  a.observe(8, again, &oa);
  b.observe(8, again, &ob);
  CHECK(oa.size() == ob.size());
  CHECK(a.state() == b.state());
  AssemblyDetector c(params(), 50);
  c.add({1});
  CHECK(message_of([&] { c.restore(a.state()); }) ==
        "activity detector state: 7 values for 1 assemblies (expected 4)");
}

TEST_CASE("the detector refuses bad parameters, neurons and steps by name", "[detector]") {
  CHECK(message_of([] { AssemblyDetector(params(0), 10); }) ==
        "trigger_tau = 0 ms is invalid: it must be finite and > 0");
  CHECK(message_of([] { AssemblyDetector(params(20, 1.5), 10); }) ==
        "trigger_threshold = 1.5 is invalid: it is a fraction of an assembly, in (0, 1]");
  CHECK(message_of([] { AssemblyDetector(params(20, std::nan("")), 10); }) ==
        "trigger_threshold = nan is invalid: it is a fraction of an assembly, in (0, 1]");
  CHECK(message_of([] { AssemblyDetector(params(), 0); }) ==
        "the watched population has 0 neurons: valid is 1 to 2^32");
  AssemblyDetector d(params(), 10);
  CHECK(message_of([&] {
          d.add({3, 10});
        }) == "assembly 0: neuron 10 is out of range: valid is 0 to 9");
  CHECK(message_of([&] { d.add({3, 3}); }) == "assembly 0: neuron 3 is listed twice");
  d.add({});  // an empty assembly never ignites
  std::vector<Ignition> out;
  const std::uint32_t n[] = {0, 1, 2};
  d.observe(5, n, &out);
  CHECK(out.empty());
  CHECK(message_of([&] { d.observe(4, n, &out); }) ==
        "activity detector: spikes at step 4 after step 5 (steps must not go back)");
}
