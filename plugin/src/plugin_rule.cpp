#include "plugin_rule.hpp"

#include <algorithm>
#include <cmath>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/state_archive.hpp"

namespace spikeline::plugin::detail {

namespace {

// A state table's arrays of n values, each set to its row's initial value.
void allocate(const std::vector<spk_state_var>& rows, std::size_t n,
              std::vector<std::vector<double>>& arrays, std::vector<double*>& ptrs) {
  arrays.clear();
  for (const auto& r : rows) arrays.emplace_back(n, r.initial);
  ptrs.clear();
  for (auto& a : arrays) ptrs.push_back(a.data());
}

void archive(const std::vector<spk_state_var>& rows, std::vector<std::vector<double>>& arrays,
             StateArchive& a) {
  for (std::size_t v = 0; v < rows.size(); ++v) a.field(rows[v].name, arrays[v]);
}

}  // namespace

PluginRule::PluginRule(std::shared_ptr<const Rule> rule, const ParamMap& p, const TimeGrid& grid)
    : rule_(std::move(rule)) {
  const Rule& r = *rule_;
  params_ = one_value_params(r.params, p);
  choices_ = resolve_choices(r.choices, p);
  ctx_.struct_size = sizeof(spk_rule_ctx);
  ctx_.projection = "";
  ctx_.dt = grid.dt();
  ctx_.n_params = static_cast<std::uint32_t>(params_.size());
  ctx_.params = params_.data();
  ctx_.constants = nullptr;
  ctx_.n_choices = static_cast<std::uint32_t>(choices_.size());
  ctx_.choice = choices_.data();
  std::size_t bytes = r.constants_size;
  if (r.constants_size_of != nullptr) {
    // Sized from the parameters (a lookup table): bounded, so that a rule's
    // arithmetic gone wrong is an error rather than an allocation failure.
    constexpr std::size_t kMax = std::size_t{1} << 30;
    bytes = r.constants_size_of(&ctx_);
    if (bytes > kMax) {
      throw ConfigError(
          fmt::format("{}: {}: the rule asks for {} bytes of constants, more than "
                      "the {} a rule may have",
                      p.owner(), where(), bytes, kMax));
    }
  }
  void* constants = nullptr;
  constants_raw_ = aligned_zeroed(bytes, constants);
  ctx_.constants = constants;
  if (r.prepare != nullptr) {
    // A built-in's message names the projection's plasticity and the
    // parameters, as the other built-ins' do.
    refuse_unless_ok([&](char* e, std::size_t n) { return r.prepare(&ctx_, e, n); },
                     r.builtin
                         ? p.owner()
                         : fmt::format("{}: {}: the parameters are refused", p.owner(), where()));
  }
}

std::string PluginRule::where(const std::string& projection) const {
  const std::string& name = projection.empty() ? projection_ : projection;
  std::string out = rule_->label("rule", rule_->name);
  if (!name.empty()) out += fmt::format(" (projection '{}')", name);
  return out;
}

void PluginRule::check_weights(double min, double max, const std::string& projection) const {
  if (rule_->check_weights == nullptr) return;
  refuse_unless_ok(
      [&](char* e, std::size_t n) { return rule_->check_weights(&ctx_, min, max, e, n); },
      rule_->builtin ? fmt::format("projection '{}'", projection)
                     : where(projection) + ": the weights are refused");
}

void PluginRule::bind(unsigned part, const SynapseBlock& block, IndexRange targets,
                      const std::string& projection) {
  projection_ = projection;
  ctx_.projection = projection_.c_str();
  if (parts_.size() <= part) parts_.resize(part + 1);
  Part& s = parts_[part];
  s.weight.assign(block.weight.begin(), block.weight.end());
  s.first_target = targets.begin;
  allocate(rule_->synapse_state, block.size(), s.synapse, s.synapse_ptrs);
  allocate(rule_->pre_state, block.group_count(), s.pre, s.pre_ptrs);
  allocate(rule_->post_state, targets.end - targets.begin, s.post, s.post_ptrs);
  s.target.resize(block.size());
  for (std::uint32_t g = 0; g < block.group_count(); ++g) {
    const DelayGroup grp = block.group(g);
    for (std::uint32_t k = grp.begin; k < grp.end; ++k)
      s.target[k] = block.target_of(grp, k) - targets.begin;
  }
  if (!block.weight.empty()) {
    const auto [lo, hi] = std::minmax_element(block.weight.begin(), block.weight.end());
    check_weights(*lo, *hi, projection);
  }
}

void PluginRule::weights_replaced(unsigned part, const SynapseBlock& block) {
  if (part < parts_.size()) parts_[part].weight.assign(block.weight.begin(), block.weight.end());
}

std::vector<std::string> PluginRule::synapse_variables() const {
  std::vector<std::string> out{"weight"};
  for (const auto& v : rule_->synapse_state) out.emplace_back(v.name);
  return out;
}

double PluginRule::synapse_value(std::size_t var, unsigned part, const SynapseBlock& block,
                                 std::uint32_t k, Step) const {
  if (var == 0) return block.weight[k];
  return parts_[part].synapse[var - 1][k];
}

void PluginRule::checkpoint(unsigned part, StateArchive& a) {
  Part& s = parts_[part];
  a.field("w", s.weight);
  {
    StateArchive::Scope scope(a, "synapse");
    archive(rule_->synapse_state, s.synapse, a);
  }
  {
    StateArchive::Scope scope(a, "pre");
    archive(rule_->pre_state, s.pre, a);
  }
  {
    StateArchive::Scope scope(a, "post");
    archive(rule_->post_state, s.post, a);
  }
}

spk_rule_args PluginRule::args(Part& s, Step t, char* error, std::size_t size) const {
  spk_rule_args a{};
  a.struct_size = sizeof(spk_rule_args);
  a.step = t;
  a.weight = s.weight.data();
  a.synapse_state = s.synapse_ptrs.data();
  a.pre_state = s.pre_ptrs.data();
  a.post_state = s.post_ptrs.data();
  a.synapse_target = s.target.data();
  error[0] = '\0';
  a.error = error;
  a.error_size = size;
  return a;
}

template <class Each>
void PluginRule::run(const char* what, spk_rule_event_fn fn, spk_rule_args& a, SynapseBlock& block,
                     Each&& each_synapse) const {
  if (fn(&ctx_, &a) != SPK_OK) {
    a.error[a.error_size - 1] = '\0';
    throw Error(
        ExitCode::software,
        fmt::format("{}: {} failed at step {} ({:.12g} ms): {}", where(), what, a.step,
                    static_cast<double>(a.step) * ctx_.dt, *a.error ? a.error : "(no message)"));
  }
  // The weights the event may have changed go to the block for delivery; a
  // non-finite one ends the run here, naming the synapse, rather than
  // reaching a neuron.
  each_synapse([&](std::uint32_t k) {
    const double w = a.weight[k];
    if (!std::isfinite(w)) {
      throw Error(ExitCode::software,
                  fmt::format("{}: {} at step {} set the weight of synapse {} to {}", where(), what,
                              a.step, k, w));
    }
    block.weight[k] = static_cast<float>(w);
  });
}

void PluginRule::on_pre(unsigned part, SynapseBlock& block, std::uint32_t group, Step t) {
  Part& s = parts_[part];
  char error[1024];
  spk_rule_args a = args(s, t, error, sizeof error);
  const DelayGroup g = block.group(group);
  a.group = group;
  a.begin = g.begin;
  a.end = g.end;
  run("on_pre", rule_->on_pre, a, block, [&](auto store) {
    for (std::uint32_t k = g.begin; k < g.end; ++k) store(k);
  });
}

void PluginRule::on_post(unsigned part, SynapseBlock& block, NeuronIndex target,
                         std::span<const std::uint32_t> synapses,
                         std::span<const std::uint32_t> groups, Step t) {
  Part& s = parts_[part];
  char error[1024];
  spk_rule_args a = args(s, t, error, sizeof error);
  a.target = target - s.first_target;
  a.synapses = synapses.data();
  a.groups = groups.data();
  a.count = static_cast<std::uint32_t>(synapses.size());
  run("on_post", rule_->on_post, a, block, [&](auto store) {
    for (const std::uint32_t k : synapses) store(k);
  });
}

}  // namespace spikeline::plugin::detail
