// reward_stdp: reward-modulated STDP, the three-factor rule of Izhikevich
// (2007). STDP pairings do not change the weight directly; they mark the
// synapse as eligible, and the weight follows the eligibility while a
// neuromodulator (dopamine) is present:
//
//   dc/dt = -c / tau_c + STDP(pairings)        eligibility, per synapse
//   dw/dt = learning_rate * (tonic + D(t)) * c(t)
//
// D(t) is the concentration of the neuromodulator named by `modulator`
// (a [[neuromodulator]] with its own decay time tau_d and reward pulses).
// The pairings are those of stdp (traces x and y; pairing = "all" adds 1 at
// each spike, "nearest" sets the trace to 1, as Izhikevich's daspnet does):
//   postsynaptic spike at t:   c -> c + A_plus * x(t)
//   presynaptic arrival at t:  c -> c - A_minus * y(t)
// (arrival = emission + delay; an arrival and a postsynaptic spike in the
// same step count as pre before post).
//
// Exact and event-driven: c and D are exponentials between events, so the
// weight change between a synapse's events has a closed form,
//   Delta w = learning_rate * c0 * [ tonic tau_c (1 - e^{-T/tau_c})
//                                    + D(t0) (1 - e^{-lambda T}) / lambda
//                                    + sum over pulses k in (t0, t]
//                                      a_k e^{-(t_k - t0)/tau_c} (1 - e^{-lambda (t - t_k)}) /
//                                      lambda ],
//   lambda = 1/tau_c + 1/tau_d, T = t - t0,
// evaluated when a spike reaches the synapse or its target fires (and
// before weights are read); nothing visits the synapses every step. The
// weight is clipped to [w_min, w_max] at these updates. With Izhikevich's
// published discrete scheme (w += (0.002 + DA) c every 10 ms, c *= 0.99) the
// same dynamics correspond to learning_rate = 0.1 /ms, tonic = 0.002,
// tau_c = 1000 ms.
//
// Parameters
//   modulator                "dopamine" the neuromodulator read
//   tonic                    0.002  tonic dopamine level (>= 0)
//   learning_rate   1/ms     0.1    (> 0)
//   tau_c           ms       1000   eligibility time constant (> 0)
//   A_plus                   0.1    eligibility increment per causal pairing (>= 0)
//   A_minus                  0.15   eligibility decrement per acausal pairing (>= 0)
//   tau_plus        ms       20     (> 0)
//   tau_minus       ms       20     (> 0)
//   w_min                    0
//   w_max                    4      (> w_min)
//   pairing                  "all"  or "nearest"
//   U                        0.5    release fraction at rest, in (0, 1]
//   tau_rec         ms       0      recovery of the resources (0: no
//                                   short-term plasticity)
//   tau_facil       ms       0      facilitation (0: none; needs tau_rec > 0)
//
// Short-term plasticity of the learned weights (tau_rec > 0): each arrival
// delivers weight * u * x instead of the weight, with u and x following
// the Tsodyks-Markram recursion exactly as `tsodyks_markram` does
// (tsodyks_markram.hpp, lazy_trace.hpp); the learned weight w itself is unchanged by it. A
// learned assembly whose lateral weights are strong enough to ignite from
// noise then depresses its own synapses while it fires: the recurrent drive
// falls by the factor u x within a few spikes and recovers over tau_rec, a
// mechanism that can end the ignition (for EMBER's concept layer,
// docs/ember.md). With
// tau_rec = 0 the rule is the plain three-factor rule above, bit for bit.
// u and x are kept per delay group (one set per projection and group, as
// in tsodyks_markram); the synapse variables "u" and "x" are those of the
// latest arrival.
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (learning/src/builtin.cpp), as
// a plugin's learning rule is (ABI 1.4: the neuromodulator, lazy updates
// with sync and value, what an arrival delivers; ABI 1.7: "eligibility",
// "u" and "x" are recorded apart from the stored state). Stored state:
// per synapse the eligibility and the step it and the weight hold for; per
// delay group the presynaptic trace and, with short-term plasticity, u, x
// and the step of the latest arrival; per target the postsynaptic trace.
// The exponentials come from tables of exp(-n dt / tau) and
// 1 - exp(-n dt / tau), tau / dt long (lazy_trace.hpp), those of tau_d once
// the neuromodulator is known (prepare's second call).
//
// Reference: Izhikevich EM (2007) Solving the distal reward problem through
// linkage of STDP and dopamine signaling. Cereb Cortex 17:2443.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "spikeline/learning/lazy_trace.hpp"
#include "spikeline/plugin.hpp"

namespace spikeline::learning {

struct RewardStdp : plugin::LearningRule {
  static constexpr const char* name = "reward_stdp";
  static constexpr const char* doc =
      "reward-modulated STDP (Izhikevich 2007): eligibility traces, weight change (tonic + "
      "dopamine) x eligibility, integrated exactly between events";
  static constexpr const char* modulator = "dopamine";

  enum {
    tonic,
    learning_rate,
    tau_c,
    A_plus,
    A_minus,
    tau_plus,
    tau_minus,
    w_min,
    w_max,
    U,
    tau_rec,
    tau_facil
  };
  static constexpr spk_param params[] = {
      plugin::param("tonic", "", 0.002, "tonic dopamine level").nonnegative(),
      plugin::param("learning_rate", "1/ms", 0.1, "").positive(),
      plugin::param("tau_c", "ms", 1000.0, "eligibility time constant").positive(),
      plugin::param("A_plus", "", 0.1, "eligibility increment per causal pairing").nonnegative(),
      plugin::param("A_minus", "", 0.15, "eligibility decrement per acausal pairing").nonnegative(),
      plugin::param("tau_plus", "ms", 20.0, "presynaptic trace time constant").positive(),
      plugin::param("tau_minus", "ms", 20.0, "postsynaptic trace time constant").positive(),
      plugin::param("w_min", "", 0.0, "lower weight bound"),
      plugin::param("w_max", "", 4.0, "upper weight bound (> w_min)"),
      plugin::param("U", "", 0.5,
                    "short-term plasticity: release fraction at rest (with tau_rec > 0)")
          .positive()
          .at_most(1.0),
      plugin::param("tau_rec", "ms", 0.0,
                    "short-term depression: recovery time constant (0: no short-term plasticity)")
          .nonnegative(),
      plugin::param("tau_facil", "ms", 0.0,
                    "short-term facilitation time constant (0: none; needs tau_rec > 0)")
          .nonnegative(),
  };
  enum { pairing };
  enum Pairing : std::uint32_t { all, nearest };
  static constexpr const char* kPairings[] = {"all", "nearest"};
  static constexpr spk_choice choices[] = {plugin::choice("pairing", "spike pairing", kPairings)};

  // Stored per synapse (the weight beside them): c and the step w and c
  // hold for, both brought up to an event's step when it touches them.
  enum { eligibility, last };
  static constexpr spk_state_var synapse_state[] = {
      plugin::state("eligibility", "", "eligibility c at step `last`", 0.0),
      plugin::state("last", "", "the step the weight and c hold for", 0.0),
  };
  // Per delay group: the presynaptic trace after the last arrival and its
  // step; with short-term plasticity, u and x of the latest arrival and
  // its step (-1: none yet, the group at rest: u = U, x = 1).
  enum { x_pre, x_pre_step, u, x, arrival };
  static constexpr spk_state_var pre_state[] = {
      plugin::state("x_pre", "", "presynaptic trace after the last arrival", 0.0),
      plugin::state("x_pre_step", "", "step of the last arrival", 0.0),
      plugin::state("u", "", "short-term plasticity: u of the latest arrival", 0.0),
      plugin::state("x", "", "short-term plasticity: x of the latest arrival", 1.0),
      plugin::state("arrival", "", "short-term plasticity: step of the latest arrival (-1: none)",
                    -1.0),
  };
  enum { y, y_step };
  static constexpr spk_state_var post_state[] = {
      plugin::state("y", "", "postsynaptic trace after the last spike", 0.0),
      plugin::state("y_step", "", "step of the last spike", 0.0),
  };
  // What [[record_weights]] may name beside "weight" (ABI 1.7): u and x
  // only with short-term plasticity.
  static constexpr const char* kRecorded[] = {"eligibility", "u", "x"};

  struct Constants {
    double tonic, learning_rate, tau_c, A_plus, A_minus, w_min, w_max, U;
    double lambda;                // 1/tau_c + 1/tau_d, 1/ms (0 until the neuromodulator is known)
    DecayTable plus, minus;       // exp(-n dt / tau_plus), exp(-n dt / tau_minus)
    DecayTable decay_c, rise_c;   // exp(-n dt / tau_c), 1 - exp(-n dt / tau_c)
    DecayTable decay_d, rise_cd;  // exp(-n dt / tau_d), 1 - exp(-lambda n dt)
    DecayTable rec, facil;        // exp(-n dt / tau_rec), exp(-n dt / tau_facil)
    bool nearest, short_term, facilitation;
  };
  static std::size_t table_size(const plugin::RuleSetup<RewardStdp>& s);
  static void prepare(plugin::RuleSetup<RewardStdp>& s);
  static void check_weights(const plugin::RuleSetup<RewardStdp>& s, double min, double max);
  static bool delivers(const plugin::RuleSetup<RewardStdp>& s);
  static std::span<const char* const> recorded(const plugin::RuleSetup<RewardStdp>& s);
  static void on_pre(plugin::Pre<RewardStdp>& e);
  static void on_post(plugin::Post<RewardStdp>& e);
  static void sync(plugin::Sync<RewardStdp>& e);
  static double value(const plugin::Value<RewardStdp>& v, std::uint32_t var, std::uint32_t k);
};

}  // namespace spikeline::learning
