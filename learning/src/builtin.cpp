#include "spikeline/learning/builtin.hpp"

#include "spikeline/learning/reward_stdp.hpp"
#include "spikeline/learning/stdp.hpp"
#include "spikeline/learning/triplet_stdp.hpp"
#include "spikeline/learning/tsodyks_markram.hpp"
#include "spikeline/plugin/loader.hpp"

namespace spikeline {

namespace {
// The built-in rules written against the plugin interface, as a plugin's
// entry point would list them.
int catalogue(std::uint32_t, std::uint32_t, const spk_plugin** out, char*, std::size_t) {
  return plugin::detail::init<learning::Stdp, learning::TripletStdp, learning::RewardStdp,
                              learning::TsodyksMarkram>("spikeline", "built-in", out);
}
}  // namespace

void register_builtin_rules(Registry& r) {
  // stdp, triplet_stdp, reward_stdp, tsodyks_markram
  plugin::register_catalogue(&catalogue, r);
}

}  // namespace spikeline
