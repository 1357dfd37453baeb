#include "spikeline/engine/network.hpp"

#include "spikeline/engine/error.hpp"

namespace spikeline {

std::uint32_t Network::add_population(std::string name, std::string model,
                                      std::unique_ptr<Population> population) {
  for (const auto& p : populations_) {
    if (p.name == name) throw ConfigError(fmt::format("population '{}' is defined twice", name));
  }
  if (!population) throw Error(ExitCode::software, "add_population: no model instance");
  populations_.push_back({std::move(name), std::move(model), std::move(population)});
  return static_cast<std::uint32_t>(populations_.size() - 1);
}

std::uint32_t Network::add_projection(std::string name, std::uint32_t source, std::uint32_t target,
                                      std::vector<SynapseRecord> synapses) {
  if (source >= populations_.size() || target >= populations_.size()) {
    throw Error(ExitCode::software, fmt::format("projection '{}': no such population", name));
  }
  projections_.push_back({std::move(name), source, target, std::move(synapses), nullptr, nullptr});
  return static_cast<std::uint32_t>(projections_.size() - 1);
}

std::uint32_t Network::add_projection(std::string name, std::uint32_t source, std::uint32_t target,
                                      std::shared_ptr<const SynapseSource> synapses) {
  if (!synapses) throw Error(ExitCode::software, "add_projection: no synapse source");
  const auto k = add_projection(std::move(name), source, target, std::vector<SynapseRecord>{});
  projections_[k].drawn = std::move(synapses);
  return k;
}

void Network::set_plasticity(std::uint32_t projection, std::unique_ptr<PlasticityRule> rule) {
  if (projection >= projections_.size()) {
    throw Error(ExitCode::software, "set_plasticity: no such projection");
  }
  projections_[projection].plasticity = std::move(rule);
}

void Network::add_clamp(SpikeClamp clamp) {
  if (clamp.population >= populations_.size())
    throw Error(ExitCode::software, "add_clamp: no such population");
  const auto& pop = populations_[clamp.population];
  for (const auto& [step, neuron] : clamp.spikes) {
    if (neuron >= pop.population->size()) {
      throw ConfigError(
          fmt::format("clamp '{}': node {} is out of range: population '{}' has {} nodes",
                      clamp.name, neuron, pop.name, pop.population->size()));
    }
    if (step < 1) {
      throw ConfigError(
          fmt::format("clamp '{}': a spike at step {} is before the first step", clamp.name, step));
    }
  }
  clamps_.push_back(std::move(clamp));
}

namespace {
// The population of a stimulus or Poisson input, its node ids checked.
void check_targets(const std::vector<PopulationEntry>& populations, std::uint32_t population,
                   const std::vector<NeuronIndex>& neurons, const std::string& what) {
  if (population >= populations.size()) {
    throw Error(ExitCode::software, fmt::format("{}: no such population", what));
  }
  const auto n = populations[population].population->size();
  for (const auto i : neurons) {
    if (i >= n) {
      throw ConfigError(
          fmt::format("{}: node id {} is out of range: population '{}' has ids 0 to {}", what, i,
                      populations[population].name, n - 1));
    }
  }
}
}  // namespace

void Network::add_stimulus(CurrentStimulus stimulus) {
  check_targets(populations_, stimulus.population, stimulus.neurons,
                fmt::format("stimulus '{}'", stimulus.name));
  stimuli_.push_back(std::move(stimulus));
}

void Network::add_poisson_input(PoissonInput input) {
  check_targets(populations_, input.population, input.neurons,
                fmt::format("stimulus '{}'", input.name));
  poisson_inputs_.push_back(std::move(input));
}

std::size_t Network::add_probe(TraceProbe probe) {
  if (probe.population >= populations_.size()) {
    throw Error(ExitCode::software, "add_probe: no such population");
  }
  if (probe.interval < 1 || probe.start < 0 || probe.stop < probe.start) {
    throw ConfigError(
        fmt::format("a trace probe samples from a step >= 0 to a stop not before it, every >= 1 "
                    "steps (got start {}, stop {}, interval {})",
                    probe.start, probe.stop, probe.interval));
  }
  probes_.push_back(std::move(probe));
  return probes_.size() - 1;
}

std::size_t Network::add_neuromodulator(Neuromodulator modulator) {
  for (const auto& m : modulators_) {
    if (m.name() == modulator.name()) {
      throw ConfigError(fmt::format("neuromodulator '{}' is defined twice", m.name()));
    }
  }
  modulators_.push_back(std::move(modulator));
  return modulators_.size() - 1;
}

std::uint32_t Network::population_index(const std::string& name, const std::string& context) const {
  std::vector<std::string> names;
  for (std::uint32_t k = 0; k < populations_.size(); ++k) {
    if (populations_[k].name == name) return k;
    names.push_back(populations_[k].name);
  }
  throw ConfigError(fmt::format("{}: unknown population '{}'{}; defined: {}", context, name,
                                did_you_mean(name, names), fmt::join(names, ", ")));
}

}  // namespace spikeline
