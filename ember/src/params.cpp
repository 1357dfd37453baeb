#include "spikeline/ember/params.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "spikeline/engine/error.hpp"

namespace spikeline::ember {

namespace {

std::string file(const ParamMap& p, const std::string& key, const std::string& base_dir) {
  const std::string v = p.text(key, "");
  if (v.empty() || base_dir.empty() || std::filesystem::path(v).is_absolute()) return v;
  return (std::filesystem::path(base_dir) / v).string();
}

const ParamMap& section(const std::map<std::string, ParamMap>& sections, const std::string& name,
                        const ParamMap& empty) {
  const auto it = sections.find(name);
  return it == sections.end() ? empty : it->second;
}

}  // namespace

EmberParams EmberParams::from(const ParamMap& top, const std::map<std::string, ParamMap>& sections,
                              const std::string& base_dir, double dt, std::uint64_t sensory_size) {
  static const std::vector<std::string> kSections = {"encoder", "embedder", "trigger", "reasoning"};
  for (const auto& [name, table] : sections) {
    if (std::find(kSections.begin(), kSections.end(), name) == kSections.end()) {
      throw ConfigError(fmt::format("[ember.{}]: unknown table{}; valid: {}", name,
                                    did_you_mean(name, kSections),
                                    fmt::format("[ember.{}]", fmt::join(kSections, "], [ember."))));
    }
  }
  EmberParams e;
  top.check_keys(
      {"sensory", "concept", "modulator", "gap", "idle", "settle", "reward", "reward_delay"});
  e.sensory = top.text("sensory", e.sensory);
  e.concept_population = top.text("concept", e.concept_population);
  e.modulator = top.text("modulator", e.modulator);
  e.gap_ms = top.steps_ms("gap", e.gap_ms, dt, false);
  e.idle_ms = top.steps_ms("idle", e.idle_ms, dt, true);
  e.settle_ms = top.steps_ms("settle", e.settle_ms, dt, false);
  e.reward_delay_ms = top.steps_ms("reward_delay", e.reward_delay_ms, dt, false);
  e.reward = top.number_in("reward", e.reward, -100, 100);
  if (e.settle_ms >= e.idle_ms) {
    throw ConfigError(fmt::format(
        "[ember] settle = {} ms must be shorter than idle = {} ms (the idle window is where "
        "actions can come, after the input settled)",
        e.settle_ms, e.idle_ms));
  }
  if (e.reward_delay_ms >= e.idle_ms) {
    throw ConfigError(fmt::format(
        "[ember] reward_delay = {} ms must be shorter than idle = {} ms (the reward belongs to "
        "its exchange)",
        e.reward_delay_ms, e.idle_ms));
  }

  const ParamMap none_encoder("[ember.encoder]"), none_embedder("[ember.embedder]"),
      none_trigger("[ember.trigger]"), none_reasoning("[ember.reasoning]");
  const ParamMap& enc = section(sections, "encoder", none_encoder);
  e.encoder = encoding::PopulationCodeParams::from(enc, dt, sensory_size);
  e.corpus = file(enc, "corpus", base_dir);

  const ParamMap& emb = section(sections, "embedder", none_embedder);
  e.ngram_params = encoding::NgramEmbedderParams::from(emb, {"kind", "embeddings"});
  e.ngram = emb.choice("kind", "ngram", {"ngram", "none"}) == "ngram";
  e.embeddings = file(emb, "embeddings", base_dir);

  const ParamMap& trg = section(sections, "trigger", none_trigger);
  trg.check_keys(
      {"tau", "threshold", "min_spikes", "refractory", "associations", "association_level"});
  e.detector.tau_ms = trg.number_in("tau", e.detector.tau_ms, dt, 1e6, " ms");
  e.detector.threshold = trg.number_in("threshold", e.detector.threshold, 1e-6, 1);
  e.detector.dt_ms = dt;
  e.assembly_min_spikes =
      static_cast<std::uint32_t>(trg.whole("min_spikes", e.assembly_min_spikes, 1, 1e6));
  e.refractory_ms = trg.steps_ms("refractory", e.refractory_ms, dt, false);
  e.max_associations =
      static_cast<std::uint32_t>(trg.whole("associations", e.max_associations, 1, 1000));
  e.association_level = trg.number_in("association_level", e.association_level, 0, 1);
  e.detector.validate();

  const ParamMap& rsn = section(sections, "reasoning", none_reasoning);
  rsn.check_keys({"command", "timeout", "max_answer_bytes"});
  e.reasoning_command = rsn.text("command", "");
  if (rsn.has("command") && e.reasoning_command.find_first_not_of(" \t") == std::string::npos) {
    throw ConfigError(
        "[ember.reasoning] command = '' is invalid: give a shell command, or leave "
        "the key out for no reasoning engine");
  }
  e.reasoning_timeout_s = rsn.number_in("timeout", e.reasoning_timeout_s, 0.001, 86400, " s");
  e.reasoning_max_answer_bytes = rsn.whole(
      "max_answer_bytes", static_cast<double>(e.reasoning_max_answer_bytes), 1, 1073741824.0);
  return e;
}

EmberParams EmberParams::from(const io::Config& c) {
  if (!c.has_ember) {
    throw ConfigError(
        fmt::format("{}: no [ember] table: `spikeline ember` needs one (docs/ember.md; "
                    "examples/ember/substrate.toml)",
                    c.source));
  }
  std::vector<std::string> names;
  for (const auto& pc : c.populations) names.push_back(pc.name);
  auto population = [&](const char* key,
                        const std::string& fallback) -> const io::PopulationConfig& {
    const std::string name = c.ember.text(key, fallback);
    for (const auto& pc : c.populations) {
      if (pc.name != name) continue;
      if (pc.model == "poisson_generator" || pc.model == "spike_generator") {
        throw ConfigError(
            fmt::format("[ember] {} = '{}' is a generator ({}): it must be a "
                        "population of neurons",
                        key, name, pc.model));
      }
      return pc;
    }
    throw ConfigError(fmt::format("[ember] {} = '{}': no such population{}; the config has: {}",
                                  key, name, did_you_mean(name, names), fmt::join(names, ", ")));
  };
  const auto& sensory = population("sensory", "sensory_e");
  population("concept", "concept_e");
  EmberParams e = from(c.ember, c.ember_tables, c.base_dir, c.simulation.dt_ms, sensory.size);
  std::vector<std::string> modulators;
  for (const auto& m : c.neuromodulators) modulators.push_back(m.name);
  if (std::find(modulators.begin(), modulators.end(), e.modulator) == modulators.end()) {
    throw ConfigError(fmt::format(
        "[ember] modulator = '{}': no such [[neuromodulator]]{}; the config has: {}", e.modulator,
        did_you_mean(e.modulator, modulators),
        modulators.empty() ? std::string("none") : fmt::format("{}", fmt::join(modulators, ", "))));
  }
  return e;
}

}  // namespace spikeline::ember
