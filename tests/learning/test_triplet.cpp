// The triplet rule against hand-computed spike triplets (Pfister and
// Gerstner 2006): post-pre-post and pre-post-pre, all-to-all and nearest.
#include <cmath>

#include <catch2/catch.hpp>

#include "pairs.hpp"
#include "spikeline/engine/error.hpp"

using namespace spikeline;
using namespace spikeline::test;
using Catch::Matchers::Contains;

namespace {

// The defaults, and what triplet_params() changes.
struct {
  double A2_plus = 0.005, A3_plus = 0.006, A2_minus = 0.007, A3_minus = 0.002, tau_plus = 16.8,
         tau_minus = 33.7, tau_x = 101.0, tau_y = 125.0;
} const kParams;

// Amplitudes of comparable size, so that every term shows in the result.
ParamMap triplet_params(const std::string& interaction) {
  return params({{"A2_plus", 0.005},
                 {"A3_plus", 0.006},
                 {"A2_minus", 0.007},
                 {"A3_minus", 0.002},
                 {"w_min", -1.0},
                 {"w_max", 1.0},
                 {"interaction", interaction}});
}

double run(const std::string& interaction, const std::vector<Step>& pre,
           const std::vector<Step>& post) {
  // delay 1 step: arrivals are one step after the pre steps given.
  return run_plastic_pair(make_rule("triplet_stdp", triplet_params(interaction)), pre, post, 1, 0.0,
                          1, [](const PlasticityRule& r) { return rule_weight(r, 0); });
}

double e(double ms, double tau) {
  return std::exp(-ms / tau);
}

}  // namespace

TEST_CASE("post-pre-post: the second potentiation sees the first post spike", "[triplet]") {
  const auto& p = kParams;
  // post at 50 ms, arrival at 60 ms (pre at 59.9), post at 75 ms.
  const double w = run("all", {599}, {500, 750});
  const double expected = -e(10, p.tau_minus) * p.A2_minus +
                          e(15, p.tau_plus) * (p.A2_plus + p.A3_plus * e(25, p.tau_y));
  CHECK(std::abs(w - expected) <= 1e-12 * std::abs(expected));
}

TEST_CASE("pre-post-pre: the second depression sees the first arrival", "[triplet]") {
  const auto& p = kParams;
  // arrival at 50 ms, post at 58 ms, arrival at 70 ms.
  const double w = run("all", {499, 699}, {580});
  const double expected = e(8, p.tau_plus) * p.A2_plus -
                          e(12, p.tau_minus) * (p.A2_minus + p.A3_minus * e(20, p.tau_x));
  CHECK(std::abs(w - expected) <= 1e-12 * std::abs(expected));
}

TEST_CASE("all-to-all sums over earlier spikes, nearest keeps the latest", "[triplet]") {
  const auto& p = kParams;
  // posts at 40 and 50 ms, arrival at 60 ms, post at 75 ms.
  const double w_all = run("all", {599}, {400, 500, 750});
  const double w_near = run("nearest", {599}, {400, 500, 750});
  const double all =
      -(e(20, p.tau_minus) + e(10, p.tau_minus)) * p.A2_minus +
      e(15, p.tau_plus) * (p.A2_plus + p.A3_plus * (e(35, p.tau_y) + e(25, p.tau_y)));
  const double nearest = -e(10, p.tau_minus) * p.A2_minus +
                         e(15, p.tau_plus) * (p.A2_plus + p.A3_plus * e(25, p.tau_y));
  CHECK(std::abs(w_all - all) <= 1e-12 * std::abs(all));
  CHECK(std::abs(w_near - nearest) <= 1e-12 * std::abs(nearest));
  CHECK(w_all != w_near);
}

TEST_CASE("triplet parameters are validated", "[triplet][validation]") {
  ParamMap p = triplet_params("all");
  p.set("tau_y", 0.0);
  CHECK_THROWS_WITH(make_rule("triplet_stdp", p), Contains("tau_y = 0 ms"));
  p = triplet_params("all");
  p.set("A3_minus", -1.0);
  CHECK_THROWS_WITH(make_rule("triplet_stdp", p), Contains("A3_minus = -1"));
  p = triplet_params("all");
  p.set("w_max", -2.0);
  CHECK_THROWS_WITH(make_rule("triplet_stdp", p), Contains("w_min = -1 must be below w_max = -2"));
  CHECK_THROWS_WITH(make_rule("triplet_stdp", triplet_params("nearst")),
                    Contains("did you mean 'nearest'"));
}

#include "spikeline/learning/builtin.hpp"

TEST_CASE("every built-in rule is registered and builds from its defaults", "[rules]") {
  Registry r;
  register_builtin_rules(r);
  for (const char* name : {"stdp", "triplet_stdp"}) {
    INFO(name);
    REQUIRE(r.has_rule(name));
    const auto& info = r.get_rule(name, "test");
    CHECK(info.make(ParamMap("test"), TimeGrid(0.1)) != nullptr);
    CHECK_FALSE(info.params.empty());
  }
  CHECK_THROWS_WITH(r.get_rule("stpd", "test"), Contains("did you mean 'stdp'"));
}
