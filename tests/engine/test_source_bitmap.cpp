// The per-partition source bitmaps that filing tests before a row (issue
// 24, slice 9): a bit per source with synapses in the partition, kept where
// the rows are sparse. The spikes with them on and off are compared in
// test_determinism.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "harness.hpp"

using namespace spikeline;
using namespace spikeline::test;

namespace {

using Mode = SimulationOptions::SourceBitmaps;

constexpr NeuronIndex kSources = 200;  // four words, the last one partial
constexpr NeuronIndex kTargets = 12;

// Known connectivity: a multiple of 3, s, reaches target s % 12 when that
// is below 9 (targets 0, 3 and 6; in two delay groups when s % 9 == 0),
// source 130 reaches targets 0 to 8, and no source reaches 9 to 11, so
// that a partition of those alone has an empty block.
std::vector<SynapseRecord> known_synapses() {
  std::vector<SynapseRecord> syn;
  for (NeuronIndex s = 0; s < kSources; s += 3) {
    const NeuronIndex t = s % kTargets;
    if (t >= 9) continue;
    syn.push_back({s, t, 1.0f, 2});
    if (s % 9 == 0) syn.push_back({s, t, 1.0f, 5});
  }
  for (NeuronIndex t = 0; t < 9; ++t) syn.push_back({130, t, 1.0f, 3});
  return syn;
}

std::unique_ptr<Simulator> known_network(unsigned partitions, Mode mode) {
  Network net(TimeGrid(0.1), 1);
  const auto delta =
      params({{"E_L", 0.0}, {"V_reset", 10.0}, {"V_th", 20.0}, {"tau_m", 20.0}, {"t_ref", 2.0}});
  const auto a = add(net, "a", "iaf_psc_delta", kSources, delta);
  const auto b = add(net, "b", "iaf_psc_delta", kTargets, delta);
  net.add_projection("ab", a, b, known_synapses());
  // Every source of b reaches every target of b: dense rows everywhere.
  std::vector<SynapseRecord> all;
  for (NeuronIndex s = 0; s < kTargets; ++s) {
    for (NeuronIndex t = 0; t < kTargets; ++t) all.push_back({s, t, 0.5f, 1});
  }
  net.add_projection("bb", b, b, all);
  SimulationOptions opt;
  opt.partitions = partitions;
  opt.source_bitmaps = mode;
  return std::make_unique<Simulator>(std::move(net), opt);
}

// The bitmap a partition must hold: the sources with a synapse onto its
// share of the targets.
std::vector<std::uint64_t> expected_bits(const std::vector<SynapseRecord>& syn, std::size_t sources,
                                         IndexRange targets) {
  std::vector<std::uint64_t> bits((sources + 63) / 64, 0);
  for (const auto& r : syn) {
    if (r.target >= targets.begin && r.target < targets.end)
      bits[r.source / 64] |= std::uint64_t{1} << (r.source % 64);
  }
  return bits;
}

std::size_t ones(std::span<const std::uint64_t> bits) {
  std::size_t n = 0;
  for (const auto w : bits) n += static_cast<std::size_t>(__builtin_popcountll(w));
  return n;
}

}  // namespace

TEST_CASE("a partition's source bitmap holds exactly the sources with synapses there",
          "[source_bitmap]") {
  const auto syn = known_synapses();
  for (const unsigned partitions : {1u, 2u, 3u, 4u, 12u}) {
    INFO("partitions " << partitions);
    const Partitioning parts(partitions);
    const auto always = known_network(partitions, Mode::always);
    const auto automatic = known_network(partitions, Mode::automatic);
    const auto never = known_network(partitions, Mode::never);
    for (unsigned p = 0; p < partitions; ++p) {
      INFO("partition " << p);
      const IndexRange targets = parts.range(kTargets, p);
      const auto expected = expected_bits(syn, kSources, targets);
      const auto bits = always->source_bitmap(0, p);
      if (ones(expected) == 0) {
        CHECK(bits.empty());  // an empty block: filing skips it on its empty row
      } else {
        CHECK(std::vector<std::uint64_t>(bits.begin(), bits.end()) == expected);
        CHECK(bits.size() == 4);
      }
      // A third of the sources (or fewer) here: sparse enough to keep.
      CHECK(std::vector<std::uint64_t>(automatic->source_bitmap(0, p).begin(),
                                       automatic->source_bitmap(0, p).end()) ==
            std::vector<std::uint64_t>(bits.begin(), bits.end()));
      CHECK(never->source_bitmap(0, p).empty());
      // 'bb': every source in every partition with targets.
      if (targets.end > targets.begin) {
        CHECK(ones(always->source_bitmap(1, p)) == kTargets);
        CHECK(automatic->source_bitmap(1, p).empty());  // dense: not kept
      }
    }
  }
}

TEST_CASE("source bitmaps of three partitions, written out", "[source_bitmap]") {
  // Targets 0-3, 4-7 and 8-11. The multiples of 3 reach targets 0, 3 and 6
  // only (s % 12 in {0, 3, 6}); source 130 reaches 0 to 8.
  const auto sim = known_network(3, Mode::always);
  auto sources = [&](unsigned p) {
    const auto bits = sim->source_bitmap(0, p);
    std::vector<NeuronIndex> set;
    for (NeuronIndex s = 0; s < kSources; ++s) {
      if ((bits[s / 64] >> (s % 64)) & 1) set.push_back(s);
    }
    return set;
  };
  std::vector<NeuronIndex> second;  // target 6: s = 6 + 12 m
  for (NeuronIndex s = 6; s < kSources; s += 12) second.push_back(s);
  second.insert(std::upper_bound(second.begin(), second.end(), 130), 130);
  CHECK(sources(1) == second);
  CHECK(sources(2) == std::vector<NeuronIndex>{130});
}

TEST_CASE("source_bitmap refuses a projection or partition out of range",
          "[source_bitmap][errors]") {
  const auto sim = known_network(3, Mode::always);
  CHECK_THROWS_WITH(sim->source_bitmap(2, 0),
                    Catch::Contains("projection 2 is out of range: the network has 2"));
  CHECK_THROWS_WITH(sim->source_bitmap(0, 3),
                    Catch::Contains("partition 3 is not this process's: valid is 0 to 2"));
}
