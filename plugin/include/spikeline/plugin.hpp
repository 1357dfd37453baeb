// The C++ layer over spikeline's plugin ABI (spikeline/plugin.h): header
// only, so that a plugin links nothing of spikeline's. An author writes a
// struct with two tables and an update over a range of neurons, and one
// registration line:
//
//   #include <spikeline/plugin.hpp>
//   namespace sp = spikeline::plugin;
//
//   struct Leaky {
//     static constexpr const char* name = "leaky";
//     static constexpr const char* doc = "a leaky integrator that fires at 1";
//     enum { tau };                                  // parameter indices, table order
//     static constexpr spk_param params[] = {
//         sp::param("tau", "ms", 10.0, "time constant").positive().per_neuron()};
//     enum { x };                                    // state indices
//     static constexpr spk_state_var state[] = {sp::state("x", "", "the level", 0.0)};
//
//     template <class N>                             // N: sp::Neurons<Leaky, ...>
//     static void update(N& n) {
//       double* x = n.state(Leaky::x);
//       for (auto i = n.begin(); i < n.end(); ++i) {
//         x[i] += n.dt() / n.param(tau, i) * (n.current(i) - x[i]) + n.take_ex(i) + n.take_in(i);
//         if (x[i] >= 1.0) { x[i] = 0.0; n.spike(i); }
//       }
//     }
//   };
//   SPIKELINE_PLUGIN("leaky", "1.0", Leaky)
//
// update() is called once per partition per step (never per neuron); it is
// a template so that the layer instantiates it twice: with every parameter
// one value for the population (param(k, i) reads a constant the compiler
// keeps in a register) and with some parameters per neuron.
//
// Optional members:
//   static constexpr spk_choice choices[] = {sp::choice("reset", "after a spike", kResets)};
//                                             // parameters that are a choice of words (ABI 1.1)
//   static constexpr spk_bounds state_bounds[] = {sp::bounds(), sp::bounds().at_least(0.0)};
//                                             // one per state variable (ABI 1.1)
//   static constexpr const char* required[] = {"tau"};
//                                             // parameters the config must give (ABI 1.3);
//                                             // their rows' defaults are never used (NAN)
//   struct Constants { ... };                 // trivially copyable, population-wide
//   static constexpr std::uint32_t each_constants = 2;  // arrays of per-neuron constants
//   static void prepare(sp::Setup<M>& s);     // fills s.constants() from s.param(k)
//   static void initialize(sp::Initial<M>& s);  // initial state from the parameters
// A learning rule may also have a table sized from its parameters (ABI 1.1):
//   static std::size_t table_size(const sp::RuleSetup<R>& s);  // doubles
// filled in prepare() through s.table() and read in its events through e.table().
// A learning rule that reads a neuromodulator, updates lazily or changes
// what a spike delivers (ABI 1.4) adds:
//   static constexpr const char* modulator = "dopamine";
//                                             // the [[neuromodulator]] read by default
//                                             // (a projection's modulator = "..." replaces
//                                             // it; "" = the config must name one)
//   static void sync(sp::Sync<R>& e);         // bring synapses [e.begin(), e.end()) to e.step()
//   static double value(const sp::Value<R>& v, std::uint32_t var, std::uint32_t k);
//                                             // recorded variable var (0 weight, v + 1 synapse
//                                             // row v) of synapse k at v.step(), read only
//   static constexpr bool delivers = true;    // on_pre writes e.delivered(k) for its group, or
//   static bool delivers(const sp::RuleSetup<R>& s);  // whether it does, from the parameters
// and (ABI 1.7) a rule whose recorded variables are not its synapse_state rows:
//   static std::span<const char* const> recorded(const sp::RuleSetup<R>& s);
//                                             // names value() computes (var v + 1 = the v-th),
//                                             // from the parameters; synapse_state is then
//                                             // stored state only, and value() is required
// Every event (and value()) of a rule with a modulator sees its pulses at
// steps <= e.step() as e.pulses() (a span of spk_pulse, read in place),
// its time constant e.modulator_tau() and the concentration e.level(step).
// A choice parameter reads as the index of the word the config gave
// (n.choice(k), k its row in `choices`): branch on it outside the loop over
// neurons, or in prepare(), never per neuron.
// prepare() runs once per population before the run; update() reads
// n.constants(). Per-neuron constants are what prepare() derives from
// parameters that vary per neuron (a propagator exp(-dt / tau_i)), so that
// update() reads an array rather than recomputing them each step:
// each_constants arrays of size() values of up to 8 bytes each, written in
// prepare() through s.each(k)[i] (doubles, or s.each<std::int32_t>(k) for
// another type) and read in update() through n.each(k); each starts on a
// cache line, so a loop over them vectorises as over the state.
// initialize() runs after prepare() and may set any neuron's state
// (s.state(V_m)[i] = s.param(E_L, i)); a config's `initial` comes after. Refuse parameters (in
// prepare) or fail a step (in update) by throwing sp::Failure("message") (or any std::exception):
// the layer turns it into the ABI's status and message; nothing is thrown across the boundary.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iterator>
#include <new>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "spikeline/plugin.h"

namespace spikeline::plugin {

// A parameter row, built in a constant expression: param(...).positive().per_neuron().
struct Param {
  spk_param row;
  constexpr operator spk_param() const { return row; }  // NOLINT: the point
  constexpr Param at_least(double v) const { return bound_low(v, 1); }
  constexpr Param above(double v) const { return bound_low(v, 0); }
  constexpr Param at_most(double v) const { return bound_high(v, 1); }
  constexpr Param below(double v) const { return bound_high(v, 0); }
  constexpr Param positive() const { return above(0.0); }
  constexpr Param nonnegative() const { return at_least(0.0); }
  constexpr Param per_neuron() const {
    Param p = *this;
    p.row.per_neuron = 1;
    return p;
  }

 private:
  constexpr Param bound_low(double v, int inclusive) const {
    Param p = *this;
    p.row.min = v;
    p.row.min_inclusive = inclusive;
    return p;
  }
  constexpr Param bound_high(double v, int inclusive) const {
    Param p = *this;
    p.row.max = v;
    p.row.max_inclusive = inclusive;
    return p;
  }
};

// Any finite number unless bounded further.
constexpr Param param(const char* name, const char* unit, double default_value, const char* doc) {
  return Param{{name, unit, default_value, -HUGE_VAL, HUGE_VAL, 0, 0, 0, doc}};
}

// A choice parameter (ABI 1.1): one of `words`, `words[default_index]` when
// the config gives none; read as an index, s.choice(k). `words` must be
// static: static constexpr const char* kResets[] = {"subtract", "zero"};
template <std::size_t N>
constexpr spk_choice choice(const char* name, const char* doc, const char* const (&words)[N],
                            std::uint32_t default_index = 0) {
  static_assert(N > 0, "a choice needs at least one word");
  return spk_choice{name, doc, words, static_cast<std::uint32_t>(N), default_index};
}

// The bounds of a state variable (ABI 1.1), built as a parameter's range:
// sp::bounds().at_least(0.0).at_most(1.0). A model lists one per state
// variable, in the state table's order, as `state_bounds`; a value set
// from outside (a config's `initial`) outside them is refused.
struct Bounds {
  spk_bounds row{-HUGE_VAL, HUGE_VAL, 0, 0};
  constexpr operator spk_bounds() const { return row; }  // NOLINT: the point
  constexpr Bounds at_least(double v) const { return low(v, 1); }
  constexpr Bounds above(double v) const { return low(v, 0); }
  constexpr Bounds at_most(double v) const { return high(v, 1); }
  constexpr Bounds below(double v) const { return high(v, 0); }
  constexpr Bounds nonnegative() const { return at_least(0.0); }

 private:
  constexpr Bounds low(double v, int inclusive) const {
    Bounds b = *this;
    b.row.min = v;
    b.row.min_inclusive = inclusive;
    return b;
  }
  constexpr Bounds high(double v, int inclusive) const {
    Bounds b = *this;
    b.row.max = v;
    b.row.max_inclusive = inclusive;
    return b;
  }
};
constexpr Bounds bounds() {
  return Bounds{};
}

// A state variable of doubles: n.state(k).
constexpr spk_state_var state(const char* name, const char* unit, const char* doc, double initial) {
  return spk_state_var{name, unit, doc, initial, SPK_STATE_DOUBLE};
}

// A state variable of whole numbers (int32_t): n.counter(k). Remaining
// refractory steps, say: half the width of a double in a vector register.
constexpr spk_state_var counter(const char* name, const char* unit, const char* doc,
                                std::int32_t initial) {
  return spk_state_var{name, unit, doc, static_cast<double>(initial), SPK_STATE_INT32};
}

// A struct that derives from one of these is a learning rule or a
// connection rule; any other struct of SPIKELINE_PLUGIN(...) is a neuron
// model.
struct LearningRule {};
struct ConnectionRule {};
// A struct that derives from this is a current device (ABI 1.6).
struct CurrentDevice {};

// What prepare() or update() throws to refuse or fail.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class M>
constexpr bool has_constants = requires {
  typename M::Constants;
};
// Named apart from the alias below: inside namespace detail, ConstantsOf<M>
// must mean the alias (the model's Constants), never this trait (an empty
// struct of size 1: a constants block of one byte was the price once).
template <class M, bool = has_constants<M>>
struct ConstantsTrait {
  struct None {};
  using type = None;
};
template <class M>
struct ConstantsTrait<M, true> {
  using type = typename M::Constants;
};
}  // namespace detail

template <class M>
using ConstantsOf = typename detail::ConstantsTrait<M>::type;

namespace detail {
// The constants block's layout (the ABI leaves it to the model): the
// Constants struct, then each per-neuron array on its own cache line.
constexpr std::size_t kLine = 64;
constexpr std::size_t round_to_line(std::size_t bytes) {
  return (bytes + kLine - 1) / kLine * kLine;
}
template <class M>
constexpr std::uint32_t each_count() {
  if constexpr (requires { M::each_constants; })
    return M::each_constants;
  else
    return 0;
}
template <class M>
constexpr std::size_t head_bytes() {
  return has_constants<M> ? sizeof(ConstantsOf<M>) : 0;
}
// A learning rule's table, after its Constants on a cache line (ABI 1.1).
template <class R>
double* rule_table(void* block) {
  return reinterpret_cast<double*>(static_cast<char*>(block) + round_to_line(head_bytes<R>()));
}
// Per-neuron array k of a block of n neurons.
template <class M, class T>
T* each_array(void* block, std::uint32_t n, std::size_t k) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>,
                "a per-neuron constant is plain data of at most 8 bytes");
  char* start = static_cast<char*>(block) + round_to_line(head_bytes<M>()) +
                k * round_to_line(std::size_t{n} * 8);
  return reinterpret_cast<T*>(start);
}
}  // namespace detail

// What prepare() sees: the parameters of the population and its constants.
template <class M>
class Setup {
 public:
  explicit Setup(const spk_model_ctx* c) : c_(c) {}
  double dt() const { return c_->dt; }
  std::uint32_t size() const { return c_->size; }
  const char* population() const { return c_->population; }
  bool per_neuron(std::size_t k) const { return c_->param_per_neuron[k] != 0; }
  // The index of the word choice parameter k holds.
  std::uint32_t choice(std::size_t k) const { return c_->choice[k]; }
  // Parameter k of neuron i (of every neuron when it does not vary).
  double param(std::size_t k, std::uint32_t i = 0) const {
    return c_->params[k][per_neuron(k) ? i : 0];
  }
  ConstantsOf<M>& constants() const { return *static_cast<ConstantsOf<M>*>(c_->constants); }
  // Per-neuron constant k (k < M::each_constants): size() values, zeroed.
  template <class T = double>
  T* each(std::size_t k) const {
    return detail::each_array<M, T>(c_->constants, c_->size, k);
  }

 private:
  const spk_model_ctx* c_;
};

// What initialize() sees: the parameters, the constants prepare() wrote and
// every neuron's state, each variable at its row's initial value.
template <class M>
class Initial {
 public:
  Initial(const spk_model_ctx* c, void* const* state) : c_(c), state_(state) {}
  double dt() const { return c_->dt; }
  std::uint32_t size() const { return c_->size; }
  double param(std::size_t k, std::uint32_t i = 0) const {
    return c_->params[k][c_->param_per_neuron[k] != 0 ? i : 0];
  }
  std::uint32_t choice(std::size_t k) const { return c_->choice[k]; }
  const ConstantsOf<M>& constants() const {
    return *static_cast<const ConstantsOf<M>*>(c_->constants);
  }
  template <class T = double>
  const T* each(std::size_t k) const {
    return detail::each_array<M, T>(c_->constants, c_->size, k);
  }
  double* state(std::size_t k) const { return static_cast<double*>(state_[k]); }
  std::int32_t* counter(std::size_t k) const { return static_cast<std::int32_t*>(state_[k]); }

 private:
  const spk_model_ctx* c_;
  void* const* state_;
};

// What update() sees: one range of neurons for one step. kVaries: some
// parameter has one value per neuron.
template <class M, bool kVaries>
class Neurons {
 public:
  static constexpr bool varies = kVaries;  // some parameter has one value per neuron
  Neurons(const spk_model_ctx* c, spk_update_args* a) : c_(c), a_(a) {}
  std::int64_t step() const { return a_->step; }
  double dt() const { return c_->dt; }
  std::uint32_t begin() const { return a_->begin; }
  std::uint32_t end() const { return a_->end; }
  double param(std::size_t k, std::uint32_t i) const {
    if constexpr (kVaries) {
      return c_->params[k][c_->param_per_neuron[k] != 0 ? i : 0];
    } else {
      return c_->params[k][0];
    }
  }
  // The index of the word choice parameter k holds.
  std::uint32_t choice(std::size_t k) const { return c_->choice[k]; }
  // Neuron first + j's own uniform number on (0, 1) for `counter` (the
  // step), into out[j], j < count: a counter-based stream per neuron, the
  // same whatever the threads or partitions (ABI 1.1).
  void uniform(std::uint64_t counter, std::uint32_t first, std::uint32_t count, double* out) const {
    c_->uniform(c_, counter, first, count, out);
  }
  // State variable k: a double array (sp::state rows) or an int32_t array
  // (sp::counter rows), indexed by neuron.
  double* state(std::size_t k) const { return static_cast<double*>(a_->state[k]); }
  std::int32_t* counter(std::size_t k) const { return static_cast<std::int32_t*>(a_->state[k]); }
  // The input of neuron i this step, consumed: the buffer is cleared.
  double take_ex(std::uint32_t i) const {
    const double v = a_->input_ex[i];
    a_->input_ex[i] = 0.0f;
    return v;
  }
  double take_in(std::uint32_t i) const {  // <= 0
    const double v = a_->input_in[i];
    a_->input_in[i] = 0.0f;
    return v;
  }
  // The input arrays themselves (indexed by neuron), for a loop that reads
  // and clears them as take_ex(i) and take_in(i) do, through restrict
  // pointers of its own.
  float* input_ex() const { return a_->input_ex; }
  float* input_in() const { return a_->input_in; }
  // The injected current per neuron (pA), or nullptr when there is none.
  const double* currents() const { return a_->current; }
  bool has_current() const { return a_->current != nullptr; }
  double current(std::uint32_t i) const { return a_->current != nullptr ? a_->current[i] : 0.0; }
  // Neuron i spiked in this step (at most once per step).
  void spike(std::uint32_t i) const {
    if (a_->spike_count >= a_->spike_capacity) throw Failure("more spikes than neurons in a step");
    a_->spikes[a_->spike_count++] = i;
  }
  const ConstantsOf<M>& constants() const {
    return *static_cast<const ConstantsOf<M>*>(c_->constants);
  }
  // Per-neuron constant k, as prepare() wrote it; index it by neuron.
  // Take the pointer before the loop.
  template <class T = double>
  const T* each(std::size_t k) const {
    return detail::each_array<M, T>(c_->constants, c_->size, k);
  }

 private:
  const spk_model_ctx* c_;
  spk_update_args* a_;
};

// What a learning rule's prepare() and check_weights() see: its parameters
// and its constants.
template <class R>
class RuleSetup {
 public:
  explicit RuleSetup(const spk_rule_ctx* c) : c_(c) {}
  double dt() const { return c_->dt; }
  const char* projection() const { return c_->projection; }
  double param(std::size_t k) const { return c_->params[k]; }
  std::uint32_t choice(std::size_t k) const { return c_->choice[k]; }
  ConstantsOf<R>& constants() const { return *static_cast<ConstantsOf<R>*>(c_->constants); }
  // The rule's table (R::table_size(*this) doubles, zeroed), after its
  // Constants, on a cache line; prepare() fills it.
  double* table() const { return detail::rule_table<R>(c_->constants); }
  // The neuromodulator the projection's rule reads (ABI 1.4), or nullptr,
  // and its time constant in ms: 0 in the first prepare(), when the
  // projection is made; > 0 in the second, once the simulator has found it
  // (see spk_rule_ctx in plugin.h).
  const char* modulator() const { return c_->modulator; }
  double modulator_tau() const { return c_->modulator_tau; }
  bool modulator_known() const { return c_->modulator_tau > 0; }

 private:
  const spk_rule_ctx* c_;
};

namespace detail {
// The concentration at `step` from the pulses at steps <= it (`pulses`
// sorted by step): the level after the last of them, decayed, with the
// simulator's own expression (Neuromodulator::at), so the bits agree.
inline double level_at(std::span<const spk_pulse> pulses, double tau, double dt,
                       std::int64_t step) {
  const auto after =
      std::upper_bound(pulses.begin(), pulses.end(), step,
                       [](std::int64_t s, const spk_pulse& p) { return s < p.step; });
  if (after == pulses.begin()) return 0.0;
  const spk_pulse& last = *(after - 1);
  return last.level_after * std::exp(-static_cast<double>(step - last.step) * dt / tau);
}
}  // namespace detail

// What every call of a rule's events and value() reads (see
// spikeline/plugin.h): the step, the parameters, the constants, where each
// synapse belongs, and (ABI 1.4) the neuromodulator's pulses at steps <=
// step(), in step order, read in place.
template <class R>
class RuleView {
 public:
  RuleView(const spk_rule_ctx* c, const spk_rule_args* a) : c_(c), view_(a) {}
  std::int64_t step() const { return view_->step; }
  double dt() const { return c_->dt; }
  double param(std::size_t k) const { return c_->params[k]; }
  std::uint32_t choice(std::size_t k) const { return c_->choice[k]; }
  const ConstantsOf<R>& constants() const {
    return *static_cast<const ConstantsOf<R>*>(c_->constants);
  }
  // The table prepare() filled (R::table_size doubles).
  const double* table() const { return detail::rule_table<R>(c_->constants); }
  // The post index j of synapse k's target.
  std::uint32_t target_of(std::uint32_t k) const { return view_->synapse_target[k]; }
  // The delay group of synapse k: in sync() and value() (ABI 1.4), where
  // the synapses are not one group's.
  std::uint32_t group_of(std::uint32_t k) const { return view_->synapse_group[k]; }
  // The neuromodulator's pulses at steps <= step() (empty for a rule that
  // reads none), its time constant, and its concentration D at `step` <=
  // step() (pulses at `step` included).
  std::span<const spk_pulse> pulses() const {
    return {view_->pulses, static_cast<std::size_t>(view_->n_pulses)};
  }
  double modulator_tau() const { return c_->modulator_tau; }
  double level(std::int64_t step) const {
    return detail::level_at(pulses(), c_->modulator_tau, c_->dt, step);
  }

 protected:
  const spk_rule_ctx* c_;
  const spk_rule_args* view_;
};

// What a learning rule's on_pre() and on_post() see: the partition's
// weights and state, writable.
template <class R>
class RuleEvent : public RuleView<R> {
 public:
  RuleEvent(const spk_rule_ctx* c, spk_rule_args* a) : RuleView<R>(c, a), a_(a) {}
  // Synapse k's weight (double; stored as float for delivery after the call).
  double& weight(std::uint32_t k) const { return a_->weight[k]; }
  // State variable v of synapse k, of delay group g, of target neuron j.
  double& synapse(std::size_t v, std::uint32_t k) const { return a_->synapse_state[v][k]; }
  double& pre(std::size_t v, std::uint32_t g) const { return a_->pre_state[v][g]; }
  double& post(std::size_t v, std::uint32_t j) const { return a_->post_state[v][j]; }
  // The whole arrays, for a loop that indexes them itself (and prefetches):
  // the partition's weights, and state variable v of its synapses, delay
  // groups and targets. An array the partition has no entries for may be
  // null, so take the array rather than the address of element 0.
  double* weights() const { return a_->weight; }
  double* synapse_row(std::size_t v) const { return a_->synapse_state[v]; }
  double* pre_row(std::size_t v) const { return a_->pre_state[v]; }
  double* post_row(std::size_t v) const { return a_->post_state[v]; }

 protected:
  spk_rule_args* a_;
};

// A presynaptic spike arriving at delay group group(), whose synapses are
// [begin(), end()).
template <class R>
class Pre : public RuleEvent<R> {
 public:
  using RuleEvent<R>::RuleEvent;
  std::uint32_t group() const { return this->a_->group; }
  std::uint32_t begin() const { return this->a_->begin; }
  std::uint32_t end() const { return this->a_->end; }
  // For a rule that delivers (its `delivers`, ABI 1.4): what
  // synapse k in [begin(), end()) delivers for this arrival instead of its
  // weight; on_pre writes every one of them.
  float& delivered(std::uint32_t k) const { return this->a_->delivered[k]; }
};

// A lazy rule's sync (ABI 1.4): bring every synapse k in [begin(), end())
// (all of the partition's) up to step().
template <class R>
class Sync : public RuleEvent<R> {
 public:
  using RuleEvent<R>::RuleEvent;
  std::uint32_t begin() const { return this->a_->begin; }
  std::uint32_t end() const { return this->a_->end; }
};

// What a rule's value() sees (ABI 1.4): the partition's state, read only,
// at step() (at or after every synapse's last event).
template <class R>
class Value : public RuleView<R> {
 public:
  using RuleView<R>::RuleView;
  double weight(std::uint32_t k) const { return this->view_->weight[k]; }
  double synapse(std::size_t v, std::uint32_t k) const { return this->view_->synapse_state[v][k]; }
  double pre(std::size_t v, std::uint32_t g) const { return this->view_->pre_state[v][g]; }
  double post(std::size_t v, std::uint32_t j) const { return this->view_->post_state[v][j]; }
};

// A spike of target neuron target() (a post index j), with its count()
// incoming synapses: synapse(n) in delay group group(n).
template <class R>
class Post : public RuleEvent<R> {
 public:
  using RuleEvent<R>::RuleEvent;
  using RuleEvent<R>::synapse;  // synapse(v, k), a state variable, beside synapse(n)
  std::uint32_t target() const { return this->a_->target; }
  std::uint32_t count() const { return this->a_->count; }
  std::uint32_t synapse(std::uint32_t n) const { return this->a_->synapses[n]; }
  std::uint32_t group(std::uint32_t n) const { return this->a_->groups[n]; }
};

// ---- Connection rules ------------------------------------------------------
//
// A struct deriving from sp::ConnectionRule with a name, a doc, a parameter
// table and `static void connect(sp::Connect<R>& c)`, which adds the
// sources of target c.target() (see spikeline/plugin.h for the rules of the
// call). Optional: `struct Constants`, `static void prepare(sp::ConnectSetup<R>&)`
// (fills the constants; throw sp::Failure to refuse the projection),
// `static double expected_pairs(const sp::ConnectSetup<R>&)` and
// `static constexpr const char* required[] = {"p"};` (ABI 1.3: parameters
// the projection must give; the simulator refuses it otherwise).
//
// ABI 1.5, two more shapes:
//   static void connect_source(sp::ConnectSource<R>& c);
//     instead of connect: the rule draws by source, adding the targets of
//     c.source() from the source's stream (fixed_outdegree);
//   static void counts(sp::Counts<R>& c);
//     beside connect: called once per projection before any connect, it
//     sets c.count(t) for the targets t it connects (the others stay 0)
//     from one stream of the projection; connect then reads c.count() and
//     adds exactly that many sources (fixed_total_number).

// The projection as prepare() and expected_pairs() see it.
template <class R>
class ConnectSetup {
 public:
  explicit ConnectSetup(const spk_connection_ctx* c) : c_(c) {}
  const char* projection() const { return c_->projection; }
  std::uint64_t n_source() const { return c_->n_source; }
  std::uint64_t n_target() const { return c_->n_target; }
  bool same_population() const { return c_->same_population != 0; }
  bool autapses() const { return c_->autapses != 0; }
  bool multapses() const { return c_->multapses != 0; }
  double dt() const { return c_->dt; }
  double param(std::size_t k) const { return c_->params[k]; }
  std::uint32_t choice(std::size_t k) const { return c_->choice[k]; }
  ConstantsOf<R>& constants() const { return *static_cast<ConstantsOf<R>*>(c_->constants); }

 protected:
  const spk_connection_ctx* c_;
};

// What a call with a random stream sees: the projection and the stream
// (the only randomness a rule may use).
template <class R>
class Stream : public ConnectSetup<R> {
 public:
  Stream(const spk_connection_ctx* c, void* stream) : ConnectSetup<R>(c), stream_(stream) {}
  const ConstantsOf<R>& constants() const {
    return *static_cast<const ConstantsOf<R>*>(this->c_->constants);
  }
  double uniform() const { return this->c_->uniform(stream_); }
  std::uint64_t below(std::uint64_t n) const { return this->c_->below(stream_, n); }
  double normal() const { return this->c_->normal(stream_); }
  std::uint64_t geometric(double p) const { return this->c_->geometric(stream_, p); }
  std::uint64_t binomial(std::uint64_t n, double p) const {
    return this->c_->binomial(stream_, n, p);
  }

 private:
  void* stream_;
};

// A call that adds partners: the sources of a target (Connect) or the
// targets of a source (ConnectSource).
template <class R>
class Partners : public Stream<R> {
 public:
  Partners(const spk_connection_ctx* c, spk_connect_args* a) : Stream<R>(c, a->stream), a_(a) {}
  // Connects `partner` (a source onto target(), a target of source()).
  void add(std::uint64_t partner) const {
    if (a_->add(a_->sink, partner) != 0) throw Failure("the simulator refused a partner");
  }
  // Connects partners [first, last), in order: one call for a dense block
  // (ABI 1.2).
  void add_range(std::uint64_t first, std::uint64_t last) const {
    if (a_->add_range(a_->sink, first, last) != 0) {
      throw Failure("the simulator refused a range of partners");
    }
  }

 protected:
  spk_connect_args* a_;
};

// One connect() call: the target, its random stream, and add(source).
template <class R>
class Connect : public Partners<R> {
 public:
  using Partners<R>::Partners;
  std::uint64_t target() const { return this->a_->target; }
  // ABI 1.5: the target's count, for a rule with counts (else 0).
  std::uint64_t count() const { return this->a_->count; }
};

// One connect_source() call (ABI 1.5): the source, its random stream, and
// add(target).
template <class R>
class ConnectSource : public Partners<R> {
 public:
  using Partners<R>::Partners;
  std::uint64_t source() const { return this->a_->source; }
};

// The counts() call (ABI 1.5): the projection's stream and every target's
// count, 0 on entry.
template <class R>
class Counts : public Stream<R> {
 public:
  Counts(const spk_connection_ctx* c, void* stream, std::uint32_t* count)
      : Stream<R>(c, stream), count_(count) {}
  std::uint32_t& count(std::uint64_t target) const { return count_[target]; }

 private:
  std::uint32_t* count_;
};

// ---- Current devices (ABI 1.6) --------------------------------------------
//
// A struct deriving from sp::CurrentDevice with a name, a doc, a parameter
// table and `static void current(sp::Current<D>& c)`, which adds the current
// of step c.step() to each neuron of the call:
//
//   struct Ramp : sp::CurrentDevice {
//     static constexpr const char* name = "ramp_current";
//     static constexpr const char* doc = "slope * t from start on";
//     enum { slope, start };
//     static constexpr spk_param params[] = {
//         sp::param("slope", "pA/ms", 0.0, "rate of rise"),
//         sp::param("start", "ms", 0.0, "switch-on time (whole steps)").nonnegative()};
//     struct Constants { std::int64_t start; };
//     static void prepare(sp::DeviceSetup<Ramp>& s) { s.constants().start = s.steps(start); }
//     static void current(sp::Current<Ramp>& c) {
//       const std::int64_t t0 = c.constants().start;
//       if (c.step() <= t0) return;
//       const double v = c.param(slope) * double(c.step() - 1 - t0) * c.dt();
//       for (std::uint32_t j = 0; j < c.size(); ++j) c.add(j, v);
//     }
//   };
//
// The value is the device's at the step's start, (t-1) dt, held over the
// step (see spikeline/plugin.h). Optional: `struct Constants`,
// `static void prepare(sp::DeviceSetup<D>&)`, `choices` and `required`.

// The stimulus as prepare() sees it.
template <class D>
class DeviceSetup {
 public:
  explicit DeviceSetup(const spk_device_ctx* c) : c_(c) {}
  const char* stimulus() const { return c_->stimulus; }
  double dt() const { return c_->dt; }
  double param(std::size_t k) const { return c_->params[k]; }
  std::uint32_t choice(std::size_t k) const { return c_->choice[k]; }
  ConstantsOf<D>& constants() const { return *static_cast<ConstantsOf<D>*>(c_->constants); }
  // Parameter k (a time in ms, >= 0) as a whole number of steps; +inf is
  // INT64_MAX (never). A time off the grid is refused (Failure) with the
  // nearest valid values: a device never rounds a time silently.
  std::int64_t steps(std::size_t k, const char* name) const {
    const double ms = param(k);
    if (ms == HUGE_VAL) return INT64_MAX;
    const double ratio = ms / c_->dt;
    const double whole = std::round(ratio);
    if (!(ratio >= 0) || std::fabs(ratio - whole) > 1e-9 * (whole > 1 ? whole : 1) ||
        whole > 9.0e15) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "%s = %g ms is not a whole number of steps of dt = %g ms (nearest valid: %g "
                    "and %g ms)",
                    name, ms, c_->dt, std::floor(ratio) * c_->dt, std::ceil(ratio) * c_->dt);
      throw Failure(buf);
    }
    return static_cast<std::int64_t>(whole);
  }

 protected:
  const spk_device_ctx* c_;
};

// One current() call: the step, the neurons of one partition, their
// random numbers, and add().
template <class D>
class Current : public DeviceSetup<D> {
 public:
  Current(const spk_device_ctx* c, spk_current_args* a) : DeviceSetup<D>(c), a_(a) {}
  const ConstantsOf<D>& constants() const {
    return *static_cast<const ConstantsOf<D>*>(this->c_->constants);
  }
  std::int64_t step() const { return a_->step; }
  std::uint32_t size() const { return a_->count; }
  // The j-th neuron of the call (an index in the target population).
  std::uint32_t neuron(std::uint32_t j) const { return a_->neurons[j]; }
  // Adds `value` to the current of the j-th neuron.
  void add(std::uint32_t j, double value) const { a_->current[a_->neurons[j]] += value; }
  // Draw k of the streams of neurons first .. first + count - 1 of the
  // call for `counter` (the step, or an interval's index), into out[0 ..
  // count): the same numbers whatever the threads. Ask for many at once
  // (a few hundred on the stack): each call crosses the boundary.
  void normals(std::uint64_t counter, std::uint32_t first, std::uint32_t count, double* out,
               std::uint32_t k = 0) const {
    this->c_->normal(this->c_, counter, k, a_->neurons + first, count, out);
  }
  void uniforms(std::uint64_t counter, std::uint32_t first, std::uint32_t count, double* out,
                std::uint32_t k = 0) const {
    this->c_->uniform(this->c_, counter, k, a_->neurons + first, count, out);
  }
  // One neuron's draw (a call each: normals() for a loop over neurons).
  double normal(std::uint32_t j, std::uint64_t counter, std::uint32_t k = 0) const {
    double x;
    normals(counter, j, 1, &x, k);
    return x;
  }
  double uniform(std::uint32_t j, std::uint64_t counter, std::uint32_t k = 0) const {
    double x;
    uniforms(counter, j, 1, &x, k);
    return x;
  }

 private:
  spk_current_args* a_;
};

namespace detail {

inline void write_error(char* buf, std::size_t size, const char* what) {
  if (buf != nullptr && size > 0) std::snprintf(buf, size, "%s", what);
}

// Runs f, turning any exception into SPK_ERROR and its message.
template <class F>
int guarded(char* error, std::size_t size, F&& f) noexcept {
  try {
    f();
    return SPK_OK;
  } catch (const std::exception& e) {
    write_error(error, size, e.what());
  } catch (...) {
    write_error(error, size, "unknown exception");
  }
  return SPK_ERROR;
}

// The prepare() entry of a model, learning rule or connection rule T, whose
// author-side view is S (Setup, RuleSetup, ConnectSetup) over the ABI's
// context Ctx: the constants constructed, then T::prepare if T has one.
template <class T, class S, class Ctx>
int prepare(const Ctx* c, char* error, std::size_t size) noexcept {
  return guarded(error, size, [&] {
    if constexpr (has_constants<T>) new (c->constants) ConstantsOf<T>{};
    if constexpr (requires(S & s) { T::prepare(s); }) {
      S s(c);
      T::prepare(s);
    }
  });
}

template <class M>
int initialize(const spk_model_ctx* c, void* const* state, char* error, std::size_t size) noexcept {
  return guarded(error, size, [&] {
    Initial<M> s(c, state);
    M::initialize(s);
  });
}

template <class M>
int update(const spk_model_ctx* c, spk_update_args* a) noexcept {
  return guarded(a->error, a->error_size, [&] {
    bool varies = false;
    for (std::uint32_t k = 0; k < c->n_params; ++k) varies = varies || c->param_per_neuron[k];
    if (varies) {
      Neurons<M, true> n(c, a);
      M::template update(n);
    } else {
      Neurons<M, false> n(c, a);
      M::template update(n);
    }
  });
}

// An entry's optional table of choice parameters (ABI 1.1).
template <class T, class D>
constexpr void describe_choices(D& d) {
  if constexpr (requires { std::size(T::choices); }) {
    d.choices = T::choices;
    d.n_choices = static_cast<std::uint32_t>(std::size(T::choices));
  }
}

// An entry's optional list of the parameters a config must give (ABI 1.3).
template <class T, class D>
constexpr void describe_required(D& d) {
  if constexpr (requires { std::size(T::required); }) {
    d.required = T::required;
    d.n_required = static_cast<std::uint32_t>(std::size(T::required));
  }
}

template <class M>
constexpr spk_neuron_model describe() {
  static_assert(std::is_trivially_copyable_v<ConstantsOf<M>>,
                "Constants must be plain data (the simulator copies and zeroes it)");
  spk_neuron_model m{};
  m.struct_size = sizeof(spk_neuron_model);
  m.name = M::name;
  m.doc = M::doc;
  m.params = M::params;
  m.n_params = static_cast<std::uint32_t>(std::size(M::params));
  m.state = M::state;
  m.n_state = static_cast<std::uint32_t>(std::size(M::state));
  describe_choices<M>(m);
  describe_required<M>(m);
  if constexpr (requires { std::size(M::state_bounds); }) {
    static_assert(std::size(M::state_bounds) == std::size(M::state),
                  "state_bounds has one row per state variable");
    m.state_bounds = M::state_bounds;
  }
  if constexpr (each_count<M>() == 0) {
    m.constants_size = head_bytes<M>();
    m.constants_size_per_neuron = 0;
  } else {
    // The simulator allocates constants_size + size * 8 * each_count
    // bytes: the head, padded to a line, and a line of slack per array
    // covers each array's padding whatever the size.
    m.constants_size = round_to_line(head_bytes<M>()) + kLine * each_count<M>();
    m.constants_size_per_neuron = 8 * each_count<M>();
  }
  if constexpr (requires(Setup<M> & s) { M::prepare(s); }) {
    m.prepare = &prepare<M, Setup<M>, spk_model_ctx>;
  } else {
    m.prepare = nullptr;
  }
  m.update = &update<M>;
  if constexpr (requires(Initial<M> & s) { M::initialize(s); }) {
    m.initialize = &initialize<M>;
  } else {
    m.initialize = nullptr;
  }
  return m;
}

template <class R>
int rule_check(const spk_rule_ctx* c, double min, double max, char* error,
               std::size_t size) noexcept {
  return guarded(error, size, [&] {
    const RuleSetup<R> s(c);
    R::check_weights(s, min, max);
  });
}

// An event entry (on_pre, on_post, sync): the author's function F on the
// view V of the call.
template <class V, auto F>
int rule_event(const spk_rule_ctx* c, spk_rule_args* a) noexcept {
  return guarded(a->error, a->error_size, [&] {
    V e(c, a);
    F(e);
  });
}

template <class R>
int rule_value(const spk_rule_ctx* c, const spk_rule_args* a, std::uint32_t var, std::uint32_t k,
               double* out) noexcept {
  return guarded(a->error, a->error_size, [&] {
    const Value<R> v(c, a);
    *out = R::value(v, var, k);
  });
}

// Whether a projection's rule delivers (ABI 1.4): R::delivers(setup), or
// the constant R::delivers.
template <class R>
int rule_delivers(const spk_rule_ctx* c) noexcept {
  if constexpr (requires(const RuleSetup<R>& s) { R::delivers(s); }) {
    try {
      return R::delivers(RuleSetup<R>(c)) ? 1 : 0;
    } catch (...) {
      return -1;  // refused by the simulator
    }
  } else {
    return R::delivers ? 1 : 0;
  }
}

// A projection's recorded synapse variables (ABI 1.7): R::recorded(setup).
template <class R>
std::uint32_t rule_recorded(const spk_rule_ctx* c, const char* const** names) noexcept {
  try {
    const std::span<const char* const> v = R::recorded(RuleSetup<R>(c));
    *names = v.data();
    return static_cast<std::uint32_t>(v.size());
  } catch (...) {
    *names = nullptr;  // refused by the simulator
    return 0;
  }
}

// A rule's optional table of one kind of state: (rows, count), or none.
#define SPIKELINE_PLUGIN_DETAIL_TABLE(R, member, rows, count) \
  if constexpr (requires { std::size(R::member); }) {         \
    rows = R::member;                                         \
    count = static_cast<std::uint32_t>(std::size(R::member)); \
  }

// The constants of a rule with a table: its Constants, padded to a line,
// then R::table_size(setup) doubles.
template <class R>
std::size_t rule_constants_size(const spk_rule_ctx* c) noexcept {
  try {
    return round_to_line(head_bytes<R>()) + 8 * R::table_size(RuleSetup<R>(c));
  } catch (...) {
    return SIZE_MAX;  // refused by the simulator as too large
  }
}

template <class R>
constexpr spk_learning_rule describe_learning_rule() {
  static_assert(std::is_trivially_copyable_v<ConstantsOf<R>>,
                "Constants must be plain data (the simulator copies and zeroes it)");
  spk_learning_rule r{};
  r.struct_size = sizeof(spk_learning_rule);
  r.name = R::name;
  r.doc = R::doc;
  r.params = R::params;
  r.n_params = static_cast<std::uint32_t>(std::size(R::params));
  SPIKELINE_PLUGIN_DETAIL_TABLE(R, synapse_state, r.synapse_state, r.n_synapse_state)
  SPIKELINE_PLUGIN_DETAIL_TABLE(R, pre_state, r.pre_state, r.n_pre_state)
  SPIKELINE_PLUGIN_DETAIL_TABLE(R, post_state, r.post_state, r.n_post_state)
  describe_choices<R>(r);
  r.constants_size = has_constants<R> ? sizeof(ConstantsOf<R>) : 0;
  if constexpr (requires(const RuleSetup<R>& s) { R::table_size(s); }) {
    r.constants_size_of = &rule_constants_size<R>;
  }
  r.prepare = &prepare<R, RuleSetup<R>, spk_rule_ctx>;
  if constexpr (requires(const RuleSetup<R>& s) { R::check_weights(s, 0.0, 0.0); }) {
    r.check_weights = &rule_check<R>;
  } else {
    r.check_weights = nullptr;
  }
  r.on_pre = &rule_event<Pre<R>, &R::on_pre>;
  r.on_post = &rule_event<Post<R>, &R::on_post>;
  // ABI 1.4.
  if constexpr (requires { R::modulator; }) r.modulator = R::modulator;
  if constexpr (requires(Sync<R> & e) { R::sync(e); }) r.sync = &rule_event<Sync<R>, &R::sync>;
  if constexpr (requires(const Value<R>& v) { R::value(v, 0u, 0u); }) {
    r.synapse_value = &rule_value<R>;
  }
  if constexpr (requires(const RuleSetup<R>& s) { R::delivers(s); }) {
    r.delivers = &rule_delivers<R>;
  } else if constexpr (requires { R::delivers; }) {
    if constexpr (R::delivers) r.delivers = &rule_delivers<R>;
  }
  // ABI 1.7.
  if constexpr (requires(const RuleSetup<R>& s) { R::recorded(s); }) {
    static_assert(
        requires(const Value<R>& v) { R::value(v, 0u, 0u); },
        "a rule with recorded variables computes them in value()");
    r.recorded = &rule_recorded<R>;
  }
  return r;
}
#undef SPIKELINE_PLUGIN_DETAIL_TABLE

// NaN (the simulator's "unknown") if it throws: nothing crosses the boundary.
template <class R>
double connection_expected(const spk_connection_ctx* c) noexcept {
  try {
    return R::expected_pairs(ConnectSetup<R>(c));
  } catch (...) {
    return NAN;
  }
}

template <class R>
int connection_connect(const spk_connection_ctx* c, spk_connect_args* a) noexcept {
  return guarded(a->error, a->error_size, [&] {
    Connect<R> e(c, a);
    R::connect(e);
  });
}

template <class R>
int connection_connect_source(const spk_connection_ctx* c, spk_connect_args* a) noexcept {
  return guarded(a->error, a->error_size, [&] {
    ConnectSource<R> e(c, a);
    R::connect_source(e);
  });
}

template <class R>
int connection_counts(const spk_connection_ctx* c, void* stream, std::uint32_t* count, char* error,
                      std::size_t size) noexcept {
  return guarded(error, size, [&] {
    Counts<R> e(c, stream, count);
    R::counts(e);
  });
}

// What every entry with one value per parameter describes alike: its size,
// name, doc, the parameter, choice and required tables and its constants.
template <class T, class D>
constexpr D describe_entry() {
  static_assert(std::is_trivially_copyable_v<ConstantsOf<T>>,
                "Constants must be plain data (the simulator copies and zeroes it)");
  D d{};
  d.struct_size = sizeof(D);
  d.name = T::name;
  d.doc = T::doc;
  if constexpr (requires { std::size(T::params); }) {
    d.params = T::params;
    d.n_params = static_cast<std::uint32_t>(std::size(T::params));
  }
  describe_choices<T>(d);
  describe_required<T>(d);
  d.constants_size = has_constants<T> ? sizeof(ConstantsOf<T>) : 0;
  return d;
}

template <class R>
constexpr spk_connection_rule describe_connection_rule() {
  auto r = describe_entry<R, spk_connection_rule>();
  r.prepare = &prepare<R, ConnectSetup<R>, spk_connection_ctx>;
  if constexpr (requires(const ConnectSetup<R>& s) { R::expected_pairs(s); }) {
    r.expected_pairs = &connection_expected<R>;
  } else {
    r.expected_pairs = nullptr;
  }
  constexpr bool by_target = requires(Connect<R> & e) {
    R::connect(e);
  };
  constexpr bool by_source = requires(ConnectSource<R> & e) {
    R::connect_source(e);
  };
  static_assert(by_target != by_source,
                "a connection rule has exactly one of connect and connect_source");
  if constexpr (by_target) {
    r.connect = &connection_connect<R>;
  } else {
    r.connect_source = &connection_connect_source<R>;
  }
  if constexpr (requires(Counts<R> & e) { R::counts(e); }) {
    static_assert(by_target, "counts are for a rule drawn by target (connect)");
    r.counts = &connection_counts<R>;
  }
  return r;
}

template <class V>
int device_current(const spk_device_ctx* c, spk_current_args* a) noexcept {
  return guarded(a->error, a->error_size, [&] {
    Current<V> e(c, a);
    V::current(e);
  });
}

template <class V>
constexpr spk_current_device describe_device() {
  auto d = describe_entry<V, spk_current_device>();
  d.prepare = &prepare<V, DeviceSetup<V>, spk_device_ctx>;
  d.current = &device_current<V>;
  return d;
}

// The descriptors of one kind (D: spk_neuron_model, ...) and the array of
// pointers to them, static data.
template <class D, class... Ts>
struct Table {
  template <class T>
  static constexpr D describe_one() {
    if constexpr (std::is_same_v<D, spk_learning_rule>) {
      return describe_learning_rule<T>();
    } else if constexpr (std::is_same_v<D, spk_connection_rule>) {
      return describe_connection_rule<T>();
    } else if constexpr (std::is_same_v<D, spk_current_device>) {
      return describe_device<T>();
    } else {
      return describe<T>();
    }
  }
  static constexpr std::array<D, sizeof...(Ts)> items{describe_one<Ts>()...};
  template <std::size_t... I>
  static constexpr std::array<const D*, sizeof...(Ts)> point(std::index_sequence<I...>) {
    return {&items[I]...};
  }
  static constexpr auto pointers = point(std::index_sequence_for<Ts...>{});
  static const D* const* data() { return sizeof...(Ts) == 0 ? nullptr : pointers.data(); }
  static constexpr std::uint32_t size = sizeof...(Ts);
};

// The types of a SPIKELINE_PLUGIN(...) line sorted by kind: a struct that
// derives from sp::LearningRule or sp::ConnectionRule is one, any other a
// neuron model.
template <class... Ts>
struct TypeList {};
template <class D, class L>
struct TableOf;
template <class D, class... Ts>
struct TableOf<D, TypeList<Ts...>> {
  using type = Table<D, Ts...>;
};
template <class T>
constexpr int kind_of = std::is_base_of_v<LearningRule, T>     ? 1
                        : std::is_base_of_v<ConnectionRule, T> ? 2
                        : std::is_base_of_v<CurrentDevice, T>  ? 3
                                                               : 0;
template <int K, class L, class... Ts>
struct Select {
  using type = L;
};
template <int K, class... Done, class T, class... Ts>
struct Select<K, TypeList<Done...>, T, Ts...> {
  using type = typename Select<
      K, std::conditional_t<kind_of<T> == K, TypeList<Done..., T>, TypeList<Done...>>, Ts...>::type;
};
template <class D, int K, class... Ts>
using TableFor = typename TableOf<D, typename Select<K, TypeList<>, Ts...>::type>::type;

template <class... Ts>
int init(const char* name, const char* version, const spk_plugin** out) noexcept {
  using Models = TableFor<spk_neuron_model, 0, Ts...>;
  using Learning = TableFor<spk_learning_rule, 1, Ts...>;
  using Connection = TableFor<spk_connection_rule, 2, Ts...>;
  using Devices = TableFor<spk_current_device, 3, Ts...>;
  static const spk_plugin d{sizeof(spk_plugin),
                            SPIKELINE_PLUGIN_ABI_MAJOR,
                            SPIKELINE_PLUGIN_ABI_MINOR,
                            name,
                            version,
                            Models::data(),
                            Models::size,
                            Learning::data(),
                            Learning::size,
                            Connection::data(),
                            Connection::size,
                            Devices::data(),
                            Devices::size};
  *out = &d;
  return SPK_OK;
}

}  // namespace detail
}  // namespace spikeline::plugin

// The plugin's entry point, exporting the models M1, M2, ... (each a struct
// as described above) under the plugin name and version given.
#define SPIKELINE_PLUGIN(NAME, VERSION, ...)                                   \
  extern "C" SPIKELINE_PLUGIN_EXPORT int spikeline_plugin_init(                \
      uint32_t, uint32_t, const spk_plugin** out, char*, size_t) {             \
    return ::spikeline::plugin::detail::init<__VA_ARGS__>(NAME, VERSION, out); \
  }
