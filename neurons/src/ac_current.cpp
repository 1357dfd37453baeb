#include "spikeline/neurons/ac_current.hpp"

#include <cmath>
#include <numbers>

#include "model_util.hpp"

namespace spikeline {

void AcCurrent::prepare(plugin::DeviceSetup<AcCurrent>& s) {
  const auto item = [&](const char* name) {
    return fmt::format("{} parameter {}", s.stimulus(), name);
  };
  Constants& k = s.constants();
  k.cycles_per_step =
      static_cast<long double>(s.param(frequency)) * static_cast<long double>(s.dt()) / 1000.0L;
  k.amplitude = s.param(amplitude);
  k.offset = s.param(offset);
  k.phase = s.param(phase);
  const auto window = detail::active_window(TimeGrid(s.dt()), s.param(start), item("start"),
                                            s.param(stop), item("stop"));
  k.start_step = window.start;
  k.stop_step = window.stop;
}

void AcCurrent::current(plugin::Current<AcCurrent>& c) {
  const Constants& k = c.constants();
  const Step t = c.step();
  if (t <= k.start_step || t > k.stop_step) return;
  // Cycles completed at (t-1) dt, from the step index, in long double
  // (64-bit mantissa on x86: the fraction stays exact to ~1e-12 after
  // 10^10 steps, where double products lose ~1e-8); only the fraction
  // matters, so the sine's argument stays small however long the run.
  const long double cycles = k.cycles_per_step * static_cast<long double>(t - 1);
  const auto fraction = static_cast<double>(cycles - std::floor(cycles));
  const double angle = 2 * std::numbers::pi * fraction + k.phase * std::numbers::pi / 180;
  const double v = k.offset + k.amplitude * std::sin(angle);
  for (std::uint32_t j = 0; j < c.size(); ++j) c.add(j, v);
}

}  // namespace spikeline
