// iaf_cond_exp_plugin: spikeline's built-in iaf_cond_exp rebuilt as a plugin
// with the C++ layer (spikeline/plugin.hpp), to measure what the plugin
// boundary costs (bench/plugin_cost.py) and to check that a plugin can
// reproduce a built-in model exactly (tests/cli/test_plugin_cost.py).
//
// The model is the built-in's (neurons/include/spikeline/neurons/iaf_cond_exp.hpp
// documents the equations): the same parameters (names, units, defaults,
// ranges), the same per-step arithmetic in the same order, so that a network
// gives bit-identical spikes with either model:
//   if not refractory:
//     V += dt / C_m (-g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in) + I_e [+ I_inj])
//   g_ex = g_ex exp(-dt / tau_syn_ex) + input_ex
//   g_in = g_in exp(-dt / tau_syn_in) - input_in
//   if V >= V_th: spike, V = V_reset, refractory for R = t_ref / dt steps
//
// What differs from the built-in, and why:
//  - The refractory counter is a state variable `refractory` (an int32
//    counter, sp::counter, as the built-in's hidden int32 array): it is
//    recorded and checkpointed like V_m.
//  - V_m starts at each neuron's E_L, set by initialize(), as the built-in.
//  - With per-neuron parameters both read every coefficient from arrays
//    computed once (dt / C_m and exp(-dt / tau) per neuron): the
//    built-in's are members, the plugin's are per-neuron constants
//    (each_constants) that prepare() fills.
//
// Parameters (NEST names and defaults)
//   C_m        pF   250       membrane capacitance (> 0)
//   g_L        nS   16.6667   leak conductance (> 0)
//   E_L        mV   -70       leak reversal potential
//   V_th       mV   -55       spike threshold
//   V_reset    mV   -60       reset potential (< V_th)
//   t_ref      ms   2         refractory period (>= 0, whole steps)
//   E_ex       mV   0         excitatory reversal potential
//   E_in       mV   -85       inhibitory reversal potential
//   tau_syn_ex ms   0.2       excitatory conductance time constant (> 0)
//   tau_syn_in ms   2         inhibitory conductance time constant (> 0)
//   I_e        pA   0         constant bias current
// Every parameter may vary per neuron.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include <spikeline/plugin.hpp>

namespace sp = spikeline::plugin;

// The hot loop for several x86-64 instruction sets, picked at load time, as
// the built-in's (spikeline/engine/simd.hpp, which a plugin does not see).
// The results do not depend on the clone: the tree compiles with
// -ffp-contract=off, so no clone fuses a multiply-add.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define IAF_PLUGIN_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define IAF_PLUGIN_CLONES
#endif

namespace {

struct IafCondExpPlugin {
  static constexpr const char* name = "iaf_cond_exp_plugin";
  static constexpr const char* doc =
      "iaf_cond_exp built as a plugin (bench/plugins): leaky integrate-and-fire, exponential "
      "conductance synapses (weights in nS); the built-in's arithmetic";

  enum { C_m, g_L, E_L, V_th, V_reset, t_ref, E_ex, E_in, tau_syn_ex, tau_syn_in, I_e };
  static constexpr spk_param params[] = {
      sp::param("C_m", "pF", 250.0, "membrane capacitance").positive().per_neuron(),
      sp::param("g_L", "nS", 16.6667, "leak conductance").positive().per_neuron(),
      sp::param("E_L", "mV", -70.0, "leak reversal potential").per_neuron(),
      sp::param("V_th", "mV", -55.0, "spike threshold").per_neuron(),
      sp::param("V_reset", "mV", -60.0, "reset potential (< V_th)").per_neuron(),
      sp::param("t_ref", "ms", 2.0, "refractory period (whole steps)").nonnegative().per_neuron(),
      sp::param("E_ex", "mV", 0.0, "excitatory reversal potential").per_neuron(),
      sp::param("E_in", "mV", -85.0, "inhibitory reversal potential").per_neuron(),
      sp::param("tau_syn_ex", "ms", 0.2, "excitatory conductance time constant")
          .positive()
          .per_neuron(),
      sp::param("tau_syn_in", "ms", 2.0, "inhibitory conductance time constant")
          .positive()
          .per_neuron(),
      sp::param("I_e", "pA", 0.0, "constant bias current").per_neuron(),
  };

  enum { V_m, g_ex, g_in, refractory };
  static constexpr spk_state_var state[] = {
      sp::state("V_m", "mV", "membrane potential", -70.0),
      sp::state("g_ex", "nS", "excitatory synaptic conductance", 0.0),
      sp::state("g_in", "nS", "inhibitory synaptic conductance", 0.0),
      sp::counter("refractory", "", "remaining refractory steps", 0),
  };

  // The coefficients when no parameter varies (computed as the built-in
  // computes them).
  struct Constants {
    double h_over_C, P_ex, P_in;
    std::int32_t ref_steps;
  };
  // When some parameter varies, every coefficient per neuron, as the
  // built-in's arrays: the parameters the loop reads and the derived
  // ones (kRef an int32), computed once here rather than each step.
  enum { kGL, kEL, kEex, kEin, kIe, kVth, kVreset, kHOverC, kPex, kPin, kRef, kEachCount };
  static constexpr std::uint32_t each_constants = kEachCount;

  // t_ref in whole steps, with the built-in's tolerance (TimeGrid::time_steps).
  static double steps_of(double t_ref, double dt, const std::string& who) {
    const double steps = std::round(t_ref / dt);
    if (!(std::abs(t_ref / dt - steps) <= std::min(0.01, 1e-9 * std::max(1.0, steps)))) {
      throw sp::Failure("t_ref" + who + " = " + std::to_string(t_ref) +
                        " ms is not a whole number of time steps (dt = " + std::to_string(dt) +
                        " ms)");
    }
    return steps;
  }

  static void prepare(sp::Setup<IafCondExpPlugin>& s) {
    auto& c = s.constants();
    const double h = s.dt();
    c.h_over_C = h / s.param(C_m);
    c.P_ex = std::exp(-h / s.param(tau_syn_ex));
    c.P_in = std::exp(-h / s.param(tau_syn_in));
    bool varies = false;
    for (std::size_t k = 0; k < std::size(params); ++k) varies = varies || s.per_neuron(k);
    const bool each = s.per_neuron(V_th) || s.per_neuron(V_reset) || s.per_neuron(t_ref);
    for (std::uint32_t i = 0; i < s.size(); ++i) {
      const std::string who = each ? " of neuron " + std::to_string(i) : "";
      if (!(s.param(V_reset, i) < s.param(V_th, i))) {
        throw sp::Failure("V_reset" + who + " = " + std::to_string(s.param(V_reset, i)) +
                          " mV must be < V_th = " + std::to_string(s.param(V_th, i)) + " mV");
      }
      const double r = steps_of(s.param(t_ref, i), h, who);
      if (i == 0) c.ref_steps = static_cast<std::int32_t>(r);
      if (!each) break;
    }
    if (!varies) return;  // update() reads the Constants only
    const int copied[] = {g_L, E_L, E_ex, E_in, I_e, V_th, V_reset};
    for (int k = kGL; k <= kVreset; ++k) {
      double* x = s.each(k);
      for (std::uint32_t i = 0; i < s.size(); ++i) x[i] = s.param(copied[k], i);
    }
    double* hc = s.each(kHOverC);
    double* pe = s.each(kPex);
    double* pi = s.each(kPin);
    std::int32_t* ref = s.each<std::int32_t>(kRef);
    for (std::uint32_t i = 0; i < s.size(); ++i) {
      hc[i] = h / s.param(C_m, i);
      pe[i] = std::exp(-h / s.param(tau_syn_ex, i));
      pi[i] = std::exp(-h / s.param(tau_syn_in, i));
      ref[i] = static_cast<std::int32_t>(std::round(s.param(t_ref, i) / h));
    }
  }

  // V_m starts at each neuron's E_L, as the built-in's.
  static void initialize(sp::Initial<IafCondExpPlugin>& s) {
    double* V = s.state(V_m);
    for (std::uint32_t i = 0; i < s.size(); ++i) V[i] = s.param(E_L, i);
  }

  // The coefficients of every neuron the same (kEach false: the loop keeps
  // them in registers) or per neuron (kEach true: the arrays prepare()
  // filled).
  template <bool kEach>
  struct Coefs {
    double g_L_, E_L_, E_ex_, E_in_, I_e_, V_th_, V_reset_, h_over_C_, P_ex_, P_in_;
    std::int32_t ref_steps_;
    std::array<const double*, kRef> each_;
    const std::int32_t* ref_each_;
    template <class N>
    explicit Coefs(const N& n)
        : g_L_(n.param(g_L, 0)),
          E_L_(n.param(E_L, 0)),
          E_ex_(n.param(E_ex, 0)),
          E_in_(n.param(E_in, 0)),
          I_e_(n.param(I_e, 0)),
          V_th_(n.param(V_th, 0)),
          V_reset_(n.param(V_reset, 0)),
          h_over_C_(n.constants().h_over_C),
          P_ex_(n.constants().P_ex),
          P_in_(n.constants().P_in),
          ref_steps_(n.constants().ref_steps),
          each_(arrays(n)),
          ref_each_(kEach ? n.template each<std::int32_t>(kRef) : nullptr) {}
    // The arrays' addresses, when the loop reads them (kEach).
    template <class N>
    static std::array<const double*, kRef> arrays(const N& n) {
      std::array<const double*, kRef> a{};
      if constexpr (kEach)
        for (int k = 0; k < kRef; ++k) a[k] = n.each(k);
      return a;
    }
    double get(int k, double same, std::uint32_t i) const {
      if constexpr (kEach) return each_[k][i];
      return same;
    }
    double gL(std::uint32_t i) const { return get(kGL, g_L_, i); }
    double EL(std::uint32_t i) const { return get(kEL, E_L_, i); }
    double Eex(std::uint32_t i) const { return get(kEex, E_ex_, i); }
    double Ein(std::uint32_t i) const { return get(kEin, E_in_, i); }
    double Ie(std::uint32_t i) const { return get(kIe, I_e_, i); }
    double Vth(std::uint32_t i) const { return get(kVth, V_th_, i); }
    double Vreset(std::uint32_t i) const { return get(kVreset, V_reset_, i); }
    double h_over_C(std::uint32_t i) const { return get(kHOverC, h_over_C_, i); }
    double P_ex(std::uint32_t i) const { return get(kPex, P_ex_, i); }
    double P_in(std::uint32_t i) const { return get(kPin, P_in_, i); }
    std::int32_t ref_steps(std::uint32_t i) const {
      if constexpr (kEach) return ref_each_[i];
      return ref_steps_;
    }
  };

  static constexpr std::uint32_t kChunk = 64;

  // One step of the neurons [begin, end), as the built-in's loop: the
  // threshold and the reset branch-free, spikes flagged per chunk of 64 and
  // reported only for a chunk that has one, so that the loop vectorises.
  template <bool kWithCurrent, bool kEach, class N>
  IAF_PLUGIN_CLONES static void integrate(const N& n, double* __restrict V, double* __restrict Gex,
                                          double* __restrict Gin, std::int32_t* __restrict R) {
    const Coefs<kEach> k(n);
    // 32-bit flags, as the built-in's: the width of the int32 refractory
    // counters they are computed beside.
    std::int32_t fired[kChunk];
    // 32-bit indices, as the layer's accessors take them: a 64-bit index
    // truncated for take_ex(i) is not an affine address, and GCC then gave
    // up on the loop (an emulated gather).
    const std::uint32_t end = n.end();
    for (std::uint32_t first = n.begin(); first < end; first += kChunk) {
      const std::uint32_t stop = first + std::min(kChunk, end - first);
      std::int32_t any = 0;
#pragma GCC ivdep
      for (std::uint32_t i = first; i < stop; ++i) {
        const double v = V[i];
        const double ge = Gex[i], gi = Gin[i];
        double I = -k.gL(i) * (v - k.EL(i)) - ge * (v - k.Eex(i)) - gi * (v - k.Ein(i)) + k.Ie(i);
        if constexpr (kWithCurrent) I += n.current(i);
        const double stepped = v + k.h_over_C(i) * I;
        const std::int32_t ref = R[i];
        const double held = ref == 0 ? stepped : v;
        const std::int32_t spike = held >= k.Vth(i);
        V[i] = spike ? k.Vreset(i) : held;
        R[i] = spike ? k.ref_steps(i) : ref - static_cast<std::int32_t>(ref > 0);
        fired[i - first] = spike;
        any |= spike;
        Gex[i] = ge * k.P_ex(i) + n.take_ex(i);
        Gin[i] = gi * k.P_in(i) - n.take_in(i);
      }
      if (any != 0) report(n, fired, first, stop);
    }
  }

  // Reports the flagged neurons of [first, stop) in order, testing eight
  // flags at a time (as the built-in's emit_flagged): about one chunk in
  // eight has a spike in COBA, and the one-by-one scan of its 64 flags was
  // 5% of the update's instructions.
  template <class N>
  static void report(const N& n, const std::int32_t* fired, std::uint32_t first,
                     std::uint32_t stop) {
    std::uint32_t i = first;
    for (; i + 8 <= stop; i += 8) {
      const std::int32_t* f = fired + (i - first);
      if ((f[0] | f[1] | f[2] | f[3] | f[4] | f[5] | f[6] | f[7]) == 0) continue;
      for (std::uint32_t j = i; j < i + 8; ++j)
        if (fired[j - first] != 0) n.spike(j);
    }
    for (; i < stop; ++i)
      if (fired[i - first] != 0) n.spike(i);
  }

  template <class N, bool kEach>
  static void run(const N& n) {
    double* V = n.state(V_m);
    double* Gex = n.state(g_ex);
    double* Gin = n.state(g_in);
    std::int32_t* R = n.counter(refractory);
    if (n.has_current())
      integrate<true, kEach>(n, V, Gex, Gin, R);
    else
      integrate<false, kEach>(n, V, Gex, Gin, R);
  }

  template <class M, bool kVaries>
  static void update(sp::Neurons<M, kVaries>& n) {
    run<sp::Neurons<M, kVaries>, kVaries>(n);
  }
};

}  // namespace

SPIKELINE_PLUGIN("iaf_cond_exp_plugin", "1.0", IafCondExpPlugin)
