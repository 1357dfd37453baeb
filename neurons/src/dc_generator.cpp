#include "spikeline/neurons/dc_generator.hpp"

#include "model_util.hpp"

namespace spikeline {

DcGeneratorParams::DcGeneratorParams(const ParamMap& p, const TimeGrid& grid) {
  amplitude = p.number("amplitude", amplitude);
  start = p.number("start", start);
  stop = p.number("stop", stop);
  check_finite(amplitude, p.item("amplitude"), "pA");
  start_step = grid.time_steps(start, p.item("start"));
  if (!(stop == std::numeric_limits<double>::infinity())) {
    stop_step = grid.time_steps(stop, p.item("stop"));
  }
  check_less(start, p.item("start"), stop, p.item("stop"), "ms");
}

std::vector<CurrentChange> dc_generator_schedule(const ParamMap& p, const TimeGrid& grid) {
  const DcGeneratorParams d(p, grid);
  std::vector<CurrentChange> out{{d.start_step, d.amplitude}};
  if (d.stop_step != kNever) out.push_back({d.stop_step, -d.amplitude});
  return out;
}

ModelInfo dc_generator_model() {
  const DcGeneratorParams d;
  ModelInfo m;
  m.name = "dc_generator";
  m.kind = ModelKind::stimulus;
  m.summary = "constant current injected during (start, stop]";
  m.params = {
      {"amplitude", "pA", d.amplitude, "the current (pA for LIF models, model units otherwise)"},
      {"start", "ms", d.start, "switch-on time (whole steps)"},
      {"stop", "ms", d.stop, "switch-off time (whole steps; inf: never)"},
  };
  m.make_stimulus = dc_generator_schedule;
  return m;
}

}  // namespace spikeline
