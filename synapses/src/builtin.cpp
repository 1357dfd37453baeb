#include "builtin.hpp"

#include "spikeline/plugin/loader.hpp"
#include "spikeline/synapses/all_to_all.hpp"
#include "spikeline/synapses/fixed_indegree.hpp"
#include "spikeline/synapses/fixed_outdegree.hpp"
#include "spikeline/synapses/fixed_probability.hpp"
#include "spikeline/synapses/fixed_total_number.hpp"
#include "spikeline/synapses/one_to_one.hpp"

namespace spikeline::synapses::detail {

namespace {
// The built-in rules written against the plugin interface, as a plugin's
// entry point would list them.
int catalogue(std::uint32_t, std::uint32_t, const spk_plugin** out, char*, std::size_t) {
  return plugin::detail::init<AllToAll, OneToOne, FixedProbability, FixedIndegree, FixedOutdegree,
                              FixedTotalNumber>("spikeline", "built-in", out);
}
}  // namespace

bool in_catalogue(Rule rule) {
  return rule == Rule::all_to_all || rule == Rule::one_to_one || rule == Rule::fixed_probability ||
         rule == Rule::fixed_indegree || rule == Rule::fixed_outdegree ||
         rule == Rule::fixed_total_number;
}

void register_catalogue_rules(Registry& r) {
  plugin::register_catalogue(&catalogue, r);
}

std::shared_ptr<const PairRule> make_catalogue_rule(const ConnectionSpec& spec,
                                                    const ConnectContext& ctx) {
  // A registry of the catalogue alone: what `spikeline` registers, without
  // a registry handed down to every caller of connect() (io/, the Python
  // module, the tests). Six rules: microseconds per projection.
  Registry rules;
  register_catalogue_rules(rules);
  const auto& info = rules.get_connection_rule(rule_name(spec.rule), spec.name);
  const PairRuleContext c{spec.name,     ctx.n_source,   ctx.n_target, ctx.same_population,
                          spec.autapses, spec.multapses, ctx.grid.dt()};
  // The values a config gives as keys of the projection (p = 0.1), as a
  // plugin's rule gets its `params`.
  ParamMap params(spec.name);
  if (spec.rule == Rule::fixed_probability) params.set("p", spec.p);
  if (spec.rule == Rule::fixed_indegree) params.set("indegree", static_cast<double>(spec.indegree));
  if (spec.rule == Rule::fixed_outdegree) {
    params.set("outdegree", static_cast<double>(spec.outdegree));
  }
  if (spec.rule == Rule::fixed_total_number) params.set("total", static_cast<double>(spec.total));
  return info.make(params, c);
}

}  // namespace spikeline::synapses::detail
