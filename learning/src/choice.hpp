// A string parameter with a fixed set of values (ConfigError with a
// did-you-mean otherwise).
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/params.hpp"

namespace spikeline::learning::detail {

template <typename E>
E choice(const ParamMap& p, const std::string& name, const std::string& fallback,
         std::initializer_list<std::pair<const char*, E>> options) {
  const std::string v = p.text(name, fallback);
  std::vector<std::string> names;
  for (const auto& [n, e] : options) {
    if (v == n) return e;
    names.emplace_back(n);
  }
  throw ConfigError(fmt::format("{} = '{}' is invalid{}; valid: {}", p.item(name), v,
                                did_you_mean(v, names), fmt::join(names, ", ")));
}

}  // namespace spikeline::learning::detail
