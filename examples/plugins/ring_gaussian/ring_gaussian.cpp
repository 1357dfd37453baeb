// ring_gaussian as a spikeline plugin: a distance-dependent connection rule
// on a ring, the connectivity of ring models (Ben-Yishai, Bar-Or and
// Sompolinsky 1995; Hansel and Sompolinsky 1998; Compte et al. 2000) and of
// NEST's spatial connections with a Gaussian kernel and periodic
// boundaries.
//
// Rule
//   The neurons of each population are laid out evenly on one ring of
//   circumference 1: source s at x_s = s / n_source, target t at
//   x_t = t / n_target (two populations of different sizes share the ring,
//   as an excitatory and an inhibitory layer of a ring model do). The
//   distance is the shorter arc,
//     d(s, t) = min(|x_s - x_t|, 1 - |x_s - x_t|)   in [0, 1/2],
//   and every pair is connected independently with probability
//     p(d) = p_max exp(-d^2 / (2 sigma^2)).
//   Autapses (d = 0) follow the projection's `autapses`; a pair is drawn
//   once (no multapses). Weights and delays are the projection's `weight`
//   and `delay`, as for any rule (a distribution is drawn per synapse).
//
// Parameters
//   sigma   ""  0.1   width of the kernel, as a fraction of the ring (> 0)
//   p_max   ""  1     probability at distance 0, in [0, 1]
//
// Cost: about the synapses made, plus 4 / sigma blocks per target (below).
//
// Config
//   [[projection]]
//   source = "exc"
//   target = "exc"
//   rule = "ring_gaussian"
//   params = { sigma = 0.05, p_max = 0.5 }
//   autapses = false
//   weight = 0.2
//   delay = 1.0
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

#include <spikeline/plugin.hpp>

namespace sp = spikeline::plugin;

struct RingGaussian : sp::ConnectionRule {
  static constexpr const char* name = "ring_gaussian";
  static constexpr const char* doc =
      "each pair with probability p_max exp(-d^2 / (2 sigma^2)), d the distance on a ring of "
      "circumference 1 (neurons evenly spaced)";
  enum { sigma, p_max };
  static constexpr spk_param params[] = {
      sp::param("sigma", "", 0.1, "kernel width, a fraction of the ring").positive(),
      sp::param("p_max", "", 1.0, "probability at distance 0").at_least(0.0).at_most(1.0)};

  struct Constants {
    double inv_two_sigma2;
  };
  static void prepare(sp::ConnectSetup<RingGaussian>& s) {
    s.constants().inv_two_sigma2 = 1.0 / (2.0 * s.param(sigma) * s.param(sigma));
  }

  // The ring distance of positions a and b in [0, 1).
  static double distance(double a, double b) {
    const double d = std::fabs(a - b);
    return d < 0.5 ? d : 1.0 - d;
  }

  // Exact, at a cost of about the synapses made rather than n_source draws
  // per target: the sources are taken in blocks of about sigma / 4 of the
  // ring; in a block, candidates are drawn with the block's largest
  // probability q (geometric skipping) and each is kept with p(d) / q
  // (thinning), so each source is connected with probability p(d) exactly.
  static void connect(sp::Connect<RingGaussian>& c) {
    const double k = c.constants().inv_two_sigma2, p0 = c.param(p_max);
    const std::uint64_t ns = c.n_source();
    const double xt = static_cast<double>(c.target()) / static_cast<double>(c.n_target());
    auto p = [&](std::uint64_t s) {
      const double d = distance(static_cast<double>(s) / static_cast<double>(ns), xt);
      return p0 * std::exp(-d * d * k);
    };
    const auto nearest = static_cast<std::uint64_t>(xt * static_cast<double>(ns));
    const std::uint64_t width = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(c.param(sigma) * static_cast<double>(ns) / 4.0));
    for (std::uint64_t a = 0; a < ns; a += width) {
      const std::uint64_t b = std::min(ns, a + width);  // the block [a, b)
      // Along a block the distance is monotonic or has one interior maximum
      // (the far side of the ring) or one interior minimum (next to the
      // target): the largest p is at an end or next to the target.
      double q = std::max(p(a), p(b - 1));
      if (nearest >= a && nearest < b) q = std::max(q, p(nearest));
      if (nearest + 1 >= a && nearest + 1 < b) q = std::max(q, p(nearest + 1));
      if (q <= 0.0) continue;
      // Skips of g sources (g may be huge for a tiny q: compared, never added).
      for (std::uint64_t s = a, g = c.geometric(q); g < b - s; g = c.geometric(q)) {
        s += g;
        if (c.uniform() * q < p(s)) c.add(s);
        if (++s == b) break;
      }
    }
  }

  // Per target, the sum over sources of p is about n_source times the
  // kernel's integral over the ring, p_max sigma sqrt(2 pi) erf(1 / (2
  // sqrt(2) sigma)): the memory guard's estimate.
  static double expected_pairs(const sp::ConnectSetup<RingGaussian>& s) {
    const double sg = s.param(sigma);
    const double per_target = static_cast<double>(s.n_source()) * s.param(p_max) * sg *
                              std::sqrt(2.0 * std::numbers::pi) *
                              std::erf(1.0 / (2.0 * std::sqrt(2.0) * sg));
    return per_target * static_cast<double>(s.n_target());
  }
};

SPIKELINE_PLUGIN("ring_gaussian", "1.0", RingGaussian)
