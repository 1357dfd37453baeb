#include "spikeline/engine/population.hpp"

#include <cmath>

#include "spikeline/engine/error.hpp"

namespace spikeline {

void Population::update_touched(Step, std::span<const NeuronIndex>, const InputView&, SpikeSink&) {
  throw Error(ExitCode::software, "this model has no event-driven update");
}

Step Population::next_spike(NeuronIndex) {
  return kNever;
}

std::optional<NonFiniteState> Population::find_non_finite(IndexRange r, Step t) const {
  const std::size_t vars = state_vars().size();
  for (NeuronIndex i = r.begin; i < r.end && vars > 0; ++i) {
    for (std::size_t v = 0; v < vars; ++v) {
      const double x = state(v, i, t);
      if (!std::isfinite(x)) return NonFiniteState{i, v, x};
    }
  }
  return std::nullopt;
}

std::size_t state_var_index(const Population& p, const std::string& var, const std::string& owner) {
  const auto vars = p.state_vars();
  std::vector<std::string> names;
  for (std::size_t k = 0; k < vars.size(); ++k) {
    if (vars[k].name == var) return k;
    names.push_back(vars[k].name);
  }
  throw ConfigError(fmt::format("{}: unknown state variable '{}'{}; valid: {}", owner, var,
                                did_you_mean(var, names), fmt::join(names, ", ")));
}

}  // namespace spikeline
