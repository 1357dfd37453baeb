// The current devices computed every step (neurons/step_current.hpp,
// ac_current.hpp, noise_current.hpp) through the whole engine: an
// iaf_psc_exp neuron that never fires (V_th far away, E_L = 0, no synaptic
// input) integrates a current I held over a step exactly,
//   V(k) = V(k-1) a + I_k R (1 - a),  a = exp(-dt / tau), R = tau / C,
// and a lif_discrete population with beta = 0 holds exactly the input of the
// step (u(k) = I_k), so its trace is the injected current itself.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <numeric>

#include "harness.hpp"

using namespace spikeline;
using namespace spikeline::test;
using Catch::Matchers::Contains;

namespace {

constexpr double kTau = 10.0, kC = 250.0, kR = kTau / kC;  // ms, pF, mV/pA

ParamMap never_firing() {
  return params({{"E_L", 0.0}, {"V_reset", 0.0}, {"V_th", 1e6}, {"tau_m", kTau}, {"C_m", kC}});
}

std::shared_ptr<const CurrentWave> wave(const std::string& model, const ParamMap& p,
                                        const TimeGrid& grid, std::uint32_t stimulus = 0,
                                        std::uint64_t seed = 1) {
  return registry().get(model, "test").make_wave(p, grid, {seed, stimulus});
}

ParamMap device(const std::string& model,
                std::initializer_list<std::pair<const char*, ParamValue>> list) {
  ParamMap p(fmt::format("stimulus 'dev' ({})", model));
  for (const auto& [k, v] : list) p.set(k, v);
  return p;
}

// V_m of `n` never-firing iaf_psc_exp neurons driven by `w`, after each
// step 1..T (double precision: read from the model after every step).
std::vector<double> membrane(std::shared_ptr<const CurrentWave> w, double dt, Step T) {
  Network net(TimeGrid(dt), 1);
  const auto q = add(net, "n", "iaf_psc_exp", 1, never_firing());
  net.add_stimulus({"dev", q, {}, {}, std::move(w)});
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  std::vector<double> v;
  for (Step t = 1; t <= T; ++t) {
    sim.run_until(t, c);
    v.push_back(sim.network().populations()[q].population->state(0, 0, t));
  }
  return v;
}

// The injected current of n neurons at steps 1..T (rows: steps), through
// add_input_recorder; the stimulus reaches `nodes` (empty: all).
std::vector<float> injected(const std::string& model, const ParamMap& p, std::size_t n, Step T,
                            SimulationOptions options = {}, std::uint64_t seed = 7,
                            std::vector<NeuronIndex> nodes = {}) {
  Network net(TimeGrid(0.1), seed);
  const auto q = add_input_recorder(net, n);
  // Two stimuli: the device under test is stimulus 1 (its noise streams
  // are keyed by that index), stimulus 0 a dc_generator of 0 pA.
  net.add_stimulus({"zero", q, {}, {{0, 0.0}}, {}});
  net.add_stimulus({"dev", q, std::move(nodes), {}, wave(model, p, net.grid(), 1, seed)});
  Simulator sim(std::move(net), options);
  Collector c;
  sim.run_until(T, c);
  const auto v = all_frames(c);
  REQUIRE(v.size() == n * static_cast<std::size_t>(T));
  return v;
}

}  // namespace

TEST_CASE("step_current: V of iaf_psc_exp against the analytic solution", "[stimulus]") {
  // 200 pA from 1 ms, -100 pA from 3 ms, 50 pA from 6 ms; 0 before 1 ms.
  // Between changes V relaxes to I R: V(t) = I R + (V(t0) - I R) exp(-(t - t0) / tau),
  // a value set at time s acting on (s, ...] (the update after s).
  const TimeGrid grid(0.1);
  const std::vector<double> times{1.0, 3.0, 6.0}, values{200.0, -100.0, 50.0};
  const auto p = device("step_current", {{"amplitude_times", times}, {"amplitude_values", values}});
  const auto v = membrane(wave("step_current", p, grid), 0.1, 100);
  const auto exact = [&](double t) {
    double V = 0, t0 = 0, I = 0;
    for (std::size_t i = 0; i <= times.size(); ++i) {
      const double t1 = i < times.size() ? std::min(times[i], t) : t;
      V = I * kR + (V - I * kR) * std::exp(-(t1 - t0) / kTau);
      t0 = t1;
      if (i < times.size() && times[i] < t) I = values[i];
    }
    return V;
  };
  for (Step k = 1; k <= 10; ++k) CHECK(v[k - 1] == 0.0);  // before the first time: nothing
  CHECK(v[10] > 0.0);                                     // the step after 1 ms
  for (Step k = 1; k <= 100; ++k) {
    CAPTURE(k);
    CHECK(v[k - 1] == Approx(exact(0.1 * static_cast<double>(k))).epsilon(1e-9).margin(1e-12));
  }
}

TEST_CASE("step_current: the current is exactly each value, a time 0 acts from step 1",
          "[stimulus]") {
  const auto p = device("step_current", {{"amplitude_times", std::vector<double>{0.0, 0.3}},
                                         {"amplitude_values", std::vector<double>{0.1, 0.7}}});
  const auto I = injected("step_current", p, 1, 6);
  CHECK(I == std::vector<float>{0.1f, 0.1f, 0.1f, 0.7f, 0.7f, 0.7f});
}

TEST_CASE("ac_current: V of iaf_psc_exp against the analytic solution", "[stimulus]") {
  // I(t) = offset + A sin(w t + phi) during (start, stop]. The continuous
  // solution with V(0) = 0 from start on is
  //   V(t) = R offset (1 - e^{-u/tau}) + R A g [sin(w t + phi - theta)
  //          - e^{-u/tau} sin(w t_s + phi - theta)],  u = t - t_s,
  // g = 1 / sqrt(1 + (w tau)^2), theta = atan(w tau). The engine holds I at
  // its value at each step's start, which differs from I(t) by at most
  // A w dt; V, a low-pass of I with gain R, then differs by at most
  // R A w dt (0.0126 mV here, against a swing of 2.4 mV).
  const double dt = 0.01, A = 100.0, offset = 50.0, f = 50.0, phase = 30.0;
  const double ts = 2.0, tstop = 40.0;
  const double w = 2 * std::numbers::pi * f / 1000.0, phi = phase * std::numbers::pi / 180.0;
  const TimeGrid grid(dt);
  const auto p = device("ac_current", {{"amplitude", A},
                                       {"offset", offset},
                                       {"frequency", f},
                                       {"phase", phase},
                                       {"start", ts},
                                       {"stop", tstop}});
  const auto v = membrane(wave("ac_current", p, grid), dt, 5000);
  const double g = 1 / std::sqrt(1 + w * kTau * w * kTau), theta = std::atan(w * kTau);
  const auto exact = [&](double t) {
    if (t <= ts) return 0.0;
    const double te = std::min(t, tstop), e = std::exp(-(te - ts) / kTau);
    const double on =
        kR * offset * (1 - e) +
        kR * A * g * (std::sin(w * te + phi - theta) - e * std::sin(w * ts + phi - theta));
    return on * std::exp(-(t - te) / kTau);  // after stop: decay
  };
  const double bound = kR * A * w * dt;
  double worst = 0;
  for (Step k = 1; k <= 5000; ++k) {
    const double t = dt * static_cast<double>(k);
    worst = std::max(worst, std::abs(v[k - 1] - exact(t)));
  }
  CHECK(worst < bound);
  CHECK(worst > 0.0);
  for (Step k = 1; k <= 200; ++k) CHECK(v[k - 1] == 0.0);  // not before start
  // The discrete solution: step k holds I((k-1) dt), exactly.
  const double a = std::exp(-dt / kTau);
  double V = 0;
  for (Step k = 1; k <= 5000; ++k) {
    const double t0 = dt * static_cast<double>(k - 1);
    const bool on = k > 200 && k <= 4000;
    const double I = on ? offset + A * std::sin(w * t0 + phi) : 0.0;
    V = V * a + I * kR * (1 - a);
    CAPTURE(k);
    REQUIRE(v[k - 1] == Approx(V).epsilon(1e-9).margin(1e-10));
  }
}

TEST_CASE("ac_current: computed from the step index, no drift after 10^10 steps", "[stimulus]") {
  const TimeGrid grid(0.1);
  const double f = 13.7, phase = -45.0, A = 3.0;
  const auto w = wave(
      "ac_current",
      device("ac_current", {{"amplitude", A}, {"frequency", f}, {"phase", phase}, {"offset", 1.0}}),
      grid);
  for (const Step t : {Step{1}, Step{12345}, Step{10'000'000'000}}) {
    double I = 0;
    const NeuronIndex n = 0;
    w->add(t, {&n, 1}, &I);
    // Cycles at (t-1) dt in long double.
    const long double cycles = static_cast<long double>(f) * static_cast<long double>(0.1) /
                               1000.0L * static_cast<long double>(t - 1);
    const long double frac = cycles - std::floor(cycles);
    const double expect =
        1.0 + A * static_cast<double>(std::sin(2 * std::numbers::pi_v<long double> * frac +
                                               phase * std::numbers::pi_v<long double> / 180));
    CAPTURE(t);
    CHECK(I == Approx(expect).epsilon(0).margin(1e-9));
  }
}

TEST_CASE("noise_current: mean and variance of the current, each neuron its own draws",
          "[stimulus]") {
  // 2000 neurons, 50 steps with dt = 0.5 ms (5 steps per draw): 10 intervals
  // per neuron, 20,000 independent N(mean, std^2) values. Tolerances are 5
  // standard errors (a false failure once in ~2 million runs): the sample
  // mean's is std / sqrt(n), the sample variance's var sqrt(2 / (n - 1)).
  const double mean = 20.0, sd = 30.0;
  const std::size_t N = 2000;
  const auto p = device("noise_current", {{"mean", mean}, {"std", sd}, {"dt", 0.5}});
  const auto I = injected("noise_current", p, N, 50);
  std::vector<double> x;
  for (std::size_t k = 0; k < 50; k += 5) {
    for (std::size_t i = 0; i < N; ++i) {
      // Constant within an interval of 5 steps, aligned to time 0.
      for (std::size_t j = 1; j < 5; ++j) REQUIRE(I[(k + j) * N + i] == I[k * N + i]);
      x.push_back(I[k * N + i]);
    }
  }
  const double n = static_cast<double>(x.size());
  const double m = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double ss = 0;
  for (const double y : x) ss += (y - m) * (y - m);
  const double var = ss / (n - 1);
  CHECK(std::abs(m - mean) < 5 * sd / std::sqrt(n));
  CHECK(std::abs(var - sd * sd) < 5 * sd * sd * std::sqrt(2 / (n - 1)));
  // Independence across neurons: the correlation of neighbours' values
  // (neuron i with i + 1, same interval) has standard error 1/sqrt(n).
  double sxy = 0, sxx = 0;
  std::size_t pairs = 0;
  for (std::size_t k = 0; k < 10; ++k) {
    for (std::size_t i = 0; i + 1 < N; i += 2) {
      sxy += (x[k * N + i] - m) * (x[k * N + i + 1] - m);
      sxx += (x[k * N + i] - m) * (x[k * N + i] - m);
      ++pairs;
    }
  }
  const double r = sxy / sxx;
  CHECK(std::abs(r) < 5 / std::sqrt(static_cast<double>(pairs)));
  // And no two neurons share a value.
  std::vector<float> first(I.begin(), I.begin() + static_cast<std::ptrdiff_t>(N));
  std::sort(first.begin(), first.end());
  CHECK(std::adjacent_find(first.begin(), first.end()) == first.end());
}

TEST_CASE("noise_current: V of iaf_psc_exp has the stationary mean and variance of theory",
          "[stimulus]") {
  // Noise held over intervals of h = 0.5 ms: V at interval ends is AR(1),
  // V' = a V + R (1 - a) I, a = exp(-h / tau), so in the stationary state
  // E[V] = R mean, Var[V] = R^2 std^2 (1 - a) / (1 + a). 4000 neurons,
  // sampled once at 200 ms (20 tau: the start is forgotten to e^-20).
  // Tolerance 5 standard errors, as above.
  const double mean = 100.0, sd = 200.0, h = 0.5;
  const std::size_t N = 4000;
  Network net(TimeGrid(0.1), 3);
  const auto q = add(net, "n", "iaf_psc_exp", N, never_firing());
  net.add_stimulus(
      {"noise",
       q,
       {},
       {},
       wave("noise_current", device("noise_current", {{"mean", mean}, {"std", sd}, {"dt", h}}),
            net.grid(), 0, 3)});
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  sim.run_until(2000, c);
  std::vector<double> v(N);
  for (NeuronIndex i = 0; i < N; ++i)
    v[i] = sim.network().populations()[q].population->state(0, i, 2000);
  const double n = static_cast<double>(N);
  const double m = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double ss = 0;
  for (const double y : v) ss += (y - m) * (y - m);
  const double var = ss / (n - 1);
  const double a = std::exp(-h / kTau);
  const double var_theory = kR * kR * sd * sd * (1 - a) / (1 + a);
  CHECK(std::abs(m - kR * mean) < 5 * std::sqrt(var_theory / n));
  CHECK(std::abs(var - var_theory) < 5 * var_theory * std::sqrt(2 / (n - 1)));
}

TEST_CASE("noise_current: the same at 1 and 2 threads, any partitioning, a node list",
          "[stimulus][determinism]") {
  const auto p = device("noise_current",
                        {{"mean", 1.0}, {"std", 2.0}, {"dt", 0.2}, {"start", 0.5}, {"stop", 3.0}});
  const auto one = injected("noise_current", p, 101, 40);
  SimulationOptions two;
  two.threads = 2;
  CHECK(injected("noise_current", p, 101, 40, two) == one);
  two.partitions = 5;
  CHECK(injected("noise_current", p, 101, 40, two) == one);
  // Outside (start, stop] nothing; a value depends on (seed, stimulus,
  // neuron, interval), not on which neurons the stimulus reaches.
  for (std::size_t i = 0; i < 101; ++i) {
    CHECK(one[4 * 101 + i] == 0.0f);   // step 5: time 0.4 < start
    CHECK(one[5 * 101 + i] != 0.0f);   // step 6: time 0.5
    CHECK(one[30 * 101 + i] == 0.0f);  // step 31: after stop
  }
  const auto some = injected("noise_current", p, 101, 40, {}, 7, {3, 50});
  for (std::size_t k = 0; k < 40; ++k) {
    CHECK(some[k * 101 + 3] == one[k * 101 + 3]);
    CHECK(some[k * 101 + 50] == one[k * 101 + 50]);
    CHECK(some[k * 101 + 4] == 0.0f);
  }
  // Another seed, other draws.
  CHECK(injected("noise_current", p, 101, 40, {}, 8) != one);
}

TEST_CASE("current devices changed between pieces act as if configured so from the start",
          "[stimulus]") {
  const std::size_t N = 7;
  const auto run = [&](const std::string& model, const ParamMap& p0, const ParamMap* p1) {
    Network net(TimeGrid(0.1), 5);
    const auto q = add_input_recorder(net, N);
    net.add_stimulus({"dev", q, {}, {}, wave(model, p0, net.grid(), 0, 5)});
    SimulationOptions o;
    o.threads = 2;
    Simulator sim(std::move(net), o);
    Collector c;
    sim.run_until(100, c);
    if (p1) sim.set_stimulus_wave(0, wave(model, *p1, sim.grid(), 0, 5));
    sim.run_until(200, c);
    return all_frames(c);
  };
  const auto same_after_100 = [&](const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == 200 * N);
    REQUIRE(b.size() == 200 * N);
    return std::equal(a.begin() + 100 * N, a.end(), b.begin() + 100 * N);
  };
  SECTION("noise_current") {
    const auto p0 = device("noise_current", {{"mean", 0.0}, {"std", 10.0}, {"dt", 0.3}});
    const auto p1 = device("noise_current", {{"mean", 5.0}, {"std", 20.0}, {"dt", 0.3}});
    const auto changed = run("noise_current", p0, &p1);
    const auto fresh = run("noise_current", p1, nullptr);
    CHECK(same_after_100(changed, fresh));
    CHECK(!std::equal(changed.begin(), changed.begin() + 100 * N, fresh.begin()));
  }
  SECTION("step_current: the value the new times give now, at once") {
    const auto p0 = device("step_current", {{"amplitude_times", std::vector<double>{1.0}},
                                            {"amplitude_values", std::vector<double>{200.0}}});
    const auto p1 =
        device("step_current", {{"amplitude_times", std::vector<double>{0.0, 12.0}},
                                {"amplitude_values", std::vector<double>{50.0, 150.0}}});
    const auto changed = run("step_current", p0, &p1);
    CHECK(same_after_100(changed, run("step_current", p1, nullptr)));
    CHECK(changed[99 * N] == 200.0f);
    CHECK(changed[100 * N] == 50.0f);   // step 101
    CHECK(changed[120 * N] == 150.0f);  // step 121: after 12 ms
  }
  SECTION("ac_current") {
    const auto p0 = device("ac_current", {{"amplitude", 10.0}, {"frequency", 100.0}});
    const auto p1 = device(
        "ac_current", {{"amplitude", 20.0}, {"frequency", 40.0}, {"phase", 90.0}, {"stop", 15.0}});
    const auto changed = run("ac_current", p0, &p1);
    CHECK(same_after_100(changed, run("ac_current", p1, nullptr)));
    CHECK(changed[150 * N] == 0.0f);  // stopped at 15 ms
  }
}

TEST_CASE("current devices: bad values are errors naming the stimulus, the value, the range",
          "[stimulus][errors]") {
  const TimeGrid grid(0.1);
  const auto bad = [&](const std::string& model,
                       std::initializer_list<std::pair<const char*, ParamValue>> list) {
    return [&grid, model, p = device(model, list)] { wave(model, p, grid); };
  };
  using V = std::vector<double>;
  CHECK_THROWS_WITH(
      bad("step_current", {{"amplitude_times", V{1.0, 1.0}}, {"amplitude_values", V{1.0, 2.0}}})(),
      Contains("stimulus 'dev' (step_current) parameter amplitude_times[1] = 1 ms") &&
          Contains("strictly increasing") && Contains("> amplitude_times[0] = 1 ms"));
  CHECK_THROWS_WITH(
      bad("step_current", {{"amplitude_times", V{2.0, 1.0}}, {"amplitude_values", V{1.0, 2.0}}})(),
      Contains("amplitude_times[1] = 1 ms"));
  CHECK_THROWS_WITH(
      bad("step_current", {{"amplitude_times", V{1.0, 2.0}}, {"amplitude_values", V{1.0}}})(),
      Contains("amplitude_times has 2 values") && Contains("amplitude_values has 1") &&
          Contains("same length"));
  CHECK_THROWS_WITH(
      bad("step_current", {{"amplitude_times", V{1.05}}, {"amplitude_values", V{1.0}}})(),
      Contains("amplitude_times[0] = 1.05 ms is not a whole number of time steps") &&
          Contains("1 and 1.1 ms"));
  CHECK_THROWS_WITH(
      bad("step_current", {{"amplitude_times", V{-1.0}}, {"amplitude_values", V{1.0}}})(),
      Contains("amplitude_times[0] = -1 ms") && Contains(">= 0"));
  CHECK_THROWS_WITH(
      bad("step_current", {{"amplitude_times", V{1.0}}, {"amplitude_values", V{NAN}}})(),
      Contains("amplitude_values[0] = nan"));
  CHECK_THROWS_WITH(bad("noise_current", {{"dt", 0.15}})(),
                    Contains("stimulus 'dev' (noise_current) parameter dt = 0.15 ms") &&
                        Contains("whole multiple of the time step dt = 0.1 ms") &&
                        Contains("0.1 and 0.2 ms"));
  CHECK_THROWS_WITH(bad("noise_current", {{"dt", 0.05}})(),
                    Contains("dt = 0.05 ms") && Contains("smallest valid value is 0.1 ms"));
  CHECK_THROWS_WITH(bad("noise_current", {{"dt", 0.0}})(), Contains("dt = 0"));
  CHECK_THROWS_WITH(bad("noise_current", {{"std", -1.0}})(),
                    Contains("std = -1") && Contains(">= 0"));
  CHECK_THROWS_WITH(bad("noise_current", {{"start", 5.0}, {"stop", 2.0}})(), Contains("start = 5"));
  CHECK_THROWS_WITH(
      bad("ac_current", {{"frequency", -1.0}})(),
      Contains("stimulus 'dev' (ac_current) parameter frequency = -1") && Contains(">= 0"));
  CHECK_THROWS_WITH(bad("ac_current", {{"stop", 1.05}})(), Contains("stop = 1.05"));
  CHECK_THROWS_WITH(bad("ac_current", {{"phase", INFINITY}})(), Contains("phase = inf"));
  // Both lists absent: no current (and no error).
  CHECK_NOTHROW(wave("step_current", device("step_current", {}), grid));
}
