#include "builtin.hpp"

#include "spikeline/plugin/loader.hpp"
#include "spikeline/synapses/all_to_all.hpp"
#include "spikeline/synapses/one_to_one.hpp"

namespace spikeline::synapses::detail {

namespace {
// The built-in rules written against the plugin interface, as a plugin's
// entry point would list them.
int catalogue(std::uint32_t, std::uint32_t, const spk_plugin** out, char*, std::size_t) {
  return plugin::detail::init<AllToAll, OneToOne>("spikeline", "built-in", out);
}
}  // namespace

bool in_catalogue(Rule rule) {
  return rule == Rule::all_to_all || rule == Rule::one_to_one;
}

void register_catalogue_rules(Registry& r) {
  plugin::register_catalogue(&catalogue, r);
}

std::shared_ptr<const PairRule> make_catalogue_rule(const ConnectionSpec& spec,
                                                    const ConnectContext& ctx) {
  // A registry of the catalogue alone: what `spikeline` registers, without
  // a registry handed down to every caller of connect() (io/, the Python
  // module, the tests). Two rules: microseconds per projection.
  Registry rules;
  register_catalogue_rules(rules);
  const auto& info = rules.get_connection_rule(rule_name(spec.rule), spec.name);
  const PairRuleContext c{spec.name,     ctx.n_source,   ctx.n_target, ctx.same_population,
                          spec.autapses, spec.multapses, ctx.grid.dt()};
  return info.make(ParamMap(spec.name), c);
}

}  // namespace spikeline::synapses::detail
