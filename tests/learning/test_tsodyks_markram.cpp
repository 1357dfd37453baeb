// Tsodyks-Markram short-term plasticity against its recursion: the amounts
// a train delivers, read from the target's synaptic current jumps, for
// depression and facilitation, regular and irregular trains, the steady
// state of depression; the stored weights untouched; u and x as recorded;
// a resumed checkpoint; any thread count; parameter errors. The same for
// reward_stdp with short-term plasticity (tau_rec > 0), which shares the
// recursion (lazy_trace.hpp: short_term_arrival).
#include <cmath>
#include <functional>

#include <catch2/catch.hpp>

#include "pairs.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/state_archive.hpp"

using namespace spikeline;
using namespace spikeline::test;
using Catch::Matchers::Contains;

namespace {

constexpr double kTauSyn = 0.5;  // ms: a jump decays by e^-40 before the next arrival (>= 20 ms)

// The rule as a config makes it (the built-in catalogue).
std::unique_ptr<PlasticityRule> tm_rule(const ParamMap& p) {
  return test::make_rule("tsodyks_markram", p);
}

ParamMap tm_params(double U, double tau_rec, double tau_facil) {
  return params({{"U", U}, {"tau_rec", tau_rec}, {"tau_facil", tau_facil}});
}

// The recursion, written out independently of the rule: arrival steps in,
// (u_n, x_n) of each spike out.
struct Expected {
  std::vector<double> u, x;
};
Expected recursion(double U, double tau_rec, double tau_facil, const std::vector<Step>& arrivals) {
  Expected e;
  double u = U, x = 1.0;
  for (std::size_t n = 0; n < arrivals.size(); ++n) {
    if (n > 0) {
      const double h = static_cast<double>(arrivals[n] - arrivals[n - 1]) * kDt;
      x = 1.0 + (x - x * u - 1.0) * std::exp(-h / tau_rec);
      u = tau_facil > 0 ? U + u * (1.0 - U) * std::exp(-h / tau_facil) : U;
    }
    e.u.push_back(u);
    e.x.push_back(x);
  }
  return e;
}

struct TrainRun {
  std::vector<double> jumps;  // the target's I_syn_ex jump at each arrival
  double u = 0, x = 0;        // recorded at the end
  float weight_after = 0;     // the stored weight at the end
};

// The rule under test: tsodyks_markram, or reward_stdp with the same
// (U, tau_rec, tau_facil) and learning idle (tonic 0, no reward: its
// weights stay put, so every amount is the base weight times u x).
enum class Rule { tsodyks_markram, reward_stdp };

std::unique_ptr<PlasticityRule> make_rule(Rule rule, const ParamMap& stp) {
  if (rule == Rule::tsodyks_markram) {
    return test::make_rule("tsodyks_markram", stp);  // the built-in catalogue, as a config
  }
  ParamMap p = stp;
  p.set("tonic", 0.0);
  p.set("w_min", -1000.0);
  p.set("w_max", 1000.0);
  return test::make_rule("reward_stdp", p);  // the built-in catalogue, as a config
}

void add_dopamine_if_needed(Network& net, Rule rule,
                            const std::vector<std::pair<Step, double>>& rewards = {}) {
  if (rule != Rule::reward_stdp) return;
  Neuromodulator da("dopamine", 200.0, kDt);
  for (const auto& [step, amount] : rewards) da.add(step, amount);
  net.add_neuromodulator(std::move(da));
}

// A spike generator fires at `emissions` into one iaf_psc_exp neuron that
// never fires, through one synapse of weight w and delay d steps under the
// rule; returns the jumps of the neuron's excitatory current at the
// arrivals (I(a) - I(a - 1) P11, the amount delivered at step a).
TrainRun run_train(const ParamMap& stp, const std::vector<Step>& emissions, float w,
                   std::uint32_t d, Rule rule = Rule::tsodyks_markram) {
  Network net(TimeGrid(kDt), 1);
  std::vector<double> ms;
  for (const Step s : emissions) ms.push_back(static_cast<double>(s) * kDt);
  const auto src = add(net, "pre", "spike_generator", 1, params({{"spike_times", ms}}));
  const auto tgt = add(net, "post", "iaf_psc_exp", 1,
                       params({{"V_th", 1e9}, {"tau_syn_ex", kTauSyn}, {"tau_syn_in", kTauSyn}}));
  const auto& vars = registry().get("iaf_psc_exp", "test").state_vars;
  REQUIRE(vars.at(1).name == "I_syn_ex");
  const auto proj = net.add_projection("stp", src, tgt, {{0, 0, w, d}});
  add_dopamine_if_needed(net, rule);
  net.set_plasticity(proj, make_rule(rule, stp));
  net.add_probe({tgt, {1}, {0}, 1, 1});
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  sim.run_until(emissions.back() + d + 10, c);
  std::vector<double> I;  // I[s - 1]: step s
  for (const auto& f : c.frames) I.insert(I.end(), f.begin(), f.end());
  TrainRun r;
  const double p11 = std::exp(-kDt / kTauSyn);
  for (const Step s : emissions) {
    const auto a = static_cast<std::size_t>(s + d);
    r.jumps.push_back(I[a - 1] - I[a - 2] * p11);
  }
  const SynapseLocation only{0, 0};
  const std::size_t u = rule == Rule::tsodyks_markram ? 1 : 2;
  r.u = sim.synapse_value(proj, u, only);
  r.x = sim.synapse_value(proj, u + 1, only);
  r.weight_after = sim.connectivity(proj).canonical().at(0).weight;
  REQUIRE(sim.synapse_variables(proj) ==
          (rule == Rule::tsodyks_markram
               ? std::vector<std::string>{"weight", "u", "x"}
               : std::vector<std::string>{"weight", "eligibility", "u", "x"}));
  CHECK(sim.synapse_value(proj, 0, only) == w);
  return r;
}

std::vector<Step> regular(Step first, Step interval, int count) {
  std::vector<Step> s;
  for (int k = 0; k < count; ++k) s.push_back(first + interval * k);
  return s;
}

void check_amounts(const TrainRun& r, const Expected& e, float w) {
  REQUIRE(r.jumps.size() == e.u.size());
  for (std::size_t n = 0; n < e.u.size(); ++n) {
    INFO("spike " << n);
    const double expected = static_cast<double>(w) * e.u[n] * e.x[n];
    // The probe holds float32: a jump is exact to a few float ulps.
    CHECK(r.jumps[n] == Approx(expected).epsilon(1e-6));
  }
  CHECK(r.u == e.u.back());
  CHECK(r.x == e.x.back());
  CHECK(r.weight_after == w);  // the stored weight is the base weight
}

}  // namespace

TEST_CASE("depression: a regular train delivers w u x_n and reaches the steady state",
          "[tsodyks_markram]") {
  const double U = 0.5, tau_rec = 800.0;
  const float w = 250.0f;
  const Step h = GENERATE(200, 500);  // 50 and 20 Hz
  INFO("interval " << h << " steps");
  const auto emissions = regular(100, h, 40);
  std::vector<Step> arrivals;
  for (const Step s : emissions) arrivals.push_back(s + 3);
  const auto e = recursion(U, tau_rec, 0.0, arrivals);
  const TrainRun r = run_train(tm_params(U, tau_rec, 0.0), emissions, w, 3);
  check_amounts(r, e, w);
  CHECK(e.u.back() == U);  // no facilitation
  // Depression happened (the test would pass for a static synapse otherwise).
  CHECK(r.jumps.back() < 0.5 * r.jumps.front());
  CHECK(r.jumps.front() == Approx(w * U).epsilon(1e-6));
  // The steady state x_inf of a regular train, reached after 40 spikes
  // (the distance to it shrinks by (1 - U) e^{-h/tau_rec} per spike).
  const double E = std::exp(-static_cast<double>(h) * kDt / tau_rec);
  const double x_inf = (1 - E) / (1 - (1 - U) * E);
  CHECK(r.x == Approx(x_inf).epsilon(1e-9));
  CHECK(r.jumps.back() == Approx(w * U * x_inf).epsilon(1e-6));
}

TEST_CASE("facilitation: u grows with a fast train, amounts follow the recursion",
          "[tsodyks_markram]") {
  const double U = 0.1, tau_rec = 100.0, tau_facil = 1000.0;
  const float w = 400.0f;
  const auto emissions = regular(50, 250, 20);                 // 40 Hz
  const auto e = recursion(U, tau_rec, tau_facil, emissions);  // delay 0 shift: same intervals
  const TrainRun r = run_train(tm_params(U, tau_rec, tau_facil), emissions, w, 1);
  check_amounts(r, e, w);
  CHECK(r.jumps[3] > 1.5 * r.jumps[0]);  // facilitation dominates early
  CHECK(r.u > 2 * U);
}

TEST_CASE("an irregular train: each spike uses the interval just before it", "[tsodyks_markram]") {
  // Intervals 20, 300, 25, 700, 40 ms: the order of NEST's tsodyks2_synapse
  // since PR 3384 (update with the interval since the last spike, then send);
  // NEST's former send-then-update order would scale each spike with the
  // interval before the previous one and fail here.
  const std::vector<Step> emissions = {100, 300, 3300, 3550, 10550, 10950};
  for (const double tau_facil : {0.0, 500.0}) {
    INFO("tau_facil " << tau_facil);
    const auto e = recursion(0.4, 300.0, tau_facil, emissions);
    const TrainRun r = run_train(tm_params(0.4, 300.0, tau_facil), emissions, 100.0f, 2);
    check_amounts(r, e, 100.0f);
  }
}

TEST_CASE("a negative weight is depressed and stays inhibitory", "[tsodyks_markram]") {
  Network net(TimeGrid(kDt), 1);
  const auto src =
      add(net, "pre", "spike_generator", 1, params({{"spike_times", std::vector<double>{5, 25}}}));
  const auto tgt = add(net, "post", "iaf_psc_exp", 1,
                       params({{"V_th", 1e9}, {"tau_syn_ex", kTauSyn}, {"tau_syn_in", kTauSyn}}));
  const auto proj = net.add_projection("stp", src, tgt, {{0, 0, -80.0f, 1}});
  net.set_plasticity(proj, test::make_rule("tsodyks_markram", tm_params(0.5, 800.0, 0.0)));
  net.add_probe({tgt, {1, 2}, {0}, 1, 1});  // I_syn_ex, I_syn_in
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  sim.run_until(300, c);
  std::vector<float> f;
  for (const auto& fr : c.frames) f.insert(f.end(), fr.begin(), fr.end());
  const auto e = recursion(0.5, 800.0, 0.0, {51, 251});
  CHECK(f[2 * 50 + 1] == Approx(-80.0 * e.u[0] * e.x[0]).epsilon(1e-6));   // step 51
  CHECK(f[2 * 250 + 1] == Approx(-80.0 * e.u[1] * e.x[1]).epsilon(1e-6));  // step 251
  CHECK(f[2 * 250] == 0.0f);                                               // nothing excitatory
}

TEST_CASE("reward_stdp with tau_rec > 0 delivers w u x by the same recursion",
          "[tsodyks_markram][rstdp]") {
  // Depression at 20 Hz, depression with facilitation, and an irregular
  // train: the amounts of tsodyks_markram, from the rule that learns.
  const std::vector<Step> irregular = {100, 300, 3300, 3550, 10550, 10950};
  const auto train20 = regular(100, 500, 30);
  for (const double tau_facil : {0.0, 500.0}) {
    INFO("tau_facil " << tau_facil);
    for (const auto* emissions : {&train20, &irregular}) {
      std::vector<Step> arrivals;
      for (const Step s : *emissions) arrivals.push_back(s + 2);
      const auto e = recursion(0.4, 300.0, tau_facil, arrivals);
      const TrainRun r =
          run_train(tm_params(0.4, 300.0, tau_facil), *emissions, 100.0f, 2, Rule::reward_stdp);
      check_amounts(r, e, 100.0f);
    }
  }
  // Without tau_rec the rule delivers its weights unscaled: every jump is w.
  ParamMap off = params({{"tau_rec", 0.0}});
  const TrainRun plain = [&] {
    Network net(TimeGrid(kDt), 1);
    const auto src = add(net, "pre", "spike_generator", 1,
                         params({{"spike_times", std::vector<double>{10, 30, 50}}}));
    const auto tgt = add(net, "post", "iaf_psc_exp", 1,
                         params({{"V_th", 1e9}, {"tau_syn_ex", kTauSyn}, {"tau_syn_in", kTauSyn}}));
    const auto proj = net.add_projection("p", src, tgt, {{0, 0, 100.0f, 1}});
    add_dopamine_if_needed(net, Rule::reward_stdp);
    net.set_plasticity(proj, make_rule(Rule::reward_stdp, off));
    net.add_probe({tgt, {1}, {0}, 1, 1});
    Simulator sim(std::move(net), SimulationOptions{});
    REQUIRE(sim.plasticity(proj)->delivered(0) == nullptr);
    Collector c;
    sim.run_until(600, c);
    CHECK(sim.synapse_variables(proj) == std::vector<std::string>{"weight", "eligibility"});
    std::vector<double> I;
    for (const auto& f : c.frames) I.insert(I.end(), f.begin(), f.end());
    TrainRun t;
    for (const std::size_t a : {101u, 301u, 501u}) {
      t.jumps.push_back(I[a - 1] - I[a - 2] * std::exp(-kDt / kTauSyn));
    }
    return t;
  }();
  for (const double j : plain.jumps) CHECK(j == Approx(100.0).epsilon(1e-6));
}

TEST_CASE("short-term plasticity: a resumed checkpoint, 1 or more threads: the same run",
          "[tsodyks_markram][rstdp][determinism]") {
  // A recurrent network whose recurrent synapses depress and facilitate;
  // under reward_stdp they also learn, from rewards every 0.5 s.
  const Rule rule = GENERATE(Rule::tsodyks_markram, Rule::reward_stdp);
  const bool learns = rule == Rule::reward_stdp;
  INFO((learns ? "reward_stdp" : "tsodyks_markram"));
  const std::size_t u_var = learns ? 2 : 1;
  auto build = [&](int threads, unsigned partitions, bool plastic) {
    Network net(TimeGrid(0.1), 21);
    const auto r = add_recurrent(net, {200, 40.0, 600, 2.6f, 3.0, 21, 5});
    if (plastic) {
      add_dopamine_if_needed(net, rule, {{500, 0.5}, {1000, 0.5}, {1500, 0.5}, {2500, 0.5}});
      net.set_plasticity(r, make_rule(rule, tm_params(0.3, 200.0, 50.0)));
    }
    SimulationOptions opt;
    opt.threads = threads;
    opt.partitions = partitions;
    return std::make_unique<Simulator>(std::move(net), opt);
  };
  struct Result {
    std::uint64_t spikes;
    std::vector<float> weights;
    std::vector<double> ux;
  };
  auto result = [u_var](Simulator& sim, const Collector& c) {
    Result out{hash(c.spikes), {}, {}};
    for (const auto& s : sim.connectivity(1).canonical()) out.weights.push_back(s.weight);
    if (sim.plasticity(1)) {
      for (const auto& at : sim.connectivity(1).canonical_locations()) {
        out.ux.push_back(sim.synapse_value(1, u_var, at));
        out.ux.push_back(sim.synapse_value(1, u_var + 1, at));
      }
    }
    return out;
  };
  auto run = [&](int threads, unsigned partitions) {
    auto sim = build(threads, partitions, true);
    Collector c;
    sim->run_until(3000, c);
    return result(*sim, c);
  };
  const Result ref = run(1, 1);
  std::vector<float> w0;
  {
    auto still = build(1, 1, false);
    Collector c;
    still->run_until(3000, c);
    const Result static_run = result(*still, c);
    // The rule changes the run; only reward_stdp changes the stored weights.
    REQUIRE(static_run.spikes != ref.spikes);
    CHECK((static_run.weights == ref.weights) == !learns);
    w0 = ref.weights;
  }
  // u and x moved away from rest (U, 1) on most synapses.
  std::size_t moved = 0;
  for (std::size_t k = 0; k < ref.ux.size(); k += 2) moved += ref.ux[k + 1] < 1.0 ? 1 : 0;
  CHECK(moved > ref.ux.size() / 4);

  SECTION("threads and partitions") {
    for (auto [threads, parts] : {std::pair{2, 2u}, std::pair{2, 5u}, std::pair{1, 7u}}) {
      INFO("threads " << threads << ", partitions " << parts);
      const Result other = run(threads, parts);
      CHECK(other.spikes == ref.spikes);
      CHECK(other.ux == ref.ux);
      CHECK(other.weights == w0);
    }
  }
  SECTION("checkpoint at 1234 steps, restored into a fresh simulator") {
    auto first = build(2, 2, true);
    Collector c;
    first->run_until(1234, c);
    MemoryArchive saved;
    first->checkpoint(saved);
    first.reset();                    // one simulator at a time, as in test_determinism
    auto second = build(1, 2, true);  // the partitioning is the checkpoint's
    saved.set_loading(true);
    second->checkpoint(saved);
    REQUIRE(second->now() == 1234);
    second->run_until(3000, c);
    const Result resumed = result(*second, c);
    CHECK(resumed.spikes == ref.spikes);
    CHECK(resumed.ux == ref.ux);
    CHECK(resumed.weights == w0);
  }
}

TEST_CASE("bad tsodyks_markram parameters are clear errors", "[tsodyks_markram][validation]") {
  CHECK_THROWS_WITH(tm_rule(tm_params(0.0, 800.0, 0.0)), Contains("U = 0") && Contains("(0, 1]"));
  CHECK_THROWS_WITH(tm_rule(tm_params(1.5, 800.0, 0.0)), Contains("U = 1.5") && Contains("(0, 1]"));
  CHECK_THROWS_WITH(tm_rule(tm_params(NAN, 800.0, 0.0)), Contains("U = nan") && Contains("(0, 1]"));
  CHECK_THROWS_WITH(tm_rule(tm_params(0.5, 0.0, 0.0)),
                    Contains("tau_rec = 0 ms") && Contains("> 0"));
  CHECK_THROWS_WITH(tm_rule(tm_params(0.5, -3.0, 0.0)),
                    Contains("tau_rec = -3 ms") && Contains("> 0"));
  CHECK_THROWS_WITH(tm_rule(tm_params(0.5, NAN, 0.0)), Contains("tau_rec = nan"));
  CHECK_THROWS_WITH(tm_rule(tm_params(0.5, 800.0, -1.0)),
                    Contains("tau_facil = -1 ms") && Contains(">= 0"));
  CHECK_THROWS_WITH(tm_rule(tm_params(0.5, 800.0, INFINITY)), Contains("tau_facil = inf"));
  // The boundaries are valid: U = 1 (every spike uses all resources).
  CHECK_NOTHROW(tm_rule(tm_params(1.0, 1e-3, 0.0)));
}

TEST_CASE("bad short-term parameters of reward_stdp are clear errors",
          "[tsodyks_markram][rstdp][validation]") {
  const auto rstdp = [](const ParamMap& p) { return test::make_rule("reward_stdp", p); };
  CHECK_THROWS_WITH(rstdp(tm_params(0.0, 800.0, 0.0)), Contains("U = 0") && Contains("(0, 1]"));
  CHECK_THROWS_WITH(rstdp(tm_params(0.5, -3.0, 0.0)),
                    Contains("tau_rec = -3 ms") && Contains(">= 0"));
  CHECK_THROWS_WITH(rstdp(tm_params(0.5, NAN, 0.0)), Contains("tau_rec = nan"));
  // Facilitation alone is not offered: it needs the depression it modulates.
  CHECK_THROWS_WITH(rstdp(tm_params(0.5, 0.0, 100.0)),
                    Contains("tau_facil = 100 ms") && Contains("tau_rec > 0"));
  // Off by default, with U's default kept valid.
  Registry r;
  register_builtin_rules(r);
  const auto& params = r.get_rule("reward_stdp", "test").params;
  const auto default_of = [&](const std::string& name) {
    const auto it = std::find_if(params.begin(), params.end(),
                                 [&](const ParamInfo& p) { return p.name == name; });
    REQUIRE(it != params.end());
    return it->default_value;
  };
  CHECK(default_of("tau_rec") == 0.0);
  CHECK(default_of("U") == 0.5);
  CHECK(rstdp(ParamMap{})->delivered(0) == nullptr);  // no short-term plasticity: weights delivered
}
