// Drawing sources (or targets) uniformly: what the degree rules share,
// native (fixed_outdegree, fixed_total_number) or through the plugin
// interface (fixed_indegree). `below(m)` draws uniformly on [0, m) from
// the entity's stream (RandomStream::below, or a plugin::Connect's below):
// one function over both, so that a rule drawn either way makes the same
// network from the same stream.
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_set>
#include <vector>

namespace spikeline::synapses {

// `k` distinct values from [0, n) without `skip` (none when skip < 0), by
// Floyd's algorithm, sorted.
template <class Below>
std::vector<std::uint64_t> distinct_sample(std::uint64_t n, std::uint64_t k, std::int64_t skip,
                                           Below&& below) {
  const std::uint64_t m = skip >= 0 ? n - 1 : n;
  std::unordered_set<std::uint64_t> chosen;
  chosen.reserve(k * 2);
  for (std::uint64_t j = m - k; j < m; ++j) {
    const std::uint64_t r = below(j + 1);
    if (!chosen.insert(r).second) chosen.insert(j);
  }
  std::vector<std::uint64_t> out(chosen.begin(), chosen.end());
  std::sort(out.begin(), out.end());
  if (skip >= 0) {
    for (auto& v : out) v += (static_cast<std::int64_t>(v) >= skip) ? 1 : 0;
  }
  return out;
}

// One draw uniform on [0, n) without `skip` (none when skip < 0): a multapse
// rule's partner of one synapse.
template <class Below>
std::uint64_t draw_skipping(Below&& below, std::uint64_t n, std::int64_t skip) {
  std::uint64_t x = below(skip >= 0 ? n - 1 : n);
  if (skip >= 0 && static_cast<std::int64_t>(x) >= skip) ++x;
  return x;
}

}  // namespace spikeline::synapses
