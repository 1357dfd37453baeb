// izhikevich: the simple spiking model of Izhikevich (2003), as simulated in
// Izhikevich (2007)'s published code (daspnet).
//
// Equations (time in ms; v in mV; u and the current in the model's own units)
//   dv/dt = 0.04 v^2 + 5 v + 140 - u + I
//   du/dt = a (b v - u)
//   v >= V_th: spike, v = c, u = u + d
// The input current of a step is
//   I = I_e + I_inj + (sum of the synaptic weights arriving this step) + noise
// i.e. a synaptic input is a current pulse held for one step (in daspnet,
// with dt = 1 ms, I jumps by the weight for one ms). Excitatory and inhibitory
// weights are both simply added.
//
// Integration, integration = "half_steps" (default; daspnet's scheme):
//   v += dt/2 (0.04 v^2 + 5 v + 140 - u + I)     (twice, for numerical stability)
//   u += dt a (b v - u)                            (with the updated v)
//   then the threshold test v >= V_th: spike, v = c, u += d.
// integration = "euler": a single forward-Euler step of dt for v instead.
// daspnet tests v >= 30 at the start of the following step, before
// integrating; testing right after the update, as here, gives the same
// trajectory (after the reset both integrate the next step from v = c with
// that step's input) and reports the spike one step earlier.
//
// Noise: with noise_amplitude A > 0, every step each neuron adds a current
// A (U - 1/2), U uniform on (0, 1), drawn from the counter-based stream
// (seed, stream_id(model_noise, population index), entity = neuron,
// counter = step): independent of threads and partitioning. The distal-reward
// experiment's input "13 (U(0,1) - 0.5) every ms" is A = 13.
//
// Parameters
//   a                ""   0.02         time scale of u
//   b                ""   0.2          sensitivity of u to v
//   c                mV   -65          reset value of v
//   d                ""   8            increment of u at a spike
//   V_th             mV   30           spike cut-off (peak) value of v
//   I_e              ""   0            constant input current (model units)
//   noise_amplitude  ""   0            width A of the uniform noise current (>= 0)
//   integration      ""   half_steps   "half_steps" or "euler"
//
// Per neuron: a, b, c, d, V_th and I_e may vary (a distribution or an array
// in the config; docs/config.md), as in Izhikevich (2003)'s network of
// mixed cell types; noise_amplitude and integration are the population's.
//
// State variables: V_m (mV), U_m. Initial values hold at step 0; by default
// V_m = c and U_m = b c (as in Izhikevich's code), each neuron's own.
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (neurons/src/builtin.cpp), as
// a plugin's model is: `integration` is a choice and the noise comes from
// the per-neuron streams the interface hands a model (ABI 1.1).
//
// References
//   Izhikevich EM (2003) Simple model of spiking neurons. IEEE Trans Neural
//   Netw 14:1569.
//   Izhikevich EM (2007) Solving the distal reward problem through linkage of
//   STDP and dopamine signaling. Cereb Cortex 17:2443.
#pragma once

#include <cstdint>

#include "spikeline/plugin.hpp"

namespace spikeline {

struct Izhikevich {
  static constexpr const char* name = "izhikevich";
  static constexpr const char* doc =
      "Izhikevich (2003) simple model, two half-steps of v per step as in Izhikevich (2007); "
      "weights are current pulses held for one step; optional uniform noise current";

  enum { a, b, c, d, V_th, I_e, noise_amplitude };
  static constexpr spk_param params[] = {
      plugin::param("a", "", 0.02, "time scale of the recovery variable u").per_neuron(),
      plugin::param("b", "", 0.2, "sensitivity of u to v").per_neuron(),
      plugin::param("c", "mV", -65.0, "reset value of v (< V_th)").per_neuron(),
      plugin::param("d", "", 8.0, "increment of u at a spike").per_neuron(),
      plugin::param("V_th", "mV", 30.0, "spike cut-off (peak) value of v").per_neuron(),
      plugin::param("I_e", "", 0.0, "constant input current (model units)").per_neuron(),
      plugin::param("noise_amplitude", "", 0.0,
                    "A: each step adds a current A (U(0,1) - 0.5) per neuron")
          .nonnegative(),
  };
  enum { integration };
  enum Integration : std::uint32_t { half_steps, euler };
  static constexpr const char* kIntegrations[] = {"half_steps", "euler"};
  static constexpr spk_choice choices[] = {
      plugin::choice("integration", "two steps of dt/2 for v, or one Euler step", kIntegrations)};

  enum { V_m, U_m };
  static constexpr spk_state_var state[] = {
      plugin::state("V_m", "mV", "membrane potential v", -65.0),
      plugin::state("U_m", "", "recovery variable u", -13.0),
  };

  // When some parameter varies, a to I_e per neuron (the loop's coefficients).
  enum { kA, kB, kC, kD, kVth, kIe, kEachCount };
  static constexpr std::uint32_t each_constants = kEachCount;

  static void prepare(plugin::Setup<Izhikevich>& s);
  static void initialize(plugin::Initial<Izhikevich>& s);
  template <class N>
  static void update(N& n);
};

}  // namespace spikeline
