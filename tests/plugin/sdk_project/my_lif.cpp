// my_lif: a leaky integrate-and-fire neuron as a spikeline plugin, the model
// of the tutorial in spikeline's docs/plugins.md.
//
//   tau_m dV/dt = -(V - E_L) + tau_m / C_m * I(t)
//   V >= V_th: spike, V = V_reset
// I is the injected current (a [[stimulus]], pA). A weight is a jump of V
// (mV) at the end of the step it arrives in.
//
// With I constant over a step, the step is integrated exactly:
//   V <- E_L + (V - E_L) P + I R (1 - P),  P = exp(-dt / tau_m), R = tau_m / C_m
// so from V = E_L under a constant I, V after k steps is E_L + I R (1 - P^k)
// (the closed form the SDK test checks the spikes and V against).
#include <cmath>
#include <cstdio>

#include <spikeline/plugin.hpp>

namespace sp = spikeline::plugin;

struct MyLif {
  static constexpr const char* name = "my_lif";
  static constexpr const char* doc = "leaky integrate-and-fire, delta synapses (the tutorial)";

  enum { tau_m, C_m, E_L, V_th, V_reset };
  static constexpr spk_param params[] = {
      sp::param("tau_m", "ms", 10.0, "membrane time constant").positive(),
      sp::param("C_m", "pF", 250.0, "membrane capacitance").positive(),
      sp::param("E_L", "mV", -70.0, "resting potential"),
      sp::param("V_th", "mV", -55.0, "spike threshold"),
      sp::param("V_reset", "mV", -70.0, "reset potential (< V_th)"),
  };
  enum { V_m };
  static constexpr spk_state_var state[] = {sp::state("V_m", "mV", "membrane potential", -70.0)};

  struct Constants {
    double P;     // exp(-dt / tau_m)
    double gain;  // R (1 - P): mV per pA held over one step
  };
  static void prepare(sp::Setup<MyLif>& s) {
    if (!(s.param(V_reset) < s.param(V_th))) {  // spikeline adds the population's name
      char message[128];
      std::snprintf(message, sizeof message, "V_reset (%g mV) must be below V_th (%g mV)",
                    s.param(V_reset), s.param(V_th));
      throw sp::Failure(message);
    }
    const double P = std::exp(-s.dt() / s.param(tau_m));
    s.constants() = {P, s.param(tau_m) / s.param(C_m) * (1.0 - P)};
  }

  template <class N>
  static void update(N& n) {
    const auto& c = n.constants();
    double* V = n.state(V_m);
    for (auto i = n.begin(); i < n.end(); ++i) {
      const double E = n.param(E_L, i);
      V[i] = E + (V[i] - E) * c.P + n.current(i) * c.gain + n.take_ex(i) + n.take_in(i);
      if (V[i] >= n.param(V_th, i)) {
        V[i] = n.param(V_reset, i);
        n.spike(i);
      }
    }
  }
};
SPIKELINE_PLUGIN("my_lif", "1.0", MyLif)
