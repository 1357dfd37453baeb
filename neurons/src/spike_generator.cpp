#include "spikeline/neurons/spike_generator.hpp"

#include "model_util.hpp"

namespace spikeline {

SpikeGenerator::SpikeGenerator(const ModelContext& ctx)
    : Population(ctx.size),
      cursor_(ctx.size, 0),
      end_(ctx.size, 0),
      item_(
          ctx.params.item(ctx.params.has("spike_times_file") ? "spike_times_file" : "spike_times")),
      dt_(ctx.grid.dt()) {
  const auto steps = read_spike_times(ctx.params, ctx.grid, ctx.size);
  shared_ = steps.size() == 1;
  if (steps.size() == 1) {
    steps_ = steps[0];
    for (std::size_t i = 0; i < ctx.size; ++i) end_[i] = steps_.size();
  } else if (!steps.empty()) {
    for (std::size_t i = 0; i < ctx.size; ++i) {
      cursor_[i] = steps_.size();
      steps_.insert(steps_.end(), steps[i].begin(), steps[i].end());
      end_[i] = steps_.size();
    }
  }
}

Step SpikeGenerator::next_spike(NeuronIndex i) {
  return cursor_[i] < end_[i] ? steps_[cursor_[i]++] : kNever;
}

bool SpikeGenerator::take_over(const Population& old, Step now) {
  if (dynamic_cast<const SpikeGenerator*>(&old) == nullptr || old.size() != size()) return false;
  // A neuron's times are sorted: its first is its earliest.
  for (NeuronIndex i = 0; i < size(); ++i) {
    if (cursor_[i] == end_[i] || steps_[cursor_[i]] > now) continue;
    const std::string which = shared_ ? fmt::format("{}[0]", item_)
                              : item_.ends_with("_file")
                                  ? fmt::format("{}: the first time of node {}", item_, i)
                                  : fmt::format("{}[{}][0]", item_, i);
    throw ConfigError(fmt::format(
        "{} = {:g} ms is in the past: times set between pieces must be after the current time "
        "{:g} ms (>= {:g} ms)",
        which, static_cast<double>(steps_[cursor_[i]]) * dt_, static_cast<double>(now) * dt_,
        static_cast<double>(now + 1) * dt_));
  }
  return true;
}

double SpikeGenerator::state(std::size_t var, NeuronIndex, Step) const {
  detail::bad_state_var("spike_generator", var);
}

void SpikeGenerator::set_state(std::size_t var, NeuronIndex, double) {
  detail::bad_state_var("spike_generator", var);
}

ModelInfo spike_generator_model() {
  ModelInfo m;
  m.name = "spike_generator";
  m.kind = ModelKind::generator;
  m.summary = "spikes at given times: one list for all neurons, or one list per neuron, or a file";
  m.params = {
      {"spike_times", "ms", NAN,
       "spike times (whole steps, >= dt, sorted): one list for every neuron, or a list of lists, "
       "one per neuron"},
      {"spike_times_file", "", NAN,
       "text file of 'node_id time_ms' lines (node_id 0-based within the population, '#' "
       "comments); instead of spike_times"},
  };
  m.make_population = [](const ModelContext& ctx) -> std::unique_ptr<Population> {
    return std::make_unique<SpikeGenerator>(ctx);
  };
  return m;
}

std::uint64_t SpikeGenerator::fingerprint() const {
  // The schedule, which may come from spike_times_file.
  Hash64 h;
  h.add(steps_);
  h.add(end_);
  return h.value();
}

void SpikeGenerator::checkpoint(StateArchive& a) {
  // The spike times themselves come from the config.
  a.field("cursor", cursor_);
}

}  // namespace spikeline
