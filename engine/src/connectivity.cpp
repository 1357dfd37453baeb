#include "spikeline/engine/connectivity.hpp"

#include <algorithm>
#include <numeric>

#include "spikeline/engine/error.hpp"

namespace spikeline {

Partitioning::Partitioning(unsigned partitions) : parts_(partitions) {
  if (partitions < 1 || partitions > 4096) {
    throw ConfigError(
        fmt::format("simulation.partitions = {} is out of range: valid is 1 to 4096", partitions));
  }
}

IndexRange Partitioning::range(std::size_t n, unsigned part) const {
  const auto begin = static_cast<NeuronIndex>(static_cast<std::uint64_t>(part) * n / parts_);
  const auto end = static_cast<NeuronIndex>(static_cast<std::uint64_t>(part + 1) * n / parts_);
  return {begin, end};
}

unsigned Partitioning::part_of(std::size_t n, NeuronIndex i) const {
  // The largest k with floor(k * n / P) <= i.
  return static_cast<unsigned>(((static_cast<std::uint64_t>(i) + 1) * parts_ - 1) / n);
}

Connectivity::Connectivity(std::vector<SynapseRecord> synapses, std::size_t n_source,
                           std::size_t n_target, const Partitioning& parts)
    : blocks_(parts.count()), count_(synapses.size()), n_source_(n_source), n_target_(n_target) {
  if (synapses.size() >= std::numeric_limits<std::uint32_t>::max()) {
    throw ConfigError(fmt::format("a projection has {} synapses; at most {} are supported",
                                  synapses.size(), std::numeric_limits<std::uint32_t>::max() - 1));
  }
  // Counting sort by partition keeps insertion order (stable).
  std::vector<std::size_t> offset(parts.count() + 1, 0);
  std::vector<unsigned> part_of(synapses.size());
  for (std::size_t k = 0; k < synapses.size(); ++k) {
    const auto& s = synapses[k];
    if (s.source >= n_source || s.target >= n_target || s.delay < 1) {
      throw DataError(fmt::format(
          "synapse {} ({} -> {}, delay {} steps) is invalid: sources must be < {}, targets < {}, "
          "delays >= 1 step",
          k, s.source, s.target, s.delay, n_source, n_target));
    }
    part_of[k] = parts.part_of(n_target, s.target);
    ++offset[part_of[k] + 1];
  }
  std::partial_sum(offset.begin(), offset.end(), offset.begin());
  std::vector<std::uint32_t> order(synapses.size());
  {
    std::vector<std::size_t> fill(offset.begin(), offset.end() - 1);
    for (std::size_t k = 0; k < synapses.size(); ++k) {
      order[fill[part_of[k]]++] = static_cast<std::uint32_t>(k);
    }
  }
  part_of.clear();
  part_of.shrink_to_fit();

  std::vector<bool> seen_delay;
  for (unsigned p = 0; p < parts.count(); ++p) {
    auto first = order.begin() + static_cast<std::ptrdiff_t>(offset[p]);
    auto last = order.begin() + static_cast<std::ptrdiff_t>(offset[p + 1]);
    std::stable_sort(first, last, [&](std::uint32_t x, std::uint32_t y) {
      const auto& a = synapses[x];
      const auto& b = synapses[y];
      if (a.source != b.source) return a.source < b.source;
      if (a.delay != b.delay) return a.delay < b.delay;
      return a.target < b.target;
    });
    SynapseBlock& blk = blocks_[p];
    const std::size_t n = static_cast<std::size_t>(last - first);
    if (n == 0) continue;
    blk.target.reserve(n);
    blk.weight.reserve(n);
    blk.row.assign(n_source + 1, 0);
    for (auto it = first; it != last; ++it) {
      const auto& s = synapses[*it];
      const auto k = static_cast<std::uint32_t>(blk.target.size());
      if (k == 0 || s.source != synapses[*(it - 1)].source || s.delay != blk.groups.back().delay) {
        blk.groups.push_back({k, k, s.delay});
        ++blk.row[s.source + 1];  // counts groups per source; prefix-summed below
        if (s.delay >= seen_delay.size()) seen_delay.resize(s.delay + 1, false);
        seen_delay[s.delay] = true;
      }
      blk.target.push_back(s.target);
      blk.weight.push_back(s.weight);
      blk.groups.back().end = k + 1;
    }
    std::partial_sum(blk.row.begin(), blk.row.end(), blk.row.begin());
  }
  for (std::size_t d = 0; d < seen_delay.size(); ++d) {
    if (!seen_delay[d]) continue;
    if (min_delay_ == 0) min_delay_ = static_cast<std::uint32_t>(d);
    max_delay_ = static_cast<std::uint32_t>(d);
    ++distinct_delays_;
  }
}

std::vector<SynapseRecord> Connectivity::canonical() const {
  std::vector<SynapseRecord> out;
  out.reserve(count_);
  std::vector<SynapseRecord> row;
  for (NeuronIndex src = 0; src < n_source_; ++src) {
    row.clear();
    for (const auto& blk : blocks_) {
      for (const auto& g : blk.groups_of(src)) {
        for (std::uint32_t k = g.begin; k < g.end; ++k) {
          row.push_back({src, blk.target[k], blk.weight[k], g.delay});
        }
      }
    }
    // Stable: multapses with equal (target, delay) keep insertion order.
    std::stable_sort(row.begin(), row.end(), [](const SynapseRecord& a, const SynapseRecord& b) {
      return a.target != b.target ? a.target < b.target : a.delay < b.delay;
    });
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

std::size_t Connectivity::memory_bytes() const {
  std::size_t bytes = 0;
  for (const auto& b : blocks_) {
    bytes += b.row.size() * sizeof(std::uint32_t) + b.groups.size() * sizeof(DelayGroup) +
             b.target.size() * sizeof(NeuronIndex) + b.weight.size() * sizeof(float);
  }
  return bytes;
}

}  // namespace spikeline
