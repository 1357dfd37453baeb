// A plugin of learning rules that use plugin ABI 1.4, written with the C++
// layer (spikeline/plugin.hpp) as an author outside spikeline would: a
// reward-modulated rule that is not built in, and a rule that changes what
// a spike delivers. tests/cli/test_plugin_modulated.py checks both against
// their equations, computed there independently.
//
// dopamine_hebb: a Hebbian rule gated by a neuromodulator,
//
//   dw/dt = eta D(t) x(t) y(t)
//   x (per delay group)   dx/dt = -x / tau_x,  x -> x + 1 at each arrival
//   y (per target)        dy/dt = -y / tau_y,  y -> y + 1 at each spike
//   D                     the [[neuromodulator]] named by `modulator`
//                         (no default: the config names it)
//
// integrated exactly and lazily: a synapse is brought up to the step of
// each of its events (an arrival at its group, a spike of its target),
// and x and y jump only at those events, so between two of them
// x(s) y(s) = x0 y0 exp(-b (s - t0)), b = 1/tau_x + 1/tau_y, and D is
// level exp(-(s - s_i) / tau_d) between pulses: the integral of D x y over
// each stretch between pulses is closed form,
//   x0 y0 e^{-b (s_i - t0)} D(s_i) (1 - e^{-(b + 1/tau_d)(s_{i+1} - s_i)}) / (b + 1/tau_d).
// The weight is unbounded (the test needs no bounds). sync() brings every
// synapse up to a step (the end of a run); value() gives the weight and
// the synapse variable `gated` (the integral of D x y so far, ms) at a step
// without writing anything.
//
// geometric_release: weights never change, but the n-th arrival (n = 0, 1,
// ...) at a delay group delivers weight * U^n (a crude depression: every
// spike spends a fraction 1 - U of what is left, which never recovers).
#include <cmath>
#include <cstdint>

#include "spikeline/plugin.hpp"

namespace sp = spikeline::plugin;

namespace {

struct DopamineHebb : sp::LearningRule {
  static constexpr const char* name = "dopamine_hebb";
  static constexpr const char* doc =
      "Hebbian learning gated by a neuromodulator: dw/dt = eta D x y (test plugin, ABI 1.4)";
  static constexpr const char* modulator = "";  // the config must name one

  enum { eta, tau_x, tau_y };
  static constexpr spk_param params[] = {
      sp::param("eta", "1/ms", 0.01, "learning rate").nonnegative(),
      sp::param("tau_x", "ms", 20.0, "presynaptic trace time constant").positive(),
      sp::param("tau_y", "ms", 20.0, "postsynaptic trace time constant").positive(),
  };
  enum { gated, last };
  static constexpr spk_state_var synapse_state[] = {
      sp::state("gated", "ms", "the integral of D x y up to `last`", 0.0),
      sp::state("last", "", "the step the synapse holds for", 0.0),
  };
  enum { x, x_step };
  static constexpr spk_state_var pre_state[] = {
      sp::state("x", "", "presynaptic trace after the last arrival", 0.0),
      sp::state("x_step", "", "step of the last arrival", 0.0),
  };
  enum { y, y_step };
  static constexpr spk_state_var post_state[] = {
      sp::state("y", "", "postsynaptic trace after the last spike", 0.0),
      sp::state("y_step", "", "step of the last spike", 0.0),
  };

  struct Constants {
    double rate_b;  // 1/tau_x + 1/tau_y, 1/ms
    double rate_d;  // 1/tau_d (0 until the neuromodulator is known)
  };
  static void prepare(sp::RuleSetup<DopamineHebb>& s) {
    Constants& c = s.constants();
    c.rate_b = 1.0 / s.param(tau_x) + 1.0 / s.param(tau_y);
    c.rate_d = s.modulator_known() ? 1.0 / s.modulator_tau() : 0.0;
  }

  // The integral of D x y over (t0, t] for a synapse whose traces are x0
  // and y0 at t0 (no jump of either in between).
  template <class E>
  static double integral(const E& e, double x0, double y0, std::int64_t t0, std::int64_t t) {
    if (t <= t0 || x0 == 0 || y0 == 0) return 0.0;
    const Constants& c = e.constants();
    const double dt = e.dt(), rate = c.rate_b + c.rate_d;
    const auto pulses = e.pulses();
    // The pulses in (t0, t]: they start where D(t0) stops counting.
    std::size_t n = pulses.size();
    while (n > 0 && pulses[n - 1].step > t0) --n;
    double sum = 0.0;
    std::int64_t from = t0;
    double level = e.level(t0);
    for (;; ++n) {
      const std::int64_t to = n < pulses.size() ? pulses[n].step : t;
      sum += std::exp(-c.rate_b * static_cast<double>(from - t0) * dt) * level *
             (1.0 - std::exp(-rate * static_cast<double>(to - from) * dt)) / rate;
      if (n >= pulses.size()) break;
      from = to;
      level = pulses[n].level_after;
    }
    return x0 * y0 * sum;
  }
  template <class E>
  static double trace(const E& e, double value, double since, double tau, std::int64_t t) {
    return value * std::exp(-(static_cast<double>(t) - since) * e.dt() / tau);
  }
  // The integral of synapse k from its last update to t.
  template <class E>
  static double gain(const E& e, std::uint32_t g, std::uint32_t k, std::int64_t t) {
    const auto t0 = static_cast<std::int64_t>(e.synapse(last, k));
    const std::uint32_t j = e.target_of(k);
    const double x0 = trace(e, e.pre(x, g), e.pre(x_step, g), e.param(tau_x), t0);
    const double y0 = trace(e, e.post(y, j), e.post(y_step, j), e.param(tau_y), t0);
    return integral(e, x0, y0, t0, t);
  }
  template <class E>
  static void advance(const E& e, std::uint32_t g, std::uint32_t k) {
    const double dg = gain(e, g, k, e.step());
    e.synapse(gated, k) += dg;
    e.weight(k) += e.param(eta) * dg;
    e.synapse(last, k) = static_cast<double>(e.step());
  }
  template <class E>
  static double jump(const E& e, double value, double since, double tau) {
    return trace(e, value, since, tau, e.step()) + 1.0;
  }

  static void on_pre(sp::Pre<DopamineHebb>& e) {
    for (std::uint32_t k = e.begin(); k < e.end(); ++k) advance(e, e.group(), k);
    e.pre(x, e.group()) = jump(e, e.pre(x, e.group()), e.pre(x_step, e.group()), e.param(tau_x));
    e.pre(x_step, e.group()) = static_cast<double>(e.step());
  }
  static void on_post(sp::Post<DopamineHebb>& e) {
    for (std::uint32_t n = 0; n < e.count(); ++n) advance(e, e.group(n), e.synapse(n));
    const std::uint32_t j = e.target();
    e.post(y, j) = jump(e, e.post(y, j), e.post(y_step, j), e.param(tau_y));
    e.post(y_step, j) = static_cast<double>(e.step());
  }
  static void sync(sp::Sync<DopamineHebb>& e) {
    for (std::uint32_t k = e.begin(); k < e.end(); ++k) advance(e, e.group_of(k), k);
  }
  static double value(const sp::Value<DopamineHebb>& v, std::uint32_t var, std::uint32_t k) {
    const double dg = gain(v, v.group_of(k), k, v.step());
    return var == 0           ? v.weight(k) + v.param(eta) * dg
           : var == 1 + gated ? v.synapse(gated, k) + dg
                              : static_cast<double>(v.step());  // last, once brought up
  }
};

struct GeometricRelease : sp::LearningRule {
  static constexpr const char* name = "geometric_release";
  static constexpr const char* doc =
      "the n-th arrival at a delay group delivers weight * U^n (test plugin, ABI 1.4)";
  static constexpr bool delivers = true;
  enum { U };
  static constexpr spk_param params[] = {
      sp::param("U", "", 0.5, "what each arrival leaves for the next").positive().at_most(1.0)};
  enum { n };
  static constexpr spk_state_var pre_state[] = {
      sp::state("n", "", "arrivals at the group so far", 0.0)};

  static void on_pre(sp::Pre<GeometricRelease>& e) {
    double& count = e.pre(n, e.group());
    const double scale = std::pow(e.param(U), count);
    for (std::uint32_t k = e.begin(); k < e.end(); ++k)
      e.delivered(k) = static_cast<float>(e.weight(k) * scale);
    count += 1.0;
  }
  static void on_post(sp::Post<GeometricRelease>&) {}
};

}  // namespace

SPIKELINE_PLUGIN("modulated", "1.0", DopamineHebb, GeometricRelease)
