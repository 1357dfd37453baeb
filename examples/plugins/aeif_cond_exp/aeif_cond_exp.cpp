// aeif_cond_exp as a spikeline plugin: the adaptive exponential
// integrate-and-fire neuron (AdEx; Brette and Gerstner 2005) with
// exponentially decaying synaptic conductances, with NEST's parameter names,
// units and defaults.
//
// Equations (as NEST's aeif_cond_exp)
//   C_m dV/dt  = -g_L (V - E_L) + g_L Delta_T exp((V - V_th) / Delta_T)
//                - g_ex (V - E_ex) - g_in (V - E_in) - w + I_e + I_inj(t)
//   tau_w dw/dt = a (V - E_L) - w
//   dg_ex/dt = -g_ex / tau_syn_ex,  dg_in/dt = -g_in / tau_syn_in
//   V >= V_peak (V_th when Delta_T = 0): spike, V = V_reset, w += b,
//   refractory for t_ref (V held at V_reset, w and g still evolve).
// Weights are conductance jumps in nS: positive ones add to g_ex, negative
// ones' magnitude to g_in, at the end of the step they arrive in (as NEST
// and spikeline's iaf_cond_exp do).
//
// Integration: classical fourth-order Runge-Kutta on (V, w, g_ex, g_in)
// with sub-steps of at most h_max (0.01 ms by default: 10 per step at
// dt = 0.1 ms), shortened so that V moves at most 0.25 mV in one: that
// touches only the upswing of a spike (dV/dt > 25 mV/ms), where the
// exponential term explodes; without it a spike is located only to within a
// sub-step (a fixed h = 0.01 ms put the 4th spike of a step current one
// whole step late). As in NEST, the right-hand side uses min(V, V_peak), so
// the exponential cannot overflow, and a spike is detected after each
// sub-step. NEST integrates the same equations with an adaptive RKF45
// (GSL) controlled by an error estimate; this rule is simpler, costs a
// fixed 10 sub-steps per step between spikes (about 2% more around them),
// and gives the same result on every machine and thread count. The test
// suite checks it against an independent integration 10x finer in h and
// 5x finer in V (tests/plugin/test_aeif.cpp): the same spike steps and V
// within 0.002 mV.
//
// Refractoriness (NEST's counting): a neuron spiking in step s is held at
// V_reset for the rest of step s and for steps s+1 .. s+R, R = t_ref / dt
// (whole steps). With t_ref = 0 a neuron may reach V_peak again in the same
// step; spikeline reports at most one spike per neuron and step, so that is
// an error (use a smaller dt or t_ref >= dt) rather than a lost spike.
//
// Parameters (NEST's names and defaults; Brette and Gerstner 2005)
//   C_m        pF   281     membrane capacitance (> 0)
//   g_L        nS   30      leak conductance (> 0)
//   E_L        mV   -70.6   leak reversal potential
//   V_th       mV   -50.4   spike initiation threshold
//   Delta_T    mV   2       slope factor (>= 0; 0: integrate-and-fire)
//   tau_w      ms   144     adaptation time constant (> 0)
//   a          nS   4       subthreshold adaptation
//   b          pA   80.5    spike-triggered adaptation
//   V_reset    mV   -60     reset potential (< V_peak)
//   t_ref      ms   0       refractory period (>= 0, whole steps)
//   V_peak     mV   0       spike detection threshold (>= V_th)
//   E_ex       mV   0       excitatory reversal potential
//   E_in       mV   -85     inhibitory reversal potential
//   tau_syn_ex ms   0.2     excitatory conductance time constant (> 0)
//   tau_syn_in ms   2       inhibitory conductance time constant (> 0)
//   I_e        pA   0       constant bias current
//   h_max      ms   0.01    longest Runge-Kutta sub-step (spikeline's, not NEST's)
// All but t_ref and h_max may vary per neuron.
//
// State: V_m (mV, initially each neuron's E_L, as NEST), w (pA), g_ex,
// g_in (nS), refractory (remaining refractory steps, an int32 counter).
//
// References
//   Brette R, Gerstner W (2005) Adaptive exponential integrate-and-fire model
//   as an effective description of neuronal activity. J Neurophysiol 94:3637.
//   NEST model aeif_cond_exp (models/aeif_cond_exp.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include <spikeline/plugin.hpp>

namespace sp = spikeline::plugin;

namespace {

struct AeifCondExp {
  static constexpr const char* name = "aeif_cond_exp";
  static constexpr const char* doc =
      "adaptive exponential integrate-and-fire, exponential conductance synapses (Brette and "
      "Gerstner 2005; NEST's aeif_cond_exp); RK4 with fixed sub-steps";

  enum {
    C_m,
    g_L,
    E_L,
    V_th,
    Delta_T,
    tau_w,
    a,
    b,
    V_reset,
    t_ref,
    V_peak,
    E_ex,
    E_in,
    tau_syn_ex,
    tau_syn_in,
    I_e,
    h_max
  };
  static constexpr spk_param params[] = {
      sp::param("C_m", "pF", 281.0, "membrane capacitance").positive().per_neuron(),
      sp::param("g_L", "nS", 30.0, "leak conductance").positive().per_neuron(),
      sp::param("E_L", "mV", -70.6, "leak reversal potential").per_neuron(),
      sp::param("V_th", "mV", -50.4, "spike initiation threshold").per_neuron(),
      sp::param("Delta_T", "mV", 2.0, "slope factor (0: integrate-and-fire)")
          .nonnegative()
          .per_neuron(),
      sp::param("tau_w", "ms", 144.0, "adaptation time constant").positive().per_neuron(),
      sp::param("a", "nS", 4.0, "subthreshold adaptation").per_neuron(),
      sp::param("b", "pA", 80.5, "spike-triggered adaptation").per_neuron(),
      sp::param("V_reset", "mV", -60.0, "reset potential (< V_peak)").per_neuron(),
      sp::param("t_ref", "ms", 0.0, "refractory period (whole steps)").nonnegative(),
      sp::param("V_peak", "mV", 0.0, "spike detection threshold (>= V_th)").per_neuron(),
      sp::param("E_ex", "mV", 0.0, "excitatory reversal potential").per_neuron(),
      sp::param("E_in", "mV", -85.0, "inhibitory reversal potential").per_neuron(),
      sp::param("tau_syn_ex", "ms", 0.2, "excitatory conductance time constant")
          .positive()
          .per_neuron(),
      sp::param("tau_syn_in", "ms", 2.0, "inhibitory conductance time constant")
          .positive()
          .per_neuron(),
      sp::param("I_e", "pA", 0.0, "constant bias current").per_neuron(),
      sp::param("h_max", "ms", 0.01, "longest Runge-Kutta sub-step").positive(),
  };

  enum { V_m, w, g_ex, g_in, refractory };
  static constexpr spk_state_var state[] = {
      sp::state("V_m", "mV", "membrane potential", -70.6),
      sp::state("w", "pA", "adaptation current", 0.0),
      sp::state("g_ex", "nS", "excitatory synaptic conductance", 0.0),
      sp::state("g_in", "nS", "inhibitory synaptic conductance", 0.0),
      sp::counter("refractory", "", "remaining refractory steps", 0),
  };

  // The largest change of V in one sub-step (mV), and the shortest sub-step
  // (a fraction of dt), see update().
  static constexpr double kMaxDeltaV = 0.25;
  static constexpr double kMinStep = 1e-9;

  struct Constants {
    std::int32_t substeps;   // per step
    double h;                // dt / substeps
    std::int32_t ref_steps;  // t_ref / dt
  };

  static void prepare(sp::Setup<AeifCondExp>& s) {
    auto& c = s.constants();
    const double dt = s.dt();
    c.substeps = static_cast<std::int32_t>(std::ceil(dt / s.param(h_max) - 1e-9));
    if (c.substeps < 1) c.substeps = 1;
    c.h = dt / c.substeps;
    const double steps = s.param(t_ref) / dt;
    if (std::abs(steps - std::round(steps)) > 1e-9 * std::max(1.0, steps)) {
      throw sp::Failure("t_ref = " + std::to_string(s.param(t_ref)) +
                        " ms is not a whole number of steps of dt = " + std::to_string(dt) + " ms");
    }
    if (steps >= 1e9) {
      throw sp::Failure("t_ref = " + std::to_string(s.param(t_ref)) + " ms is " +
                        std::to_string(steps) + " steps: at most 1e9 fit the refractory counter");
    }
    c.ref_steps = static_cast<std::int32_t>(std::round(steps));
    const std::uint32_t n = s.size();
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::string who = s.per_neuron(V_peak) || s.per_neuron(V_th) || s.per_neuron(V_reset) ||
                                      s.per_neuron(Delta_T)
                                  ? " (neuron " + std::to_string(i) + ")"
                                  : "";
      if (!(s.param(V_peak, i) >= s.param(V_th, i))) {
        throw sp::Failure("V_peak = " + std::to_string(s.param(V_peak, i)) +
                          " mV must be >= V_th = " + std::to_string(s.param(V_th, i)) + " mV" +
                          who);
      }
      if (!(s.param(V_reset, i) < s.param(V_peak, i))) {
        throw sp::Failure("V_reset = " + std::to_string(s.param(V_reset, i)) +
                          " mV must be < V_peak = " + std::to_string(s.param(V_peak, i)) + " mV" +
                          who);
      }
      // NEST's guard: exp((V_peak - V_th) / Delta_T) must stay far from overflow.
      if (s.param(Delta_T, i) > 0 &&
          (s.param(V_peak, i) - s.param(V_th, i)) / s.param(Delta_T, i) >= 600.0) {
        throw sp::Failure("(V_peak - V_th) / Delta_T is too large: exp() would overflow" + who);
      }
      if (who.empty()) break;  // the same parameters for every neuron
    }
  }

  // V_m starts at each neuron's E_L (NEST's initial state).
  static void initialize(sp::Initial<AeifCondExp>& s) {
    double* V = s.state(V_m);
    for (std::uint32_t i = 0; i < s.size(); ++i) V[i] = s.param(E_L, i);
  }

  // The right-hand side at y = (V, w, g_ex, g_in).
  struct Rhs {
    double C_m, g_L, E_L, V_th, Delta_T, tau_w, a, V_reset, V_peak, E_ex, E_in, tau_ex, tau_in, I;
    bool refractory;
    void operator()(const double* y, double* f) const {
      const double V = refractory ? V_reset : std::min(y[0], V_peak);
      const double spike = Delta_T > 0 ? g_L * Delta_T * std::exp((V - V_th) / Delta_T) : 0.0;
      const double I_syn = -y[2] * (V - E_ex) - y[3] * (V - E_in);
      f[0] = refractory ? 0.0 : (-g_L * (V - E_L) + spike + I_syn - y[1] + I) / C_m;
      f[1] = (a * (V - E_L) - y[1]) / tau_w;
      f[2] = -y[2] / tau_ex;
      f[3] = -y[3] / tau_in;
    }
  };

  template <class N>
  static void update(N& n) {
    const auto& c = n.constants();
    double* V = n.state(V_m);
    double* W = n.state(w);
    double* Gex = n.state(g_ex);
    double* Gin = n.state(g_in);
    std::int32_t* R = n.counter(refractory);
    for (std::uint32_t i = n.begin(); i < n.end(); ++i) {
      Rhs rhs{n.param(C_m, i),
              n.param(g_L, i),
              n.param(E_L, i),
              n.param(V_th, i),
              n.param(Delta_T, i),
              n.param(tau_w, i),
              n.param(a, i),
              n.param(V_reset, i),
              n.param(V_peak, i),
              n.param(E_ex, i),
              n.param(E_in, i),
              n.param(tau_syn_ex, i),
              n.param(tau_syn_in, i),
              n.param(I_e, i) + n.current(i),
              R[i] > 0};
      const double detect = rhs.Delta_T > 0 ? rhs.V_peak : rhs.V_th;
      double y[4] = {V[i], W[i], Gex[i], Gin[i]};
      bool spiked = false;
      // Sub-steps of at most c.h, and short enough that V moves at most
      // kMaxDeltaV: only the upswing of a spike (dV/dt > 25 mV/ms) is
      // subdivided, so its time is located within a tiny fraction of h.
      double s = 0.0;
      const double dt = n.dt();
      while (s < dt) {
        double k1[4], k2[4], k3[4], k4[4], t[4];
        rhs(y, k1);
        double hh = std::min(c.h, dt - s);
        if (k1[0] > 0) hh = std::min(hh, std::max(kMaxDeltaV / k1[0], kMinStep * dt));
        const bool last = dt - (s + hh) <= 1e-9 * dt;
        if (last) hh = dt - s;
        for (int j = 0; j < 4; ++j) t[j] = y[j] + 0.5 * hh * k1[j];
        rhs(t, k2);
        for (int j = 0; j < 4; ++j) t[j] = y[j] + 0.5 * hh * k2[j];
        rhs(t, k3);
        for (int j = 0; j < 4; ++j) t[j] = y[j] + hh * k3[j];
        rhs(t, k4);
        for (int j = 0; j < 4; ++j) y[j] += hh / 6.0 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j]);
        s = last ? dt : s + hh;
        if (rhs.refractory) {
          y[0] = rhs.V_reset;
        } else if (y[0] >= detect) {
          if (spiked) {
            throw sp::Failure("neuron " + std::to_string(i) +
                              " reached V_peak twice in one step: spikeline reports at most one "
                              "spike per neuron and step (use a smaller dt, or t_ref >= dt)");
          }
          spiked = true;
          y[0] = rhs.V_reset;
          y[1] += n.param(b, i);
          if (c.ref_steps > 0) {
            R[i] = c.ref_steps + 1;
            rhs.refractory = true;
          }
        }
      }
      if (R[i] > 0) R[i] -= 1;
      V[i] = y[0];
      W[i] = y[1];
      Gex[i] = y[2] + n.take_ex(i);
      Gin[i] = y[3] - n.take_in(i);
      if (spiked) n.spike(i);
    }
  }
};

}  // namespace

SPIKELINE_PLUGIN("aeif_cond_exp", "1.0", AeifCondExp)
