// Current devices from a plugin (ABI 1.6): tests/plugin/plugins/devices.cpp
// loaded into a Registry, its waves called as the simulator calls them:
// exact currents, the stream contract (white_noise draws what the built-in
// noise_current draws), required parameters, times off the grid and a
// device that fails, each named.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/neurons/builtin.hpp"
#include "spikeline/plugin/loader.hpp"

using namespace spikeline;
using Catch::Contains;

namespace {

std::string devices_plugin() {
  return std::string(SPIKELINE_TEST_PLUGIN_DIR) + "/libtest_plugin_devices.so";
}

Registry with_devices() {
  Registry r;
  register_builtin_models(r);
  plugin::load_plugin(devices_plugin(), r);
  return r;
}

ParamMap params(const std::string& model,
                std::initializer_list<std::pair<const char*, double>> kv) {
  ParamMap p(fmt::format("stimulus 'dev' ({})", model));
  for (const auto& [k, v] : kv) p.set(k, v);
  return p;
}

// The current of steps 1..T into neurons `neurons` of a population of n:
// [t - 1][i], as the simulator adds it.
std::vector<std::vector<double>> currents(const CurrentWave& w, std::size_t n,
                                          const std::vector<NeuronIndex>& neurons, Step T) {
  std::vector<std::vector<double>> out;
  for (Step t = 1; t <= T; ++t) {
    std::vector<double> c(n, 0.0);
    w.add(t, neurons, c.data());
    out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("A plugin's current device is a stimulus model with its origin and parameters") {
  const Registry r = with_devices();
  const ModelInfo& m = r.get("ramp_current", "test");
  CHECK(m.kind == ModelKind::stimulus);
  CHECK(m.origin == devices_plugin());
  CHECK(m.provenance ==
        fmt::format("plugin 'devices' version 1.0, ABI 1.{}", SPIKELINE_PLUGIN_ABI_MINOR));
  REQUIRE(m.params.size() == 2);
  CHECK(m.params[0].name == "slope");
  CHECK(m.params[0].required);
  CHECK(m.params[1].name == "start");
  CHECK(m.params[1].default_value == 0.0);
  CHECK(static_cast<bool>(m.make_wave));
  CHECK_FALSE(static_cast<bool>(m.make_stimulus));
  CHECK(r.get("white_noise", "test").kind == ModelKind::stimulus);
}

TEST_CASE(
    "ramp_current adds slope * ((t-1) dt - start) from start on, to the call's neurons only") {
  const Registry r = with_devices();
  const TimeGrid grid(0.1);
  const auto w =
      r.get("ramp_current", "test")
          .make_wave(params("ramp_current", {{"slope", 2.5}, {"start", 0.3}}), grid, {7, 0});
  const auto c = currents(*w, 5, {1, 3}, 8);
  for (Step t = 1; t <= 8; ++t) {
    const double expected = t - 1 < 3 ? 0.0 : 2.5 * static_cast<double>(t - 1 - 3) * 0.1;
    const auto& row = c[static_cast<std::size_t>(t - 1)];
    CHECK(row[1] == expected);
    CHECK(row[3] == expected);
    CHECK(row[0] == 0.0);
    CHECK(row[2] == 0.0);
    CHECK(row[4] == 0.0);
  }
}

TEST_CASE("white_noise draws from the stream noise_current draws from: the same currents") {
  const Registry r = with_devices();
  const TimeGrid grid(0.1);
  const std::vector<NeuronIndex> all{0, 1, 2, 3, 4, 5};
  for (const std::uint32_t stimulus : {0u, 3u}) {
    const WaveContext ctx{12345, stimulus};
    const auto plugin =
        r.get("white_noise", "test")
            .make_wave(params("white_noise", {{"mean", 10.0}, {"std", 4.0}, {"interval", 0.5}}),
                       grid, ctx);
    const auto builtin =
        r.get("noise_current", "test")
            .make_wave(params("noise_current", {{"mean", 10.0}, {"std", 4.0}, {"dt", 0.5}}), grid,
                       ctx);
    const auto a = currents(*plugin, 6, all, 40);
    CHECK(a == currents(*builtin, 6, all, 40));
    // Each neuron its own draws, held over an interval of 5 steps.
    CHECK(a[0][0] != a[0][1]);
    CHECK(a[0][2] == a[4][2]);
    CHECK(a[4][2] != a[5][2]);
    // Any split of the neurons gives the same numbers.
    auto split = currents(*plugin, 6, {0, 2, 4}, 40);
    const auto rest = currents(*plugin, 6, {1, 3, 5}, 40);
    for (std::size_t t = 0; t < 40; ++t)
      for (std::size_t i = 1; i < 6; i += 2) split[t][i] = rest[t][i];
    CHECK(split == a);
  }
}

TEST_CASE("A device's required parameter, range and time off the grid are config errors") {
  const Registry r = with_devices();
  const TimeGrid grid(0.1);
  const auto& ramp = r.get("ramp_current", "test");
  CHECK_THROWS_MATCHES(
      ramp.make_wave(params("ramp_current", {}), grid, {}), ConfigError,
      Catch::Matchers::Message("stimulus 'dev' (ramp_current) parameter slope is required but "
                               "missing (it has no default; valid: any finite number pA/ms)"));
  CHECK_THROWS_WITH(
      ramp.make_wave(params("ramp_current", {{"slope", 1.0}, {"start", -1.0}}), grid, {}),
      Contains("start") && Contains("-1") && Contains(">= 0"));
  CHECK_THROWS_WITH(
      ramp.make_wave(params("ramp_current", {{"slope", 1.0}, {"start", 0.25}}), grid, {}),
      Contains("stimulus 'dev' (ramp_current)") &&
          Contains("start = 0.25 ms is not a whole number of steps of dt = 0.1 ms") &&
          Contains("0.2 and 0.3 ms"));
}

TEST_CASE("A device that fails ends the step with an Error naming it, the stimulus and the step") {
  const Registry r = with_devices();
  const TimeGrid grid(0.1);
  const auto w = r.get("failing_current", "test")
                     .make_wave(params("failing_current", {{"fail_at", 3.0}}), grid, {});
  std::vector<double> c(2, 0.0);
  const std::vector<NeuronIndex> all{0, 1};
  w->add(1, all, c.data());
  w->add(2, all, c.data());
  CHECK_THROWS_MATCHES(
      w->add(3, all, c.data()), Error,
      Catch::Matchers::Message(fmt::format("plugin '{}' device 'failing_current' (stimulus 'dev' "
                                           "(failing_current)): current failed at step 3 (0.3 "
                                           "ms): the device broke",
                                           devices_plugin())));
}

TEST_CASE("The example zap_current sweeps a sine's frequency linearly during its sweep") {
  Registry r;
  register_builtin_models(r);
  plugin::load_plugin(SPIKELINE_ZAP_PLUGIN, r);
  const TimeGrid grid(0.1);
  const double A = 40.0, offset = 5.0, f0 = 2.0, f1 = 30.0, start = 50.0, T = 2000.0;
  const auto w = r.get("zap_current", "test")
                     .make_wave(params("zap_current", {{"amplitude", A},
                                                       {"offset", offset},
                                                       {"f_start", f0},
                                                       {"f_stop", f1},
                                                       {"start", start},
                                                       {"sweep", T}}),
                                grid, {});
  const Step steps = 25000;  // 2.5 s: before, during and after the sweep
  const auto c = currents(*w, 2, {1}, steps);
  int crossings = 0;
  for (Step k = 1; k <= steps; ++k) {
    // The value at (k-1) dt, s ms into the sweep, held over step k.
    const double s = static_cast<double>(k - 1) * 0.1 - start;
    const double v = c[static_cast<std::size_t>(k - 1)][1];
    CHECK(c[static_cast<std::size_t>(k - 1)][0] == 0.0);
    if (s < -1e-9 || s > T - 0.1 + 1e-9) {
      CHECK(v == 0.0);
      continue;
    }
    const double phase = 2 * std::numbers::pi * (f0 * s + (f1 - f0) * s * s / (2 * T)) / 1000;
    CHECK(v == Approx(offset + A * std::sin(phase)).margin(1e-9));
    if (k > 1 && (c[static_cast<std::size_t>(k - 2)][1] - offset) < 0 && v - offset >= 0)
      ++crossings;
  }
  // One upward crossing per cycle: (f0 + f1) / 2 * T cycles in all.
  CHECK(std::abs(crossings - (f0 + f1) / 2 * T / 1000) <= 1);
  CHECK_THROWS_WITH(
      r.get("zap_current", "test").make_wave(params("zap_current", {{"amplitude", A}}), grid, {}),
      Contains("parameter sweep is required but missing"));
}
