#include "spikeline/learning/reward_stdp.hpp"

#include <algorithm>
#include <cmath>

namespace spikeline::learning {

namespace {

using Setup = plugin::RuleSetup<RewardStdp>;
using C = RewardStdp::Constants;

// How many synapses ahead on_pre and on_post fetch the state they will touch.
constexpr std::uint32_t kAhead = 8;

// 1 - exp(-n dt / tau), from the table below its length (filled with the
// very expression used beyond it, as decay()).
double rise_beyond(const DecayTable& d, Step n) {
  return -std::expm1(-(static_cast<double>(n) * d.dt / d.tau));
}
void fill_rise(double* table, const DecayTable& d) {
  for (std::uint32_t n = 0; n < d.length; ++n) table[d.offset + n] = rise_beyond(d, n);
}
double rise(const double* table, const DecayTable& d, Step n) {
  return static_cast<std::uint64_t>(n) < d.length ? table[d.offset + n] : rise_beyond(d, n);
}

// The tables' places in the rule's table, and lambda. Those of tau_d wait
// for the neuromodulator (prepare's second call); until then they are empty.
std::uint32_t place_tables(const Setup& s, C& c) {
  const double dt = s.dt();
  std::uint32_t offset = 0;
  c.plus = place_decay(offset, dt, s.param(RewardStdp::tau_plus));
  c.minus = place_decay(offset, dt, s.param(RewardStdp::tau_minus));
  c.decay_c = place_decay(offset, dt, s.param(RewardStdp::tau_c));
  c.rise_c = place_decay(offset, dt, s.param(RewardStdp::tau_c));
  c.lambda = 0.0;
  c.decay_d = c.rise_cd = DecayTable{offset, 0, dt, 1.0};
  if (s.modulator_known()) {
    c.lambda = 1.0 / s.param(RewardStdp::tau_c) + 1.0 / s.modulator_tau();
    c.decay_d = place_decay(offset, dt, s.modulator_tau());
    c.rise_cd = place_decay(offset, dt, 1.0 / c.lambda);
  }
  c.rec = c.facil = DecayTable{offset, 0, dt, 1.0};
  if (s.param(RewardStdp::tau_rec) > 0)
    c.rec = place_decay(offset, dt, s.param(RewardStdp::tau_rec));
  if (s.param(RewardStdp::tau_facil) > 0) {
    c.facil = place_decay(offset, dt, s.param(RewardStdp::tau_facil));
  }
  return offset;
}

struct WeightAndEligibility {
  double w, c;
};

// w and c of synapse k at step t (>= its last update), from the closed
// form over the pulses at steps <= t (e.pulses()).
template <class E>
WeightAndEligibility integrate(const E& e, const C& c, const double* table, std::uint32_t k,
                               Step t) {
  const Step t0 = static_cast<Step>(e.synapse(RewardStdp::last, k));
  const double c0 = e.synapse(RewardStdp::eligibility, k);
  const double w = e.weight(k);
  if (t == t0 || c0 == 0) return {w, c0};  // no eligibility: neither c nor w moves
  const Step T = t - t0;
  // D(t0): the level just after the last pulse at or before t0, decayed.
  // Pulses in (t0, t]: [first, until). Walking back from the end is
  // shorter than a search, as a synapse's last event is rarely many
  // rewards ago.
  const auto pulses = e.pulses();
  const std::size_t until = pulses.size();
  std::size_t first = until;
  while (first > 0 && pulses[first - 1].step > t0) --first;
  const double d0 = first == 0 ? 0.0
                               : pulses[first - 1].level_after *
                                     decay(table, c.decay_d, t0 - pulses[first - 1].step);
  double integral =
      c.tonic * c.tau_c * rise(table, c.rise_c, T) + d0 * rise(table, c.rise_cd, T) / c.lambda;
  for (std::size_t n = first; n < until; ++n) {
    integral += pulses[n].amount * decay(table, c.decay_c, pulses[n].step - t0) *
                rise(table, c.rise_cd, t - pulses[n].step) / c.lambda;
  }
  return {std::clamp(w + c.learning_rate * c0 * integral, c.w_min, c.w_max),
          c0 * decay(table, c.decay_c, T)};
}

// Brings w and c of synapse k from its last update to the event's step.
template <class E>
void advance(const E& e, const C& c, const double* table, std::uint32_t k) {
  const Step t = e.step();
  double& last = e.synapse(RewardStdp::last, k);
  if (static_cast<Step>(last) == t) return;
  const auto now = integrate(e, c, table, k, t);
  last = static_cast<double>(t);
  e.weight(k) = now.w;
  e.synapse(RewardStdp::eligibility, k) = now.c;
}

// Short-term plasticity: an arrival at group g at step t (lazy_trace.hpp).
double arrive(const plugin::Pre<RewardStdp>& e, const C& c, const double* table, std::uint32_t g,
              Step t) {
  return short_term_arrival(table, c.rec, c.facil, c.facilitation, c.U, e.pre(RewardStdp::u, g),
                            e.pre(RewardStdp::x, g), e.pre(RewardStdp::arrival, g), t);
}

}  // namespace

std::size_t RewardStdp::table_size(const Setup& s) {
  C c{};
  return place_tables(s, c);
}

void RewardStdp::prepare(Setup& s) {
  check_bounds(s.param(w_min), s.param(w_max));
  if (s.param(tau_facil) > 0 && s.param(tau_rec) == 0) {
    throw plugin::Failure(fmt::format(
        "tau_facil = {} ms needs short-term depression: set tau_rec > 0 (it is 0, which turns "
        "short-term plasticity off)",
        s.param(tau_facil)));
  }
  C& c = s.constants();
  c.tonic = s.param(tonic);
  c.learning_rate = s.param(learning_rate);
  c.tau_c = s.param(tau_c);
  c.A_plus = s.param(A_plus);
  c.A_minus = s.param(A_minus);
  c.w_min = s.param(w_min);
  c.w_max = s.param(w_max);
  c.U = s.param(U);
  c.nearest = s.choice(pairing) == nearest;
  c.short_term = s.param(tau_rec) > 0;
  c.facilitation = s.param(tau_facil) > 0;
  place_tables(s, c);
  double* table = s.table();
  for (const DecayTable* d : {&c.plus, &c.minus, &c.decay_c, &c.decay_d, &c.rec, &c.facil})
    fill_decay(table, *d);
  fill_rise(table, c.rise_c);
  fill_rise(table, c.rise_cd);
}

void RewardStdp::check_weights(const Setup& s, double min, double max) {
  check_initial_weights(name, s.param(w_min), s.param(w_max), min, max);
}

bool RewardStdp::delivers(const Setup& s) {
  return s.param(tau_rec) > 0;
}

std::span<const char* const> RewardStdp::recorded(const Setup& s) {
  return {kRecorded, s.param(tau_rec) > 0 ? std::size(kRecorded) : 1};
}

void RewardStdp::on_pre(plugin::Pre<RewardStdp>& e) {
  const C& c = e.constants();
  const double* table = e.table();
  const Step t = e.step();
  const std::uint32_t g = e.group();
  // Short-term plasticity: the arrival's factor u x scales each weight as
  // advance() brings it up to t (in the same pass).
  const double scale = c.short_term ? arrive(e, c, table, g, t) : 1.0;
  const double* y_value = e.post_row(y);
  const double* y_last = e.post_row(y_step);
  // A group's synapses are contiguous, but their targets' traces are
  // scattered: each one a cache miss in a large projection, fetched
  // kAhead synapses ahead (see on_post).
  const std::uint32_t end = e.end();
  for (std::uint32_t k = e.begin(); k < end; ++k) {
    if (k + kAhead < end) {
      const std::uint32_t ahead = e.target_of(k + kAhead);
      __builtin_prefetch(y_value + ahead);
      __builtin_prefetch(y_last + ahead);
    }
    advance(e, c, table, k);
    if (c.short_term) {
      // The weight as delivered (a float), scaled.
      e.delivered(k) =
          static_cast<float>(static_cast<double>(static_cast<float>(e.weight(k))) * scale);
    }
    const std::uint32_t j = e.target_of(k);
    e.synapse(eligibility, k) -= c.A_minus * trace_at(table, c.minus, y_value[j], y_last[j], t);
  }
  trace_spike(table, c.plus, e.pre(x_pre, g), e.pre(x_pre_step, g), t, c.nearest);
}

void RewardStdp::on_post(plugin::Post<RewardStdp>& e) {
  const C& c = e.constants();
  const double* table = e.table();
  const Step t = e.step();
  // The arrays, not the addresses of their first elements: a partition may
  // hold none of the neuron's synapses, and its arrays then none at all.
  const double* x_value = e.pre_row(x_pre);
  const double* x_last = e.pre_row(x_pre_step);
  const double* weight = e.weights();
  const double* elig = e.synapse_row(eligibility);
  const double* since = e.synapse_row(last);
  // The synapses onto one neuron lie wherever their sources' rows put them:
  // each synapse's state and its group's trace are cache misses, and the
  // loop waited on them one after another (EMBER's substrate, 8e6 lateral
  // synapses at 0.02 Hz: 95% of advance() on the load of the state).
  // Their indices are known, so they are fetched ahead: the traces
  // 2 kAhead synapses ahead, a synapse's weight, eligibility and step
  // kAhead ahead, and only when its trace will make a pairing.
  //
  // A synapse whose presynaptic trace has decayed to exactly 0 (exp
  // underflows: no arrival for about 745 tau_plus, 15 s at 20 ms) makes
  // no pairing, so it is not touched at all: c gains nothing, and bringing
  // w and c up to t now or at the synapse's next event gives the same
  // values, as the closed form is exact over any interval (to rounding:
  // the interval is integrated in one piece instead of two). Nothing reads
  // the synapse in between without integrating it first (on_pre advances
  // it before its weight is delivered; recording and sync integrate it).
  // In EMBER's idle substrate (0.005-0.01 Hz) that is 86-93% of them, and
  // on_post was a third of the loop.
  const std::uint32_t count = e.count();
  for (std::uint32_t n = 0; n < count; ++n) {
    if (n + 2 * kAhead < count) {
      const std::uint32_t g = e.group(n + 2 * kAhead);
      __builtin_prefetch(x_value + g);
      __builtin_prefetch(x_last + g);
    }
    if (n + kAhead < count && x_value[e.group(n + kAhead)] != 0) {
      const std::uint32_t k = e.synapse(n + kAhead);
      __builtin_prefetch(weight + k, 1);
      __builtin_prefetch(elig + k, 1);
      __builtin_prefetch(since + k, 1);
    }
    const std::uint32_t g = e.group(n);
    const double xt = trace_at(table, c.plus, x_value[g], x_last[g], t);
    if (xt == 0) continue;
    const std::uint32_t k = e.synapse(n);
    advance(e, c, table, k);
    e.synapse(eligibility, k) += c.A_plus * xt;
  }
  trace_spike(table, c.minus, e.post(y, e.target()), e.post(y_step, e.target()), t, c.nearest);
}

void RewardStdp::sync(plugin::Sync<RewardStdp>& e) {
  const C& c = e.constants();
  const double* table = e.table();
  for (std::uint32_t k = e.begin(); k < e.end(); ++k) advance(e, c, table, k);
}

double RewardStdp::value(const plugin::Value<RewardStdp>& v, std::uint32_t var, std::uint32_t k) {
  const C& c = v.constants();
  if (var >= 2) {
    // u and x of the group's latest arrival (at rest before any).
    const std::uint32_t g = v.group_of(k);
    const bool rest = v.pre(arrival, g) < 0;
    if (var == 2) return rest ? c.U : v.pre(u, g);
    return rest ? 1.0 : v.pre(x, g);
  }
  const auto now = integrate(v, c, v.table(), k, v.step());
  return var == 0 ? now.w : now.c;
}

}  // namespace spikeline::learning
