#include "spikeline/neurons/step_current.hpp"

#include <algorithm>
#include <cmath>

#include "model_util.hpp"

namespace spikeline {

namespace {
class StepCurrentWave final : public CurrentWave {
 public:
  explicit StepCurrentWave(StepCurrentParams p)
      : steps_(std::move(p.steps)), values_(std::move(p.amplitude_values)) {}

  void add(Step t, std::span<const NeuronIndex> neurons, double* current) const override {
    // The value in force at (t-1) dt: the last change at or before it.
    const auto it = std::upper_bound(steps_.begin(), steps_.end(), t - 1);
    if (it == steps_.begin()) return;
    const double v = values_[static_cast<std::size_t>(it - steps_.begin()) - 1];
    for (const NeuronIndex i : neurons) current[i] += v;
  }

 private:
  std::vector<Step> steps_;
  std::vector<double> values_;
};
}  // namespace

StepCurrentParams::StepCurrentParams(const ParamMap& p, const TimeGrid& grid)
    : amplitude_times(p.has("amplitude_times") ? p.list("amplitude_times") : std::vector<double>{}),
      amplitude_values(p.has("amplitude_values") ? p.list("amplitude_values")
                                                 : std::vector<double>{}) {
  if (amplitude_times.size() != amplitude_values.size()) {
    throw ConfigError(fmt::format(
        "{} has {} values and {} has {}: they must have the same length (one current per time)",
        p.item("amplitude_times"), amplitude_times.size(), p.item("amplitude_values"),
        amplitude_values.size()));
  }
  for (std::size_t i = 0; i < amplitude_times.size(); ++i) {
    const std::string item = fmt::format("{}[{}]", p.item("amplitude_times"), i);
    steps.push_back(grid.time_steps(amplitude_times[i], item));  // finite, >= 0, on the grid
    if (i > 0 && steps[i] <= steps[i - 1]) {
      throw ConfigError(
          fmt::format("{} = {} ms is invalid: the times must be strictly increasing, so it must be "
                      "> amplitude_times[{}] = {} ms",
                      item, amplitude_times[i], i - 1, amplitude_times[i - 1]));
    }
    check_finite(amplitude_values[i], fmt::format("{}[{}]", p.item("amplitude_values"), i), "pA");
  }
}

std::shared_ptr<const CurrentWave> step_current_wave(const ParamMap& p, const TimeGrid& grid,
                                                     const WaveContext&) {
  return std::make_shared<StepCurrentWave>(StepCurrentParams(p, grid));
}

ModelInfo step_current_model() {
  ModelInfo m;
  m.name = "step_current";
  m.kind = ModelKind::stimulus;
  m.summary =
      "piecewise constant current: amplitude_values[i] from amplitude_times[i] on, 0 before the "
      "first (NEST's step_current_generator, PyNN's StepCurrentSource)";
  m.params = {
      {"amplitude_times", "ms", NAN,
       "times of the changes (each >= 0 and whole steps; strictly increasing; a value set at "
       "time s acts from the step after s)"},
      {"amplitude_values", "pA", NAN,
       "the current from each time on (finite; as many as amplitude_times; pA for LIF models, "
       "model units otherwise)"},
  };
  m.make_wave = step_current_wave;
  return m;
}

}  // namespace spikeline
