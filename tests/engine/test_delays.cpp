// Spikes travel through per-synapse delay lines: a spike emitted at step t
// reaches a synapse of delay d at exactly step t + d, for every delay in a
// heterogeneous set, multi-tap connections included, whatever the window.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace spikeline;
using namespace spikeline::test;

namespace {

// A target that fires in the very step an input arrives: delta LIF, no
// refractory period, jumps far above threshold.
ParamMap relay_params() {
  return params({{"E_L", 0.0}, {"V_reset", 0.0}, {"V_th", 20.0}, {"tau_m", 20.0}, {"t_ref", 0.0}});
}

std::vector<Step> spikes_of(const std::vector<SpikeRecord>& s, std::uint32_t pop, NeuronIndex i) {
  std::vector<Step> out;
  for (const auto& r : s) {
    if (r.population == pop && r.neuron == i) out.push_back(r.step);
  }
  return out;
}

}  // namespace

TEST_CASE("each synapse delivers exactly its own delay later", "[delays]") {
  const std::vector<std::uint32_t> delays =
      GENERATE(std::vector<std::uint32_t>{1, 2, 3, 7, 13, 40, 41, 100, 1000},  // window of 1 step
               std::vector<std::uint32_t>{13, 14, 20, 26, 27, 39, 500});       // window of 13 steps
  const int threads = GENERATE(1, 2);
  Network net(TimeGrid(0.1), 7);
  const auto src =
      add(net, "src", "spike_generator", 1, params({{"spike_times", std::vector<double>{5.0}}}));
  const auto tgt = add(net, "tgt", "iaf_psc_delta", delays.size(), relay_params());
  std::vector<SynapseRecord> syn;
  for (std::uint32_t k = 0; k < delays.size(); ++k) syn.push_back({0, k, 100.0f, delays[k]});
  net.add_projection("p", src, tgt, syn);
  SimulationOptions opt;
  opt.threads = threads;
  opt.partitions = 3;
  Simulator sim(std::move(net), opt);
  CHECK(sim.window() == delays.front());
  Collector c;
  sim.run_until(1600, c);
  REQUIRE(spikes_of(c.spikes, src, 0) == std::vector<Step>{50});
  for (std::uint32_t k = 0; k < delays.size(); ++k) {
    INFO("delay " << delays[k] << " steps");
    CHECK(spikes_of(c.spikes, tgt, k) == std::vector<Step>{50 + static_cast<Step>(delays[k])});
  }
}

TEST_CASE("multi-tap connections deliver each tap at its own delay with its own weight",
          "[delays][taps]") {
  // W[target][source][d] for d = 1..41: taps with odd d have weight 0, so the
  // relay fires exactly at the even delays, and a second source's taps land
  // on another target with the pattern reversed.
  constexpr std::uint32_t D = 41;
  Network net(TimeGrid(1.0), 3);
  const auto src = add(net, "src", "spike_generator", 2,
                       params({{"spike_times", std::vector<std::vector<double>>{{10.0}, {20.0}}}}));
  const auto tgt = add(net, "tgt", "iaf_psc_delta", 2, relay_params());
  std::vector<SynapseRecord> syn;
  for (std::uint32_t d = 1; d <= D; ++d) {
    syn.push_back({0, 0, d % 2 == 0 ? 100.0f : 0.0f, d});
    syn.push_back({1, 1, d % 2 == 1 ? 100.0f : 0.0f, d});
  }
  net.add_projection("taps", src, tgt, syn);
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  sim.run_until(100, c);
  std::vector<Step> even, odd;
  for (std::uint32_t d = 1; d <= D; ++d)
    (d % 2 == 0 ? even : odd).push_back((d % 2 == 0 ? 10 : 20) + d);
  CHECK(spikes_of(c.spikes, tgt, 0) == even);
  CHECK(spikes_of(c.spikes, tgt, 1) == odd);
  CHECK(sim.connectivity(0).distinct_delays() == D);
}

TEST_CASE("two spikes in flight on one synapse both arrive", "[delays]") {
  Network net(TimeGrid(0.1), 1);
  const auto src = add(net, "src", "spike_generator", 1,
                       params({{"spike_times", std::vector<double>{1.0, 1.1, 1.5}}}));
  const auto tgt = add(net, "tgt", "iaf_psc_delta", 1, relay_params());
  net.add_projection("p", src, tgt, {{0, 0, 100.0f, 20}});
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  sim.run_until(100, c);
  CHECK(spikes_of(c.spikes, tgt, 0) == std::vector<Step>{30, 31, 35});
}

TEST_CASE("a delay group with repeated targets delivers to each synapse's own target",
          "[delays][multapses]") {
  // Targets 5, 5, 7 of one source at one delay: first and last are two apart
  // over three synapses, as if 5, 6, 7 were consecutive; they are not. And
  // 1, 2, 3: consecutive (the vectorised path).
  Network net(TimeGrid(1.0), 1);
  const auto src =
      add(net, "src", "spike_generator", 1, params({{"spike_times", std::vector<double>{2.0}}}));
  const auto tgt = add(net, "tgt", "lif_discrete", 9,
                       params({{"beta", 0.0}, {"theta", 100.0}, {"reset", "zero"}}));
  std::vector<SynapseRecord> syn{{0, 5, 1.0f, 1}, {0, 5, 2.0f, 1},   {0, 7, 4.0f, 1},
                                 {0, 1, 8.0f, 2}, {0, 2, -16.0f, 2}, {0, 3, 32.0f, 2}};
  net.add_projection("p", src, tgt, syn);
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  const auto& pop = *sim.network().populations()[tgt].population;
  sim.run_until(3, c);
  CHECK(pop.state(0, 5, 3) == 3.0);
  CHECK(pop.state(0, 6, 3) == 0.0);
  CHECK(pop.state(0, 7, 3) == 4.0);
  sim.run_until(4, c);
  CHECK(pop.state(0, 1, 4) == 8.0);
  CHECK(pop.state(0, 2, 4) == -16.0);
  CHECK(pop.state(0, 3, 4) == 32.0);
  CHECK(pop.state(0, 5, 4) == 0.0);
}
