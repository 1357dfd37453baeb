// The built-in connection rules written against the plugin interface
// (all_to_all, one_to_one, fixed_probability, fixed_indegree,
// fixed_outdegree, fixed_total_number): their catalogue, and the rule a projection draws them
// through.
#pragma once

#include <memory>

#include "spikeline/engine/pair_rule.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/synapses/connect.hpp"

namespace spikeline::synapses::detail {

// Whether `rule` is one of the catalogue's (drawn through a PairRule).
bool in_catalogue(Rule rule);

// Registers the catalogue's rules as built-ins (origin "").
void register_catalogue_rules(Registry& r);

// The catalogue's rule `spec.rule` made for the projection, through the
// same descriptor checks and adapter as a plugin's rule.
std::shared_ptr<const PairRule> make_catalogue_rule(const ConnectionSpec& spec,
                                                    const ConnectContext& ctx);

}  // namespace spikeline::synapses::detail
