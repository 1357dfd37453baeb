#include "spikeline/learning/bptt.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include <tbb/blocked_range.h>
#include <tbb/combinable.h>
#include <tbb/parallel_for.h>

#include "choice.hpp"
#include "spikeline/engine/error.hpp"

namespace spikeline::learning {

std::size_t BitRaster::count() const {
  std::size_t n = 0;
  for (const auto w : bits_) n += static_cast<std::size_t>(__builtin_popcountll(w));
  return n;
}

double Surrogate::derivative(double x) const {
  switch (kind) {
    case SurrogateKind::fast_sigmoid: {
      const double d = alpha * std::abs(x) + 1.0;
      return 1.0 / (d * d);
    }
    case SurrogateKind::arctan: {
      const double a = std::numbers::pi * alpha * x / 2.0;
      return 1.0 / (1.0 + a * a);
    }
    case SurrogateKind::triangle:
      return std::max(0.0, 1.0 - alpha * std::abs(x));
  }
  return 0;
}

BpttParams::BpttParams(const ParamMap& p) {
  surrogate.kind = detail::choice<SurrogateKind>(p, "surrogate", "fast_sigmoid",
                                                 {{"fast_sigmoid", SurrogateKind::fast_sigmoid},
                                                  {"arctan", SurrogateKind::arctan},
                                                  {"triangle", SurrogateKind::triangle}});
  surrogate.alpha = p.number("alpha", 15.0);
  check_positive(surrogate.alpha, p.item("alpha"), "");
  check_finite(surrogate.alpha, p.item("alpha"), "");
  loss = detail::choice<LossKind>(p, "loss", "soft_f1",
                                  {{"soft_f1", LossKind::soft_f1}, {"bce", LossKind::bce}});
  pos_weight = p.number("pos_weight", 1.0);
  check_positive(pos_weight, p.item("pos_weight"), "");
  check_finite(pos_weight, p.item("pos_weight"), "");
  gradient = detail::choice<GradientMode>(p, "gradient", "truncated",
                                          {{"truncated", GradientMode::truncated},
                                           {"full", GradientMode::full},
                                           {"local", GradientMode::local}});
  detach_reset = detail::choice<bool>(p, "reset_gradient", "detached",
                                      {{"detached", true}, {"attached", false}});
}

namespace {

// log(1 + exp(z)) without overflow.
double softplus(double z) {
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

double logistic(double z) {
  return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
}

}  // namespace

LossValue batch_loss(std::span<const Trial> batch, const BpttParams& params) {
  LossValue v;
  double bce = 0;
  for (const Trial& tr : batch) {
    const std::size_t n = tr.neurons();
    for (std::size_t r = tr.score_begin; r < tr.score_end; ++r) {
      for (std::size_t j = 0; j < n; ++j) {
        const bool p = tr.own.get(r, j), y = tr.target.get(r, j);
        v.tp += p && y;
        v.predicted += p;
        v.wanted += y;
        if (params.loss == LossKind::bce) {
          const double z = params.surrogate.alpha * (tr.u[r * n + j] - params.theta);
          bce += y ? params.pos_weight * softplus(-z) : softplus(z);  // -log q, -log(1 - q)
        }
      }
      v.entries += static_cast<double>(n);
    }
  }
  if (params.loss == LossKind::bce) {
    v.loss = v.entries > 0 ? bce / v.entries : 0;
  } else {
    v.loss = 1.0 - v.f1();
  }
  return v;
}

ErrorTrace backward(const Trial& tr, const Connectivity& projection, const BpttParams& prm,
                    const LossValue& batch) {
  std::vector<float> u = tr.u;
  return backward(std::move(u), tr, projection, prm, batch);
}

// Row r of the error is written after row r of u was read, and only rows
// > r of the error are read before: the error can take u's place.
ErrorTrace backward(std::vector<float>&& u_trace, const Trial& tr, const Connectivity& projection,
                    const BpttParams& prm, const LossValue& batch) {
  const std::size_t L = tr.steps(), n = tr.neurons();
  if (u_trace.size() != L * n) {
    throw std::invalid_argument("backward: the membrane trace is not steps x neurons");
  }
  ErrorTrace out;
  out.steps = L;
  out.neurons = n;
  out.e = std::move(u_trace);
  out.e.resize((L + projection.max_delay() + 1) * n, 0.0f);  // the padding rows are zeros
  const bool full = prm.gradient == GradientMode::full;
  const bool subtract = prm.reset_subtract;
  // dL/ds on scored rows (soft F1), or dL/du (BCE).
  const double S = batch.predicted + batch.wanted;
  const double ds_hit = S > 0 ? -2.0 * (S - batch.tp) / (S * S) : 0;  // y = 1
  const double ds_miss = S > 0 ? 2.0 * batch.tp / (S * S) : 0;        // y = 0
  std::vector<double> du_next(n, 0.0), du(n);
  const unsigned parts = static_cast<unsigned>(projection.blocks());
  for (std::size_t r = L; r-- > 0;) {
    const bool scored = r >= tr.score_begin && r < tr.score_end;
    // Local: no path through the membrane either, so the next step's error
    // never reaches this one.
    const bool last = r + 1 == L || prm.gradient == GradientMode::local;
    const float* u = out.e.data() + r * n;  // not yet overwritten
    for (std::size_t j = 0; j < n; ++j) {
      const double x = static_cast<double>(u[j]) - prm.theta;
      const double sg = prm.surrogate.derivative(x);
      double ds = 0, du_direct = 0;
      if (scored) {
        const bool y = tr.target.get(r, j);
        if (prm.loss == LossKind::soft_f1) {
          ds = y ? ds_hit : ds_miss;
        } else if (batch.entries > 0) {
          const double q = logistic(prm.surrogate.alpha * x);
          du_direct = prm.surrogate.alpha * (y ? prm.pos_weight * (q - 1.0) : q) / batch.entries;
        }
      }
      const bool s = tr.own.get(r, j);
      if (!last && !prm.detach_reset) ds += du_next[j] * (subtract ? -prm.theta : -prm.beta * u[j]);
      if (full && sg != 0 && !tr.clamp.get(r, j)) {
        // Through the recurrent spikes: this spike is context of every
        // outgoing synapse's target d steps later.
        double acc = 0;
        for (unsigned p = 0; p < parts; ++p) {
          const SynapseBlock& b = projection.block(p);
          for (const DelayGroup& g : b.groups_of(static_cast<NeuronIndex>(j))) {
            const float* e = out.e.data() + (r + g.delay) * n;
            const float* w = b.weight.data() + g.begin;
            const std::uint32_t size = g.end - g.begin;
            if (g.consecutive) {
              const float* ee = e + g.first;
              for (std::uint32_t k = 0; k < size; ++k) acc += w[k] * ee[k];
            } else {
              b.with_targets(g, [&](const auto* t, NeuronIndex base) {
                const float* eb = e + base;
                for (std::uint32_t k = 0; k < size; ++k) acc += w[k] * eb[t[k]];
              });
            }
          }
        }
        ds += acc;
      }
      double d = sg * ds + du_direct;
      if (!last) d += du_next[j] * (subtract ? prm.beta : prm.beta * (s ? 0.0 : 1.0));
      du[j] = d;
    }
    float* e = out.e.data() + r * n;
    const float* m = tr.dropout.empty() ? nullptr : tr.dropout.data() + r * n;
    for (std::size_t j = 0; j < n; ++j) e[j] = static_cast<float>(m ? m[j] * du[j] : du[j]);
    std::swap(du, du_next);
  }
  return out;
}

WeightGradient::WeightGradient(const Connectivity& projection, std::span<const Trial> batch,
                               std::span<const ErrorTrace> errors)
    : c_(projection), batch_(batch), errors_(errors) {
  if (batch.size() != errors.size()) {
    throw Error(ExitCode::software, "WeightGradient: one error trace per trial");
  }
  active_.resize(batch.size());
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const Trial& tr = batch[b];
    auto& act = active_[b];
    act.assign(projection.source_size(), {});
    for (std::size_t r = 0; r < tr.steps(); ++r) {
      auto add = [&](std::size_t i) {
        if (i < act.size() && (act[i].empty() || act[i].back() != r))
          act[i].push_back(static_cast<std::uint32_t>(r));
      };
      // The union of own and clamped spikes, each entry once (rows ascend).
      tr.own.for_each_in_row(r, add);
      tr.clamp.for_each_in_row(r, add);
    }
  }
}

std::pair<std::uint32_t, std::uint32_t> WeightGradient::synapse_range(const SynapseBlock& b,
                                                                      NeuronIndex source) {
  const auto groups = b.groups_of(source);
  if (groups.empty()) return {0, 0};
  return {groups.front().begin, groups.back().end};
}

void WeightGradient::source_gradient(unsigned part, NeuronIndex i, std::span<double> out) const {
  const SynapseBlock& b = c_.block(part);
  const auto [first, last] = synapse_range(b, i);
  std::fill(out.begin(), out.begin() + (last - first), 0.0);
  const auto groups = b.groups_of(i);
  for (std::size_t t = 0; t < batch_.size(); ++t) {
    const ErrorTrace& err = errors_[t];
    // An entry at row r (step r + 1) is the input of step r + 1 + d: row r + d.
    for (const std::uint32_t r : active_[t][i]) {
      for (const DelayGroup& g : groups) {
        const float* e = err.row(r + g.delay);
        double* __restrict o = out.data() + (g.begin - first);
        const std::uint32_t size = g.end - g.begin;
        if (g.consecutive) {
          const float* __restrict ee = e + g.first;
          for (std::uint32_t k = 0; k < size; ++k) o[k] += ee[k];
        } else {
          b.with_targets(g, [&](const auto* t, NeuronIndex base) {
            const float* eb = e + base;
            for (std::uint32_t k = 0; k < size; ++k) o[k] += eb[t[k]];
          });
        }
      }
    }
  }
}

namespace {

// Sums non-negative doubles exactly: each value's significand is added, as an
// integer, to the bin of its binary exponent. Integer sums do not depend on
// their order, so the total is the same however the terms were split up (by
// partition, by thread); it is rounded once, bin by bin in a fixed order.
// (Summing partial sums per partition made the gradient norm, and so the
// clipping, depend on the partitioning in its last bits.)
class ExactSum {
 public:
  void add(double v) {
    const auto bits = std::bit_cast<std::uint64_t>(v);
    const auto e = static_cast<unsigned>(bits >> 52) & 0x7ffu;
    if (e == 0x7ffu) {  // inf or NaN: the total is too, whatever the order
      special_ += v;
      return;
    }
    const std::uint64_t m =
        (bits & ((std::uint64_t{1} << 52) - 1)) | (e != 0 ? std::uint64_t{1} << 52 : 0);
    bins_[e] += m;  // 2^53 at most per term: 2^74 terms before a bin overflows
  }
  void merge(const ExactSum& o) {
    for (std::size_t e = 0; e < bins_.size(); ++e) bins_[e] += o.bins_[e];
    special_ += o.special_;
  }
  double value() const {
    double t = special_;
    for (std::size_t e = 0; e < bins_.size(); ++e) {
      // A normal value is m * 2^(e - 1075); a subnormal (e = 0) m * 2^-1074.
      if (bins_[e] != 0) {
        t += std::ldexp(static_cast<double>(bins_[e]), e == 0 ? -1074 : static_cast<int>(e) - 1075);
      }
    }
    return t;
  }

 private:
  __extension__ using uint128 = unsigned __int128;
  std::array<uint128, 2047> bins_{};
  double special_ = 0;
};

}  // namespace

double WeightGradient::norm() const {
  const std::size_t n_src = c_.source_size();
  const unsigned parts = static_cast<unsigned>(c_.blocks());
  tbb::combinable<ExactSum> sums;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_src * parts), [&](const auto& range) {
    std::vector<double> g;
    ExactSum& sum = sums.local();
    for (std::size_t x = range.begin(); x != range.end(); ++x) {
      const unsigned p = static_cast<unsigned>(x / n_src);
      const auto i = static_cast<NeuronIndex>(x % n_src);
      const auto [first, last] = synapse_range(c_.block(p), i);
      g.resize(last - first);
      source_gradient(p, i, g);
      for (const double v : g) sum.add(v * v);
    }
  });
  ExactSum total;
  sums.combine_each([&](const ExactSum& s) { total.merge(s); });
  return std::sqrt(total.value());
}

std::vector<double> WeightGradient::canonical() const {
  std::vector<std::vector<double>> per_block(c_.blocks());
  for (unsigned p = 0; p < c_.blocks(); ++p) {
    per_block[p].assign(c_.block(p).weight.size(), 0.0);
    for (NeuronIndex i = 0; i < c_.source_size(); ++i) {
      const auto [first, last] = synapse_range(c_.block(p), i);
      source_gradient(p, i, std::span<double>(per_block[p].data() + first, last - first));
    }
  }
  std::vector<double> out;
  for (const auto& loc : c_.canonical_locations()) out.push_back(per_block[loc.part][loc.index]);
  return out;
}

double LrSchedule::at(std::size_t step) const {
  if (step < warmup) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (!cosine || total <= warmup) return lr;
  const double f =
      std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(total - warmup));
  return lr_min + 0.5 * (lr - lr_min) * (1.0 + std::cos(std::numbers::pi * f));
}

void LrSchedule::check(const std::string& item) const {
  check_positive(lr, item + " lr", "");
  check_nonnegative(lr_min, item + " lr_min", "");
  if (lr_min > lr) {
    throw ConfigError(fmt::format("{}: lr_min = {} is above lr = {}", item, lr_min, lr));
  }
}

void OptimizerParams::check(const std::string& item) const {
  check_range(momentum, 0.0, 1.0, item + " momentum", "");
  check_range(beta1, 0.0, 0.999999, item + " beta1", "");
  check_range(beta2, 0.0, 0.999999999, item + " beta2", "");
  check_positive(eps, item + " eps", "");
  check_nonnegative(weight_decay, item + " weight_decay", "");
  check_nonnegative(clip_norm, item + " clip_norm", "");
  check_less(w_min, item + " w_min", w_max, item + " w_max", "");
}

namespace {

// bfloat16: the top 16 bits of a float32.
float from_bf16(std::uint16_t h) {
  return std::bit_cast<float>(std::uint32_t{h} << 16);
}

// One round of splitmix64 (Steele et al. 2014) over h ^ x: a stateless hash,
// so that each synapse's rounding bits are a pure function of what they are
// keyed by. (Not a Philox RandomStream: that is a stream per entity, and this
// needs 32 bits per synapse per step, keyed by five values.)
std::uint64_t mix(std::uint64_t h, std::uint64_t x) {
  std::uint64_t z = h ^ x;
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Rounds up with probability equal to the dropped fraction: adding 16 random
// bits below the kept ones, then truncating.
std::uint16_t to_bf16(float x, std::uint32_t random16) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  // Near the largest finite value the carry would make inf: truncate there.
  const std::uint32_t up = (bits & 0x7f800000u) == 0x7f000000u ? bits : bits + random16;
  return static_cast<std::uint16_t>(up >> 16);
}

struct F32Moments {
  float* m;
  float* v;
  float m_at(std::uint32_t k) const { return m[k]; }
  float v_at(std::uint32_t k) const { return v[k]; }
  void set(std::uint32_t k, double mk, double vk, std::uint64_t) const {
    m[k] = static_cast<float>(mk);
    if (v) v[k] = static_cast<float>(vk);
  }
};

struct Bf16Moments {
  std::uint16_t* m;
  std::uint16_t* v;
  float m_at(std::uint32_t k) const { return from_bf16(m[k]); }
  float v_at(std::uint32_t k) const { return from_bf16(v[k]); }
  // bits: 16 random bits for m (low) and 16 for v (high).
  void set(std::uint32_t k, double mk, double vk, std::uint64_t bits) const {
    m[k] = to_bf16(static_cast<float>(mk), static_cast<std::uint32_t>(bits & 0xffffu));
    if (v)
      v[k] = to_bf16(static_cast<float>(vk), static_cast<std::uint32_t>((bits >> 16) & 0xffffu));
  }
};

}  // namespace

Optimizer::Optimizer(const OptimizerParams& params, const Connectivity& projection, unsigned parts,
                     std::uint64_t seed)
    : p_(params), seed_(seed) {
  const bool adam = p_.kind == OptimizerParams::Kind::adamw;
  const bool half = p_.state == OptimizerParams::State::bfloat16;
  if (half) {
    m16_.resize(parts);
    v16_.resize(parts);
  } else {
    m_.resize(parts);
    v_.resize(parts);
  }
  for (unsigned p = 0; p < parts; ++p) {
    const std::size_t n = projection.block(p).weight.size();
    if (half) {
      m16_[p].assign(n, 0);
      if (adam) v16_[p].assign(n, 0);
    } else {
      m_[p].assign(n, 0.0f);
      if (adam) v_[p].assign(n, 0.0f);
    }
  }
}

std::size_t Optimizer::state_bytes() const {
  std::size_t n = 0;
  for (std::size_t p = 0; p < m_.size(); ++p) n += (m_[p].size() + v_[p].size()) * sizeof(float);
  for (std::size_t p = 0; p < m16_.size(); ++p)
    n += (m16_[p].size() + v16_[p].size()) * sizeof(std::uint16_t);
  return n;
}

double Optimizer::step(Connectivity& c, const WeightGradient& grad, double lr) {
  const double norm = grad.norm();
  const double scale = p_.clip_norm > 0 && norm > p_.clip_norm ? p_.clip_norm / norm : 1.0;
  ++t_;
  const bool adam = p_.kind == OptimizerParams::Kind::adamw;
  const bool half = p_.state == OptimizerParams::State::bfloat16;
  const double bc1 = 1.0 - std::pow(p_.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(p_.beta2, static_cast<double>(t_));
  const std::size_t n_src = c.source_size();
  const unsigned parts = static_cast<unsigned>(c.blocks());
  // One delay group of source i. `key` hashes (seed, step, source, delay);
  // with the target it keys a synapse's rounding bits (bfloat16 only), the
  // same whatever the partitioning. Multapses share theirs.
  auto update = [&](SynapseBlock& b, const DelayGroup& grp, std::uint32_t first,
                    const std::vector<double>& g, const auto& mom, std::uint64_t key) {
    for (std::uint32_t k = grp.begin; k < grp.end; ++k) {
      const double gk = scale * g[k - first];
      double w = b.weight[k];
      const std::uint64_t bits = half ? mix(key, b.target_of(grp, k)) : 0;
      if (adam) {
        const double mk = p_.beta1 * mom.m_at(k) + (1 - p_.beta1) * gk;
        const double vk = p_.beta2 * mom.v_at(k) + (1 - p_.beta2) * gk * gk;
        mom.set(k, mk, vk, bits);
        // The stored (rounded) moments, as the next step will see them.
        const double mhat = mom.m_at(k) / bc1, vhat = mom.v_at(k) / bc2;
        w -= lr * (mhat / (std::sqrt(vhat) + p_.eps) + p_.weight_decay * w);
      } else {
        mom.set(k, p_.momentum * mom.m_at(k) + gk, 0, bits);
        w -= lr * mom.m_at(k);
      }
      b.weight[k] = static_cast<float>(std::clamp(w, p_.w_min, p_.w_max));
    }
  };
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_src * parts), [&](const auto& range) {
    std::vector<double> g;
    for (std::size_t x = range.begin(); x != range.end(); ++x) {
      const unsigned p = static_cast<unsigned>(x / n_src);
      const auto i = static_cast<NeuronIndex>(x % n_src);
      SynapseBlock& b = c.block(p);
      const auto [first, last] = WeightGradient::synapse_range(b, i);
      g.resize(last - first);
      grad.source_gradient(p, i, g);
      for (const DelayGroup& grp : b.groups_of(i)) {
        if (half) {
          const std::uint64_t key = mix(mix(mix(seed_, t_), i), grp.delay);
          update(b, grp, first, g, Bf16Moments{m16_[p].data(), adam ? v16_[p].data() : nullptr},
                 key);
        } else {
          update(b, grp, first, g, F32Moments{m_[p].data(), adam ? v_[p].data() : nullptr}, 0);
        }
      }
    }
  });
  return norm;
}

}  // namespace spikeline::learning
