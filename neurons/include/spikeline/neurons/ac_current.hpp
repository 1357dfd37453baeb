// ac_current: a sinusoidal current injected into every target neuron, a
// stimulus device ([[stimulus]] with model = "ac_current"). NEST's
// ac_generator, PyNN's ACSource.
//
//   I(t) = offset + amplitude sin(2 pi frequency t / 1000 + phase pi / 180)
//
// during (start, stop], 0 outside (t in ms, frequency in Hz, phase in
// degrees). The current is held over each step at its value at the step's
// start, as a dc_generator's change at time s dt acts from the update of
// step s + 1: the update of step k (integrating ((k-1) dt, k dt]) gets
// I((k-1) dt), for start/dt < k <= stop/dt. The value is computed from the
// step index each step, never by a recurrence, so it does not drift over
// long runs (NEST iterates a rotation matrix).
//
// Parameters
//   amplitude  pA        0      amplitude of the sine (finite)
//   offset     pA        0      constant added while active (finite)
//   frequency  Hz        0      frequency (>= 0)
//   phase      degrees   0      phase at t = 0 (finite)
//   start      ms        0      switch-on time (>= 0, whole steps)
//   stop       ms        +inf   switch-off time (> start, whole steps; +inf: never)
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (neurons/src/builtin.cpp), as a
// plugin's current device is (ABI 1.6).
//
// References
//   NEST model ac_generator (models/ac_generator.h).
//   PyNN ACSource (pyNN/standardmodels/electrodes.py).
#pragma once

#include <cstdint>

#include "spikeline/plugin.hpp"

namespace spikeline {

struct AcCurrent : plugin::CurrentDevice {
  static constexpr const char* name = "ac_current";
  static constexpr const char* doc =
      "sinusoidal current offset + amplitude sin(2 pi f t + phase) during (start, stop] "
      "(NEST's ac_generator, PyNN's ACSource)";
  enum { amplitude, offset, frequency, phase, start, stop };
  static constexpr spk_param params[] = {
      plugin::param("amplitude", "pA", 0.0,
                    "amplitude of the sine (pA for LIF models, model units otherwise)"),
      plugin::param("offset", "pA", 0.0, "constant current added while active"),
      plugin::param("frequency", "Hz", 0.0, "frequency of the sine").nonnegative(),
      plugin::param("phase", "deg", 0.0, "phase at t = 0, in degrees"),
      plugin::param("start", "ms", 0.0, "switch-on time (whole steps)"),
      plugin::param("stop", "ms", HUGE_VAL, "switch-off time (whole steps; inf: never)")
          .at_most(HUGE_VAL),
  };
  struct Constants {
    long double cycles_per_step;
    double amplitude, offset, phase;
    std::int64_t start_step, stop_step;  // stop_step: kNever when stop is +inf
  };
  static void prepare(plugin::DeviceSetup<AcCurrent>& s);
  static void current(plugin::Current<AcCurrent>& c);
};

}  // namespace spikeline
