// Small helpers shared by the built-in models (private to the neurons library).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/population.hpp"

namespace spikeline::detail {

// Calls f(i), in order, for every i in [begin, end) with V[i] >= threshold.
// Eight neurons are tested at a time with a branch-free OR, which the
// compiler turns into one vector compare, so a step in which few neurons
// spike costs a compare per eight neurons rather than a branch per neuron
// (the scalar threshold pass was 18% of COBA's loop). f may change V[i].
template <class F>
inline void for_each_at_threshold(double* V, std::size_t begin, std::size_t end, double threshold,
                                  F&& f) {
  constexpr std::size_t kLanes = 8;
  std::size_t i = begin;
  for (; i + kLanes <= end; i += kLanes) {
    bool any = false;
    for (std::size_t j = 0; j < kLanes; ++j) any |= V[i + j] >= threshold;
    if (!any) continue;
    for (std::size_t j = 0; j < kLanes; ++j)
      if (V[i + j] >= threshold) f(i + j);
  }
  for (; i < end; ++i)
    if (V[i] >= threshold) f(i);
}

// The injected current of neuron i; the engine may pass no current array.
inline double current_at(const double* current, NeuronIndex i) {
  return current != nullptr ? current[i] : 0.0;
}

// Reads and clears neuron i's accumulated synaptic input.
inline double take(float* buf, NeuronIndex i) {
  const double v = buf[i];
  buf[i] = 0.0f;
  return v;
}

// t_ref as a whole number of steps (ConfigError when off the grid).
inline std::int32_t refractory_steps(const ModelContext& ctx, double t_ref) {
  const Step r = ctx.grid.time_steps(t_ref, ctx.params.item("t_ref"));
  if (r > std::numeric_limits<std::int32_t>::max()) {
    throw ConfigError(
        fmt::format("{} = {} ms is too long ({} steps)", ctx.params.item("t_ref"), t_ref, r));
  }
  return static_cast<std::int32_t>(r);
}

// An internal error: the engine asked for a state variable the model does not have.
[[noreturn]] inline void bad_state_var(std::string_view model, std::size_t var) {
  throw Error(ExitCode::software, fmt::format("{}: no state variable with index {}", model, var));
}

// A string parameter that must be one of `choices`.
inline std::string choice(const ParamMap& p, const std::string& name, const std::string& fallback,
                          const std::vector<std::string>& choices) {
  std::string v = p.text(name, fallback);
  for (const auto& c : choices) {
    if (c == v) return v;
  }
  throw ConfigError(fmt::format("{} = '{}' is invalid{}: valid choices are {}", p.item(name), v,
                                did_you_mean(v, choices), fmt::join(choices, ", ")));
}

}  // namespace spikeline::detail
