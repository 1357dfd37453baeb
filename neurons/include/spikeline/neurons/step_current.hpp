// step_current: a piecewise constant current injected into every target
// neuron, a stimulus device ([[stimulus]] with model = "step_current").
// NEST's step_current_generator, PyNN's StepCurrentSource.
//
//   I(t) = amplitude_values[i]  for amplitude_times[i] < t <= amplitude_times[i+1]
//   I(t) = 0                    for t <= amplitude_times[0]
//
// the last value holding to the end of the run. As for a dc_generator's
// start, a value set at time s dt acts from the update of step s + 1 on
// (the step integrating (s dt, (s+1) dt]): amplitude_times[i] = 0 sets the
// current of the first simulated step. The engine computes the current
// every step from the step index (a binary search in the times): no sum of
// changes, so the current is exactly amplitude_values[i], and a change
// between pieces (set_stimulus) gives at once the value the new times give
// now.
//
// Parameters
//   amplitude_times   ms   []   times of the changes: each finite, >= 0, a
//                               whole number of steps; strictly increasing
//   amplitude_values  pA   []   the current from each time on (finite; pA
//                               for the LIF models, model units otherwise);
//                               as many as amplitude_times
//
// References
//   NEST model step_current_generator (models/step_current_generator.h).
//   PyNN StepCurrentSource (pyNN/standardmodels/electrodes.py).
#pragma once

#include <memory>
#include <vector>

#include "spikeline/engine/registry.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline {

struct StepCurrentParams {
  std::vector<double> amplitude_times;   // ms
  std::vector<double> amplitude_values;  // pA
  std::vector<Step> steps;               // amplitude_times on the grid

  StepCurrentParams(const ParamMap& p, const TimeGrid& grid);
};

// The current of a step_current with these parameters.
std::shared_ptr<const CurrentWave> step_current_wave(const ParamMap& p, const TimeGrid& grid,
                                                     const WaveContext& ctx);

ModelInfo step_current_model();

}  // namespace spikeline
