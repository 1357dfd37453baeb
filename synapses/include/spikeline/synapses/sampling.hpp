// Drawing sources (or targets) uniformly: what the degree rules
// (fixed_indegree, fixed_outdegree, fixed_total_number) share. `below(m)`
// draws uniformly on [0, m) from the entity's stream (a plugin::Connect's
// or ConnectSource's below, or RandomStream::below).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_set>
#include <vector>

namespace spikeline::synapses {

// Why a config's `what` = k (a count of partners: indegree, outdegree,
// total) cannot be drawn from `pool` partners (`pool_name`: "sources"), or
// "" when it can: k must be a whole number in [0, max], and at most pool
// without multapses; none can be drawn from an empty pool.
inline std::string count_problem(const char* what, double k, double max, std::uint64_t pool,
                                 const char* pool_name, bool multapses) {
  if (k != std::floor(k) || k > max) {
    char text[128];
    std::snprintf(text, sizeof text, "%s = %g is not a whole number in [0, %.0f]", what, k, max);
    return text;
  }
  const auto n = static_cast<std::uint64_t>(k);
  if (n > 0 && pool == 0) {
    return std::string(what) + " = " + std::to_string(n) + " but there are no " + pool_name +
           " to draw from";
  }
  if (!multapses && n > pool) {
    return std::string(what) + " = " + std::to_string(n) + " exceeds the " + std::to_string(pool) +
           " " + pool_name + " available without multapses";
  }
  return "";
}

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

// `k` partners from [0, n) without `skip` (none when skip < 0), each handed
// to add(partner): with multapses k independent draws, in draw order;
// without, k distinct ones (Floyd's algorithm), in increasing order. What
// fixed_indegree does for a target and fixed_outdegree for a source.
template <class Below, class Add>
void draw_partners(std::uint64_t n, std::uint64_t k, std::int64_t skip, bool multapses,
                   Below&& below, Add&& add) {
  if (multapses) {
    for (std::uint64_t j = 0; j < k; ++j) add(draw_skipping(below, n, skip));
  } else {
    for (const std::uint64_t x : distinct_sample(n, k, skip, below)) add(x);
  }
}

}  // namespace spikeline::synapses
