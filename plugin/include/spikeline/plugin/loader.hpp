// Loading plugins: a shared library that exports spikeline_plugin_init
// (spikeline/plugin.h) becomes entries of a Registry, beside the built-in
// models and looked up the same way.
//
//   Registry r;
//   register_builtin_models(r);
//   plugin::load_plugin("build/examples/plugins/aeif_cond_exp/libaeif_cond_exp.so", r);
//
// load_plugin opens the library (dlopen, RTLD_NOW | RTLD_LOCAL: its symbols
// never clash with another plugin's), calls its entry point with the
// simulator's ABI version, checks the descriptor and adds each model with
// the library's path as its origin. The library stays open as long as a
// registry entry or a population made from it exists (each holds a shared
// handle), so a Registry and its populations may be destroyed in any order.
//
// Every failure is an Error naming the plugin file and what is wrong, and
// the registry is left unchanged: a missing file (66), a file that is no
// loadable library, no entry point, an ABI of another major version or of a
// newer minor, an entry point that reports an error, a malformed
// descriptor (struct sizes, null pointers, a parameter table with a NaN
// default, min > max, a default out of its range, duplicate names), a
// model, rule or connection rule name already registered (78; a connection
// rule named like a built-in one when the registry lists those:
// synapses::register_builtin_connection_rules).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spikeline/engine/registry.hpp"
#include "spikeline/plugin.h"

namespace spikeline::plugin {

// What a loaded plugin said about itself.
struct PluginInfo {
  std::string path;  // as given
  std::string name, version;
  std::uint32_t abi_major = 0, abi_minor = 0;
  std::vector<std::string> models;
  std::vector<std::string> rules;  // learning rules
  std::vector<std::string> connection_rules;
  std::vector<std::string> devices;  // current devices (ABI 1.6)
};

PluginInfo load_plugin(const std::string& path, Registry& registry);

// A catalogue compiled into spikeline: the built-in models written against
// the plugin interface (neurons/) register through it, so that each goes
// through the checks, the adapter and the C++ layer a plugin's model goes
// through. `init` is what SPIKELINE_PLUGIN would export; the entries get
// origin "" (built in): listed, recorded and checkpointed as built-ins,
// with no plugin file to record or reload.
PluginInfo register_catalogue(spk_plugin_init_fn init, Registry& registry);

// One parameter row of a catalogue entry as a config gives it in `p` (or
// the row's default), checked as a population or rule checks it (a list
// is refused: one value): for code that reads a built-in entry's
// parameters itself, as the trainer reads lif_discrete's. ConfigError
// naming `p.item(row.name)` otherwise.
double resolve_number(const spk_param& row, const ParamMap& p);
// Likewise for a choice row: the index of the word given.
std::uint32_t resolve_choice(const spk_choice& row, const ParamMap& p);

// Each of `paths` in order. A file already loaded into `registry` (the same
// file, whatever the path's spelling) is not loaded twice: a plugin given
// both with --plugin and in the config's `plugins` list is one plugin.
std::vector<PluginInfo> load_plugins(const std::vector<std::string>& paths, Registry& registry);

}  // namespace spikeline::plugin
