#include "spikeline/app/train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include "spikeline/engine/random.hpp"
#include "spikeline/engine/simulator.hpp"
#include "spikeline/engine/state_archive.hpp"
#include "spikeline/io/build.hpp"
#include "spikeline/io/dataset_file.hpp"
#include "spikeline/io/json_writer.hpp"
#include "spikeline/io/output_files.hpp"
#include "spikeline/io/sonata_writer.hpp"
#include "spikeline/learning/bptt.hpp"
#include "spikeline/neurons/lif_discrete.hpp"

namespace spikeline::app {

// What this application drives: the config, the network builder and the formats.
using io::build_network;
using io::BuiltNetwork;
using io::Config;
using io::OutputLayout;
using io::RunStatus;
using io::SonataWriter;
using io::write_edges;

namespace {

using Clock = std::chrono::steady_clock;
using learning::BitRaster;
using learning::Trial;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::size_t whole(const ParamMap& p, const std::string& key, double fallback, double min,
                  double max) {
  const double v = p.number(key, fallback);
  if (!(v >= min && v <= max) || v != std::floor(v)) {
    throw ConfigError(
        fmt::format("{} = {} is invalid: a whole number from {} to {}", p.item(key), v, min, max));
  }
  return static_cast<std::size_t>(v);
}

std::string one_of(const ParamMap& p, const std::string& key, const std::string& fallback,
                   const std::vector<std::string>& valid) {
  const std::string v = p.text(key, fallback);
  if (std::find(valid.begin(), valid.end(), v) == valid.end()) {
    throw ConfigError(fmt::format("{} = '{}' is invalid{}; valid: {}", p.item(key), v,
                                  did_you_mean(v, valid), fmt::join(valid, ", ")));
  }
  return v;
}

// ---- the task ----

// The longest patterns and backgrounds, in steps.
constexpr double kMaxSteps = 1e7;

struct TaskSpec {
  std::string population, projection;
  std::size_t patterns = 16, length = 1000, background = 50, cue = 0;
  double p_active = 0.001;
  std::uint64_t seed = 1;
  std::string file;
};

TaskSpec read_task(const Config& c) {
  const ParamMap& p = c.task;
  p.check_keys({"kind", "population", "projection", "patterns", "length", "p_active", "seed",
                "file", "background", "cue"});
  one_of(p, "kind", "working_memory", {"working_memory"});
  TaskSpec t;
  t.population = p.text("population", c.populations.empty() ? "" : c.populations[0].name);
  t.projection = p.text("projection", c.projections.empty() ? "" : c.projections[0].name);
  t.patterns = whole(p, "patterns", 16, 1, 1e6);
  t.length = whole(p, "length", 1000, 2, kMaxSteps);
  t.background = whole(p, "background", 50, 0, kMaxSteps);
  t.cue = whole(p, "cue", 0, 0, kMaxSteps);  // 0: the projection's longest delay
  t.p_active = p.number("p_active", 0.001);
  check_range(t.p_active, 0.0, 1.0, p.item("p_active"), "");
  t.seed = whole(p, "seed", static_cast<double>(c.simulation.seed), 0, 9.007e15);
  t.file = p.text("file", "");
  if (t.file.empty() && t.p_active == 0) {
    // With a file, p_active is the background's density only, and 0 is fine.
    throw ConfigError(fmt::format(
        "{} = 0 is invalid: the patterns would be empty, and F1 with nothing to recall is "
        "undefined; valid: (0, 1]",
        p.item("p_active")));
  }
  return t;
}

// M patterns, T x N bits each: Bernoulli(p) from the task's seed, one random
// stream per pattern (geometric jumps between set bits).
std::vector<BitRaster> make_patterns(const TaskSpec& t, std::size_t n) {
  std::vector<BitRaster> out;
  for (std::size_t m = 0; m < t.patterns; ++m) {
    BitRaster b(t.length, n);
    if (t.p_active > 0) {
      RandomStream rng(t.seed, stream_id(StreamKind::user, 1), static_cast<std::uint32_t>(m));
      const std::uint64_t total = static_cast<std::uint64_t>(t.length) * n;
      for (std::uint64_t pos = rng.geometric(t.p_active); pos < total;
           pos += 1 + rng.geometric(t.p_active)) {
        b.set(pos / n, pos % n);
      }
    }
    out.push_back(std::move(b));
  }
  return out;
}

// Patterns from an HDF5 file: dataset /patterns, uint8 [M][T][N] of 0/1.
std::vector<BitRaster> read_patterns(const std::string& path, std::size_t n, TaskSpec& t) {
  std::optional<io::DatasetFile> file;
  try {
    file.emplace(path, io::DatasetFile::Mode::read);
  } catch (const Error& e) {  // 66 missing or not a file, 65 not HDF5
    throw Error(e.code(), fmt::format("[task] file: {}", e.what()));
  }
  std::vector<std::uint64_t> dims;
  std::vector<std::uint8_t> bits;
  try {
    bits = file->read_bytes("patterns", 3, dims, io::DatasetFile::Stored::integer);
  } catch (const DataError& e) {
    throw DataError(fmt::format(
        "[task] file: {} (/patterns must be integers [patterns][steps][neurons] of 0 and 1, e.g. "
        "uint8 or bool)",
        e.what()));
  }
  if (dims[2] != n) {
    throw DataError(fmt::format("{}: /patterns has {} neurons, population '{}' has {}", path,
                                dims[2], t.population, n));
  }
  t.patterns = dims[0];
  t.length = dims[1];
  std::vector<BitRaster> out;
  for (std::size_t m = 0; m < dims[0]; ++m) {
    BitRaster b(dims[1], n);
    for (std::size_t s = 0; s < dims[1]; ++s)
      for (std::size_t j = 0; j < n; ++j) {
        const std::uint8_t v = bits[(m * dims[1] + s) * n + j];
        if (v > 1) {
          throw DataError(fmt::format("{}: /patterns[{}][{}][{}] = {}: entries must be 0 or 1",
                                      path, m, s, j, v));
        }
        if (v) b.set(s, j);
      }
    out.push_back(std::move(b));
  }
  return out;
}

// Refuses a pattern set that cannot be trained or scored: no pattern at all,
// or patterns no longer than the cue (D steps), which leave no free-running
// step to score. Patterns from a file are bad data (65) naming the file;
// [task] keys are a config error (78) naming the key.
void check_pattern_shape(const TaskSpec& t, std::size_t D, std::size_t patterns) {
  const std::string cue = t.cue ? fmt::format("[task] cue = {} steps", D)
                                : fmt::format(
                                      "{} steps, the longest delay of projection '{}'; "
                                      "[task] cue sets another",
                                      D, t.projection);
  if (!t.file.empty()) {
    if (patterns == 0) {
      throw DataError(
          fmt::format("[task] file: {}: /patterns holds 0 patterns: at least 1 is needed", t.file));
    }
    if (t.length <= D) {
      throw DataError(
          fmt::format("[task] file: {}: /patterns has {} steps per pattern, not longer than the "
                      "cue ({}): nothing would be left to recall; valid: at least {} steps",
                      t.file, t.length, cue, D + 1));
    }
    return;
  }
  if (t.cue && D >= t.length) {
    throw ConfigError(
        fmt::format("[task] cue = {} steps must be at least 1 and shorter than the "
                    "patterns ({} steps): valid 1 to {}",
                    D, t.length, t.length - 1));
  }
  if (t.length <= D) {
    throw ConfigError(
        fmt::format("[task] length = {} is invalid: the patterns must be longer than the cue "
                    "({}); valid: a whole number from {} to {}",
                    t.length, cue, D + 1, kMaxSteps));
  }
}

// Refuses a pattern with no active entry in its free-running steps D .. T-1,
// the part recall is scored on: F1 with nothing to recall is undefined (the
// score would call any silent network perfect). Names the pattern, and the
// file (65) or the [task] keys of the draw (78).
void check_patterns_active(const TaskSpec& t, std::size_t D,
                           const std::vector<BitRaster>& patterns) {
  for (std::size_t m = 0; m < patterns.size(); ++m) {
    bool active = false;
    for (std::size_t s = D; s < patterns[m].steps() && !active; ++s)
      patterns[m].for_each_in_row(s, [&](std::size_t) { active = true; });
    if (active) continue;
    const std::string what = fmt::format(
        "has no active entry in its free-running steps {} .. {}, the part recall is scored on: "
        "F1 with nothing to recall is undefined",
        D, t.length - 1);
    if (!t.file.empty()) {
      throw DataError(fmt::format(
          "[task] file: {}: /patterns[{}] {}; every pattern needs a 1 there", t.file, m, what));
    }
    throw ConfigError(
        fmt::format("[task] p_active = {} (seed {}, {} neurons): pattern {} {}; raise p_active "
                    "or length, or draw another seed",
                    t.p_active, t.seed, patterns[m].neurons(), m, what));
  }
}

// ---- training and evaluation settings ----

struct TrainingSpec {
  std::string init = "hebbian";
  double init_gain = 1.5, init_scale = 1.0, init_std = 0.01;
  std::size_t steps = 0, batch = 0, eval_every = 0;
  bool teacher = true;  // clamp the whole pattern (else the cue only)
  double dropout = 0, target_f1 = 0;
  // Robustness training (corrupt_plan): each clamped pattern bit redrawn
  // with this probability; the first pattern step trained (the Trainer sets
  // it: the cue's length D unless given).
  double context_flip = 0;
  std::size_t target_from = 0;
  double target_from_given = 0;  // as written, when given: checked once D is known
  std::string target_from_item;
  learning::BpttParams bptt;
  learning::OptimizerParams optimizer;
  learning::LrSchedule schedule;
};

TrainingSpec read_training(const Config& c, const LifDiscreteParams& neuron) {
  const ParamMap& p = c.training;
  p.check_keys({"init",         "init_gain",       "init_scale",   "init_std",
                "steps",        "batch",           "clamp",        "optimizer",
                "lr",           "lr_min",          "warmup",       "schedule",
                "momentum",     "beta1",           "beta2",        "eps",
                "weight_decay", "clip_norm",       "w_min",        "w_max",
                "dropout",      "surrogate",       "alpha",        "loss",
                "gradient",     "reset_gradient",  "eval_every",   "target_f1",
                "pos_weight",   "optimizer_state", "context_flip", "target_from"});
  TrainingSpec t;
  t.init = one_of(p, "init", "hebbian", {"hebbian", "mean_hebbian", "random", "zero", "config"});
  t.init_gain = p.number("init_gain", 1.5);
  check_finite(t.init_gain, p.item("init_gain"), "");
  t.init_scale = p.number("init_scale", 1.0);
  check_finite(t.init_scale, p.item("init_scale"), "");
  t.init_std = p.number("init_std", 0.01);
  check_nonnegative(t.init_std, p.item("init_std"), "");
  t.steps = whole(p, "steps", 0, 0, 1e9);
  t.batch = whole(p, "batch", 0, 0, 1e9);
  t.eval_every = whole(p, "eval_every", 0, 0, 1e9);
  t.teacher = one_of(p, "clamp", "pattern", {"pattern", "cue"}) == "pattern";
  t.dropout = p.number("dropout", 0.0);
  if (!(t.dropout >= 0 && t.dropout < 1)) {
    throw ConfigError(fmt::format("{} = {} is out of range [0, 1)", p.item("dropout"), t.dropout));
  }
  t.target_f1 = p.number("target_f1", 0.0);
  check_range(t.target_f1, 0.0, 1.0, p.item("target_f1"), "");
  t.context_flip = p.number("context_flip", 0.0);
  if (!(t.context_flip >= 0 && t.context_flip < 1)) {
    throw ConfigError(fmt::format("{} = {} is out of range: valid is [0, 1)",
                                  p.item("context_flip"), t.context_flip));
  }
  // 1 .. D, checked once D is known (Trainer).
  t.target_from_item = p.item("target_from");
  if (p.has("target_from")) {
    t.target_from_given = p.number("target_from", 0);
    check_finite(t.target_from_given, t.target_from_item, "");
  }
  t.bptt = learning::BpttParams(p);
  t.bptt.beta = neuron.beta;
  t.bptt.theta = neuron.theta;
  t.bptt.reset_subtract = neuron.reset == LifDiscrete::subtract;
  auto& o = t.optimizer;
  o.kind = one_of(p, "optimizer", "adamw", {"adamw", "sgd"}) == "sgd"
               ? learning::OptimizerParams::Kind::sgd
               : learning::OptimizerParams::Kind::adamw;
  o.momentum = p.number("momentum", o.momentum);
  o.beta1 = p.number("beta1", o.beta1);
  o.beta2 = p.number("beta2", o.beta2);
  o.eps = p.number("eps", o.eps);
  o.weight_decay = p.number("weight_decay", 0.0);
  o.clip_norm = p.number("clip_norm", 0.0);
  o.w_min = p.number("w_min", o.w_min);
  o.w_max = p.number("w_max", o.w_max);
  o.state = one_of(p, "optimizer_state", "float32", {"float32", "bfloat16"}) == "bfloat16"
                ? learning::OptimizerParams::State::bfloat16
                : learning::OptimizerParams::State::float32;
  o.check("[training]");
  auto& s = t.schedule;
  s.lr = p.number("lr", 3e-3);
  s.lr_min = p.number("lr_min", 0.0);
  s.warmup = whole(p, "warmup", 0, 0, 1e9);
  s.cosine = one_of(p, "schedule", "cosine", {"cosine", "constant"}) == "cosine";
  s.total = std::max<std::size_t>(t.steps, 1);
  s.check("[training]");
  return t;
}

struct EvalSpec {
  std::vector<double> p_flip, cue_steps, silenced;
  bool sequential = true;
  std::size_t window = 100;
  std::uint64_t seed = 1;
};

EvalSpec read_evaluation(const Config& c) {
  const ParamMap& p = c.evaluation;
  p.check_keys({"p_flip", "cue_steps", "silenced", "sequential", "window", "seed"});
  EvalSpec e;
  e.p_flip = p.list("p_flip");
  for (const double v : e.p_flip) check_range(v, 0.0, 1.0, p.item("p_flip"), "");
  e.cue_steps = p.list("cue_steps");
  e.silenced = p.list("silenced");
  e.sequential = one_of(p, "sequential", "yes", {"yes", "no"}) == "yes";
  e.window = whole(p, "window", 100, 1, 1e9);
  e.seed = whole(p, "seed", static_cast<double>(c.simulation.seed), 0, 9.007e15);
  return e;
}

// ---- trials ----

// What a trial clamps and scores, rows = steps 1 .. L.
struct Plan {
  BitRaster clamp, target;
  std::size_t score_begin = 0, score_end = 0;
};

// A cue perturbation (robustness evaluation).
struct Perturbation {
  double p_flip = 0;                    // each cue bit replaced by a fresh Bernoulli(p_A) draw
  std::size_t cue = 0;                  // clamp only the first `cue` steps (0: all D)
  std::vector<std::uint32_t> silenced;  // neurons left out of the cue
};

// Background input: each neuron of `row` a Bernoulli(p) draw.
void background_row(BitRaster& clamp, std::size_t row, double p, RandomStream& rng) {
  if (p <= 0) return;
  const std::size_t n = clamp.neurons();
  for (std::uint64_t j = rng.geometric(p); j < n; j += 1 + rng.geometric(p)) clamp.set(row, j);
}

// Background, pattern (cue clamped, or all of it), background. `rng` draws
// the background and the perturbations.
Plan plan_trial(const BitRaster& pattern, const TaskSpec& t, std::size_t D, bool teacher,
                const Perturbation& pert, RandomStream& rng) {
  const std::size_t n = pattern.neurons(), T = pattern.steps(), B = t.background;
  const std::size_t L = 2 * B + T;
  Plan p{BitRaster(L, n), BitRaster(L, n), B + D, B + T};
  auto bernoulli_row = [&](std::size_t row) { background_row(p.clamp, row, t.p_active, rng); };
  for (std::size_t r = 0; r < B; ++r) bernoulli_row(r);
  for (std::size_t r = B + T; r < L; ++r) bernoulli_row(r);
  const std::size_t cue = pert.cue ? std::min(pert.cue, D) : D;
  std::vector<std::uint8_t> silent(n, 0);
  for (const auto j : pert.silenced) silent[j] = 1;
  for (std::size_t s = 0; s < T; ++s) {
    const bool in_cue = s < cue;
    if (!(teacher || in_cue)) continue;
    if (in_cue && pert.p_flip > 0) {
      // Each cue bit, with probability p_flip, is a fresh Bernoulli(p_A) draw.
      for (std::size_t j = 0; j < n; ++j) {
        const bool bit =
            rng.uniform() < pert.p_flip ? rng.uniform() < t.p_active : pattern.get(s, j);
        if (bit && !silent[j]) p.clamp.set(B + s, j);
      }
      continue;
    }
    pattern.for_each_in_row(s, [&](std::size_t j) {
      if (!(in_cue && silent[j])) p.clamp.set(B + s, j);
    });
  }
  for (std::size_t s = D; s < T; ++s)
    pattern.for_each_in_row(s, [&](std::size_t j) { p.target.set(B + s, j); });
  return p;
}

// Robustness training ([training] context_flip, target_from): the plan of a
// training trial with its clamped pattern bits corrupted as the evaluation's
// p_flip corrupts a cue (each bit, with probability `flip`, replaced by a
// fresh Bernoulli(p_A) draw), on every clamped step, while the target stays
// the clean pattern; and the target extended back to pattern step `from`
// (< D), so that the steps of the cue are learned from the contexts that
// precede them (background, then the cue's first steps): a cut cue is then
// completed by the network itself. `rng` is the trial's own stream, keyed by
// (seed, pattern, step), so the draws do not depend on threads or on the
// other trials of the batch.
void corrupt_plan(Plan& p, const BitRaster& pattern, const TaskSpec& t, std::size_t D, bool teacher,
                  double flip, std::size_t from, RandomStream& rng) {
  const std::size_t n = pattern.neurons(), B = t.background;
  const std::size_t clamped = teacher ? pattern.steps() : D;
  // A bit is set after a redraw with probability p_A: an active bit is lost
  // with probability flip (1 - p_A), an inactive one set with flip p_A.
  const double lose = flip * (1 - t.p_active), gain = flip * t.p_active;
  if (flip > 0) {
    for (std::size_t s = 0; s < clamped; ++s) {
      pattern.for_each_in_row(s, [&](std::size_t j) {
        if (rng.uniform() < lose) p.clamp.reset(B + s, j);
      });
      if (gain <= 0) continue;
      for (std::uint64_t j = rng.geometric(gain); j < n; j += 1 + rng.geometric(gain))
        if (!pattern.get(s, j)) p.clamp.set(B + s, j);
    }
  }
  if (from < D) {
    for (std::size_t s = from; s < D; ++s)
      pattern.for_each_in_row(s, [&](std::size_t j) { p.target.set(B + s, j); });
    p.score_begin = B + from;
  }
}

// Sequential retrieval: background, then for each pattern in turn its cue
// (clamped) and free run, each followed by background. Scored rows: every
// pattern's free run; `starts` receives each pattern's first row.
Plan plan_sequence(const std::vector<BitRaster>& patterns, const TaskSpec& t, std::size_t D,
                   RandomStream& rng, std::vector<std::size_t>& starts) {
  const std::size_t n = patterns.front().neurons(), T = t.length, B = t.background;
  const std::size_t L = B + patterns.size() * (T + B);
  Plan p{BitRaster(L, n), BitRaster(L, n), 0, L};
  auto bernoulli_row = [&](std::size_t row) { background_row(p.clamp, row, t.p_active, rng); };
  starts.clear();
  for (std::size_t r = 0; r < B; ++r) bernoulli_row(r);
  for (std::size_t m = 0; m < patterns.size(); ++m) {
    const std::size_t o = B + m * (T + B);
    starts.push_back(o);
    for (std::size_t s = 0; s < D; ++s)
      patterns[m].for_each_in_row(s, [&](std::size_t j) { p.clamp.set(o + s, j); });
    for (std::size_t s = D; s < T; ++s)
      patterns[m].for_each_in_row(s, [&](std::size_t j) { p.target.set(o + s, j); });
    for (std::size_t r = o + T; r < o + T + B; ++r) bernoulli_row(r);
  }
  return p;
}

// Runs trials on the simulator from its initial state, recording what the
// backward pass needs (probe 0: u and s of every neuron at every step).
class TrialRunner : public SimulationObserver {
 public:
  // pad_rows: rows of u reserved beyond the trial, so that the backward pass
  // writes its error over u without reallocating (learning::backward).
  TrialRunner(Simulator& sim, std::uint32_t population, std::size_t probe, std::size_t pad_rows)
      : sim_(sim),
        pop_(population),
        probe_(probe),
        n_(sim.network().populations()[population].population->size()),
        pad_rows_(pad_rows) {
    sim_.checkpoint(initial_);
    initial_.set_loading(true);
  }

  Trial run(const Plan& plan, double dropout, std::uint64_t key) {
    Trial tr;
    run(plan, dropout, key, tr);
    return tr;
  }

  // Runs a trial into `tr`, reusing its buffers (a training batch keeps its
  // trials from step to step instead of allocating megabytes per trial).
  void run(const Plan& plan, double dropout, std::uint64_t key, Trial& tr) {
    const std::size_t L = plan.clamp.steps();
    sim_.checkpoint(initial_);  // back to step 0, nothing in flight
    for (std::size_t r = 0; r < L; ++r) {
      plan.clamp.for_each_in_row(r, [&](std::size_t j) {
        sim_.clamp(pop_, static_cast<Step>(r + 1), static_cast<NeuronIndex>(j));
      });
    }
    sim_.set_input_dropout(pop_, dropout, key);
    tr.own = BitRaster(L, n_);
    tr.clamp = plan.clamp;
    tr.target = plan.target;
    tr.score_begin = plan.score_begin;
    tr.score_end = plan.score_end;
    tr.u.reserve((L + pad_rows_) * n_);
    tr.u.resize(L * n_);  // every row is written below
    tr.dropout.resize(dropout > 0 ? L * n_ : 0);
    trial_ = &tr;
    row_ = 0;
    sim_.run_until(static_cast<Step>(L), *this);
    trial_ = nullptr;
    if (row_ != L) throw Error(ExitCode::software, "train: a trial recorded too few steps");
    if (dropout > 0) {
      for (std::size_t r = 0; r < L; ++r) {
        input_dropout_scales(sim_.network().seed(), pop_, key, static_cast<Step>(r + 1), 0, n_,
                             dropout, tr.dropout.data() + r * n_);
      }
    }
  }

  void on_frames(std::size_t probe, std::span<const float> frames) override {
    if (probe != probe_) return;
    const std::size_t rows = frames.size() / (2 * n_);
    for (std::size_t k = 0; k < rows; ++k, ++row_) {
      const float* f = frames.data() + k * 2 * n_;
      for (std::size_t j = 0; j < n_; ++j) {
        trial_->u[row_ * n_ + j] = f[2 * j];
        if (f[2 * j + 1] != 0) trial_->own.set(row_, j);
      }
    }
  }

 private:
  Simulator& sim_;
  std::uint32_t pop_;
  std::size_t probe_, n_, pad_rows_;
  MemoryArchive initial_;
  Trial* trial_ = nullptr;  // being recorded
  std::size_t row_ = 0;
};

// The network's own spikes against the targets on rows [begin, end).
Score score_rows(const Trial& tr, std::size_t begin, std::size_t end) {
  Score s;
  for (std::size_t r = begin; r < end; ++r) {
    for (std::size_t j = 0; j < tr.neurons(); ++j) {
      const bool p = tr.own.get(r, j), y = tr.target.get(r, j);
      s.tp += p && y;
      s.fp += p && !y;
      s.fn += !p && y;
    }
  }
  return s;
}

// ... on the trial's scored rows.
Score score(const Trial& tr) {
  return score_rows(tr, tr.score_begin, tr.score_end);
}

struct Recall {
  Score pooled;
  std::vector<Score> per_pattern;
  std::vector<BitRaster> rasters;  // own ∪ clamped spikes, pattern steps 0 .. T-1
};

// ---- initial weights ----

// The weight of synapse (i -> j, delay d) in `conn`, or null: groups are
// sorted by delay within a source, targets within a group.
float* weight_of(Connectivity& conn, const Partitioning& parts, NeuronIndex i, std::uint32_t d,
                 NeuronIndex j) {
  SynapseBlock& b = conn.block(parts.part_of(conn.target_size(), j));
  for (const DelayGroup& g : b.groups_of(i)) {
    if (g.delay != d) continue;
    const std::uint32_t size = g.end - g.begin;
    if (g.consecutive) {
      if (j >= g.first && j - g.first < size) return &b.weight[g.begin + (j - g.first)];
      continue;
    }
    // Stored targets ascend within a group: a binary search over k.
    std::uint32_t lo = g.begin, hi = g.end;
    while (lo < hi) {
      const std::uint32_t mid = lo + (hi - lo) / 2;
      if (b.target_of(g, mid) < j)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < g.end && b.target_of(g, lo) == j) return &b.weight[lo];
  }
  return nullptr;
}

template <class F>
void for_each_synapse(Connectivity& conn, F&& f) {
  for (unsigned p = 0; p < conn.blocks(); ++p) {
    SynapseBlock& b = conn.block(p);
    for (NeuronIndex i = 0; i < conn.source_size(); ++i)
      for (const DelayGroup& g : b.groups_of(i))
        for (std::uint32_t k = g.begin; k < g.end; ++k)
          f(i, g.delay, b.target_of(g, k), b.weight[k]);
  }
}

// The closed forms of the spec: w[j][i][d] = gain * sum over (pattern, t in
// [D, T)) of s_j(t) s_i(t - d) / |c(t)|, with |c(t)| the context's active
// entries (or their mean over all contexts).
void hebbian(Connectivity& conn, const Partitioning& parts, const std::vector<BitRaster>& patterns,
             std::size_t D, double gain, bool per_context) {
  double mean = 0, contexts = 0;
  auto context_size = [&](const BitRaster& pat, std::size_t t) {
    std::size_t n = 0;
    for (std::size_t d = 1; d <= D; ++d) pat.for_each_in_row(t - d, [&](std::size_t) { ++n; });
    return n;
  };
  if (!per_context) {
    for (const auto& pat : patterns)
      for (std::size_t t = D; t < pat.steps(); ++t) {
        mean += static_cast<double>(context_size(pat, t));
        contexts += 1;
      }
    mean = contexts > 0 ? mean / contexts : 0;
  }
  for (const auto& pat : patterns) {
    for (std::size_t t = D; t < pat.steps(); ++t) {
      const std::size_t size = context_size(pat, t);
      const double norm = per_context ? static_cast<double>(size) : mean;
      if (size == 0 || norm <= 0) continue;
      const double w = gain / norm;
      pat.for_each_in_row(t, [&](std::size_t j) {
        for (std::size_t d = 1; d <= D; ++d) {
          pat.for_each_in_row(t - d, [&](std::size_t i) {
            if (float* x = weight_of(conn, parts, static_cast<NeuronIndex>(i),
                                     static_cast<std::uint32_t>(d), static_cast<NeuronIndex>(j)))
              *x = static_cast<float>(*x + w);
          });
        }
      });
    }
  }
}

void init_weights(Connectivity& conn, const Partitioning& parts, const TrainingSpec& spec,
                  const std::vector<BitRaster>& patterns, std::size_t D, std::uint64_t seed,
                  std::uint32_t projection) {
  // init = "config" keeps the weights the projection was built with.
  if (spec.init == "random") {
    for_each_synapse(conn, [&](NeuronIndex i, std::uint32_t d, NeuronIndex j, float& w) {
      RandomStream rng(seed, stream_id(StreamKind::learning, projection), i,
                       (std::uint64_t{d} << 32) | j);
      w = static_cast<float>(spec.init_std * rng.normal());
    });
  } else if (spec.init != "config") {
    for_each_synapse(conn, [](NeuronIndex, std::uint32_t, NeuronIndex, float& w) { w = 0; });
    if (spec.init == "hebbian" || spec.init == "mean_hebbian") {
      hebbian(conn, parts, patterns, D, spec.init_gain, spec.init == "hebbian");
    }
  }
  if (spec.init_scale != 1.0) {
    for_each_synapse(conn, [&](NeuronIndex, std::uint32_t, NeuronIndex, float& w) {
      w = static_cast<float>(w * spec.init_scale);
    });
  }
}

// ---- output ----

// M rasters as an M x T x N uint8 dataset (a raster is mostly zeros: the
// file compresses it), written one pattern at a time so that no M x T x N
// byte copy is ever held (1 GB at M = 1024, N = 1024).
void write_rasters(io::DatasetFile& file, const std::string& name,
                   const std::vector<BitRaster>& rasters, std::size_t T, std::size_t N) {
  auto slabs = file.create_byte_slabs(name, rasters.size(), T, N);
  std::vector<std::uint8_t> bytes(T * N);
  for (std::size_t m = 0; m < rasters.size(); ++m) {
    const BitRaster& r = rasters[m];
    std::fill(bytes.begin(), bytes.end(), 0);
    for (std::size_t t = 0; t < r.steps(); ++t)
      r.for_each_in_row(t, [&](std::size_t j) { bytes[t * N + j] = 1; });
    slabs.write(m, bytes);
  }
}

// Precision, recall and F1 of each score, as three datasets `prefix`precision...
void write_score_columns(io::DatasetFile& file, const std::string& prefix,
                         const std::vector<Score>& scores) {
  std::vector<double> p, r, f;
  for (const auto& s : scores) {
    p.push_back(s.precision());
    r.push_back(s.recall());
    f.push_back(s.f1());
  }
  file.write(prefix + "precision", p);
  file.write(prefix + "recall", r);
  file.write(prefix + "f1", f);
}

void write_pooled(io::DatasetFile& file, const std::string& name, const Score& s) {
  const double pooled[3] = {s.precision(), s.recall(), s.f1()};
  file.write(name, pooled);
}

void write_scores(io::DatasetFile& file, const std::string& group, const Recall& r) {
  write_score_columns(file, group + "/", r.per_pattern);
  write_pooled(file, group + "/pooled", r.pooled);
}

// The training log, /training/<column>: a row per step.
const std::vector<std::string> kLogColumns = {"step",      "loss",      "train_f1", "lr",
                                              "grad_norm", "recall_f1", "wall_s"};

// The log and the weights reach the file at each evaluation and, between
// evaluations, at least this often.
constexpr double kFlushSeconds = 5;

// Sequential retrieval: per pattern, pooled, and in windows of `window`
// steps over the free-running rows (window w covers pattern steps
// D + w * window .. of each pattern, in the sequence's order).
struct SequentialResult {
  std::vector<Score> per_pattern, windows;
  std::vector<double> window_start;  // step of the sequence where each window begins
  Score pooled;
  bool done = false;
};

struct RobustRow {
  std::string kind;
  double value;
  Score score;
};

// ---- the session ----

class Trainer {
 public:
  Trainer(const Config& c, const Registry& registry, const TrainOptions& opt)
      : c_(c), opt_(opt), t_start_(Clock::now()) {
    if (!c.has_task) {
      throw ConfigError(
          fmt::format("{}: `spikeline train` needs a [task] table (see "
                      "docs/training.md)",
                      c.source));
    }
    task_ = read_task(c);
    eval_ = read_evaluation(c);
    check_files();
    BuiltNetwork built = [&] {
      const tbb::global_control cap(tbb::global_control::max_allowed_parallelism,
                                    static_cast<std::size_t>(std::max(1, c.simulation.threads)));
      return build_network(c, registry);
    }();
    Network& net = built.network;
    pop_ = net.population_index(task_.population, "[task] population");
    const auto& entry = net.populations()[pop_];
    if (entry.model != "lif_discrete") {
      throw ConfigError(fmt::format("[task] population '{}' is a {}: training needs lif_discrete",
                                    entry.name, entry.model));
    }
    n_ = entry.population->size();
    // `run` takes beta and theta per neuron (a list or a distribution); the
    // trainer's backward pass uses one value of each for the population.
    const ParamMap& given = c.populations[pop_].params;
    for (const char* name : {"beta", "theta"}) {
      if (!given.has(name)) continue;
      bool one_value = !given.is_list(name);
      if (one_value) {
        try {
          (void)given.number(name, 0);
        } catch (const ConfigError&) {
          one_value = false;
        }
      }
      if (!one_value) {
        throw ConfigError(fmt::format(
            "{}: training needs one value per parameter (beta, theta) for the whole population "
            "'{}', a number; per-neuron values (a list or a distribution) are for "
            "`spikeline run` only",
            given.item(name), entry.name));
      }
    }
    const LifDiscreteParams neuron(given);
    spec_ = read_training(c, neuron);
    proj_ = static_cast<std::uint32_t>(net.projections().size());
    for (std::uint32_t k = 0; k < net.projections().size(); ++k)
      if (net.projections()[k].name == task_.projection) proj_ = k;
    if (proj_ == net.projections().size()) {
      std::vector<std::string> names;
      for (const auto& p : net.projections()) names.push_back(p.name);
      throw ConfigError(fmt::format("[task] projection '{}' is not defined{}; defined: {}",
                                    task_.projection, did_you_mean(task_.projection, names),
                                    fmt::join(names, ", ")));
    }
    const auto& pr = net.projections()[proj_];
    if (pr.source != pop_ || pr.target != pop_) {
      throw ConfigError(fmt::format("[task] projection '{}' must connect population '{}' to itself",
                                    pr.name, entry.name));
    }
    if (pr.plasticity) {
      throw ConfigError(
          fmt::format("[task] projection '{}' has a plasticity rule: training owns "
                      "its weights",
                      pr.name));
    }
    // Probe 0 of the trainer: u and s of every neuron at every step.
    TraceProbe probe;
    probe.population = pop_;
    probe.variables = {state_var_index(*entry.population, "u", "train"),
                       state_var_index(*entry.population, "s", "train")};
    for (NeuronIndex j = 0; j < n_; ++j) probe.neurons.push_back(j);
    probe.start = 1;
    probe.interval = 1;
    probe_ = net.add_probe(std::move(probe));
    if (!task_.file.empty()) {
      patterns_ = read_patterns(task_.file, n_, task_);
    } else {
      patterns_ = make_patterns(task_, n_);
    }
    SimulationOptions so;
    so.threads = c.simulation.threads;
    so.partitions = c.simulation.partitions;
    so.stop_signal = opt_.stop_signal;  // Ctrl-C while the synapses are laid out
    sim_ = std::make_unique<Simulator>(std::move(net), so);
    check_stop(opt_.stop_signal, "building the network");
    D_ = task_.cue ? task_.cue : sim_->connectivity(proj_).max_delay();
    check_pattern_shape(task_, D_, patterns_.size());
    check_patterns_active(task_, D_, patterns_);
    // The sweeps are checked now, not after the training they follow.
    for (const double k : eval_.cue_steps) {
      if (!(k >= 1 && k <= static_cast<double>(D_) && k == std::floor(k))) {
        throw ConfigError(
            fmt::format("[evaluation] cue_steps = {}: a whole number from 1 to {}", k, D_));
      }
    }
    for (const double k : eval_.silenced) {
      if (!(k >= 0 && k <= static_cast<double>(n_) && k == std::floor(k))) {
        throw ConfigError(
            fmt::format("[evaluation] silenced = {}: a whole number from 0 to {}", k, n_));
      }
    }
    spec_.target_from = D_;
    if (c.training.has("target_from")) {
      const double k = spec_.target_from_given;
      if (!(k >= 1 && k <= static_cast<double>(D_) && k == std::floor(k))) {
        throw ConfigError(
            fmt::format("{} = {} is invalid: a whole number from 1 to {} (the cue's length D)",
                        spec_.target_from_item, k, D_));
      }
      spec_.target_from = static_cast<std::size_t>(k);
    }
    if (spec_.batch == 0 || spec_.batch > patterns_.size()) spec_.batch = patterns_.size();
    runner_ = std::make_unique<TrialRunner>(*sim_, pop_, probe_,
                                            sim_->connectivity(proj_).max_delay() + 1);
    result_.build_s = seconds_since(t_start_);
  }

  TrainResult run() {
    const auto t0 = Clock::now();
    Connectivity& conn = sim_->connectivity_for_update(proj_);
    init_weights(conn, Partitioning(c_.simulation.partitions), spec_, patterns_, D_,
                 c_.simulation.seed, proj_);
    result_.init_s = seconds_since(t0);
    open_output();
    const auto t_eval = Clock::now();
    initial_ = recall({}, false);
    result_.initial = initial_.pooled;
    result_.eval_s += seconds_since(t_eval);
    if (stopped()) {  // during the initial recall: nothing to train or evaluate
      write_output();
      result_.total_s = seconds_since(t_start_);
      return result_;
    }
    if (opt_.progress) {
      std::fprintf(stderr, "initial recall: P %.4f R %.4f F1 %.4f\n", initial_.pooled.precision(),
                   initial_.pooled.recall(), initial_.pooled.f1());
    }
    result_.status = "complete";
    const auto t_train = Clock::now();
    try {
      train_loop(conn);
    } catch (const Error& e) {
      result_.status = "failed";
      result_.code = e.code();
      result_.message = e.what();
    }
    result_.train_s = seconds_since(t_train);
    // After an interrupt the weights and the log are written at once: the
    // final recall of every pattern (minutes at large M) is not run, and the
    // file has no /recall (the log's recall_f1 holds the last evaluation).
    if (result_.status != "interrupted") {
      const auto t_final = Clock::now();
      final_ = recall({}, true);
      if (stopped()) final_ = {};  // partial: not written
      result_.recall = final_.pooled;
      if (result_.status == "complete") robustness();
      if (result_.status == "complete" && eval_.sequential) sequential();
      result_.eval_s += seconds_since(t_final);
    }
    write_output();
    result_.total_s = seconds_since(t_start_);
    return result_;
  }

 private:
  // The output is no input of the training, and can be created: refused
  // before the build and the training (which may take hours), as in a run.
  // It is created when the training has ended (write_output).
  void check_files() {
    std::vector<io::FileRole> inputs = io::input_files(c_);
    inputs.push_back({"the config file", c_.source, true});
    const bool given = opt_.output_on_command_line;
    io::check_distinct_files(
        {{given ? "--output" : "the output file (output.file)", c_.output.file, given}}, inputs);
    if (!c_.output.file.empty()) io::check_output_path(c_.output.file, "output file");
  }

  // A signal arrived: marks the run interrupted (once) and says so.
  bool stopped() {
    if (!opt_.stop_signal || *opt_.stop_signal == 0) return false;
    if (result_.status != "interrupted") {
      result_.status = "interrupted";
      result_.code = *opt_.stop_signal == SIGTERM ? ExitCode::terminated : ExitCode::interrupted;
      result_.message = fmt::format("stopped by signal {}", static_cast<int>(*opt_.stop_signal));
    }
    return true;
  }

  // Recall of every pattern: cue (perturbed as asked), then free running.
  // A signal stops it between patterns (the result is then partial; callers
  // check stopped()).
  Recall recall(const Perturbation& pert, bool keep_rasters) {
    Recall r;
    RandomStream rng(eval_.seed, stream_id(StreamKind::user, 2), eval_trials_++);
    for (std::size_t m = 0; m < patterns_.size(); ++m) {
      if (stopped()) break;
      const Plan plan = plan_trial(patterns_[m], task_, D_, false, pert, rng);
      const Trial tr = runner_->run(plan, 0.0, 0);
      const Score s = score(tr);
      r.pooled += s;
      r.per_pattern.push_back(s);
      if (keep_rasters) {
        BitRaster raster(task_.length, n_);
        for (std::size_t st = 0; st < task_.length; ++st) {
          const std::size_t row = task_.background + st;
          tr.own.for_each_in_row(row, [&](std::size_t j) { raster.set(st, j); });
          tr.clamp.for_each_in_row(row, [&](std::size_t j) { raster.set(st, j); });
        }
        r.rasters.push_back(std::move(raster));
      }
    }
    return r;
  }

  void train_loop(Connectivity& conn) {
    if (spec_.steps == 0) return;
    learning::Optimizer optimizer(spec_.optimizer, conn, static_cast<unsigned>(conn.blocks()),
                                  c_.simulation.seed);
    optimizer_bytes_ = optimizer.state_bytes();
    std::vector<std::size_t> order(patterns_.size());
    std::iota(order.begin(), order.end(), 0);
    std::uint64_t trial = 0;
    const auto started = Clock::now();
    // Kept from step to step: each trial's membrane trace becomes its error
    // trace (learning::backward) and returns as the next trial's buffer.
    std::vector<Trial> batch(spec_.batch);
    std::vector<learning::ErrorTrace> errors(spec_.batch);
    for (std::size_t step = 0; step < spec_.steps; ++step) {
      if (stopped()) return;
      // A batch: the next patterns of a shuffled order (a new order per epoch).
      const std::size_t per_epoch = (patterns_.size() + spec_.batch - 1) / spec_.batch;
      if (step % per_epoch == 0 && spec_.batch < patterns_.size()) {
        RandomStream shuffle(c_.simulation.seed, stream_id(StreamKind::user, 3), 0, step);
        for (std::size_t k = order.size(); k > 1; --k)
          std::swap(order[k - 1], order[shuffle.below(k)]);
      }
      RandomStream rng(c_.simulation.seed, stream_id(StreamKind::user, 4), 0, step);
      for (std::size_t b = 0; b < spec_.batch; ++b) {
        const std::size_t m = order[((step % per_epoch) * spec_.batch + b) % order.size()];
        Plan plan = plan_trial(patterns_[m], task_, D_, spec_.teacher, {}, rng);
        if (spec_.context_flip > 0 || spec_.target_from < D_) {
          RandomStream noise(c_.simulation.seed, stream_id(StreamKind::user, 7),
                             static_cast<std::uint32_t>(m), std::uint64_t{step} << 32);
          corrupt_plan(plan, patterns_[m], task_, D_, spec_.teacher, spec_.context_flip,
                       spec_.target_from, noise);
        }
        runner_->run(plan, spec_.dropout, trial++ % (std::uint64_t{1} << 20), batch[b]);
      }
      const learning::LossValue loss = learning::batch_loss(batch, spec_.bptt);
      tbb::parallel_for(std::size_t{0}, batch.size(), [&](std::size_t b) {
        errors[b] = learning::backward(std::move(batch[b].u), batch[b], conn, spec_.bptt, loss);
      });
      const learning::WeightGradient grad(conn, batch, errors);
      const double lr = spec_.schedule.at(step);
      weights_in_file_ = false;
      const double norm = optimizer.step(conn, grad, lr);
      for (std::size_t b = 0; b < batch.size(); ++b) batch[b].u = std::move(errors[b].e);
      result_.steps = step + 1;
      result_.loss = loss.loss;
      double recall_f1 = std::nan("");
      const bool last = step + 1 == spec_.steps;
      if ((spec_.eval_every && (step + 1) % spec_.eval_every == 0) || last) {
        recall_f1 = recall({}, false).pooled.f1();
        if (stopped()) recall_f1 = std::nan("");  // partial
      }
      // What a killed run leaves: the log so far, and the weights of its last
      // evaluated row (they reach the file first, so a row vouches for them).
      const bool evaluated = !std::isnan(recall_f1);
      if (evaluated) flush_output(true);
      if (writer_) {
        const double row[] = {static_cast<double>(step), loss.loss, loss.f1(), lr, norm, recall_f1,
                              seconds_since(started)};
        writer_->append_row(0, row);
      }
      if (evaluated || seconds_since(last_flush_) >= kFlushSeconds) flush_output(false);
      if (opt_.progress) {
        std::fprintf(
            stderr, "\r[step %zu/%zu] loss %.5f train F1 %.4f lr %.3g |g| %.3g%s   ", step + 1,
            spec_.steps, loss.loss, loss.f1(), lr, norm,
            std::isnan(recall_f1) ? "" : fmt::format(" recall F1 {:.4f}", recall_f1).c_str());
        std::fflush(stderr);
      }
      if (spec_.target_f1 > 0 && !std::isnan(recall_f1) && recall_f1 >= spec_.target_f1) break;
    }
    if (opt_.progress) std::fprintf(stderr, "\n");
  }

  void robustness() {
    auto add = [&](const std::string& kind, double value, const Perturbation& p) {
      const Score score = recall(p, false).pooled;
      if (!stopped()) robust_.push_back({kind, value, score});
    };
    for (const double p : eval_.p_flip) add("p_flip", p, {p, 0, {}});
    for (const double k : eval_.cue_steps)
      add("cue_steps", k, {0, static_cast<std::size_t>(k), {}});
    for (const double k : eval_.silenced) {
      // A random choice of k neurons.
      std::vector<std::uint32_t> all(n_);
      std::iota(all.begin(), all.end(), 0);
      RandomStream rng(eval_.seed, stream_id(StreamKind::user, 5), static_cast<std::uint32_t>(k));
      for (std::size_t i = 0; i < static_cast<std::size_t>(k); ++i)
        std::swap(all[i], all[i + rng.below(n_ - i)]);
      all.resize(static_cast<std::size_t>(k));
      add("silenced", k, {0, 0, all});
    }
  }

  // All patterns in one run, each cued in turn after a background gap.
  void sequential() {
    if (stopped()) return;
    RandomStream rng(eval_.seed, stream_id(StreamKind::user, 6), 0);
    std::vector<std::size_t> starts;
    const Plan plan = plan_sequence(patterns_, task_, D_, rng, starts);
    const Trial tr = runner_->run(plan, 0.0, 0);
    for (const std::size_t o : starts) {
      const Score s = score_rows(tr, o + D_, o + task_.length);
      seq_.per_pattern.push_back(s);
      seq_.pooled += s;
      for (std::size_t w = o + D_; w < o + task_.length; w += eval_.window) {
        seq_.window_start.push_back(static_cast<double>(w + 1));  // rows are steps - 1
        seq_.windows.push_back(score_rows(tr, w, std::min(w + eval_.window, o + task_.length)));
      }
    }
    seq_.done = true;
  }

  // Creates the output file (SWMR, as `run` writes it) with the initial
  // weights and an empty log, status "running": from here on a killed run
  // leaves a readable file.
  void open_output() {
    if (c_.output.file.empty()) return;
    OutputLayout layout;
    layout.path = c_.output.file;
    const auto& names = sim_->network().populations();
    const auto& proj = sim_->network().projections()[proj_];
    const Connectivity& conn = sim_->connectivity(proj_);
    // The population's size gives the edges their indices; 0 gives none.
    const std::uint64_t n = c_.output.write_edge_indices ? names[pop_].population->size() : 0;
    layout.edges.push_back(
        {proj.name, names[pop_].name, names[pop_].name, conn.size(), true, n, n});
    layout.tables.push_back({"training", kLogColumns});
    layout.config_text = c_.resolved_toml;
    layout.command_line = opt_.command_line;
    layout.version = SPIKELINE_VERSION;
    layout.seed = c_.simulation.seed;
    layout.threads = c_.simulation.threads;
    layout.dt_ms = sim_->grid().dt();
    layout.run_id = fmt::format(
        "train-{:x}",
        static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()));
    writer_ = std::make_unique<SonataWriter>(layout);
    write_edges(*writer_, 0, conn, sim_->grid());
    weights_in_file_ = true;
    flush_output(false);
  }

  // The log rows so far to disk, and with `weights` the current weights
  // (unless the file has them).
  void flush_output(bool weights) {
    if (!writer_) return;
    if (weights && !weights_in_file_) {
      io::rewrite_edge_weights(*writer_, 0, sim_->connectivity(proj_));
      weights_in_file_ = true;
    }
    writer_->flush();
    last_flush_ = Clock::now();
  }

  void write_output() {
    if (!writer_) return;
    flush_output(true);
    const std::string path = writer_->path();
    writer_->finish(result_.status == "complete" ? RunStatus::complete
                    : result_.status == "failed" ? RunStatus::failed
                                                 : RunStatus::interrupted,
                    summary_json());
    writer_.reset();
    // The task's own datasets, added to the finished file.
    io::DatasetFile file(path, io::DatasetFile::Mode::read_write);
    const std::size_t M = patterns_.size(), T = task_.length, N = n_;
    write_rasters(file, "patterns", patterns_, T, N);
    if (final_.rasters.size() == M) {  // not after an interrupt (see run())
      write_rasters(file, "recall/raster", final_.rasters, T, N);
      write_scores(file, "recall", final_);
    }
    if (initial_.per_pattern.size() == M) write_scores(file, "recall_initial", initial_);
    for (const char* kind : {"p_flip", "cue_steps", "silenced"}) {
      std::vector<double> value;
      std::vector<Score> scores;
      for (const auto& row : robust_) {
        if (row.kind != kind) continue;
        value.push_back(row.value);
        scores.push_back(row.score);
      }
      if (value.empty()) continue;
      const std::string g = std::string("evaluation/") + kind + "/";
      file.write(g + "value", value);
      write_score_columns(file, g, scores);
    }
    if (seq_.done) {
      const std::string g = "evaluation/sequential/";
      write_score_columns(file, g, seq_.per_pattern);
      write_score_columns(file, g + "window_", seq_.windows);
      file.write(g + "window_start", seq_.window_start);
      write_pooled(file, g + "pooled", seq_.pooled);
    }
    file.close();
  }

  std::string summary_json() const {
    io::JsonWriter j;
    auto score = [&](const char* name, const Score& s) {
      j.key(name).begin_object();
      j.key("precision").value(s.precision()).key("recall").value(s.recall());
      j.key("f1").value(s.f1()).end_object();
    };
    j.begin_object();
    j.key("status").value(result_.status).key("message").value(result_.message);
    j.key("steps").value(static_cast<std::uint64_t>(result_.steps)).key("loss").value(result_.loss);
    score("initial", result_.initial);
    score("recall", result_.recall);
    j.key("build_s").value(result_.build_s).key("init_s").value(result_.init_s);
    j.key("train_s").value(result_.train_s).key("eval_s").value(result_.eval_s);
    j.key("optimizer_bytes").value(static_cast<std::uint64_t>(optimizer_bytes_));
    j.end_object();
    return j.text();
  }

  const Config& c_;
  TrainOptions opt_;
  Clock::time_point t_start_;
  TaskSpec task_;
  TrainingSpec spec_;
  EvalSpec eval_;
  std::uint32_t pop_ = 0, proj_ = 0;
  std::size_t n_ = 0, probe_ = 0, D_ = 0;
  std::vector<BitRaster> patterns_;
  std::unique_ptr<Simulator> sim_;
  std::unique_ptr<TrialRunner> runner_;
  Recall initial_, final_;
  std::unique_ptr<SonataWriter> writer_;  // from the start of training
  bool weights_in_file_ = false;          // the file has the current weights
  Clock::time_point last_flush_;
  std::vector<RobustRow> robust_;
  SequentialResult seq_;
  std::size_t optimizer_bytes_ = 0;
  std::uint32_t eval_trials_ = 0;
  TrainResult result_;
};

}  // namespace

std::string TrainResult::summary_line() const {
  return fmt::format(
      "spikeline: training {} after {} steps; recall P {:.4f} R {:.4f} F1 {:.4f} (initial F1 "
      "{:.4f}); wall {:.1f} s (build {:.1f}, init {:.1f}, train {:.1f}, evaluation {:.1f})",
      status, steps, recall.precision(), recall.recall(), recall.f1(), initial.f1(), total_s,
      build_s, init_s, train_s, eval_s);
}

TrainResult train(const Config& c, const Registry& registry, const TrainOptions& options) {
  Trainer t(c, registry, options);
  return t.run();
}

}  // namespace spikeline::app
