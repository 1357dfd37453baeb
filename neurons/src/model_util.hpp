// Small helpers shared by the built-in models (private to the neurons library).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "spikeline/engine/aligned.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/model_table.hpp"
#include "spikeline/engine/params.hpp"
#include "spikeline/engine/population.hpp"
#include "spikeline/engine/time_grid.hpp"
#include "spikeline/plugin.hpp"

namespace spikeline::detail {

// The update loops of iaf_cond_exp and iaf_psc_exp apply the threshold and
// the reset in place, branch-free, so that they vectorise. They run over
// chunks of kSpikeChunk neurons, flag the ones that spiked, OR the flags, and
// look at a chunk's flags only when one is set. (A second pass comparing V
// with the threshold was 16% of COBA's loop.) The flags are 32-bit like the
// refractory counters beside them, so the loop keeps its vector width:
// bytes made GCC unroll it 4x and spill registers.
struct ThresholdReset {
  double V_th, V_reset;
  std::int32_t ref_steps;
};
constexpr std::size_t kSpikeChunk = 64;

// The threshold and the reset of one neuron, branch-free: `held` is its new
// V (its old one while refractory), `ref` its refractory count before the
// step. Writes V and the count, and returns 1 when it spiked.
inline std::int32_t threshold_reset(double held, std::int32_t ref, double V_th, double V_reset,
                                    std::int32_t ref_steps, double& V, std::int32_t& refr) {
  const std::int32_t spike = held >= V_th;
  V = spike ? V_reset : held;
  refr = spike ? ref_steps : ref - static_cast<std::int32_t>(ref > 0);
  return spike;
}
inline std::int32_t threshold_reset(double held, std::int32_t ref, const ThresholdReset& r,
                                    double& V, std::int32_t& refr) {
  return threshold_reset(held, ref, r.V_th, r.V_reset, r.ref_steps, V, refr);
}

// A coefficient of an update loop: one value for every neuron (Same) or one
// per neuron (Each). A model's loop is a template over them, instantiated
// twice and chosen once per update: the homogeneous one is the loop as it
// was (the constants in registers), the heterogeneous one loads each
// coefficient per neuron from arrays precomputed at construction (a
// population with any per-neuron parameter takes that one for all of them).
template <class T>
struct Same {
  T v;
  T operator[](std::size_t) const { return v; }
};
template <class T>
struct Each {
  const T* v;
  T operator[](std::size_t i) const { return v[i]; }
};
template <bool kEach, class T>
using Coef = std::conditional_t<kEach, Each<T>, Same<T>>;
template <bool kEach, class T, class Alloc>
Coef<kEach, T> coef(T same, const std::vector<T, Alloc>& each) {
  if constexpr (kEach)
    return {each.data()};
  else
    return {same};
}

// One value per neuron of f(parameters of neuron i), i < n.
template <class T, class P, class F>
AlignedVector<T> per_neuron(const P& base, const PerNeuron<P>& each, std::size_t n, F f) {
  AlignedVector<T> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = f(each.at(base, i));
  return out;
}

// Emits, in order, neuron first + j for every j < n with flag[j] set. It
// tests eight flags at a time (four 64-bit words): about one chunk in eight
// holds a spike in COBA, and testing its 64 flags one by one, right after the
// vector stores that wrote them, was 9% of the update's samples (COBA 4,000,
// 1 thread, 12 alternating runs: loop median 0.365 -> 0.335 s).
template <class Sink>  // SpikeSink, or a plugin-interface model's report
void emit_flagged(const std::int32_t* flag, std::size_t first, std::size_t n, Sink& out) {
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    std::uint64_t w[4];
    std::memcpy(w, flag + j, sizeof w);
    if ((w[0] | w[1] | w[2] | w[3]) == 0) continue;
    for (std::size_t k = j; k < j + 8; ++k)
      if (flag[k] != 0) out.emit(static_cast<NeuronIndex>(first + k));
  }
  for (; j < n; ++j)
    if (flag[j] != 0) out.emit(static_cast<NeuronIndex>(first + j));
}

// The injected current of neuron i; the engine may pass no current array.
inline double current_at(const double* current, NeuronIndex i) {
  return current != nullptr ? current[i] : 0.0;
}

// Reads and clears neuron i's accumulated synaptic input.
inline double take(float* buf, NeuronIndex i) {
  const double v = buf[i];
  buf[i] = 0.0f;
  return v;
}

// t_ref as a whole number of steps (ConfigError when off the grid).
inline std::int32_t refractory_steps(const TimeGrid& grid, double t_ref, const std::string& item) {
  const Step r = grid.time_steps(t_ref, item);
  if (r > std::numeric_limits<std::int32_t>::max()) {
    throw ConfigError(fmt::format("{} = {} ms is too long ({} steps)", item, t_ref, r));
  }
  return static_cast<std::int32_t>(r);
}
inline std::int32_t refractory_steps(const ModelContext& ctx, double t_ref,
                                     const std::string& item) {
  return refractory_steps(ctx.grid, t_ref, item);
}
inline std::int32_t refractory_steps(const ModelContext& ctx, double t_ref) {
  return refractory_steps(ctx, t_ref, ctx.params.item("t_ref"));
}
// Each neuron's t_ref in whole steps (the message names the neuron); the
// population's when `t_ref` does not vary.
template <class P>
AlignedVector<std::int32_t> refractory_steps_each(const ModelContext& ctx, const P& base,
                                                  const PerNeuron<P>& each, double P::*t_ref) {
  AlignedVector<std::int32_t> out(ctx.size);
  if (!each.varies(t_ref)) {
    std::fill(out.begin(), out.end(), refractory_steps(ctx, base.*t_ref));
    return out;
  }
  const auto v = each.column(base, t_ref, ctx.size);
  for (std::size_t i = 0; i < ctx.size; ++i) {
    if (i > 0 && v[i] == v[i - 1]) {
      out[i] = out[i - 1];
      continue;
    }
    out[i] =
        refractory_steps(ctx, v[i], fmt::format("{} of neuron {}", ctx.params.item("t_ref"), i));
  }
  return out;
}

// The steps of a generator's or stimulus device's (start, stop] window,
// both on the grid (ConfigError otherwise); stop = +inf: kNever.
struct ActiveWindow {
  Step start = 0;
  Step stop = kNever;
};
inline ActiveWindow active_window(const TimeGrid& grid, double start, const std::string& start_item,
                                  double stop, const std::string& stop_item) {
  ActiveWindow w;
  w.start = grid.time_steps(start, start_item);
  if (!(stop == std::numeric_limits<double>::infinity())) w.stop = grid.time_steps(stop, stop_item);
  check_less(start, start_item, stop, stop_item, "ms");
  return w;
}
inline ActiveWindow active_window(const ParamMap& p, const TimeGrid& grid, double start,
                                  double stop) {
  return active_window(grid, start, p.item("start"), stop, p.item("stop"));
}

// An internal error: the engine asked for a state variable the model does not have.
[[noreturn]] inline void bad_state_var(std::string_view model, std::size_t var) {
  throw Error(ExitCode::software, fmt::format("{}: no state variable with index {}", model, var));
}

// ---- Models written against the plugin interface (iaf_cond_exp, ...) ------
//
// Their prepare() checks what a parameter table cannot (a relation, a
// period on the time grid) with the other built-ins' messages, which name
// the population, the model, the parameter and, when it varies, the
// neuron.
template <class M>
class AbiChecks {
 public:
  explicit AbiChecks(const plugin::Setup<M>& s)
      : s_(s), owner_(fmt::format("population '{}' ({}) parameter", s.population(), M::name)) {}
  std::string item(const char* param, bool each, std::uint32_t i) const {
    return each ? fmt::format("{} {} of neuron {}", owner_, param, i)
                : fmt::format("{} {}", owner_, param);
  }
  // Parameter a below parameter b (in mV), per neuron where either varies.
  void below(int a, const char* a_name, int b, const char* b_name) const {
    const bool each = s_.per_neuron(a) || s_.per_neuron(b);
    for (std::uint32_t i = 0; i < (each ? s_.size() : 1); ++i)
      check_less(s_.param(a, i), item(a_name, each, i), s_.param(b, i), item(b_name, each, i),
                 "mV");
  }
  // t_ref (parameter k) in whole steps: the population's value.
  std::int32_t steps(int k) const {
    return refractory_steps(TimeGrid(s_.dt()), s_.param(k), item("t_ref", false, 0));
  }
  // ... and each neuron's into `out` (`same` where it does not vary).
  void steps_each(int k, std::int32_t same, std::int32_t* out) const {
    const bool each = s_.per_neuron(k);
    const TimeGrid grid(s_.dt());
    for (std::uint32_t i = 0; i < s_.size(); ++i) {
      if (!each) {
        out[i] = same;
      } else if (i > 0 && s_.param(k, i) == s_.param(k, i - 1)) {
        out[i] = out[i - 1];  // one check per run of equal values
      } else {
        out[i] = refractory_steps(grid, s_.param(k, i), item("t_ref", true, i));
      }
    }
  }
  // Whether any parameter varies: update() then reads the per-neuron
  // constants, which prepare() must fill.
  bool any_varies() const {
    bool any = false;
    for (std::size_t k = 0; k < std::size(M::params); ++k) any = any || s_.per_neuron(k);
    return any;
  }
  // Parameters copied to per-neuron constant arrays: {parameter, array}.
  void copy(std::initializer_list<std::pair<int, int>> param_to_array) const {
    for (const auto& [k, a] : param_to_array) {
      double* x = s_.each(a);
      for (std::uint32_t i = 0; i < s_.size(); ++i) x[i] = s_.param(k, i);
    }
  }

 private:
  const plugin::Setup<M>& s_;
  std::string owner_;
};

// What a loop's spikes go to in a model written against the plugin
// interface: its report (checked by the adapter as any plugin's are).
template <class N>
struct Report {
  const N& n;
  void emit(NeuronIndex i) const { n.spike(i); }
};

}  // namespace spikeline::detail
