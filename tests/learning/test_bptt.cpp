// Surrogate-gradient BPTT (learning/bptt.hpp) against an independent dense
// implementation written here: the forward pass of the engine (clamps,
// dropout, multi-tap delays, both resets) matches a dense recomputation, and
// the sparse backward pass gives the same dL/dw, to 1e-6 relative, for every
// surrogate, both resets, both gradient modes, the reset detached or not,
// and both losses.
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <random>

#include "../engine/harness.hpp"
#include "spikeline/learning/bptt.hpp"

using namespace spikeline;
using namespace spikeline::learning;
using spikeline::test::add;
using spikeline::test::Collector;
using spikeline::test::params;

namespace {

constexpr std::size_t N = 7, D = 4, L = 40;
constexpr std::uint64_t kSeed = 17, kKey = 5;
constexpr double kPosWeight = 3.5;  // bce: the wanted spikes weighted unlike the rest
constexpr double kDropout = 0.25;

struct Case {
  SurrogateKind surrogate;
  bool subtract;
  GradientMode gradient;
  bool detach_reset;
  LossKind loss;
};

// W[j][i][d-1], drawn once: a mix of signs, strong enough for spikes.
std::vector<double> weights() {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> g(0.35, 0.6);
  std::vector<double> w(N * N * D);
  for (auto& x : w) x = static_cast<float>(g(rng));  // float32, as the engine stores it
  return w;
}
double& at(std::vector<double>& w, std::size_t j, std::size_t i, std::size_t d) {
  return w[(j * N + i) * D + (d - 1)];
}
double at(const std::vector<double>& w, std::size_t j, std::size_t i, std::size_t d) {
  return w[(j * N + i) * D + (d - 1)];
}

// Every (i -> j, d) synapse of W, all to all.
std::vector<SynapseRecord> synapses_of(const std::vector<double>& w) {
  std::vector<SynapseRecord> syn;
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = 0; j < N; ++j)
      for (std::size_t d = 1; d <= D; ++d)
        syn.push_back({static_cast<NeuronIndex>(i), static_cast<NeuronIndex>(j),
                       static_cast<float>(at(w, j, i, d)), static_cast<std::uint32_t>(d)});
  return syn;
}

// A forward pass through the engine: clamped cue, dropout; records s and u.
Trial engine_trial(const Case& c, const std::vector<double>& w, unsigned partitions) {
  Network net(TimeGrid(1.0), kSeed);
  const auto pop =
      add(net, "wm", "lif_discrete", N,
          params({{"beta", 0.7}, {"theta", 1.0}, {"reset", c.subtract ? "subtract" : "zero"}}));
  net.add_projection("rec", pop, pop, synapses_of(w));
  SimulationOptions opt;
  opt.partitions = partitions;
  Simulator sim(std::move(net), opt);
  Trial tr;
  tr.own = BitRaster(L, N);
  tr.clamp = BitRaster(L, N);
  tr.target = BitRaster(L, N);
  tr.u.resize(L * N);
  tr.dropout.resize(L * N);
  std::mt19937_64 rng(11);
  std::bernoulli_distribution cue(0.3), want(0.15);
  for (std::size_t t = 1; t <= 6; ++t) {
    for (std::size_t j = 0; j < N; ++j) {
      if (cue(rng)) {
        sim.clamp(pop, static_cast<Step>(t), static_cast<NeuronIndex>(j));
        tr.clamp.set(t - 1, j);
      }
    }
  }
  sim.set_input_dropout(pop, kDropout, kKey);
  Collector col;
  const auto& model = *sim.network().populations()[pop].population;
  for (std::size_t t = 1; t <= L; ++t) {
    sim.run_until(static_cast<Step>(t), col);
    input_dropout_scales(kSeed, pop, kKey, static_cast<Step>(t), 0, N, kDropout,
                         tr.dropout.data() + (t - 1) * N);
    for (std::size_t j = 0; j < N; ++j) {
      tr.u[(t - 1) * N + j] =
          static_cast<float>(model.state(0, static_cast<NeuronIndex>(j), static_cast<Step>(t)));
      if (model.state(1, static_cast<NeuronIndex>(j), static_cast<Step>(t)) != 0)
        tr.own.set(t - 1, j);
      if (t > 8 && want(rng)) tr.target.set(t - 1, j);
    }
  }
  tr.score_begin = 8;
  tr.score_end = L;
  return tr;
}

// ---- the independent dense implementation ----

double surrogate(SurrogateKind k, double alpha, double x) {
  switch (k) {
    case SurrogateKind::fast_sigmoid:
      return 1.0 / std::pow(alpha * std::abs(x) + 1.0, 2);
    case SurrogateKind::arctan:
      return 1.0 / (1.0 + std::pow(std::numbers::pi * alpha * x / 2.0, 2));
    case SurrogateKind::triangle:
      return std::max(0.0, 1.0 - alpha * std::abs(x));
  }
  return 0;
}

// c(t) = s(t) OR x(t), with c = 0 before the first step.
double ctx(const Trial& tr, long r, std::size_t i) {
  return r >= 0 && tr.context(static_cast<std::size_t>(r), i) ? 1.0 : 0.0;
}

// The dense forward pass in double: u and s at every step.
void dense_forward(const Trial& tr, std::vector<double> w, bool subtract, std::vector<double>& u,
                   std::vector<int>& s) {
  u.assign(L * N, 0);
  s.assign(L * N, 0);
  for (std::size_t r = 0; r < L; ++r) {
    for (std::size_t j = 0; j < N; ++j) {
      double I = 0;
      for (std::size_t i = 0; i < N; ++i)
        for (std::size_t d = 1; d <= D; ++d)
          I += at(w, j, i, d) * ctx(tr, static_cast<long>(r) - static_cast<long>(d), i);
      I *= tr.dropout[r * N + j];
      const double u_prev = r ? u[(r - 1) * N + j] : 0, s_prev = r ? s[(r - 1) * N + j] : 0;
      u[r * N + j] = subtract ? 0.7 * u_prev + I - 1.0 * s_prev : 0.7 * u_prev * (1 - s_prev) + I;
      s[r * N + j] = u[r * N + j] > 1.0;
    }
  }
}

// dL/dW[j][i][d] by BPTT written out densely, from the recorded u and s.
std::vector<double> dense_gradient(const Trial& tr, std::vector<double> w, const Case& c,
                                   double alpha) {
  const double beta = 0.7, theta = 1.0;
  // The loss's own derivatives.
  double tp = 0, pred = 0, want = 0, entries = 0;
  for (std::size_t r = tr.score_begin; r < tr.score_end; ++r)
    for (std::size_t j = 0; j < N; ++j) {
      tp += tr.own.get(r, j) && tr.target.get(r, j);
      pred += tr.own.get(r, j);
      want += tr.target.get(r, j);
      entries += 1;
    }
  std::vector<double> dLds(L * N, 0), dLdu(L * N, 0);
  for (std::size_t r = tr.score_begin; r < tr.score_end; ++r)
    for (std::size_t j = 0; j < N; ++j) {
      const double y = tr.target.get(r, j);
      if (c.loss == LossKind::soft_f1) {
        const double S = pred + want;
        // F1 = 2 TP / S; dF1/dp = 2 (y S - TP) / S^2 (d TP/dp = y, dS/dp = 1)
        dLds[r * N + j] = S > 0 ? -2.0 * (y * S - tp) / (S * S) : 0;
      } else {
        const double z = alpha * (tr.u[r * N + j] - theta);
        const double q = 1.0 / (1.0 + std::exp(-z));
        // d/du of -[w y log q + (1-y) log(1-q)]
        dLdu[r * N + j] = alpha * (y > 0 ? kPosWeight * (q - 1) : q) / entries;
      }
    }
  std::vector<double> du(L * N, 0);
  for (long r = static_cast<long>(L) - 1; r >= 0; --r) {
    for (std::size_t j = 0; j < N; ++j) {
      const std::size_t x = static_cast<std::size_t>(r) * N + j;
      const double u = tr.u[x], s = tr.own.get(static_cast<std::size_t>(r), j);
      double ds = dLds[x];
      if (c.gradient == GradientMode::full && !tr.clamp.get(static_cast<std::size_t>(r), j)) {
        for (std::size_t k = 0; k < N; ++k)
          for (std::size_t d = 1; d <= D; ++d) {
            const long rr = r + static_cast<long>(d);
            if (rr < static_cast<long>(L))
              ds += at(w, k, j, d) * tr.dropout[static_cast<std::size_t>(rr) * N + k] *
                    du[static_cast<std::size_t>(rr) * N + k];
          }
      }
      const bool has_next = r + 1 < static_cast<long>(L) && c.gradient != GradientMode::local;
      const double du_next = has_next ? du[x + N] : 0;
      if (!c.detach_reset) ds += du_next * (c.subtract ? -theta : -beta * u);
      du[x] = surrogate(c.surrogate, alpha, u - theta) * ds + dLdu[x] +
              du_next * (c.subtract ? beta : beta * (1 - s));
    }
  }
  std::vector<double> g(N * N * D, 0);
  for (std::size_t r = 0; r < L; ++r)
    for (std::size_t j = 0; j < N; ++j)
      for (std::size_t i = 0; i < N; ++i)
        for (std::size_t d = 1; d <= D; ++d)
          at(g, j, i, d) += tr.dropout[r * N + j] * du[r * N + j] *
                            ctx(tr, static_cast<long>(r) - static_cast<long>(d), i);
  return g;
}

}  // namespace

TEST_CASE("the engine's forward pass is the dense recurrence, clamps and dropout included",
          "[bptt]") {
  const auto w = weights();
  for (const bool subtract : {true, false}) {
    const Trial tr = engine_trial(
        {SurrogateKind::fast_sigmoid, subtract, GradientMode::full, true, LossKind::soft_f1}, w, 3);
    std::vector<double> u;
    std::vector<int> s;
    dense_forward(tr, w, subtract, u, s);
    std::size_t own = 0;
    for (std::size_t r = 0; r < L; ++r)
      for (std::size_t j = 0; j < N; ++j) {
        INFO("step " << r + 1 << " neuron " << j << (subtract ? " subtract" : " zero"));
        REQUIRE(tr.own.get(r, j) == (s[r * N + j] != 0));
        REQUIRE(std::abs(tr.u[r * N + j] - u[r * N + j]) <= 1e-5 * (1 + std::abs(u[r * N + j])));
        own += s[r * N + j];
      }
    CHECK(own > 20);  // the network is active beyond its cue
  }
}

TEST_CASE("the sparse BPTT gradient equals the dense one", "[bptt]") {
  const auto w = weights();
  const double alpha = 3.0;  // wide enough that the triangle sees many neurons
  std::size_t cases = 0;
  std::vector<double> full_soft, truncated_soft, local_soft;
  for (const auto sg :
       {SurrogateKind::fast_sigmoid, SurrogateKind::arctan, SurrogateKind::triangle})
    for (const bool subtract : {true, false})
      for (const auto mode : {GradientMode::full, GradientMode::truncated, GradientMode::local})
        for (const bool detach : {true, false})
          for (const auto loss : {LossKind::soft_f1, LossKind::bce}) {
            const Case c{sg, subtract, mode, detach, loss};
            const Trial tr = engine_trial(c, w, 2);
            BpttParams p;
            p.beta = 0.7;
            p.theta = 1.0;
            p.reset_subtract = subtract;
            p.surrogate = {sg, alpha};
            p.loss = loss;
            p.pos_weight = kPosWeight;
            p.gradient = mode;
            p.detach_reset = detach;
            // The projection as the engine lays it out, to read W.
            const Connectivity conn(synapses_of(w), N, N, Partitioning(2));
            const std::vector<Trial> batch{tr};
            const LossValue lv = batch_loss(batch, p);
            const std::vector<ErrorTrace> errors{backward(tr, conn, p, lv)};
            const WeightGradient grad(conn, batch, errors);
            const auto sparse = grad.canonical();  // (source, target, delay) order
            const auto dense = dense_gradient(tr, w, c, alpha);
            double scale = 0;
            for (const double g : dense) scale = std::max(scale, std::abs(g));
            INFO("surrogate " << static_cast<int>(sg) << (subtract ? " subtract" : " zero")
                              << " mode " << static_cast<int>(mode)
                              << (detach ? " detached" : " attached")
                              << (loss == LossKind::bce ? " bce" : " soft_f1"));
            if (scale == 0) {
              // Only the triangle's narrow support can leave the local
              // gradient nothing; then the sparse one must be zero too.
              REQUIRE((mode == GradientMode::local && sg == SurrogateKind::triangle));
              for (const double g : sparse) REQUIRE(g == 0);
              ++cases;
              continue;
            }
            std::size_t k = 0;
            double worst = 0;
            for (std::size_t i = 0; i < N; ++i)
              for (std::size_t j = 0; j < N; ++j)
                for (std::size_t d = 1; d <= D; ++d, ++k) {
                  worst = std::max(worst, std::abs(sparse[k] - at(dense, j, i, d)) / scale);
                }
            INFO("surrogate " << static_cast<int>(sg) << (subtract ? " subtract" : " zero")
                              << (mode == GradientMode::full        ? " full"
                                  : mode == GradientMode::truncated ? " truncated"
                                                                    : " local")
                              << (detach ? " detached" : " attached")
                              << (loss == LossKind::bce ? " bce" : " soft_f1"));
            CHECK(worst <= 1e-6);
            // The norm is the norm of the canonical gradient.
            double sq = 0;
            for (const double g : sparse) sq += g * g;
            CHECK(grad.norm() == Approx(std::sqrt(sq)).epsilon(1e-12));
            if (sg == SurrogateKind::fast_sigmoid && subtract && detach &&
                loss == LossKind::soft_f1)
              (mode == GradientMode::full        ? full_soft
               : mode == GradientMode::truncated ? truncated_soft
                                                 : local_soft) = sparse;
            ++cases;
          }
  CHECK(cases == 72);
  // The recurrent term is not zero: the two modes differ.
  REQUIRE(full_soft.size() == truncated_soft.size());
  CHECK(full_soft != truncated_soft);
  // And the membrane's path is not zero: truncated and local differ.
  CHECK(truncated_soft != local_soft);
}

namespace {

// One batch's gradient on the test network, with its projection.
struct Fixture {
  Connectivity conn;
  std::vector<Trial> batch;
  std::vector<ErrorTrace> errors;
  BpttParams p;
};

Fixture fixture() {
  const auto w = weights();
  const Case c{SurrogateKind::fast_sigmoid, true, GradientMode::truncated, true, LossKind::bce};
  Fixture f{Connectivity(synapses_of(w), N, N, Partitioning(2)), {engine_trial(c, w, 2)}, {}, {}};
  f.p.beta = 0.7;
  f.p.theta = 1.0;
  f.p.surrogate = {SurrogateKind::fast_sigmoid, 3.0};
  f.p.loss = LossKind::bce;
  f.p.pos_weight = kPosWeight;
  f.p.gradient = GradientMode::truncated;
  const LossValue lv = batch_loss(f.batch, f.p);
  f.errors.push_back(backward(f.batch[0], f.conn, f.p, lv));
  return f;
}

std::vector<float> canonical_weights(const Connectivity& c) {
  std::vector<float> out;
  for (const auto& r : c.canonical()) out.push_back(r.weight);
  return out;
}

}  // namespace

TEST_CASE("the backward pass over the trial's own membrane trace is the same", "[bptt]") {
  Fixture f = fixture();
  const LossValue lv = batch_loss(f.batch, f.p);
  std::vector<float> u = f.batch[0].u;
  const ErrorTrace in_place = backward(std::move(u), f.batch[0], f.conn, f.p, lv);
  REQUIRE(in_place.e == f.errors[0].e);
  std::vector<float> short_trace(3);
  CHECK_THROWS(backward(std::move(short_trace), f.batch[0], f.conn, f.p, lv));
}

TEST_CASE("AdamW and SGD follow the scalar update, bfloat16 moments track float32 unbiased",
          "[optimizer]") {
  Fixture f = fixture();
  const WeightGradient grad(f.conn, f.batch, f.errors);
  const std::vector<double> g = grad.canonical();  // constant: it does not depend on the weights
  const std::vector<float> w0 = canonical_weights(f.conn);
  const double lr = 1e-3;
  for (const auto kind : {OptimizerParams::Kind::adamw, OptimizerParams::Kind::sgd}) {
    OptimizerParams op;
    op.kind = kind;
    op.weight_decay = kind == OptimizerParams::Kind::adamw ? 0.01 : 0.0;
    Connectivity c = f.conn;
    Optimizer opt(op, c, 2);
    CHECK(opt.state_bytes() == c.size() * (kind == OptimizerParams::Kind::adamw ? 8 : 4));
    // The reference: each synapse on its own, moments stored as float.
    std::vector<float> m(g.size(), 0), v(g.size(), 0), w = w0;
    for (int t = 1; t <= 20; ++t) {
      opt.step(c, grad, lr);
      const double bc1 = 1 - std::pow(op.beta1, t), bc2 = 1 - std::pow(op.beta2, t);
      for (std::size_t k = 0; k < g.size(); ++k) {
        double wk = w[k];
        if (kind == OptimizerParams::Kind::adamw) {
          m[k] = static_cast<float>(op.beta1 * m[k] + (1 - op.beta1) * g[k]);
          v[k] = static_cast<float>(op.beta2 * v[k] + (1 - op.beta2) * g[k] * g[k]);
          wk -= lr * (m[k] / bc1 / (std::sqrt(v[k] / bc2) + op.eps) + op.weight_decay * wk);
        } else {
          m[k] = static_cast<float>(op.momentum * m[k] + g[k]);
          wk -= lr * m[k];
        }
        w[k] = static_cast<float>(wk);
      }
    }
    CHECK(canonical_weights(c) == w);
  }
  // bfloat16 moments, 1000 steps: v then moves by 1e-3 of itself per step,
  // below bfloat16's precision (2^-8), so round-to-nearest freezes it (about
  // step 250) and the weights drift from float32's (measured: by 17% on
  // average, 30% at worst); stochastic rounding is unbiased (measured: 0.06%
  // on average, 2.6% at worst, the noise of single weights).
  OptimizerParams op;
  Connectivity c32 = f.conn, c16 = f.conn;
  Optimizer o32(op, c32, 2);
  op.state = OptimizerParams::State::bfloat16;
  Optimizer o16(op, c16, 2);
  CHECK(o16.state_bytes() * 2 == o32.state_bytes());
  for (int t = 0; t < 1000; ++t) {
    o32.step(c32, grad, lr);
    o16.step(c16, grad, lr);
  }
  const auto w32 = canonical_weights(c32), w16 = canonical_weights(c16);
  double worst = 0;
  std::size_t moved = 0;
  for (std::size_t k = 0; k < w0.size(); ++k) {
    const double d32 = w32[k] - w0[k], d16 = w16[k] - w0[k];
    if (std::abs(d32) < 1e-6) continue;  // no gradient
    ++moved;
    worst = std::max(worst, std::abs(d16 - d32) / std::abs(d32));
  }
  REQUIRE(moved > 100);
  double mean = 0;
  for (std::size_t k = 0; k < w0.size(); ++k) {
    const double d32 = w32[k] - w0[k], d16 = w16[k] - w0[k];
    if (std::abs(d32) >= 1e-6) mean += (d16 - d32) / d32 / moved;
  }
  CHECK(std::abs(mean) < 0.005);
  CHECK(worst < 0.05);
  // The random bits are keyed by (seed, step, source, target, delay), not drawn in
  // thread or block order: the same weights with the work in 3 partitions.
  Connectivity three(synapses_of(weights()), N, N, Partitioning(3));
  const WeightGradient grad3(three, f.batch, f.errors);
  Optimizer o16b(op, three, 3);
  for (int t = 0; t < 1000; ++t) o16b.step(three, grad3, lr);
  CHECK(canonical_weights(three) == w16);
  // The norm (which the clipping scales by) is the same bit for bit, though
  // each partition holds a different share of every source's synapses.
  for (const unsigned parts : {1u, 2u, 5u}) {
    Connectivity other(synapses_of(weights()), N, N, Partitioning(parts));
    INFO(parts << " partitions");
    CHECK(WeightGradient(other, f.batch, f.errors).norm() == grad3.norm());
  }
}
