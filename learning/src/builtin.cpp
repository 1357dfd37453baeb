#include "spikeline/learning/builtin.hpp"

#include "spikeline/learning/reward_stdp.hpp"
#include "spikeline/learning/stdp.hpp"
#include "spikeline/learning/triplet_stdp.hpp"
#include "spikeline/learning/tsodyks_markram.hpp"

namespace spikeline {

void register_builtin_rules(Registry& r) {
  r.add_rule(learning::stdp_rule_info());
  r.add_rule(learning::triplet_stdp_rule_info());
  r.add_rule(learning::reward_stdp_rule_info());
  r.add_rule(learning::tsodyks_markram_rule_info());
}

}  // namespace spikeline
