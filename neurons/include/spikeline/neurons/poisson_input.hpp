// poisson_input: independent Poisson spike input to every target neuron, a
// stimulus device ([[stimulus]] with model = "poisson_input").
//
// Each target neuron receives the spikes of `sources` independent Poisson
// trains of `rate` each, every spike through a synapse of `weight`: at each
// step in (start, stop] it gets k * weight, with k ~ Poisson(sources * rate
// * dt), added to its input like a synaptic delivery at that step (routed by
// the sign of the weight: excitatory if >= 0, inhibitory otherwise; weights
// in the target model's units: mV for iaf_psc_delta, pA for iaf_psc_exp, nS
// for iaf_cond_exp). No two neurons share a train, and no generator
// population or synapse table is built: the cost is one random draw per
// target neuron and step.
//
// This is what a NEST user gets from one poisson_generator connected to
// many targets (each connection its own train; `sources` connections from
// it, or `sources` generators), and Brian2's PoissonInput(target, N =
// sources, rate, weight). A poisson_generator population connected through
// a projection is different: its neurons' trains are shared by all the
// targets they connect to.
//
// The count of neuron i at step t is drawn from the counter-based stream
// (seed, this input, i, t): the same spikes at any number of threads and
// partitions, and nothing to checkpoint. Poisson inputs are not synapses:
// plasticity rules do not see them.
//
// Parameters
//   rate     Hz   0      rate of each source (>= 0)
//   sources  1    1      number of independent sources per target (a whole number >= 1)
//   weight   -    0      synaptic weight of each spike (finite; target model's units)
//   start    ms   0      spikes come after start (whole steps)
//   stop     ms   +inf   spikes come at or before stop (whole steps; +inf: never stops)
//
// References
//   NEST model poisson_generator (models/poisson_generator.h): one train per target.
//   Brian2 PoissonInput (brian2/input/poissoninput.py).
#pragma once

#include <limits>

#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline {

struct PoissonInputParams {
  double rate = 0.0;
  double sources = 1.0;
  double weight = 0.0;
  double start = 0.0;
  double stop = std::numeric_limits<double>::infinity();

  PoissonInputParams() = default;
  explicit PoissonInputParams(const ParamMap& p);
  static const ParamTable<PoissonInputParams>& table();
};

// The drive of a poisson_input with these parameters.
PoissonDrive poisson_input_drive(const ParamMap& p, const TimeGrid& grid);

ModelInfo poisson_input_model();

}  // namespace spikeline
