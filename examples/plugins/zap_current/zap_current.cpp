// zap_current as a spikeline plugin: a current device (ABI 1.6) that injects
// a sine whose frequency sweeps linearly from f_start to f_stop, the "ZAP"
// (impedance amplitude profile) stimulus of Puil et al. (1986), used to
// measure a neuron's impedance and resonance frequency (Hutcheon and Yarom
// 2000): the membrane's response amplitude against the instantaneous
// frequency is the impedance profile.
//
// Current
//   With s = t - start the time into the sweep (t in ms, during
//   (start, start + sweep]) and T = sweep,
//     I(t) = offset + amplitude sin(2 pi (f_start s + (f_stop - f_start) s^2 / (2 T)) / 1000),
//   (frequencies in Hz), 0 outside. The instantaneous frequency is
//   f_start + (f_stop - f_start) s / T. As for every current device, the
//   update of step k (integrating ((k-1) dt, k dt]) gets the value at
//   (k-1) dt: the first step of the sweep gets I at s = 0 (offset). The
//   phase is computed from the step index in long double each step and
//   reduced to one cycle, so it does not drift over long sweeps.
//
// Parameters
//   amplitude  pA   0      amplitude of the sine (finite)
//   offset     pA   0      constant added during the sweep (finite)
//   f_start    Hz   0      frequency at the start of the sweep (>= 0)
//   f_stop     Hz   20     frequency at its end (>= 0; below f_start sweeps down)
//   start      ms   0      start of the sweep (>= 0, whole steps)
//   sweep      ms   (required)  its duration (> 0, whole steps)
//
// Config
//   plugins = ["build/examples/plugins/zap_current/libzap_current.so"]
//
//   [[stimulus]]
//   name = "zap"
//   model = "zap_current"
//   target = "exc"
//   nodes = [0]
//   params = { amplitude = 50.0, f_start = 0.5, f_stop = 20.0, start = 100.0, sweep = 10000.0 }
//
// Reference
//   Puil E, Gimbarzevsky B, Miura RM (1986) J Neurophysiol 55:995.
//   Hutcheon B, Yarom Y (2000) Trends Neurosci 23:216.
#include <cmath>
#include <cstdint>
#include <numbers>

#include <spikeline/plugin.hpp>

namespace sp = spikeline::plugin;

namespace {

struct ZapCurrent : sp::CurrentDevice {
  static constexpr const char* name = "zap_current";
  static constexpr const char* doc =
      "a sine whose frequency sweeps linearly from f_start to f_stop over `sweep` ms (ZAP, "
      "Puil et al. 1986)";
  enum { amplitude, offset, f_start, f_stop, start, sweep };
  static constexpr spk_param params[] = {
      sp::param("amplitude", "pA", 0.0, "amplitude of the sine"),
      sp::param("offset", "pA", 0.0, "constant added during the sweep"),
      sp::param("f_start", "Hz", 0.0, "frequency at the start of the sweep").nonnegative(),
      sp::param("f_stop", "Hz", 20.0, "frequency at its end").nonnegative(),
      sp::param("start", "ms", 0.0, "start of the sweep (whole steps)").nonnegative(),
      sp::param("sweep", "ms", NAN, "duration of the sweep (whole steps)").positive(),
  };
  static constexpr const char* required[] = {"sweep"};

  struct Constants {
    // The phase in cycles after n steps into the sweep is
    // a n + b n^2: a = f_start dt / 1000, b = (f_stop - f_start) dt^2 / (2 T 1000).
    long double a, b;
    double amplitude, offset;
    std::int64_t start, steps;  // the sweep's first step offset and its length, in steps
  };

  static void prepare(sp::DeviceSetup<ZapCurrent>& s) {
    Constants& c = s.constants();
    c.start = s.steps(start, "start");
    c.steps = s.steps(sweep, "sweep");
    if (c.steps < 1) throw sp::Failure("sweep must last at least one step");
    const long double dt = s.dt(), T = s.param(sweep);
    c.a = static_cast<long double>(s.param(f_start)) * dt / 1000.0L;
    c.b = static_cast<long double>(s.param(f_stop) - s.param(f_start)) * dt * dt /
          (2.0L * T * 1000.0L);
    c.amplitude = s.param(amplitude);
    c.offset = s.param(offset);
  }

  static void current(sp::Current<ZapCurrent>& c) {
    const Constants& k = c.constants();
    // Steps into the sweep at the value's time (t-1) dt: n in [0, steps).
    const std::int64_t n = c.step() - 1 - k.start;
    if (n < 0 || n >= k.steps) return;
    const long double m = static_cast<long double>(n);
    const long double cycles = k.a * m + k.b * m * m;
    const auto fraction = static_cast<double>(cycles - std::floor(cycles));
    const double v = k.offset + k.amplitude * std::sin(2 * std::numbers::pi * fraction);
    for (std::uint32_t j = 0; j < c.size(); ++j) c.add(j, v);
  }
};

}  // namespace

SPIKELINE_PLUGIN("zap_current", "1.0", ZapCurrent)
