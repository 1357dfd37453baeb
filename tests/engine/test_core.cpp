// Engine building blocks: the time grid, the event order, the synapse
// tables, the random streams, stimuli and guards.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <catch2/catch.hpp>

#include "harness.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/event_queue.hpp"
#include "spikeline/engine/random.hpp"
#include "spikeline/engine/state_archive.hpp"

using namespace spikeline;
using namespace spikeline::test;
using Catch::Matchers::Contains;

TEST_CASE("delays are whole numbers of steps or an error", "[time]") {
  const TimeGrid g(0.1);
  CHECK(g.delay_steps(0.1, "d") == 1);
  CHECK(g.delay_steps(0.3, "d") == 3);  // 0.3 / 0.1 = 2.9999999999999996
  CHECK(g.delay_steps(5.0, "d") == 50);
  // A float32 delay from a SONATA file lands on the grid with a float32
  // tolerance, not with the config's.
  CHECK(g.delay_steps(static_cast<double>(0.7f), "d", TimeGrid::Precision::single) == 7);
  CHECK_THROWS_WITH(g.delay_steps(static_cast<double>(0.7f), "d"), Contains("whole number"));
  CHECK(g.synaptic_delay_steps(static_cast<double>(104857.6f), "d", TimeGrid::Precision::single) ==
        kMaxDelaySteps);
  // The tolerance never grows to a rounding: 100000.04 ms is 0.4 steps off.
  CHECK_THROWS_WITH(g.time_steps(100000.04, "t"), Contains("whole number"));
  CHECK_THROWS_WITH(g.delay_steps(100000.04, "d", TimeGrid::Precision::single),
                    Contains("whole number"));
  CHECK(g.time_steps(100000.0, "t") == 1000000);
  CHECK(g.time_steps(1e11, "t") == 1'000'000'000'000);
  CHECK_THROWS_WITH(g.time_steps(2e12, "t"), Contains("out of range") && Contains("2^44"));
  CHECK_THROWS_WITH(g.synaptic_delay_steps(104857.7, "d"), Contains("longest synaptic delay"));
  CHECK_THROWS_WITH(g.delay_steps(0.15, "projection 'a' delay"),
                    Contains("projection 'a' delay = 0.15 ms") && Contains("whole number"));
  CHECK_THROWS_WITH(g.delay_steps(0.05, "d"), Contains("0.05") && Contains(">= dt = 0.1"));
  CHECK_THROWS_WITH(g.delay_steps(-1.0, "d"), Contains("-1"));
  CHECK_THROWS_AS(g.delay_steps(NAN, "d"), ConfigError);
  CHECK_THROWS_AS(g.delay_steps(INFINITY, "d"), ConfigError);
  CHECK_THROWS_AS(TimeGrid(0.0), ConfigError);
  CHECK_THROWS_AS(TimeGrid(NAN), ConfigError);
  CHECK(g.time_steps(0.0, "t") == 0);
  CHECK_THROWS_AS(g.time_steps(0.25, "t"), ConfigError);
}

TEST_CASE("quoted input is cut at 80 bytes, never inside a character", "[error]") {
  CHECK(quote_input("0 1.5") == "0 1.5");
  CHECK(quote_input(std::string(80, 'x')) == std::string(80, 'x'));
  CHECK(quote_input(std::string(81, 'x')) == std::string(80, 'x') + "... (81 bytes)");
  // A two-byte character across the cut: left out whole.
  const std::string text = std::string(79, 'x') + "\xc3\xa9" + "tail";
  CHECK(quote_input(text) == std::string(79, 'x') + "... (85 bytes)");
  CHECK(quote_input("abcdef", 3) == "abc... (6 bytes)");
}

TEST_CASE("events pop in their total order whatever the insertion order", "[queue]") {
  std::vector<Event> events;
  for (Step s = 0; s < 5; ++s) {
    for (std::uint32_t a = 0; a < 3; ++a) {
      for (std::uint32_t b = 0; b < 3; ++b) {
        events.push_back({s, EventKind::delivery, a, b, 2, 0});
        events.push_back({s, EventKind::current, a, b, 0, 0});
        events.push_back({s, EventKind::emission, a, b, 1, 0});
      }
    }
  }
  auto sorted = events;
  std::sort(sorted.begin(), sorted.end());
  RandomStream rng(1, 2, 3);
  for (int trial = 0; trial < 20; ++trial) {
    for (std::size_t i = events.size() - 1; i > 0; --i)
      std::swap(events[i], events[rng.below(i + 1)]);
    EventQueue q;
    for (const auto& e : events) q.push(e);
    for (const auto& want : sorted) {
      REQUIRE_FALSE(q.empty());
      const Event got = q.top();
      q.pop();
      REQUIRE(!(got < want));
      REQUIRE(!(want < got));
    }
    REQUIRE(q.empty());
  }
}

namespace {

// A list in canonical order: by (source, target, delay), insertion order
// among equals.
std::vector<SynapseRecord> canonical_order(std::vector<SynapseRecord> v) {
  std::stable_sort(v.begin(), v.end(), [](const auto& x, const auto& y) {
    return std::tie(x.source, x.target, x.delay) < std::tie(y.source, y.target, y.delay);
  });
  return v;
}

// The same synapses in the same order, every field.
void check_same_records(const std::vector<SynapseRecord>& got,
                        const std::vector<SynapseRecord>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    INFO("synapse " << k);
    REQUIRE(got[k].source == want[k].source);
    REQUIRE(got[k].target == want[k].target);
    REQUIRE(got[k].delay == want[k].delay);
    REQUIRE(got[k].weight == want[k].weight);
  }
}

}  // namespace

TEST_CASE("synapse tables: grouped by delay, 6 bytes a synapse, canonical order",
          "[connectivity]") {
  RandomStream rng(9, 9, 9);
  std::vector<SynapseRecord> syn;
  for (int k = 0; k < 20000; ++k) {
    syn.push_back({static_cast<NeuronIndex>(rng.below(300)),
                   static_cast<NeuronIndex>(rng.below(500)), static_cast<float>(rng.uniform()),
                   1 + static_cast<std::uint32_t>(rng.below(5))});
  }
  const Connectivity one(syn, 300, 500, Partitioning(1));
  const Connectivity seven(syn, 300, 500, Partitioning(7));
  const auto a = one.canonical();
  check_same_records(a, canonical_order(syn));
  check_same_records(seven.canonical(), a);
  CHECK(one.min_delay() == 1);
  CHECK(one.max_delay() == 5);
  CHECK(one.distinct_delays() == 5);
  // Every group holds one delay, targets in the block's partition.
  const Partitioning parts(7);
  for (unsigned p = 0; p < 7; ++p) {
    const auto& blk = seven.block(p);
    const IndexRange r = parts.range(500, p);
    for (NeuronIndex s = 0; s < 300 && !blk.row.empty(); ++s) {
      std::uint32_t last_delay = 0;
      for (const auto& g : blk.groups_of(s)) {
        CHECK(g.delay > last_delay);  // one group per delay, ascending
        last_delay = g.delay;
        for (auto k = g.begin; k < g.end; ++k)
          CHECK((blk.target_of(g, k) >= r.begin && blk.target_of(g, k) < r.end));
      }
    }
  }
  // 6 bytes per synapse (a weight, a 16-bit target) plus the per-source rows
  // and the 12-byte group headers (and a sentinel).
  const double per_synapse =
      static_cast<double>(one.memory_bytes()) / static_cast<double>(syn.size());
  CHECK(one.block(0).narrow);
  CHECK(per_synapse < 6.0 + 4.0 * 301 / 20000 + 12.0 * 1501 / 20000 + 0.01);
  CHECK_THROWS_AS(Connectivity({{300, 0, 1.0f, 1}}, 300, 500, Partitioning(1)), DataError);
  CHECK_THROWS_AS(Connectivity({{0, 0, 1.0f, 0}}, 300, 500, Partitioning(1)), DataError);
}

TEST_CASE("dense rows store no target indices, mixed rows keep the others exactly",
          "[connectivity]") {
  // All-to-all with three taps per pair: every group is consecutive, so the
  // tables hold weights only (4 bytes a synapse plus the headers).
  std::vector<SynapseRecord> dense;
  for (NeuronIndex i = 0; i < 40; ++i)
    for (NeuronIndex j = 0; j < 90; ++j)
      for (std::uint32_t d = 1; d <= 3; ++d)
        dense.push_back({i, j, static_cast<float>(i * 1000 + j * 10 + d), d});
  for (const unsigned parts : {1u, 4u}) {
    const Connectivity c(dense, 40, 90, Partitioning(parts));
    for (unsigned p = 0; p < parts; ++p) {
      const auto& blk = c.block(p);
      CHECK(blk.target.empty());
      CHECK(blk.offset.empty());
      for (const auto& g : blk.all_groups()) CHECK(g.consecutive);
    }
    const double per_synapse = static_cast<double>(c.memory_bytes()) / dense.size();
    // 12-byte group headers, one sentinel per block, the rows.
    CHECK(per_synapse <
          4.0 + (12.0 * (3 * 40 + 1) * parts + 4.0 * 41 * parts) / dense.size() + 1e-9);
    // Every synapse comes back with its own target (the weight encodes it).
    for (const auto& s : c.canonical())
      CHECK(s.weight == static_cast<float>(s.source * 1000 + s.target * 10 + s.delay));
  }
  // Rows with a gap, a multapse and single synapses beside dense ones: the
  // stored targets are those of the groups that are not consecutive.
  std::vector<SynapseRecord> mixed = {
      {0, 3, 1.0f, 2}, {0, 4, 2.0f, 2},  {0, 5, 3.0f, 2},  // consecutive
      {0, 7, 4.0f, 3}, {0, 9, 5.0f, 3},                    // gap
      {1, 6, 6.0f, 1}, {1, 6, 7.0f, 1},                    // multapse
      {2, 8, 8.0f, 5},                                     // single: consecutive
      {2, 0, 9.0f, 1}, {2, 1, 10.0f, 1}, {2, 3, 11.0f, 1}};
  const Connectivity c(mixed, 3, 10, Partitioning(1));
  const auto& blk = c.block(0);
  // Ten targets: stored as 16-bit offsets from the partition's first neuron.
  CHECK(blk.narrow);
  CHECK(blk.target.empty());
  CHECK(blk.offset == std::vector<std::uint16_t>{7, 9, 6, 6, 0, 1, 3});
  check_same_records(c.canonical(), canonical_order(mixed));
  CHECK_THROWS_WITH(Connectivity({{0, 0, 1.0f, static_cast<std::uint32_t>(kMaxDelaySteps + 1)}}, 1,
                                 1, Partitioning(1)),
                    Contains("delays 1 to 1048576 steps"));
}

TEST_CASE("targets are 16-bit offsets up to 65536 neurons a partition and 32-bit beyond",
          "[connectivity]") {
  // Random targets over the whole population, its first and last neuron
  // included, three delays; the same list laid out at every width.
  auto make = [](std::size_t n_target) {
    std::vector<SynapseRecord> syn;
    RandomStream rng(7, 1, 1);
    for (NeuronIndex i = 0; i < 50; ++i) {
      syn.push_back({i, 0, 1.0f, 1});
      syn.push_back({i, static_cast<NeuronIndex>(n_target - 1), 2.0f, 2});
      for (int k = 0; k < 200; ++k) {
        const auto j = static_cast<NeuronIndex>(rng.below(n_target));
        syn.push_back({i, j, static_cast<float>(k), 1 + static_cast<std::uint32_t>(rng.below(3))});
      }
    }
    return syn;
  };
  // 131,073 neurons in two partitions: 65,536 and 65,537, one of each width.
  for (const auto& [n_target, n_parts] :
       {std::pair<std::size_t, unsigned>{65536, 1}, {65537, 1}, {131072, 2}, {131073, 2}}) {
    INFO("targets " << n_target << ", partitions " << n_parts);
    const auto syn = make(n_target);
    const Partitioning parts(n_parts);
    const Connectivity conn(syn, 50, n_target, parts);
    std::size_t bytes = 0;
    for (unsigned p = 0; p < n_parts; ++p) {
      const auto& blk = conn.block(p);
      const IndexRange r = parts.range(n_target, p);
      const bool narrow = r.end - r.begin <= 65536;
      CHECK(blk.narrow == narrow);
      CHECK(blk.base == (narrow ? r.begin : 0));
      CHECK((narrow ? blk.target.empty() : blk.offset.empty()));
      // Targets read through both accessors agree and stay in the partition.
      std::size_t stored = 0;
      for (const auto& g : blk.all_groups()) {
        if (g.consecutive) continue;
        stored += g.end - g.begin;
        blk.with_targets(g, [&](const auto* t, NeuronIndex base) {
          for (auto k = g.begin; k < g.end; ++k) {
            REQUIRE(base + t[k - g.begin] == blk.target_of(g, k));
            REQUIRE((blk.target_of(g, k) >= r.begin && blk.target_of(g, k) < r.end));
          }
        });
      }
      CHECK(stored > blk.size() * 9 / 10);  // random targets: few consecutive runs
      // 4 bytes a weight, 2 or 4 a stored target, 12 a group (and the
      // sentinel), 4 a row entry.
      bytes += 4 * blk.size() + (narrow ? 2 : 4) * stored + 12 * (blk.group_count() + 1) +
               4 * blk.row.size();
    }
    CHECK(conn.memory_bytes() == bytes);
    check_same_records(conn.canonical(), canonical_order(syn));
  }
}

TEST_CASE("partitions tile every population", "[connectivity]") {
  for (unsigned parts : {1u, 3u, 4u, 16u}) {
    const Partitioning p(parts);
    for (std::size_t n : {1ul, 2ul, 7ul, 100ul, 1001ul}) {
      NeuronIndex next = 0;
      for (unsigned k = 0; k < parts; ++k) {
        const IndexRange r = p.range(n, k);
        CHECK(r.begin == next);
        for (NeuronIndex i = r.begin; i < r.end; ++i) CHECK(p.part_of(n, i) == k);
        next = r.end;
      }
      CHECK(next == n);
    }
  }
}

TEST_CASE("random streams are keyed, reproducible and well distributed", "[random]") {
  RandomStream a(1, 2, 3), b(1, 2, 3), c(1, 2, 4), d(2, 2, 3);
  const auto x = a.next_u64();
  CHECK(x == b.next_u64());
  CHECK(x != c.next_u64());
  CHECK(x != d.next_u64());
  // Moments of 1e6 draws; tolerances are 5 standard errors (a false failure
  // about once in 3.5 million runs).
  constexpr int n = 1000000;
  RandomStream r(7, 1, 1);
  double su = 0, sn = 0, sn2 = 0, sp = 0, sp30 = 0, se = 0;
  std::vector<int> bins(10, 0);
  for (int i = 0; i < n; ++i) {
    su += r.uniform();
    const double z = r.normal();
    sn += z;
    sn2 += z * z;
    sp += static_cast<double>(r.poisson(3.0));
    sp30 += static_cast<double>(r.poisson(30.0));
    se += r.exponential(2.0);
    ++bins[r.below(10)];
  }
  CHECK(std::abs(su / n - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
  CHECK(std::abs(sn / n) < 5 * std::sqrt(1.0 / n));
  CHECK(std::abs(sn2 / n - 1) < 5 * std::sqrt(2.0 / n));
  CHECK(std::abs(sp / n - 3) < 5 * std::sqrt(3.0 / n));
  CHECK(std::abs(sp30 / n - 30) < 5 * std::sqrt(30.0 / n));
  CHECK(std::abs(se / n - 0.5) < 5 * 0.5 / std::sqrt(n));
  for (int k = 0; k < 10; ++k) CHECK(std::abs(bins[k] - n / 10) < 5 * std::sqrt(n * 0.09));
  // A stream can resume from its counter (what a checkpoint stores).
  RandomStream e(5, 5, 5);
  for (int i = 0; i < 8; ++i) e.next_u32();  // two whole blocks
  RandomStream f(5, 5, 5, e.counter());
  CHECK(e.next_u64() == f.next_u64());
}

TEST_CASE("normal draws follow the standard normal, tails included", "[random]") {
  // Pearson's chi-square of 1.6e7 draws over 180 bins of width 0.05 on
  // [-4.5, 4.5] and the two tails beyond, against the exact CDF, below its mean
  // plus 5 standard deviations. The bins resolve the ziggurat's layers (the
  // widest is 0.26): a wrong wedge height or tail moves the statistic by
  // hundreds. Separately, the share beyond the tail start r = 3.654 (2.6e-4,
  // drawn by the tail's own rejection) and its mean, each within 5 standard
  // errors.
  constexpr int n = 16000000, bins = 180;
  constexpr double lo = -4.5, width = 0.05;
  std::vector<double> count(bins + 2, 0);
  RandomStream r(3, 9, 27);
  constexpr double tail = 3.6541528853610088;
  int beyond = 0;
  double excess = 0, excess2 = 0;  // of |z| over the tail start
  for (int i = 0; i < n; ++i) {
    const double z = r.normal();
    if (std::abs(z) > tail) {
      ++beyond;
      excess += std::abs(z) - tail;
      excess2 += (std::abs(z) - tail) * (std::abs(z) - tail);
    }
    const double k = std::floor((z - lo) / width);
    count[k < 0 ? 0 : k >= bins ? bins + 1 : static_cast<std::size_t>(k) + 1] += 1;
  }
  auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  double chi2 = 0;
  for (int k = 0; k < bins + 2; ++k) {
    const double a = k == 0 ? -INFINITY : lo + (k - 1) * width;
    const double b = k == bins + 1 ? INFINITY : lo + k * width;
    const double expected = n * (cdf(b) - cdf(a));
    chi2 += (count[k] - expected) * (count[k] - expected) / expected;
  }
  const double dof = bins + 1;
  CHECK(chi2 < dof + 5 * std::sqrt(2 * dof));
  const double p_tail = 2 * cdf(-tail);
  CHECK(std::abs(beyond - n * p_tail) < 5 * std::sqrt(n * p_tail));
  // The tail's shape: the mean excess over r is the Mills ratio minus r
  // (0.2452; an exponential tail without the rejection step gives 1/r =
  // 0.2737, 7 standard errors away).
  const double mills = std::exp(-tail * tail / 2) / std::sqrt(2 * M_PI) / cdf(-tail);
  const double mean_excess = excess / beyond;
  const double se = std::sqrt((excess2 / beyond - mean_excess * mean_excess) / beyond);
  CHECK(std::abs(mean_excess - (mills - tail)) < 5 * se);
  // Symmetric: the mean of another 1.6e7 draws is 0 within 5 standard errors.
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += r.normal();
  CHECK(std::abs(sum / n) < 5 / std::sqrt(double{n}));
}

TEST_CASE("binomial draws follow the exact distribution in both regimes", "[random]") {
  // Pearson's chi-square against the exact pmf, over bins of expected count
  // >= 20 (tails pooled), below its mean plus 5 standard deviations
  // (dof + 5 sqrt(2 dof)); a wrong constant in BTRS moves it by thousands.
  struct Case {
    std::uint64_t n;
    double p;
  };
  for (const Case c : {Case{30, 0.1}, Case{1000, 0.3}, Case{200, 0.9}, Case{100000, 0.002},
                       Case{3000000, 0.5}, Case{50, 0.25}}) {
    RandomStream rng(5, 6, static_cast<std::uint32_t>(c.n));
    constexpr int kDraws = 200000;
    std::map<std::uint64_t, int> seen;
    double sum = 0;
    for (int i = 0; i < kDraws; ++i) {
      const std::uint64_t k = rng.binomial(c.n, c.p);
      REQUIRE(k <= c.n);
      ++seen[k];
      sum += static_cast<double>(k);
    }
    const double mean = static_cast<double>(c.n) * c.p;
    const double sd = std::sqrt(mean * (1 - c.p));
    CHECK(std::abs(sum / kDraws - mean) < 5 * sd / std::sqrt(double{kDraws}));
    auto pmf = [&](double k) {
      const double n = static_cast<double>(c.n);
      return std::exp(std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1) +
                      k * std::log(c.p) + (n - k) * std::log1p(-c.p));
    };
    const auto lo = static_cast<std::uint64_t>(std::max(0.0, mean - 8 * sd));
    const auto hi = std::min<std::uint64_t>(c.n, static_cast<std::uint64_t>(mean + 8 * sd) + 1);
    double chi2 = 0, exp_bin = 0, obs_bin = 0;
    int bins = 0;
    for (std::uint64_t k = lo; k <= hi; ++k) {
      exp_bin += kDraws * pmf(static_cast<double>(k));
      obs_bin += seen.count(k) ? seen[k] : 0;
      if (exp_bin >= 20 || k == hi) {
        chi2 += (obs_bin - exp_bin) * (obs_bin - exp_bin) / std::max(exp_bin, 1.0);
        ++bins;
        exp_bin = obs_bin = 0;
      }
    }
    INFO("n = " << c.n << ", p = " << c.p << ", bins = " << bins);
    CHECK(bins >= 5);
    CHECK(chi2 < bins + 5 * std::sqrt(2.0 * bins) + 10);
  }
}

TEST_CASE("a random stream checkpointed mid-block, after normal draws, continues exactly",
          "[random][checkpoint]") {
  for (int consumed = 0; consumed < 9; ++consumed) {
    RandomStream a(11, 3, 7);
    for (int i = 0; i < consumed; ++i) a.next_u32();
    for (int i = 0; i < 3; ++i) a.normal();
    MemoryArchive saved;
    a.checkpoint(saved);
    saved.set_loading(true);
    RandomStream b(11, 3, 7);
    b.checkpoint(saved);
    INFO("numbers consumed before: " << consumed);
    for (int i = 0; i < 5; ++i) CHECK(a.normal() == b.normal());
    for (int i = 0; i < 9; ++i) CHECK(a.next_u32() == b.next_u32());
  }
}

TEST_CASE("an archive refuses a name that is both a field and a scope", "[checkpoint]") {
  MemoryArchive a;
  std::uint64_t x = 1;
  a.value("sim/partitions", x);
  CHECK_THROWS_WITH(a.value("sim/partitions/0/now", x),
                    Catch::Contains("'sim/partitions/0/now' lies inside field 'sim/partitions'"));
  a.value("sim/queue/step", x);
  CHECK_THROWS_WITH(a.value("sim/queue", x), Catch::Contains("also the scope of field"));
  CHECK_THROWS_WITH(a.value("sim/queue/step", x), Catch::Contains("saved twice"));
  CHECK_NOTHROW(a.value("sim/queue2", x));
}

TEST_CASE("uniform_per_entity equals each entity's own stream, bit for bit", "[random]") {
  // Seeds and counters wider than 32 bits, entity ranges that wrap, and odd
  // lengths (the vector loop's remainder).
  const std::uint64_t seeds[] = {0, 1, 0x123456789abcdefULL};
  const std::uint64_t counters[] = {0, 77, (1ULL << 32) + 5};
  const std::uint32_t firsts[] = {0, 1000, 0xfffffff0u};
  for (const auto seed : seeds) {
    for (const auto counter : counters) {
      for (const auto first : firsts) {
        std::vector<double> out(37);
        uniform_per_entity(seed, stream_id(StreamKind::model_noise, 3), first, counter, out.size(),
                           out.data());
        for (std::uint32_t j = 0; j < out.size(); ++j) {
          RandomStream r(seed, stream_id(StreamKind::model_noise, 3), first + j, counter);
          CHECK(out[j] == r.uniform());
        }
      }
    }
  }
}

TEST_CASE("an injected current starts to act in the step after its onset", "[stimulus]") {
  // iaf_psc_delta at rest with E_L = 0: V stays exactly 0 until the current
  // starts at 10 ms, then follows V(t) = I tau/C (1 - exp(-(t - 10 ms)/tau)).
  Network net(TimeGrid(0.1), 1);
  const auto q = add(
      net, "n", "iaf_psc_delta", 1,
      params({{"E_L", 0.0}, {"V_reset", 0.0}, {"V_th", 1000.0}, {"tau_m", 10.0}, {"C_m", 250.0}}));
  net.add_stimulus({"dc", q, {}, {{100, 500.0}, {200, -500.0}}, {}});
  net.add_probe({q, {0}, {0}, 1, 1});
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  sim.run_until(300, c);
  std::vector<float> v;
  for (const auto& f : c.frames) v.insert(v.end(), f.begin(), f.end());
  REQUIRE(v.size() == 300);
  CHECK(v[99] == 0.0f);  // step 100: the current starts at 10 ms, not yet integrated
  const double tau = 10.0, R = tau / 250.0 * 500.0;  // mV
  for (int k = 1; k <= 100; ++k) {
    INFO("step " << 100 + k);
    CHECK(v[99 + k] == Approx(R * (1 - std::exp(-0.1 * k / tau))).epsilon(1e-6));
  }
  CHECK(v[299] < v[199]);  // after the current stops, V decays
}

TEST_CASE("a current schedule changed between pieces: the current now, the changes to come",
          "[stimulus]") {
  // iaf_psc_delta with E_L = 0, never firing: V follows the current I as
  // V(t) = I R + (V(t0) - I R) exp(-(t - t0) / tau), R = tau / C.
  Network net(TimeGrid(0.1), 1);
  const auto q = add(
      net, "n", "iaf_psc_delta", 1,
      params({{"E_L", 0.0}, {"V_reset", 0.0}, {"V_th", 1000.0}, {"tau_m", 10.0}, {"C_m", 250.0}}));
  net.add_stimulus({"dc", q, {}, {{0, 500.0}, {200, -500.0}}, {}});
  net.add_probe({q, {0}, {0}, 1, 1});
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  sim.run_until(100, c);
  // Now: 250 pA from step 0 (so at once), off at step 150; the old stop at
  // step 200 is voided.
  sim.set_stimulus_changes(0, {{0, 250.0}, {150, -250.0}});
  sim.run_until(250, c);
  std::vector<float> v;
  for (const auto& f : c.frames) v.insert(v.end(), f.begin(), f.end());
  REQUIRE(v.size() == 250);
  const double tau = 10.0, R = tau / 250.0;
  const double v100 = 500.0 * R * (1 - std::exp(-10.0 / tau));
  CHECK(v[99] == Approx(v100).epsilon(1e-6));
  const double v150 = 250.0 * R + (v100 - 250.0 * R) * std::exp(-5.0 / tau);
  CHECK(v[149] == Approx(v150).epsilon(1e-6));
  CHECK(v[249] == Approx(v150 * std::exp(-10.0 / tau)).epsilon(1e-6));  // off from step 150
}

TEST_CASE("a population replaced between pieces keeps its state", "[stimulus]") {
  Network net(TimeGrid(0.1), 1);
  const auto g = add(net, "g", "poisson_generator", 2, params({{"rate", 10.0}}));
  const auto q = add(net, "n", "iaf_psc_exp", 2, params({{"I_e", 300.0}, {"V_th", 1000.0}}));
  (void)g;
  Simulator sim(std::move(net), SimulationOptions{});
  Collector c;
  sim.run_until(10, c);
  const double v = sim.network().populations()[q].population->state(0, 0, 10);
  CHECK(v > -70.0);
  const ParamMap p = params({{"I_e", 0.0}, {"V_th", 1000.0}});
  const auto& m = registry().get("iaf_psc_exp", "test");
  sim.replace_population(q, m.make_population({"n", 2, p, sim.grid(), 1, q}));
  CHECK(sim.network().populations()[q].population->state(0, 0, 10) == v);
  // Generators take over instead (test_generator_changes.cpp).
}

TEST_CASE("a probe from step 0: probe_frame gives the initial state, run_until the rest",
          "[probe]") {
  // iaf_psc_delta without input relaxes to E_L = 0: V(t) = V(0) exp(-t / tau).
  Network net(TimeGrid(0.1), 1);
  const auto q = add(net, "n", "iaf_psc_delta", 3,
                     params({{"E_L", 0.0}, {"V_reset", 0.0}, {"V_th", 1000.0}, {"tau_m", 10.0}}));
  const double v0[] = {1.0, 2.0, 4.0};
  for (NeuronIndex i = 0; i < 3; ++i) net.populations()[q].population->set_state(0, i, v0[i]);
  CHECK_THROWS_WITH(net.add_probe({q, {0}, {0}, -1, 1}), Contains("got start -1"));
  CHECK_THROWS_WITH(net.add_probe({q, {0}, {0}, 10, 1, 5}), Contains("got start 10, stop 5"));
  net.add_probe({q, {0}, {2, 0}, 0, 5, 20});  // steps 0, 5, 10, 15, 20; nodes 2 and 0
  Simulator sim(std::move(net), SimulationOptions{});
  CHECK(sim.probe_frame(0) == std::vector<float>{4.0f, 1.0f});
  CHECK_THROWS_WITH(sim.probe_frame(1), Contains("no probe 1"));
  Collector c;
  sim.run_until(30, c);
  std::vector<float> v;
  for (const auto& f : c.frames) v.insert(v.end(), f.begin(), f.end());
  REQUIRE(v.size() == 8);  // steps 5, 10, 15, 20: step 0 is probe_frame's
  for (int k = 1; k <= 4; ++k) {
    INFO("step " << 5 * k);
    const double decay = std::exp(-0.5 * k / 10.0);
    CHECK(v[2 * (k - 1)] == Approx(4.0 * decay).epsilon(1e-6));
    CHECK(v[2 * (k - 1) + 1] == Approx(1.0 * decay).epsilon(1e-6));
  }
  // Later, as of now(), without changing the run.
  const auto late = sim.probe_frame(0);
  REQUIRE(late.size() == 2);
  CHECK(late[0] == Approx(4.0 * std::exp(-0.3)).epsilon(1e-6));
  CHECK(late[1] == Approx(1.0 * std::exp(-0.3)).epsilon(1e-6));
}

TEST_CASE("the rate guard stops a runaway run with a clear message", "[guards]") {
  Network net(TimeGrid(0.1), 1);
  add(net, "noisy", "poisson_generator", 100, params({{"rate", 500.0}}));
  SimulationOptions opt;
  opt.max_rate_hz = 100;
  opt.guard_interval_ms = 50;
  Simulator sim(std::move(net), opt);
  Collector c;
  CHECK_THROWS_WITH(sim.run_until(10000, c),
                    Contains("population 'noisy'") && Contains("max_rate = 100 Hz"));
  CHECK(sim.now() <= 1000);  // stopped at the first guard interval, not at the end
}

TEST_CASE("a generator cannot receive synapses", "[validation]") {
  Network net(TimeGrid(0.1), 1);
  const auto g = add(net, "gen", "poisson_generator", 2, params({{"rate", 5.0}}));
  net.add_projection("bad", g, g, {{0, 1, 1.0f, 1}});
  CHECK_THROWS_WITH(Simulator(std::move(net), SimulationOptions{}),
                    Contains("projection 'bad'") && Contains("generator"));
}

TEST_CASE("a stop request ends the run at a window boundary", "[control]") {
  Network net(TimeGrid(0.1), 1);
  add(net, "gen", "poisson_generator", 10, params({{"rate", 5.0}}));
  Simulator sim(std::move(net), SimulationOptions{});
  struct Stopper : Collector {
    Simulator* sim = nullptr;
    void on_window(Step now) override {
      if (now >= 500) sim->request_stop();
    }
  } obs;
  obs.sim = &sim;
  CHECK_FALSE(sim.run_until(10000, obs));
  CHECK(sim.now() == 500);
}
