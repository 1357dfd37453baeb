#include "spikeline/neurons/poisson_generator.hpp"

#include <algorithm>
#include <cmath>

#include "spikeline/engine/random.hpp"

#include "model_util.hpp"

namespace spikeline {

const ParamTable<PoissonGeneratorParams>& PoissonGeneratorParams::table() {
  using P = Param<PoissonGeneratorParams>;
  using S = PoissonGeneratorParams;
  static const ParamTable<S> t{
      P::number("rate", "Hz", &S::rate, Range::nonnegative, "firing rate").per_neuron(),
      P::number("start", "ms", &S::start, Range::finite, "spikes come after start (whole steps)"),
      P::number("stop", "ms", &S::stop, Range::not_nan,
                "spikes come at or before stop (whole steps; inf: never stops)"),
  };
  return t;
}

PoissonGeneratorParams::PoissonGeneratorParams(const ParamMap& p, const TimeGrid& grid,
                                               std::size_t n,
                                               PerNeuron<PoissonGeneratorParams>& each) {
  table().read(*this, p, n, each);
  const auto window = detail::active_window(p, grid, start, stop);
  start_step = window.start;
  stop_step = window.stop;
}

PoissonGeneratorParams::PoissonGeneratorParams(const ParamMap& p, const TimeGrid& grid) {
  table().read(*this, p);
  const auto window = detail::active_window(p, grid, start, stop);
  start_step = window.start;
  stop_step = window.stop;
}

PoissonGenerator::PoissonGenerator(const ModelContext& ctx)
    : Population(ctx.size),
      p_(ctx.params, ctx.grid, ctx.size, each_),
      rate_per_ms_(p_.rate * 1e-3),
      dt_(ctx.grid.dt()),
      seed_(ctx.seed),
      stream_(stream_id(StreamKind::generator, ctx.index)),
      next_(ctx.size, p_.start),
      draws_(ctx.size, 0),
      first_step_(p_.start_step + 1) {
  if (!each_.empty()) {
    rates_per_ms_ = each_.column(p_, &PoissonGeneratorParams::rate, ctx.size);
    for (double& r : rates_per_ms_) r *= 1e-3;
  }
  for (NeuronIndex i = 0; i < ctx.size; ++i)
    if (rate_per_ms(i) > 0) next_[i] += draw_interval(i);
}

double PoissonGenerator::draw_interval(NeuronIndex i) {
  RandomStream rng(seed_, stream_, i, draws_[i]++);
  return rng.exponential(rate_per_ms(i));
}

Step PoissonGenerator::next_spike(NeuronIndex i) {
  if (!(rate_per_ms(i) > 0)) return kNever;
  const double t = next_[i];
  // The step whose interval ((k-1) dt, k dt] holds t; never at or before start.
  const double steps = std::ceil(t / dt_);
  if (!(steps < 9.0e18)) return kNever;  // beyond any run (a tiny rate)
  const Step k = std::max(static_cast<Step>(steps), first_step_);
  if (k > p_.stop_step) return kNever;
  next_[i] = t + draw_interval(i);
  return k;
}

bool PoissonGenerator::take_over(const Population& old, Step now) {
  const auto* o = dynamic_cast<const PoissonGenerator*>(&old);
  if (o == nullptr || o->size() != size()) return false;
  // A spike at continuous time tau is emitted at step ceil(tau / dt): the
  // new train starts after max(now dt, start), in steps >= now + 1 (the
  // bound also catches an interval so short that tau / dt rounds to now).
  const double from = std::max(static_cast<double>(now) * dt_, p_.start);
  first_step_ = std::max(p_.start_step, now) + 1;
  draws_ = o->draws_;
  for (NeuronIndex i = 0; i < size(); ++i) {
    next_[i] = from;
    if (rate_per_ms(i) > 0) next_[i] += draw_interval(i);
  }
  return true;
}

double PoissonGenerator::state(std::size_t var, NeuronIndex, Step) const {
  detail::bad_state_var("poisson_generator", var);
}

void PoissonGenerator::set_state(std::size_t var, NeuronIndex, double) {
  detail::bad_state_var("poisson_generator", var);
}

ModelInfo poisson_generator_model() {
  ModelInfo m;
  m.name = "poisson_generator";
  m.kind = ModelKind::generator;
  m.summary = "independent Poisson spike trains, one per neuron, in continuous time";
  m.params = PoissonGeneratorParams::table().infos();
  m.make_population = [](const ModelContext& ctx) -> std::unique_ptr<Population> {
    return std::make_unique<PoissonGenerator>(ctx);
  };
  return m;
}

void PoissonGenerator::checkpoint(StateArchive& a) {
  a.field("next_ms", next_);
  a.field("draws", draws_);
}

}  // namespace spikeline
