// The built-in models, registered through the same Registry calls a
// plugin's go through; iaf_cond_exp and iaf_psc_exp, written against the
// plugin interface, through its C ABI too (plugin::register_catalogue).
//
//   neurons:     iaf_psc_delta, iaf_psc_exp, iaf_cond_exp, izhikevich, lif_discrete
//   generators:  poisson_generator, spike_generator
//   stimuli:     dc_generator
//
// Each model's header (next to this one) opens with its documentation:
// equations, parameters with units and defaults, integration scheme, references.
#pragma once

#include "spikeline/engine/registry.hpp"

namespace spikeline {

// Adds every built-in model to `r` (an error if one is already there).
void register_builtin_models(Registry& r);

}  // namespace spikeline
