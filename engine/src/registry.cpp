#include "spikeline/engine/registry.hpp"

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

void Registry::check_param_names(const ModelInfo& model, const ParamMap& params) {
  std::vector<std::string> valid;
  for (const auto& p : model.params) valid.push_back(p.name);
  for (const auto& name : params.names()) {
    bool found = false;
    for (const auto& v : valid) found = found || v == name;
    if (!found) {
      throw ConfigError(fmt::format("{}: unknown parameter '{}'{}; {} has: {}", params.owner(),
                                    name, did_you_mean(name, valid), model.name,
                                    fmt::join(valid, ", ")));
    }
  }
}

}  // namespace spikeline
