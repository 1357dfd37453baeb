#include "spikeline/synapses/value_spec.hpp"

#include <algorithm>
#include <limits>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/params.hpp"

namespace spikeline::synapses {

namespace {
// Redraw a bounded normal at most this often before concluding the bounds
// exclude (almost) the whole distribution; a valid config never gets close.
constexpr int kMaxRedraws = 1000;
}  // namespace

void ValueSpec::validate(const std::string& item) const {
  switch (kind) {
    case Kind::constant:
      check_finite(value, item, "");
      break;
    case Kind::uniform:
      check_finite(low, item + ".low", "");
      check_finite(high, item + ".high", "");
      if (!(low <= high)) {
        throw ConfigError(
            fmt::format("{}: uniform low = {} must not exceed high = {}", item, low, high));
      }
      break;
    case Kind::normal:
      check_finite(mean, item + ".mean", "");
      check_nonnegative(std, item + ".std", "");
      if (std::isnan(low) || std::isnan(high) || !(low <= high)) {
        throw ConfigError(
            fmt::format("{}: normal bounds low = {}, high = {} are invalid (need low <= high)",
                        item, low, high));
      }
      if (bounds == Bounds::redraw && std > 0) {
        // Probability mass inside the bounds; refuse what would loop for ages.
        const double z_lo = (low - mean) / std, z_hi = (high - mean) / std;
        const double mass =
            0.5 * (std::erfc(-z_hi / std::sqrt(2.0)) - std::erfc(-z_lo / std::sqrt(2.0)));
        if (mass < 0.01) {
          throw ConfigError(
              fmt::format("{}: bounds [{}, {}] keep only {:.2g} of normal(mean = {}, std = {}); "
                          "redrawing would "
                          "not end (valid: bounds that keep at least 1%)",
                          item, low, high, mass, mean, std));
        }
      } else if (bounds == Bounds::redraw && !(mean >= low && mean <= high)) {
        throw ConfigError(fmt::format("{}: mean {} is outside the bounds [{}, {}] and std = 0",
                                      item, mean, low, high));
      }
      break;
  }
}

double ValueSpec::draw(RandomStream& rng) const {
  switch (kind) {
    case Kind::constant:
      return value;
    case Kind::uniform:
      return rng.uniform(low, high);
    case Kind::normal:
      if (bounds == Bounds::clip) return std::clamp(rng.normal(mean, std), low, high);
      for (int k = 0; k < kMaxRedraws; ++k) {
        const double v = rng.normal(mean, std);
        if (v >= low && v <= high) return v;
      }
      return std::clamp(mean, low, high);  // unreachable for validated specs
  }
  return value;
}

DelaySampler::DelaySampler(const ValueSpec& spec, const TimeGrid& grid, const std::string& item)
    : spec_(spec), item_(item), dt_(grid.dt()) {
  spec.validate(item);
  switch (spec.kind) {
    case ValueSpec::Kind::constant:
      constant_ = static_cast<std::uint32_t>(grid.synaptic_delay_steps(spec.value, item));
      break;
    case ValueSpec::Kind::uniform:
      low_steps_ = grid.synaptic_delay_steps(spec.low, item + ".low");
      high_steps_ = grid.synaptic_delay_steps(spec.high, item + ".high");
      break;
    case ValueSpec::Kind::normal: {
      if (!(spec.high >= dt_)) {
        throw ConfigError(fmt::format("{}: high = {} ms is below one time step (dt = {} ms)", item,
                                      spec.high, dt_));
      }
      spec_.low = std::max(spec.low, dt_);
      // The grid points inside [low, high]; a drawn delay is rounded to the
      // nearest step and kept among them.
      constexpr double kTol = 1e-6;
      low_steps_ =
          std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(spec_.low / dt_ - kTol)));
      // An open upper bound ends at the longest synaptic delay; a given one
      // must not lie beyond it.
      if (std::isfinite(spec.high) && spec.high / dt_ > static_cast<double>(kMaxDelaySteps) + 0.5) {
        throw ConfigError(fmt::format(
            "{}: high = {} ms is longer than the longest synaptic delay, {} steps ({} ms at dt = "
            "{} ms)",
            item, spec.high, kMaxDelaySteps, grid.to_ms(kMaxDelaySteps), dt_));
      }
      high_steps_ = std::isfinite(spec.high)
                        ? static_cast<std::int64_t>(std::floor(spec.high / dt_ + kTol))
                        : kMaxDelaySteps;
      // Without a high bound, half the draws or more would lie beyond it.
      if (!std::isfinite(spec.high) &&
          spec.mean / dt_ > static_cast<double>(kMaxDelaySteps) + 0.5) {
        throw ConfigError(fmt::format(
            "{}: mean = {} ms is longer than the longest synaptic delay, {} steps ({} ms at dt = "
            "{} ms)",
            item, spec.mean, kMaxDelaySteps, grid.to_ms(kMaxDelaySteps), dt_));
      }
      if (!(spec_.low / dt_ <= static_cast<double>(kMaxDelaySteps))) {
        throw ConfigError(fmt::format(
            "{}: low = {} ms is longer than the longest synaptic delay, {} steps ({} ms)", item,
            spec_.low, kMaxDelaySteps, grid.to_ms(kMaxDelaySteps)));
      }
      if (high_steps_ < low_steps_) {
        throw ConfigError(fmt::format("{}: no grid point (dt = {} ms) lies in [{}, {}] ms", item,
                                      dt_, spec_.low, spec.high));
      }
      break;
    }
  }
}

std::uint32_t DelaySampler::draw(RandomStream& rng) const {
  switch (spec_.kind) {
    case ValueSpec::Kind::constant:
      return constant_;
    case ValueSpec::Kind::uniform:
      return static_cast<std::uint32_t>(
          low_steps_ + static_cast<std::int64_t>(
                           rng.below(static_cast<std::uint64_t>(high_steps_ - low_steps_ + 1))));
    case ValueSpec::Kind::normal: {
      const double ms = spec_.draw(rng);
      const double steps = std::round(ms / dt_);
      // Only an open upper bound lets a draw pass the longest delay; the
      // nearest step of a draw inside given bounds is kept inside them.
      if (steps > static_cast<double>(high_steps_) && !std::isfinite(spec_.high)) {
        throw ConfigError(fmt::format(
            "{}: a draw from normal(mean = {} ms, std = {} ms) is {} ms, longer than the longest "
            "synaptic delay, {} steps; valid delays are {} to {} ms (dt = {} ms): give the "
            "distribution a high bound (bounds = \"clip\" or \"redraw\")",
            item_, spec_.mean, spec_.std, ms, kMaxDelaySteps, dt_,
            static_cast<double>(kMaxDelaySteps) * dt_, dt_));
      }
      return static_cast<std::uint32_t>(
          std::clamp(steps, static_cast<double>(low_steps_), static_cast<double>(high_steps_)));
    }
  }
  return 1;
}

}  // namespace spikeline::synapses
