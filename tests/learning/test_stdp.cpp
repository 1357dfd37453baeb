// Pair-based STDP against its analytic window, exactly: isolated pre/post
// pairs at offsets from -100 to +100 ms, each pairing scheme and weight
// dependence, with delays that shift the window by exactly the delay.
#include <cmath>

#include <catch2/catch.hpp>

#include "pairs.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/random.hpp"

using namespace spikeline;
using namespace spikeline::test;
using Catch::Matchers::Contains;

namespace {

// The values stdp_params() gives.
struct {
  double A_plus = 0.01, A_minus = 0.012, tau_plus = 16.8, tau_minus = 33.7, w_min = -1.0,
         w_max = 1.0;
} const sp;

ParamMap stdp_params(const std::string& pairing, const std::string& dependence) {
  return params({{"A_plus", 0.01},
                 {"A_minus", 0.012},
                 {"tau_plus", 16.8},
                 {"tau_minus", 33.7},
                 {"w_min", -1.0},
                 {"w_max", 1.0},
                 {"pairing", pairing},
                 {"weight_dependence", dependence}});
}

// The final weight of one plastic STDP synapse (see pairs.hpp).
double run_pairs(const ParamMap& rule_params, std::vector<Step> pre, std::vector<Step> post,
                 std::uint32_t delay_steps, double w0, int threads = 1) {
  return run_plastic_pair(make_rule("stdp", rule_params), pre, post, delay_steps, w0, threads,
                          [](const PlasticityRule& r) { return rule_weight(r, 0); });
}

}  // namespace

TEST_CASE("the STDP window equals its analytic formula for isolated pairs", "[stdp]") {
  const std::string pairing = GENERATE("all", "nearest");
  const std::string dependence = GENERATE("additive", "multiplicative");
  const std::uint32_t delay = GENERATE(1u, 25u);  // 0.1 ms and 2.5 ms
  const ParamMap p = stdp_params(pairing, dependence);
  const double w0 = 0.0;
  for (Step delta = -1000; delta <= 1000; delta += 37) {  // -100 .. +100 ms
    INFO(pairing << " " << dependence << ", delay " << delay << " steps, Delta " << delta
                 << " steps");
    const Step arrival = 1200;
    const Step pre = arrival - delay;
    const Step post = arrival + delta;
    const double w = run_pairs(p, {pre}, {post}, delay, w0);
    const double d_ms = static_cast<double>(delta) * kDt;
    double expected = 0;
    if (delta >= 0) {
      const double f = dependence == "additive" ? 1.0 : sp.w_max - w0;
      expected = sp.A_plus * f * std::exp(-static_cast<double>(delta) * kDt / sp.tau_plus);
    } else {
      const double f = dependence == "additive" ? 1.0 : w0 - sp.w_min;
      expected = -sp.A_minus * f * std::exp(static_cast<double>(delta) * kDt / sp.tau_minus);
    }
    (void)d_ms;
    CHECK(std::abs((w - w0) - expected) <= 1e-12 * std::abs(expected));
  }
}

TEST_CASE("a delay shifts the window by exactly the delay", "[stdp][delays]") {
  // Fixed emission and post times: the weight change depends on the delay
  // only through t_post - (t_pre + delay).
  const ParamMap p = stdp_params("all", "additive");
  const Step pre = 500, post = 700;
  for (std::uint32_t d : {1u, 50u, 199u, 200u, 201u, 400u}) {
    INFO("delay " << d);
    const double w = run_pairs(p, {pre}, {post}, d, 0.0);
    const Step delta = post - (pre + static_cast<Step>(d));
    const double expected =
        delta >= 0 ? sp.A_plus * std::exp(-static_cast<double>(delta) * kDt / sp.tau_plus)
                   : -sp.A_minus * std::exp(static_cast<double>(delta) * kDt / sp.tau_minus);
    CHECK(w == Approx(expected).epsilon(1e-12));
  }
}

TEST_CASE("all-to-all and nearest pairing differ as specified", "[stdp]") {
  const auto& all = sp;
  auto e_plus = [&](double ms) { return std::exp(-ms / all.tau_plus); };
  auto e_minus = [&](double ms) { return std::exp(-ms / all.tau_minus); };
  // Two arrivals (100 and 110 ms) then one post spike (120 ms): potentiation
  // counts both arrivals with "all", only the latest with "nearest".
  const double w_all = run_pairs(stdp_params("all", "additive"), {999, 1099}, {1200}, 1, 0.0);
  const double w_near = run_pairs(stdp_params("nearest", "additive"), {999, 1099}, {1200}, 1, 0.0);
  CHECK(w_all == Approx(all.A_plus * (e_plus(20) + e_plus(10))).epsilon(1e-12));
  CHECK(w_near == Approx(all.A_plus * e_plus(10)).epsilon(1e-12));
  // Two post spikes (100, 110 ms) then an arrival (130 ms): depression.
  const double d_all = run_pairs(stdp_params("all", "additive"), {1299}, {1000, 1100}, 1, 0.0);
  const double d_near = run_pairs(stdp_params("nearest", "additive"), {1299}, {1000, 1100}, 1, 0.0);
  CHECK(d_all == Approx(-all.A_minus * (e_minus(30) + e_minus(20))).epsilon(1e-12));
  CHECK(d_near == Approx(-all.A_minus * e_minus(20)).epsilon(1e-12));
}

TEST_CASE("additive weights are clipped to their bounds, multiplicative ones approach them",
          "[stdp]") {
  ParamMap p = stdp_params("all", "additive");
  p.set("A_plus", 0.5);
  // Ten causal pairs 1 ms apart in time: additive growth stops at w_max.
  std::vector<Step> pre, post;
  for (Step k = 0; k < 10; ++k) {
    pre.push_back(1000 + 500 * k);
    post.push_back(1000 + 500 * k + 11);
  }
  CHECK(run_pairs(p, pre, post, 1, 0.5) == 1.0);
  p.set("weight_dependence", std::string("multiplicative"));
  const double w = run_pairs(p, pre, post, 1, 0.5);
  CHECK(w < 1.0);
  CHECK(w > 0.99);
}

TEST_CASE("plastic weights are identical at any thread and partition count",
          "[stdp][determinism]") {
  auto run = [](int threads, unsigned partitions) {
    Network net(TimeGrid(0.1), 11);
    const auto r = add_recurrent(net, {200, 30.0, 800, 3.0f, 1.5, 11, 77});
    ParamMap p = stdp_params("all", "multiplicative");
    p.set("w_min", 0.0);
    p.set("w_max", 2.0);
    p.set("A_plus", 0.05);
    net.set_plasticity(r, make_rule("stdp", p));
    SimulationOptions opt;
    opt.threads = threads;
    opt.partitions = partitions;
    Simulator sim(std::move(net), opt);
    std::vector<float> w0;
    for (const auto& s : sim.connectivity(r).canonical()) w0.push_back(s.weight);
    Collector c;
    sim.run_until(5000, c);
    std::vector<float> w;
    std::size_t changed = 0;
    const auto syn = sim.connectivity(r).canonical();
    for (std::size_t k = 0; k < syn.size(); ++k) {
      w.push_back(syn[k].weight);
      changed += syn[k].weight != w0[k] ? 1 : 0;
    }
    return std::make_tuple(hash(c.spikes), w, changed);
  };
  const auto ref = run(1, 1);
  // Meaningful only if learning happened.
  REQUIRE(std::get<2>(ref) > std::get<1>(ref).size() / 2);
  for (auto [threads, parts] : {std::pair{2, 4u}, std::pair{4, 4u}, std::pair{1, 7u}}) {
    INFO("threads " << threads << ", partitions " << parts);
    const auto other = run(threads, parts);
    CHECK(std::get<0>(other) == std::get<0>(ref));
    CHECK(std::get<1>(other) == std::get<1>(ref));
  }
}

TEST_CASE("bad STDP parameters and weights out of bounds are clear errors", "[stdp][validation]") {
  ParamMap p = stdp_params("all", "additive");
  p.set("tau_plus", -5.0);
  CHECK_THROWS_WITH(make_rule("stdp", p), Contains("tau_plus = -5 ms"));
  p = stdp_params("all", "additive");
  p.set("w_min", 2.0);
  CHECK_THROWS_WITH(make_rule("stdp", p), Contains("w_min = 2 must be below w_max = 1"));
  p = stdp_params("al", "additive");
  CHECK_THROWS_WITH(make_rule("stdp", p),
                    Contains("pairing = 'al'") && Contains("did you mean 'all'"));
  p = stdp_params("all", "additive");
  p.set("A_minus", NAN);
  CHECK_THROWS_AS(make_rule("stdp", p), ConfigError);
  // An initial weight outside [w_min, w_max] is refused when the run starts.
  CHECK_THROWS_WITH(run_pairs(stdp_params("all", "additive"), {10}, {20}, 1, 1.5),
                    Contains("projection 'plastic'") &&
                        Contains("[w_min, w_max] = [-1, 1]; the weights range over [1.5, 1.5]"));
}
