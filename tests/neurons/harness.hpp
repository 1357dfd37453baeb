// A population driven by hand: the input buffers and the update calls the
// engine would make, without the engine.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "spikeline/engine/params.hpp"
#include "spikeline/engine/population.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/engine/time_grid.hpp"
#include "spikeline/neurons/builtin.hpp"

namespace spikeline::test {

inline Registry builtin_registry() {
  Registry reg;
  register_builtin_models(reg);
  return reg;
}

inline ParamMap params(const std::string& model) {
  return ParamMap("population 'p' (" + model + ")");
}

inline std::unique_ptr<Population> make(const std::string& model, const ParamMap& p,
                                        const TimeGrid& grid, std::size_t size,
                                        std::uint64_t seed = 1, std::uint32_t index = 0) {
  const ModelContext ctx{"p", size, p, grid, seed, index};
  return builtin_registry().get(model, "test").make_population(ctx);
}

struct Harness {
  TimeGrid grid;
  std::unique_ptr<Population> pop;
  std::vector<float> ex, in;
  std::vector<double> current;
  std::vector<NeuronIndex> spikes;

  Harness(const std::string& model, const ParamMap& p, double dt, std::size_t size,
          std::uint64_t seed = 1, std::uint32_t index = 0)
      : grid(dt),
        pop(make(model, p, grid, size, seed, index)),
        ex(size, 0.0f),
        in(size, 0.0f),
        current(size, 0.0) {}

  void input(NeuronIndex i, double w) { (w >= 0 ? ex : in)[i] += static_cast<float>(w); }
  InputView view() { return {ex.data(), in.data(), current.data()}; }

  // Stepped update of every neuron at step t; returns the spiking neurons.
  const std::vector<NeuronIndex>& step(Step t) {
    spikes.clear();
    SpikeSink sink(spikes);
    pop->update(t, {0, static_cast<NeuronIndex>(pop->size())}, view(), sink);
    return spikes;
  }
  // Event-driven update of the neurons in `touched` at step t.
  const std::vector<NeuronIndex>& touch(Step t, const std::vector<NeuronIndex>& touched) {
    spikes.clear();
    SpikeSink sink(spikes);
    pop->update_touched(t, touched, view(), sink);
    return spikes;
  }
  double state(const std::string& var, NeuronIndex i, Step t) const {
    return pop->state(state_var_index(*pop, var, "test"), i, t);
  }
  void set(const std::string& var, NeuronIndex i, double v) {
    pop->set_state(state_var_index(*pop, var, "test"), i, v);
  }
};

}  // namespace spikeline::test
