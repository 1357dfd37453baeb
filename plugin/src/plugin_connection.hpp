// The PairRule of a plugin's connection rule (private to plugin/): resolves
// the rule's parameters, runs prepare() and calls the plugin's connect()
// per target with the simulator's random stream (see spikeline/plugin.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plugin_population.hpp"
#include "spikeline/engine/pair_rule.hpp"
#include "spikeline/engine/params.hpp"
#include "spikeline/plugin.h"

namespace spikeline::plugin::detail {

// One connection rule of a loaded plugin, copied out of its descriptor once
// checked.
struct ConnRule : Origin {
  std::string name;
  std::vector<spk_param> params;        // pointing into the plugin's static data
  std::vector<spk_choice> choices;      // likewise (ABI 1.1)
  std::vector<unsigned char> required;  // one per parameter: the projection must give it (ABI 1.3)
  std::size_t constants_size = 0;
  spk_connection_prepare_fn prepare = nullptr;
  spk_connection_expected_fn expected_pairs = nullptr;
  spk_connect_fn connect = nullptr;
  spk_connect_fn connect_source = nullptr;    // ABI 1.5: by source, instead of connect
  spk_connection_counts_fn counts = nullptr;  // ABI 1.5: per-target counts, with connect
};

class PluginPairRule final : public PairRule {
 public:
  // Resolves the parameters against the rule's table and runs prepare();
  // ConfigError naming `p.owner()` otherwise.
  PluginPairRule(std::shared_ptr<const ConnRule> rule, const ParamMap& p,
                 const PairRuleContext& ctx);
  using PairRule::sources;
  void sources(std::uint64_t target, std::uint64_t count, RandomStream& rng,
               std::vector<std::uint64_t>& out) const override;
  bool by_source() const override { return rule_->connect_source != nullptr; }
  void targets(std::uint64_t source, RandomStream& rng,
               std::vector<std::uint64_t>& out) const override;
  bool has_counts() const override { return rule_->counts != nullptr; }
  void counts(RandomStream& rng, std::vector<std::uint32_t>& out) const override;
  double expected_pairs() const override;
  std::string describe() const override;

 private:
  // One call of connect (a target's sources) or connect_source (a source's
  // targets: `source` given, target UINT64_MAX), appending to `out`.
  void call(spk_connect_fn fn, std::uint64_t target, std::uint64_t source, std::uint64_t count,
            RandomStream& rng, std::vector<std::uint64_t>& out) const;

  std::shared_ptr<const ConnRule> rule_;
  std::string projection_;
  std::vector<double> params_;
  std::vector<std::uint32_t> choices_;  // the index of each choice row
  std::unique_ptr<std::byte[]> constants_raw_;
  spk_connection_ctx ctx_{};
  // The room a call makes for a target's sources (a source's targets)
  // before the call (more is made as they come): twice the expected count,
  // and one.
  std::size_t room_ = 16;
};

// The Registry entry of a checked rule.
ConnectionRuleInfo connection_rule_info(const std::shared_ptr<const ConnRule>& r, const char* doc,
                                        std::vector<ParamInfo> params);

}  // namespace spikeline::plugin::detail
