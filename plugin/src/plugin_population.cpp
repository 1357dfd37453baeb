#include "plugin_population.hpp"

#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <new>

#include "spikeline/engine/error.hpp"
#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/random.hpp"
#include "spikeline/engine/state_archive.hpp"

namespace spikeline::plugin::detail {

Library::~Library() {
  if (handle != nullptr) dlclose(handle);
}

std::string range_text(const spk_bounds& p) {
  const bool low = p.min != -HUGE_VAL, high = p.max != HUGE_VAL;
  if (low && high) {
    return fmt::format("in {}{:g}, {:g}{}", p.min_inclusive ? '[' : '(', p.min, p.max,
                       p.max_inclusive ? ']' : ')');
  }
  if (low) return fmt::format("{} {:g}", p.min_inclusive ? ">=" : ">", p.min);
  if (high) return fmt::format("{} {:g}", p.max_inclusive ? "<=" : "<", p.max);
  return "";
}

// What set_state accepts, in words: an unbounded variable (sp::bounds())
// still refuses NaN and the infinities its open ends exclude.
std::string state_range_text(const spk_bounds& p) {
  const std::string range = range_text(p);
  if (range.empty()) {
    return p.min_inclusive || p.max_inclusive ? "a number" : "a finite number";
  }
  const bool open_low = p.min == -HUGE_VAL && !p.min_inclusive;
  const bool open_high = p.max == HUGE_VAL && !p.max_inclusive;
  return open_low || open_high ? fmt::format("finite and {}", range) : range;
}

bool in_range(const spk_bounds& p, double v) {
  if (std::isnan(v)) return false;
  if (std::isinf(v)) {
    // Only an inclusive infinite bound admits an infinity.
    if (v < 0 && !(p.min == -HUGE_VAL && p.min_inclusive)) return false;
    if (v > 0 && !(p.max == HUGE_VAL && p.max_inclusive)) return false;
    return true;
  }
  const bool above = p.min_inclusive ? v >= p.min : v > p.min;
  const bool below = p.max_inclusive ? v <= p.max : v < p.max;
  return above && below;
}

void check_value(const spk_param& p, double v, const std::string& item) {
  if (in_range(p, v)) return;
  const std::string range = range_text(p);
  const std::string unit = *p.unit ? fmt::format(" {}", p.unit) : std::string();
  // The built-in models' wording (engine/params.hpp), so that a message
  // reads the same whichever way a model is compiled in.
  if (p.min != -HUGE_VAL && p.max != HUGE_VAL) {
    throw ConfigError(fmt::format("{} = {}{} is out of range: valid is {}{:g}, {:g}{}{}", item, v,
                                  unit, p.min_inclusive ? '[' : '(', p.min, p.max,
                                  p.max_inclusive ? ']' : ')', unit));
  }
  throw ConfigError(fmt::format(
      "{} = {}{}{} is invalid: it must be {}", item, v, *p.unit ? " " : "", p.unit,
      range.empty() ? std::string("a finite number") : fmt::format("finite and {}", range)));
}

void missing_required(const spk_param& row, const ParamMap& p) {
  const std::string range = range_text(row);
  throw ConfigError(fmt::format("{} is required but missing (it has no default; valid: {}{}{})",
                                p.item(row.name), range.empty() ? "any finite number" : range,
                                *row.unit ? " " : "", row.unit));
}

std::vector<double> one_value_params(const std::vector<spk_param>& rows, const ParamMap& p,
                                     const std::vector<unsigned char>& required) {
  std::vector<double> out;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const spk_param& row = rows[k];
    if (k < required.size() && required[k] != 0 && !p.has(row.name)) missing_required(row, p);
    if (p.is_list(row.name)) {
      throw ConfigError(fmt::format("{} takes one number (a rule has one value per projection)",
                                    p.item(row.name)));
    }
    const double v = p.number(row.name, row.default_value);
    check_value(row, v, p.item(row.name));
    out.push_back(v);
  }
  return out;
}

std::vector<std::uint32_t> resolve_choices(const std::vector<spk_choice>& rows, const ParamMap& p) {
  std::vector<std::uint32_t> out;
  for (const auto& row : rows) {
    const std::vector<std::string> words(row.choices, row.choices + row.n_choices);
    if (p.is_list(row.name)) {
      throw ConfigError(fmt::format("{} takes one word, one of {} (not a list)", p.item(row.name),
                                    fmt::join(words, ", ")));
    }
    const std::string v = p.text(row.name, words[row.default_index]);
    out.push_back(static_cast<std::uint32_t>(choice_index(p.item(row.name), v, words)));
  }
  return out;
}

std::unique_ptr<std::byte[]> aligned_zeroed(std::size_t bytes, void*& aligned) {
  if (bytes == 0) {
    aligned = nullptr;
    return nullptr;
  }
  auto raw = std::make_unique<std::byte[]>(bytes + 64);
  std::memset(raw.get(), 0, bytes + 64);
  void* p = raw.get();
  std::size_t space = bytes + 64;
  aligned = std::align(64, bytes, p, space);
  return raw;
}

void refuse_unless_ok(const std::function<int(char*, std::size_t)>& call, const std::string& what) {
  char error[1024] = {0};
  const int status = call(error, sizeof error);
  error[sizeof error - 1] = '\0';
  if (status != SPK_OK) {
    const std::string message = *error ? error : "(no message)";
    throw ConfigError(what.empty() ? message : fmt::format("{}: {}", what, message));
  }
}

std::string Origin::label(const char* kind, const std::string& name) const {
  if (builtin) return fmt::format("{} '{}'", kind, name);
  return fmt::format("plugin '{}' {} '{}'", path, kind, name);
}

std::string Origin::provenance() const {
  if (builtin) return {};
  return fmt::format("plugin '{}' version {}, ABI {}.{}", plugin_name, plugin_version, abi_major,
                     abi_minor);
}

std::uint64_t Origin::fingerprint(const std::string& entry) const {
  Hash64 h;
  h.add(std::string_view("plugin"));
  h.add(plugin_name);
  h.add(plugin_version);
  h.add_word(abi_major);
  h.add_word(abi_minor);
  h.add(entry);
  return h.value();
}

namespace {
// spk_model_ctx::uniform: the population's model-noise stream, one entity
// per neuron (as the built-in izhikevich drew its noise before it moved).
void population_uniform(const spk_model_ctx* c, std::uint64_t counter, std::uint32_t first,
                        std::uint32_t count, double* out) {
  uniform_per_entity(c->seed, stream_id(StreamKind::model_noise, c->index), first, counter, count,
                     out);
}
}  // namespace

PluginPopulation::PluginPopulation(std::shared_ptr<const Model> model, const ModelContext& ctx)
    : Population(ctx.size), model_(std::move(model)), population_(ctx.name), dt_(ctx.grid.dt()) {
  const Model& m = *model_;
  const std::size_t n = ctx.size;
  if (n > UINT32_MAX) throw ConfigError(fmt::format("{}: {} neurons is too many", where(), n));

  // Parameters: the config's value (one, or one per neuron) or the default.
  std::vector<std::string> varying;
  for (const auto& p : m.params)
    if (p.per_neuron) varying.emplace_back(p.name);
  for (std::size_t k = 0; k < m.params.size(); ++k) {
    const spk_param& p = m.params[k];
    const std::string name = p.name;
    if (k < m.required.size() && m.required[k] != 0 && !ctx.params.has(name)) {
      missing_required(p, ctx.params);
    }
    if (ctx.params.is_list(name)) {
      if (!p.per_neuron) throw ConfigError(cannot_vary_message(ctx.params.item(name), varying));
      std::vector<double> v = ctx.params.list(name);
      if (v.size() != n) {
        throw ConfigError(fmt::format(
            "{} has {} values: it takes one number, a distribution, or an array of exactly {} "
            "numbers (one per neuron)",
            ctx.params.item(name), v.size(), n));
      }
      for (std::size_t i = 0; i < n; ++i)
        if (!in_range(p, v[i]))
          check_value(p, v[i], fmt::format("{} of neuron {}", ctx.params.item(name), i));
      params_.emplace_back(v.begin(), v.end());  // aligned, as the state
      per_neuron_.push_back(1);
    } else {
      const double v = ctx.params.number(name, p.default_value);
      check_value(p, v, ctx.params.item(name));
      params_.push_back({v});
      per_neuron_.push_back(0);
    }
  }
  for (const auto& v : params_) param_ptrs_.push_back(v.data());
  choices_ = resolve_choices(m.choices, ctx.params);

  // One array per variable, of its kind (the other vector stays empty).
  for (const auto& s : m.state) {
    infos_.push_back({s.name, s.unit, s.doc});
    const bool whole = s.type == SPK_STATE_INT32;
    state_.emplace_back(whole ? 0 : n, s.initial);
    counters_.emplace_back(whole ? n : 0, static_cast<std::int32_t>(whole ? s.initial : 0));
    state_ptrs_.push_back(whole ? static_cast<void*>(counters_.back().data())
                                : static_cast<void*>(state_.back().data()));
  }
  spikes_.resize(n);

  const std::size_t bytes = m.constants_size + n * m.constants_size_per_neuron;
  void* constants = nullptr;
  constants_raw_ = aligned_zeroed(bytes, constants);

  ctx_.struct_size = sizeof(spk_model_ctx);
  ctx_.population = population_.c_str();
  ctx_.size = static_cast<std::uint32_t>(n);
  ctx_.dt = dt_;
  ctx_.seed = ctx.seed;
  ctx_.index = ctx.index;
  ctx_.n_params = static_cast<std::uint32_t>(params_.size());
  ctx_.params = param_ptrs_.data();
  ctx_.param_per_neuron = per_neuron_.data();
  ctx_.constants = constants;
  ctx_.n_choices = static_cast<std::uint32_t>(choices_.size());
  ctx_.choice = choices_.data();
  ctx_.uniform = &population_uniform;

  if (m.prepare != nullptr) {
    // A built-in's message names the population and the parameter itself,
    // as the other built-ins' do.
    refuse_unless_ok([&](char* e, std::size_t n) { return m.prepare(&ctx_, e, n); },
                     m.builtin ? std::string() : where() + ": the parameters are refused");
  }
  if (m.initialize != nullptr) {
    refuse_unless_ok(
        [&](char* e, std::size_t n) { return m.initialize(&ctx_, state_ptrs_.data(), e, n); },
        where() + ": the initial state is refused");
  }
}

bool PluginPopulation::whole(std::size_t var) const {
  if (var >= infos_.size()) {
    throw Error(ExitCode::software,
                fmt::format("{}: no state variable with index {}", model_->name, var));
  }
  return model_->state[var].type == SPK_STATE_INT32;
}

std::string PluginPopulation::where() const {
  return fmt::format("{} (population '{}')", model_->label("model", model_->name), population_);
}

void PluginPopulation::update(Step t, IndexRange r, const InputView& in, SpikeSink& out) {
  char error[1024];
  error[0] = '\0';
  spk_update_args a{};
  a.struct_size = sizeof(spk_update_args);
  a.step = t;
  a.begin = r.begin;
  a.end = r.end;
  a.state = state_ptrs_.data();
  a.input_ex = in.ex;
  a.input_in = in.in;
  a.current = in.current;
  // Ranges of concurrent calls are disjoint: so are their spike buffers.
  a.spikes = spikes_.data() + r.begin;
  a.spike_count = 0;
  a.spike_capacity = r.end - r.begin;
  a.error = error;
  a.error_size = sizeof error;
  const int status = model_->update(&ctx_, &a);
  if (status != SPK_OK) {
    error[sizeof error - 1] = '\0';
    throw Error(ExitCode::software,
                fmt::format("{}: update failed at step {} ({:.12g} ms): {}", where(), t,
                            static_cast<double>(t) * dt_, *error ? error : "(no message)"));
  }
  if (a.spike_count > a.spike_capacity) {
    throw Error(ExitCode::software,
                fmt::format("{}: update reported {} spikes for {} neurons at step {}", where(),
                            a.spike_count, a.spike_capacity, t));
  }
  for (std::uint32_t k = 0; k < a.spike_count; ++k) {
    const std::uint32_t i = a.spikes[k];
    if (i < r.begin || i >= r.end) {
      throw Error(ExitCode::software,
                  fmt::format("{}: update reported a spike of neuron {} outside its range [{}, "
                              "{}) at step {}",
                              where(), i, r.begin, r.end, t));
    }
    out.emit(i);
  }
}

double PluginPopulation::state(std::size_t var, NeuronIndex i, Step) const {
  return whole(var) ? counters_[var][i] : state_[var][i];
}

void PluginPopulation::set_state(std::size_t var, NeuronIndex i, double value) {
  if (!model_->state_bounds.empty() && !in_range(model_->state_bounds[var], value)) {
    throw ConfigError(
        fmt::format("{}: state variable {} of neuron {} = {} is invalid: it must be {}", where(),
                    infos_[var].name, i, value, state_range_text(model_->state_bounds[var])));
  }
  if (!whole(var)) {
    state_[var][i] = value;
    return;
  }
  // A counter takes whole numbers only: never a silently rounded value.
  constexpr double lo = std::numeric_limits<std::int32_t>::min();
  constexpr double hi = std::numeric_limits<std::int32_t>::max();
  if (!(value >= lo && value <= hi && value == std::trunc(value))) {
    throw ConfigError(fmt::format(
        "{}: state variable {} of neuron {} takes whole numbers in [{}, {}]: {} is not one",
        where(), infos_[var].name, i, lo, hi, value));
  }
  counters_[var][i] = static_cast<std::int32_t>(value);
}

std::optional<NonFiniteState> PluginPopulation::find_non_finite(IndexRange r, Step) const {
  // Counters are always finite.
  bool any = false;
  for (const auto& v : state_) any = any || (!v.empty() && any_non_finite(v.data(), r));
  if (!any) return std::nullopt;
  for (NeuronIndex i = r.begin; i < r.end; ++i)
    for (std::size_t k = 0; k < state_.size(); ++k)
      if (!state_[k].empty() && !std::isfinite(state_[k][i]))
        return NonFiniteState{i, k, state_[k][i]};
  return std::nullopt;
}

void PluginPopulation::checkpoint(StateArchive& a) {
  // Every state variable under its name: the whole future of a plugin
  // model (its constants follow from the parameters, which the config holds).
  for (std::size_t k = 0; k < infos_.size(); ++k) {
    if (whole(k)) {
      a.field(infos_[k].name, counters_[k]);
    } else {
      a.field(infos_[k].name, state_[k]);
    }
  }
}

std::uint64_t PluginPopulation::fingerprint() const {
  // A built-in model's is 0, whichever way it is compiled in.
  return model_->builtin ? 0 : model_->fingerprint(model_->name);
}

}  // namespace spikeline::plugin::detail
