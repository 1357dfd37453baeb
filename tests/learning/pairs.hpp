// A pre -> post pair through one plastic synapse, with spike times imposed:
// the test bench of the STDP rules; and a random recurrent network for the
// rules' determinism tests.
#pragma once

#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include <catch2/catch.hpp>

#include "../engine/harness.hpp"
#include "spikeline/engine/plasticity.hpp"
#include "spikeline/engine/random.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/engine/state_archive.hpp"
#include "spikeline/learning/builtin.hpp"

namespace spikeline::test {

// A built-in rule as a config makes it: through the registry (stdp and
// triplet_stdp go through the plugin interface's catalogue).
inline std::unique_ptr<PlasticityRule> make_rule(const std::string& name, const ParamMap& p,
                                                 double dt = 0.1) {
  Registry r;
  register_builtin_rules(r);
  return r.get_rule(name, "test").make(p, TimeGrid(dt));
}

// Synapse k's double-precision weight in partition 0, as a rule keeps it
// (its checkpoint's "w").
inline double rule_weight(const PlasticityRule& rule, std::size_t k) {
  MemoryArchive a;
  // Saving reads the state and changes nothing.
  const_cast<PlasticityRule&>(rule).checkpoint(0, a);
  for (const auto& [path, field] : a.fields()) {
    if (path != "w") continue;
    REQUIRE(field.elem_size == sizeof(double));
    double w = 0;
    std::memcpy(&w, field.bytes.data() + k * sizeof(double), sizeof w);
    return w;
  }
  FAIL("no field w in the rule's checkpoint");
  return 0;
}

constexpr double kDt = 0.1;

// One plastic synapse pre -> post with `delay_steps` under `rule`; the pre
// neuron fires at the steps `pre`, the post neuron (a relay driven by a
// strong static input) fires exactly at the steps `post`. Returns the final
// weight as `weight_of` reads it from the rule. `setup` may add to the
// network (a neuromodulator); `until` sets the last step (default: just
// after the last spike).
inline double run_plastic_pair(std::unique_ptr<PlasticityRule> rule, const std::vector<Step>& pre,
                               const std::vector<Step>& post, std::uint32_t delay_steps, double w0,
                               int threads,
                               const std::function<double(const PlasticityRule&)>& weight_of,
                               const std::function<void(Network&)>& setup = {}, Step until = 0) {
  Network net(TimeGrid(kDt), 1);
  auto to_ms = [](const std::vector<Step>& steps, Step shift) {
    std::vector<double> ms;
    for (const Step s : steps) ms.push_back(static_cast<double>(s - shift) * kDt);
    return ms;
  };
  const auto src = add(net, "pre", "spike_generator", 1, params({{"spike_times", to_ms(pre, 0)}}));
  // The driver fires one step before each wanted post spike; delay 1 step.
  const auto drv =
      add(net, "driver", "spike_generator", 1, params({{"spike_times", to_ms(post, 1)}}));
  const auto tgt = add(
      net, "post", "iaf_psc_delta", 1,
      params({{"E_L", 0.0}, {"V_reset", 0.0}, {"V_th", 20.0}, {"tau_m", 10.0}, {"t_ref", 0.0}}));
  const auto plastic =
      net.add_projection("plastic", src, tgt, {{0, 0, static_cast<float>(w0), delay_steps}});
  net.add_projection("drive", drv, tgt, {{0, 0, 100.0f, 1}});
  net.set_plasticity(plastic, std::move(rule));
  if (setup) setup(net);
  SimulationOptions opt;
  opt.partitions = 1;
  opt.threads = threads;
  Simulator sim(std::move(net), opt);
  Collector c;
  Step last = 0;
  for (const Step s : pre) last = std::max(last, s + delay_steps);
  for (const Step s : post) last = std::max(last, s);
  sim.run_until(until > 0 ? until : last + 10, c);
  sim.sync_plasticity();  // lazily updated rules: weights current at the end
  // The relay fired exactly at the wanted steps (else the test proves nothing).
  std::vector<Step> fired;
  for (const auto& s : c.spikes) {
    if (s.population == tgt) fired.push_back(s.step);
  }
  REQUIRE(fired == post);
  return weight_of(*sim.plasticity(plastic));
}

// Poisson generators ("in") drive iaf_psc_delta neurons ("exc": E_L 0,
// V_th 20, V_reset 10, tau_m 20 ms) recurrently connected: each neuron gets
// 20 drive synapses of weight `drive_weight` (delays 1-10 steps) and 20
// recurrent ones of weights uniform in [0, rec_max) (delays 5-34 steps),
// drawn from the stream (rng_seed, rng_stream). Returns the recurrent
// projection ("rec"), for the caller to make plastic.
struct RecurrentNet {
  std::size_t inputs;
  double rate;  // Hz
  std::size_t neurons;
  float drive_weight;
  double rec_max;
  std::uint64_t rng_seed, rng_stream;
};
inline std::uint32_t add_recurrent(Network& net, const RecurrentNet& spec) {
  const auto in = add(net, "in", "poisson_generator", spec.inputs, params({{"rate", spec.rate}}));
  const auto exc = add(net, "exc", "iaf_psc_delta", spec.neurons,
                       params({{"E_L", 0.0}, {"V_reset", 10.0}, {"V_th", 20.0}, {"tau_m", 20.0}}));
  RandomStream rng(spec.rng_seed, spec.rng_stream, 0);
  std::vector<SynapseRecord> drive, rec;
  for (NeuronIndex j = 0; j < spec.neurons; ++j) {
    for (int k = 0; k < 20; ++k) {
      drive.push_back({static_cast<NeuronIndex>(rng.below(spec.inputs)), j, spec.drive_weight,
                       1 + static_cast<std::uint32_t>(rng.below(10))});
      rec.push_back({static_cast<NeuronIndex>(rng.below(spec.neurons)), j,
                     static_cast<float>(rng.uniform(0, spec.rec_max)),
                     5 + static_cast<std::uint32_t>(rng.below(30))});
    }
  }
  net.add_projection("drive", in, exc, drive);
  return net.add_projection("rec", exc, exc, rec);
}

}  // namespace spikeline::test
