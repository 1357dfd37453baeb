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
// References
//   Izhikevich EM (2003) Simple model of spiking neurons. IEEE Trans Neural
//   Netw 14:1569.
//   Izhikevich EM (2007) Solving the distal reward problem through linkage of
//   STDP and dopamine signaling. Cereb Cortex 17:2443.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/model_table.hpp"

namespace spikeline {

struct IzhikevichParams {
  enum class Integration { half_steps, euler };

  double a = 0.02;
  double b = 0.2;
  double c = -65.0;
  double d = 8.0;
  double V_th = 30.0;
  double I_e = 0.0;
  double noise_amplitude = 0.0;
  Integration integration = Integration::half_steps;

  IzhikevichParams() = default;
  explicit IzhikevichParams(const ParamMap& p);
  // For a population of n neurons: the parameters that vary go to `each`.
  IzhikevichParams(const ParamMap& p, std::size_t n, PerNeuron<IzhikevichParams>& each);
  static const ParamTable<IzhikevichParams>& table();

 private:
  template <class Item>
  static void check(const IzhikevichParams& s, Item item);
};

class Izhikevich final : public TabledPopulation<Izhikevich> {
 public:
  explicit Izhikevich(const ModelContext& ctx);

  void update(Step t, IndexRange r, const InputView& in, SpikeSink& out) override;
  // The noise needs no checkpoint counter: it is drawn from the stream at (neuron, step).
  static const StateTable<Izhikevich>& state_table();

  const IzhikevichParams& params() const { return p_; }

 private:
  PerNeuron<IzhikevichParams> each_;  // empty: every neuron has p_
  IzhikevichParams p_;                // the values of the parameters that do not vary
  struct {
    AlignedVector<double> a, b, c, d, V_th, I_e;
  } coefs_;  // with per-neuron parameters, each of them per neuron (else empty)
  double dt_;
  std::uint64_t seed_;
  std::uint32_t noise_stream_;
  StateArray v_, u_;
};

ModelInfo izhikevich_model();

}  // namespace spikeline
