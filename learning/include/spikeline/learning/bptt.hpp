// Surrogate-gradient backpropagation through time (BPTT) on recorded traces.
//
// The network: a population of lif_discrete neurons (neurons/lif_discrete.hpp)
// with a recurrent projection of any connectivity, one delay or many per pair
// (a multi-tap all-to-all projection holds the weight tensor W[j][i][d]):
//
//   u_j(t) = beta u_j(t-1) + I_j(t) - theta s_j(t-1)          reset "subtract"
//   u_j(t) = beta u_j(t-1) (1 - s_j(t-1)) + I_j(t)            reset "zero"
//   I_j(t) = m_j(t) sum over synapses (i -> j, delay d) of w c_i(t - d)
//   s_j(t) = [u_j(t) > theta],   c_i(t) = s_i(t) OR x_i(t)
//
// x is a spike clamp (Simulator::clamp: a cue, a teacher signal), m the input
// dropout scale (Simulator::set_input_dropout; 1 without dropout). The
// forward pass is an ordinary run of the simulator, which records, per trial,
// the neurons' own spikes s (as bit sets), their membrane potentials u and
// the clamp x (Trial below); the backward pass works on those traces. In it
// the derivative of the spike, ds/du, is replaced by a surrogate sigma'(u -
// theta) (Neftci et al. 2019):
//
//   fast_sigmoid  1 / (alpha |x| + 1)^2                  (Zenke & Ganguli 2018)
//   arctan        1 / (1 + (pi alpha x / 2)^2)            (Fang et al. 2021)
//   triangle      max(0, 1 - alpha |x|)                   (Esser et al. 2016)
//
// (x = u - theta; each equals 1 at threshold; alpha sets the width.) With
// delta_u(t) = dL/du(t) and e(t) = m(t) delta_u(t), going back in time:
//
//   delta_s_j(t) = dL/ds_j(t)                                   the loss
//                + (1 - x_j(t)) sum over synapses (j -> k, d) of w e_k(t + d)
//                                                               through the recurrent spikes
//                + delta_u_j(t+1) du_j(t+1)/ds_j(t)             through the reset
//   delta_u_j(t) = sigma'_j(t) delta_s_j(t) + delta_u_j(t+1) du_j(t+1)/du_j(t)
//   dL/dw(i -> j, d) = sum over t of e_j(t) c_i(t - d)
//
// with du(t+1)/du(t) = beta ("subtract") or beta (1 - s(t)) ("zero"), and
// du(t+1)/ds(t) = -theta or -beta u(t). The reset term is detached by default
// (as common libraries do: detach_reset). Gradient modes:
//   full       the gradient flows through the recurrent spikes (exact BPTT of
//              the surrogate model); the recurrent term is computed only
//              where sigma' is not zero, which with the triangle surrogate is
//              near threshold only;
//   truncated  the recurrent spikes are treated as inputs: the gradient flows
//              through each neuron's membrane over the whole trial, not from
//              one neuron's spike to another's input (cheap: no sum over
//              outgoing synapses);
//   local      neither: delta_u_j(t) = sigma'_j(t) delta_s_j(t) (+ the bce
//              term), each step's error reaching that step's input only. Not
//              the gradient of the loss, but a Hebbian-like direction that,
//              with teacher forcing, raises exactly the wanted spikes'
//              contexts: through the membrane every context before a wanted
//              spike is raised too (by beta^k), and AdamW, which takes a
//              full step on any non-zero gradient, then raises all weights
//              together until every neuron fires (docs/training.md).
//
// Cost. Nothing is dense in the number of synapses per step: the weight
// gradient is a sum over the active context entries (c_i(t - d) = 1) only,
// computed synapse by synapse when the optimizer needs it (no gradient array
// is stored), and the truncated backward pass is O(neurons) per step. The
// full mode adds, per step, the outgoing synapses of each neuron whose
// sigma' is not zero. Memory per trial: u and e (4 bytes per neuron and step
// each) and three bit sets; per synapse, only the optimizer's state.
//
// Losses, over each trial's scored steps [score_begin, score_end) and all
// neurons, with targets y:
//   soft_f1  1 - soft F1, pooled over the batch: with p = s (spikes forward,
//            the surrogate backward), TP = sum p y, F1 = 2 TP / (sum p + sum y);
//            dL/ds = -2 (y S - TP) / S^2 with S = sum p + sum y; 0 when S = 0
//   bce      binary cross-entropy of q = logistic(alpha (u - theta)) against y,
//            averaged over the batch's scored entries (a direct dL/du); each
//            wanted spike's term weighted by pos_weight (as PyTorch's
//            BCEWithLogitsLoss), which balances a sparse target: about
//            (1 - p) / p for spike probability p
//
// References
//   Werbos PJ (1990) Backpropagation through time. Proc IEEE 78:1550.
//   Neftci EO, Mostafa H, Zenke F (2019) IEEE Signal Process Mag 36:51.
//   Zenke F, Ganguli S (2018) SuperSpike. Neural Comput 30:1514.
//   Fang W et al. (2021) Incorporating learnable membrane time constant. ICCV.
//   Esser SK et al. (2016) Convolutional networks for fast, energy-efficient
//   neuromorphic computing. PNAS 113:11441.
//   Perrinet L (2026) Working memory in a recurrent spiking neural network with
//   heterogeneous synaptic delays. arXiv:2604.14096.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "spikeline/engine/connectivity.hpp"
#include "spikeline/engine/params.hpp"

namespace spikeline::learning {

// A steps x neurons matrix of bits (spike rasters).
class BitRaster {
 public:
  BitRaster() = default;
  BitRaster(std::size_t steps, std::size_t neurons)
      : steps_(steps), neurons_(neurons), words_((neurons + 63) / 64), bits_(steps * words_, 0) {}
  std::size_t steps() const { return steps_; }
  std::size_t neurons() const { return neurons_; }
  bool get(std::size_t t, std::size_t j) const {
    return (bits_[t * words_ + j / 64] >> (j % 64)) & 1;
  }
  void set(std::size_t t, std::size_t j) {
    bits_[t * words_ + j / 64] |= std::uint64_t{1} << (j % 64);
  }
  void reset(std::size_t t, std::size_t j) {
    bits_[t * words_ + j / 64] &= ~(std::uint64_t{1} << (j % 64));
  }
  // The set bits of row t, in order.
  template <class F>
  void for_each_in_row(std::size_t t, F&& f) const {
    const std::uint64_t* w = bits_.data() + t * words_;
    for (std::size_t k = 0; k < words_; ++k) {
      for (std::uint64_t b = w[k]; b != 0; b &= b - 1)
        f(k * 64 + static_cast<std::size_t>(__builtin_ctzll(b)));
    }
  }
  std::size_t count() const;
  std::size_t bytes() const { return bits_.size() * sizeof(std::uint64_t); }

 private:
  std::size_t steps_ = 0, neurons_ = 0, words_ = 0;
  std::vector<std::uint64_t> bits_;
};

enum class SurrogateKind { fast_sigmoid, arctan, triangle };
enum class LossKind { soft_f1, bce };
enum class GradientMode { full, truncated, local };

struct Surrogate {
  SurrogateKind kind = SurrogateKind::fast_sigmoid;
  double alpha = 15;
  // sigma'(x), x = u - theta.
  double derivative(double x) const;
};

// What the backward pass needs to know: the neuron model's constants and the
// rule's choices. Validates itself; `item` names it in messages.
struct BpttParams {
  double beta = 0.7, theta = 1.0;
  bool reset_subtract = true;
  Surrogate surrogate;
  LossKind loss = LossKind::soft_f1;
  double pos_weight = 1;  // bce: weight of the y = 1 terms
  GradientMode gradient = GradientMode::truncated;
  bool detach_reset = true;

  BpttParams() = default;
  // The rule's choices from a parameter table: surrogate ("fast_sigmoid",
  // "arctan", "triangle"), alpha (> 0), loss ("soft_f1", "bce"), pos_weight
  // (> 0, bce only), gradient
  // ("full", "truncated", "local"), reset_gradient ("detached", "attached"). The
  // neuron's constants (beta, theta, reset) are the caller's to set: they
  // come from the population's model.
  explicit BpttParams(const ParamMap& training);
};

// One trial of the forward pass, steps 1 .. steps (row t-1 holds step t),
// for a population of `neurons`; the context before the first step is empty.
struct Trial {
  BitRaster own;               // s: the neurons' own spikes
  BitRaster clamp;             // x: clamped spikes
  BitRaster target;            // y: wanted spikes (read on scored steps only)
  std::vector<float> u;        // steps x neurons: the membrane after each step's update
  std::vector<float> dropout;  // steps x neurons scales, or empty (none)
  std::size_t score_begin = 0, score_end = 0;  // scored rows [begin, end)

  std::size_t steps() const { return own.steps(); }
  std::size_t neurons() const { return own.neurons(); }
  bool context(std::size_t row, std::size_t j) const {
    return own.get(row, j) || clamp.get(row, j);
  }
};

// The loss of a batch, with the counts soft F1 pools.
struct LossValue {
  double loss = 0;
  double tp = 0, predicted = 0, wanted = 0;  // sum p y, sum p, sum y (scored rows)
  double entries = 0;                        // scored (step, neuron) entries
  double f1() const { return predicted + wanted > 0 ? 2 * tp / (predicted + wanted) : 1.0; }
};

LossValue batch_loss(std::span<const Trial> batch, const BpttParams& params);

// e = m * dL/du of one trial, (steps + max_delay + 1) x neurons, zero past
// the last step (so that e(t + d) can be read without a bound check).
struct ErrorTrace {
  std::size_t steps = 0, neurons = 0;
  std::vector<float> e;
  const float* row(std::size_t t) const { return e.data() + t * neurons; }
};

// The backward pass of one trial through `projection` (the recurrent
// synapses of the population; read only in the full mode), with the batch's
// loss (soft F1 pools over it).
ErrorTrace backward(const Trial& trial, const Connectivity& projection, const BpttParams& params,
                    const LossValue& batch);
// The same, taking the trial's membrane trace (trial.u, moved out): the error
// is written over it, so a batch holds 4 bytes per neuron and step, not 8.
// Reserve max_delay() + 1 rows beyond the trial in it to avoid a copy.
ErrorTrace backward(std::vector<float>&& u, const Trial& trial, const Connectivity& projection,
                    const BpttParams& params, const LossValue& batch);

// dL/dw of every synapse of a projection, summed over a batch: computed
// synapse by synapse from the trials' context and error traces, when asked.
class WeightGradient {
 public:
  WeightGradient(const Connectivity& projection, std::span<const Trial> batch,
                 std::span<const ErrorTrace> errors);
  // The synapses of `source` in block `part` are the indices [first, last)
  // of synapse_range(); writes their gradients to out[0 .. last - first).
  void source_gradient(unsigned part, NeuronIndex source, std::span<double> out) const;
  static std::pair<std::uint32_t, std::uint32_t> synapse_range(const SynapseBlock& block,
                                                               NeuronIndex source);
  // The Euclidean norm over all synapses, its squares summed exactly: the
  // same whatever the partitioning and the threads.
  double norm() const;
  // Every synapse's gradient in canonical order (tests, diagnostics).
  std::vector<double> canonical() const;
  const Connectivity& projection() const { return c_; }

 private:
  const Connectivity& c_;
  std::span<const Trial> batch_;
  std::span<const ErrorTrace> errors_;
  // Per trial and source: the rows where the source is active in the context.
  std::vector<std::vector<std::vector<std::uint32_t>>> active_;
};

// Learning-rate schedule: linear warm-up to lr, then cosine decay to lr_min
// at step `total` (Loshchilov & Hutter 2017); constant when `cosine` is off.
struct LrSchedule {
  double lr = 1e-3, lr_min = 0;
  std::size_t warmup = 0, total = 1;
  bool cosine = true;
  double at(std::size_t step) const;
  void check(const std::string& item) const;
};

// SGD with momentum, or AdamW (Loshchilov & Hutter 2019), with gradient
// clipping by global norm; its state is kept per synapse, laid out like the
// projection's blocks.
struct OptimizerParams {
  enum class Kind { sgd, adamw } kind = Kind::adamw;
  double momentum = 0.9;                          // sgd
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adamw
  double weight_decay = 0;                        // adamw: decoupled
  double clip_norm = 0;                           // 0: no clipping
  double w_min = -1e30, w_max = 1e30;             // weights kept in [w_min, w_max]
  // How the moments are stored: float32, or bfloat16 (2 bytes each, half the
  // optimizer's memory) with stochastic rounding keyed by (seed, step,
  // source, target, delay): unbiased, so that updates far below a moment's
  // precision still add up on average (round-to-nearest drops them: v moves
  // by 1 - beta2 = 1e-3 of itself per step, below bfloat16's 2^-8), and the
  // same at any thread or partition count.
  enum class State { float32, bfloat16 } state = State::float32;
  // ConfigError naming `item` and the bad value when a value is out of range.
  void check(const std::string& item) const;
};

class Optimizer {
 public:
  // seed: keys bfloat16's rounding bits (with the step and the synapse).
  Optimizer(const OptimizerParams& params, const Connectivity& projection, unsigned parts,
            std::uint64_t seed = 0);
  // One step with learning rate lr: returns the gradient norm before clipping.
  double step(Connectivity& projection, const WeightGradient& gradient, double lr);
  std::size_t steps() const { return t_; }
  std::size_t state_bytes() const;

 private:
  OptimizerParams p_;
  std::vector<std::vector<float>> m_, v_;              // per partition, per synapse (float32)
  std::vector<std::vector<std::uint16_t>> m16_, v16_;  // or these (bfloat16)
  std::uint64_t seed_ = 0;
  std::size_t t_ = 0;
};

}  // namespace spikeline::learning
