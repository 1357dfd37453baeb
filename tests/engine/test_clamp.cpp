// Spike clamps (a cue forced onto a population: the union of its own and the
// clamped spikes) and input dropout (masks that a trainer can recompute).
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "harness.hpp"

using namespace spikeline;
using namespace spikeline::test;

namespace {

std::vector<Step> spikes_of(const std::vector<SpikeRecord>& s, std::uint32_t pop, NeuronIndex i) {
  std::vector<Step> out;
  for (const auto& r : s) {
    if (r.population == pop && r.neuron == i) out.push_back(r.step);
  }
  return out;
}

// A lif_discrete population "src" of 3 (neuron 0 driven to spike every step by
// a current), relayed one-to-one with delay 2 onto "dst" (weight 5: any
// arriving spike makes the target fire, each spike counted once: u = 5 then
// decays). Returns the simulator.
std::unique_ptr<Simulator> clamp_network(int threads, unsigned partitions) {
  Network net(TimeGrid(1.0), 3);
  const auto src = add(net, "src", "lif_discrete", 3, params({{"beta", 0.5}, {"theta", 1.0}}));
  const auto dst = add(net, "dst", "lif_discrete", 3,
                       params({{"beta", 0.0}, {"theta", 4.0}, {"reset", "zero"}}));
  std::vector<SynapseRecord> syn;
  for (NeuronIndex i = 0; i < 3; ++i) syn.push_back({i, i, 5.0f, 2});
  net.add_projection("relay", src, dst, syn);
  net.add_stimulus({"drive", src, {0}, {{0, 2.0}}, {}});
  SimulationOptions opt;
  opt.threads = threads;
  opt.partitions = partitions;
  return std::make_unique<Simulator>(std::move(net), opt);
}

}  // namespace

TEST_CASE("a clamped spike is seen downstream, once, and leaves the neuron's own state alone",
          "[clamp]") {
  auto sim = clamp_network(1, 2);
  sim->clamp(0, 5, 1);
  sim->clamp(0, 9, 1);
  sim->clamp(0, 7, 0);  // neuron 0 spikes on its own at every step: one spike, not two
  Collector c;
  sim->run_until(12, c);
  CHECK(spikes_of(c.spikes, 0, 1) == std::vector<Step>{5, 9});
  CHECK(spikes_of(c.spikes, 1, 1) == std::vector<Step>{7, 11});  // delay 2
  const auto own0 = spikes_of(c.spikes, 0, 0);
  CHECK(own0.size() == 12);  // every step, each once
  CHECK(std::set<Step>(own0.begin(), own0.end()).size() == own0.size());
  CHECK(spikes_of(c.spikes, 1, 0) == std::vector<Step>{3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  // The clamp did not reset neuron 1: no input, so u stayed 0 and s 0.
  const auto& pop = *sim->network().populations()[0].population;
  CHECK(pop.state(0, 1, 12) == 0.0);
  CHECK(pop.state(1, 1, 12) == 0.0);
  // A downstream target that received one spike has u = 5 exactly (once, not twice).
  Collector none;
  auto again = clamp_network(1, 2);
  again->clamp(0, 3, 2);
  again->run_until(5, none);
  CHECK(again->network().populations()[1].population->state(0, 2, 5) == 5.0);
}

TEST_CASE("clamps give the same spikes at any thread count and partitioning",
          "[clamp][determinism]") {
  std::uint64_t first = 0;
  for (const auto& [threads, parts] : {std::pair{1, 1u}, {2, 3u}, {3, 2u}}) {
    auto sim = clamp_network(threads, parts);
    for (Step t = 2; t < 40; t += 3) sim->clamp(0, t, static_cast<NeuronIndex>(t % 3));
    Collector c;
    sim->run_until(50, c);
    if (first == 0) first = hash(c.spikes);
    CHECK(hash(c.spikes) == first);
  }
}

TEST_CASE("clamps are refused for the past, generators and nodes out of range", "[clamp][errors]") {
  auto sim = clamp_network(1, 1);
  Collector c;
  sim->run_until(10, c);
  CHECK_THROWS_WITH(sim->clamp(0, 10, 0), Catch::Contains("not after the current step 10"));
  CHECK_THROWS_WITH(sim->clamp(0, 11, 3), Catch::Contains("node 3 is out of range (size 3"));
  Network net(TimeGrid(1.0), 3);
  add(net, "gen", "spike_generator", 1, params({{"spike_times", std::vector<double>{5.0}}}));
  Simulator gen(std::move(net), SimulationOptions{});
  CHECK_THROWS_WITH(gen.clamp(0, 3, 0), Catch::Contains("is a generator"));
}

TEST_CASE("input dropout drops inputs with probability p, scales the rest, and is reproducible",
          "[dropout]") {
  // 400 neurons, each receiving weight 1 at every step from its own source
  // (a current-driven lif_discrete that spikes every step, delay 1); beta 0
  // so u(t) is exactly the input of step t.
  constexpr std::size_t n = 400;
  constexpr double p = 0.3;
  Network net(TimeGrid(1.0), 11);
  const auto src = add(net, "src", "lif_discrete", n, params({{"theta", 0.5}}));
  const auto dst = add(net, "dst", "lif_discrete", n, params({{"beta", 0.0}, {"theta", 100.0}}));
  std::vector<SynapseRecord> syn;
  for (NeuronIndex i = 0; i < n; ++i) syn.push_back({i, i, 1.0f, 1});
  net.add_projection("p", src, dst, syn);
  net.add_stimulus({"drive", src, {}, {{0, 1.0}}, {}});
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  sim.run_until(2, c);  // inputs reach dst from step 2 on
  sim.set_input_dropout(dst, p, 7);
  std::size_t dropped = 0, total = 0;
  std::vector<float> scale(n);
  for (Step t = 3; t <= 60; ++t) {
    sim.run_until(t, c);
    input_dropout_scales(11, dst, 7, t, 0, n, p, scale.data());
    for (NeuronIndex j = 0; j < n; ++j) {
      const double u = sim.network().populations()[dst].population->state(0, j, t);
      INFO("step " << t << " neuron " << j);
      REQUIRE(u == static_cast<double>(1.0f * scale[j]));
      dropped += scale[j] == 0.0f;
      ++total;
    }
  }
  // Binomial(total, p): within 5 standard deviations.
  const double sd = std::sqrt(static_cast<double>(total) * p * (1 - p));
  CHECK(std::abs(static_cast<double>(dropped) - p * static_cast<double>(total)) < 5 * sd);
  // Another key draws other masks for the same steps; p = 0 turns it off.
  std::vector<float> other(n);
  input_dropout_scales(11, dst, 8, 60, 0, n, p, other.data());
  CHECK(other != scale);
  sim.set_input_dropout(dst, 0.0, 0);
  sim.run_until(61, c);
  CHECK(sim.network().populations()[dst].population->state(0, 5, 61) == 1.0);
  CHECK_THROWS_WITH(sim.set_input_dropout(dst, 1.0, 0), Catch::Contains("out of range [0, 1)"));
}
