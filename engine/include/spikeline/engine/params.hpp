// Model parameters as they come from a config: named values with units fixed
// by the model's documentation (ms, mV, pA, nS, pF, Hz).
//
// A model reads its parameters once, into a value-type struct that validates
// itself at construction (see neurons/ for examples); ParamMap is only the
// transport from the config to that struct. The check_* helpers are NaN-safe
// (they test `!(x > 0)`, not `x <= 0`) and name the item, the value and the
// valid range in their message.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace spikeline {

using ParamValue =
    std::variant<double, std::string, std::vector<double>, std::vector<std::vector<double>>>;

class ParamMap {
 public:
  ParamMap() = default;
  // `owner` names the thing these parameters belong to in error messages,
  // e.g. "population 'exc' (iaf_cond_exp)".
  explicit ParamMap(std::string owner) : owner_(std::move(owner)) {}

  void set(const std::string& name, ParamValue v) { values_[name] = std::move(v); }
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const std::string& owner() const { return owner_; }
  std::vector<std::string> names() const;
  // The value under `name`, or null.
  const ParamValue* find(const std::string& name) const {
    const auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
  }

  // A number, or `fallback` when absent. A present value of another type is a ConfigError.
  double number(const std::string& name, double fallback) const;
  std::string text(const std::string& name, const std::string& fallback) const;
  // Whether the value is a list (of numbers or of lists).
  bool is_list(const std::string& name) const;
  // A list of numbers; a single number is accepted as a list of one.
  std::vector<double> list(const std::string& name) const;
  // A list of lists of numbers; a flat list is accepted as one inner list.
  std::vector<std::vector<double>> nested_list(const std::string& name) const;

  // "population 'exc' (iaf_cond_exp) parameter tau_m"
  std::string item(std::string_view name) const;
  // ConfigError for a name not in `allowed`, with a did-you-mean and the
  // valid names: a misspelt key is refused, never ignored.
  void check_keys(const std::vector<std::string>& allowed) const;

  // Checked reads of the value of `name` (`fallback` when absent), each a
  // ConfigError naming item(name), the value and the valid range: a number
  // in [low, high] (NaN refused); a whole number in [low, high]; a time in
  // ms that is a whole number of steps of dt (>= 0, or >= dt when
  // `positive`; never rounded); one of `valid` strings.
  double number_in(const std::string& name, double fallback, double low, double high,
                   std::string_view unit = "") const;
  std::uint64_t whole(const std::string& name, double fallback, double low, double high) const;
  double steps_ms(const std::string& name, double fallback, double dt, bool positive) const;
  std::string choice(const std::string& name, const std::string& fallback,
                     const std::vector<std::string>& valid) const;

 private:
  std::string owner_;
  std::map<std::string, ParamValue> values_;
};

// NaN-safe checks; `item` is the full name of the value in the message.
void check_finite(double v, std::string_view item, std::string_view unit);
void check_positive(double v, std::string_view item, std::string_view unit);
void check_nonnegative(double v, std::string_view item, std::string_view unit);
void check_range(double v, double low, double high, std::string_view item, std::string_view unit);
// Requires a < b, e.g. V_reset < V_th.
void check_less(double a, std::string_view item_a, double b, std::string_view item_b,
                std::string_view unit);

}  // namespace spikeline
