// poisson_generator: each neuron of the population emits an independent
// Poisson spike train of rate `rate` between `start` and `stop`.
//
// The process runs in continuous time: each neuron keeps the time of its next
// spike (ms) and draws the following inter-spike interval from an exponential
// distribution with mean 1 / rate when that spike is consumed. A spike at time
// tau is emitted at step k = ceil(tau / dt), the step that integrates the
// interval ((k-1) dt, k dt], the same convention as the engine uses for
// current changes. Emitted steps therefore lie in start/dt + 1 .. stop/dt, i.e.
// spike step times k dt satisfy start < k dt <= stop (as NEST's
// poisson_generator). Several spikes may fall in the same step (next_spike()
// then returns equal steps), so the count per step is exactly Poisson.
//
// Random numbers: neuron i's n-th interval comes from the counter-based stream
// (seed, stream_id(generator, population index), entity = i, counter = n), so
// a neuron's train does not depend on the order in which the engine asks the
// neurons, on threads or on partitioning.
//
// The rate may vary per neuron (a distribution or an array in the config;
// docs/config.md): neuron i then fires at its own rate; start and stop are
// the population's.
//
// Parameters
//   rate   Hz   0      firing rate (finite, >= 0)
//   start  ms   0      spikes come after start (>= 0, whole steps)
//   stop   ms   +inf   spikes come at or before stop (> start, whole steps; +inf: never stops)
//
// No state variables. The engine drives the generator through next_spike();
// update() does nothing.
//
// References
//   NEST model poisson_generator (models/poisson_generator.h).
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/params.hpp"
#include "spikeline/engine/population.hpp"
#include "spikeline/engine/registry.hpp"

namespace spikeline {

struct PoissonGeneratorParams {
  double rate = 0.0;
  double start = 0.0;
  double stop = std::numeric_limits<double>::infinity();
  Step start_step = 0;
  Step stop_step = kNever;  // kNever when stop is +inf

  PoissonGeneratorParams() = default;
  PoissonGeneratorParams(const ParamMap& p, const TimeGrid& grid);
  // For a population of n neurons: a per-neuron rate goes to `each`.
  PoissonGeneratorParams(const ParamMap& p, const TimeGrid& grid, std::size_t n,
                         PerNeuron<PoissonGeneratorParams>& each);
  static const ParamTable<PoissonGeneratorParams>& table();
};

class PoissonGenerator final : public Population {
 public:
  explicit PoissonGenerator(const ModelContext& ctx);

  UpdateMode preferred_mode() const override { return UpdateMode::scheduled; }
  void update(Step, IndexRange, const InputView&, SpikeSink&) override {}
  Step next_spike(NeuronIndex i) override;
  // NEST's SetStatus between Simulate calls: from step now + 1 on, each
  // neuron's train has the new rate (and start, stop). The spike the old
  // generator had drawn beyond now is discarded and the next one drawn
  // anew from max(now dt, start) (a Poisson process forgets its past), its
  // stream counter going on from the old one's, so no number is used twice.
  bool take_over(const Population& old, Step now) override;
  std::span<const StateVarInfo> state_vars() const override { return {}; }
  double state(std::size_t var, NeuronIndex i, Step t) const override;
  void set_state(std::size_t var, NeuronIndex i, double value) override;
  bool checkpointable() const override { return true; }
  void checkpoint(StateArchive& a) override;

  const PoissonGeneratorParams& params() const { return p_; }

 private:
  double draw_interval(NeuronIndex i);
  double rate_per_ms(NeuronIndex i) const {
    return rates_per_ms_.empty() ? rate_per_ms_ : rates_per_ms_[i];
  }

  PerNeuron<PoissonGeneratorParams> each_;  // empty: one rate for all
  PoissonGeneratorParams p_;
  double rate_per_ms_;
  AlignedVector<double> rates_per_ms_;  // with a per-neuron rate, each neuron's (else empty)
  double dt_;
  std::uint64_t seed_;
  std::uint32_t stream_;
  std::vector<double> next_;          // time of the next spike (ms)
  std::vector<std::uint64_t> draws_;  // intervals drawn so far (the stream counter)
  Step first_step_;                   // no spike before it: start + 1, or now + 1 after take_over
};

ModelInfo poisson_generator_model();

}  // namespace spikeline
