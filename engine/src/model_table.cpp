#include "spikeline/engine/model_table.hpp"

#include <fmt/format.h>

namespace spikeline {

std::string_view range_text(Range r) {
  switch (r) {
    case Range::positive:
      return "> 0";
    case Range::nonnegative:
      return ">= 0";
    case Range::unit:
      return "in [0, 1]";
    case Range::fraction:
      return "in (0, 1]";
    case Range::finite:
    case Range::not_nan:
      break;
  }
  return {};
}

std::string doc_with_range(const std::string& doc, Range r) {
  const std::string_view range = range_text(r);
  if (range.empty()) return doc;
  if (doc.empty()) return std::string(range);
  if (const auto open = doc.rfind('('); doc.back() == ')' && open != std::string::npos) {
    return fmt::format("{}{}, {}", doc.substr(0, open + 1), range, doc.substr(open + 1));
  }
  return fmt::format("{} ({})", doc, range);
}

bool in_range(double v, Range r) {
  switch (r) {
    case Range::finite:
      return std::isfinite(v);
    case Range::positive:
      return std::isfinite(v) && v > 0;
    case Range::nonnegative:
      return std::isfinite(v) && v >= 0;
    case Range::unit:
      return v >= 0 && v <= 1;
    case Range::fraction:
      return v > 0 && v <= 1;
    case Range::not_nan:
      return !std::isnan(v);
  }
  return false;
}

std::string cannot_vary_message(std::string_view item, const std::vector<std::string>& varying) {
  return fmt::format(
      "{} cannot vary per neuron (an array or a distribution was given): it must be one "
      "number; {}",
      item,
      varying.empty() ? std::string("none of this model's parameters can")
                      : fmt::format("parameters that can: {}", fmt::join(varying, ", ")));
}

void check_in_range(double v, Range r, std::string_view item, std::string_view unit) {
  switch (r) {
    case Range::finite:
      return check_finite(v, item, unit);
    case Range::positive:
      return check_positive(v, item, unit);
    case Range::nonnegative:
      return check_nonnegative(v, item, unit);
    case Range::unit:
      return check_range(v, 0.0, 1.0, item, unit);
    case Range::fraction:
      if (!(v > 0 && v <= 1)) {
        throw ConfigError(fmt::format("{} = {}{}{} is out of range: valid is (0, 1]", item, v,
                                      unit.empty() ? "" : " ", unit));
      }
      return;
    case Range::not_nan:
      if (std::isnan(v)) {
        throw ConfigError(fmt::format("{} = nan{}{} is invalid: it must be a number", item,
                                      unit.empty() ? "" : " ", unit));
      }
      return;
  }
}

std::size_t choice_index(std::string_view item, const std::string& value,
                         const std::vector<std::string>& choices) {
  for (std::size_t k = 0; k < choices.size(); ++k)
    if (choices[k] == value) return k;
  throw ConfigError(fmt::format("{} = '{}' is invalid{}: valid choices are {}", item, value,
                                did_you_mean(value, choices), fmt::join(choices, ", ")));
}

}  // namespace spikeline
