// Per-neuron parameters from a config (issue 19): the draws of a
// distribution (their statistics, their streams), arrays, and the errors
// found before a run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "spikeline/engine/error.hpp"
#include "spikeline/io/build.hpp"
#include "spikeline/io/config.hpp"
#include "spikeline/neurons/builtin.hpp"

using namespace spikeline;

namespace {

io::Config config(const std::string& populations, std::uint64_t seed = 1) {
  return io::parse_config("[simulation]\ndt = 0.1\nduration = 10.0\nseed = " +
                              std::to_string(seed) + "\n\n" + populations,
                          "het.toml");
}

Registry registry() {
  Registry r;
  register_builtin_models(r);
  return r;
}

std::string validation_error(const std::string& populations) {
  try {
    io::validate_config(config(populations), registry());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

double mean_of(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double sd_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (const double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

const char* kPopulation = R"(
[[population]]
name = "a"
model = "iaf_psc_exp"
size = 3
params = { I_e = 100.0 }

[[population]]
name = "p"
model = "iaf_psc_exp"
size = 40000
params = { V_th = { distribution = "normal", mean = -55.0, std = 2.0 }, E_L = { distribution = "uniform", low = -75.0, high = -65.0 }, V_reset = { distribution = "normal", mean = -70.0, std = 2.0, low = -73.0, high = -67.0 }, C_m = [%s] }
)";

std::string population_text(std::uint64_t n = 40000) {
  std::string cm;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (i) cm += ", ";
    cm += std::to_string(200 + i % 100);
  }
  // Spliced with append rather than replace(): GCC 12 reports a false
  // -Wrestrict overlap in the inlined replace (GCC PR 105651).
  const std::string t = kPopulation;
  const auto at = t.find("%s");
  std::string out = t.substr(0, at);
  out.append(cm).append(t, at + 2);
  return out;
}

}  // namespace

TEST_CASE("drawn parameters have the distribution's mean and spread", "[heterogeneous][config]") {
  // 40,000 draws. The sample mean of N(mu, s) has standard error s / sqrt(n)
  // (0.01 mV here), the sample standard deviation about s / sqrt(2 n)
  // (0.007 mV); U(lo, hi) has mean (lo + hi) / 2 and sd (hi - lo) / sqrt(12),
  // whose estimates have standard errors 0.014 and 0.006 mV. The tolerances
  // are 5 standard errors: a correct sampler fails with probability below
  // 1e-6 per check (and the draws are fixed by the seed, so a pass is
  // reproducible, not luck that changes run to run).
  const auto c = config(population_text());
  const ParamMap p = io::population_params(c, 1);
  const auto V_th = p.list("V_th");
  const auto E_L = p.list("E_L");
  const auto V_reset = p.list("V_reset");
  REQUIRE(V_th.size() == 40000);
  const double n = 40000;
  CHECK(std::abs(mean_of(V_th) + 55.0) <= 5 * 2.0 / std::sqrt(n));
  CHECK(std::abs(sd_of(V_th) - 2.0) <= 5 * 2.0 / std::sqrt(2 * n));
  CHECK(std::abs(mean_of(E_L) + 70.0) <= 5 * (10 / std::sqrt(12.0)) / std::sqrt(n));
  // The sample sd of U(lo, hi) has standard error (hi - lo) sqrt(1/80 - 1/144)
  // sqrt(3) / sqrt(n) = 0.129 (hi - lo) / sqrt(n) (delta method on the variance).
  CHECK(std::abs(sd_of(E_L) - 10 / std::sqrt(12.0)) <= 5 * 0.129 * 10 / std::sqrt(n));
  CHECK(*std::min_element(E_L.begin(), E_L.end()) >= -75.0);
  CHECK(*std::max_element(E_L.begin(), E_L.end()) <= -65.0);
  // Clipped normal: within its bounds, P(Z < -1.5) = 6.68% of the draws at each.
  CHECK(*std::min_element(V_reset.begin(), V_reset.end()) == -73.0);
  CHECK(*std::max_element(V_reset.begin(), V_reset.end()) == -67.0);
  const auto at_low = std::count(V_reset.begin(), V_reset.end(), -73.0);
  CHECK(std::abs(static_cast<double>(at_low) / n - 0.0668) <= 5 * std::sqrt(0.0668 * 0.9332 / n));
  // The array form is kept as given; the other population is untouched.
  CHECK(p.list("C_m")[12345] == 245.0);
  CHECK(io::population_params(c, 0).number("I_e", 0) == 100.0);
}

TEST_CASE("drawn parameters come from their own streams", "[heterogeneous][config]") {
  const std::string two = R"(
[[population]]
name = "x"
model = "iaf_psc_exp"
size = 1000
params = { V_th = { distribution = "normal", mean = -55.0, std = 2.0 }, E_L = { distribution = "normal", mean = -55.0, std = 2.0 } }

[[population]]
name = "y"
model = "iaf_psc_exp"
size = 1000
params = { V_th = { distribution = "normal", mean = -55.0, std = 2.0 } }
)";
  const auto c = config(two, 1);
  const auto x = io::population_params(c, 0), y = io::population_params(c, 1);
  // Two parameters of one population, and one parameter of two populations,
  // draw different numbers.
  CHECK(x.list("V_th") != x.list("E_L"));
  CHECK(x.list("V_th") != y.list("V_th"));
  // The same seed draws the same; another seed others.
  CHECK(io::population_params(config(two, 1), 0).list("V_th") == x.list("V_th"));
  CHECK(io::population_params(config(two, 2), 0).list("V_th") != x.list("V_th"));
  // A neuron's value depends on its id only, not on the population's size
  // or on the parameters beside it: the first 10 neurons of a population of
  // 10 with V_th alone draw what neurons 0..9 of x draw.
  const std::string small = R"(
[[population]]
name = "x"
model = "iaf_psc_exp"
size = 10
params = { V_th = { distribution = "normal", mean = -55.0, std = 2.0 } }
)";
  const auto s = io::population_params(config(small, 1), 0).list("V_th");
  const auto all = x.list("V_th");
  CHECK(s == std::vector<double>(all.begin(), all.begin() + 10));
}

TEST_CASE("per-neuron values: config errors", "[heterogeneous][config][errors]") {
  // A distribution for a parameter the model does not let vary.
  CHECK(validation_error(R"(
[[population]]
name = "g"
model = "poisson_generator"
size = 2
params = { rate = 5.0, start = { distribution = "uniform", low = 0.0, high = 1.0 } }
)") == "population 'g' (poisson_generator) parameter start cannot vary per neuron (an array or a "
       "distribution was given): it must be one number; parameters that can: rate");
  // An invalid distribution: the file, line and key.
  CHECK(validation_error(R"(
[[population]]
name = "p"
model = "iaf_psc_exp"
size = 2
params = { V_th = { distribution = "uniform", low = -50.0, high = -60.0 } }
)") == "het.toml:11: population 'p' (iaf_psc_exp) params.V_th: uniform low = -50 must not "
       "exceed high = -60");
  // A per-neuron value where none is allowed: a stimulus's parameters.
  CHECK_THAT(validation_error(R"(
[[population]]
name = "p"
model = "iaf_psc_exp"
size = 2

[[stimulus]]
name = "s"
model = "dc_generator"
target = "p"
params = { amplitude = { distribution = "uniform", low = 0.0, high = 1.0 } }
)"),
             Catch::Contains("stimulus 's' (dc_generator) parameter amplitude must be a number, "
                             "a string, or an array"));
  // An unknown parameter given as a distribution: the did-you-mean.
  CHECK_THAT(validation_error(R"(
[[population]]
name = "p"
model = "iaf_psc_exp"
size = 2
params = { V_thr = { distribution = "uniform", low = -60.0, high = -50.0 } }
)"),
             Catch::Contains("V_thr") && Catch::Contains("V_th"));
}
