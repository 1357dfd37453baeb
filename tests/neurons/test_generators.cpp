#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <stdlib.h>
#include <unistd.h>

#include "spikeline/engine/error.hpp"

#include "harness.hpp"

using namespace spikeline;
using Catch::Contains;

namespace {

// All spikes of generator neuron i before `until` (in call order).
std::vector<Step> drain(Population& g, NeuronIndex i, Step until) {
  std::vector<Step> out;
  for (Step s = g.next_spike(i); s != kNever && s <= until; s = g.next_spike(i)) out.push_back(s);
  return out;
}

ParamMap poisson(double rate, double start = 0, double stop = INFINITY) {
  auto p = test::params("poisson_generator");
  p.set("rate", rate);
  p.set("start", start);
  if (std::isfinite(stop)) p.set("stop", stop);
  return p;
}

std::string temp_file(const std::string& name, const std::string& text) {
  std::string path = "/tmp/spikeline_test_XXXXXX_" + name;
  const int fd = mkstemps(path.data(), static_cast<int>(name.size() + 1));
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("poisson_generator: mean count matches rate * T", "[poisson_generator]") {
  const TimeGrid grid(0.1);
  const std::size_t n = 1000;
  const double rate = 20, T_ms = 10000;  // 10 s
  auto g = test::make("poisson_generator", poisson(rate), grid, n, 11);
  REQUIRE(g->preferred_mode() == UpdateMode::scheduled);
  std::size_t count = 0;
  std::size_t same_step = 0;
  for (NeuronIndex i = 0; i < n; ++i) {
    const auto s = drain(*g, i, static_cast<Step>(T_ms / 0.1));
    REQUIRE(std::is_sorted(s.begin(), s.end()));
    for (std::size_t k = 1; k < s.size(); ++k) same_step += s[k] == s[k - 1];
    REQUIRE((s.empty() || s.front() >= 1));
    count += s.size();
  }
  // The total is Poisson with mean N rate T = 200,000, sd = 447. A 4-sigma
  // two-sided band fails by chance with probability 6e-5 (normal tails):
  // rare enough never to be a flaky test, tight enough to catch a rate off by 1 %.
  const double mean = n * rate * T_ms * 1e-3;
  REQUIRE(std::abs(static_cast<double>(count) - mean) <= 4 * std::sqrt(mean));
  // Several spikes can share a step: expected about N T/dt (rate dt)^2 / 2 = 200 pairs.
  REQUIRE(same_step > 100);
}

TEST_CASE("poisson_generator: spikes only within the active window", "[poisson_generator]") {
  const TimeGrid grid(0.1);
  auto g = test::make("poisson_generator", poisson(200, 100, 300), grid, 200, 3);
  std::size_t count = 0;
  for (NeuronIndex i = 0; i < 200; ++i) {
    const auto s = drain(*g, i, kNever - 1);  // everything it ever emits
    for (const Step k : s) {
      // Times in (start, stop]: steps 1001 .. 3000.
      REQUIRE(k >= 1001);
      REQUIRE(k <= 3000);
    }
    count += s.size();
  }
  const double mean = 200 * 200 * 0.2;  // 8,000
  REQUIRE(std::abs(static_cast<double>(count) - mean) <= 4 * std::sqrt(mean));
  auto silent = test::make("poisson_generator", poisson(0), grid, 3, 3);
  REQUIRE(silent->next_spike(0) == kNever);
}

TEST_CASE("poisson_generator: deterministic per seed, independent of call order",
          "[poisson_generator]") {
  const TimeGrid grid(0.1);
  const Step until = 20000;
  auto a = test::make("poisson_generator", poisson(50), grid, 10, 5);
  auto b = test::make("poisson_generator", poisson(50), grid, 10, 5);
  auto c = test::make("poisson_generator", poisson(50), grid, 10, 6);
  auto d = test::make("poisson_generator", poisson(50), grid, 10, 5, /*index=*/1);
  // b is asked neuron by neuron in reverse, a interleaved one spike at a time.
  std::vector<std::vector<Step>> sa(10), sb(10);
  for (NeuronIndex i = 10; i-- > 0;) sb[i] = drain(*b, i, until);
  bool more = true;
  while (more) {
    more = false;
    for (NeuronIndex i = 0; i < 10; ++i) {
      if (!sa[i].empty() && sa[i].back() > until) continue;
      const Step s = a->next_spike(i);
      sa[i].push_back(s);
      more = more || s <= until;
    }
  }
  for (auto& s : sa) s.pop_back();  // the first spike after `until`
  REQUIRE(sa == sb);
  REQUIRE(drain(*c, 0, until) != sb[0]);
  REQUIRE(drain(*d, 0, until) != sb[0]);
  REQUIRE(sb[0] != sb[1]);
}

TEST_CASE("spike_generator: emits exactly the given steps", "[spike_generator]") {
  const TimeGrid grid(0.1);
  SECTION("one list for all neurons") {
    auto p = test::params("spike_generator");
    p.set("spike_times", std::vector<double>{0.1, 0.3, 0.3, 2.5});
    auto g = test::make("spike_generator", p, grid, 3);
    for (NeuronIndex i = 0; i < 3; ++i) {
      REQUIRE(drain(*g, i, kNever - 1) == std::vector<Step>{1, 3, 3, 25});
    }
    REQUIRE(g->next_spike(0) == kNever);
  }
  SECTION("one list per neuron") {
    auto p = test::params("spike_generator");
    p.set("spike_times", std::vector<std::vector<double>>{{1.0, 2.0}, {}, {0.7}});
    auto g = test::make("spike_generator", p, grid, 3);
    REQUIRE(drain(*g, 0, kNever - 1) == std::vector<Step>{10, 20});
    REQUIRE(drain(*g, 1, kNever - 1).empty());
    REQUIRE(drain(*g, 2, kNever - 1) == std::vector<Step>{7});
  }
  SECTION("from a file") {
    const auto path =
        temp_file("spikes.txt", "# node time\n0 1.5\n2 0.2  # comment\n\n0 1.5\n0 3\n");
    auto p = test::params("spike_generator");
    p.set("spike_times_file", path);
    auto g = test::make("spike_generator", p, grid, 3);
    REQUIRE(drain(*g, 0, kNever - 1) == std::vector<Step>{15, 15, 30});
    REQUIRE(drain(*g, 1, kNever - 1).empty());
    REQUIRE(drain(*g, 2, kNever - 1) == std::vector<Step>{2});
    std::remove(path.c_str());
  }
}

TEST_CASE("spike_generator: bad times are errors naming the value", "[spike_generator]") {
  const TimeGrid grid(0.1);
  auto with = [&](std::vector<std::vector<double>> times) {
    auto p = test::params("spike_generator");
    p.set("spike_times", std::move(times));
    return test::make("spike_generator", p, grid, 2);
  };
  REQUIRE_THROWS_AS(with({{1.0, 1.05}, {}}), ConfigError);
  REQUIRE_THROWS_WITH(with({{1.0, 1.05}, {}}),
                      Contains("spike_times[0][1] = 1.05 ms") && Contains("whole number"));
  REQUIRE_THROWS_AS(with({{}, {3.0, 2.0}}), ConfigError);
  REQUIRE_THROWS_WITH(with({{}, {3.0, 2.0}}),
                      Contains("spike_times[1][1] = 2 ms") && Contains("sorted"));
  REQUIRE_THROWS_AS(with({{-1.0}}), ConfigError);
  REQUIRE_THROWS_WITH(with({{-1.0}}), Contains("spike_times[0] = -1 ms"));
  REQUIRE_THROWS_WITH(with({{0.0}}), Contains("= 0 ms") && Contains(">= dt"));
  REQUIRE_THROWS_WITH(with({{NAN}}), Contains("nan"));
  REQUIRE_THROWS_WITH(with({{1.0}, {2.0}, {3.0}}), Contains("3 lists") && Contains("2 neurons"));
}

TEST_CASE("spike_generator: file errors name the file and line", "[spike_generator]") {
  const TimeGrid grid(0.1);
  auto with_file = [&](const std::string& path) {
    auto p = test::params("spike_generator");
    p.set("spike_times_file", path);
    return test::make("spike_generator", p, grid, 2);
  };
  try {
    with_file("/nonexistent/spikes.txt");
    FAIL("no error for a missing file");
  } catch (const Error& e) {
    REQUIRE(e.code() == ExitCode::no_input);
    REQUIRE_THAT(e.what(), Contains("/nonexistent/spikes.txt"));
  }
  struct Bad {
    const char* text;
    const char* message;
  };
  for (const Bad bad :
       {Bad{"0 1.0\n1 x\n", "line 2"}, Bad{"0 1.0\n\n5 2.0\n", "node_id 5"},
        Bad{"0 1.0\n0 0.5\n", "sorted"}, Bad{"0 1.04\n", "1.04"}, Bad{"0 1.0 7\n", "line 1"}}) {
    CAPTURE(bad.text);
    const auto path = temp_file("bad.txt", bad.text);
    REQUIRE_THROWS_AS(with_file(path), DataError);
    REQUIRE_THROWS_WITH(with_file(path), Contains(path) && Contains(bad.message));
    std::remove(path.c_str());
  }
  auto p = test::params("spike_generator");
  p.set("spike_times_file", std::string("x.txt"));
  p.set("spike_times", 1.0);
  REQUIRE_THROWS_AS(test::make("spike_generator", p, grid, 2), ConfigError);
}

TEST_CASE("dc_generator: current changes at start and stop", "[dc_generator]") {
  const TimeGrid grid(0.1);
  const Registry registry = test::builtin_registry();
  const auto& info = registry.get("dc_generator", "test");
  REQUIRE(info.kind == ModelKind::stimulus);
  auto p = test::params("dc_generator");
  p.set("amplitude", 120.0);
  p.set("start", 5.0);
  p.set("stop", 7.5);
  const auto changes = info.make_stimulus(p, grid);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].step == 50);
  CHECK(changes[0].delta_pA == 120.0);
  CHECK(changes[1].step == 75);
  CHECK(changes[1].delta_pA == -120.0);

  auto forever = test::params("dc_generator");
  forever.set("amplitude", -3.0);
  const auto one = info.make_stimulus(forever, grid);
  REQUIRE(one.size() == 1);
  CHECK(one[0].step == 0);
  CHECK(one[0].delta_pA == -3.0);

  auto bad = test::params("dc_generator");
  bad.set("start", 5.0);
  bad.set("stop", 5.0);
  REQUIRE_THROWS_WITH(info.make_stimulus(bad, grid), Contains("start = 5") && Contains("stop"));
  bad.set("stop", 5.05);
  REQUIRE_THROWS_WITH(info.make_stimulus(bad, grid), Contains("stop = 5.05"));
  auto nan = test::params("dc_generator");
  nan.set("amplitude", NAN);
  REQUIRE_THROWS_WITH(info.make_stimulus(nan, grid), Contains("amplitude = nan"));
}
