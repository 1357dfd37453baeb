// The CurrentWave of a plugin's current device (private to plugin/): resolves
// the device's parameters, runs prepare() and calls the plugin's current()
// per partition and step (see spikeline/plugin.h, ABI 1.6).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plugin_population.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/plugin.h"

namespace spikeline::plugin::detail {

// One current device of a loaded plugin, copied out of its descriptor once
// checked.
struct Device : Origin {
  std::string name;
  std::vector<spk_param> params;        // pointing into the plugin's static data
  std::vector<spk_choice> choices;      // likewise
  std::vector<unsigned char> required;  // one per parameter: the stimulus must give it
  std::size_t constants_size = 0;
  spk_device_prepare_fn prepare = nullptr;
  spk_current_fn current = nullptr;
};

// The Registry entry of a checked device: a stimulus model with a wave.
ModelInfo device_info(const std::shared_ptr<const Device>& d, const char* doc,
                      std::vector<ParamInfo> params);

}  // namespace spikeline::plugin::detail
