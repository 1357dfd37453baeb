#include "spikeline/engine/registry.hpp"

#include <algorithm>

#include "spikeline/engine/error.hpp"

namespace spikeline {

void Registry::add(ModelInfo info) {
  if (info.name.empty()) throw Error(ExitCode::software, "a model must have a name");
  if (!info.make_population && !info.make_stimulus && !info.make_drive && !info.make_wave) {
    throw Error(ExitCode::software, fmt::format("model '{}' has no factory", info.name));
  }
  const std::string name = info.name;
  if (!models_.emplace(name, std::move(info)).second) {
    throw Error(ExitCode::software, fmt::format("model '{}' is registered twice", name));
  }
}

const ModelInfo& Registry::get(const std::string& name, const std::string& context) const {
  const auto it = models_.find(name);
  if (it != models_.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [k, v] : models_) names.push_back(k);
  throw ConfigError(fmt::format("{}: unknown model '{}'{}; registered models: {}", context, name,
                                did_you_mean(name, names), fmt::join(names, ", ")));
}

std::vector<const ModelInfo*> Registry::all() const {
  std::vector<const ModelInfo*> out;
  for (const auto& [k, v] : models_) out.push_back(&v);
  return out;
}

namespace {

// Names that users of NEST, PyNN and Brian2 (and the papers) give the
// parameters spikeline calls otherwise, with what the config needs instead.
// A hint is given only when the model has the spikeline name, so a model
// that really has `theta` or `cm` is never told otherwise.
struct ForeignName {
  const char* name;
  const char* ours;
  const char* note;  // units that differ, or ""
};
constexpr ForeignName kForeignNames[] = {
    {"V_r", "V_reset", ""},
    {"v_reset", "V_reset", " (in mV)"},
    {"V_rest", "E_L", ""},
    {"v_rest", "E_L", " (in mV)"},
    {"E_rest", "E_L", ""},
    {"V_t", "V_th", ""},
    {"V_thresh", "V_th", ""},
    {"v_thresh", "V_th", " (in mV)"},
    {"V_peak", "V_th", ""},
    {"tau_refrac", "t_ref", " (in ms)"},
    {"t_refrac", "t_ref", ""},
    {"tau_ref", "t_ref", ""},
    {"refractory", "t_ref", " (in ms)"},
    {"cm", "C_m", ": C_m is in pF, PyNN's cm in nF"},
    {"C", "C_m", " (in pF)"},
    {"i_offset", "I_e", ": I_e is in pA, PyNN's i_offset in nA"},
    {"I_ext", "I_e", ""},
    {"tau_syn_E", "tau_syn_ex", ""},
    {"tau_syn_I", "tau_syn_in", ""},
    {"tau_e", "tau_syn_ex", ""},
    {"tau_i", "tau_syn_in", ""},
    {"e_rev_E", "E_ex", " (in mV)"},
    {"e_rev_I", "E_in", " (in mV)"},
    {"E_e", "E_ex", ""},
    {"E_i", "E_in", ""},
    {"g_leak", "g_L", " (in nS)"},
    {"gL", "g_L", ""},
};

std::string foreign_hint(const std::string& name, const std::vector<std::string>& valid) {
  for (const auto& f : kForeignNames) {
    if (name == f.name && std::find(valid.begin(), valid.end(), f.ours) != valid.end())
      return fmt::format(" ('{}' is called '{}' here{})", name, f.ours, f.note);
  }
  return did_you_mean(name, valid);
}

void check_names(const std::string& what, const std::vector<ParamInfo>& infos,
                 const std::vector<StateVarInfo>& state_vars, const ParamMap& params) {
  std::vector<std::string> valid;
  for (const auto& p : infos) valid.push_back(p.name);
  for (const auto& name : params.names()) {
    if (std::find(valid.begin(), valid.end(), name) != valid.end()) continue;
    // A state variable among the parameters: its starting value goes in
    // `initial`, which the closest parameter name would not say.
    for (const auto& v : state_vars) {
      if (v.name == name) {
        throw ConfigError(fmt::format(
            "{}: '{}' is a state variable of {}, not a parameter: give its starting value "
            "in the population's initial table, e.g. initial = {{ {} = ... }}",
            params.owner(), name, what, name));
      }
    }
    throw ConfigError(fmt::format("{}: unknown parameter '{}'{}; {} has: {}", params.owner(), name,
                                  foreign_hint(name, valid), what, fmt::join(valid, ", ")));
  }
}
}  // namespace

void Registry::add_rule(RuleInfo info) {
  if (info.name.empty() || !info.make) {
    throw Error(ExitCode::software, "a plasticity rule needs a name and a factory");
  }
  const std::string name = info.name;
  if (!rules_.emplace(name, std::move(info)).second) {
    throw Error(ExitCode::software, fmt::format("plasticity rule '{}' is registered twice", name));
  }
}

const RuleInfo& Registry::get_rule(const std::string& name, const std::string& context) const {
  const auto it = rules_.find(name);
  if (it != rules_.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [k, v] : rules_) names.push_back(k);
  throw ConfigError(
      fmt::format("{}: unknown plasticity rule '{}'{}; registered rules: {}", context, name,
                  did_you_mean(name, names),
                  names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
}

std::vector<const RuleInfo*> Registry::rules() const {
  std::vector<const RuleInfo*> out;
  for (const auto& [k, v] : rules_) out.push_back(&v);
  return out;
}

void Registry::check_param_names(const RuleInfo& rule, const ParamMap& params) {
  check_names(rule.name, rule.params, {}, params);
}

void Registry::add_connection_rule(ConnectionRuleInfo info) {
  if (info.name.empty()) throw Error(ExitCode::software, "a connection rule needs a name");
  const std::string name = info.name;
  if (!connection_rules_.emplace(name, std::move(info)).second) {
    throw Error(ExitCode::software, fmt::format("connection rule '{}' is registered twice", name));
  }
}

const ConnectionRuleInfo& Registry::get_connection_rule(const std::string& name,
                                                        const std::string& context) const {
  const auto it = connection_rules_.find(name);
  if (it != connection_rules_.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [k, v] : connection_rules_) names.push_back(k);
  throw ConfigError(fmt::format(
      "{}: unknown rule '{}'{}; valid rules: {}", context, name, did_you_mean(name, names),
      names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
}

std::vector<const ConnectionRuleInfo*> Registry::connection_rules() const {
  std::vector<const ConnectionRuleInfo*> out;
  for (const auto& [k, v] : connection_rules_) out.push_back(&v);
  return out;
}

void Registry::check_param_names(const ConnectionRuleInfo& rule, const ParamMap& params) {
  check_names(rule.name, rule.params, {}, params);
}

void Registry::check_param_names(const ModelInfo& model, const ParamMap& params) {
  check_names(model.name, model.params, model.state_vars, params);
}

}  // namespace spikeline
