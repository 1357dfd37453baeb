// Generators changed between pieces (Simulator::replace_population with
// Population::take_over; app::Session::set_params): NEST's SetStatus on a
// poisson_generator or spike_generator between Simulate calls.
#include <catch2/catch.hpp>

#include <cmath>

#include "harness.hpp"

using namespace spikeline;
using namespace spikeline::test;
using Catch::Matchers::Contains;

namespace {

std::unique_ptr<Population> rebuilt(const Simulator& sim, std::uint32_t q, const std::string& model,
                                    const ParamMap& p) {
  const auto& pop = sim.network().populations()[q];
  return registry()
      .get(model, "test")
      .make_population({pop.name, pop.population->size(), p, sim.grid(), sim.network().seed(), q});
}

std::uint64_t count(const std::vector<SpikeRecord>& s, Step from, Step to) {
  std::uint64_t n = 0;
  for (const auto& r : s) n += r.step > from && r.step <= to;
  return n;
}

// 1000 poisson_generator neurons at 20 Hz for 500 ms, then `next` for 500 ms.
std::vector<SpikeRecord> poisson_run(const ParamMap& next, int threads, unsigned partitions = 0) {
  Network net(TimeGrid(0.1), 11);
  const auto g = add(net, "g", "poisson_generator", 1000, params({{"rate", 20.0}}));
  SimulationOptions o;
  o.threads = threads;
  o.partitions = partitions;
  Simulator sim(std::move(net), o);
  Collector c;
  sim.run_until(5000, c);
  sim.replace_population(g, rebuilt(sim, g, "poisson_generator", next));
  sim.run_until(10000, c);
  return c.spikes;
}

}  // namespace

TEST_CASE("poisson_generator: a new rate from the next step on, the same at any thread count",
          "[generator][determinism]") {
  // Counts of 1000 trains over 500 ms are Poisson: mean N rate T, sd its
  // square root; 5 sd bounds a false failure at ~6e-7 per check.
  const auto s = poisson_run(params({{"rate", 50.0}}), 1);
  const auto within = [](std::uint64_t n, double mean) {
    CAPTURE(n, mean);
    return std::abs(static_cast<double>(n) - mean) < 5 * std::sqrt(mean);
  };
  CHECK(within(count(s, 0, 5000), 1000 * 20.0 * 0.5));
  CHECK(within(count(s, 5000, 10000), 1000 * 50.0 * 0.5));
  // Just after the change too: the rate of the first 50 ms is the new one.
  CHECK(within(count(s, 5000, 5500), 1000 * 50.0 * 0.05));
  CHECK(poisson_run(params({{"rate", 50.0}}), 2) == s);
  CHECK(poisson_run(params({{"rate", 50.0}}), 2, 3) == s);
}

TEST_CASE("poisson_generator: spikes drawn ahead are discarded, a new start and stop apply",
          "[generator]") {
  // Rate 0: nothing after the change, though every neuron had its next
  // spike queued.
  const auto off = poisson_run(params({{"rate", 0.0}}), 2);
  CHECK(count(off, 0, 5000) > 9000);
  CHECK(count(off, 5000, 10000) == 0);
  // A start in the future (800 ms) and a stop (900 ms): spikes only in
  // (800, 900] ms after the change.
  const auto later = poisson_run(params({{"rate", 100.0}, {"start", 800.0}, {"stop", 900.0}}), 1);
  CHECK(count(later, 5000, 8000) == 0);
  CHECK(count(later, 9000, 10000) == 0);
  const double mean = 1000 * 100.0 * 0.1;
  CHECK(std::abs(static_cast<double>(count(later, 8000, 9000)) - mean) < 5 * std::sqrt(mean));
  // The part before the change is the unchanged run's, bit for bit.
  const auto same = poisson_run(params({{"rate", 20.0}}), 1);
  const auto before = [](const std::vector<SpikeRecord>& s) {
    std::vector<SpikeRecord> out;
    for (const auto& r : s)
      if (r.step <= 5000) out.push_back(r);
    return out;
  };
  CHECK(before(same) == before(later));
  // The same rate again: still a Poisson train of that rate.
  const double m20 = 1000 * 20.0 * 0.5;
  CHECK(std::abs(static_cast<double>(count(same, 5000, 10000)) - m20) < 5 * std::sqrt(m20));
}

TEST_CASE("spike_generator: new times are emitted exactly, the old ones to come dropped",
          "[generator]") {
  Network net(TimeGrid(0.1), 1);
  using V = std::vector<double>;
  const auto g = add(net, "g", "spike_generator", 2,
                     params({{"spike_times", std::vector<V>{{1.0, 2.0, 30.0}, {5.0, 40.0}}}}));
  SimulationOptions o;
  o.threads = 2;
  o.partitions = 2;  // one neuron per partition
  Simulator sim(std::move(net), o);
  Collector c;
  sim.run_until(100, c);
  // In the past (at or before 10 ms): an error naming the value and the
  // range, and the run goes on as it was.
  CHECK_THROWS_WITH(
      sim.replace_population(g, rebuilt(sim, g, "spike_generator",
                                        params({{"spike_times", std::vector<V>{{12.0}, {10.0}}}}))),
      Contains("spike_times[1][0] = 10 ms is in the past") &&
          Contains("after the current time 10 ms (>= 10.1 ms)"));
  CHECK_THROWS_WITH(sim.replace_population(g, rebuilt(sim, g, "spike_generator",
                                                      params({{"spike_times", V{3.0, 12.0}}}))),
                    Contains("spike_times[0] = 3 ms is in the past"));
  sim.replace_population(
      g, rebuilt(sim, g, "spike_generator",
                 params({{"spike_times", std::vector<V>{{10.1, 15.5, 15.5}, {}}}})));
  sim.run_until(500, c);
  const std::vector<SpikeRecord> expect{{10, g, 0},  {20, g, 0},  {50, g, 1},
                                        {101, g, 0}, {155, g, 0}, {155, g, 0}};
  CHECK(c.spikes == expect);
}

TEST_CASE("a generator replaced by another model refuses, the run unchanged", "[generator]") {
  Network net(TimeGrid(0.1), 1);
  const auto g =
      add(net, "g", "spike_generator", 1, params({{"spike_times", std::vector<double>{20.0}}}));
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  sim.run_until(10, c);
  CHECK_THROWS_WITH(
      sim.replace_population(g, rebuilt(sim, g, "poisson_generator", params({{"rate", 5.0}}))),
      Contains("population 'g' (spike_generator): its parameters cannot change") &&
          Contains("cannot take over"));
  sim.run_until(300, c);
  CHECK(c.spikes == std::vector<SpikeRecord>{{200, g, 0}});
}
