// The built-in plasticity rules, registered the way a plugin registers its own.
//
//   stdp   pair-based STDP: all-to-all or nearest pairing, additive or
//          multiplicative weight dependence (stdp.hpp)
//   triplet_stdp  the triplet rule of Pfister and Gerstner 2006 (triplet_stdp.hpp)
//   reward_stdp   reward-modulated STDP with eligibility traces and a
//                 neuromodulator (Izhikevich 2007) (reward_stdp.hpp)
//   tsodyks_markram  short-term depression and facilitation: each spike
//                    delivers weight u x (tsodyks_markram.hpp)
#pragma once

#include "spikeline/engine/registry.hpp"

namespace spikeline {

// Adds every built-in plasticity rule to `r`.
void register_builtin_rules(Registry& r);

}  // namespace spikeline
