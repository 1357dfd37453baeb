#include "spikeline/neurons/lif_discrete.hpp"

#include "model_util.hpp"
#include "spikeline/plugin/loader.hpp"

namespace spikeline {

LifDiscreteParams::LifDiscreteParams(const ParamMap& p)
    : beta(plugin::resolve_number(LifDiscrete::params[LifDiscrete::beta], p)),
      theta(plugin::resolve_number(LifDiscrete::params[LifDiscrete::theta], p)),
      reset(static_cast<LifDiscrete::Reset>(
          plugin::resolve_choice(LifDiscrete::choices[LifDiscrete::reset], p))) {}

namespace {
// One step of [begin, end): the reset chosen at compile time, so that the
// loop holds no branch on it.
template <bool kSubtract, class N>
void lif_discrete_loop(N& n) {
  double* u = n.state(LifDiscrete::u);
  std::int32_t* s = n.counter(LifDiscrete::s);
  for (auto i = n.begin(); i < n.end(); ++i) {
    const double beta = n.param(LifDiscrete::beta, i);
    const double theta = n.param(LifDiscrete::theta, i);
    const double I = n.take_ex(i) + n.take_in(i) + n.current(i);
    const double prev = s[i] != 0 ? 1.0 : 0.0;
    const double v = kSubtract ? beta * u[i] + I - theta * prev : beta * u[i] * (1.0 - prev) + I;
    u[i] = v;
    s[i] = v > theta;
    if (s[i] != 0) n.spike(i);
  }
}
}  // namespace

template <class N>
void LifDiscrete::update(N& n) {
  if (n.choice(reset) == subtract) {
    lif_discrete_loop<true>(n);
  } else {
    lif_discrete_loop<false>(n);
  }
}

template void LifDiscrete::update(plugin::Neurons<LifDiscrete, false>&);
template void LifDiscrete::update(plugin::Neurons<LifDiscrete, true>&);

}  // namespace spikeline
