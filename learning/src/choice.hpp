// A string parameter with a fixed set of values (ConfigError with a
// did-you-mean otherwise).
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/params.hpp"

namespace spikeline::learning::detail {

template <typename E>
E choice(const ParamMap& p, const std::string& name, const std::string& fallback,
         std::initializer_list<std::pair<const char*, E>> options) {
  std::vector<std::string> names;
  for (const auto& o : options) names.emplace_back(o.first);
  const std::size_t k = choice_index(p.item(name), p.text(name, fallback), names);
  return std::data(options)[k].second;
}

}  // namespace spikeline::learning::detail
