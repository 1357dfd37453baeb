#include "spikeline/engine/params.hpp"

#include <algorithm>
#include <cmath>

#include "spikeline/engine/error.hpp"

namespace spikeline {

namespace {
// " mV", or "" for a dimensionless value.
std::string with_unit(std::string_view unit) {
  return unit.empty() ? std::string{} : fmt::format(" {}", unit);
}

const char* type_name(const ParamValue& v) {
  switch (v.index()) {
    case 0:
      return "a number";
    case 1:
      return "a string";
    case 2:
      return "a list of numbers";
    default:
      return "a list of lists";
  }
}
}  // namespace

std::vector<std::string> ParamMap::names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : values_) out.push_back(k);
  return out;
}

std::string ParamMap::item(std::string_view name) const {
  return owner_.empty() ? fmt::format("parameter {}", name)
                        : fmt::format("{} parameter {}", owner_, name);
}

void ParamMap::check_keys(const std::vector<std::string>& allowed) const {
  for (const auto& [k, v] : values_) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      throw ConfigError(fmt::format("{}: unknown key '{}'{}; valid keys: {}", owner_, k,
                                    did_you_mean(k, allowed), fmt::join(allowed, ", ")));
    }
  }
}

double ParamMap::number_in(const std::string& name, double fallback, double low, double high,
                           std::string_view unit) const {
  const double v = number(name, fallback);
  if (!(v >= low && v <= high)) {
    throw ConfigError(fmt::format("{} = {}{} is invalid: valid is {} to {}{}", item(name), v, unit,
                                  low, high, unit));
  }
  return v;
}

std::uint64_t ParamMap::whole(const std::string& name, double fallback, double low,
                              double high) const {
  const double v = number_in(name, fallback, low, high);
  if (v != std::floor(v)) {
    throw ConfigError(
        fmt::format("{} = {} is invalid: a whole number from {} to {}", item(name), v, low, high));
  }
  return static_cast<std::uint64_t>(v);
}

double ParamMap::steps_ms(const std::string& name, double fallback, double dt,
                          bool positive) const {
  const double v = number_in(name, fallback, positive ? dt : 0, 1e9, " ms");
  const double steps = v / dt;
  if (std::abs(steps - std::round(steps)) > 1e-9 * std::max(1.0, steps)) {
    throw ConfigError(fmt::format(
        "{} = {} ms is not a whole number of steps of dt = {} ms (never rounded silently)",
        item(name), v, dt));
  }
  return v;
}

std::string ParamMap::choice(const std::string& name, const std::string& fallback,
                             const std::vector<std::string>& valid) const {
  const std::string v = text(name, fallback);
  if (std::find(valid.begin(), valid.end(), v) == valid.end()) {
    throw ConfigError(fmt::format("{} = '{}' is invalid{}; valid: {}", item(name),
                                  quote_input(v, 40), did_you_mean(v, valid),
                                  fmt::join(valid, ", ")));
  }
  return v;
}

double ParamMap::number(const std::string& name, double fallback) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  if (const auto* d = std::get_if<double>(&it->second)) return *d;
  throw ConfigError(fmt::format("{} must be a number, got {}", item(name), type_name(it->second)));
}

std::string ParamMap::text(const std::string& name, const std::string& fallback) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  throw ConfigError(fmt::format("{} must be a string, got {}", item(name), type_name(it->second)));
}

bool ParamMap::is_list(const std::string& name) const {
  const auto it = values_.find(name);
  return it != values_.end() && it->second.index() >= 2;
}

std::vector<double> ParamMap::list(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return {};
  if (const auto* d = std::get_if<double>(&it->second)) return {*d};
  if (const auto* l = std::get_if<std::vector<double>>(&it->second)) return *l;
  throw ConfigError(
      fmt::format("{} must be a list of numbers, got {}", item(name), type_name(it->second)));
}

std::vector<std::vector<double>> ParamMap::nested_list(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return {};
  if (const auto* d = std::get_if<double>(&it->second)) return {{*d}};
  if (const auto* l = std::get_if<std::vector<double>>(&it->second)) return {*l};
  if (const auto* n = std::get_if<std::vector<std::vector<double>>>(&it->second)) return *n;
  throw ConfigError(fmt::format("{} must be a list of lists of numbers, got {}", item(name),
                                type_name(it->second)));
}

void check_finite(double v, std::string_view item, std::string_view unit) {
  if (!std::isfinite(v)) {
    throw ConfigError(
        fmt::format("{} = {}{} is invalid: it must be a finite number", item, v, with_unit(unit)));
  }
}

void check_positive(double v, std::string_view item, std::string_view unit) {
  if (!(v > 0) || !std::isfinite(v)) {
    throw ConfigError(
        fmt::format("{} = {}{} is invalid: it must be finite and > 0", item, v, with_unit(unit)));
  }
}

void check_nonnegative(double v, std::string_view item, std::string_view unit) {
  if (!(v >= 0) || !std::isfinite(v)) {
    throw ConfigError(
        fmt::format("{} = {}{} is invalid: it must be finite and >= 0", item, v, with_unit(unit)));
  }
}

void check_range(double v, double low, double high, std::string_view item, std::string_view unit) {
  if (!(v >= low && v <= high)) {
    throw ConfigError(fmt::format("{} = {}{} is out of range: valid is [{}, {}]{}", item, v,
                                  with_unit(unit), low, high, with_unit(unit)));
  }
}

void check_less(double a, std::string_view item_a, double b, std::string_view item_b,
                std::string_view unit) {
  if (!(a < b)) {
    throw ConfigError(fmt::format("{} = {}{} must be below {} = {}{}", item_a, a, with_unit(unit),
                                  item_b, b, with_unit(unit)));
  }
}

}  // namespace spikeline
