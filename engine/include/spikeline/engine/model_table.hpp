// A model or plasticity rule described once, by two tables: its parameters
// and its state variables. Everything that used to be written out per model
// comes from them: reading and checking the parameters (ParamMap -> the
// model's parameter struct), the listing of `spikeline models` (units,
// defaults, valid ranges), state access for recording and initial values,
// and the checkpoint fields. A model is then its equations plus its tables;
// the plugin interface describes a model with the same tables.
//
//   struct LifParams {
//     double tau_m = 10, V_th = -55;
//     enum class Reset { subtract, zero } reset = Reset::subtract;
//     static const ParamTable<LifParams>& table();  // the rows, in listing order
//     explicit LifParams(const ParamMap& p) { table().read(*this, p); }
//   };
//   const ParamTable<LifParams>& LifParams::table() {
//     static const ParamTable<LifParams> t{{
//         Param<LifParams>::number("tau_m", "ms", &LifParams::tau_m, Range::positive,
//                                  "membrane time constant"),
//         Param<LifParams>::choice("reset", &LifParams::reset, {"subtract", "zero"}, "..."),
//     }};
//     return t;
//   }
//
// The hot loops never see a table: a model reads its parameters into plain
// members once, at construction, and keeps its state in plain arrays that
// the state table only points to.
//
// Per-neuron parameters. A number parameter marked `.per_neuron()` may be
// given one value per neuron: the config's distribution or array reaches
// the model as a list of `size` numbers (io draws the distribution), and
//   PerNeuron<LifParams> each;
//   table().read(*this, p, size, each);   // lists -> each, checked per neuron
//   check_each(*this, each, size, p, [](const LifParams& s, auto item) {...});
// reads it. A list for a parameter not so marked is a ConfigError that
// names the parameter and lists those that may vary.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "spikeline/engine/aligned.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/params.hpp"
#include "spikeline/engine/population.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/engine/state_archive.hpp"

namespace spikeline {

// The valid values of a numeric parameter. Checks are NaN-safe; every
// message names the item, the value, the unit and the range.
enum class Range {
  finite,       // any finite number
  positive,     // > 0
  nonnegative,  // >= 0
  unit,         // in [0, 1]
  fraction,     // in (0, 1]: a probability that cannot be 0 (tsodyks_markram's U)
  not_nan,      // any number but NaN; +-inf allowed (an open bound: stop = inf)
};

// "> 0" and the like ("" for finite and not_nan).
std::string_view range_text(Range r);
// A parameter's documentation with its range: "time constant (> 0)", and
// "period (>= 0, whole steps)" where the text already ends in parentheses.
std::string doc_with_range(const std::string& doc, Range r);
// Whether v lies in r (NaN-safe), without building a message.
bool in_range(double v, Range r);
// Throws ConfigError when v is outside r.
void check_in_range(double v, Range r, std::string_view item, std::string_view unit);
// "population 'p' (m) parameter X cannot vary per neuron (...); parameters that
// can: a, b" (or "none of this model's parameters can").
std::string cannot_vary_message(std::string_view item, const std::vector<std::string>& varying);
// The index of `value` in `choices`, or a ConfigError naming the item, the
// value and the valid choices (with a did-you-mean).
std::size_t choice_index(std::string_view item, const std::string& value,
                         const std::vector<std::string>& choices);

// One parameter of the struct P: a number held in a double member, or a
// string chosen from a fixed list and held as an enum member.
template <class P>
class Param {
 public:
  static Param number(std::string name, std::string unit, double P::*member, Range range,
                      std::string doc) {
    Param p(std::move(name), std::move(unit), std::move(doc));
    p.number_ = member;
    p.range_ = range;
    return p;
  }
  // A free, non-empty string (the name of something the config defines).
  static Param text(std::string name, std::string P::*member, std::string doc) {
    Param p(std::move(name), "", std::move(doc));
    p.text_ = member;
    return p;
  }
  // The enum's k-th value stands for choices[k].
  template <class E>
  static Param choice(std::string name, E P::*member, std::initializer_list<std::string> choices,
                      std::string doc) {
    Param p(std::move(name), "", std::move(doc));
    p.choices_ = choices;
    p.set_choice_ = [member](P& s, std::size_t k) { s.*member = static_cast<E>(k); };
    p.get_choice_ = [member](const P& s) { return static_cast<std::size_t>(s.*member); };
    return p;
  }

  // The parameter may take one value per neuron (see PerNeuron): only for
  // a number the model honours per neuron.
  Param per_neuron() && {
    per_neuron_ = true;
    return std::move(*this);
  }

  const std::string& name() const { return name_; }
  bool is_number() const { return number_ != nullptr; }
  bool varies() const { return per_neuron_; }
  double P::*member() const { return number_; }

  // The list of n values in `map` (one per neuron), each checked against
  // the range; the message names the neuron.
  std::vector<double> read_each(const ParamMap& map, std::size_t n) const {
    std::vector<double> v = map.list(name_);
    if (v.size() != n) {
      throw ConfigError(fmt::format(
          "{} has {} values: it takes one number, a distribution, or an array of exactly {} "
          "numbers (one per neuron)",
          map.item(name_), v.size(), n));
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!in_range(v[i], range_))
        check_in_range(v[i], range_, fmt::format("{} of neuron {}", map.item(name_), i), unit_);
    }
    return v;
  }

  // Reads the value from `map` into `s` (keeping s's value when absent) and checks it.
  void read(P& s, const ParamMap& map) const {
    if (number_ != nullptr) {
      s.*number_ = map.number(name_, s.*number_);
      check_in_range(s.*number_, range_, map.item(name_), unit_);
    } else if (text_ != nullptr) {
      s.*text_ = map.text(name_, s.*text_);
      if ((s.*text_).empty()) throw ConfigError(fmt::format("{} is empty", map.item(name_)));
    } else {
      const std::string v = map.text(name_, choices_[get_choice_(s)]);
      set_choice_(s, choice_index(map.item(name_), v, choices_));
    }
  }

  // As `spikeline models` lists it, with the default of P{}.
  ParamInfo info(const P& defaults) const {
    if (number_ != nullptr) {
      ParamInfo i{name_, unit_, defaults.*number_, doc_with_range(doc_, range_)};
      i.per_neuron = per_neuron_;
      return i;
    }
    if (text_ != nullptr) return {name_, unit_, NAN, doc_, defaults.*text_};
    std::string doc = doc_;
    for (std::size_t k = 0; k < choices_.size(); ++k) {
      doc +=
          k == 0 ? (doc.empty() ? "\"" : ": \"") : (k + 1 == choices_.size() ? " or \"" : ", \"");
      doc += choices_[k] + "\"";
    }
    return {name_, unit_, NAN, doc, choices_[get_choice_(defaults)]};
  }

 private:
  Param(std::string name, std::string unit, std::string doc)
      : name_(std::move(name)), unit_(std::move(unit)), doc_(std::move(doc)) {}

  std::string name_, unit_, doc_;
  double P::*number_ = nullptr;
  std::string P::*text_ = nullptr;
  Range range_ = Range::finite;
  bool per_neuron_ = false;
  std::vector<std::string> choices_;
  std::function<void(P&, std::size_t)> set_choice_;
  std::function<std::size_t(const P&)> get_choice_;
};

// The per-neuron values of the parameters of P that vary in a population:
// one column per such parameter, one value per neuron. Empty when every
// neuron shares one parameter struct, the case the update loops keep as it
// was (constants in registers).
template <class P>
class PerNeuron {
 public:
  bool empty() const { return columns_.empty(); }
  bool varies(double P::*m) const { return find(m) != nullptr; }
  void add(double P::*m, std::vector<double> values) {
    columns_.emplace_back(m, std::move(values));
  }
  // Neuron i's parameters: `base` with each varying member set to neuron i's value.
  P at(const P& base, std::size_t i) const {
    P s = base;
    for (const auto& [m, v] : columns_) s.*m = v[i];
    return s;
  }
  // One value per neuron of member m: its column, or base.*m n times.
  // Aligned: the models' loops read it as they read their state.
  AlignedVector<double> column(const P& base, double P::*m, std::size_t n) const {
    if (const auto* v = find(m)) return AlignedVector<double>(v->begin(), v->end());
    return AlignedVector<double>(n, base.*m);
  }

 private:
  const std::vector<double>* find(double P::*m) const {
    for (const auto& c : columns_)
      if (c.first == m) return &c.second;
    return nullptr;
  }
  std::vector<std::pair<double P::*, std::vector<double>>> columns_;
};

// The parameters of P, in the order `spikeline models` lists them.
template <class P>
class ParamTable {
 public:
  ParamTable(std::initializer_list<Param<P>> rows) : rows_(rows) {}

  // Every parameter from `map` into `s`, checked one by one. Checks that
  // relate two parameters (V_reset < V_th) stay with the struct.
  void read(P& s, const ParamMap& map) const {
    for (const auto& r : rows_) r.read(s, map);
  }
  // As read(), for a population of n neurons: a parameter that may vary
  // and is given as a list (one value per neuron) goes to `each`, checked
  // value by value; `s` keeps its default for it. A list for one that may
  // not vary is a ConfigError listing those that may.
  void read(P& s, const ParamMap& map, std::size_t n, PerNeuron<P>& each) const {
    for (const auto& r : rows_) {
      if (r.is_number() && map.is_list(r.name())) {
        if (!r.varies()) throw ConfigError(cannot_vary_message(map.item(r.name()), varying()));
        each.add(r.member(), r.read_each(map, n));
      } else {
        r.read(s, map);
      }
    }
  }
  // The names of the parameters that may vary per neuron.
  std::vector<std::string> varying() const {
    std::vector<std::string> out;
    for (const auto& r : rows_)
      if (r.varies()) out.push_back(r.name());
    return out;
  }
  std::vector<ParamInfo> infos() const {
    const P defaults{};
    std::vector<ParamInfo> out;
    for (const auto& r : rows_) out.push_back(r.info(defaults));
    return out;
  }
  std::span<const Param<P>> rows() const { return rows_; }

 private:
  std::vector<Param<P>> rows_;
};

// Calls check(s, item) on the parameters of every neuron of a population of
// n: once on `base` when none vary, else on each neuron's. item(name) is the
// parameter's full name, with the neuron when they vary ("population 'p'
// (m) parameter V_th of neuron 3"); a check builds it only when it fails:
//   if (!(s.V_reset < s.V_th)) check_less(s.V_reset, item("V_reset"), ...);
template <class P, class F>
void check_each(const P& base, const PerNeuron<P>& each, std::size_t n, const ParamMap& map,
                F&& check) {
  if (each.empty()) {
    check(base, [&map](std::string_view name) { return map.item(name); });
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    check(each.at(base, i), [&map, i](std::string_view name) {
      return fmt::format("{} of neuron {}", map.item(name), i);
    });
  }
}

// Whether any of x[r) is NaN or infinite: a branch-free test of the
// exponent bits. Integer ORs vectorise; a floating-point reduction would
// not (its order is fixed without -ffast-math) and a branch per element
// would not either. COBA 4,000: 12,000 values in about 5 us, where 12,000
// calls of the virtual state() took 75 us.
inline bool any_non_finite(const double* x, IndexRange r) {
  constexpr std::uint64_t kExponent = 0x7ff0000000000000ULL;
  std::uint64_t hit = 0;
  for (NeuronIndex i = r.begin; i < r.end; ++i) {
    std::uint64_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    hit |= static_cast<std::uint64_t>((bits & kExponent) == kExponent);
  }
  return hit != 0;
}

// One state variable of the model M: its name, unit and documentation, and
// the member array that holds it, one double per neuron, or one byte per
// neuron for a flag that is 0 or 1 (a spike of the last step).
template <class M>
struct StateVar {
  StateVar(std::string name_, std::string unit_, std::string doc_, StateArray M::*v)
      : name(std::move(name_)), unit(std::move(unit_)), doc(std::move(doc_)), values(v) {}
  StateVar(std::string name_, std::string unit_, std::string doc_, std::vector<std::uint8_t> M::*f)
      : name(std::move(name_)), unit(std::move(unit_)), doc(std::move(doc_)), flags(f) {}

  std::string name, unit, doc;
  StateArray M::*values = nullptr;
  std::vector<std::uint8_t> M::*flags = nullptr;
};

// The state variables of M, in a fixed order (the index a recorder uses).
template <class M>
class StateTable {
 public:
  StateTable(std::string model, std::initializer_list<StateVar<M>> vars)
      : model_(std::move(model)), vars_(vars) {
    for (const auto& v : vars_) infos_.push_back({v.name, v.unit, v.doc});
  }

  std::span<const StateVarInfo> infos() const { return infos_; }
  double get(const M& m, std::size_t var, NeuronIndex i) const {
    const auto& v = at(var);
    return v.values != nullptr ? (m.*v.values)[i] : (m.*v.flags)[i];
  }
  // A flag takes 0 or 1 only (ConfigError naming the neuron otherwise).
  void set(M& m, std::size_t var, NeuronIndex i, double value) const {
    const auto& v = at(var);
    if (v.values != nullptr) {
      (m.*v.values)[i] = value;
      return;
    }
    if (value != 0.0 && value != 1.0) {
      throw ConfigError(fmt::format("{} state {} of neuron {} = {} is invalid: it must be 0 or 1",
                                    model_, v.name, i, value));
    }
    (m.*v.flags)[i] = value != 0.0;
  }
  // Population::find_non_finite over the arrays (flags are 0 or 1 by
  // construction): a scan of each, then, only when one holds a NaN or an
  // infinity, the first neuron, then variable, that does.
  std::optional<NonFiniteState> find_non_finite(const M& m, IndexRange r) const {
    bool any = false;
    for (const auto& v : vars_)
      if (v.values != nullptr) any = any || any_non_finite((m.*v.values).data(), r);
    if (!any) return std::nullopt;
    for (NeuronIndex i = r.begin; i < r.end; ++i) {
      for (std::size_t k = 0; k < vars_.size(); ++k) {
        if (vars_[k].values == nullptr) continue;
        const double x = (m.*vars_[k].values)[i];
        if (!std::isfinite(x)) return NonFiniteState{i, k, x};
      }
    }
    return std::nullopt;
  }
  // An internal error for an index the model does not have.
  void check(std::size_t var) const { at(var); }
  // Each variable's array is a checkpoint field under its name.
  void checkpoint(M& m, StateArchive& a) const {
    for (const auto& v : vars_) {
      if (v.values != nullptr)
        a.field(v.name, m.*v.values);
      else
        a.field(v.name, m.*v.flags);
    }
  }

 private:
  const StateVar<M>& at(std::size_t var) const {
    if (var >= vars_.size()) {
      throw Error(ExitCode::software,
                  fmt::format("{}: no state variable with index {}", model_, var));
    }
    return vars_[var];
  }

  std::string model_;
  std::vector<StateVar<M>> vars_;
  std::vector<StateVarInfo> infos_;
};

// The Population interface's state access and checkpoints, from M's table:
// M derives from TabledPopulation<M> and defines
//   static const StateTable<M>& state_table();
// and, for whatever else its future depends on (refractory counters, last
// update steps), optionally
//   void checkpoint_extra(StateArchive& a);
// A model whose state() is not a plain read (an event-driven one propagates
// to step t) overrides state().
template <class M>
class TabledPopulation : public Population {
 public:
  using Population::Population;

  std::span<const StateVarInfo> state_vars() const override { return M::state_table().infos(); }
  double state(std::size_t var, NeuronIndex i, Step) const override {
    return M::state_table().get(self(), var, i);
  }
  void set_state(std::size_t var, NeuronIndex i, double value) override {
    M::state_table().set(self(), var, i, value);
  }
  std::optional<NonFiniteState> find_non_finite(IndexRange r, Step) const override {
    return M::state_table().find_non_finite(self(), r);
  }
  bool checkpointable() const override { return true; }
  void checkpoint(StateArchive& a) override {
    M::state_table().checkpoint(self(), a);
    if constexpr (requires(M & m, StateArchive & ar) { m.checkpoint_extra(ar); })
      self().checkpoint_extra(a);
  }

 private:
  const M& self() const { return static_cast<const M&>(*this); }
  M& self() { return static_cast<M&>(*this); }
};

// The registry entry of a neuron model M with parameter struct P.
template <class M, class P>
ModelInfo tabled_model(std::string name, std::string summary, ModelKind kind = ModelKind::neuron) {
  ModelInfo m;
  m.name = std::move(name);
  m.kind = kind;
  m.summary = std::move(summary);
  m.params = P::table().infos();
  const auto vars = M::state_table().infos();
  m.state_vars.assign(vars.begin(), vars.end());
  m.make_population = [](const ModelContext& ctx) -> std::unique_ptr<Population> {
    return std::make_unique<M>(ctx);
  };
  return m;
}

// The registry entry of a plasticity rule R with parameter struct P (R is
// made from P and the time grid).
template <class R, class P>
RuleInfo tabled_rule(std::string name, std::string summary) {
  RuleInfo info;
  info.name = std::move(name);
  info.summary = std::move(summary);
  info.params = P::table().infos();
  info.make = [](const ParamMap& p, const TimeGrid& grid) -> std::unique_ptr<PlasticityRule> {
    return std::make_unique<R>(P(p), grid);
  };
  return info;
}

}  // namespace spikeline
