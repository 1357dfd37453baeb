// Weights and delays drawn by connect(): constants, distributions, bounds,
// the delay grid, and multi-tap connections.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "spikeline/engine/error.hpp"

#include "harness.hpp"

using namespace spikeline;
using namespace spikeline::test;
using Catch::Contains;

namespace {

const TimeGrid grid(0.1);

// 40000 synapses with the given weight spec (all_to_all 200 x 200).
std::vector<SynapseRecord> with_weight(const ValueSpec& w) {
  auto s = spec(Rule::all_to_all, "projection 'w'");
  s.weight = w;
  return run(s, 200, 200, false, grid);
}

// 10000 delays (all_to_all 100 x 100), in steps.
std::vector<std::uint32_t> with_delay(const ValueSpec& d, const TimeGrid& g = grid) {
  auto s = spec(Rule::all_to_all, "projection 'd'");
  s.delay = d;
  std::vector<std::uint32_t> out;
  for (const auto& x : run(s, 100, 100, false, g)) out.push_back(x.delay);
  return out;
}

void weight_error(const ValueSpec& w) {
  auto s = spec(Rule::all_to_all, "projection 'w'");
  s.weight = w;
  run(s, 3, 3, false, grid);
}

void delay_error(const ValueSpec& d) {
  auto s = spec(Rule::all_to_all, "projection 'd'");
  s.delay = d;
  run(s, 3, 3, false, grid);
}

std::size_t count_equal(const std::vector<double>& v, double x) {
  return static_cast<std::size_t>(std::count(v.begin(), v.end(), x));
}

}  // namespace

// ---------------------------------------------------------------- weights

TEST_CASE("constant weights", "[weights]") {
  for (const double w : {0.0, -3.25, 17.5}) {
    for (const auto& x : with_weight(ValueSpec::constant(w))) REQUIRE(x.weight == float(w));
  }
}

TEST_CASE("uniform weights stay in [low, high] with the right mean", "[weights]") {
  const double low = -2, high = 3;
  const auto w = weights(with_weight(ValueSpec::uniform(low, high)));
  for (const double x : w) REQUIRE((x >= low && x <= high));
  const auto m = moments(w);
  // 5 standard errors: a correct draw fails with probability ~6e-7.
  const double sd = (high - low) / std::sqrt(12.0);
  CHECK(std::abs(m.mean - 0.5 * (low + high)) < 5 * sd / std::sqrt(double(m.n)));
  // The sample sd of a uniform has standard error 0.45 sd / sqrt(n), below
  // the normal's sd / sqrt(2n) used here.
  CHECK(std::abs(m.sd - sd) < 5 * sd / std::sqrt(2.0 * double(m.n)));
  // Both halves used (not a constant at the midpoint).
  CHECK(*std::min_element(w.begin(), w.end()) < low + 0.01);
  CHECK(*std::max_element(w.begin(), w.end()) > high - 0.01);
}

TEST_CASE("normal weights have the given mean and standard deviation", "[weights]") {
  const double mu = 1.0, sigma = 0.5;
  const auto w = weights(with_weight(ValueSpec::normal(mu, sigma)));
  const auto m = moments(w);
  CAPTURE(m.mean, m.sd, m.n);
  // Standard errors: sigma / sqrt(n) for the mean, sigma / sqrt(2n) for the sd.
  CHECK(std::abs(m.mean - mu) < 5 * sigma / std::sqrt(double(m.n)));
  CHECK(std::abs(m.sd - sigma) < 5 * sigma / std::sqrt(2.0 * double(m.n)));
}

TEST_CASE("normal weights with clip bounds stay inside and pile up at the bounds", "[weights]") {
  const double mu = 1.0, sigma = 0.5, low = 0.5, high = 2.0;
  const auto w = weights(with_weight(ValueSpec::normal(mu, sigma, low, high)));
  for (const double x : w) REQUIRE((x >= low && x <= high));
  const double n = double(w.size());
  // The mass beyond each bound lands exactly on it: P(z < -1), P(z > 2).
  const double p_low = Phi((low - mu) / sigma), p_high = 1 - Phi((high - mu) / sigma);
  const double f_low = double(count_equal(w, low)) / n, f_high = double(count_equal(w, high)) / n;
  CAPTURE(p_low, f_low, p_high, f_high);
  CHECK(std::abs(f_low - p_low) < 5 * std::sqrt(p_low * (1 - p_low) / n));
  CHECK(std::abs(f_high - p_high) < 5 * std::sqrt(p_high * (1 - p_high) / n));
}

TEST_CASE("normal weights with redraw bounds stay inside with no mass at the bounds", "[weights]") {
  const double mu = 1.0, sigma = 0.5, low = 0.5, high = 2.0;
  const auto w =
      weights(with_weight(ValueSpec::normal(mu, sigma, low, high, ValueSpec::Bounds::redraw)));
  for (const double x : w) REQUIRE((x >= low && x <= high));
  CHECK(count_equal(w, low) == 0);
  CHECK(count_equal(w, high) == 0);
  // The mean of the truncated normal; its sd is below sigma, so 5 sigma /
  // sqrt(n) is a conservative bound.
  const double a = (low - mu) / sigma, b = (high - mu) / sigma;
  const double mean = mu + sigma * (phi(a) - phi(b)) / (Phi(b) - Phi(a));
  const auto m = moments(w);
  CAPTURE(mean, m.mean);
  CHECK(std::abs(m.mean - mean) < 5 * sigma / std::sqrt(double(m.n)));
}

TEST_CASE("redraw bounds that keep less than 1% of the mass are refused", "[weights]") {
  using B = ValueSpec::Bounds;
  // Mass above 2.4 sigma is 0.82%, above 2.3 sigma 1.07%.
  REQUIRE_THROWS_AS(weight_error(ValueSpec::normal(0, 1, 2.4, INFINITY, B::redraw)), ConfigError);
  REQUIRE_THROWS_WITH(weight_error(ValueSpec::normal(0, 1, 2.4, INFINITY, B::redraw)),
                      Contains("projection 'w' weight") && Contains("1%"));
  REQUIRE_THROWS_AS(weight_error(ValueSpec::normal(0, 1, 3, 10, B::redraw)), ConfigError);
  REQUIRE_NOTHROW(weight_error(ValueSpec::normal(0, 1, 2.3, INFINITY, B::redraw)));
  // Clipping such bounds is fine: the mass goes to the bound.
  REQUIRE_NOTHROW(weight_error(ValueSpec::normal(0, 1, 2.4, INFINITY, B::clip)));
}

TEST_CASE("invalid weight specs are refused, naming the item", "[weights]") {
  REQUIRE_THROWS_AS(weight_error(ValueSpec::normal(NAN, 1)), ConfigError);
  REQUIRE_THROWS_WITH(weight_error(ValueSpec::normal(NAN, 1)),
                      Contains("projection 'w' weight") && Contains("mean") && Contains("nan"));
  REQUIRE_THROWS_WITH(weight_error(ValueSpec::normal(0, -1)),
                      Contains("projection 'w' weight") && Contains("std = -1"));
  REQUIRE_THROWS_WITH(weight_error(ValueSpec::normal(0, NAN)),
                      Contains("projection 'w' weight") && Contains("nan"));
  REQUIRE_THROWS_WITH(weight_error(ValueSpec::uniform(3, 1)),
                      Contains("projection 'w' weight") && Contains("3") && Contains("1"));
  REQUIRE_THROWS_WITH(
      weight_error(ValueSpec::normal(0, 1, 2, 1)),
      Contains("projection 'w' weight") && Contains("low = 2") && Contains("high = 1"));
  REQUIRE_THROWS_WITH(weight_error(ValueSpec::uniform(NAN, 1)), Contains("projection 'w' weight"));
  REQUIRE_THROWS_AS(weight_error(ValueSpec::uniform(0, INFINITY)), ConfigError);
  REQUIRE_THROWS_WITH(weight_error(ValueSpec::constant(NAN)),
                      Contains("projection 'w' weight") && Contains("nan"));
  // A weight that overflows a float.
  REQUIRE_THROWS_WITH(weight_error(ValueSpec::constant(1e40)),
                      Contains("projection 'w' weight") && Contains("1e+40"));
}

// ---------------------------------------------------------------- delays

TEST_CASE("constant delays are whole numbers of steps or an error", "[delays]") {
  for (const auto d : with_delay(ValueSpec::constant(1.5))) REQUIRE(d == 15);
  for (const auto d : with_delay(ValueSpec::constant(0.3))) REQUIRE(d == 3);  // 0.3/0.1 = 2.9999...
  for (const auto d : with_delay(ValueSpec::constant(0.1))) REQUIRE(d == 1);
  REQUIRE_THROWS_AS(delay_error(ValueSpec::constant(0.15)), ConfigError);
  REQUIRE_THROWS_WITH(delay_error(ValueSpec::constant(0.15)), Contains("projection 'd' delay") &&
                                                                  Contains("0.15") &&
                                                                  Contains("not a whole number"));
  REQUIRE_THROWS_WITH(delay_error(ValueSpec::constant(0.05)),
                      Contains("projection 'd' delay") && Contains("shorter than one time step"));
  REQUIRE_THROWS_AS(delay_error(ValueSpec::constant(0)), ConfigError);
  REQUIRE_THROWS_AS(delay_error(ValueSpec::constant(-1)), ConfigError);
  REQUIRE_THROWS_AS(delay_error(ValueSpec::constant(NAN)), ConfigError);
}

TEST_CASE("uniform delays draw every grid point between the bounds, uniformly", "[delays]") {
  const auto d = with_delay(ValueSpec::uniform(1.0, 5.0));
  std::vector<std::size_t> hist(41, 0);
  for (const auto x : d) {
    REQUIRE((x >= 10 && x <= 50));
    ++hist[x - 10];
  }
  for (std::size_t k = 0; k < hist.size(); ++k) {
    CAPTURE(k + 10);
    CHECK(hist[k] > 0);
  }
  // 41 grid points, 10000 draws: chi-square with 40 dof at 1e-4.
  const double x2 = chi_square(hist, double(d.size()) / 41.0);
  CAPTURE(x2);
  CHECK(x2 < chi_square_bound(40));
  // Bounds must be on the grid themselves.
  REQUIRE_THROWS_WITH(delay_error(ValueSpec::uniform(1.05, 5.0)),
                      Contains("projection 'd' delay.low") && Contains("not a whole number"));
  REQUIRE_THROWS_WITH(delay_error(ValueSpec::uniform(1.0, 5.01)), Contains("delay.high"));
  REQUIRE_THROWS_AS(delay_error(ValueSpec::uniform(0.0, 1.0)), ConfigError);
  REQUIRE_THROWS_AS(delay_error(ValueSpec::uniform(2.0, 1.0)), ConfigError);
  // low == high is a constant.
  for (const auto x : with_delay(ValueSpec::uniform(0.5, 0.5))) REQUIRE(x == 5);
}

TEST_CASE("normal delays are rounded to the nearest grid point", "[delays]") {
  // normal(1.0 ms, 0.04 ms) at dt = 0.1: rounding gives 10 steps for
  // |x - 1| < 0.05, probability 2 Phi(1.25) - 1 = 0.789; truncation would
  // give 10 steps only for x >= 1, about half.
  const auto d = with_delay(ValueSpec::normal(1.0, 0.04));
  const double n = double(d.size());
  const double p10 = 2 * Phi(1.25) - 1;
  const double f10 = double(std::count(d.begin(), d.end(), 10u)) / n;
  CAPTURE(p10, f10);
  CHECK(std::abs(f10 - p10) < 5 * std::sqrt(p10 * (1 - p10) / n));
  const double p9 = Phi(-1.25);  // x < 0.95
  const double f9 = double(std::count(d.begin(), d.end(), 9u)) / n;
  CHECK(std::abs(f9 - p9) < 5 * std::sqrt(p9 * (1 - p9) / n));
  for (const auto x : d) REQUIRE((x >= 7 && x <= 13));
}

TEST_CASE("normal delays are never below one step", "[delays]") {
  // normal(0.2 ms, 1 ms): everything below 0.15 ms ends at 1 step (clipped
  // to dt, or rounded down to it): P = Phi(-0.05) = 0.480.
  const auto d = with_delay(ValueSpec::normal(0.2, 1.0));
  const double n = double(d.size());
  for (const auto x : d) REQUIRE(x >= 1);
  const double p1 = Phi(-0.05);
  const double f1 = double(std::count(d.begin(), d.end(), 1u)) / n;
  CAPTURE(p1, f1);
  CHECK(std::abs(f1 - p1) < 5 * std::sqrt(p1 * (1 - p1) / n));
  // Redraw bounds, too.
  for (const auto x :
       with_delay(ValueSpec::normal(0.5, 1.0, -INFINITY, 2.0, ValueSpec::Bounds::redraw))) {
    REQUIRE((x >= 1 && x <= 20));
  }
  // A high bound below one step cannot be met.
  REQUIRE_THROWS_AS(delay_error(ValueSpec::normal(1.0, 1.0, -INFINITY, 0.05)), ConfigError);
}

TEST_CASE("a normal delay beyond the longest delay is an error, never cut to it", "[delays]") {
  // The longest synaptic delay at dt = 0.1 ms: 2^20 steps, 104857.6 ms.
  // normal(100000 ms, 5000 ms) without a high bound: P(x > 104857.6) = 0.17,
  // so some of 10000 draws lie beyond it (they were clamped to 2^20 steps).
  const auto beyond = ValueSpec::normal(100000.0, 5000.0);
  REQUIRE_THROWS_AS(with_delay(beyond), ConfigError);
  REQUIRE_THROWS_WITH(with_delay(beyond),
                      Contains("projection 'd' delay: a draw from normal(mean = 100000 ms, std = "
                               "5000 ms) is 1") &&
                          Contains("longer than the longest synaptic delay, 1048576 steps") &&
                          Contains("valid delays are 0.1 to 104857.6 ms") &&
                          Contains("give the distribution a high bound"));
  REQUIRE_THROWS_AS(with_delay(ValueSpec::normal(100000.0, 5000.0, -INFINITY, INFINITY,
                                                 ValueSpec::Bounds::redraw)),
                    ConfigError);
  // A mean beyond it is refused before anything is drawn (validate sees it).
  REQUIRE_THROWS_WITH(delay_error(ValueSpec::normal(200000.0, 1.0)),
                      Contains("projection 'd' delay: mean = 200000 ms is longer than the longest "
                               "synaptic delay"));
  // With a high bound the draws are the user's to bound: clipped or redrawn.
  for (const auto x : with_delay(ValueSpec::normal(100000.0, 5000.0, -INFINITY, 104000.0))) {
    REQUIRE(x <= 1040000u);
  }
  for (const auto x : with_delay(
           ValueSpec::normal(100000.0, 5000.0, -INFINITY, 104857.6, ValueSpec::Bounds::redraw))) {
    REQUIRE(x <= (1u << 20));
  }
}

TEST_CASE("normal delays are rounded to the nearest grid point inside the bounds", "[delays]") {
  // Bounds [0.12, 0.38] ms hold the grid points 0.2 and 0.3: a draw of
  // 0.12 .. 0.25 ms becomes 2 steps, 0.25 .. 0.38 ms 3 steps, never 1 or 4.
  std::set<std::uint32_t> seen;
  for (const auto x : with_delay(ValueSpec::normal(0.25, 1.0, 0.12, 0.38))) seen.insert(x);
  REQUIRE(seen == std::set<std::uint32_t>{2, 3});
}

// ---------------------------------------------------------------- multi-tap

TEST_CASE("multi-tap: every pair gets one synapse per tap, delays d0 .. d0 + D - 1", "[taps]") {
  const TimeGrid ms(1.0);
  auto s = spec(Rule::all_to_all, "projection 'wm'");
  s.taps = 41;
  s.delay = ValueSpec::constant(1.0);
  s.weight = ValueSpec::normal(0, 1);
  const auto r = run(s, 3, 4, false, ms);
  REQUIRE(r.size() == 12 * 41);
  std::map<std::pair<NeuronIndex, NeuronIndex>, std::vector<SynapseRecord>> by_pair;
  for (const auto& x : r) by_pair[{x.source, x.target}].push_back(x);
  REQUIRE(by_pair.size() == 12);
  std::vector<double> all;
  for (const auto& [p, taps] : by_pair) {
    REQUIRE(taps.size() == 41);
    std::set<std::uint32_t> delays;
    std::set<float> w;
    for (const auto& x : taps) {
      delays.insert(x.delay);
      w.insert(x.weight);
      all.push_back(x.weight);
    }
    CHECK(delays.size() == 41);
    CHECK(*delays.begin() == 1);
    CHECK(*delays.rbegin() == 41);
    // Independent normal draws: 41 distinct values (a float collision has
    // probability ~1e-5 here).
    CHECK(w.size() >= 40);
  }
  // The tap weights have the distribution's spread, not one draw repeated.
  const auto m = moments(all);
  CHECK(std::abs(m.sd - 1.0) < 0.2);

  // Constant weight, first delay 3 ms: 3 .. 43.
  s.weight = ValueSpec::constant(0.25);
  s.delay = ValueSpec::constant(3.0);
  for (const auto& x : run(s, 2, 2, false, ms)) {
    REQUIRE(x.weight == 0.25f);
    REQUIRE((x.delay >= 3 && x.delay <= 43));
  }
}

TEST_CASE("multi-tap with a random rule: K pairs per target, 41 taps each", "[taps]") {
  const TimeGrid ms(1.0);
  auto s = spec(Rule::fixed_indegree, "projection 'wm'");
  s.indegree = 5;
  s.multapses = false;
  s.taps = 41;
  s.delay = ValueSpec::constant(1.0);
  s.weight = ValueSpec::uniform(0, 1);
  const auto r = run(s, 20, 10, false, ms);
  REQUIRE(r.size() == 10 * 5 * 41);
  for (const auto n : per_target(r, 10)) CHECK(n == 5 * 41);
  for (const auto& [p, n] : pair_counts(r)) CHECK(n == 41);
}

TEST_CASE("multi-tap errors", "[taps]") {
  const TimeGrid ms(1.0);
  auto s = spec(Rule::all_to_all, "projection 'wm'");
  s.taps = 41;
  s.delay = ValueSpec::uniform(1.0, 3.0);
  REQUIRE_THROWS_AS(run(s, 2, 2, false, ms), ConfigError);
  REQUIRE_THROWS_WITH(run(s, 2, 2, false, ms),
                      Contains("projection 'wm'") && Contains("taps = 41") && Contains("constant"));
  s.delay = ValueSpec::normal(2.0, 0.5);
  REQUIRE_THROWS_AS(run(s, 2, 2, false, ms), ConfigError);
  s.delay = ValueSpec::constant(1.0);
  s.taps = 0;
  REQUIRE_THROWS_AS(run(s, 2, 2, false, ms), ConfigError);
  REQUIRE_THROWS_WITH(run(s, 2, 2, false, ms), Contains("projection 'wm'") && Contains("taps = 0"));
  s.taps = 4097;
  REQUIRE_THROWS_WITH(run(s, 2, 2, false, ms), Contains("taps = 4097"));
  s.taps = 4096;
  CHECK(run(s, 1, 1, false, ms).size() == 4096);
}
