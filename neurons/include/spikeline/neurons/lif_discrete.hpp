// lif_discrete: the discrete-time leaky integrate-and-fire neuron of
// recurrent spiking networks trained with surrogate gradients (the
// working-memory model of Perrinet 2026).
//
// Equations (one update per time step, independent of dt)
//   reset = "subtract" (default):  u(t) = beta u(t-1) + I(t) - theta s(t-1)
//   reset = "zero":                u(t) = beta u(t-1) (1 - s(t-1)) + I(t)
//   s(t) = [u(t) > theta]          (strict: u == theta does not spike)
//   I(t) = (sum of the weights arriving at step t) + I_inj
// Everything is dimensionless: excitatory and inhibitory weights are simply
// added, and an injected current (dc_generator) adds its amplitude as is.
// beta is the decay per step; there is no refractory period.
//
// Parameters
//   beta   ""  0.7       decay per step, in [0, 1]
//   theta  ""  1.0       threshold (> 0)
//   reset  ""  subtract  "subtract" (reset by subtraction) or "zero" (reset to zero)
//
// Per neuron: beta and theta may vary (a distribution or an array in the
// config; docs/config.md) in `spikeline run`.
//
// State variables: u (membrane potential), s (spike of the last step, 0 or 1).
// Initial values hold at step 0.
//
// References
//   Perrinet L (2026) Working memory in a recurrent spiking neural network
//   with heterogeneous synaptic delays. arXiv:2604.14096.
//   Neftci EO, Mostafa H, Zenke F (2019) Surrogate gradient learning in
//   spiking neural networks. IEEE Signal Process Mag 36:51.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "spikeline/engine/model_table.hpp"

namespace spikeline {

struct LifDiscreteParams {
  enum class Reset { subtract, zero };

  double beta = 0.7;
  double theta = 1.0;
  Reset reset = Reset::subtract;

  LifDiscreteParams() = default;
  explicit LifDiscreteParams(const ParamMap& p);
  // For a population of n neurons: the parameters that vary go to `each`.
  LifDiscreteParams(const ParamMap& p, std::size_t n, PerNeuron<LifDiscreteParams>& each);
  static const ParamTable<LifDiscreteParams>& table();
};

class LifDiscrete final : public TabledPopulation<LifDiscrete> {
 public:
  explicit LifDiscrete(const ModelContext& ctx);

  void update(Step t, IndexRange r, const InputView& in, SpikeSink& out) override;
  static const StateTable<LifDiscrete>& state_table();

  const LifDiscreteParams& params() const { return p_; }

 private:
  PerNeuron<LifDiscreteParams> each_;   // empty: every neuron has p_
  LifDiscreteParams p_;                 // the values of the parameters that do not vary
  AlignedVector<double> beta_, theta_;  // with per-neuron parameters, per neuron (else empty)
  StateArray u_;
  std::vector<std::uint8_t> s_;
};

ModelInfo lif_discrete_model();

}  // namespace spikeline
