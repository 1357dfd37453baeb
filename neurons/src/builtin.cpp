#include "spikeline/neurons/builtin.hpp"

#include "spikeline/neurons/ac_current.hpp"
#include "spikeline/neurons/dc_generator.hpp"
#include "spikeline/neurons/iaf_cond_exp.hpp"
#include "spikeline/neurons/iaf_psc_delta.hpp"
#include "spikeline/neurons/iaf_psc_exp.hpp"
#include "spikeline/neurons/izhikevich.hpp"
#include "spikeline/neurons/lif_discrete.hpp"
#include "spikeline/neurons/noise_current.hpp"
#include "spikeline/neurons/poisson_generator.hpp"
#include "spikeline/neurons/poisson_input.hpp"
#include "spikeline/neurons/spike_generator.hpp"
#include "spikeline/neurons/step_current.hpp"
#include "spikeline/plugin/loader.hpp"

namespace spikeline {

namespace {
// The built-in models written against the plugin interface, as a plugin's
// entry point would list them.
int catalogue(std::uint32_t, std::uint32_t, const spk_plugin** out, char*, std::size_t) {
  return plugin::detail::init<IafPscExp, IafCondExp, LifDiscrete, Izhikevich, NoiseCurrent,
                              AcCurrent>("spikeline", "built-in", out);
}
}  // namespace

void register_builtin_models(Registry& r) {
  r.add(iaf_psc_delta_model());
  // iaf_psc_exp, iaf_cond_exp, lif_discrete, izhikevich; noise_current, ac_current
  plugin::register_catalogue(&catalogue, r);
  r.add(poisson_generator_model());
  r.add(spike_generator_model());
  r.add(dc_generator_model());
  r.add(poisson_input_model());
  r.add(step_current_model());
}

}  // namespace spikeline
