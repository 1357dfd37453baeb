// dc_generator: a constant current injected into every target neuron
// between `start` and `stop`.
//
// The device is a schedule of current changes: +amplitude at start and
// -amplitude at stop (none when stop is +inf). The engine applies a change at
// time s dt from the update of step s+1 on (the step integrating
// (s dt, (s+1) dt]), so the current flows during (start, stop], as in NEST.
// Models add the injected current to their input: in pA for the LIF models,
// in model units for izhikevich and lif_discrete.
//
// Parameters
//   amplitude  pA   0      the current (finite)
//   start      ms   0      switch-on time (>= 0, whole steps)
//   stop       ms   +inf   switch-off time (> start, whole steps; +inf: never)
//
// References
//   NEST model dc_generator (models/dc_generator.h).
#pragma once

#include <limits>
#include <vector>

#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline {

struct DcGeneratorParams {
  double amplitude = 0.0;
  double start = 0.0;
  double stop = std::numeric_limits<double>::infinity();
  Step start_step = 0;
  Step stop_step = kNever;  // kNever when stop is +inf

  DcGeneratorParams() = default;
  DcGeneratorParams(const ParamMap& p, const TimeGrid& grid);
  static const ParamTable<DcGeneratorParams>& table();
};

// The current changes of a dc_generator with these parameters.
std::vector<CurrentChange> dc_generator_schedule(const ParamMap& p, const TimeGrid& grid);

ModelInfo dc_generator_model();

}  // namespace spikeline
