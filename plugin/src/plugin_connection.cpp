#include "plugin_connection.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "spikeline/engine/error.hpp"

namespace spikeline::plugin::detail {

namespace {

// The stream functions of spk_connection_ctx over the simulator's
// RandomStream (the stream of one connect call).
RandomStream& stream(void* s) {
  return *static_cast<RandomStream*>(s);
}
double uniform(void* s) {
  return stream(s).uniform();
}
std::uint64_t below(void* s, std::uint64_t n) {
  return n == 0 ? 0 : stream(s).below(n);
}
double normal(void* s) {
  return stream(s).normal();
}
std::uint64_t geometric(void* s, double p) {
  // p outside (0, 1]: as if never (p <= 0, NaN: UINT64_MAX) or at once.
  if (!(p > 0)) return UINT64_MAX;
  if (p >= 1) return 0;
  // RandomStream::geometric's draw, but a count beyond 2^64 (a tiny p: a
  // plugin's kernel far out) is "never" rather than a cast out of range.
  const double g = std::floor(std::log(stream(s).uniform()) / std::log1p(-p));
  return g < 0x1p64 ? static_cast<std::uint64_t>(g) : UINT64_MAX;
}
std::uint64_t binomial(void* s, std::uint64_t n, double p) {
  if (!(p > 0)) return 0;
  return p >= 1 ? n : stream(s).binomial(n, p);
}

// The sink of one call: the caller's vector, written through a cursor.
// add() is called once per source (2 x 15.6 million calls for Brunel's
// fixed_indegree: a counting pass, then the values), so its fast path is a
// compare and a store; push_back there, with its growth inlined, saved and
// restored six registers per call (23 instructions where the store needs 6:
// 1.19x the instructions of drawing Brunel's synapses).
struct Sink {
  std::vector<std::uint64_t>* out;
  std::uint64_t* at;  // the next source's place in *out
  std::uint64_t* end;
};

// Room for n more sources after `at`, out of line (the vector doubles).
[[gnu::noinline]] void make_room(Sink& k, std::size_t n) {
  auto& v = *k.out;
  const auto used = static_cast<std::size_t>(k.at - v.data());
  v.resize(std::max({std::size_t{64}, 2 * v.size(), used + n}));
  k.at = v.data() + used;
  k.end = v.data() + v.size();
}
[[gnu::noinline]] int add_after_growing(Sink& k, std::uint64_t source) {
  make_room(k, 1);
  *k.at++ = source;
  return SPK_OK;
}

int add(void* sink, std::uint64_t source) {
  auto& k = *static_cast<Sink*>(sink);
  if (k.at == k.end) [[unlikely]]
    return add_after_growing(k, source);  // a tail call
  *k.at++ = source;
  return SPK_OK;
}
// A range of sources; refused when reversed or larger than any projection
// (4e9 synapses: validate()), before anything is allocated. Sources out of
// the projection's range are refused by name afterwards, as add()'s.
int add_range(void* sink, std::uint64_t first, std::uint64_t last) {
  if (first > last || last - first > (std::uint64_t{1} << 32)) return SPK_ERROR;
  auto& k = *static_cast<Sink*>(sink);
  const auto n = static_cast<std::size_t>(last - first);
  if (static_cast<std::size_t>(k.end - k.at) < n) make_room(k, n);
  std::iota(k.at, k.at + n, first);
  k.at += n;
  return SPK_OK;
}

}  // namespace

PluginPairRule::PluginPairRule(std::shared_ptr<const ConnRule> rule, const ParamMap& p,
                               const PairRuleContext& c)
    : rule_(std::move(rule)), projection_(c.projection) {
  const ConnRule& r = *rule_;
  params_ = one_value_params(r.params, p, r.required);
  choices_ = resolve_choices(r.choices, p);
  void* constants = nullptr;
  constants_raw_ = aligned_zeroed(r.constants_size, constants);
  ctx_.struct_size = sizeof(spk_connection_ctx);
  ctx_.projection = projection_.c_str();
  ctx_.n_source = c.n_source;
  ctx_.n_target = c.n_target;
  ctx_.same_population = c.same_population ? 1 : 0;
  ctx_.autapses = c.autapses ? 1 : 0;
  ctx_.multapses = c.multapses ? 1 : 0;
  ctx_.dt = c.dt;
  ctx_.n_params = static_cast<std::uint32_t>(params_.size());
  ctx_.params = params_.data();
  ctx_.constants = constants;
  ctx_.n_choices = static_cast<std::uint32_t>(choices_.size());
  ctx_.choice = choices_.data();
  ctx_.uniform = &uniform;
  ctx_.below = &below;
  ctx_.normal = &normal;
  ctx_.geometric = &geometric;
  ctx_.binomial = &binomial;
  if (r.prepare != nullptr) {
    refuse_unless_ok([&](char* e, std::size_t n) { return r.prepare(&ctx_, e, n); },
                     fmt::format("{}: {}: refused", p.owner(), describe()));
  }
  // Per source for a rule drawn by source, else per target.
  const std::uint64_t entities = by_source() ? c.n_source : c.n_target;
  const double per_entity =
      expected_pairs() / static_cast<double>(std::max<std::uint64_t>(1, entities));
  room_ = per_entity >= 0 && per_entity < 1e9
              ? 1 + 2 * static_cast<std::size_t>(std::ceil(per_entity))
              : 16;
}

std::string PluginPairRule::describe() const {
  return rule_->label("rule", rule_->name);
}

void PluginPairRule::sources(std::uint64_t target, std::uint64_t count, RandomStream& rng,
                             std::vector<std::uint64_t>& out) const {
  call(rule_->connect, target, UINT64_MAX, count, rng, out);
}

void PluginPairRule::targets(std::uint64_t source, RandomStream& rng,
                             std::vector<std::uint64_t>& out) const {
  call(rule_->connect_source, UINT64_MAX, source, 0, rng, out);
}

void PluginPairRule::counts(RandomStream& rng, std::vector<std::uint32_t>& out) const {
  char error[1024];
  error[0] = '\0';
  out.assign(static_cast<std::size_t>(ctx_.n_target), 0);
  const int status = rule_->counts(&ctx_, &rng, out.data(), error, sizeof error);
  error[sizeof error - 1] = '\0';
  if (status != SPK_OK) {
    throw ConfigError(fmt::format("{}: {} failed drawing the per-target counts: {}", projection_,
                                  describe(), *error ? error : "(no message)"));
  }
}

void PluginPairRule::call(spk_connect_fn fn, std::uint64_t target, std::uint64_t source,
                          std::uint64_t count, RandomStream& rng,
                          std::vector<std::uint64_t>& out) const {
  // Called once per target or source (a million times for one_to_one onto
  // a million neurons): the buffer is cleared, not zeroed.
  char error[1024];
  error[0] = '\0';
  // The sources are written into room made in the vector (zeroed: a
  // memset per target, so no more than twice the sources a target is
  // expected to get, within the capacity kept from call to call), then it
  // is cut to what was written.
  const std::size_t given = out.size();
  out.resize(given + std::min(out.capacity() - given, room_));
  Sink sink{&out, out.data() + given, out.data() + out.size()};
  spk_connect_args a{};
  a.struct_size = sizeof(spk_connect_args);
  a.target = target;
  a.stream = &rng;
  a.sink = &sink;
  a.add = &add;
  a.error = error;
  a.error_size = sizeof error;
  a.add_range = &add_range;
  a.source = source;
  a.count = count;
  const int status = fn(&ctx_, &a);
  out.resize(static_cast<std::size_t>(sink.at - out.data()));
  error[sizeof error - 1] = '\0';
  if (status != SPK_OK) {
    throw ConfigError(fmt::format("{}: {} failed for {} {}: {}", projection_, describe(),
                                  source == UINT64_MAX ? "target" : "source",
                                  source == UINT64_MAX ? target : source,
                                  *error ? error : "(no message)"));
  }
}

double PluginPairRule::expected_pairs() const {
  if (rule_->expected_pairs == nullptr) return NAN;
  const double e = rule_->expected_pairs(&ctx_);
  // A negative or non-finite answer is as good as none.
  return std::isfinite(e) && e >= 0 ? e : NAN;
}

ConnectionRuleInfo connection_rule_info(const std::shared_ptr<const ConnRule>& r, const char* doc,
                                        std::vector<ParamInfo> params) {
  ConnectionRuleInfo info;
  info.name = r->name;
  info.summary = doc != nullptr ? doc : "";
  info.origin = r->origin();
  info.provenance = r->provenance();
  info.params = std::move(params);
  info.make = [r](const ParamMap& p, const PairRuleContext& c) -> std::shared_ptr<const PairRule> {
    return std::make_shared<const PluginPairRule>(r, p, c);
  };
  return info;
}

}  // namespace spikeline::plugin::detail
