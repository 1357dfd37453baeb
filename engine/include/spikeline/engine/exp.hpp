// e^-x for the decays of lazily integrated state, without libm's slow path.
#pragma once

#include <cmath>

namespace spikeline {

// e^-x, x >= 0 (or NaN). Lazy models and traces raise e to minus a gap that
// grows without bound when a neuron or synapse is idle (15 s at tau 20 ms
// is x = 750), and glibc's exp takes a slow path (xflow) for every result
// that underflows: 1.5 % of EMBER's idle loop. Past x = 746, e^-x is below
// half the smallest subnormal double (2^-1075 = e^-745.13), so exp rounds
// it to +0 anyway: the same bits, without the call.
inline double exp_neg(double x) {
  return x > 746.0 ? 0.0 : std::exp(-x);
}

}  // namespace spikeline
