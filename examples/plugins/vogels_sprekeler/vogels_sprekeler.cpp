// vogels_sprekeler as a spikeline plugin: the inhibitory spike-timing rule
// of Vogels, Sprekeler, Zenke, Clopath and Gerstner (2011), a homeostatic
// rule that balances excitation with inhibition, with NEST's parameter
// names and defaults (vogels_sprekeler_synapse).
//
// Rule (symmetric in time, with one trace per side)
//   x_pre, x_post: spike traces, each jumps by 1 at a spike and decays with
//   tau; for a synapse from i to j,
//     presynaptic spike arrives:  w <- w + eta (x_post - alpha) Wmax
//     postsynaptic spike:         w <- w + eta x_pre Wmax
//   with the normalised weight w / Wmax kept in [0, 1] (w between 0 and
//   Wmax: Wmax < 0 for an inhibitory projection whose weights are
//   negative, as in NEST). Near-coincident spikes potentiate (the
//   inhibitory synapse grows stronger), every presynaptic spike depresses by
//   alpha: a postsynaptic neuron firing at rho0 = alpha / (2 tau) is the
//   fixed point, so inhibition grows until the target fires at rho0.
//   At a presynaptic arrival the depression is applied first, then the
//   potentiation (NEST's order; each with its clip).
//
// Timing (spikeline's convention for every rule, see docs/plugins.md): a
// presynaptic arrival and a postsynaptic spike in the same step count as
// pre before post; the postsynaptic trace an arrival reads counts the
// target's spikes of earlier steps only.
//
// Parameters
//   tau    ms  20     time constant of both traces (> 0)
//   eta    ""  0.001  learning rate (>= 0)
//   alpha  ""  0.12   depression per presynaptic spike; rho0 = alpha / (2 tau)
//   Wmax   ""  1      weight bound, of the sign of the weights (!= 0)
//
// State: per delay group x_pre and its step t_pre; per target neuron x_post
// and t_post (traces are decayed lazily, at the next event).
//
// Reference
//   Vogels TP, Sprekeler H, Zenke F, Clopath C, Gerstner W (2011) Inhibitory
//   plasticity balances excitation and inhibition in sensory pathways and
//   memory networks. Science 334:1569-1573.
//   NEST model vogels_sprekeler_synapse (models/vogels_sprekeler_synapse.h).
#include <cmath>
#include <string>

#include <spikeline/plugin.hpp>

namespace sp = spikeline::plugin;

namespace {

struct VogelsSprekeler : sp::LearningRule {
  static constexpr const char* name = "vogels_sprekeler";
  static constexpr const char* doc =
      "inhibitory STDP of Vogels et al. 2011 (homeostatic: drives the target to rho0 = alpha / "
      "(2 tau)); NEST's vogels_sprekeler_synapse";

  enum { tau, eta, alpha, Wmax };
  static constexpr spk_param params[] = {
      sp::param("tau", "ms", 20.0, "time constant of the pre- and postsynaptic traces").positive(),
      sp::param("eta", "", 0.001, "learning rate").nonnegative(),
      sp::param("alpha", "", 0.12, "depression per presynaptic spike (2 tau rho0)"),
      sp::param("Wmax", "", 1.0, "weight bound, of the sign of the weights (not 0)"),
  };
  enum { x_pre, t_pre };
  static constexpr spk_state_var pre_state[] = {
      sp::state("x_pre", "", "presynaptic trace after its last jump", 0.0),
      sp::state("t_pre", "", "step of its last jump", 0.0),
  };
  enum { x_post, t_post };
  static constexpr spk_state_var post_state[] = {
      sp::state("x_post", "", "postsynaptic trace after its last jump", 0.0),
      sp::state("t_post", "", "step of its last jump", 0.0),
  };

  struct Constants {
    double steps_per_tau;  // tau / dt
  };

  static void prepare(sp::RuleSetup<VogelsSprekeler>& s) {
    if (s.param(Wmax) == 0.0) throw sp::Failure("Wmax = 0: the weights could not change");
    s.constants().steps_per_tau = s.param(tau) / s.dt();
  }

  // Weights must lie between 0 and Wmax (of its sign).
  static void check_weights(const sp::RuleSetup<VogelsSprekeler>& s, double min, double max) {
    const double w_max = s.param(Wmax);
    const double lo = std::fmin(0.0, w_max), hi = std::fmax(0.0, w_max);
    if (min < lo || max > hi) {
      throw sp::Failure("initial weights in [" + std::to_string(min) + ", " + std::to_string(max) +
                        "] leave [" + std::to_string(lo) + ", " + std::to_string(hi) +
                        "], the range between 0 and Wmax = " + std::to_string(w_max));
    }
  }

  // The trace x (after its jump at step last) at step t.
  template <class E>
  static double decayed(const E& e, double x, double last) {
    if (x == 0.0) return 0.0;
    return x * std::exp(-(static_cast<double>(e.step()) - last) / e.constants().steps_per_tau);
  }
  template <class E>
  static void jump(const E& e, double& x, double& last) {
    x = decayed(e, x, last) + 1.0;
    last = static_cast<double>(e.step());
  }
  // NEST's facilitate_ and depress_ on the normalised weight.
  static double facilitate(double w, double w_max, double amount) {
    const double n = w / w_max + amount;
    return n < 1.0 ? n * w_max : w_max;
  }
  static double depress(double w, double w_max, double amount) {
    const double n = w / w_max - amount;
    return n > 0.0 ? n * w_max : 0.0;
  }

  static void on_pre(sp::Pre<VogelsSprekeler>& e) {
    const double w_max = e.param(Wmax), rate = e.param(eta), a = e.param(alpha);
    for (auto k = e.begin(); k < e.end(); ++k) {
      const auto j = e.target_of(k);
      const double y = decayed(e, e.post(x_post, j), e.post(t_post, j));
      double w = depress(e.weight(k), w_max, rate * a);
      e.weight(k) = facilitate(w, w_max, rate * y);
    }
    jump(e, e.pre(x_pre, e.group()), e.pre(t_pre, e.group()));
  }

  static void on_post(sp::Post<VogelsSprekeler>& e) {
    const double w_max = e.param(Wmax), rate = e.param(eta);
    for (std::uint32_t n = 0; n < e.count(); ++n) {
      const auto g = e.group(n), k = e.synapse(n);
      const double x = decayed(e, e.pre(x_pre, g), e.pre(t_pre, g));
      e.weight(k) = facilitate(e.weight(k), w_max, rate * x);
    }
    jump(e, e.post(x_post, e.target()), e.post(t_post, e.target()));
  }
};

}  // namespace

SPIKELINE_PLUGIN("vogels_sprekeler", "1.0", VogelsSprekeler)
