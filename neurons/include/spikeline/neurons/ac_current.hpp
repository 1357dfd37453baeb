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
// References
//   NEST model ac_generator (models/ac_generator.h).
//   PyNN ACSource (pyNN/standardmodels/electrodes.py).
#pragma once

#include <limits>
#include <memory>

#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline {

struct AcCurrentParams {
  double amplitude = 0.0;
  double offset = 0.0;
  double frequency = 0.0;
  double phase = 0.0;
  double start = 0.0;
  double stop = std::numeric_limits<double>::infinity();
  Step start_step = 0;
  Step stop_step = kNever;  // kNever when stop is +inf

  AcCurrentParams() = default;
  AcCurrentParams(const ParamMap& p, const TimeGrid& grid);
  static const ParamTable<AcCurrentParams>& table();
};

// The current of an ac_current with these parameters.
std::shared_ptr<const CurrentWave> ac_current_wave(const ParamMap& p, const TimeGrid& grid,
                                                   const WaveContext& ctx);

ModelInfo ac_current_model();

}  // namespace spikeline
