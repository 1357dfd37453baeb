#include "spikeline/learning/stdp.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/exp.hpp"
#include "spikeline/engine/time_grid.hpp"

namespace spikeline::learning {

namespace {

// The steps a table covers: 20 tau, but at least 1,024 (a neuron silent for
// longer than 20 trace time constants is common at low rates, and exp costs
// more than a few kilobytes of table), at most 65,536 (as trace.hpp's Decay).
std::uint32_t table_length(double dt, double tau) {
  return static_cast<std::uint32_t>(
      std::clamp(static_cast<int>(std::min(20.0 * tau / dt, 65535.0)) + 1, 1024, 1 << 16));
}

// exp(-n dt / tau); the table holds the first entries, computed with this
// very expression, so a lookup gives the same bits as the call.
double decay_at(const double* table, std::uint32_t length, double dt, double tau, Step n) {
  return static_cast<std::uint64_t>(n) < length ? table[n]
                                                : exp_neg(static_cast<double>(n) * dt / tau);
}

// A lazily kept trace (value after its last jump, the jump's step) at step t.
double trace_at(double value, double last, Step t, const double* table, std::uint32_t length,
                double dt, double tau) {
  return value == 0 ? 0.0 : value * decay_at(table, length, dt, tau, t - static_cast<Step>(last));
}

// The new weight of a synapse, clipped to the bounds when additive.
double bounded(const Stdp::Constants& c, double w) {
  return c.additive ? std::clamp(w, c.w_min, c.w_max) : w;
}

}  // namespace

std::size_t Stdp::table_size(const plugin::RuleSetup<Stdp>& s) {
  return std::size_t{table_length(s.dt(), s.param(tau_plus))} +
         table_length(s.dt(), s.param(tau_minus));
}

void Stdp::prepare(plugin::RuleSetup<Stdp>& s) {
  if (!(s.param(w_min) < s.param(w_max))) {
    throw plugin::Failure(
        fmt::format("w_min = {} must be below w_max = {}", s.param(w_min), s.param(w_max)));
  }
  Constants& c = s.constants();
  c.A_plus = s.param(A_plus);
  c.A_minus = s.param(A_minus);
  c.w_min = s.param(w_min);
  c.w_max = s.param(w_max);
  c.dt = s.dt();
  c.tau_plus = s.param(tau_plus);
  c.tau_minus = s.param(tau_minus);
  c.n_plus = table_length(c.dt, c.tau_plus);
  c.n_minus = table_length(c.dt, c.tau_minus);
  c.additive = s.choice(weight_dependence) == additive;
  c.nearest = s.choice(pairing) == nearest;
  double* plus = s.table();
  double* minus = plus + c.n_plus;
  for (std::uint32_t n = 0; n < c.n_plus; ++n)
    plus[n] = exp_neg(static_cast<double>(n) * c.dt / c.tau_plus);
  for (std::uint32_t n = 0; n < c.n_minus; ++n)
    minus[n] = exp_neg(static_cast<double>(n) * c.dt / c.tau_minus);
}

void Stdp::check_weights(const plugin::RuleSetup<Stdp>& s, double min, double max) {
  if (!(min >= s.param(w_min) && max <= s.param(w_max))) {
    throw plugin::Failure(fmt::format(
        "stdp needs every initial weight in [w_min, w_max] = [{}, {}]; the weights range over "
        "[{}, {}]",
        s.param(w_min), s.param(w_max), min, max));
  }
}

void Stdp::on_pre(plugin::Pre<Stdp>& e) {
  const Constants& c = e.constants();
  const double* minus = e.table() + c.n_plus;
  const Step t = e.step();
  const double* y_value = &e.post(y, 0);
  const double* y_last = &e.post(y_step, 0);
  for (std::uint32_t k = e.begin(); k < e.end(); ++k) {
    const std::uint32_t j = e.target_of(k);
    const double yt = trace_at(y_value[j], y_last[j], t, minus, c.n_minus, c.dt, c.tau_minus);
    if (yt == 0) continue;
    double& w = e.weight(k);
    w = bounded(c, w - c.A_minus * (c.additive ? 1.0 : w - c.w_min) * yt);
  }
  double& x_value = e.pre(x, e.group());
  double& x_last = e.pre(x_step, e.group());
  x_value =
      c.nearest ? 1.0 : trace_at(x_value, x_last, t, e.table(), c.n_plus, c.dt, c.tau_plus) + 1.0;
  x_last = static_cast<double>(t);
}

void Stdp::on_post(plugin::Post<Stdp>& e) {
  const Constants& c = e.constants();
  const double* plus = e.table();
  const Step t = e.step();
  for (std::uint32_t n = 0; n < e.count(); ++n) {
    const std::uint32_t g = e.group(n);
    const double xt = trace_at(e.pre(x, g), e.pre(x_step, g), t, plus, c.n_plus, c.dt, c.tau_plus);
    if (xt == 0) continue;
    double& w = e.weight(e.synapse(n));
    w = bounded(c, w + c.A_plus * (c.additive ? 1.0 : c.w_max - w) * xt);
  }
  double& y_value = e.post(y, e.target());
  double& y_last = e.post(y_step, e.target());
  y_value = c.nearest
                ? 1.0
                : trace_at(y_value, y_last, t, plus + c.n_plus, c.n_minus, c.dt, c.tau_minus) + 1.0;
  y_last = static_cast<double>(t);
}

}  // namespace spikeline::learning
