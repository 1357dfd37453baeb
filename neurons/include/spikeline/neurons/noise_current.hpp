// noise_current: a Gaussian white-noise current, piecewise constant over
// intervals of `dt`, injected into every target neuron, each its own
// independent draws: a stimulus device ([[stimulus]] with model =
// "noise_current"). NEST's noise_generator (which also gives each target its
// own draws), PyNN's NoisyCurrentSource.
//
//   I_i(t) = mean + std * xi_{i,n},  xi ~ N(0, 1) independent,
//   n = floor(t / dt): the noise interval [n dt, (n+1) dt) holding t,
//
// during (start, stop], 0 outside. As for every current device, the update
// of step k (integrating ((k-1) dt_grid, k dt_grid]) gets the value at
// (k-1) dt_grid. The intervals are aligned to time 0 (as NEST's), whatever
// `start`. xi_{i,n} is the first normal of the counter-based stream (seed,
// (noise_current, stimulus index), neuron i, n): the same at any number of
// threads and partitions, nothing to checkpoint, and a change between pieces
// (set_stimulus) acts as if configured so from the start.
//
// The variance of the current is std^2 whatever dt, so the noise a neuron
// integrates grows with dt (std^2 dt for a membrane time constant >> dt): to
// keep it as dt changes, scale std with 1/sqrt(dt) (NEST's documentation
// explains this).
//
// Parameters
//   mean   pA   0      mean current (finite)
//   std    pA   0      standard deviation (>= 0)
//   dt     ms   1      interval between draws: a whole multiple of the time
//                      step, >= the time step
//   start  ms   0      switch-on time (>= 0, whole steps)
//   stop   ms   +inf   switch-off time (> start, whole steps; +inf: never)
//
// Not (yet): NEST's std_mod, frequency and phase (a sinusoidally modulated
// standard deviation).
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (neurons/src/builtin.cpp), as a
// plugin's current device is (ABI 1.6): its draws come through the
// device's per-neuron stream, which is this stream.
//
// References
//   NEST model noise_generator (models/noise_generator.h).
//   PyNN NoisyCurrentSource (pyNN/standardmodels/electrodes.py).
#pragma once

#include <cstdint>

#include "spikeline/plugin.hpp"

namespace spikeline {

struct NoiseCurrent : plugin::CurrentDevice {
  static constexpr const char* name = "noise_current";
  static constexpr const char* doc =
      "Gaussian noise current mean + std xi, a new independent draw per target neuron every dt, "
      "during (start, stop] (NEST's noise_generator, PyNN's NoisyCurrentSource)";
  enum { mean, std_dev, dt, start, stop };
  static constexpr spk_param params[] = {
      plugin::param("mean", "pA", 0.0, "mean current (pA for LIF models, model units otherwise)"),
      plugin::param("std", "pA", 0.0, "standard deviation of the current").nonnegative(),
      plugin::param("dt", "ms", 1.0, "interval between draws (a whole multiple of the time step)")
          .positive(),
      plugin::param("start", "ms", 0.0, "switch-on time (whole steps)"),
      plugin::param("stop", "ms", HUGE_VAL, "switch-off time (whole steps; inf: never)")
          .at_most(HUGE_VAL),
  };
  struct Constants {
    double mean, std;
    std::int64_t dt_steps, start_step, stop_step;  // stop_step: kNever when stop is +inf
  };
  static void prepare(plugin::DeviceSetup<NoiseCurrent>& s);
  static void current(plugin::Current<NoiseCurrent>& c);
};

}  // namespace spikeline
