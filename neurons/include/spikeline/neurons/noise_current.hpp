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
// References
//   NEST model noise_generator (models/noise_generator.h).
//   PyNN NoisyCurrentSource (pyNN/standardmodels/electrodes.py).
#pragma once

#include <limits>
#include <memory>

#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline {

struct NoiseCurrentParams {
  double mean = 0.0;
  double std = 0.0;
  double dt = 1.0;
  double start = 0.0;
  double stop = std::numeric_limits<double>::infinity();
  Step dt_steps = 1;
  Step start_step = 0;
  Step stop_step = kNever;  // kNever when stop is +inf

  NoiseCurrentParams() = default;
  NoiseCurrentParams(const ParamMap& p, const TimeGrid& grid);
  static const ParamTable<NoiseCurrentParams>& table();
};

// The current of a noise_current with these parameters.
std::shared_ptr<const CurrentWave> noise_current_wave(const ParamMap& p, const TimeGrid& grid,
                                                      const WaveContext& ctx);

ModelInfo noise_current_model();

}  // namespace spikeline
