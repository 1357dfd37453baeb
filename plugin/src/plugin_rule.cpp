#include "plugin_rule.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <type_traits>

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

// The simulator hands a rule the neuromodulator's own records (ABI 1.4).
static_assert(sizeof(spk_pulse) == sizeof(Neuromodulator::Pulse) &&
                  offsetof(spk_pulse, step) == offsetof(Neuromodulator::Pulse, step) &&
                  offsetof(spk_pulse, amount) == offsetof(Neuromodulator::Pulse, amount) &&
                  offsetof(spk_pulse, level_after) ==
                      offsetof(Neuromodulator::Pulse, level_after) &&
                  std::is_same_v<decltype(spk_pulse::step), decltype(Neuromodulator::Pulse::step)>,
              "spk_pulse must have Neuromodulator::Pulse's layout");

PluginRule::PluginRule(std::shared_ptr<const Rule> rule, const ParamMap& p, const TimeGrid& grid)
    : rule_(std::move(rule)), owner_(p.owner()) {
  const Rule& r = *rule_;
  params_ = one_value_params(r.params, p);
  choices_ = resolve_choices(r.choices, p);
  if (r.reads_modulator) {
    modulator_ = p.text("modulator", r.modulator);
    if (modulator_.empty()) {
      throw ConfigError(fmt::format(
          "{}: {} reads a neuromodulator: name one of the config's [[neuromodulator]]s, "
          "modulator = \"...\"",
          p.item("modulator"), where()));
    }
  } else if (p.has("modulator")) {
    throw ConfigError(fmt::format("{}: {} reads no neuromodulator: remove the modulator key",
                                  p.item("modulator"), where()));
  }
  ctx_.struct_size = sizeof(spk_rule_ctx);
  ctx_.projection = "";
  ctx_.dt = grid.dt();
  ctx_.n_params = static_cast<std::uint32_t>(params_.size());
  ctx_.params = params_.data();
  ctx_.constants = nullptr;
  ctx_.n_choices = static_cast<std::uint32_t>(choices_.size());
  ctx_.choice = choices_.data();
  ctx_.modulator = r.reads_modulator ? modulator_.c_str() : nullptr;
  ctx_.modulator_tau = 0.0;  // not known before attach()
  prepare_constants();
  if (r.delivers != nullptr) {
    const int d = r.delivers(&ctx_);
    if (d != 0 && d != 1) {
      throw ConfigError(
          fmt::format("{}: {}: delivers() returned {}: valid are 0 (the weights "
                      "are delivered) and 1 (on_pre writes what is delivered)",
                      owner_, where(), d));
    }
    delivers_ = d == 1;
  }
  if (r.recorded == nullptr) {
    for (const auto& v : r.synapse_state) recorded_.emplace_back(v.name);
  } else {
    read_recorded();
  }
}

void PluginRule::read_recorded() {
  const char* const* names = nullptr;
  const std::uint32_t n = rule_->recorded(&ctx_, &names);
  if (n > 0 && names == nullptr) {
    throw ConfigError(
        fmt::format("{}: {}: recorded() gave {} names but no array", owner_, where(), n));
  }
  for (std::uint32_t v = 0; v < n; ++v) {
    const char* name = names[v];
    const std::string text = name == nullptr ? std::string() : std::string(name);
    const bool control = std::any_of(text.begin(), text.end(),
                                     [](char ch) { return static_cast<unsigned char>(ch) < 0x20; });
    if (text.empty() || control || text == "weight" ||
        std::find(recorded_.begin(), recorded_.end(), text) != recorded_.end()) {
      throw ConfigError(fmt::format(
          "{}: {}: recorded variable {} ('{}') is refused: a name must be non-empty, free of "
          "control characters, distinct, and not 'weight'",
          owner_, where(), v, control ? std::string("(control characters)") : text));
    }
    recorded_.push_back(text);
  }
}

void PluginRule::prepare_constants() {
  const Rule& r = *rule_;
  ctx_.constants = nullptr;
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
                      owner_, where(), bytes, kMax));
    }
  }
  void* constants = nullptr;
  constants_raw_ = aligned_zeroed(bytes, constants);
  ctx_.constants = constants;
  if (r.prepare != nullptr) {
    // A built-in's message names the projection's plasticity and the
    // parameters, as the other built-ins' do.
    refuse_unless_ok(
        [&](char* e, std::size_t n) { return r.prepare(&ctx_, e, n); },
        r.builtin ? owner_ : fmt::format("{}: {}: the parameters are refused", owner_, where()));
  }
}

void PluginRule::attach(const Neuromodulator& modulator) {
  // The time constant is known now: the constants again, with it (see
  // spk_rule_ctx in plugin.h).
  mod_ = &modulator;
  ctx_.modulator_tau = modulator.tau();
  prepare_constants();
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
  if (rule_->reads_modulator && mod_ == nullptr) {
    throw Error(ExitCode::software,
                fmt::format("{}: not attached to a neuromodulator", where(projection)));
  }
  if (parts_.size() <= part) parts_.resize(part + 1);
  Part& s = parts_[part];
  s.weight.assign(block.weight.begin(), block.weight.end());
  s.first_target = targets.begin;
  allocate(rule_->synapse_state, block.size(), s.synapse, s.synapse_ptrs);
  allocate(rule_->pre_state, block.group_count(), s.pre, s.pre_ptrs);
  allocate(rule_->post_state, targets.end - targets.begin, s.post, s.post_ptrs);
  if (delivers_) s.delivered.assign(block.size(), 0.0f);
  s.target.resize(block.size());
  const bool groups = rule_->sync != nullptr || rule_->synapse_value != nullptr;
  s.group.assign(groups ? block.size() : 0, 0);
  for (std::uint32_t g = 0; g < block.group_count(); ++g) {
    const DelayGroup grp = block.group(g);
    for (std::uint32_t k = grp.begin; k < grp.end; ++k) {
      s.target[k] = block.target_of(grp, k) - targets.begin;
      if (groups) s.group[k] = g;
    }
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
  out.insert(out.end(), recorded_.begin(), recorded_.end());
  return out;
}

double PluginRule::synapse_value(std::size_t var, unsigned part, const SynapseBlock& block,
                                 std::uint32_t k, Step t) const {
  if (rule_->synapse_value == nullptr) {
    if (var == 0) return block.weight[k];
    return parts_[part].synapse[var - 1][k];
  }
  char error[1024];
  const spk_rule_args a = args(parts_[part], t, error, sizeof error);
  double out = NAN;
  if (rule_->synapse_value(&ctx_, &a, static_cast<std::uint32_t>(var), k, &out) != SPK_OK) {
    error[sizeof error - 1] = '\0';
    throw Error(ExitCode::software,
                fmt::format("{}: synapse_value failed at step {} ({:.12g} ms): {}", where(), t,
                            static_cast<double>(t) * ctx_.dt, *error ? error : "(no message)"));
  }
  return out;
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

spk_rule_args PluginRule::args(const Part& s, Step t, char* error, std::size_t size) const {
  // The ABI's arrays are not const (events write them); synapse_value()
  // hands the same view to a function that must only read it.
  Part& m = const_cast<Part&>(s);
  spk_rule_args a{};
  a.struct_size = sizeof(spk_rule_args);
  a.step = t;
  a.weight = m.weight.data();
  a.synapse_state = m.synapse_ptrs.data();
  a.pre_state = m.pre_ptrs.data();
  a.post_state = m.post_ptrs.data();
  a.synapse_target = m.target.data();
  if (!m.group.empty()) a.synapse_group = m.group.data();
  error[0] = '\0';
  a.error = error;
  a.error_size = size;
  if (mod_ != nullptr) {
    // The pulses up to and including step t: the schedule's own records.
    a.pulses = reinterpret_cast<const spk_pulse*>(mod_->pulses().data());
    a.n_pulses = mod_->first_after(t);
  }
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
  if (delivers_) a.delivered = s.delivered.data();
  run("on_pre", rule_->on_pre, a, block, [&](auto store) {
    for (std::uint32_t k = g.begin; k < g.end; ++k) store(k);
  });
  if (delivers_) {
    // As a weight: a non-finite amount ends the run here, naming the synapse.
    for (std::uint32_t k = g.begin; k < g.end; ++k) {
      if (!std::isfinite(s.delivered[k])) {
        throw Error(ExitCode::software,
                    fmt::format("{}: on_pre at step {} made synapse {} deliver {}", where(), t, k,
                                s.delivered[k]));
      }
    }
  }
}

void PluginRule::sync(unsigned part, SynapseBlock& block, Step t) {
  if (rule_->sync == nullptr || part >= parts_.size()) return;
  Part& s = parts_[part];
  char error[1024];
  spk_rule_args a = args(s, t, error, sizeof error);
  a.begin = 0;
  a.end = static_cast<std::uint32_t>(s.weight.size());
  run("sync", rule_->sync, a, block, [&](auto store) {
    for (std::uint32_t k = a.begin; k < a.end; ++k) store(k);
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
