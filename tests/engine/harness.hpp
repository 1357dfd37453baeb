// Helpers for engine tests: networks built from registered models, runs that
// collect every spike.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "spikeline/engine/network.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/engine/simulator.hpp"
#include "spikeline/neurons/builtin.hpp"

namespace spikeline::test {

inline const Registry& registry() {
  static const Registry r = [] {
    Registry reg;
    register_builtin_models(reg);
    return reg;
  }();
  return r;
}

// Adds a population of `model` with parameters given as (name, value) pairs.
inline std::uint32_t add(Network& net, const std::string& name, const std::string& model,
                         std::size_t size, ParamMap params = {}) {
  const auto& info = registry().get(model, "test");
  const ModelContext ctx{name,       size,
                         params,     net.grid(),
                         net.seed(), static_cast<std::uint32_t>(net.populations().size())};
  return net.add_population(name, model, info.make_population(ctx));
}

inline ParamMap params(std::initializer_list<std::pair<const char*, ParamValue>> list) {
  ParamMap p("test");
  for (const auto& [k, v] : list) p.set(k, v);
  return p;
}

struct Collector : SimulationObserver {
  std::vector<SpikeRecord> spikes;
  std::vector<std::vector<float>> frames;
  void on_spikes(std::span<const SpikeRecord> s) override {
    spikes.insert(spikes.end(), s.begin(), s.end());
  }
  void on_frames(std::size_t, std::span<const float> f) override {
    frames.emplace_back(f.begin(), f.end());
  }
};

// Every frame a Collector got, back to back (one probe: rows are samples).
inline std::vector<float> all_frames(const Collector& c) {
  std::vector<float> v;
  for (const auto& f : c.frames) v.insert(v.end(), f.begin(), f.end());
  return v;
}

// A population that records its input: lif_discrete with beta = 0 and an
// unreachable threshold holds exactly the input of the step, u(t) = I(t).
// Adds n such neurons and a probe of u of all of them at every step.
inline std::uint32_t add_input_recorder(Network& net, std::size_t n) {
  const auto q = add(net, "u", "lif_discrete", n, params({{"beta", 0.0}, {"theta", 1e30}}));
  std::vector<NeuronIndex> all(n);
  for (std::size_t i = 0; i < n; ++i) all[i] = static_cast<NeuronIndex>(i);
  net.add_probe({q, {0}, all, 1, 1});
  return q;
}

// FNV-1a over the spike list: a compact fingerprint for determinism tests.
inline std::uint64_t hash(const std::vector<SpikeRecord>& spikes) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::uint64_t v) {
    for (int b = 0; b < 8; ++b) {
      h ^= (v >> (8 * b)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  for (const auto& s : spikes) {
    mix(static_cast<std::uint64_t>(s.step));
    mix(s.population);
    mix(s.neuron);
  }
  return h;
}

}  // namespace spikeline::test
