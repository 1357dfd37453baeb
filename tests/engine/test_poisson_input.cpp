// Poisson inputs (network.hpp, neurons/poisson_input.hpp): every target
// neuron gets its own Poisson train. A lif_discrete population with beta = 0
// and an unreachable threshold holds exactly the input of the step, u(t) =
// I(t), so its trace is the count of arrivals times the weight.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

#include "harness.hpp"
#include "spikeline/neurons/poisson_input.hpp"

using namespace spikeline;
using namespace spikeline::test;

namespace {

// One step's input of every neuron: rows are steps 1..T, columns neurons.
std::vector<float> trace_of_input(const PoissonDrive& drive, std::size_t n, Step T,
                                  SimulationOptions options = {},
                                  std::vector<NeuronIndex> neurons = {}) {
  Network net(TimeGrid(0.1), 42);
  const auto q = add_input_recorder(net, n);
  net.add_poisson_input({"drive", q, std::move(neurons), drive});
  Simulator sim(std::move(net), options);
  Collector c;
  sim.run_until(T, c);
  const auto v = all_frames(c);
  REQUIRE(v.size() == n * static_cast<std::size_t>(T));
  return v;
}

PoissonDrive drive(double rate, double sources, double weight, Step start = 0, Step stop = kNever) {
  return {rate, sources, weight, start, stop};
}

struct Moments {
  double mean = 0, var = 0, zero_fraction = 0;
};
Moments moments(const std::vector<float>& v, double weight) {
  Moments m;
  double s = 0, s2 = 0, zeros = 0;
  for (const float x : v) {
    const double k = x / weight;
    REQUIRE(k == std::round(k));  // whole counts
    s += k;
    s2 += k * k;
    zeros += k == 0;
  }
  const auto n = static_cast<double>(v.size());
  m.mean = s / n;
  m.var = s2 / n - m.mean * m.mean;
  m.zero_fraction = zeros / n;
  return m;
}

}  // namespace

TEST_CASE("a Poisson input's counts are Poisson(sources rate dt), per neuron and step",
          "[poisson_input]") {
  // Tolerances are 5 standard errors of each estimate over N T samples
  // (a false failure about once in 10^6 runs; the seed is fixed anyway).
  const std::size_t N = 1000;
  const Step T = 400;
  const double n = static_cast<double>(N) * T;
  SECTION("small mean: inversion (0.5 arrivals per step)") {
    const double mean = 50 * 100.0 * 1e-3 * 0.1;
    const Moments m = moments(trace_of_input(drive(100.0, 50, 0.25), N, T), 0.25);
    CHECK(std::abs(m.mean - mean) < 5 * std::sqrt(mean / n));
    CHECK(std::abs(m.var - mean) < 5 * std::sqrt((mean + 2 * mean * mean) / n));
    const double p0 = std::exp(-mean);
    CHECK(std::abs(m.zero_fraction - p0) < 5 * std::sqrt(p0 * (1 - p0) / n));
  }
  SECTION("large mean: PTRS (20 arrivals per step)") {
    const double mean = 2000 * 100.0 * 1e-3 * 0.1;
    const Moments m = moments(trace_of_input(drive(100.0, 2000, 0.5), N, T), 0.5);
    CHECK(std::abs(m.mean - mean) < 5 * std::sqrt(mean / n));
    CHECK(std::abs(m.var - mean) < 5 * std::sqrt((mean + 2 * mean * mean) / n));
  }
}

TEST_CASE("no two neurons of a Poisson input share a train", "[poisson_input]") {
  const std::size_t N = 200;
  const Step T = 2000;
  const auto v = trace_of_input(drive(50.0, 10, 1.0), N, T);  // 0.05 per step
  // Pearson correlation of neighbours' counts, averaged over pairs: zero
  // within 5 standard errors (1 / sqrt(T pairs)). A shared train gives 1.
  double sum = 0;
  for (std::size_t i = 0; i + 1 < N; ++i) {
    double a = 0, b = 0, ab = 0, aa = 0, bb = 0;
    for (Step t = 0; t < T; ++t) {
      const double x = v[t * N + i], y = v[t * N + i + 1];
      a += x, b += y, ab += x * y, aa += x * x, bb += y * y;
    }
    const double cov = ab / T - (a / T) * (b / T);
    const double sd = std::sqrt((aa / T - (a / T) * (a / T)) * (bb / T - (b / T) * (b / T)));
    REQUIRE(sd > 0);
    sum += cov / sd;
  }
  const double mean_r = sum / static_cast<double>(N - 1);
  CHECK(std::abs(mean_r) < 5 / std::sqrt(static_cast<double>(T) * (N - 1)));
}

TEST_CASE("a Poisson input acts after start until stop, on its nodes, by the weight sign",
          "[poisson_input]") {
  const std::size_t N = 50;
  const Step T = 300;
  const auto v = trace_of_input(drive(1000.0, 20, -0.5, 100, 200), N, T, {}, {3, 4, 5, 7, 40});
  double inside = 0;
  for (Step t = 1; t <= T; ++t) {
    for (std::size_t i = 0; i < N; ++i) {
      const float x = v[(t - 1) * N + i];
      const bool target = i == 3 || i == 4 || i == 5 || i == 7 || i == 40;
      if (!target || t <= 100 || t > 200) {
        INFO("step " << t << " neuron " << i);
        REQUIRE(x == 0.0f);
      } else {
        REQUIRE(x <= 0.0f);  // inhibitory: the negative weight goes to `in`
        inside += -x / 0.5;
      }
    }
  }
  // 5 neurons x 100 steps x 2 arrivals per step.
  CHECK(std::abs(inside - 1000.0) < 5 * std::sqrt(1000.0));
}

TEST_CASE("a Poisson input gives the same counts at any threads and partitions",
          "[poisson_input][determinism]") {
  const auto reference = trace_of_input(drive(400.0, 5, 1.0), 301, 150);
  for (const int threads : {1, 2, 4}) {
    for (const unsigned partitions : {1u, 3u, 7u}) {
      INFO("threads " << threads << " partitions " << partitions);
      SimulationOptions o;
      o.threads = threads;
      o.partitions = partitions;
      CHECK(trace_of_input(drive(400.0, 5, 1.0), 301, 150, o) == reference);
    }
  }
}

TEST_CASE("an event-driven population sees every Poisson arrival", "[poisson_input]") {
  // iaf_psc_delta without bias current is lazy; a zero current stimulus
  // forces the stepped path. Both integrate exactly: the traces agree.
  auto run = [](bool stepped) {
    Network net(TimeGrid(0.1), 5);
    const auto q =
        add(net, "n", "iaf_psc_delta", 20, params({{"E_L", 0.0}, {"V_reset", 0.0}, {"V_th", 1e6}}));
    net.add_poisson_input({"drive", q, {}, drive(200.0, 3, 0.7)});
    if (stepped) net.add_stimulus({"zero", q, {}, {{0, 0.0}}, {}});
    std::vector<NeuronIndex> all(20);
    std::iota(all.begin(), all.end(), 0);
    net.add_probe({q, {0}, all, 1, 1});
    Simulator sim(std::move(net), SimulationOptions{});
    REQUIRE(sim.mode(q) == (stepped ? UpdateMode::stepped : UpdateMode::event_driven));
    Collector c;
    sim.run_until(1000, c);
    std::vector<float> v;
    for (const auto& f : c.frames) v.insert(v.end(), f.begin(), f.end());
    return v;
  };
  const auto lazy = run(false), stepped = run(true);
  REQUIRE(lazy.size() == stepped.size());
  double total = 0;
  for (std::size_t k = 0; k < lazy.size(); ++k) {
    INFO("sample " << k);
    REQUIRE(lazy[k] == Approx(stepped[k]).margin(1e-5));
    total += lazy[k];
  }
  CHECK(total > 0);
}

TEST_CASE("poisson_input's parameters are checked", "[poisson_input][params]") {
  const TimeGrid grid(0.1);
  auto with = [](std::initializer_list<std::pair<const char*, ParamValue>> list) {
    ParamMap p("stimulus 'd' (poisson_input)");
    for (const auto& [k, v] : list) p.set(k, v);
    return p;
  };
  const PoissonDrive d = poisson_input_drive(
      with({{"rate", 10.0}, {"sources", 100.0}, {"weight", 2.0}, {"start", 5.0}}), grid);
  CHECK(d.rate_hz == 10.0);
  CHECK(d.sources == 100.0);
  CHECK(d.start_step == 50);
  CHECK(d.stop_step == kNever);
  using Catch::Contains;
  REQUIRE_THROWS_WITH(poisson_input_drive(with({{"rate", -1.0}}), grid), Contains("rate = -1 Hz"));
  REQUIRE_THROWS_WITH(poisson_input_drive(with({{"sources", 2.5}}), grid),
                      Contains("sources = 2.5") && Contains("whole number"));
  REQUIRE_THROWS_WITH(poisson_input_drive(with({{"sources", 0.0}}), grid), Contains("sources = 0"));
  REQUIRE_THROWS_WITH(poisson_input_drive(with({{"weight", NAN}}), grid), Contains("weight = nan"));
  REQUIRE_THROWS_WITH(poisson_input_drive(with({{"start", 0.05}}), grid),
                      Contains("start = 0.05 ms"));
  REQUIRE_THROWS_WITH(poisson_input_drive(with({{"start", 5.0}, {"stop", 5.0}}), grid),
                      Contains("start = 5 ms") && Contains("stop = 5 ms"));
}
