// triplet_stdp: the triplet rule of Pfister and Gerstner (2006).
//
// Two presynaptic traces (r1 fast, r2 slow) and two postsynaptic ones (o1
// fast, o2 slow), each decaying exponentially and jumping at its side's
// spikes (arrivals at the synapse for r1, r2):
//
//   dr1/dt = -r1 / tau_plus    dr2/dt = -r2 / tau_x
//   do1/dt = -o1 / tau_minus   do2/dt = -o2 / tau_y
//
//   presynaptic arrival at t:  w -> w - o1(t) (A2_minus + A3_minus r2(t-))
//                              then r1, r2 jump
//   postsynaptic spike at t:   w -> w + r1(t) (A2_plus + A3_plus o2(t-))
//                              then o1, o2 jump
//
// where r2(t-), o2(t-) are the slow traces just before the spike's own jump.
// A jump is +1 with interaction = "all" (all-to-all) or a reset to 1 with
// interaction = "nearest" (Pfister and Gerstner's nearest-spike model).
// Weights are kept in [w_min, w_max] by clipping (additive rule). As for
// stdp, an arrival and a postsynaptic spike in the same step count as pre
// before post.
//
// Parameters (defaults: visual cortex, all-to-all, full model; Table 4 of the paper)
//   A2_plus          5e-10   pair potentiation
//   A3_plus          6.2e-3  triplet potentiation
//   A2_minus         7e-3    pair depression
//   A3_minus         2.3e-4  triplet depression
//   tau_plus   ms    16.8    r1
//   tau_minus  ms    33.7    o1
//   tau_x      ms    101     r2
//   tau_y      ms    125     o2
//   w_min            0
//   w_max            1       (> w_min)
//   interaction      "all"   "all" or "nearest"
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (learning/src/builtin.cpp), as
// a plugin's learning rule is; its traces are state variables (r1, r2 and
// the step of their last jump per delay group; o1, o2 and theirs per
// target), kept lazily (lazy_trace.hpp).
//
// Reference: Pfister JP, Gerstner W (2006) Triplets of spikes in a model of
// spike timing-dependent plasticity. J Neurosci 26:9673.
#pragma once

#include <cstddef>
#include <cstdint>

#include "spikeline/learning/lazy_trace.hpp"
#include "spikeline/plugin.hpp"

namespace spikeline::learning {

struct TripletStdp : plugin::LearningRule {
  static constexpr const char* name = "triplet_stdp";
  static constexpr const char* doc =
      "triplet STDP (Pfister and Gerstner 2006), all-to-all or nearest-spike";

  enum { A2_plus, A3_plus, A2_minus, A3_minus, tau_plus, tau_minus, tau_x, tau_y, w_min, w_max };
  static constexpr spk_param params[] = {
      plugin::param("A2_plus", "", 5e-10, "pair potentiation").nonnegative(),
      plugin::param("A3_plus", "", 6.2e-3, "triplet potentiation").nonnegative(),
      plugin::param("A2_minus", "", 7e-3, "pair depression").nonnegative(),
      plugin::param("A3_minus", "", 2.3e-4, "triplet depression").nonnegative(),
      plugin::param("tau_plus", "ms", 16.8, "fast presynaptic trace r1").positive(),
      plugin::param("tau_minus", "ms", 33.7, "fast postsynaptic trace o1").positive(),
      plugin::param("tau_x", "ms", 101.0, "slow presynaptic trace r2").positive(),
      plugin::param("tau_y", "ms", 125.0, "slow postsynaptic trace o2").positive(),
      plugin::param("w_min", "", 0.0, "lower weight bound"),
      plugin::param("w_max", "", 1.0, "upper weight bound (> w_min)"),
  };
  enum { interaction };
  enum Interaction : std::uint32_t { all, nearest };
  static constexpr const char* kInteractions[] = {"all", "nearest"};
  static constexpr spk_choice choices[] = {
      plugin::choice("interaction", "spike interaction", kInteractions)};

  // Both traces of a side jump together: one step of the last jump each.
  enum { r1, r2, r_step };
  static constexpr spk_state_var pre_state[] = {
      plugin::state("r1", "", "fast presynaptic trace after the last arrival", 0.0),
      plugin::state("r2", "", "slow presynaptic trace after the last arrival", 0.0),
      plugin::state("r_step", "", "step of the last arrival", 0.0),
  };
  enum { o1, o2, o_step };
  static constexpr spk_state_var post_state[] = {
      plugin::state("o1", "", "fast postsynaptic trace after the last spike", 0.0),
      plugin::state("o2", "", "slow postsynaptic trace after the last spike", 0.0),
      plugin::state("o_step", "", "step of the last spike", 0.0),
  };

  struct Constants {
    double A2_plus, A3_plus, A2_minus, A3_minus, w_min, w_max;
    DecayTable plus, minus, x, y;  // exp(-n dt / tau) of r1, o1, r2, o2
    bool nearest;
  };
  static std::size_t table_size(const plugin::RuleSetup<TripletStdp>& s);
  static void prepare(plugin::RuleSetup<TripletStdp>& s);
  static void check_weights(const plugin::RuleSetup<TripletStdp>& s, double min, double max);
  static void on_pre(plugin::Pre<TripletStdp>& e);
  static void on_post(plugin::Post<TripletStdp>& e);
};

}  // namespace spikeline::learning
