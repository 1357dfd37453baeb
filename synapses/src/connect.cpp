#include "spikeline/synapses/connect.hpp"

#include "builtin.hpp"

#include <algorithm>
#include <exception>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>

#include <tbb/parallel_for.h>

#include "spikeline/engine/error.hpp"

namespace spikeline::synapses {

namespace {

// Delays from a SONATA file were float32 there.
TimeGrid::Precision precision(const ExplicitEdges& e) {
  return e.single_precision_delays ? TimeGrid::Precision::single : TimeGrid::Precision::exact;
}

// Whether explicit edges carry their own weights (delays), from the lists
// or the file, rather than taking the projection's spec.
bool listed_weights(const ExplicitEdges& e) {
  return e.reader ? e.reader_weights : !e.weight.empty();
}
bool listed_delays(const ExplicitEdges& e) {
  return e.reader ? e.reader_delays : !e.delay_ms.empty();
}

// Refuses explicit edge `id` (source s, target t; its weight and delay when
// it carries them) when out of range or off the grid. Returns the delay in
// steps (0 without one), so that a caller does not convert it again.
Step check_edge(const ConnectionSpec& spec, const ConnectContext& ctx, std::uint64_t id,
                std::uint64_t s, std::uint64_t t, const double* weight, const double* delay_ms) {
  if (s >= ctx.n_source || t >= ctx.n_target) {
    throw DataError(
        fmt::format("{}: edge {} ({} -> {}) is out of range: source ids must be < "
                    "{}, target ids < {}",
                    spec.name, id, s, t, ctx.n_source, ctx.n_target));
  }
  if (weight && !std::isfinite(static_cast<float>(*weight))) {
    throw DataError(
        fmt::format("{}: edge {} weight {} is not a finite 32-bit float", spec.name, id, *weight));
  }
  if (delay_ms) {
    // The edge's name is formatted only for the error: per edge it cost
    // more than the check (a file of 4 million edges spent 7% of its
    // build in fmt).
    try {
      return ctx.grid.synaptic_delay_steps(*delay_ms, "edge delay", precision(spec.edges));
    } catch (const ConfigError&) {
      try {
        ctx.grid.synaptic_delay_steps(*delay_ms, fmt::format("{} edge {} delay", spec.name, id),
                                      precision(spec.edges));
      } catch (const ConfigError& err) {
        throw DataError(err.what());
      }
      throw;  // not reached: the same value fails again
    }
  }
  return 0;
}

const std::vector<std::pair<std::string, Rule>>& rule_table() {
  static const std::vector<std::pair<std::string, Rule>> table = {
      {"one_to_one", Rule::one_to_one},
      {"all_to_all", Rule::all_to_all},
      {"fixed_probability", Rule::fixed_probability},
      {"fixed_indegree", Rule::fixed_indegree},
      {"fixed_outdegree", Rule::fixed_outdegree},
      {"fixed_total_number", Rule::fixed_total_number},
      {"explicit", Rule::explicit_edges},
  };
  return table;
}

// Writes the synapses of one connected pair: one per tap.
class Emitter {
 public:
  Emitter(const ConnectionSpec& spec, const ConnectContext& ctx) : spec_(spec) {
    // Explicit edges that carry their own delays (and weights) never use the
    // projection's spec, which then need not suit this grid.
    const bool own_delays = spec.rule == Rule::explicit_edges && listed_delays(spec.edges);
    const bool own_weights = spec.rule == Rule::explicit_edges && listed_weights(spec.edges);
    if (!own_delays) delays_.emplace(spec.delay, ctx.grid, spec.name + " delay");
    if (!own_weights) spec.weight.validate(spec.name + " weight");
    if (spec.taps < 1 || spec.taps > 4096) {
      throw ConfigError(
          fmt::format("{} taps = {} is out of range: valid is 1 to 4096", spec.name, spec.taps));
    }
    if (spec.taps > 1 && delays_ && !delays_->is_constant()) {
      throw ConfigError(
          fmt::format("{}: with taps = {} the delay must be a constant (the first "
                      "tap's delay); got a distribution",
                      spec.name, spec.taps));
    }
  }
  // Writes the pair's taps at `at`; returns the end of what it wrote.
  SynapseRecord* pair(SynapseRecord* at, NeuronIndex s, NeuronIndex t, RandomStream& rng) const {
    const std::uint32_t d0 = delay(rng);
    for (std::uint32_t k = 0; k < spec_.taps; ++k) *at++ = {s, t, weight(rng), d0 + k};
    return at;
  }
  // The pair's taps without weights and delays (0 and 1 step): what a
  // counting pass reads; nothing is drawn.
  SynapseRecord* pair_only(SynapseRecord* at, NeuronIndex s, NeuronIndex t) const {
    for (std::uint32_t k = 0; k < spec_.taps; ++k) *at++ = {s, t, 0.0f, 1};
    return at;
  }
  float weight(RandomStream& rng) const {
    const double w = spec_.weight.draw(rng);
    const auto f = static_cast<float>(w);
    if (!std::isfinite(f)) {
      throw ConfigError(fmt::format("{} weight {} does not fit a 32-bit float", spec_.name, w));
    }
    return f;
  }
  std::uint32_t delay(RandomStream& rng) const { return delays_->draw(rng); }

 private:
  const ConnectionSpec& spec_;
  std::optional<DelaySampler> delays_;
};

// About this many synapses make one parallel chunk of work.
constexpr std::uint64_t kChunkSynapses = std::uint64_t{1} << 15;

// Entities (targets, or sources) per chunk when each makes about `per_entity` synapses.
std::uint64_t chunk_entities(double per_entity) {
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(kChunkSynapses) /
                                                               std::max(1.0, per_entity)));
}

// Calls body(chunk, first, last) for the chunks [c * grain, (c + 1) * grain)
// of [0, n), in parallel. An exception is rethrown after all chunks ran, that
// of the first failing chunk: the error a serial loop would have met first.
template <class Body>
void for_chunks(std::uint64_t n, std::uint64_t grain, const Body& body) {
  if (n == 0) return;
  const std::uint64_t chunks = (n + grain - 1) / grain;
  if (chunks == 1) {
    body(std::uint64_t{0}, std::uint64_t{0}, n);
    return;
  }
  std::vector<std::exception_ptr> errors(chunks);
  tbb::parallel_for(std::uint64_t{0}, chunks, [&](std::uint64_t c) {
    try {
      body(c, c * grain, std::min(n, (c + 1) * grain));
    } catch (...) {
      errors[c] = std::current_exception();
    }
  });
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

void check_degree(const ConnectionSpec& spec, const char* what, std::uint64_t k, std::uint64_t pool,
                  const char* pool_name) {
  if (!spec.multapses && k > pool) {
    throw ConfigError(fmt::format("{}: {} = {} exceeds the {} {} available without multapses",
                                  spec.name, what, k, pool, pool_name));
  }
  if (k > 0 && pool == 0) {
    throw ConfigError(
        fmt::format("{}: {} = {} but there is no {} to draw from", spec.name, what, k, pool_name));
  }
}

}  // namespace

std::string rule_name(Rule r) {
  for (const auto& [name, rule] : rule_table()) {
    if (rule == r) return name;
  }
  return "?";
}

std::vector<std::string> rule_names() {
  std::vector<std::string> out;
  for (const auto& [name, rule] : rule_table()) out.push_back(name);
  return out;
}

std::string rule_name(const ConnectionSpec& spec) {
  return spec.rule == Rule::plugin ? spec.plugin_rule : rule_name(spec.rule);
}

bool is_builtin_rule(const std::string& name) {
  for (const auto& [n, rule] : rule_table()) {
    if (n == name) return true;
  }
  return false;
}

void register_builtin_connection_rules(Registry& r) {
  auto add = [&](const char* name, const char* summary, std::vector<ParamInfo> params) {
    r.add_connection_rule({name, summary, "", "", std::move(params), nullptr});
  };
  // The rules but explicit: through the plugin interface, with a factory.
  detail::register_catalogue_rules(r);
  add("explicit", "the edges given: a SONATA edges file or inline lists",
      {ParamInfo("file", "", NAN, "a SONATA edges file, or", "-"),
       ParamInfo("edges", "", NAN, "{source = [...], target = [...], weight, delay}", "-")});
}

Rule parse_rule(const std::string& name, const std::string& item) {
  for (const auto& [n, rule] : rule_table()) {
    if (n == name) return rule;
  }
  const auto names = rule_names();
  throw ConfigError(fmt::format("{}: unknown rule '{}'{}; valid rules: {}", item, name,
                                did_you_mean(name, names), fmt::join(names, ", ")));
}

double expected_synapses(const ConnectionSpec& spec, const ConnectContext& ctx) {
  const double ns = static_cast<double>(ctx.n_source), nt = static_cast<double>(ctx.n_target);
  const double self = (ctx.same_population && !spec.autapses) ? std::min(ns, nt) : 0.0;
  double pairs = 0;
  switch (spec.rule) {
    case Rule::one_to_one:
      pairs = (ctx.same_population && !spec.autapses) ? 0 : nt;
      break;
    case Rule::all_to_all:
      pairs = ns * nt - self;
      break;
    case Rule::fixed_probability:
      pairs = spec.p * (ns * nt - self);
      break;
    case Rule::fixed_indegree:
      pairs = static_cast<double>(spec.indegree) * nt;
      break;
    case Rule::fixed_outdegree:
      pairs = static_cast<double>(spec.outdegree) * ns;
      break;
    case Rule::fixed_total_number:
      pairs = static_cast<double>(spec.total);
      break;
    case Rule::explicit_edges:
      pairs = static_cast<double>(spec.edges.reader ? spec.edges.reader->size()
                                                    : spec.edges.source.size());
      break;
    case Rule::plugin:
      // Unknown (no estimate, or the rule not made yet): every pair once.
      pairs = spec.pair_rule ? spec.pair_rule->expected_pairs() : NAN;
      if (!(pairs >= 0)) pairs = ns * nt;
      break;
  }
  return pairs * spec.taps;
}

void validate(const ConnectionSpec& spec, const ConnectContext& ctx) {
  const Emitter checks(spec, ctx);  // weight, delay and taps
  const std::uint64_t ns = ctx.n_source, nt = ctx.n_target;
  const bool no_self = ctx.same_population && !spec.autapses;
  if (spec.rule == Rule::fixed_probability && !(spec.p >= 0 && spec.p <= 1)) {
    throw ConfigError(fmt::format("{} p = {} is out of range: valid is [0, 1]", spec.name, spec.p));
  }
  const double expected = expected_synapses(spec, ctx);
  if (expected > 4.0e9) {
    throw ConfigError(fmt::format("{}: about {:.3g} synapses; a projection holds at most 4e9",
                                  spec.name, expected));
  }
  switch (spec.rule) {
    case Rule::one_to_one:
      if (ns != nt) {
        throw ConfigError(fmt::format("{}: one_to_one needs equal sizes; source has {}, target {}",
                                      spec.name, ns, nt));
      }
      break;
    case Rule::all_to_all:
      break;
    case Rule::fixed_probability:
      if (!(spec.p >= 0 && spec.p <= 1)) {
        throw ConfigError(
            fmt::format("{} p = {} is out of range: valid is [0, 1]", spec.name, spec.p));
      }
      break;
    case Rule::fixed_indegree:
      check_degree(spec, "indegree", spec.indegree,
                   no_self ? ns - std::min<std::uint64_t>(ns, 1) : ns, "sources");
      break;
    case Rule::fixed_outdegree:
      check_degree(spec, "outdegree", spec.outdegree,
                   no_self ? nt - std::min<std::uint64_t>(nt, 1) : nt, "targets");
      break;
    case Rule::fixed_total_number:
      check_degree(spec, "total", spec.total, ns * nt - (no_self ? std::min(ns, nt) : 0), "pairs");
      if (!spec.multapses) {
        throw ConfigError(fmt::format(
            "{}: fixed_total_number is implemented with multapses = true only", spec.name));
      }
      break;
    case Rule::explicit_edges: {
      const auto& e = spec.edges;
      const std::size_t n = e.source.size();
      if (e.target.size() != n || (!e.weight.empty() && e.weight.size() != n) ||
          (!e.delay_ms.empty() && e.delay_ms.size() != n)) {
        throw DataError(
            fmt::format("{}: edge lists have different lengths (source {}, target {}, "
                        "weight {}, delay {})",
                        spec.name, n, e.target.size(), e.weight.size(), e.delay_ms.size()));
      }
      // A file's edges are checked as they are read (a process reads only
      // its own); listed ones now.
      for (std::size_t k = 0; k < n; ++k) {
        check_edge(spec, ctx, k, e.source[k], e.target[k],
                   e.weight.empty() ? nullptr : &e.weight[k],
                   e.delay_ms.empty() ? nullptr : &e.delay_ms[k]);
      }
      break;
    }
    case Rule::plugin:
      if (!spec.pair_rule) {
        throw std::logic_error(spec.name + ": rule '" + spec.plugin_rule + "' was not made");
      }
      break;
  }
}

namespace {

// A growing list of synapse records that are written before they are read:
// unlike a vector's resize, extending it neither zeroes them nor calls out
// of line (make_pair_rule_targets extends it once per target: a million
// times for one_to_one onto a million neurons).
class RecordBuffer {
 public:
  void reserve(std::size_t n) {
    if (n > capacity_) grow(n);
  }
  // Room for n more records after the last; end_at() says how many were used.
  SynapseRecord* extend(std::size_t n) {
    if (size_ + n > capacity_) grow(std::max(size_ + n, 2 * capacity_));
    return data_.get() + size_;
  }
  void end_at(const SynapseRecord* end) { size_ = static_cast<std::size_t>(end - data_.get()); }
  void clear() { size_ = 0; }  // the room stays
  std::size_t size() const { return size_; }
  std::span<const SynapseRecord> span() const { return {data_.get(), size_}; }

 private:
  void grow(std::size_t n) {
    auto more = std::make_unique_for_overwrite<SynapseRecord[]>(n);
    if (size_ > 0) std::copy_n(data_.get(), size_, more.get());
    data_ = std::move(more);
    capacity_ = n;
  }
  std::unique_ptr<SynapseRecord[]> data_;
  std::size_t size_ = 0, capacity_ = 0;
};

// A projection's rule as a SynapseSource: the synapses onto a range of
// targets, made slice by slice (about kSlice synapses each, the chunks of a
// slice in parallel), so that no list of the whole projection is made.
// Every rule but those drawn by source (fixed_outdegree, a plugin's with
// connect_source) and explicit draws from streams keyed per target: a range
// of targets costs what it makes, and the synapses come out in the same
// order as a serial loop over all targets. The others are made in their own
// order, in slices, and filtered.
class RuleSource final : public SynapseSource {
 public:
  RuleSource(ConnectionSpec spec, const ConnectContext& ctx)
      : spec_(std::move(spec)),
        grid_(ctx.grid),
        ns_(ctx.n_source),
        nt_(ctx.n_target),
        same_(ctx.same_population),
        seed_(ctx.seed),
        projection_(ctx.projection_index) {
    validate(spec_, context());
    if (detail::in_catalogue(spec_.rule)) spec_.pair_rule = detail::make_catalogue_rule(spec_, ctx);
    emit_.emplace(spec_, context());
    if (spec_.pair_rule && spec_.pair_rule->has_counts()) draw_counts();
  }
  RuleSource(const RuleSource&) = delete;  // emit_ refers to spec_
  RuleSource& operator=(const RuleSource&) = delete;

  bool by_target() const override { return spec_.rule != Rule::explicit_edges && !by_source(); }

  void generate(NeuronIndex first, NeuronIndex last, const Sink& sink) const override {
    make(first, last, sink, true);
  }
  // The pairs are drawn from streams of their own (values_for), so they come
  // out the same without their weights and delays.
  void generate_pairs(NeuronIndex first, NeuronIndex last, const Sink& sink) const override {
    make(first, last, sink, !by_target());
  }
  bool by_source() const override { return spec_.pair_rule && spec_.pair_rule->by_source(); }
  void generate_sources(NeuronIndex first, NeuronIndex last, const Sink& sink) const override {
    make_sources(first, std::min<std::uint64_t>(last, ns_), sink);
  }

 private:
  // The synapses onto [first, last); without `values` (by_target rules only)
  // their weights and delays are left out.
  void make(NeuronIndex first, NeuronIndex last, const Sink& sink, bool values) const {
    if (first >= last) return;
    if (spec_.rule == Rule::explicit_edges) {
      make_explicit(first, last, sink);
      return;
    }
    if (by_target()) {
      const std::uint64_t step = slice_entities(nt_);
      std::vector<RecordBuffer> parts;  // kept from slice to slice
      for (std::uint64_t a = first; a < last; a += step)
        make_pair_rule(a, std::min<std::uint64_t>(last, a + step), parts, sink, values);
      return;
    }
    if (first == 0 && last >= nt_) {
      make_all(sink);
      return;
    }
    std::vector<SynapseRecord> kept;
    make_all([&](std::span<const SynapseRecord> recs) {
      kept.clear();
      for (const auto& r : recs)
        if (r.target >= first && r.target < last) kept.push_back(r);
      if (!kept.empty()) sink(kept);
    });
  }

  // 1 MiB of records: small enough that the freed slices of a build do not
  // stay in the allocator's heap (2^20 kept 19 MiB of the working-memory
  // network's training peak there: glibc serves blocks below its adaptive
  // mmap threshold from the heap), and still two parallel chunks.
  static constexpr std::uint64_t kSlice = std::uint64_t{1} << 16;

  ConnectContext context() const { return {ns_, nt_, same_, grid_, seed_, projection_}; }
  RandomStream rng_for(std::uint64_t entity) const {
    return RandomStream(seed_, stream_id(StreamKind::connectivity, projection_),
                        static_cast<std::uint32_t>(entity));
  }
  // Weights and delays come from a stream of their own, so that changing a
  // weight distribution does not change which pairs are connected.
  RandomStream values_for(std::uint64_t entity) const {
    return RandomStream(seed_, stream_id(StreamKind::weights, projection_),
                        static_cast<std::uint32_t>(entity));
  }
  bool no_self() const { return same_ && !spec_.autapses; }
  // Targets (sources) per slice, about kSlice synapses, of n_entity targets
  // (sources) among which the projection's synapses are spread.
  std::uint64_t slice_entities(std::uint64_t n_entity) const {
    const double per_entity =
        expected_synapses(spec_, context()) / std::max<double>(1, static_cast<double>(n_entity));
    return std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(static_cast<double>(kSlice) / std::max(1.0, per_entity)));
  }

  // A PairRule with counts (ABI 1.5): its counts drawn once, from the
  // stream of entity 2^32 - 1, each checked against what its target can
  // take, into per_target_.
  void draw_counts();
  // A rule drawn through a PairRule (a plugin's, or the catalogue's:
  // builtin.cpp): the synapses onto targets [a, b) -- or, for a rule drawn
  // by source, of sources [a, b) -- handed to the sink in that order, chunk
  // by chunk (no copy into one list).
  // `parts` holds each chunk's records; its buffers are reused by the next
  // call (a fresh 1 MiB buffer per slice is mapped and faulted in anew).
  void make_pair_rule(std::uint64_t a, std::uint64_t b, std::vector<RecordBuffer>& parts,
                      const Sink& sink, bool values) const;
  // Rule::explicit_edges: the synapses onto [first, last).
  void make_explicit(NeuronIndex first, NeuronIndex last, const Sink& sink) const;
  // Hands every synapse to f in the rule's order, in slices (the other rules).
  void make_all(const Sink& f) const;
  // A PairRule drawn by source (fixed_outdegree): the synapses of sources
  // [a, b), source by source, in slices of sources.
  void make_sources(std::uint64_t a, std::uint64_t b, const Sink& f) const;

  ConnectionSpec spec_;
  TimeGrid grid_;
  std::size_t ns_, nt_;
  bool same_;
  std::uint64_t seed_;
  std::uint32_t projection_;
  std::optional<Emitter> emit_;
  // A PairRule with counts (fixed_total_number): pairs onto each target
  std::vector<std::uint32_t> per_target_;
};

void RuleSource::draw_counts() {
  const PairRule& rule = *spec_.pair_rule;
  // Entity 2^32 - 1: no target's (targets are < 2^32 - 1).
  auto rng = rng_for(std::numeric_limits<std::uint32_t>::max());
  rule.counts(rng, per_target_);
  if (per_target_.size() != nt_) throw std::logic_error(spec_.name + ": counts of another size");
  const bool no_self = this->no_self();
  double total = 0;
  for (std::uint64_t t = 0; t < nt_; ++t) {
    const std::uint64_t c = per_target_[t];
    // The sources t can take: any number of draws from its eligible
    // sources with multapses, each once without; none without a source.
    const std::uint64_t eligible = ns_ - (no_self && t < ns_ ? 1 : 0);
    const std::uint64_t most =
        eligible == 0 ? 0 : (spec_.multapses ? std::uint64_t{UINT32_MAX} : eligible);
    if (c > most) {
      throw ConfigError(
          fmt::format("{}: {} drew count {} for target {}: out of range, valid is 0 to {} ({})",
                      spec_.name, rule.describe(), c, t, most,
                      eligible == 0 ? "the target has no source to draw from"
                                    : "its sources, each once, without multapses"));
    }
    total += static_cast<double>(c);
  }
  if (total * spec_.taps > 4.0e9) {
    throw ConfigError(
        fmt::format("{}: {} drew counts of {:.3g} synapses; a projection holds at "
                    "most 4e9",
                    spec_.name, rule.describe(), total * spec_.taps));
  }
}

void RuleSource::make_pair_rule(std::uint64_t a, std::uint64_t b, std::vector<RecordBuffer>& parts,
                                const Sink& sink, bool values) const {
  const Emitter& emit = *emit_;
  const PairRule& rule = *spec_.pair_rule;
  // The entities asked (targets, or sources for a rule drawn by source)
  // and their partners.
  const bool by_source = rule.by_source();
  const bool counted = !by_source && rule.has_counts();
  const char* entity_kind = by_source ? "source" : "target";
  const char* partner_kind = by_source ? "target" : "source";
  const std::uint64_t n_entity = by_source ? ns_ : nt_, n_partner = by_source ? nt_ : ns_;
  const std::uint64_t n = b - a, taps = spec_.taps;
  const bool no_self = this->no_self();
  const double per_entity = expected_synapses(spec_, context()) / std::max<double>(1, n_entity);
  const std::uint64_t grain = chunk_entities(per_entity);
  // Each chunk's synapses apart, handed on in order: the rule's count per
  // entity is not known before it is asked.
  parts.resize(std::max(parts.size(), static_cast<std::size_t>((n + grain - 1) / grain)));
  for_chunks(n, grain, [&](std::uint64_t c, std::uint64_t first, std::uint64_t last) {
    std::vector<std::uint64_t> partners, sorted;
    auto& part = parts[c];
    part.clear();
    // The expected size (capped: an estimate of every pair may be far off),
    // so that a chunk's synapses are not copied as they grow.
    const double expected = per_entity * static_cast<double>(last - first);
    if (expected > 0) {
      part.reserve(static_cast<std::size_t>(std::min(expected, static_cast<double>(kSlice))));
    }
    for (std::uint64_t e = a + first; e < a + last; ++e) {
      partners.clear();
      auto rng = rng_for(e);
      if (by_source) {
        rule.targets(e, rng, partners);
      } else {
        const std::uint64_t count = counted ? per_target_[e] : 0;
        rule.sources(e, count, rng, partners);
        if (counted && partners.size() != count) {
          throw ConfigError(
              fmt::format("{}: {} returned {} sources for target {}, but its count is {}",
                          spec_.name, rule.describe(), partners.size(), e, count));
        }
      }
      for (const std::uint64_t p : partners) {
        if (p >= n_partner) {
          throw ConfigError(
              fmt::format("{}: {} returned {} {} for {} {}: out of range, valid is 0 to {}",
                          spec_.name, rule.describe(), partner_kind, p, entity_kind, e,
                          n_partner == 0 ? fmt::format("(none: the {} is empty)", partner_kind)
                                         : std::to_string(n_partner - 1)));
        }
      }
      if (!spec_.multapses) {
        // Most rules list their partners in order: then no copy.
        const std::vector<std::uint64_t>* in_order = &partners;
        if (!std::is_sorted(partners.begin(), partners.end())) {
          sorted = partners;
          std::sort(sorted.begin(), sorted.end());
          in_order = &sorted;
        }
        const auto twice = std::adjacent_find(in_order->begin(), in_order->end());
        if (twice != in_order->end()) {
          throw ConfigError(
              fmt::format("{}: {} returned {} {} twice for {} {}, but multapses = false",
                          spec_.name, rule.describe(), partner_kind, *twice, entity_kind, e));
        }
      }
      auto vals = values_for(e);
      const auto ee = static_cast<NeuronIndex>(e);
      // Room for every partner, written in place; an autapse dropped
      // (no_self) gives its room back.
      SynapseRecord* at = part.extend(partners.size() * taps);
      for (const std::uint64_t p : partners) {
        if (no_self && p == e) continue;
        const auto pp = static_cast<NeuronIndex>(p);
        const NeuronIndex s = by_source ? ee : pp, t = by_source ? pp : ee;
        at = values ? emit.pair(at, s, t, vals) : emit.pair_only(at, s, t);
      }
      part.end_at(at);
    }
  });
  const std::size_t used = (n + grain - 1) / grain;
  for (std::size_t c = 0; c < used; ++c)
    if (parts[c].size() > 0) sink(parts[c].span());
}

void RuleSource::make_sources(std::uint64_t from, std::uint64_t to, const Sink& f) const {
  const std::uint64_t step = slice_entities(ns_);
  std::vector<RecordBuffer> parts;
  for (std::uint64_t a = from; a < to; a += step)
    make_pair_rule(a, std::min(to, a + step), parts, f, true);
}

void RuleSource::make_all(const Sink& f) const {
  if (!by_source()) throw std::logic_error("make_all: a by-target rule");
  make_sources(0, ns_, f);
}

// Drawn weights and delays come from each target's own stream
// (values_for(t)), in the order of its edges in the file or the lists, as
// the by-target rules draw theirs: a target's values do not depend on the
// edges onto other targets, so only the edges onto [first, last) are read,
// at any number of processes. The range that ends at the last target reads
// to the end of the ids, so that an edge onto a target out of range is read
// (and refused) by one process.
void RuleSource::make_explicit(NeuronIndex first, NeuronIndex last, const Sink& sink) const {
  const auto& e = spec_.edges;
  const Emitter& emit = *emit_;
  const bool own_weights = listed_weights(e), own_delays = listed_delays(e);
  const bool draws =
      (!own_weights && !spec_.weight.is_constant()) || (!own_delays && !spec_.delay.is_constant());
  const std::uint64_t end = last >= nt_ ? std::numeric_limits<std::uint64_t>::max() : last;
  // One stream per target of the range, created as its first edge comes
  // (a target's stream is a few words; most ranges hold edges onto most
  // of their targets).
  std::vector<std::optional<RandomStream>> streams(
      draws ? std::min<std::uint64_t>(last, nt_) - first : 0);
  auto constant = values_for(0);  // not drawn from: every value is listed or constant
  std::vector<SynapseRecord> out;
  const auto block = [&](const EdgeBlock& b) {
    for (std::size_t k = 0; k < b.source.size(); ++k) {
      const std::uint64_t s = b.source[k], t = b.target[k];
      // Listed edges were checked by validate(); a file's are checked here.
      Step checked = 0;
      if (e.reader) {
        checked = check_edge(spec_, context(), b.id[k], s, t, own_weights ? &b.weight[k] : nullptr,
                             own_delays ? &b.delay_ms[k] : nullptr);
      }
      if (t < first || t >= end) continue;
      RandomStream* vals = &constant;
      if (draws) {
        auto& stream = streams[t - first];
        if (!stream) stream.emplace(values_for(t));
        vals = &*stream;
      }
      const std::uint32_t d = !own_delays
                                  ? emit.delay(*vals)
                                  : static_cast<std::uint32_t>(
                                        e.reader ? checked
                                                 : grid_.synaptic_delay_steps(
                                                       b.delay_ms[k], "edge delay", precision(e)));
      for (std::uint32_t tap = 0; tap < spec_.taps; ++tap) {
        // A listed weight holds for every tap; a distribution is drawn per tap.
        const float w = own_weights ? static_cast<float>(b.weight[k]) : emit.weight(*vals);
        out.push_back({static_cast<NeuronIndex>(s), static_cast<NeuronIndex>(t), w, d + tap});
      }
      if (out.size() >= kSlice) {
        sink(out);
        out.clear();
      }
    }
  };
  if (e.reader) {
    e.reader->read(first, end, block);
  } else {
    // The lists, a slice at a time, as a file's blocks.
    std::vector<std::uint64_t> ids;
    for (std::size_t a = 0; a < e.source.size(); a += kSlice) {
      const std::size_t n = std::min<std::size_t>(kSlice, e.source.size() - a);
      ids.resize(n);
      std::iota(ids.begin(), ids.end(), a);
      const auto part = [&](const auto& v) {
        return v.empty() ? std::span(v.data(), 0) : std::span(v).subspan(a, n);
      };
      block({ids, part(e.source), part(e.target), part(e.weight), part(e.delay_ms)});
    }
  }
  if (!out.empty()) sink(out);
}

}  // namespace

std::shared_ptr<const SynapseSource> make_source(ConnectionSpec spec, const ConnectContext& ctx) {
  return std::make_shared<const RuleSource>(std::move(spec), ctx);
}

std::vector<SynapseRecord> connect(const ConnectionSpec& spec, const ConnectContext& ctx) {
  const RuleSource source(spec, ctx);
  std::vector<SynapseRecord> out;
  out.reserve(static_cast<std::size_t>(expected_synapses(spec, ctx)));
  source.generate(0, static_cast<NeuronIndex>(ctx.n_target), [&](std::span<const SynapseRecord> r) {
    out.insert(out.end(), r.begin(), r.end());
  });
  return out;
}

}  // namespace spikeline::synapses
