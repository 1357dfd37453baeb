#include "spikeline/plugin/loader.hpp"

#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

#include "plugin_population.hpp"
#include "spikeline/engine/error.hpp"

namespace spikeline::plugin {

namespace {

using detail::Library;
using detail::Model;

// A C string of the plugin's, or "" for NULL.
std::string text(const char* s) {
  return s != nullptr ? std::string(s) : std::string();
}

// Refuses a name a config could not use: empty or with control characters.
void check_name(const std::string& path, const char* name, const std::string& what) {
  if (name == nullptr || *name == '\0') {
    throw ConfigError(fmt::format("plugin '{}': {} has no name", path, what));
  }
  if (has_control_char(name)) {
    throw ConfigError(fmt::format("plugin '{}': {} name '{}' holds a control character", path, what,
                                  escaped(name)));
  }
}

// The model descriptor checked and copied.
std::shared_ptr<Model> read_model(const std::string& path, const spk_plugin& d,
                                  const spk_neuron_model* m, std::size_t k,
                                  const std::shared_ptr<const Library>& library) {
  if (m == nullptr) {
    throw ConfigError(fmt::format("plugin '{}': neuron model {} is a null pointer", path, k));
  }
  if (m->struct_size < sizeof(spk_neuron_model)) {
    throw ConfigError(fmt::format(
        "plugin '{}': neuron model {} has struct_size {}, less than the {} bytes of ABI {}.0", path,
        k, m->struct_size, sizeof(spk_neuron_model), SPIKELINE_PLUGIN_ABI_MAJOR));
  }
  check_name(path, m->name, fmt::format("neuron model {}", k));
  const std::string name = m->name;
  const std::string model = fmt::format("plugin '{}': model '{}'", path, name);
  if (m->update == nullptr) throw ConfigError(fmt::format("{} has no update function", model));
  if (m->n_params > 0 && m->params == nullptr) {
    throw ConfigError(
        fmt::format("{} declares {} parameters but no parameter table", model, m->n_params));
  }
  if (m->n_state > 0 && m->state == nullptr) {
    throw ConfigError(
        fmt::format("{} declares {} state variables but no state table", model, m->n_state));
  }
  auto out = std::make_shared<Model>();
  out->library = library;
  out->path = path;
  out->plugin_name = d.name;
  out->plugin_version = text(d.version);
  out->abi_major = d.abi_major;
  out->abi_minor = d.abi_minor;
  out->name = name;
  out->constants_size = m->constants_size;
  out->constants_size_per_neuron = m->constants_size_per_neuron;
  out->prepare = m->prepare;
  out->update = m->update;

  std::set<std::string> names;
  for (std::uint32_t j = 0; j < m->n_params; ++j) {
    spk_param p = m->params[j];
    check_name(path, p.name, fmt::format("model '{}' parameter {}", name, j));
    const std::string item = fmt::format("{} parameter {}", model, p.name);
    if (!names.insert(p.name).second) throw ConfigError(fmt::format("{} is listed twice", item));
    if (p.unit == nullptr) p.unit = "";
    if (p.doc == nullptr) p.doc = "";
    if (std::isnan(p.min) || std::isnan(p.max)) {
      throw ConfigError(
          fmt::format("{}: a bound of its range is NaN (no bound: -HUGE_VAL or "
                      "HUGE_VAL)",
                      item));
    }
    if (p.min > p.max) {
      throw ConfigError(fmt::format("{}: min {} > max {}", item, p.min, p.max));
    }
    if (std::isnan(p.default_value)) {
      throw ConfigError(fmt::format("{} has a NaN default: a default must be a valid value", item));
    }
    if (!detail::in_range(p, p.default_value)) {
      throw ConfigError(fmt::format("{} has the default {}, outside its range {}", item,
                                    p.default_value, detail::range_text(p)));
    }
    out->params.push_back(p);
  }
  for (std::uint32_t j = 0; j < m->n_state; ++j) {
    spk_state_var s = m->state[j];
    check_name(path, s.name, fmt::format("model '{}' state variable {}", name, j));
    const std::string item = fmt::format("{} state variable {}", model, s.name);
    if (!names.insert(s.name).second) {
      throw ConfigError(fmt::format("{} is listed twice (or is also a parameter's name)", item));
    }
    if (s.unit == nullptr) s.unit = "";
    if (s.doc == nullptr) s.doc = "";
    if (std::isnan(s.initial)) {
      throw ConfigError(fmt::format("{} has a NaN initial value", item));
    }
    out->state.push_back(s);
  }
  return out;
}

ModelInfo model_info(const std::shared_ptr<const Model>& m, const char* doc) {
  ModelInfo info;
  info.name = m->name;
  info.kind = ModelKind::neuron;
  info.summary = text(doc);
  info.origin = m->path;
  for (const auto& p : m->params) {
    const std::string range = detail::range_text(p);
    std::string d = p.doc;
    if (!range.empty()) d = d.empty() ? range : fmt::format("{} ({})", d, range);
    ParamInfo pi(p.name, p.unit, p.default_value, d);
    pi.per_neuron = p.per_neuron != 0;
    info.params.push_back(std::move(pi));
  }
  for (const auto& s : m->state) info.state_vars.push_back({s.name, s.unit, s.doc});
  info.make_population = [m](const ModelContext& ctx) -> std::unique_ptr<Population> {
    return std::make_unique<detail::PluginPopulation>(m, ctx);
  };
  return info;
}

// The same file, whatever the spelling of its path.
std::string canonical(const std::string& path) {
  std::error_code ec;
  const auto c = std::filesystem::canonical(path, ec);
  return ec ? path : c.string();
}

}  // namespace

PluginInfo load_plugin(const std::string& path, Registry& registry) {
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  if (type == std::filesystem::file_type::not_found) {
    throw Error(ExitCode::no_input, fmt::format("plugin '{}': no such file", path));
  }
  if (type != std::filesystem::file_type::regular) {
    throw Error(
        ExitCode::no_input,
        fmt::format("plugin '{}': not a regular file (a directory, a FIFO or a device)", path));
  }
  // dlopen searches the library path for a name without a '/': a plugin is
  // always the file given.
  std::string open_path = path;
  if (open_path.find('/') == std::string::npos) open_path = "./" + open_path;
  dlerror();
  void* handle = dlopen(open_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw ConfigError(fmt::format("plugin '{}': cannot be loaded as a shared library: {}", path,
                                  why != nullptr ? why : "unknown reason"));
  }
  auto library = std::make_shared<const Library>(handle);
  dlerror();
  void* sym = dlsym(handle, SPIKELINE_PLUGIN_INIT_SYMBOL);
  if (sym == nullptr) {
    throw ConfigError(fmt::format(
        "plugin '{}': no entry point {}: not a spikeline plugin (it must export extern \"C\" {} "
        "from spikeline/plugin.h, e.g. with SPIKELINE_PLUGIN(...))",
        path, SPIKELINE_PLUGIN_INIT_SYMBOL, SPIKELINE_PLUGIN_INIT_SYMBOL));
  }
  spk_plugin_init_fn init = nullptr;
  static_assert(sizeof init == sizeof sym);
  std::memcpy(&init, &sym, sizeof init);

  const spk_plugin* d = nullptr;
  char error[1024] = {0};
  const int status =
      init(SPIKELINE_PLUGIN_ABI_MAJOR, SPIKELINE_PLUGIN_ABI_MINOR, &d, error, sizeof error);
  error[sizeof error - 1] = '\0';
  if (status != SPK_OK) {
    throw ConfigError(fmt::format("plugin '{}': initialisation failed: {}", path,
                                  *error ? error : "(no message)"));
  }
  if (d == nullptr) {
    throw ConfigError(fmt::format("plugin '{}': initialisation returned no descriptor", path));
  }
  // The version first: a struct of another major may be laid out otherwise
  // after these three fields, which every major keeps.
  if (d->abi_major != SPIKELINE_PLUGIN_ABI_MAJOR) {
    throw ConfigError(fmt::format(
        "plugin '{}': built for plugin ABI {}.{}, this spikeline speaks {}.{} (another major "
        "version is incompatible: rebuild the plugin against this spikeline's headers)",
        path, d->abi_major, d->abi_minor, SPIKELINE_PLUGIN_ABI_MAJOR, SPIKELINE_PLUGIN_ABI_MINOR));
  }
  if (d->abi_minor > SPIKELINE_PLUGIN_ABI_MINOR) {
    throw ConfigError(fmt::format(
        "plugin '{}': built for plugin ABI {}.{}, newer than this spikeline's {}.{} (update "
        "spikeline, or rebuild the plugin against its headers)",
        path, d->abi_major, d->abi_minor, SPIKELINE_PLUGIN_ABI_MAJOR, SPIKELINE_PLUGIN_ABI_MINOR));
  }
  if (d->struct_size < sizeof(spk_plugin)) {
    throw ConfigError(
        fmt::format("plugin '{}': its descriptor has struct_size {}, less than the {} bytes of "
                    "ABI {}.0",
                    path, d->struct_size, sizeof(spk_plugin), SPIKELINE_PLUGIN_ABI_MAJOR));
  }
  check_name(path, d->name, "the plugin");
  if (d->n_neuron_models > 0 && d->neuron_models == nullptr) {
    throw ConfigError(fmt::format("plugin '{}': declares {} neuron models but no array", path,
                                  d->n_neuron_models));
  }
  if (d->n_learning_rules > 0 && d->learning_rules == nullptr) {
    throw ConfigError(fmt::format("plugin '{}': declares {} learning rules but no array", path,
                                  d->n_learning_rules));
  }
  if (d->n_connection_rules > 0 && d->connection_rules == nullptr) {
    throw ConfigError(fmt::format("plugin '{}': declares {} connection rules but no array", path,
                                  d->n_connection_rules));
  }
  if (d->n_neuron_models == 0 && d->n_learning_rules == 0 && d->n_connection_rules == 0) {
    throw ConfigError(
        fmt::format("plugin '{}': provides nothing (no neuron model, learning rule or "
                    "connection rule)",
                    path));
  }

  // Every model checked before any is registered: a refused plugin leaves
  // the registry unchanged.
  std::vector<ModelInfo> infos;
  std::set<std::string> seen;
  PluginInfo out{path, d->name, text(d->version), d->abi_major, d->abi_minor, {}};
  for (std::uint32_t k = 0; k < d->n_neuron_models; ++k) {
    const spk_neuron_model* m = d->neuron_models[k];
    const auto model = read_model(path, *d, m, k, library);
    if (registry.has(model->name)) {
      const auto& other = registry.get(model->name, "plugin");
      throw ConfigError(fmt::format(
          "plugin '{}': model '{}' is already registered ({}): model names must be unique", path,
          model->name,
          other.origin.empty() ? std::string("a built-in model")
                               : fmt::format("by plugin '{}'", other.origin)));
    }
    if (!seen.insert(model->name).second) {
      throw ConfigError(fmt::format("plugin '{}': model '{}' is listed twice", path, model->name));
    }
    infos.push_back(model_info(model, m->doc));
    out.models.push_back(model->name);
  }
  for (auto& info : infos) registry.add(std::move(info));
  return out;
}

std::vector<PluginInfo> load_plugins(const std::vector<std::string>& paths, Registry& registry) {
  std::set<std::string> loaded;
  for (const auto* m : registry.all())
    if (!m->origin.empty()) loaded.insert(canonical(m->origin));
  std::vector<PluginInfo> out;
  for (const auto& path : paths) {
    if (!loaded.insert(canonical(path)).second) continue;
    out.push_back(load_plugin(path, registry));
  }
  return out;
}

}  // namespace spikeline::plugin
