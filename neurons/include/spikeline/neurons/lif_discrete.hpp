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
// State variables: u (membrane potential), s (spike of the last step, 0 or
// 1: a whole number, an int32 counter). Initial values hold at step 0.
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (neurons/src/builtin.cpp), as
// a plugin's model is: `reset` is a choice parameter (ABI 1.1).
//
// References
//   Perrinet L (2026) Working memory in a recurrent spiking neural network
//   with heterogeneous synaptic delays. arXiv:2604.14096.
//   Neftci EO, Mostafa H, Zenke F (2019) Surrogate gradient learning in
//   spiking neural networks. IEEE Signal Process Mag 36:51.
#pragma once

#include <cstdint>

#include "spikeline/engine/params.hpp"
#include "spikeline/plugin.hpp"

namespace spikeline {

struct LifDiscrete {
  static constexpr const char* name = "lif_discrete";
  static constexpr const char* doc =
      "discrete-time LIF u(t) = beta u(t-1) + I(t) - theta s(t-1), s(t) = [u(t) > theta]; "
      "dimensionless (working-memory / surrogate-gradient model)";

  enum { beta, theta };
  static constexpr spk_param params[] = {
      plugin::param("beta", "", 0.7, "decay per step").at_least(0.0).at_most(1.0).per_neuron(),
      plugin::param("theta", "", 1.0, "threshold").positive().per_neuron(),
  };
  enum { reset };
  enum Reset : std::uint32_t { subtract, zero };  // the index of each word
  static constexpr const char* kResets[] = {"subtract", "zero"};
  static constexpr spk_choice choices[] = {
      plugin::choice("reset", "u -= theta after a spike, or u = 0 after a spike", kResets)};

  enum { u, s };
  static constexpr spk_state_var state[] = {
      plugin::state("u", "", "membrane potential", 0.0),
      plugin::counter("s", "", "spike of the last step (0 or 1)", 0),
  };
  static constexpr spk_bounds state_bounds[] = {plugin::bounds(),
                                                plugin::bounds().at_least(0.0).at_most(1.0)};

  template <class N>
  static void update(N& n);
};

// The parameters of a population as the config gives them, one value each
// (what the trainer reads: learning/ integrates the same equations),
// resolved and checked as the population resolves them.
struct LifDiscreteParams {
  double beta = 0.7;
  double theta = 1.0;
  LifDiscrete::Reset reset = LifDiscrete::subtract;

  LifDiscreteParams() = default;
  explicit LifDiscreteParams(const ParamMap& p);
};

}  // namespace spikeline
