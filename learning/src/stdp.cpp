#include "spikeline/learning/stdp.hpp"

#include <algorithm>

namespace spikeline::learning {

namespace {
// The new weight of a synapse, clipped to the bounds when additive.
double bounded(const Stdp::Constants& c, double w) {
  return c.additive ? std::clamp(w, c.w_min, c.w_max) : w;
}
}  // namespace

std::size_t Stdp::table_size(const plugin::RuleSetup<Stdp>& s) {
  return std::size_t{decay_length(s.dt(), s.param(tau_plus))} +
         decay_length(s.dt(), s.param(tau_minus));
}

void Stdp::prepare(plugin::RuleSetup<Stdp>& s) {
  check_bounds(s.param(w_min), s.param(w_max));
  Constants& c = s.constants();
  c.A_plus = s.param(A_plus);
  c.A_minus = s.param(A_minus);
  c.w_min = s.param(w_min);
  c.w_max = s.param(w_max);
  std::uint32_t offset = 0;
  c.plus = place_decay(offset, s.dt(), s.param(tau_plus));
  c.minus = place_decay(offset, s.dt(), s.param(tau_minus));
  c.additive = s.choice(weight_dependence) == additive;
  c.nearest = s.choice(pairing) == nearest;
  fill_decay(s.table(), c.plus);
  fill_decay(s.table(), c.minus);
}

void Stdp::check_weights(const plugin::RuleSetup<Stdp>& s, double min, double max) {
  check_initial_weights(name, s.param(w_min), s.param(w_max), min, max);
}

void Stdp::on_pre(plugin::Pre<Stdp>& e) {
  const Constants& c = e.constants();
  const double* table = e.table();
  const Step t = e.step();
  const double* y_value = e.post_row(y);
  const double* y_last = e.post_row(y_step);
  for (std::uint32_t k = e.begin(); k < e.end(); ++k) {
    const std::uint32_t j = e.target_of(k);
    const double yt = trace_at(table, c.minus, y_value[j], y_last[j], t);
    if (yt == 0) continue;
    double& w = e.weight(k);
    w = bounded(c, w - c.A_minus * (c.additive ? 1.0 : w - c.w_min) * yt);
  }
  trace_spike(table, c.plus, e.pre(x, e.group()), e.pre(x_step, e.group()), t, c.nearest);
}

void Stdp::on_post(plugin::Post<Stdp>& e) {
  const Constants& c = e.constants();
  const double* table = e.table();
  const Step t = e.step();
  for (std::uint32_t n = 0; n < e.count(); ++n) {
    const std::uint32_t g = e.group(n);
    const double xt = trace_at(table, c.plus, e.pre(x, g), e.pre(x_step, g), t);
    if (xt == 0) continue;
    double& w = e.weight(e.synapse(n));
    w = bounded(c, w + c.A_plus * (c.additive ? 1.0 : c.w_max - w) * xt);
  }
  trace_spike(table, c.minus, e.post(y, e.target()), e.post(y_step, e.target()), t, c.nearest);
}

}  // namespace spikeline::learning
