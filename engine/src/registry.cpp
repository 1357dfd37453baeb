#include "spikeline/engine/registry.hpp"

#include <algorithm>

#include "spikeline/engine/error.hpp"

namespace spikeline {

void Registry::add(ModelInfo info) {
  if (info.name.empty()) throw Error(ExitCode::software, "a model must have a name");
  if (!info.make_population && !info.make_stimulus) {
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
void check_names(const std::string& what, const std::vector<ParamInfo>& infos,
                 const ParamMap& params) {
  std::vector<std::string> valid;
  for (const auto& p : infos) valid.push_back(p.name);
  for (const auto& name : params.names()) {
    if (std::find(valid.begin(), valid.end(), name) == valid.end()) {
      throw ConfigError(fmt::format("{}: unknown parameter '{}'{}; {} has: {}", params.owner(),
                                    name, did_you_mean(name, valid), what, fmt::join(valid, ", ")));
    }
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
  check_names(rule.name, rule.params, params);
}

void Registry::check_param_names(const ModelInfo& model, const ParamMap& params) {
  check_names(model.name, model.params, params);
}

}  // namespace spikeline
