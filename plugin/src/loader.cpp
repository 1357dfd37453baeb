#include "spikeline/plugin/loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <system_error>

#include "plugin_connection.hpp"
#include "plugin_device.hpp"
#include "plugin_population.hpp"
#include "plugin_rule.hpp"
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

// The rows as `spikeline models` shows them: the range after the doc.
// A required row (ABI 1.3) shows as required, with no default.
std::vector<ParamInfo> param_infos(const std::vector<spk_param>& rows,
                                   const std::vector<unsigned char>& required = {}) {
  std::vector<ParamInfo> out;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const spk_param& p = rows[k];
    const bool is_required = k < required.size() && required[k] != 0;
    const std::string range = detail::range_text(p);
    std::string d = p.doc;
    if (!range.empty()) d = d.empty() ? range : fmt::format("{} ({})", d, range);
    ParamInfo pi(p.name, p.unit, is_required ? NAN : p.default_value, d);
    pi.per_neuron = p.per_neuron != 0;
    pi.required = is_required;
    out.push_back(std::move(pi));
  }
  return out;
}

// The choice rows as `spikeline models` shows them, as a built-in's choice
// (engine/model_table.hpp): the words after the doc, the default as text.
void add_choice_infos(std::vector<ParamInfo>& out, const std::vector<spk_choice>& rows) {
  for (const auto& c : rows) {
    std::string d = c.doc;
    for (std::uint32_t k = 0; k < c.n_choices; ++k) {
      d += k == 0 ? (d.empty() ? "\"" : ": \"") : (k + 1 == c.n_choices ? " or \"" : ", \"");
      d += std::string(c.choices[k]) + "\"";
    }
    out.emplace_back(c.name, "", NAN, d, c.choices[c.default_index]);
  }
}

// The bytes of a descriptor of ABI 1.0, the least a plugin of this major
// declares: the fields 1.1 appended start there.
template <class T>
constexpr std::size_t abi_1_0_size() {
  return offsetof(T, choices);
}

// spk_plugin's own: the fields 1.6 appended start after the connection rules.
constexpr std::size_t plugin_1_0_size() {
  return offsetof(spk_plugin, current_devices);
}

// A descriptor's current devices, if it is large enough to hold them (ABI
// 1.6; an older plugin's descriptor ends before them: none).
std::pair<const spk_current_device* const*, std::uint32_t> device_rows(const spk_plugin& d) {
  if (d.struct_size < offsetof(spk_plugin, n_current_devices) + sizeof d.n_current_devices)
    return {nullptr, 0};
  return {d.current_devices, d.n_current_devices};
}

// A descriptor's choice rows, if it is large enough to hold them (ABI 1.1;
// a 1.0 plugin's descriptor ends before them: no choices).
template <class T>
std::pair<const spk_choice*, std::uint32_t> choice_rows(const T& d) {
  if (d.struct_size < offsetof(T, n_choices) + sizeof d.n_choices) return {nullptr, 0};
  return {d.choices, d.n_choices};
}

// The names a descriptor lists as required, if it is large enough to hold
// them (ABI 1.3; an older plugin's descriptor ends before them: none).
template <class T>
std::pair<const char* const*, std::uint32_t> required_rows(const T& d) {
  if (d.struct_size < offsetof(T, n_required) + sizeof d.n_required) return {nullptr, 0};
  return {d.required, d.n_required};
}

// A connection rule's connect_source and counts, if its descriptor is large
// enough to hold them (ABI 1.5; an older one ends before them: by target,
// no counts).
struct ConnectionShape {
  spk_connect_fn connect_source = nullptr;
  spk_connection_counts_fn counts = nullptr;
};
ConnectionShape connection_shape(const spk_connection_rule& d) {
  if (d.struct_size < offsetof(spk_connection_rule, counts) + sizeof d.counts) return {};
  return {d.connect_source, d.counts};
}

// The required names checked for form (each a name, listed once); whether
// each is a numeric parameter's is checked against the tables afterwards
// (check_required), since a required row may have a NaN default that
// read_params must then accept.
std::set<std::string> read_required(const std::string& path, const std::string& owner,
                                    const std::string& entry,
                                    std::pair<const char* const*, std::uint32_t> table) {
  const auto [names, n] = table;
  if (n > 0 && names == nullptr) {
    throw ConfigError(
        fmt::format("{} declares {} required parameters but no list of names", owner, n));
  }
  std::set<std::string> out;
  for (std::uint32_t j = 0; j < n; ++j) {
    check_name(path, names[j], fmt::format("{} required parameter {}", entry, j));
    if (!out.insert(names[j]).second) {
      throw ConfigError(fmt::format("{} lists the required parameter {} twice", owner, names[j]));
    }
  }
  return out;
}

// One flag per parameter row: whether the config must give it. A required
// name that is no numeric parameter of the entry is refused: a choice has
// a default word by construction, and anything else is a slip.
std::vector<unsigned char> check_required(const std::string& owner,
                                          const std::set<std::string>& required,
                                          const std::vector<spk_param>& params,
                                          const std::vector<spk_choice>& choices) {
  std::vector<unsigned char> flags;
  std::vector<std::string> numeric;
  for (const auto& p : params) {
    flags.push_back(required.count(p.name) != 0 ? 1 : 0);
    numeric.emplace_back(p.name);
  }
  for (const auto& name : required) {
    if (std::find(numeric.begin(), numeric.end(), name) != numeric.end()) continue;
    for (const auto& c : choices) {
      if (name == c.name) {
        throw ConfigError(fmt::format(
            "{} lists the choice parameter {} as required: only a numeric parameter can be "
            "(a choice always has a default word)",
            owner, name));
      }
    }
    throw ConfigError(fmt::format(
        "{} lists {} as required, but has no parameter of that name{}; its parameters: {}", owner,
        name, did_you_mean(name, numeric),
        numeric.empty() ? std::string("none") : fmt::format("{}", fmt::join(numeric, ", "))));
  }
  return flags;
}

// A parameter table checked and copied (its strings point into the
// plugin). `names` collects the names of the entry's rows, which must be
// unique; `owner` names the entry for messages. A row named in `required`
// has no default to check.
std::vector<spk_param> read_params(const std::string& path, const std::string& owner,
                                   const std::string& entry, const spk_param* rows, std::uint32_t n,
                                   bool per_neuron_allowed, std::set<std::string>& names,
                                   const std::set<std::string>& required = {}) {
  if (n > 0 && rows == nullptr) {
    throw ConfigError(fmt::format("{} declares {} parameters but no parameter table", owner, n));
  }
  std::vector<spk_param> out;
  for (std::uint32_t j = 0; j < n; ++j) {
    spk_param p = rows[j];
    check_name(path, p.name, fmt::format("{} parameter {}", entry, j));
    const std::string item = fmt::format("{} parameter {}", owner, p.name);
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
    const bool is_required = required.count(p.name) != 0;
    if (std::isnan(p.default_value) && !is_required) {
      throw ConfigError(fmt::format(
          "{} has a NaN default: a default must be a valid value (or the parameter listed as "
          "required, ABI 1.3)",
          item));
    }
    if (!is_required && !detail::in_range(p, p.default_value)) {
      throw ConfigError(fmt::format("{} has the default {}, outside its range {}", item,
                                    p.default_value, detail::range_text(p)));
    }
    if (p.per_neuron != 0 && !per_neuron_allowed) {
      throw ConfigError(
          fmt::format("{} is marked per_neuron, which only a neuron model's "
                      "parameters can be",
                      item));
    }
    out.push_back(p);
  }
  return out;
}

// A table of choice parameters, likewise: each has a name unique among the
// entry's, one or more distinct non-empty words, and a default among them.
std::vector<spk_choice> read_choices(const std::string& path, const std::string& owner,
                                     const std::string& entry,
                                     std::pair<const spk_choice*, std::uint32_t> table,
                                     std::set<std::string>& names) {
  const auto [rows, n] = table;
  if (n > 0 && rows == nullptr) {
    throw ConfigError(fmt::format("{} declares {} choice parameters but no table", owner, n));
  }
  std::vector<spk_choice> out;
  for (std::uint32_t j = 0; j < n; ++j) {
    spk_choice c = rows[j];
    check_name(path, c.name, fmt::format("{} choice parameter {}", entry, j));
    const std::string item = fmt::format("{} choice parameter {}", owner, c.name);
    if (!names.insert(c.name).second) {
      throw ConfigError(fmt::format("{} is listed twice (or is also a parameter's name)", item));
    }
    if (c.doc == nullptr) c.doc = "";
    if (c.n_choices == 0 || c.choices == nullptr) {
      throw ConfigError(fmt::format("{} has no words to choose from", item));
    }
    std::set<std::string> words;
    for (std::uint32_t k = 0; k < c.n_choices; ++k) {
      check_name(path, c.choices[k],
                 fmt::format("{} choice parameter {} word {}", entry, c.name, k));
      if (!words.insert(c.choices[k]).second) {
        throw ConfigError(fmt::format("{} lists the word '{}' twice", item, c.choices[k]));
      }
    }
    if (c.default_index >= c.n_choices) {
      throw ConfigError(
          fmt::format("{} has the default index {}, but only {} words (valid: 0 to {})", item,
                      c.default_index, c.n_choices, c.n_choices - 1));
    }
    out.push_back(c);
  }
  return out;
}

// A state table, likewise; `what` is "state variable" or a kind of one.
std::vector<spk_state_var> read_states(const std::string& path, const std::string& owner,
                                       const std::string& entry, const std::string& what,
                                       const spk_state_var* rows, std::uint32_t n,
                                       bool counters_allowed, std::set<std::string>& names) {
  if (n > 0 && rows == nullptr) {
    throw ConfigError(fmt::format("{} declares {} {}s but no table", owner, n, what));
  }
  std::vector<spk_state_var> out;
  for (std::uint32_t j = 0; j < n; ++j) {
    spk_state_var s = rows[j];
    check_name(path, s.name, fmt::format("{} {} {}", entry, what, j));
    const std::string item = fmt::format("{} {} {}", owner, what, s.name);
    if (!names.insert(s.name).second) {
      throw ConfigError(fmt::format("{} is listed twice (or is also a parameter's name)", item));
    }
    if (s.unit == nullptr) s.unit = "";
    if (s.doc == nullptr) s.doc = "";
    if (std::isnan(s.initial)) {
      throw ConfigError(fmt::format("{} has a NaN initial value", item));
    }
    if (s.type != SPK_STATE_DOUBLE && s.type != SPK_STATE_INT32) {
      throw ConfigError(fmt::format("{} has type {}: valid are {} (double) and {} (int32)", item,
                                    s.type, SPK_STATE_DOUBLE, SPK_STATE_INT32));
    }
    if (s.type == SPK_STATE_INT32) {
      if (!counters_allowed) {
        throw ConfigError(
            fmt::format("{} is an int32 counter: a learning rule's state is double only", item));
      }
      if (!(s.initial >= std::numeric_limits<std::int32_t>::min() &&
            s.initial <= std::numeric_limits<std::int32_t>::max() &&
            s.initial == std::trunc(s.initial))) {
        throw ConfigError(fmt::format(
            "{} is an int32 counter with the initial value {}, not a whole number in its range",
            item, s.initial));
      }
    }
    out.push_back(s);
  }
  return out;
}

// The bounds of a model's state variables (ABI 1.1), if its descriptor
// holds them: well formed, and each row's initial value inside its bounds.
std::vector<spk_bounds> read_state_bounds(const std::string& model, const spk_neuron_model& m,
                                          const std::vector<spk_state_var>& state) {
  if (m.struct_size < offsetof(spk_neuron_model, state_bounds) + sizeof m.state_bounds ||
      m.state_bounds == nullptr) {
    return {};
  }
  std::vector<spk_bounds> out(m.state_bounds, m.state_bounds + state.size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    const spk_bounds& b = out[k];
    const std::string item = fmt::format("{} state variable {}", model, state[k].name);
    if (std::isnan(b.min) || std::isnan(b.max)) {
      throw ConfigError(fmt::format("{}: a bound is NaN (no bound: -HUGE_VAL or HUGE_VAL)", item));
    }
    if (b.min > b.max) throw ConfigError(fmt::format("{}: min {} > max {}", item, b.min, b.max));
    if (!detail::in_range(b, state[k].initial)) {
      throw ConfigError(fmt::format("{} has the initial value {}, outside its bounds {}", item,
                                    state[k].initial, detail::range_text(b)));
    }
  }
  return out;
}

void set_origin(detail::Origin& o, const std::string& path, const spk_plugin& d,
                const std::shared_ptr<const Library>& library) {
  o.library = library;
  o.builtin = library == nullptr;  // compiled in: nothing to keep open
  o.path = path;
  o.plugin_name = d.name;
  o.plugin_version = text(d.version);
  o.abi_major = d.abi_major;
  o.abi_minor = d.abi_minor;
}

// The model descriptor checked and copied.
std::shared_ptr<Model> read_model(const std::string& path, const spk_plugin& d,
                                  const spk_neuron_model* m, std::size_t k,
                                  const std::shared_ptr<const Library>& library) {
  if (m == nullptr) {
    throw ConfigError(fmt::format("plugin '{}': neuron model {} is a null pointer", path, k));
  }
  if (m->struct_size < abi_1_0_size<spk_neuron_model>()) {
    throw ConfigError(fmt::format(
        "plugin '{}': neuron model {} has struct_size {}, less than the {} bytes of ABI {}.0", path,
        k, m->struct_size, abi_1_0_size<spk_neuron_model>(), SPIKELINE_PLUGIN_ABI_MAJOR));
  }
  check_name(path, m->name, fmt::format("neuron model {}", k));
  const std::string name = m->name;
  const std::string model = fmt::format("plugin '{}': model '{}'", path, name);
  if (m->update == nullptr) throw ConfigError(fmt::format("{} has no update function", model));
  auto out = std::make_shared<Model>();
  set_origin(*out, path, d, library);
  out->name = name;
  out->constants_size = m->constants_size;
  out->constants_size_per_neuron = m->constants_size_per_neuron;
  out->prepare = m->prepare;
  out->update = m->update;
  out->initialize = m->initialize;
  const std::string entry = fmt::format("model '{}'", name);
  std::set<std::string> names;
  const auto required = read_required(path, model, entry, required_rows(*m));
  out->params = read_params(path, model, entry, m->params, m->n_params, true, names, required);
  out->choices = read_choices(path, model, entry, choice_rows(*m), names);
  out->required = check_required(model, required, out->params, out->choices);
  out->state = read_states(path, model, entry, "state variable", m->state, m->n_state, true, names);
  out->state_bounds = read_state_bounds(model, *m, out->state);
  return out;
}

// The learning rule descriptor checked and copied.
std::shared_ptr<detail::Rule> read_rule(const std::string& path, const spk_plugin& d,
                                        const spk_learning_rule* r, std::size_t k,
                                        const std::shared_ptr<const Library>& library) {
  if (r == nullptr) {
    throw ConfigError(fmt::format("plugin '{}': learning rule {} is a null pointer", path, k));
  }
  if (r->struct_size < abi_1_0_size<spk_learning_rule>()) {
    throw ConfigError(fmt::format(
        "plugin '{}': learning rule {} has struct_size {}, less than the {} bytes of ABI {}.0",
        path, k, r->struct_size, abi_1_0_size<spk_learning_rule>(), SPIKELINE_PLUGIN_ABI_MAJOR));
  }
  check_name(path, r->name, fmt::format("learning rule {}", k));
  const std::string name = r->name;
  const std::string rule = fmt::format("plugin '{}': rule '{}'", path, name);
  if (r->on_pre == nullptr || r->on_post == nullptr) {
    throw ConfigError(
        fmt::format("{} lacks {}", rule, r->on_pre == nullptr ? "on_pre" : "on_post"));
  }
  auto out = std::make_shared<detail::Rule>();
  set_origin(*out, path, d, library);
  out->name = name;
  out->constants_size = r->constants_size;
  if (r->struct_size >=
      offsetof(spk_learning_rule, constants_size_of) + sizeof r->constants_size_of)
    out->constants_size_of = r->constants_size_of;
  out->prepare = r->prepare;
  out->check_weights = r->check_weights;
  out->on_pre = r->on_pre;
  out->on_post = r->on_post;
  // ABI 1.4: an older rule's descriptor ends before these fields (none of it).
  if (r->struct_size >= offsetof(spk_learning_rule, delivers) + sizeof r->delivers) {
    if (r->modulator != nullptr) {
      if (has_control_char(r->modulator)) {
        throw ConfigError(fmt::format("{}: its modulator '{}' holds a control character", rule,
                                      escaped(r->modulator)));
      }
      out->reads_modulator = true;
      out->modulator = r->modulator;
    }
    out->sync = r->sync;
    out->synapse_value = r->synapse_value;
    out->delivers = r->delivers;
  }
  // ABI 1.7: recorded variables apart from the stored state.
  if (r->struct_size >= offsetof(spk_learning_rule, recorded) + sizeof r->recorded) {
    out->recorded = r->recorded;
    if (out->recorded != nullptr && out->synapse_value == nullptr) {
      throw ConfigError(fmt::format(
          "{} lists recorded synapse variables but has no synapse_value to compute them", rule));
    }
  }
  const std::string entry = fmt::format("rule '{}'", name);
  std::set<std::string> names{"weight"};                // recorded beside the synapse state
  if (out->reads_modulator) names.insert("modulator");  // the config's key (ABI 1.4)
  out->params = read_params(path, rule, entry, r->params, r->n_params, false, names);
  out->choices = read_choices(path, rule, entry, choice_rows(*r), names);
  out->synapse_state = read_states(path, rule, entry, "synapse state variable", r->synapse_state,
                                   r->n_synapse_state, false, names);
  out->pre_state = read_states(path, rule, entry, "presynaptic state variable", r->pre_state,
                               r->n_pre_state, false, names);
  out->post_state = read_states(path, rule, entry, "postsynaptic state variable", r->post_state,
                                r->n_post_state, false, names);
  return out;
}

RuleInfo rule_info(const std::shared_ptr<const detail::Rule>& r, const char* doc) {
  RuleInfo info;
  info.name = r->name;
  info.summary = text(doc);
  info.origin = r->origin();
  info.provenance = r->provenance();
  info.params = param_infos(r->params);
  add_choice_infos(info.params, r->choices);
  if (r->reads_modulator) {
    // The config's `modulator` key (ABI 1.4), a name rather than a number.
    ParamInfo m("modulator", "", NAN, "the [[neuromodulator]] read", r->modulator);
    m.required = r->modulator.empty();
    info.params.push_back(std::move(m));
  }
  info.make = [r](const ParamMap& p, const TimeGrid& grid) -> std::unique_ptr<PlasticityRule> {
    return std::make_unique<detail::PluginRule>(r, p, grid);
  };
  return info;
}

ModelInfo model_info(const std::shared_ptr<const Model>& m, const char* doc) {
  ModelInfo info;
  info.name = m->name;
  info.kind = ModelKind::neuron;
  info.summary = text(doc);
  info.origin = m->origin();
  info.provenance = m->provenance();
  info.params = param_infos(m->params, m->required);
  add_choice_infos(info.params, m->choices);
  for (const auto& s : m->state) info.state_vars.push_back({s.name, s.unit, s.doc});
  info.make_population = [m](const ModelContext& ctx) -> std::unique_ptr<Population> {
    return std::make_unique<detail::PluginPopulation>(m, ctx);
  };
  return info;
}

// The connection rules of the descriptor checked and copied: the Registry
// entries to add (after every other check of the plugin), their names in
// `names`. A name already registered (a built-in rule, another plugin's)
// or listed twice is refused.
std::vector<ConnectionRuleInfo> read_connection_rules(const std::string& path, const spk_plugin& d,
                                                      const Registry& registry,
                                                      const std::shared_ptr<const Library>& library,
                                                      std::vector<std::string>& names) {
  std::vector<ConnectionRuleInfo> out;
  std::set<std::string> seen;
  for (std::uint32_t k = 0; k < d.n_connection_rules; ++k) {
    const spk_connection_rule* r = d.connection_rules[k];
    if (r == nullptr) {
      throw ConfigError(fmt::format("plugin '{}': connection rule {} is a null pointer", path, k));
    }
    if (r->struct_size < abi_1_0_size<spk_connection_rule>()) {
      throw ConfigError(fmt::format(
          "plugin '{}': connection rule {} has struct_size {}, less than the {} bytes of ABI {}.0",
          path, k, r->struct_size, abi_1_0_size<spk_connection_rule>(),
          SPIKELINE_PLUGIN_ABI_MAJOR));
    }
    check_name(path, r->name, fmt::format("connection rule {}", k));
    const std::string name = r->name;
    const std::string what = fmt::format("plugin '{}': connection rule '{}'", path, name);
    const ConnectionShape shape = connection_shape(*r);
    if (r->connect == nullptr && shape.connect_source == nullptr) {
      throw ConfigError(
          fmt::format("{} has no connect function: set connect (the sources of a target) or "
                      "connect_source (the targets of a source, ABI 1.5)",
                      what));
    }
    if (r->connect != nullptr && shape.connect_source != nullptr) {
      throw ConfigError(
          fmt::format("{} sets both connect and connect_source: a rule draws either by target "
                      "or by source, set exactly one",
                      what));
    }
    if (shape.counts != nullptr && shape.connect_source != nullptr) {
      throw ConfigError(fmt::format(
          "{} sets counts with connect_source: per-target counts are for a rule drawn by "
          "target (connect)",
          what));
    }
    if (registry.has_connection_rule(name)) {
      const auto& other = registry.get_connection_rule(name, "plugin");
      throw ConfigError(
          fmt::format("{} is already registered ({}): connection rule names must be unique", what,
                      other.origin.empty() ? std::string("a built-in rule")
                                           : fmt::format("by plugin '{}'", other.origin)));
    }
    if (!seen.insert(name).second) throw ConfigError(fmt::format("{} is listed twice", what));
    auto rule = std::make_shared<detail::ConnRule>();
    set_origin(*rule, path, d, library);
    rule->name = name;
    rule->constants_size = r->constants_size;
    rule->prepare = r->prepare;
    rule->expected_pairs = r->expected_pairs;
    rule->connect = r->connect;
    rule->connect_source = shape.connect_source;
    rule->counts = shape.counts;
    std::set<std::string> params;
    const std::string entry = fmt::format("connection rule '{}'", name);
    const auto required = read_required(path, what, entry, required_rows(*r));
    rule->params = read_params(path, what, entry, r->params, r->n_params, false, params, required);
    rule->choices = read_choices(path, what, entry, choice_rows(*r), params);
    rule->required = check_required(what, required, rule->params, rule->choices);
    auto infos = param_infos(rule->params, rule->required);
    add_choice_infos(infos, rule->choices);
    out.push_back(detail::connection_rule_info(rule, r->doc, std::move(infos)));
    names.push_back(name);
  }
  return out;
}

// The current devices of the descriptor (ABI 1.6) checked and copied, as
// the connection rules: the Registry entries to add, their names in
// `names`. A device shares the namespace of the models (a stimulus names
// it with `model`): a name already registered or listed twice is refused.
std::vector<ModelInfo> read_devices(const std::string& path, const spk_plugin& d,
                                    const Registry& registry,
                                    const std::shared_ptr<const Library>& library,
                                    std::set<std::string>& seen, std::vector<std::string>& names) {
  std::vector<ModelInfo> out;
  const auto [devices, n] = device_rows(d);
  for (std::uint32_t k = 0; k < n; ++k) {
    const spk_current_device* v = devices[k];
    if (v == nullptr) {
      throw ConfigError(fmt::format("plugin '{}': current device {} is a null pointer", path, k));
    }
    if (v->struct_size < sizeof(spk_current_device)) {
      throw ConfigError(fmt::format(
          "plugin '{}': current device {} has struct_size {}, less than the {} bytes of ABI {}.6",
          path, k, v->struct_size, sizeof(spk_current_device), SPIKELINE_PLUGIN_ABI_MAJOR));
    }
    check_name(path, v->name, fmt::format("current device {}", k));
    const std::string name = v->name;
    const std::string what = fmt::format("plugin '{}': current device '{}'", path, name);
    if (v->current == nullptr) throw ConfigError(fmt::format("{} has no current function", what));
    if (registry.has(name)) {
      const auto& other = registry.get(name, "plugin");
      throw ConfigError(
          fmt::format("{} is already registered ({}): model and device names must be unique", what,
                      other.origin.empty() ? std::string("a built-in model")
                                           : fmt::format("by plugin '{}'", other.origin)));
    }
    if (!seen.insert(name).second) throw ConfigError(fmt::format("{} is listed twice", what));
    auto device = std::make_shared<detail::Device>();
    set_origin(*device, path, d, library);
    device->name = name;
    device->constants_size = v->constants_size;
    device->prepare = v->prepare;
    device->current = v->current;
    std::set<std::string> params;
    const std::string entry = fmt::format("device '{}'", name);
    const auto required = read_required(path, what, entry, {v->required, v->n_required});
    device->params =
        read_params(path, what, entry, v->params, v->n_params, false, params, required);
    device->choices = read_choices(path, what, entry, {v->choices, v->n_choices}, params);
    device->required = check_required(what, required, device->params, device->choices);
    auto infos = param_infos(device->params, device->required);
    add_choice_infos(infos, device->choices);
    out.push_back(detail::device_info(device, v->doc, std::move(infos)));
    names.push_back(name);
  }
  return out;
}

// The same file, whatever the spelling of its path.
std::string canonical(const std::string& path) {
  std::error_code ec;
  const auto c = std::filesystem::canonical(path, ec);
  return ec ? path : c.string();
}

// The entry point's descriptor checked and its entries registered, or none
// (the registry unchanged). `library` is null for a catalogue compiled in.
PluginInfo register_descriptor(const std::string& path, spk_plugin_init_fn init,
                               const std::shared_ptr<const Library>& library, Registry& registry);

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

  return register_descriptor(path, init, library, registry);
}

PluginInfo register_catalogue(spk_plugin_init_fn init, Registry& registry) {
  return register_descriptor("(built in)", init, nullptr, registry);
}

namespace {

PluginInfo register_descriptor(const std::string& path, spk_plugin_init_fn init,
                               const std::shared_ptr<const Library>& library, Registry& registry) {
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
  if (d->struct_size < plugin_1_0_size()) {
    throw ConfigError(
        fmt::format("plugin '{}': its descriptor has struct_size {}, less than the {} bytes of "
                    "ABI {}.0",
                    path, d->struct_size, plugin_1_0_size(), SPIKELINE_PLUGIN_ABI_MAJOR));
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
  const auto [devices, n_devices] = device_rows(*d);
  if (n_devices > 0 && devices == nullptr) {
    throw ConfigError(
        fmt::format("plugin '{}': declares {} current devices but no array", path, n_devices));
  }
  if (d->n_neuron_models == 0 && d->n_learning_rules == 0 && d->n_connection_rules == 0 &&
      n_devices == 0) {
    throw ConfigError(
        fmt::format("plugin '{}': provides nothing (no neuron model, learning rule, "
                    "connection rule or current device)",
                    path));
  }

  // Every model checked before any is registered: a refused plugin leaves
  // the registry unchanged.
  std::vector<ModelInfo> infos;
  std::set<std::string> seen;
  PluginInfo out{path, d->name, text(d->version), d->abi_major, d->abi_minor, {}, {}, {}, {}};
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
  std::vector<RuleInfo> rules;
  for (std::uint32_t k = 0; k < d->n_learning_rules; ++k) {
    const spk_learning_rule* r = d->learning_rules[k];
    const auto rule = read_rule(path, *d, r, k, library);
    if (registry.has_rule(rule->name)) {
      const auto& other = registry.get_rule(rule->name, "plugin");
      throw ConfigError(fmt::format(
          "plugin '{}': learning rule '{}' is already registered ({}): rule names must be unique",
          path, rule->name,
          other.origin.empty() ? std::string("a built-in rule")
                               : fmt::format("by plugin '{}'", other.origin)));
    }
    if (!seen.insert("rule " + rule->name).second) {
      throw ConfigError(
          fmt::format("plugin '{}': learning rule '{}' is listed twice", path, rule->name));
    }
    rules.push_back(rule_info(rule, r->doc));
    out.rules.push_back(rule->name);
  }
  auto connections = read_connection_rules(path, *d, registry, library, out.connection_rules);
  auto device_infos = read_devices(path, *d, registry, library, seen, out.devices);
  for (auto& info : infos) registry.add(std::move(info));
  for (auto& info : device_infos) registry.add(std::move(info));
  for (auto& info : rules) registry.add_rule(std::move(info));
  for (auto& info : connections) registry.add_connection_rule(std::move(info));
  return out;
}

}  // namespace

double resolve_number(const spk_param& row, const ParamMap& p) {
  return detail::one_value_params({row}, p).front();
}

std::uint32_t resolve_choice(const spk_choice& row, const ParamMap& p) {
  return detail::resolve_choices({row}, p).front();
}

std::vector<PluginInfo> load_plugins(const std::vector<std::string>& paths, Registry& registry) {
  std::set<std::string> loaded;
  for (const auto* m : registry.all())
    if (!m->origin.empty()) loaded.insert(canonical(m->origin));
  for (const auto* r : registry.rules())
    if (!r->origin.empty()) loaded.insert(canonical(r->origin));
  for (const auto* r : registry.connection_rules())
    if (!r->origin.empty()) loaded.insert(canonical(r->origin));
  std::vector<PluginInfo> out;
  for (const auto& path : paths) {
    if (!loaded.insert(canonical(path)).second) continue;
    out.push_back(load_plugin(path, registry));
  }
  return out;
}

}  // namespace spikeline::plugin
