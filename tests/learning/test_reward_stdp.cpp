// Reward-modulated STDP (Izhikevich 2007) against closed forms: no change
// without dopamine, eligibility decaying with tau_c, and the exact weight
// change a reward makes seconds after the pairing that caused it. The rule
// is made through the registry, as a config makes it (the built-in
// catalogue, plugin ABI 1.4).
#include <cmath>

#include <catch2/catch.hpp>

#include "pairs.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/random.hpp"

using namespace spikeline;
using namespace spikeline::test;
using Catch::Matchers::Contains;

namespace {

constexpr double kTauD = 200.0;  // ms, the dopamine decay

ParamMap rstdp_params(double tonic) {
  return params({{"tonic", tonic},
                 {"learning_rate", 0.1},
                 {"tau_c", 1000.0},
                 {"A_plus", 0.1},
                 {"A_minus", 0.15},
                 {"w_min", -10.0},
                 {"w_max", 10.0}});
}

std::unique_ptr<PlasticityRule> reward_stdp(const ParamMap& p) {
  return make_rule("reward_stdp", p);
}

// The eligibility of synapse 0 (partition 0) at step t, as a record reads it.
double eligibility(const PlasticityRule& r, Step t) {
  REQUIRE(r.synapse_variables().at(1) == "eligibility");
  return r.synapse_value(1, 0, SynapseBlock{}, 0, t);
}

struct Outcome {
  double w;
  double c;  // eligibility at the last step
};

// One causal pairing: arrival at step 1000 (100 ms), post spike at step 1050
// (105 ms); dopamine pulses as given; run to `until`.
Outcome pairing(double tonic, std::vector<std::pair<Step, double>> pulses, Step until,
                std::vector<Step> post = {1050}) {
  double c = 0;
  const double w = run_plastic_pair(
      reward_stdp(rstdp_params(tonic)), {999}, post, 1, 0.0, 1,
      [&](const PlasticityRule& r) {
        c = eligibility(r, until);
        return rule_weight(r, 0);
      },
      [&](Network& net) {
        Neuromodulator da("dopamine", kTauD, kDt);
        for (const auto& [s, a] : pulses) da.add(s, a);
        net.add_neuromodulator(std::move(da));
      },
      until);
  return {w, c};
}

double e(double ms, double tau) {
  return std::exp(-ms / tau);
}

}  // namespace

TEST_CASE("without dopamine (tonic 0) a pairing leaves the weight unchanged", "[rstdp]") {
  const auto o = pairing(0.0, {}, 30000);
  CHECK(o.w == 0.0);
  // ... though the synapse is eligible: c0 = A_plus exp(-5 ms / 20 ms), decayed over 2.895 s.
  CHECK(o.c == Approx(0.1 * e(5, 20) * e(2895, 1000)).epsilon(1e-12));
}

TEST_CASE("eligibility decays with tau_c: the tonic level integrates it exactly", "[rstdp]") {
  // dw/dt = eta b c0 exp(-(t - t_post)/tau_c) from the post spike at 105 ms on.
  const double b = 0.002, eta = 0.1, tau_c = 1000.0;
  const double c0 = 0.1 * e(5, 20);
  for (Step until : {2050, 11050, 51050}) {
    const double T = static_cast<double>(until - 1050) * kDt;
    const auto o = pairing(b, {}, until);
    INFO("T = " << T << " ms");
    const double expected = eta * b * c0 * tau_c * (1 - e(T, tau_c));
    CHECK(std::abs(o.w - expected) <= 1e-12 * expected);
    CHECK(o.c == Approx(c0 * e(T, tau_c)).epsilon(1e-12));
  }
}

TEST_CASE("a reward 1 s after the pairing changes the weight by the analytic amount", "[rstdp]") {
  const double eta = 0.1, tau_c = 1000.0, a = 0.5;
  const double lambda = 1.0 / tau_c + 1.0 / kTauD;
  const double c0 = 0.1 * e(5, 20);
  // Post spike at 105 ms, reward at 1105 ms, weight read at 3105 ms.
  const auto o = pairing(0.0, {{11050, a}}, 31050);
  const double expected = eta * c0 * a * e(1000, tau_c) * -std::expm1(-lambda * 2000.0) / lambda;
  CHECK(std::abs(o.w - expected) <= 1e-12 * expected);
  // The same reward 3 s after the pairing does less: eligibility decayed.
  const auto late = pairing(0.0, {{31050, a}}, 51050);
  CHECK(late.w == Approx(expected * e(2000, tau_c)).epsilon(1e-12));
  // An acausal pairing (post before arrival) is depressed by the same reward.
  const auto acausal = pairing(0.0, {{11050, a}}, 31050, {950});
  CHECK(acausal.w < 0.0);
}

TEST_CASE("nearest pairing counts only the latest arrival", "[rstdp]") {
  // Arrivals at 90 and 100 ms, post at 105 ms, tonic 0.002: the eligibility
  // after the post spike is A_plus (e^-15/20 + e^-5/20) with "all" and
  // A_plus e^-5/20 with "nearest"; read it 1 s later.
  auto eligibility_with = [](const std::string& pairing) {
    ParamMap p = rstdp_params(0.0);
    p.set("pairing", pairing);
    double c = 0;
    run_plastic_pair(
        reward_stdp(p), {899, 999}, {1050}, 1, 0.0, 1,
        [&](const PlasticityRule& r) {
          c = eligibility(r, 11050);
          return 0.0;
        },
        [](Network& net) { net.add_neuromodulator(Neuromodulator("dopamine", kTauD, kDt)); },
        11050);
    return c;
  };
  CHECK(eligibility_with("all") ==
        Approx(0.1 * (e(15, 20) + e(5, 20)) * e(1000, 1000)).epsilon(1e-12));
  CHECK(eligibility_with("nearest") == Approx(0.1 * e(5, 20) * e(1000, 1000)).epsilon(1e-12));
}

TEST_CASE("a reward before the pairing acts only through the dopamine left", "[rstdp]") {
  const double eta = 0.1, tau_c = 1000.0, a = 0.5;
  const double lambda = 1.0 / tau_c + 1.0 / kTauD;
  const double c0 = 0.1 * e(5, 20);
  // Reward at 50 ms; at the post spike (105 ms) D = a exp(-55/200).
  const auto o = pairing(0.0, {{500, a}}, 21050);
  const double expected = eta * c0 * a * e(55, kTauD) * -std::expm1(-lambda * 2000.0) / lambda;
  CHECK(std::abs(o.w - expected) <= 1e-12 * expected);
}

TEST_CASE("reward-modulated weights are identical at any thread count", "[rstdp][determinism]") {
  auto run = [](int threads, unsigned partitions) {
    Network net(TimeGrid(0.1), 3);
    const auto in = add(net, "in", "poisson_generator", 100, params({{"rate", 20.0}}));
    const auto out =
        add(net, "out", "iaf_psc_delta", 400,
            params({{"E_L", 0.0}, {"V_reset", 10.0}, {"V_th", 20.0}, {"tau_m", 20.0}}));
    RandomStream rng(3, 5, 0);
    std::vector<SynapseRecord> syn;
    for (NeuronIndex j = 0; j < 400; ++j) {
      for (int k = 0; k < 40; ++k) {
        syn.push_back({static_cast<NeuronIndex>(rng.below(100)), j,
                       static_cast<float>(rng.uniform(1, 3)),
                       1 + static_cast<std::uint32_t>(rng.below(20))});
      }
    }
    const auto p = net.add_projection("p", in, out, syn);
    ParamMap rp = rstdp_params(0.002);
    rp.set("w_min", 0.0);
    rp.set("w_max", 4.0);
    net.set_plasticity(p, reward_stdp(rp));
    Neuromodulator da("dopamine", 200.0, 0.1);
    for (Step s = 2000; s < 20000; s += 3000) da.add(s, 0.5);
    net.add_neuromodulator(std::move(da));
    SimulationOptions opt;
    opt.threads = threads;
    opt.partitions = partitions;
    Simulator sim(std::move(net), opt);
    std::vector<float> w0;
    for (const auto& syn : sim.connectivity(p).canonical()) w0.push_back(syn.weight);
    Collector c;
    sim.run_until(10000, c);
    sim.add_reward(0, 21000, 0.3);  // scheduled between runs, after now()
    sim.run_until(25000, c);
    sim.sync_plasticity();
    std::vector<float> w;
    std::size_t moved = 0;
    for (const auto& s : sim.connectivity(p).canonical()) {
      moved += s.weight != w0[w.size()] ? 1 : 0;
      w.push_back(s.weight);
    }
    // Meaningful only if the rewards made most weights move.
    REQUIRE(moved > w.size() / 2);
    return std::make_pair(hash(c.spikes), w);
  };
  const auto ref = run(1, 1);
  for (auto [threads, parts] : {std::pair{2, 4u}, std::pair{4, 7u}}) {
    const auto other = run(threads, parts);
    CHECK(other.first == ref.first);
    CHECK(other.second == ref.second);
  }
}

TEST_CASE("reward_stdp needs its neuromodulator and pulses are kept in time order",
          "[rstdp][validation]") {
  Network net(TimeGrid(0.1), 1);
  const auto a = add(net, "a", "iaf_psc_delta", 2);
  const auto p = net.add_projection("ab", a, a, {{0, 1, 1.0f, 1}});
  net.set_plasticity(p, reward_stdp(rstdp_params(0.0)));
  net.add_neuromodulator(Neuromodulator("serotonin", 100.0, 0.1));
  CHECK_THROWS_WITH(Simulator(std::move(net), SimulationOptions{}),
                    Contains("projection 'ab'") && Contains("neuromodulator 'dopamine'"));
  Neuromodulator da("dopamine", 200.0, 0.1);
  da.add(100, 1.0);
  CHECK(da.at(99) == 0.0);
  CHECK(da.at(100) == 1.0);
  da.add(50, 1.0);  // out of order: kept sorted
  REQUIRE(da.pulses().size() == 2);
  CHECK(da.pulses()[0].step == 50);
  CHECK(da.at(100) == Approx(1.0 + std::exp(-5.0 / 200.0)).epsilon(1e-14));
  CHECK_THROWS_AS(Neuromodulator("x", -1.0, 0.1), ConfigError);
  CHECK(da.at(49) == 0.0);
  CHECK(da.at(300) ==
        Approx((1.0 + std::exp(-5.0 / 200.0)) * std::exp(-20.0 / 200.0)).epsilon(1e-14));
}

TEST_CASE("a postsynaptic spike long after the last arrival pairs with nothing", "[rstdp]") {
  // Arrival at 100 ms, post at 105 ms (causal), a second post spike at 20 s,
  // when the presynaptic trace has decayed to exactly 0 (exp(-995)), then an
  // arrival 5 ms after it: the late post spike adds no eligibility but its
  // postsynaptic trace depresses that arrival. With a reward at 21 s the
  // weight and the eligibility are the closed form's, whether or not the
  // rule touched the synapse at the late post spike (it does not).
  const double eta = 0.1, tau_c = 1000.0, a = 0.5;
  const double lambda = 1.0 / tau_c + 1.0 / kTauD;
  const Step late_post = 200000, late_arrival = late_post + 50, reward = 210000, until = 230000;
  double c = 0;
  const double w = run_plastic_pair(
      reward_stdp(rstdp_params(0.0)), {999, late_arrival - 1}, {1050, late_post}, 1, 0.0, 1,
      [&](const PlasticityRule& r) {
        c = eligibility(r, until);
        return rule_weight(r, 0);
      },
      [&](Network& net) {
        Neuromodulator da("dopamine", kTauD, kDt);
        da.add(reward, a);
        net.add_neuromodulator(std::move(da));
      },
      until);
  const auto ms = [](Step s) { return static_cast<double>(s) * kDt; };
  // c just before the reward: the causal pairing's, decayed, and the late
  // acausal pairing's (post trace e^{-5/20}, A_minus 0.15), decayed.
  const double c_causal = 0.1 * e(5, 20) * e(ms(reward - 1050), tau_c);
  const double c_acausal = -0.15 * e(5, 20) * e(ms(reward - late_arrival), tau_c);
  const double expected =
      eta * (c_causal + c_acausal) * a * -std::expm1(-lambda * ms(until - reward)) / lambda;
  CHECK(c_causal + c_acausal < 0);  // the late depression outweighs the old potentiation
  CHECK(std::abs(w - expected) <= 1e-12 * std::abs(expected));
  CHECK(c == Approx((c_causal + c_acausal) * e(ms(until - reward), tau_c)).epsilon(1e-12));
}
