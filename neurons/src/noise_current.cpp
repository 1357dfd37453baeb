#include "spikeline/neurons/noise_current.hpp"

#include <algorithm>
#include <cmath>

#include "model_util.hpp"

namespace spikeline {

void NoiseCurrent::prepare(plugin::DeviceSetup<NoiseCurrent>& s) {
  // The stimulus's own items ("stimulus 'x' (noise_current) parameter dt"),
  // as the other built-ins name theirs.
  const auto item = [&](const char* name) {
    return fmt::format("{} parameter {}", s.stimulus(), name);
  };
  const TimeGrid grid(s.dt());
  const double interval = s.param(dt);
  const double ratio = interval / grid.dt();
  const double steps = std::round(ratio);
  if (!(steps >= 1) || std::abs(ratio - steps) > 1e-9 * steps ||
      steps > static_cast<double>(kMaxSteps)) {
    const std::string nearest =
        !(ratio > 1) ? fmt::format("the smallest valid value is {:g} ms", grid.dt())
                     : fmt::format("the nearest valid values are {:g} and {:g} ms",
                                   std::floor(ratio) * grid.dt(), std::ceil(ratio) * grid.dt());
    throw ConfigError(
        fmt::format("{} = {} ms is invalid: it must be a whole multiple of the time step dt = {} "
                    "ms, >= dt ({})",
                    item("dt"), interval, grid.dt(), nearest));
  }
  Constants& k = s.constants();
  k.mean = s.param(mean);
  k.std = s.param(std_dev);
  k.dt_steps = static_cast<Step>(steps);
  const auto window =
      detail::active_window(grid, s.param(start), item("start"), s.param(stop), item("stop"));
  k.start_step = window.start;
  k.stop_step = window.stop;
}

void NoiseCurrent::current(plugin::Current<NoiseCurrent>& c) {
  const Constants& k = c.constants();
  const Step t = c.step();
  if (t <= k.start_step || t > k.stop_step) return;
  if (!(k.std > 0)) {
    for (std::uint32_t j = 0; j < c.size(); ++j) c.add(j, k.mean);
    return;
  }
  // The interval holding (t-1) dt, counted from time 0: the counter of the
  // neuron's stream, whose first normal is its draw.
  const auto n = static_cast<std::uint64_t>((t - 1) / k.dt_steps);
  constexpr std::uint32_t kChunk = 256;
  double xi[kChunk];
  for (std::uint32_t first = 0; first < c.size(); first += kChunk) {
    const std::uint32_t count = std::min(kChunk, c.size() - first);
    c.normals(n, first, count, xi);
    for (std::uint32_t j = 0; j < count; ++j) c.add(first + j, k.mean + k.std * xi[j]);
  }
}

}  // namespace spikeline
