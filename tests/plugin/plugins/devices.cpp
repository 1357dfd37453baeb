// Test plugin of current devices (ABI 1.6), written against the C++ layer:
//   ramp_current   I(t) = slope * ((t-1) dt - start) for (t-1) dt >= start,
//                  0 before: exact values a test can compute;
//   white_noise    mean + std * xi, xi the neuron's draw 0 for the interval
//                  (t-1) / interval_steps: what the built-in noise_current
//                  draws from the same stream, so the two must agree bit
//                  for bit;
//   failing_current  0 pA until `fail_at` steps, then current() fails.
#include <cmath>
#include <cstdint>

#include "spikeline/plugin.hpp"

namespace sp = spikeline::plugin;

struct Ramp : sp::CurrentDevice {
  static constexpr const char* name = "ramp_current";
  static constexpr const char* doc = "slope * (t - start) from start on, 0 before";
  enum { slope, start };
  static constexpr spk_param params[] = {
      sp::param("slope", "pA/ms", NAN, "rate of rise"),
      sp::param("start", "ms", 0.0, "switch-on time (whole steps)").nonnegative(),
  };
  static constexpr const char* required[] = {"slope"};
  struct Constants {
    std::int64_t start;
  };
  static void prepare(sp::DeviceSetup<Ramp>& s) { s.constants().start = s.steps(start, "start"); }
  static void current(sp::Current<Ramp>& c) {
    const std::int64_t t0 = c.constants().start;
    if (c.step() - 1 < t0) return;
    const double v = c.param(slope) * static_cast<double>(c.step() - 1 - t0) * c.dt();
    for (std::uint32_t j = 0; j < c.size(); ++j) c.add(j, v);
  }
};

struct WhiteNoise : sp::CurrentDevice {
  static constexpr const char* name = "white_noise";
  static constexpr const char* doc = "mean + std * N(0, 1), a new draw per neuron every interval";
  enum { mean, std_dev, interval };
  static constexpr spk_param params[] = {
      sp::param("mean", "pA", 0.0, "mean current"),
      sp::param("std", "pA", 0.0, "standard deviation").nonnegative(),
      sp::param("interval", "ms", 1.0, "interval between draws (whole steps)").positive(),
  };
  struct Constants {
    std::int64_t interval;
  };
  static void prepare(sp::DeviceSetup<WhiteNoise>& s) {
    s.constants().interval = s.steps(interval, "interval");
  }
  static void current(sp::Current<WhiteNoise>& c) {
    // One neuron at a time through normal(); noise_current asks for a
    // chunk at once through normals(): the same numbers.
    const auto n = static_cast<std::uint64_t>((c.step() - 1) / c.constants().interval);
    for (std::uint32_t j = 0; j < c.size(); ++j)
      c.add(j, c.param(mean) + c.param(std_dev) * c.normal(j, n));
  }
};

struct Failing : sp::CurrentDevice {
  static constexpr const char* name = "failing_current";
  static constexpr const char* doc = "0 pA, then fails";
  enum { fail_at };
  static constexpr spk_param params[] = {
      sp::param("fail_at", "", 10.0, "the step at which current() fails").at_least(1.0),
  };
  static void current(sp::Current<Failing>& c) {
    if (static_cast<double>(c.step()) >= c.param(fail_at)) throw sp::Failure("the device broke");
  }
};

SPIKELINE_PLUGIN("devices", "1.0", Ramp, WhiteNoise, Failing)
