#include "spikeline/encoding/assembly_detector.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "spikeline/engine/error.hpp"

namespace spikeline::encoding {

void AssemblyDetectorParams::validate() const {
  if (!(tau_ms > 0) || !std::isfinite(tau_ms)) {
    throw ConfigError(
        fmt::format("trigger_tau = {} ms is invalid: it must be finite and > 0", tau_ms));
  }
  if (!(threshold > 0 && threshold <= 1)) {
    throw ConfigError(
        fmt::format("trigger_threshold = {} is invalid: it is a fraction of an assembly, in (0, 1]",
                    threshold));
  }
  if (!(dt_ms > 0) || !std::isfinite(dt_ms)) {
    throw ConfigError(fmt::format("dt = {} ms is invalid: it must be finite and > 0", dt_ms));
  }
}

AssemblyDetector::AssemblyDetector(AssemblyDetectorParams params, std::uint64_t population_size)
    : params_(params), population_size_(population_size) {
  params_.validate();
  if (population_size == 0 || population_size > (std::uint64_t{1} << 32)) {
    throw ConfigError(
        fmt::format("the watched population has {} neurons: valid is 1 to 2^32", population_size));
  }
}

void AssemblyDetector::check(std::size_t assembly, std::vector<std::uint32_t>& neurons) const {
  std::sort(neurons.begin(), neurons.end());
  for (std::size_t i = 0; i < neurons.size(); ++i) {
    if (neurons[i] >= population_size_) {
      throw DataError(fmt::format("assembly {}: neuron {} is out of range: valid is 0 to {}",
                                  assembly, neurons[i], population_size_ - 1));
    }
    if (i > 0 && neurons[i] == neurons[i - 1]) {
      throw DataError(fmt::format("assembly {}: neuron {} is listed twice", assembly, neurons[i]));
    }
  }
}

void AssemblyDetector::replace(std::uint32_t assembly, std::vector<std::uint32_t> neurons) {
  if (assembly >= members_.size()) {
    throw DataError(
        fmt::format("assembly {} does not exist: there are {}", assembly, members_.size()));
  }
  check(assembly, neurons);
  members_[assembly] = std::move(neurons);
  value_[assembly] = 0;
  last_[assembly] = now_;
  armed_[assembly] = true;
  index_stale_ = true;
}

std::uint32_t AssemblyDetector::add(std::vector<std::uint32_t> neurons) {
  check(members_.size(), neurons);
  members_.push_back(std::move(neurons));
  value_.push_back(0);
  last_.push_back(now_);
  armed_.push_back(true);
  index_stale_ = true;
  return static_cast<std::uint32_t>(members_.size() - 1);
}

void AssemblyDetector::rebuild_index() const {
  offsets_.assign(population_size_ + 1, 0);
  for (const auto& m : members_)
    for (const auto n : m) ++offsets_[n + 1];
  for (std::size_t i = 0; i < population_size_; ++i) offsets_[i + 1] += offsets_[i];
  ids_.assign(offsets_.back(), 0);
  std::vector<std::uint32_t> fill(offsets_.begin(), offsets_.end() - 1);
  for (std::uint32_t m = 0; m < members_.size(); ++m)
    for (const auto n : members_[m]) ids_[fill[n]++] = m;
  index_stale_ = false;
}

double AssemblyDetector::decayed(std::uint32_t m, std::int64_t step) const {
  const std::int64_t gap = step - last_[m];
  if (gap <= 0 || value_[m] == 0) return value_[m];
  // One exp per visit (not a product of per-step factors): the level at a
  // step is the same whether the assembly was visited in between or not.
  return value_[m] * std::exp(-static_cast<double>(gap) * params_.dt_ms / params_.tau_ms);
}

void AssemblyDetector::observe(std::int64_t step, std::span<const std::uint32_t> neurons,
                               std::vector<Ignition>* out) {
  if (step < now_) {
    throw DataError(
        fmt::format("activity detector: spikes at step {} after step {} (steps must "
                    "not go back)",
                    step, now_));
  }
  now_ = step;
  if (members_.empty() || neurons.empty()) return;
  if (index_stale_) rebuild_index();
  const double half = params_.threshold / 2;
  for (const auto n : neurons) {
    if (n >= population_size_) continue;  // not a neuron of the watched population's range
    for (std::uint32_t k = offsets_[n]; k < offsets_[n + 1]; ++k) {
      const std::uint32_t m = ids_[k];
      double v = decayed(m, step);
      if (!armed_[m] && v < half) armed_[m] = true;
      v += 1.0 / static_cast<double>(members_[m].size());
      value_[m] = v;
      last_[m] = step;
      if (armed_[m] && v >= params_.threshold) {
        armed_[m] = false;
        if (out) out->push_back({m, step, v});
      }
    }
  }
}

double AssemblyDetector::level(std::uint32_t assembly, std::int64_t step) const {
  return decayed(assembly, step);
}

std::vector<double> AssemblyDetector::levels(std::int64_t step) const {
  std::vector<double> out(members_.size());
  for (std::uint32_t m = 0; m < members_.size(); ++m) out[m] = decayed(m, step);
  return out;
}

std::vector<double> AssemblyDetector::state() const {
  std::vector<double> s;
  s.reserve(1 + 3 * members_.size());
  s.push_back(static_cast<double>(now_));
  for (std::size_t m = 0; m < members_.size(); ++m) {
    s.push_back(value_[m]);
    s.push_back(static_cast<double>(last_[m]));  // exact: steps stay far below 2^53
    s.push_back(armed_[m] ? 1.0 : 0.0);
  }
  return s;
}

void AssemblyDetector::restore(std::span<const double> s) {
  if (s.size() != 1 + 3 * members_.size()) {
    throw DataError(
        fmt::format("activity detector state: {} values for {} assemblies (expected {})", s.size(),
                    members_.size(), 1 + 3 * members_.size()));
  }
  now_ = static_cast<std::int64_t>(s[0]);
  for (std::size_t m = 0; m < members_.size(); ++m) {
    value_[m] = s[1 + 3 * m];
    last_[m] = static_cast<std::int64_t>(s[2 + 3 * m]);
    armed_[m] = s[3 + 3 * m] != 0;
  }
}

}  // namespace spikeline::encoding
