#include "spikeline/neurons/dc_generator.hpp"

#include "model_util.hpp"

namespace spikeline {

const ParamTable<DcGeneratorParams>& DcGeneratorParams::table() {
  using P = Param<DcGeneratorParams>;
  using S = DcGeneratorParams;
  static const ParamTable<S> t{
      P::number("amplitude", "pA", &S::amplitude, Range::finite,
                "the current (pA for LIF models, model units otherwise)"),
      P::number("start", "ms", &S::start, Range::finite, "switch-on time (whole steps)"),
      P::number("stop", "ms", &S::stop, Range::not_nan,
                "switch-off time (whole steps; inf: never)"),
  };
  return t;
}

DcGeneratorParams::DcGeneratorParams(const ParamMap& p, const TimeGrid& grid) {
  table().read(*this, p);
  const auto window = detail::active_window(p, grid, start, stop);
  start_step = window.start;
  stop_step = window.stop;
}

std::vector<CurrentChange> dc_generator_schedule(const ParamMap& p, const TimeGrid& grid) {
  const DcGeneratorParams d(p, grid);
  std::vector<CurrentChange> out{{d.start_step, d.amplitude}};
  if (d.stop_step != kNever) out.push_back({d.stop_step, -d.amplitude});
  return out;
}

ModelInfo dc_generator_model() {
  ModelInfo m;
  m.name = "dc_generator";
  m.kind = ModelKind::stimulus;
  m.summary = "constant current injected during (start, stop]";
  m.params = DcGeneratorParams::table().infos();
  m.make_stimulus = dc_generator_schedule;
  return m;
}

}  // namespace spikeline
