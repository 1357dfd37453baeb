// tsodyks_markram: short-term synaptic plasticity (depression and
// facilitation) of Tsodyks and Markram, as NEST's tsodyks2_synapse and
// PyNN's TsodyksMarkramSynapse.
//
// Each synapse has a release probability u and a fraction x of available
// resources. A spike that arrives at the synapse (emission + delay) an
// interval h after the synapse's previous arrival first brings both to its
// own arrival, then delivers:
//
//   x <- 1 + (x - x u - 1) exp(-h / tau_rec)      (the u of the previous spike)
//   u <- U + u (1 - U) exp(-h / tau_facil)        (u <- U when tau_facil = 0)
//   delivered amount = weight u x
//
// The first spike through a synapse finds it at rest and delivers weight U
// (u = U, x = 1, no update). These are the recursions of Maass and Markram
// (2002), eqs. 4 and 5: spike n delivers weight u_n x_n with u_1 = U,
// x_1 = 1. For a regular train of interval h without facilitation the
// amplitude tends to weight U x_inf with
//
//   x_inf = (1 - exp(-h / tau_rec)) / (1 - (1 - U) exp(-h / tau_rec)).
//
// Convention. NEST's tsodyks2_synapse, since nest-simulator pull request
// 3384 (2025), updates u and x with the interval since the previous spike,
// then sends weight u x, and leaves a synapse's first spike undepressed:
// the order this rule follows, because it is the published recursion, in
// which spike n's amplitude depends on the interval just before it. Between
// pull requests 1672 (2020) and 3384 NEST sent first and updated after, so
// spike n was scaled with values computed from the interval before spike
// n - 1 (the same amplitudes for a regular train, not for an irregular
// one); before 1672 it updated first but also depressed the first spike by
// its time since 0 (issue 957). PyNN's TsodyksMarkramSynapse maps to
// tsodyks2_synapse on NEST, so a PyNN model gets these amplitudes here.
// NEST's older tsodyks_synapse (with a state y of the postsynaptic current,
// tau_psc) and the "tsodyks3" order (u updated before x uses it, Mongillo et
// al. 2008) are other models and not provided.
//
// The stored weight is the synapse's base weight: the rule never changes it
// (output /edges, weight snapshots, Simulation.synapses() and set_weights
// see and set it); only what each spike delivers is scaled, through the
// engine's delivered() hook (plasticity.hpp). Sign routing follows the
// weight (u x > 0): a negative weight stays inhibitory.
//
// Parameters (PyNN's names; defaults of NEST's tsodyks2_synapse)
//   U               0.5   utilisation increment, the release probability at
//                         rest (in (0, 1])
//   tau_rec    ms   800   recovery time constant of x (> 0)
//   tau_facil  ms   0     facilitation time constant of u (>= 0; 0: no
//                         facilitation, u stays U)
// Every synapse starts at rest (u = U, x = 1), as with NEST's defaults
// (PyNN's default tau_rec is 100 ms); there are no u0 / x0 parameters (a
// network resumed mid-run takes its state from the checkpoint).
//
// Recording: `[[record_weights]] variables = ["u", "x"]` gives each
// synapse's u and x of its latest arrival, those its last spike delivered
// weight u x with (what NEST's GetStatus reports); before its first arrival
// U and 1.
//
// Cost: all synapses of a delay group share their arrivals, and with one
// (U, tau_rec, tau_facil) per projection they share u and x too, so the
// state is kept per delay group (u, x and the step of the latest arrival),
// and an arrival writes the group's delivered amounts (4 bytes per synapse
// of the projection). Identical at any thread and partition count;
// checkpointed.
//
// Written against the plugin interface (spikeline/plugin.hpp) and
// registered through the built-in catalogue (learning/src/builtin.cpp), as
// a plugin's learning rule is: what a spike delivers (ABI 1.4: delivers,
// on_pre's delivered amounts) and u and x recorded per synapse from the
// group's state (ABI 1.7: recorded, value). exp(-n dt / tau) comes from
// tables in the rule's constants (lazy_trace.hpp). A checkpoint written
// while the rule was native (its "release" records) is refused, naming the
// field it lacks.
//
// References
//   Tsodyks MV, Markram H (1997) PNAS 94:719.
//   Fuhrmann G, Segev I, Markram H, Tsodyks M (2002) J Neurophysiol 87:140.
//   Maass W, Markram H (2002) Neural Networks 15:155.
//   NEST model tsodyks2_synapse (models/tsodyks2_synapse.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "spikeline/learning/lazy_trace.hpp"
#include "spikeline/plugin.hpp"

namespace spikeline::learning {

struct TsodyksMarkram : plugin::LearningRule {
  static constexpr const char* name = "tsodyks_markram";
  static constexpr const char* doc =
      "short-term depression and facilitation (Tsodyks-Markram, as NEST's tsodyks2_synapse and "
      "PyNN's TsodyksMarkramSynapse): each spike delivers weight u x, the weight is unchanged";

  enum { U, tau_rec, tau_facil };
  static constexpr spk_param params[] = {
      plugin::param("U", "", 0.5, "utilisation increment: the release probability at rest")
          .positive()
          .at_most(1.0),
      plugin::param("tau_rec", "ms", 800.0, "recovery time constant of the resources x").positive(),
      plugin::param("tau_facil", "ms", 0.0, "facilitation time constant of u (0: no facilitation)")
          .nonnegative(),
  };
  // Per delay group: u and x of the latest arrival and its step (-1: none
  // yet, the group at rest: u = U, x = 1).
  enum { u, x, arrival };
  static constexpr spk_state_var pre_state[] = {
      plugin::state("u", "", "u of the latest arrival", 0.0),
      plugin::state("x", "", "x of the latest arrival", 1.0),
      plugin::state("arrival", "", "step of the latest arrival (-1: none)", -1.0),
  };
  static constexpr bool delivers = true;
  // What [[record_weights]] may name beside "weight" (ABI 1.7): each
  // synapse's u and x, its group's.
  static constexpr const char* kRecorded[] = {"u", "x"};

  struct Constants {
    double U;
    DecayTable rec, facil;  // exp(-n dt / tau_rec), exp(-n dt / tau_facil)
    bool facilitation;
  };
  static std::size_t table_size(const plugin::RuleSetup<TsodyksMarkram>& s);
  static void prepare(plugin::RuleSetup<TsodyksMarkram>& s);
  static std::span<const char* const> recorded(const plugin::RuleSetup<TsodyksMarkram>& s);
  static void on_pre(plugin::Pre<TsodyksMarkram>& e);
  static void on_post(plugin::Post<TsodyksMarkram>&) {}
  static double value(const plugin::Value<TsodyksMarkram>& v, std::uint32_t var, std::uint32_t k);
};

}  // namespace spikeline::learning
