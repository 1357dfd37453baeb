#include "spikeline/io/config.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "spikeline/engine/error.hpp"
#include "spikeline/io/sonata_writer.hpp"
#include "toml_limits.hpp"

namespace spikeline::io {

namespace {

using synapses::ValueSpec;

std::string where(const std::string& file, const toml::node& n) {
  const auto& src = n.source();
  if (src.begin.line == 0) return file;
  return fmt::format("{}:{}", file, src.begin.line);
}

const char* type_of(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date/time";
  }
}

// Reads one TOML table, remembering the keys it allows, so that a key the
// user misspelt is reported instead of silently ignored.
class TableReader {
 public:
  TableReader(const toml::table& t, std::string path, std::string file,
              std::vector<std::string> allowed)
      : t_(t), path_(std::move(path)), file_(std::move(file)), allowed_(std::move(allowed)) {
    for (auto&& [k, v] : t_) {
      const std::string key(k.str());
      if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) {
        throw ConfigError(fmt::format("{}: unknown key '{}' in {}{}; valid keys: {}",
                                      where(file_, v), key, path_, did_you_mean(key, allowed_),
                                      fmt::join(allowed_, ", ")));
      }
    }
  }

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  const toml::node* node(const std::string& key) const { return t_.get(key); }
  bool has(const std::string& key) const { return t_.contains(key); }
  std::string item(const std::string& key) const { return fmt::format("{}.{}", path_, key); }
  std::string loc(const std::string& key) const {
    const auto* n = t_.get(key);
    return n ? where(file_, *n) : where(file_, t_);
  }

  [[noreturn]] void type_error(const std::string& key, const char* want) const {
    throw ConfigError(
        fmt::format("{}: {} must be {}, got {}", loc(key), item(key), want, type_of(*t_.get(key))));
  }

  std::optional<double> opt_number(const std::string& key) const {
    const auto* n = t_.get(key);
    if (!n) return std::nullopt;
    if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
    if (n->is_floating_point()) return n->as_floating_point()->get();
    type_error(key, "a number");
  }
  double number(const std::string& key, double fallback) const {
    return opt_number(key).value_or(fallback);
  }
  double required_number(const std::string& key) const {
    const auto v = opt_number(key);
    if (!v) missing(key, "a number");
    return *v;
  }
  // A time in ms >= 0 that may be absent (absent is not 0).
  std::optional<double> opt_time(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    return positive(key, 0, "ms", true);
  }
  // A finite number > 0 (or >= 0 when allow_zero).
  double positive(const std::string& key, double fallback, const char* unit,
                  bool allow_zero = false) const {
    const double v = number(key, fallback);
    if (!std::isfinite(v) || v < 0 || (!allow_zero && v == 0)) {
      throw ConfigError(fmt::format("{}: {} = {} {} is invalid: it must be finite and {} 0",
                                    loc(key), item(key), v, unit, allow_zero ? ">=" : ">"));
    }
    return v;
  }
  std::uint64_t count(const std::string& key, std::uint64_t fallback, std::uint64_t max) const {
    const auto* n = t_.get(key);
    if (!n) return fallback;
    if (!n->is_integer()) type_error(key, "a whole number");
    const auto v = n->as_integer()->get();
    if (v < 0 || static_cast<std::uint64_t>(v) > max) {
      throw ConfigError(fmt::format("{}: {} = {} is out of range: valid is 0 to {}", loc(key),
                                    item(key), v, max));
    }
    return static_cast<std::uint64_t>(v);
  }
  std::string string(const std::string& key, const std::string& fallback) const {
    const auto* n = t_.get(key);
    if (!n) return fallback;
    if (!n->is_string()) type_error(key, "a string");
    return n->as_string()->get();
  }
  std::string required_string(const std::string& key) const {
    if (!t_.contains(key)) missing(key, "a string");
    return string(key, "");
  }
  bool boolean(const std::string& key, bool fallback) const {
    const auto* n = t_.get(key);
    if (!n) return fallback;
    if (!n->is_boolean()) type_error(key, "true or false");
    return n->as_boolean()->get();
  }
  std::vector<std::string> strings(const std::string& key) const {
    const auto* n = t_.get(key);
    if (!n) return {};
    if (n->is_string()) return {n->as_string()->get()};
    if (!n->is_array()) type_error(key, "a string or an array of strings");
    std::vector<std::string> out;
    for (const auto& e : *n->as_array()) {
      if (!e.is_string()) type_error(key, "an array of strings");
      out.push_back(e.as_string()->get());
    }
    return out;
  }
  std::vector<std::uint64_t> ids(const std::string& key, const char* what = "node ids") const {
    const auto* n = t_.get(key);
    if (!n) return {};
    if (n->is_string() && n->as_string()->get() == "all") return {};
    if (!n->is_array()) type_error(key, fmt::format("an array of {} or \"all\"", what).c_str());
    std::vector<std::uint64_t> out;
    for (const auto& e : *n->as_array()) {
      if (!e.is_integer() || e.as_integer()->get() < 0) {
        throw ConfigError(fmt::format("{}: {} must hold {} (whole numbers >= 0)", where(file_, e),
                                      item(key), what));
      }
      out.push_back(static_cast<std::uint64_t>(e.as_integer()->get()));
    }
    return out;
  }
  const toml::table* table(const std::string& key) const {
    const auto* n = t_.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) type_error(key, "a table");
    return n->as_table();
  }
  [[noreturn]] void missing(const std::string& key, const char* want) const {
    throw ConfigError(
        fmt::format("{}: {} is required ({}) but missing", where(file_, t_), item(key), want));
  }

 private:
  const toml::table& t_;
  std::string path_;
  std::string file_;
  std::vector<std::string> allowed_;
};

// A name that becomes an HDF5 group name (and, for populations and
// projections, a part of a --set key): non-empty, without the printable
// characters in `forbidden`, and without control characters (NUL, newline,
// tab, escape, ...): HDF5 cuts a name at a NUL, and the others garble the
// output's listing, messages and terminals. `rule` says so in the message.
void check_name(const TableReader& r, const std::string& key, const std::string& name,
                const char* what, const char* forbidden, const char* rule) {
  if (name.empty() || name == "." || name == ".." ||
      name.find_first_of(forbidden) != std::string::npos || has_control_char(name)) {
    throw ConfigError(
        fmt::format("{}: {} name '{}' is invalid: {}", r.loc(key), what, escaped(name), rule));
  }
}

// A value: a number, or {distribution = "uniform"|"normal", ...}.
// {distribution = "uniform"|"normal", ...}, not yet validated.
ValueSpec read_distribution(const TableReader& r, const std::string& key) {
  const auto* n = r.node(key);
  TableReader d(*n->as_table(), r.item(key), r.file(),
                {"distribution", "low", "high", "mean", "std", "bounds"});
  const std::string dist = d.required_string("distribution");
  ValueSpec s;
  if (dist == "uniform") {
    if (d.has("mean") || d.has("std") || d.has("bounds")) {
      throw ConfigError(fmt::format("{}: {}: a uniform distribution takes low and high only",
                                    d.loc("distribution"), r.item(key)));
    }
    s = ValueSpec::uniform(d.required_number("low"), d.required_number("high"));
  } else if (dist == "normal") {
    const std::string b = d.string("bounds", "clip");
    if (b != "clip" && b != "redraw") {
      throw ConfigError(fmt::format("{}: {}.bounds = '{}' is invalid: valid are 'clip', 'redraw'",
                                    d.loc("bounds"), r.item(key), b));
    }
    s = ValueSpec::normal(d.required_number("mean"), d.required_number("std"),
                          d.number("low", -INFINITY), d.number("high", INFINITY),
                          b == "clip" ? ValueSpec::Bounds::clip : ValueSpec::Bounds::redraw);
  } else {
    throw ConfigError(fmt::format("{}: {}.distribution = '{}' is unknown{}; valid: uniform, normal",
                                  d.loc("distribution"), r.item(key), dist,
                                  did_you_mean(dist, {"uniform", "normal"})));
  }
  return s;
}

// A constant is checked like a distribution's parameters: NaN and
// infinities are refused here (an initial value has no later check).
ValueSpec read_value(const TableReader& r, const std::string& key, const char* unit) {
  const auto* n = r.node(key);
  ValueSpec s;
  if (n->is_integer() || n->is_floating_point()) {
    s = ValueSpec::constant(*r.opt_number(key));
  } else {
    if (!n->is_table()) r.type_error(key, "a number or a {distribution = ...} table");
    s = read_distribution(r, key);
  }
  try {
    s.validate(r.item(key));
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}{}", r.loc(key), e.what(),
                                  *unit ? fmt::format(" (in {})", unit) : std::string{}));
  }
  return s;
}

// A population's `params` may also give a parameter as a distribution
// table: `distributions` (when not null) collects them, and the map holds
// the placeholder kDrawnPerNeuron under their names.
ParamMap read_params(const toml::table* t, const std::string& owner, const std::string& file,
                     std::vector<std::pair<std::string, ValueSpec>>* distributions = nullptr) {
  ParamMap p(owner);
  if (!t) return p;
  for (auto&& [k, value] : *t) {
    const std::string key(k.str());
    const toml::node& v = value;  // a lambda may not capture a structured binding (C++20)
    auto bad = [&]() {
      throw ConfigError(
          fmt::format("{}: {} parameter {} must be a number, a string, {}or an array of "
                      "numbers (or of arrays of numbers); got {}",
                      where(file, v), owner, key,
                      distributions ? "a {distribution = ...} table, " : "", type_of(v)));
    };
    if (v.is_table() && distributions != nullptr) {
      std::vector<std::string> keys;
      for (auto&& [k2, v2] : *t) keys.emplace_back(k2.str());
      const TableReader r(*t, fmt::format("{} params", owner), file, keys);
      ValueSpec spec = read_distribution(r, key);
      try {
        spec.validate(r.item(key));
      } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("{}: {}", r.loc(key), e.what()));
      }
      distributions->emplace_back(key, spec);
      p.set(key, std::string(kDrawnPerNeuron));
    } else if (v.is_integer()) {
      p.set(key, static_cast<double>(v.as_integer()->get()));
    } else if (v.is_floating_point()) {
      p.set(key, v.as_floating_point()->get());
    } else if (v.is_string()) {
      p.set(key, v.as_string()->get());
    } else if (v.is_array()) {
      const auto& arr = *v.as_array();
      const bool nested = !arr.empty() && arr[0].is_array();
      std::vector<double> flat;
      std::vector<std::vector<double>> lists;
      for (const auto& e : arr) {
        if (nested) {
          if (!e.is_array()) bad();
          std::vector<double> inner;
          for (const auto& x : *e.as_array()) {
            if (x.is_integer())
              inner.push_back(static_cast<double>(x.as_integer()->get()));
            else if (x.is_floating_point())
              inner.push_back(x.as_floating_point()->get());
            else
              bad();
          }
          lists.push_back(std::move(inner));
        } else if (e.is_integer()) {
          flat.push_back(static_cast<double>(e.as_integer()->get()));
        } else if (e.is_floating_point()) {
          flat.push_back(e.as_floating_point()->get());
        } else {
          bad();
        }
      }
      if (nested)
        p.set(key, std::move(lists));
      else
        p.set(key, std::move(flat));
    } else {
      bad();
    }
  }
  return p;
}

// An initial value given per neuron: an array of exactly `size` finite numbers.
std::vector<double> read_initial_array(const TableReader& r, const std::string& key,
                                       std::uint64_t size) {
  const auto& arr = *r.node(key)->as_array();
  if (arr.size() != size) {
    throw ConfigError(
        fmt::format("{}: {} has {} values: an array gives one per neuron, exactly {} (the "
                    "population's size); or give a number or a {{distribution = ...}} table",
                    r.loc(key), r.item(key), arr.size(), size));
  }
  std::vector<double> out;
  out.reserve(arr.size());
  for (const auto& e : arr) {
    double x = NAN;
    if (e.is_integer())
      x = static_cast<double>(e.as_integer()->get());
    else if (e.is_floating_point())
      x = e.as_floating_point()->get();
    else
      r.type_error(key, "a number, a {distribution = ...} table or an array of numbers");
    if (!std::isfinite(x)) {
      throw ConfigError(
          fmt::format("{}: {} of neuron {} = {} is invalid: it must be a finite number",
                      where(r.file(), e), r.item(key), out.size(), x));
    }
    out.push_back(x);
  }
  return out;
}

// Arrays of tables: [[population]] etc. A single [population] table is a
// common slip; it gets its own message.
template <typename F>
void for_each_entry(const toml::table& root, const std::string& key, const std::string& file,
                    F&& f) {
  const auto* n = root.get(key);
  if (!n) return;
  if (n->is_table()) {
    throw ConfigError(fmt::format("{}: '{}' must be an array of tables: write [[{}]], not [{}]",
                                  where(file, *n), key, key, key));
  }
  if (!n->is_array_of_tables()) {
    throw ConfigError(
        fmt::format("{}: '{}' must be an array of tables ([[{}]])", where(file, *n), key, key));
  }
  std::size_t k = 0;
  for (const auto& e : *n->as_array()) f(*e.as_table(), k++);
}

void apply_override(toml::table& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError(
        fmt::format("--set '{}': expected key=value, e.g. simulation.duration=500", assignment));
  }
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  std::vector<std::string> segs;
  std::stringstream ss(path);
  for (std::string s; std::getline(ss, s, '.');) segs.push_back(s);
  // The same bounds as a config file's (toml_limits.hpp), before a table is
  // made for each part of the key or toml++ reads the value.
  const std::string shown = path.size() > 60 ? path.substr(0, 60) + "..." : path;
  if (segs.size() > static_cast<std::size_t>(detail::kMaxTomlDepth)) {
    throw UsageError(fmt::format("--set {}: the key has {} parts: at most {} are allowed",
                                 escaped(shown), segs.size(), detail::kMaxTomlDepth));
  }
  for (const auto& seg : segs) {
    if (seg.size() > detail::kMaxTomlKeyLength) {
      throw UsageError(fmt::format(
          "--set {}: a key part of {} characters{}: at most {} are allowed", escaped(shown),
          seg.size(), detail::key_excerpt(seg), detail::kMaxTomlKeyLength));
    }
  }
  if (const auto v = detail::check_toml_limits("v = " + text, static_cast<int>(segs.size()) - 1)) {
    throw UsageError(fmt::format("--set {}: in the value: {}", escaped(shown), v->message));
  }
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + text);
  } catch (const toml::parse_error&) {
    // A bare word is taken as a string: --set population.exc.model=iaf_psc_exp
    parsed = toml::table{{"v", text}};
  }
  toml::table* cur = &root;
  for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
    toml::node* child = cur->get(segs[i]);
    if (!child) {
      cur->insert(segs[i], toml::table{});
      child = cur->get(segs[i]);
    }
    if (child->is_array_of_tables()) {
      // Next segment names an entry (by its name key, or its index).
      if (i + 2 >= segs.size() + 1) break;
      ++i;
      toml::table* found = nullptr;
      std::vector<std::string> names;
      auto& arr = *child->as_array();
      for (std::size_t k = 0; k < arr.size(); ++k) {
        auto* t = arr[k].as_table();
        const auto* nm = t->get("name");
        std::string name = nm && nm->is_string() ? nm->as_string()->get() : "";
        if (name.empty() && segs[i - 1] == "projection") {
          // An unnamed projection is called <source>_to_<target>, as in the output.
          const auto* src = t->get("source");
          const auto* tgt = t->get("target");
          if (src && tgt && src->is_string() && tgt->is_string()) {
            name = src->as_string()->get() + "_to_" + tgt->as_string()->get();
          }
        }
        names.push_back(name);
        if (name == segs[i] || std::to_string(k) == segs[i]) found = t;
      }
      if (!found) {
        throw UsageError(fmt::format("--set {}: no {} named '{}'{}", path, segs[i - 1], segs[i],
                                     did_you_mean(segs[i], names)));
      }
      cur = found;
      if (i + 1 >= segs.size())
        throw UsageError(fmt::format("--set {}: the key is incomplete", path));
      continue;
    }
    if (!child->is_table()) {
      throw UsageError(fmt::format("--set {}: '{}' is not a table", path, segs[i]));
    }
    cur = child->as_table();
  }
  cur->insert_or_assign(segs.back(), *parsed.get("v"));
}

PopulationConfig read_population(const toml::table& t, std::size_t k, const std::string& file,
                                 const Config& c) {
  TableReader r(t, fmt::format("population #{}", k + 1), file,
                {"name", "model", "size", "params", "initial", "record_spikes"});
  PopulationConfig p;
  p.name = r.required_string("name");
  check_name(r, "name", p.name, "population", "/. ",
             "a population name is non-empty and holds no '/', '.', space or control "
             "character (it becomes an HDF5 group name and a --set key)");
  for (const auto& other : c.populations) {
    if (other.name == p.name) {
      throw ConfigError(fmt::format("{}: population '{}' is defined twice", r.loc("name"), p.name));
    }
  }
  const std::string path = fmt::format("population '{}'", p.name);
  TableReader named(t, path, file, {"name", "model", "size", "params", "initial", "record_spikes"});
  p.model = named.required_string("model");
  if (!named.has("size")) named.missing("size", "a whole number >= 1");
  p.size = named.count("size", 0, std::numeric_limits<NeuronIndex>::max() - 1);
  if (p.size == 0) {
    throw ConfigError(
        fmt::format("{}: {}.size = 0: a population needs at least 1 neuron (valid: 1 "
                    "to {})",
                    named.loc("size"), path, std::numeric_limits<NeuronIndex>::max() - 1));
  }
  p.params =
      read_params(named.table("params"), fmt::format("population '{}' ({})", p.name, p.model), file,
                  &p.param_distributions);
  if (const auto* init = named.table("initial")) {
    for (auto&& [key, v] : *init) {
      const std::string var(key.str());
      // Reuse read_value through a one-key reader over the same table.
      std::vector<std::string> keys;
      for (auto&& [k2, v2] : *init) keys.emplace_back(k2.str());
      TableReader ir(*init, path + ".initial", file, keys);
      if (v.is_array()) {
        p.initial.emplace_back(var, InitialValue{{}, read_initial_array(ir, var, p.size)});
      } else {
        p.initial.emplace_back(var, InitialValue{read_value(ir, var, ""), {}});
      }
    }
  }
  p.record_spikes = named.boolean("record_spikes", true);
  return p;
}

// The edges of rule 'explicit' written in the config itself.
void read_inline_edges(const toml::table& t, const std::string& path, const std::string& file,
                       ProjectionConfig& p) {
  TableReader er(t, path + ".edges", file, {"source", "target", "weight", "delay"});
  auto numbers = [&](const char* key) {
    std::vector<double> out;
    const auto* n = er.node(key);
    if (!n) return out;
    if (!n->is_array()) er.type_error(key, "an array of numbers");
    for (const auto& e : *n->as_array()) {
      if (e.is_integer())
        out.push_back(static_cast<double>(e.as_integer()->get()));
      else if (e.is_floating_point())
        out.push_back(e.as_floating_point()->get());
      else
        er.type_error(key, "an array of numbers");
    }
    return out;
  };
  p.spec.edges.source = er.ids("source");
  p.spec.edges.target = er.ids("target");
  if (!er.has("source")) er.missing("source", "an array of node ids");
  if (!er.has("target")) er.missing("target", "an array of node ids");
  p.spec.edges.weight = numbers("weight");
  p.spec.edges.delay_ms = numbers("delay");
  if (p.spec.edges.weight.empty() && !p.weight_given)
    er.missing("weight", "or a projection weight");
  if (p.spec.edges.delay_ms.empty() && !p.delay_given) er.missing("delay", "or a projection delay");
}

// A projection's plasticity = { rule = "...", <the rule's parameters> }.
void read_plasticity(const toml::table& t, const TableReader& r, const std::string& path,
                     const std::string& file, ProjectionConfig& p) {
  // `rule` names the rule; every other key is one of its parameters,
  // checked against the rule when the network is built.
  toml::table params = t;
  const auto* rule = params.get("rule");
  if (!rule || !rule->is_string()) {
    throw ConfigError(fmt::format("{}: {}.plasticity needs rule = \"<name>\" (e.g. \"stdp\")",
                                  r.loc("plasticity"), path));
  }
  p.plasticity_rule = rule->as_string()->get();
  params.erase("rule");
  p.plasticity_params =
      read_params(&params, fmt::format("{} plasticity ({})", path, p.plasticity_rule), file);
}

ProjectionConfig read_projection(const toml::table& t, std::size_t k, const std::string& file,
                                 const Config& c) {
  const std::vector<std::string> keys = {
      "name",      "source", "target",          "rule",      "p",          "indegree",
      "outdegree", "total",  "autapses",        "multapses", "weight",     "delay",
      "taps",      "file",   "edge_population", "edges",     "plasticity", "params"};
  TableReader r0(t, fmt::format("projection #{}", k + 1), file, keys);
  ProjectionConfig p;
  p.source = r0.required_string("source");
  p.target = r0.required_string("target");
  p.name = r0.string("name", p.source + "_to_" + p.target);
  const std::string path = fmt::format("projection '{}'", p.name);
  check_name(r0, r0.has("name") ? "name" : "source", p.name, "projection", "/.",
             "a projection name is non-empty and holds no '/', '.' or control character "
             "(it becomes an HDF5 group name and a --set key)");
  for (const auto& other : c.projections) {
    if (other.name == p.name) {
      throw ConfigError(
          fmt::format("{}: projection '{}' is defined twice; give one of them a "
                      "different name = \"...\"",
                      r0.has("name") ? r0.loc("name") : r0.loc("source"), p.name));
    }
  }
  TableReader r(t, path, file, keys);
  auto& s = p.spec;
  s.name = path;
  // A name that is not built in may be a plugin's rule: the Registry knows
  // (check_config), and says "unknown rule" with every valid name if not.
  const std::string rule_text = r.required_string("rule");
  p.rule_where = r.loc("rule") + ": " + path + ".rule";
  if (synapses::is_builtin_rule(rule_text)) {
    s.rule = synapses::parse_rule(rule_text, p.rule_where);
  } else {
    // With a built-in rule's keys it is a misspelt built-in name (a plugin's
    // rule takes `params`): the error lists the built-in rules.
    for (const char* key : {"p", "indegree", "outdegree", "total", "file", "edges"}) {
      if (r.has(key)) synapses::parse_rule(rule_text, p.rule_where);
    }
    s.rule = synapses::Rule::plugin;
    s.plugin_rule = rule_text;
  }
  if (const auto* params = r.table("params")) {
    if (s.rule != synapses::Rule::plugin) {
      throw ConfigError(fmt::format(
          "{}: {}.params is only used by a plugin's rule; rule '{}' takes its values as keys of "
          "the projection (p, indegree, ...)",
          r.loc("params"), path, rule_text));
    }
    p.rule_params = read_params(params, fmt::format("{} rule {}", path, rule_text), file);
  } else {
    p.rule_params = ParamMap(fmt::format("{} rule {}", path, rule_text));
  }
  auto only_for = [&](const char* key, synapses::Rule rule) {
    if (r.has(key) && s.rule != rule) {
      throw ConfigError(fmt::format("{}: {}.{} is not used by rule '{}' (it belongs to '{}')",
                                    r.loc(key), path, key, synapses::rule_name(s),
                                    synapses::rule_name(rule)));
    }
    if (!r.has(key) && s.rule == rule) r.missing(key, "required by this rule");
  };
  only_for("p", synapses::Rule::fixed_probability);
  only_for("indegree", synapses::Rule::fixed_indegree);
  only_for("outdegree", synapses::Rule::fixed_outdegree);
  only_for("total", synapses::Rule::fixed_total_number);
  if (r.has("p")) {
    s.p = r.required_number("p");
    if (!(s.p >= 0 && s.p <= 1)) {
      throw ConfigError(
          fmt::format("{}: {}.p = {} is out of range: valid is [0, 1]", r.loc("p"), path, s.p));
    }
  }
  constexpr std::uint64_t kMaxDegree = std::numeric_limits<std::uint32_t>::max();
  s.indegree = r.count("indegree", 0, kMaxDegree);
  s.outdegree = r.count("outdegree", 0, kMaxDegree);
  s.total = r.count("total", 0, std::numeric_limits<std::uint32_t>::max());
  s.autapses = r.boolean("autapses", true);
  s.multapses = r.boolean("multapses", true);
  s.taps = static_cast<std::uint32_t>(r.count("taps", 1, 4096));
  p.weight_given = r.has("weight");
  p.delay_given = r.has("delay");
  const bool is_explicit = s.rule == synapses::Rule::explicit_edges;
  if (p.weight_given)
    s.weight = read_value(r, "weight", "");
  else if (!is_explicit)
    r.missing("weight", "a number or a distribution");
  if (p.delay_given)
    s.delay = read_value(r, "delay", "ms");
  else if (!is_explicit)
    r.missing("delay", "in ms, a whole number of time steps");
  if (is_explicit) {
    p.edges_file = r.string("file", "");
    p.edge_population = r.string("edge_population", p.name);
    const auto* inline_edges = r.table("edges");
    if (p.edges_file.empty() == (inline_edges == nullptr)) {
      throw ConfigError(
          fmt::format("{}: rule 'explicit' takes either file = \"edges.h5\" or an "
                      "edges = {{source = [...], target = [...]}} table",
                      r.loc("rule")));
    }
    if (inline_edges) read_inline_edges(*inline_edges, path, file, p);
  } else if (r.has("file") || r.has("edges") || r.has("edge_population")) {
    throw ConfigError(fmt::format("{}: file/edges/edge_population are only used by rule 'explicit'",
                                  r.loc("rule")));
  }
  if (const auto* pl = r.table("plasticity")) read_plasticity(*pl, r, path, file, p);

  return p;
}

StimulusConfig read_stimulus(const toml::table& t, std::size_t k, const std::string& file,
                             const Config& c) {
  const std::vector<std::string> keys = {"name", "model", "target", "nodes", "params"};
  TableReader r(t, fmt::format("stimulus #{}", k + 1), file, keys);
  StimulusConfig s;
  s.model = r.required_string("model");
  s.target = r.required_string("target");
  s.name = r.string("name", fmt::format("{}#{}", s.model, k + 1));
  check_name(r, "name", s.name, "stimulus", "/",
             "a stimulus name is non-empty, not '.' or '..', and holds no '/' or control "
             "character (it names the stimulus in messages)");
  for (std::size_t j = 0; j < c.stimuli.size(); ++j) {
    if (c.stimuli[j].name == s.name) {
      throw ConfigError(fmt::format(
          "{}: stimulus #{} and stimulus #{} are both named '{}': give each stimulus its own name",
          r.loc("name"), j + 1, k + 1, s.name));
    }
  }
  s.nodes = r.ids("nodes");
  s.params =
      read_params(r.table("params"), fmt::format("stimulus '{}' ({})", s.name, s.model), file);
  return s;
}

ClampConfig read_clamp(const toml::table& t, std::size_t k, const std::string& file,
                       const Config& c) {
  TableReader r(t, fmt::format("clamp #{}", k + 1), file,
                {"name", "population", "params", "volley"});
  ClampConfig cl;
  cl.population = r.required_string("population");
  cl.name = r.string("name", fmt::format("clamp#{}", k + 1));
  check_name(r, "name", cl.name, "clamp", "/",
             "a clamp name is non-empty, not '.' or '..', and holds no '/' or control character "
             "(it names the clamp in messages)");
  for (std::size_t j = 0; j < c.clamps.size(); ++j) {
    if (c.clamps[j].name == cl.name) {
      throw ConfigError(fmt::format(
          "{}: clamp #{} and clamp #{} are both named '{}': give each clamp its own name",
          r.loc("name"), j + 1, k + 1, cl.name));
    }
  }
  cl.params = read_params(r.table("params"), fmt::format("clamp '{}'", cl.name), file);
  if (const auto* v = r.table("volley")) {
    // Its values, and its two tables of encoder and embedder parameters.
    const std::string owner = fmt::format("clamp '{}' volley", cl.name);
    TableReader vr(*v, owner, file, {"text", "embedding", "time", "encoder", "embedder"});
    toml::table values;
    for (auto&& [key, node] : *v)
      if (!node.is_table()) values.insert(key, node);
    const ParamMap p = read_params(&values, owner, file);
    ClampConfig::Volley vol;
    vol.text = p.text("text", "");
    if (p.has("embedding")) vol.embedding = p.list("embedding");
    if (vol.text.empty() == vol.embedding.empty()) {
      throw ConfigError(fmt::format(
          "{}: {} needs text = \"...\" (embedded by the n-gram embedder) or embedding = "
          "[...], one of the two",
          r.loc("volley"), owner));
    }
    vol.time_ms = vr.required_number("time");
    vol.encoder = read_params(vr.table("encoder"), owner + " encoder", file);
    vol.embedder = read_params(vr.table("embedder"), owner + " embedder", file);
    cl.volley = std::move(vol);
    if (r.has("params")) {
      throw ConfigError(fmt::format("{}: clamp '{}' has both params and a volley: give one",
                                    r.loc("params"), cl.name));
    }
    return cl;
  }
  if (!cl.params.has("spike_times") && !cl.params.has("spike_times_file")) {
    throw ConfigError(fmt::format(
        "{}: clamp '{}' needs params = {{ spike_times = [...] }} or {{ spike_times_file = "
        "\"...\" }}, or a volley = {{ text = \"...\", time = ... }}",
        r.loc("population"), cl.name));
  }
  return cl;
}

DetectorConfig read_detector(const toml::table& t, std::size_t k, const std::string& file,
                             const Config& c) {
  TableReader r(t, fmt::format("detector #{}", k + 1), file,
                {"name", "population", "assemblies", "tau", "threshold"});
  DetectorConfig d;
  d.name = r.required_string("name");
  check_name(r, "name", d.name, "detector", "/",
             "a detector name is non-empty, not '.' or '..', and holds no '/' or control "
             "character (it becomes the output table /detectors/<name>)");
  for (const auto& other : c.detectors) {
    if (other.name == d.name) {
      throw ConfigError(fmt::format("{}: two detectors are named '{}': give each its own name",
                                    r.loc("name"), d.name));
    }
  }
  d.population = r.required_string("population");
  const PopulationConfig* pop = nullptr;
  for (const auto& pc : c.populations)
    if (pc.name == d.population) pop = &pc;
  if (pop == nullptr) {
    throw ConfigError(fmt::format("{}: detector '{}': no population '{}'", r.loc("population"),
                                  d.name, d.population));
  }
  const auto* list = r.node("assemblies");
  if (list == nullptr || !list->is_array() || list->as_array()->empty()) {
    throw ConfigError(fmt::format(
        "{}: detector '{}' needs assemblies = [[node ids], ...]: one list of node ids of '{}' per "
        "assembly",
        r.loc("assemblies"), d.name, d.population));
  }
  for (const auto& entry : *list->as_array()) {
    const std::size_t m = d.assemblies.size();
    if (!entry.is_array()) {
      throw ConfigError(fmt::format("{}: detector '{}' assembly {} must be a list of node ids",
                                    where(file, entry), d.name, m));
    }
    std::vector<std::uint32_t> ids;
    for (const auto& id : *entry.as_array()) {
      const auto* v = id.as_integer();
      if (v == nullptr || v->get() < 0 || static_cast<std::uint64_t>(v->get()) >= pop->size) {
        throw ConfigError(fmt::format(
            "{}: detector '{}' assembly {}: {} is not a node id of '{}' (0 to {})", where(file, id),
            d.name, m, v ? std::to_string(v->get()) : type_of(id), d.population, pop->size - 1));
      }
      ids.push_back(static_cast<std::uint32_t>(v->get()));
    }
    d.assemblies.push_back(std::move(ids));
  }
  d.tau_ms = r.number("tau", d.tau_ms);
  d.threshold = r.number("threshold", d.threshold);
  // The detector's own checks (NaN-safe), worded with the config's keys.
  if (!(d.tau_ms >= c.simulation.dt_ms && d.tau_ms <= 1e6)) {
    throw ConfigError(
        fmt::format("{}: detector '{}' tau = {} ms is invalid: valid is dt ({} ms) "
                    "to 1e6 ms",
                    r.loc("tau"), d.name, d.tau_ms, c.simulation.dt_ms));
  }
  if (!(d.threshold > 0 && d.threshold <= 1)) {
    throw ConfigError(fmt::format(
        "{}: detector '{}' threshold = {} is invalid: it is a fraction of an assembly, in (0, 1]",
        r.loc("threshold"), d.name, d.threshold));
  }
  return d;
}

RecordConfig read_record(const toml::table& t, std::size_t k, const std::string& file,
                         const Config& c) {
  TableReader r(t, fmt::format("record #{}", k + 1), file,
                {"population", "variables", "nodes", "interval", "start", "stop", "name"});
  RecordConfig rc;
  if (r.has("name")) {
    rc.name = r.string("name", "");
    check_name(r, "name", rc.name, "record", "/",
               "a record name is non-empty, not '.' or '..', and holds no '/' or control character "
               "(it becomes the HDF5 group /reports/<name>)");
    for (std::size_t j = 0; j < c.records.size(); ++j) {
      if (c.records[j].name == rc.name) {
        throw ConfigError(fmt::format(
            "{}: record #{} and record #{} are both named '{}': a name is the report's group "
            "/reports/<name>; give each record its own name",
            r.loc("name"), j + 1, k + 1, rc.name));
      }
    }
  }
  rc.population = r.required_string("population");
  rc.variables = r.strings("variables");
  if (rc.variables.empty()) r.missing("variables", "state variable names, e.g. [\"V_m\"]");
  rc.nodes = r.ids("nodes");
  rc.interval_ms = r.positive("interval", 0, "ms", true);
  rc.start_ms = r.opt_time("start");
  rc.stop_ms = r.opt_time("stop");
  return rc;
}

WeightRecordConfig read_weight_record(const toml::table& t, std::size_t k, const std::string& file,
                                      const Config& c) {
  TableReader r(t, fmt::format("record_weights #{}", k + 1), file,
                {"projection", "interval", "start", "stop", "name", "synapses", "sources",
                 "targets", "variables"});
  WeightRecordConfig w;
  w.projection = r.required_string("projection");
  w.name = r.string("name", w.projection);
  check_name(r, r.has("name") ? "name" : "projection", w.name, "record_weights", "/",
             "a record_weights name is non-empty, not '.' or '..', and holds no '/' or control "
             "character (it becomes the HDF5 group /weights/<name>)");
  w.interval_ms = r.positive("interval", 0, "ms");
  if (w.interval_ms == 0) r.missing("interval", "in ms, > 0");
  w.start_ms = r.opt_time("start");
  w.stop_ms = r.opt_time("stop");
  w.synapses = r.ids("synapses", "edge ids");
  w.sources = r.ids("sources");
  w.targets = r.ids("targets");
  if (w.sources.size() != w.targets.size()) {
    throw ConfigError(fmt::format(
        "{}: record_weights '{}': sources has {} ids but targets has {}: they name pairs "
        "(source[i], target[i])",
        r.loc(r.has("sources") ? "sources" : "targets"), w.name, w.sources.size(),
        w.targets.size()));
  }
  w.variables = r.strings("variables");
  for (const auto& other : c.weight_records) {
    if (other.name == w.name) {
      throw ConfigError(
          fmt::format("{}: two [[record_weights]] are named '{}': give one a distinct `name`",
                      r.loc(r.has("name") ? "name" : "projection"), w.name));
    }
  }
  return w;
}

ModulatorRecordConfig read_modulator_record(const toml::table& t, std::size_t k,
                                            const std::string& file, const Config& c) {
  TableReader r(t, fmt::format("record_neuromodulator #{}", k + 1), file, {"name", "interval"});
  ModulatorRecordConfig m;
  m.name = r.required_string("name");
  m.interval_ms = r.positive("interval", 0, "ms");
  if (m.interval_ms == 0) r.missing("interval", "in ms, > 0");
  for (const auto& other : c.modulator_records) {
    if (other.name == m.name) {
      throw ConfigError(
          fmt::format("{}: neuromodulator '{}' is recorded twice", r.loc("name"), m.name));
    }
  }
  return m;
}

NeuromodulatorConfig read_neuromodulator(const toml::table& t, std::size_t k,
                                         const std::string& file, const Config& c) {
  TableReader r(t, fmt::format("neuromodulator #{}", k + 1), file, {"name", "tau"});
  NeuromodulatorConfig m;
  m.name = r.required_string("name");
  check_name(r, "name", m.name, "neuromodulator", "/",
             "a neuromodulator name is non-empty, not '.' or '..', and holds no '/' or control "
             "character (it becomes the HDF5 group /neuromodulators/<name>)");
  m.tau_ms = r.positive("tau", m.tau_ms, "ms");
  for (const auto& other : c.neuromodulators) {
    if (other.name == m.name) {
      throw ConfigError(
          fmt::format("{}: neuromodulator '{}' is defined twice", r.loc("name"), m.name));
    }
  }
  return m;
}

RewardConfig read_reward(const toml::table& t, std::size_t k, const std::string& file) {
  const std::string path = fmt::format("reward #{}", k + 1);
  TableReader r(t, path, file, {"modulator", "amount", "times", "trigger"});
  RewardConfig rw;
  rw.modulator = r.required_string("modulator");
  rw.amount = r.number("amount", rw.amount);
  if (!std::isfinite(rw.amount)) {
    throw ConfigError(
        fmt::format("{}: {}.amount = {} must be finite", r.loc("amount"), path, rw.amount));
  }
  if (const auto* n = r.node("times")) {
    if (!n->is_array()) r.type_error("times", "an array of times in ms");
    for (const auto& e : *n->as_array()) {
      const auto v = e.is_integer()          ? static_cast<double>(e.as_integer()->get())
                     : e.is_floating_point() ? e.as_floating_point()->get()
                                             : NAN;
      if (!(v > 0) || !std::isfinite(v)) {
        throw ConfigError(
            fmt::format("{}: {}.times holds {}: reward times must be finite and > 0 ms",
                        where(file, e), path, v));
      }
      rw.times_ms.push_back(v);
    }
    if (!std::is_sorted(rw.times_ms.begin(), rw.times_ms.end())) {
      throw ConfigError(
          fmt::format("{}: {}.times must be in increasing order", r.loc("times"), path));
    }
  }
  if (const auto* tr = r.table("trigger")) {
    TableReader g(*tr, path + ".trigger", file, {"pre", "post", "window", "delay"});
    auto node_of = [&](const char* key, std::string& pop, std::uint64_t& node) {
      const auto* nt = g.table(key);
      if (!nt) g.missing(key, "{population = \"...\", node = N}");
      TableReader nr(*nt, g.item(key), file, {"population", "node"});
      pop = nr.required_string("population");
      if (!nr.has("node")) nr.missing("node", "a node id");
      node = nr.count("node", 0, std::numeric_limits<NeuronIndex>::max());
    };
    node_of("pre", rw.pre_population, rw.pre_node);
    node_of("post", rw.post_population, rw.post_node);
    rw.window_ms = g.positive("window", rw.window_ms, "ms");
    if (g.has("delay")) rw.delay_ms = read_value(g, "delay", "ms");
    rw.has_trigger = true;
  }
  if (rw.times_ms.empty() && !rw.has_trigger) {
    throw ConfigError(
        fmt::format("{}: {} needs times = [...] or a trigger = {{...}}", where(file, t), path));
  }
  return rw;
}

SimulationConfig read_simulation(const toml::table& t, const std::string& file) {
  TableReader r(t, "simulation", file,
                {"dt", "duration", "seed", "threads", "partitions", "max_rate", "guard_interval",
                 "wall_limit"});
  SimulationConfig s;
  s.dt_ms = r.positive("dt", s.dt_ms, "ms");
  s.duration_ms = r.positive("duration", s.duration_ms, "ms", true);
  s.seed = r.count("seed", s.seed, std::numeric_limits<std::int64_t>::max());
  s.threads = static_cast<int>(r.count("threads", 1, 1024));
  if (s.threads < 1)
    throw ConfigError(
        fmt::format("{}: simulation.threads = 0 is invalid: valid is 1 to 1024", r.loc("threads")));
  s.partitions = static_cast<unsigned>(r.count("partitions", s.threads, 4096));
  s.partitions_given = r.has("partitions");
  if (s.partitions < 1)
    throw ConfigError(fmt::format("{}: simulation.partitions = 0 is invalid: valid is 1 to 4096",
                                  r.loc("partitions")));
  s.max_rate_hz = r.positive("max_rate", 0, "Hz", true);
  s.guard_interval_ms = r.positive("guard_interval", s.guard_interval_ms, "ms");
  s.wall_limit_s = r.positive("wall_limit", 0, "s", true);
  return s;
}

OutputConfig read_output(const toml::table& t, const std::string& file) {
  TableReader r(t, "output", file, {"file", "flush_interval", "edges", "edge_indices"});
  OutputConfig o;
  o.file = r.string("file", "");
  o.flush_interval_ms = r.positive("flush_interval", o.flush_interval_ms, "ms");
  o.write_edges = r.boolean("edges", true);
  o.write_edge_indices = r.boolean("edge_indices", true);
  return o;
}

// The config's TOML with the --set overrides applied, after the size and
// depth bounds (toml_limits.hpp) that keep toml++ from exhausting the stack.
toml::table read_toml(const std::string& text, const std::string& file,
                      const std::vector<std::string>& overrides) {
  if (const auto v = detail::check_toml_limits(text)) {
    throw ConfigError(fmt::format("{}:{}:{}: {}", file, v->line, v->column, v->message));
  }
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: TOML syntax error: {}", file, e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
  for (const auto& o : overrides) apply_override(root, o);
  return root;
}

}  // namespace

std::string RecordConfig::label() const {
  return name.empty() ? fmt::format("record of '{}'", population)
                      : fmt::format("record '{}' of '{}'", name, population);
}

std::string RecordConfig::report_path() const {
  return io::report_path(name, population);
}

Config parse_config(const std::string& text, const std::string& file,
                    const std::vector<std::string>& overrides) {
  const toml::table root = read_toml(text, file, overrides);
  Config c;
  c.source = file;
  {
    std::ostringstream os;
    os << root;
    c.resolved_toml = os.str();
  }
  TableReader top(root, "the config", file,
                  {"simulation", "output", "population", "projection", "stimulus", "record",
                   "record_weights", "record_neuromodulator", "neuromodulator", "reward", "clamp",
                   "task", "training", "evaluation", "plugins", "ember", "detector"});
  c.plugins = top.strings("plugins");
  for (const auto& path : c.plugins) {
    if (path.empty() || has_control_char(path)) {
      throw ConfigError(
          fmt::format("{}: plugins holds an empty path or one with a control "
                      "character: '{}'",
                      top.loc("plugins"), escaped(path)));
    }
  }
  if (const auto* t = top.table("simulation")) c.simulation = read_simulation(*t, file);
  if (const auto* t = top.table("output")) c.output = read_output(*t, file);

  // Each entry of an array of tables, in order; the readers that refuse a
  // duplicate name see the entries read before.
  auto each = [&](const char* key, auto read) {
    for_each_entry(root, key, file, [&](const toml::table& t, std::size_t k) { read(t, k); });
  };
  each("population",
       [&](auto& t, auto k) { c.populations.push_back(read_population(t, k, file, c)); });
  each("projection",
       [&](auto& t, auto k) { c.projections.push_back(read_projection(t, k, file, c)); });
  each("stimulus", [&](auto& t, auto k) { c.stimuli.push_back(read_stimulus(t, k, file, c)); });
  each("clamp", [&](auto& t, auto k) { c.clamps.push_back(read_clamp(t, k, file, c)); });
  // The trainer's tables are read by the trainer (app/), whose keys they are.
  if (const auto* t = top.table("task")) {
    c.task = read_params(t, "[task]", file);
    c.has_task = true;
  }
  if (const auto* t = top.table("training")) c.training = read_params(t, "[training]", file);
  if (const auto* t = top.table("evaluation")) c.evaluation = read_params(t, "[evaluation]", file);
  // [ember]: its values here, its sub-tables ([ember.encoder], ...) apart,
  // each read as a table of values; the session (ember/) knows their keys.
  if (const auto* t = top.table("ember")) {
    toml::table values;
    for (auto&& [k, v] : *t) {
      const std::string key(k.str());
      if (const auto* sub = v.as_table()) {
        c.ember_tables.emplace(key, read_params(sub, fmt::format("[ember.{}]", key), file));
      } else {
        values.insert(k, v);
      }
    }
    c.ember = read_params(&values, "[ember]", file);
    c.has_ember = true;
  }
  each("record", [&](auto& t, auto k) { c.records.push_back(read_record(t, k, file, c)); });
  each("detector", [&](auto& t, auto k) { c.detectors.push_back(read_detector(t, k, file, c)); });
  each("record_weights",
       [&](auto& t, auto k) { c.weight_records.push_back(read_weight_record(t, k, file, c)); });
  each("record_neuromodulator", [&](auto& t, auto k) {
    c.modulator_records.push_back(read_modulator_record(t, k, file, c));
  });
  each("neuromodulator",
       [&](auto& t, auto k) { c.neuromodulators.push_back(read_neuromodulator(t, k, file, c)); });
  each("reward", [&](auto& t, auto k) { c.rewards.push_back(read_reward(t, k, file)); });
  return c;
}

namespace {
constexpr std::uintmax_t kMaxConfigBytes = std::uintmax_t{64} << 20;
}  // namespace

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  if (type == std::filesystem::file_type::directory) {
    throw Error(ExitCode::no_input,
                fmt::format("cannot read config file '{}': it is a directory", path));
  }
  // A FIFO would block the read until a writer comes; a device never ends.
  if (!ec && type != std::filesystem::file_type::regular) {
    throw Error(ExitCode::no_input,
                fmt::format("cannot read config file '{}': it is not a regular file (a FIFO, a "
                            "device or a socket)",
                            path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ExitCode::no_input,
                fmt::format("cannot read config file '{}': {}", path, std::strerror(errno)));
  }
  // A config is read whole and parsed in memory: a file far beyond what a
  // person writes (a wrong path, generated data) is refused before it is read.
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > kMaxConfigBytes) {
    throw ConfigError(fmt::format(
        "config file '{}' is {:.1f} MiB; a config may be at most {} MiB (large connectivity "
        "belongs in a SONATA edges file: rule = \"explicit\", file = ...)",
        path, static_cast<double>(size) / (1 << 20), kMaxConfigBytes >> 20));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  Config c = parse_config(ss.str(), path, overrides);
  // Input files named in a config are relative to the config's folder (so a
  // config and its data move together); the output file is relative to the
  // working directory, like any command's output.
  resolve_input_paths(c, std::filesystem::path(path).parent_path().string());
  return c;
}

void resolve_input_paths(Config& c, const std::string& base_dir) {
  const std::filesystem::path base(base_dir);
  auto resolve = [&](const std::string& f) {
    if (f.empty() || std::filesystem::path(f).is_absolute()) return f;
    return (base / f).lexically_normal().string();
  };
  for (auto& p : c.projections) p.edges_file = resolve(p.edges_file);
  for (auto& p : c.plugins) p = resolve(p);
  auto resolve_files = [&](ParamMap& params) {
    for (const auto& name : params.names()) {
      if (name.size() > 5 && name.ends_with("_file"))
        params.set(name, resolve(params.text(name, "")));
    }
  };
  for (auto& p : c.populations) resolve_files(p.params);
  for (auto& cl : c.clamps) {
    resolve_files(cl.params);
    if (cl.volley && cl.volley->encoder.has("corpus"))
      cl.volley->encoder.set("corpus", resolve(cl.volley->encoder.text("corpus", "")));
  }
  resolve_files(c.task);
  // [task] file (the trainer's patterns) is an input file like the others.
  if (c.task.has("file")) c.task.set("file", resolve(c.task.text("file", "")));
  resolve_files(c.training);
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(base.empty() ? "." : base, ec);
  c.base_dir = ec ? base_dir : absolute.lexically_normal().string();
}

}  // namespace spikeline::io
