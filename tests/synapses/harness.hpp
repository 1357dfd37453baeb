// Helpers for the connection-rule tests: building specs and contexts,
// counting, and the statistical bounds the tests use.
//
// Statistical tests run with fixed seeds, so each one is deterministic; the
// bounds are chosen so that a CORRECT implementation would fail for a random
// seed with probability of about 1e-4 or less (4 sigma two-sided: 6.3e-5;
// chi-square at its 1 - 1e-4 quantile). A change of the random streams then
// almost never breaks a test by bad luck, while a biased rule (an
// off-by-one in the skipping, a source never drawn, a tap sharing weights)
// is off by far more than that.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "spikeline/engine/connectivity.hpp"
#include "spikeline/engine/time_grid.hpp"
#include "spikeline/synapses/connect.hpp"

namespace spikeline::test {

using synapses::ConnectContext;
using synapses::ConnectionSpec;
using synapses::Rule;
using synapses::ValueSpec;

inline ConnectionSpec spec(Rule rule, const std::string& name = "projection 'a->b'") {
  ConnectionSpec s;
  s.name = name;
  s.rule = rule;
  return s;
}

inline ConnectContext context(std::size_t ns, std::size_t nt, bool same, const TimeGrid& grid,
                              std::uint64_t seed = 12345, std::uint32_t projection = 0) {
  return ConnectContext{ns, nt, same, grid, seed, projection};
}

inline std::vector<SynapseRecord> run(const ConnectionSpec& s, std::size_t ns, std::size_t nt,
                                      bool same, const TimeGrid& grid, std::uint64_t seed = 12345,
                                      std::uint32_t projection = 0) {
  return synapses::connect(s, context(ns, nt, same, grid, seed, projection));
}

inline bool same_records(const std::vector<SynapseRecord>& a, const std::vector<SynapseRecord>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k].source != b[k].source || a[k].target != b[k].target || a[k].delay != b[k].delay ||
        a[k].weight != b[k].weight) {
      return false;
    }
  }
  return true;
}

inline std::vector<std::size_t> per_target(const std::vector<SynapseRecord>& r, std::size_t nt) {
  std::vector<std::size_t> n(nt, 0);
  for (const auto& x : r) ++n.at(x.target);
  return n;
}

inline std::vector<std::size_t> per_source(const std::vector<SynapseRecord>& r, std::size_t ns) {
  std::vector<std::size_t> n(ns, 0);
  for (const auto& x : r) ++n.at(x.source);
  return n;
}

inline std::map<std::pair<NeuronIndex, NeuronIndex>, std::size_t> pair_counts(
    const std::vector<SynapseRecord>& r) {
  std::map<std::pair<NeuronIndex, NeuronIndex>, std::size_t> m;
  for (const auto& x : r) ++m[{x.source, x.target}];
  return m;
}

inline std::size_t autapse_count(const std::vector<SynapseRecord>& r) {
  return static_cast<std::size_t>(std::count_if(
      r.begin(), r.end(), [](const SynapseRecord& x) { return x.source == x.target; }));
}

// Pearson's statistic sum (O - E)^2 / E for counts with equal expectations.
inline double chi_square(const std::vector<std::size_t>& counts, double expected) {
  double x2 = 0;
  for (const auto c : counts) {
    const double d = static_cast<double>(c) - expected;
    x2 += d * d / expected;
  }
  return x2;
}

// The 1 - 1e-4 quantile of chi-square with `dof` degrees of freedom, by the
// Wilson-Hilferty approximation (accurate to about 1% for dof >= 10, which is
// well inside the margin between a correct rule and a biased one). 3.719 is
// the standard normal's 1 - 1e-4 quantile. Counts that are negatively
// correlated (sampling without replacement) have a smaller statistic, so the
// bound stays valid for them too.
inline double chi_square_bound(double dof) {
  const double z = 3.719;
  const double a = 2.0 / (9.0 * dof);
  return dof * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

// Standard normal CDF.
inline double Phi(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}
inline double phi(double z) {
  return std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI);
}

struct Moments {
  double mean = 0, sd = 0;
  std::size_t n = 0;
};

inline Moments moments(const std::vector<double>& v) {
  Moments m;
  m.n = v.size();
  for (const double x : v) m.mean += x;
  m.mean /= static_cast<double>(m.n);
  double ss = 0;
  for (const double x : v) ss += (x - m.mean) * (x - m.mean);
  m.sd = std::sqrt(ss / static_cast<double>(m.n - 1));
  return m;
}

inline std::vector<double> weights(const std::vector<SynapseRecord>& r) {
  std::vector<double> w;
  w.reserve(r.size());
  for (const auto& x : r) w.push_back(x.weight);
  return w;
}

}  // namespace spikeline::test
