#include "spikeline/learning/triplet_stdp.hpp"

#include <algorithm>

namespace spikeline::learning {

std::size_t TripletStdp::table_size(const plugin::RuleSetup<TripletStdp>& s) {
  std::size_t n = 0;
  for (const auto tau : {tau_plus, tau_minus, tau_x, tau_y})
    n += decay_length(s.dt(), s.param(tau));
  return n;
}

void TripletStdp::prepare(plugin::RuleSetup<TripletStdp>& s) {
  check_bounds(s.param(w_min), s.param(w_max));
  Constants& c = s.constants();
  c.A2_plus = s.param(A2_plus);
  c.A3_plus = s.param(A3_plus);
  c.A2_minus = s.param(A2_minus);
  c.A3_minus = s.param(A3_minus);
  c.w_min = s.param(w_min);
  c.w_max = s.param(w_max);
  std::uint32_t offset = 0;
  c.plus = place_decay(offset, s.dt(), s.param(tau_plus));
  c.minus = place_decay(offset, s.dt(), s.param(tau_minus));
  c.x = place_decay(offset, s.dt(), s.param(tau_x));
  c.y = place_decay(offset, s.dt(), s.param(tau_y));
  c.nearest = s.choice(interaction) == nearest;
  for (const DecayTable& d : {c.plus, c.minus, c.x, c.y}) fill_decay(s.table(), d);
}

void TripletStdp::check_weights(const plugin::RuleSetup<TripletStdp>& s, double min, double max) {
  check_initial_weights(name, s.param(w_min), s.param(w_max), min, max);
}

void TripletStdp::on_pre(plugin::Pre<TripletStdp>& e) {
  const Constants& c = e.constants();
  const double* table = e.table();
  const Step t = e.step();
  const std::uint32_t g = e.group();
  const double last = e.pre(r_step, g);
  const double r2t = trace_at(table, c.x, e.pre(r2, g), last, t);  // before this arrival's jump
  const double* o1_value = e.post_row(o1);
  const double* o_last = &e.post(o_step, 0);
  for (std::uint32_t k = e.begin(); k < e.end(); ++k) {
    const std::uint32_t j = e.target_of(k);
    const double o1t = trace_at(table, c.minus, o1_value[j], o_last[j], t);
    if (o1t == 0) continue;
    double& w = e.weight(k);
    w = std::clamp(w - o1t * (c.A2_minus + c.A3_minus * r2t), c.w_min, c.w_max);
  }
  e.pre(r1, g) = trace_jump(table, c.plus, e.pre(r1, g), last, t, c.nearest);
  e.pre(r2, g) = trace_jump(table, c.x, e.pre(r2, g), last, t, c.nearest);
  e.pre(r_step, g) = static_cast<double>(t);
}

void TripletStdp::on_post(plugin::Post<TripletStdp>& e) {
  const Constants& c = e.constants();
  const double* table = e.table();
  const Step t = e.step();
  const std::uint32_t j = e.target();
  const double last = e.post(o_step, j);
  const double o2t = trace_at(table, c.y, e.post(o2, j), last, t);  // before this spike's jump
  for (std::uint32_t n = 0; n < e.count(); ++n) {
    const std::uint32_t g = e.group(n);
    const double r1t = trace_at(table, c.plus, e.pre(r1, g), e.pre(r_step, g), t);
    if (r1t == 0) continue;
    double& w = e.weight(e.synapse(n));
    w = std::clamp(w + r1t * (c.A2_plus + c.A3_plus * o2t), c.w_min, c.w_max);
  }
  e.post(o1, j) = trace_jump(table, c.minus, e.post(o1, j), last, t, c.nearest);
  e.post(o2, j) = trace_jump(table, c.y, e.post(o2, j), last, t, c.nearest);
  e.post(o_step, j) = static_cast<double>(t);
}

}  // namespace spikeline::learning
