/*
 * spikeline plugin ABI: the plain C boundary between the simulator and a
 * neuron model built as a separate shared library.
 *
 * A plugin is a shared library that exports one function,
 *
 *   int spikeline_plugin_init(uint32_t host_major, uint32_t host_minor,
 *                             const spk_plugin** out, char* error, size_t error_size);
 *
 * which sets *out to a descriptor (static data of the plugin, never freed)
 * and returns 0, or writes a message to `error` and returns non-zero. The
 * descriptor lists neuron models, each described by two tables (parameters
 * and state variables, as `spikeline models` shows them) and two functions.
 *
 * The simulator owns every array: the state (one array of doubles per state
 * variable, structure of arrays), the resolved parameters, the constants a
 * model precomputes, the input buffers and the spike buffer. A plugin
 * allocates nothing that outlives a call, and no C++ type, exception or
 * allocation crosses the boundary: errors come back as a status and a
 * message.
 *
 * Calls. For a population of n neurons the simulator
 *   1. resolves each parameter from the config and the table's default,
 *      checks it against the row's range, and builds an spk_model_ctx;
 *   2. calls prepare(ctx, error, size) once, if the model has one: it fills
 *      ctx->constants (propagators, step counts) and may refuse parameters
 *      that are wrong together (V_reset >= V_th) with a non-zero status;
 *   3. sets every state variable to the row's initial value, then calls
 *      initialize(ctx, state, error, size) if the model has one (initial
 *      values computed from the parameters: V_m = E_L), then applies the
 *      config's `initial` values;
 *   4. each step, calls update(ctx, args) once per partition with a range
 *      of neurons [begin, end): never once per neuron.
 * update() may run concurrently for disjoint ranges of one population: it
 * writes only the state and inputs of its own range and the spike buffer of
 * its call, and only reads ctx.
 *
 * Time: the update of step t integrates ((t-1) dt, t dt]. Input: a spike
 * reaching a neuron at step t has been added to input_ex[i] (positive
 * weights) or input_in[i] (negative weights, kept negative) before the
 * update of step t; the model consumes them and sets them to 0 (as
 * spikeline's built-in models do). `current` is the injected current in pA
 * (constant over the step), or NULL when no stimulus reaches the population.
 *
 * State kinds: a state variable is an array of doubles (SPK_STATE_DOUBLE)
 * or of int32_t (SPK_STATE_INT32: a counter, such as the remaining
 * refractory steps, which vectorises beside doubles at half the width).
 * Both are recorded (as numbers), initialised and checkpointed alike; a
 * config's `initial` for a counter must be a whole number in its range.
 * state[v] points to the array of the variable's kind. A learning rule's
 * state is double only.
 *
 * Versioning. SPIKELINE_PLUGIN_ABI_MAJOR changes when a struct changes
 * incompatibly (a field removed, moved or retyped, a row struct changed):
 * the simulator refuses a plugin of another major. A minor version may only
 * append fields to the structs that carry a struct_size (spk_plugin, the
 * model and rule descriptors, the contexts and the call arguments) and add
 * new row structs; the simulator refuses a plugin built for a newer minor
 * than its own, and reads an older plugin's descriptors only up to their
 * struct_size (a field beyond it counts as zero: no choices). The row
 * structs spk_param, spk_state_var, spk_choice and spk_bounds are frozen
 * within a major version.
 *
 * Minor versions:
 *   1.0  neuron models, learning rules, connection rules;
 *   1.1  choice parameters (spk_choice): `choices` and `n_choices` appended
 *        to spk_neuron_model, spk_learning_rule and spk_connection_rule, and
 *        the chosen indices (`n_choices`, `choice`) to spk_model_ctx,
 *        spk_rule_ctx and spk_connection_ctx; bounds of a model's state
 *        variables (spk_bounds, `state_bounds` appended to
 *        spk_neuron_model); a learning rule's constants sized from its
 *        parameters (`constants_size_of` appended to spk_learning_rule);
 *        per-neuron random streams for a model's noise (`uniform`
 *        appended to spk_model_ctx).
 *        A 1.0 plugin loads unchanged (its descriptors end before these
 *        fields).
 *   1.2  a connection rule adds a range of sources at once (`add_range`
 *        appended to spk_connect_args): dense rules (all_to_all, blocks)
 *        without one call per source.
 *   1.3  required parameters: `required` and `n_required` appended to
 *        spk_neuron_model and spk_connection_rule, the names of the
 *        parameter rows a config must give (a row's default is then never
 *        used and may be NaN). spk_param is unchanged: a flag in the row
 *        would have changed a frozen struct. Not in spk_learning_rule:
 *        `spikeline models` makes a learning rule with its defaults to list
 *        its synapse variables. Plugins of 1.0 to 1.2 load unchanged (their
 *        descriptors end before these fields: nothing is required).
 *   1.4  learning rules that read a neuromodulator, update lazily and change
 *        what a spike delivers (what reward_stdp and tsodyks_markram need):
 *        `modulator`, `sync`, `synapse_value` and `delivers` appended to
 *        spk_learning_rule; the neuromodulator's name and time constant
 *        (`modulator`, `modulator_tau`) to spk_rule_ctx; its pulses
 *        (`pulses`, `n_pulses`, a new row struct spk_pulse), the
 *        delivered amounts (`delivered`) and each synapse's delay group
 *        (`synapse_group`) to spk_rule_args. Plugins of 1.0
 *        to 1.3 load unchanged (their rule descriptors end before these
 *        fields: no neuromodulator, nothing lazy, weights delivered).
 *   1.5  connection rules of two more shapes: a rule that draws by source
 *        (`connect_source` appended to spk_connection_rule, `source`
 *        appended to spk_connect_args: the targets of one source, from a
 *        stream keyed by the source: fixed_outdegree, a distance-dependent
 *        out-degree), and a by-target rule with per-target counts drawn
 *        once for the whole projection (`counts` appended to
 *        spk_connection_rule, `count` to spk_connect_args:
 *        fixed_total_number). A descriptor sets exactly one of connect and
 *        connect_source. Plugins of 1.0 to 1.4 load unchanged (their rule
 *        descriptors end before these fields: connect, no counts).
 *   1.6  current devices (spk_current_device): a [[stimulus]] model whose
 *        current is a pure function of the step and the neuron, with the
 *        neuron's own random numbers for noise; `current_devices` and
 *        `n_current_devices` appended to spk_plugin. A plugin of 1.0 to
 *        1.5 loads unchanged (its spk_plugin ends before them).
 *   1.7  a learning rule's recorded synapse variables apart from its
 *        stored state (`recorded` appended to spk_learning_rule): names
 *        that value() computes, chosen from the parameters, so that state
 *        kept per delay group (short-term plasticity's u and x) can be
 *        recorded per synapse and a lazy rule's bookkeeping (the step a
 *        synapse holds for) need not be. A plugin of 1.0 to 1.6 loads
 *        unchanged (its rule descriptor ends before it: the synapse_state
 *        rows are recorded).
 *
 * This header compiles as C99 and as C++.
 */
#ifndef SPIKELINE_PLUGIN_H
#define SPIKELINE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define SPIKELINE_PLUGIN_ABI_MAJOR 1
#define SPIKELINE_PLUGIN_ABI_MINOR 7

/* The exported entry point's name, for dlsym. */
#define SPIKELINE_PLUGIN_INIT_SYMBOL "spikeline_plugin_init"

#if defined(_WIN32)
#define SPIKELINE_PLUGIN_EXPORT __declspec(dllexport)
#else
#define SPIKELINE_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes of the plugin's functions: 0 is success, anything else a
 * failure whose message is in the error buffer. */
#define SPK_OK 0
#define SPK_ERROR 1

/* One parameter: a number. The valid range is [min, max], each bound
 * inclusive or not; -HUGE_VAL / HUGE_VAL for no bound (an infinite bound is
 * never reached: the value must also be finite unless the bound is an
 * inclusive infinity). `default_value` must lie in the range (never NaN),
 * unless the descriptor lists the row as required (ABI 1.3): then it is
 * never used (NaN by convention). */
typedef struct spk_param {
  const char* name; /* as the config names it: "tau_w" */
  const char* unit; /* "ms", "mV", "pA", "nS", "pF", "" */
  double default_value;
  double min;
  double max;
  int min_inclusive; /* 1: value >= min, 0: value > min */
  int max_inclusive; /* 1: value <= max, 0: value < max */
  int per_neuron;    /* 1: the config may give one value per neuron */
  const char* doc;
} spk_param;

/* One state variable: recordable, initialisable, checkpointed. */
typedef struct spk_state_var {
  const char* name;
  const char* unit;
  const char* doc;
  double initial; /* the value before any `initial` of the config */
  int type;       /* SPK_STATE_DOUBLE (0) or SPK_STATE_INT32 (1) */
} spk_state_var;

#define SPK_STATE_DOUBLE 0
#define SPK_STATE_INT32 1

/* The valid values of a state variable (ABI 1.1), as spk_param's range:
 * [min, max], each bound inclusive or not, -HUGE_VAL / HUGE_VAL for none.
 * A value set from outside the model (a config's `initial`, a Python
 * session's assignment) outside them is refused with the variable, the
 * neuron, the value and the range; the model's own update is not checked. */
typedef struct spk_bounds {
  double min;
  double max;
  int min_inclusive;
  int max_inclusive;
} spk_bounds;

/* One parameter that is a choice of words (ABI 1.1): the config gives one
 * of `choices` as a string (reset = "zero"); the model reads the index of
 * the one given, ctx->choice[k], for choice row k. A choice has one value
 * per population (or per projection, for a rule). A choice's name shares
 * the namespace of the numeric parameters and state variables. */
typedef struct spk_choice {
  const char* name;           /* as the config names it: "reset" */
  const char* doc;            /* what it chooses; the choices are listed after it */
  const char* const* choices; /* n_choices distinct non-empty words */
  uint32_t n_choices;         /* >= 1 */
  uint32_t default_index;     /* < n_choices */
} spk_choice;

/* What the simulator hands every call for one population. */
typedef struct spk_model_ctx {
  uint32_t struct_size;   /* sizeof(spk_model_ctx) of the simulator */
  const char* population; /* the population's name, for messages */
  uint32_t size;          /* number of neurons */
  double dt;              /* ms */
  uint64_t seed;          /* the simulation seed */
  uint32_t index;         /* the population's index (random stream ids) */
  uint32_t n_params;
  /* params[k]: parameter k of the model's table, one value per neuron
   * (params[k][i], i in [0, size)) when param_per_neuron[k] is 1, else one
   * value (params[k][0]) for every neuron. */
  const double* const* params;
  const unsigned char* param_per_neuron;
  /* The model's constants: constants_size + size * constants_size_per_neuron
   * bytes (as the model declares them), zeroed, aligned to 64 bytes;
   * written by prepare(), read by update(). NULL when both sizes are 0. */
  void* constants;
  /* ABI 1.1: choice[k] is the index (into the row's choices) of choice k. */
  uint32_t n_choices;
  const uint32_t* choice;
  /* ABI 1.1: each neuron's own random stream, counter-based: writes to
   * out[j] (j < count) the number of neuron first + j for `counter` (the
   * step, say), uniform on (0, 1). The stream is keyed by (the simulation
   * seed, this population's model-noise stream, the neuron, the counter),
   * so a number depends on nothing else: not the thread count, the
   * partitions, the call's range or the order of calls. update() may call
   * it concurrently for disjoint ranges. */
  void (*uniform)(const struct spk_model_ctx* ctx, uint64_t counter, uint32_t first, uint32_t count,
                  double* out);
} spk_model_ctx;

/* One call of update(): a range of neurons for one step. */
typedef struct spk_update_args {
  uint32_t struct_size; /* sizeof(spk_update_args) of the simulator */
  int64_t step;         /* t: integrate ((t-1) dt, t dt] */
  uint32_t begin, end;  /* the neurons [begin, end), indices within the population */
  /* state[v]: state variable v (the table's order), an array of its kind
   * (double* or int32_t*) indexed by neuron. */
  void* const* state;
  float* input_ex;       /* [i]: excitatory input (>= 0); the model sets it to 0 */
  float* input_in;       /* [i]: inhibitory input (<= 0); the model sets it to 0 */
  const double* current; /* [i]: injected current in pA, or NULL (none) */
  /* The spikes of this call: the model appends neuron indices (at most one
   * per neuron, so at most end - begin = spike_capacity) and counts them. */
  uint32_t* spikes;
  uint32_t spike_count; /* 0 on entry */
  uint32_t spike_capacity;
  /* On failure, a NUL-terminated message (truncated to error_size). */
  char* error;
  size_t error_size;
} spk_update_args;

/* Fills ctx->constants from the parameters; non-zero: the parameters are
 * refused (a ConfigError naming the population and the message). */
typedef int (*spk_prepare_fn)(const spk_model_ctx* ctx, char* error, size_t error_size);
/* Advances args->[begin, end) to step args->step; non-zero ends the run as
 * a failed run with the message. */
typedef int (*spk_update_fn)(const spk_model_ctx* ctx, spk_update_args* args);
/* Sets the initial state of every neuron from the parameters (state[v] as
 * in spk_update_args, each array already at its row's initial value);
 * called once after prepare(); non-zero: refused, as prepare(). */
typedef int (*spk_initialize_fn)(const spk_model_ctx* ctx, void* const* state, char* error,
                                 size_t error_size);

typedef struct spk_neuron_model {
  uint32_t struct_size; /* sizeof(spk_neuron_model) of the plugin */
  const char* name;     /* the config's `model = "..."`, unique in the registry */
  const char* doc;      /* one line for `spikeline models` */
  const spk_param* params;
  uint32_t n_params;
  const spk_state_var* state;
  uint32_t n_state;
  size_t constants_size;            /* bytes of constants for the population */
  size_t constants_size_per_neuron; /* and bytes per neuron after them */
  spk_prepare_fn prepare;           /* may be NULL */
  spk_update_fn update;             /* required */
  spk_initialize_fn initialize;     /* may be NULL */
  /* ABI 1.1: the choice parameters (may be NULL, 0). */
  const spk_choice* choices;
  uint32_t n_choices;
  /* ABI 1.1: the bounds of each state variable, n_state rows in the state
   * table's order, or NULL (any finite number; any int32 for a counter). */
  const spk_bounds* state_bounds;
  /* ABI 1.3: the names of the parameter rows (numeric, not choices) the
   * config must give, each once (may be NULL, 0). A population without one
   * is refused with the item and its valid range. */
  const char* const* required;
  uint32_t n_required;
} spk_neuron_model;

/* ---- Learning rules ------------------------------------------------------
 *
 * A learning (plasticity) rule changes the weights of one projection's
 * synapses at the two moments a spike-timing rule needs:
 *
 *   on_pre   a presynaptic spike arrives at a delay group at step t (its
 *            emission step + the group's delay), before the group's weights
 *            are delivered: a weight changed here already applies to this
 *            spike (as NEST's stdp_synapse);
 *   on_post  a target neuron spiked in the update of step t (after every
 *            delivery of step t).
 * A presynaptic arrival and a postsynaptic spike in the same step therefore
 * count as pre before post.
 *
 * The synapses of a projection are split by target neuron into partitions;
 * the simulator calls a partition's events in time order, one at a time,
 * and different partitions concurrently: a rule reads and writes only the
 * arrays of its call's partition (every array below is the partition's).
 * Its state lives in three kinds of arrays, which the simulator allocates,
 * sets to the rows' initial values, checkpoints and restores:
 *   synapse_state[v][k]  one value per synapse k (indexed like weight[k]);
 *   pre_state[v][g]      one per delay group g: the synapses of a group share
 *                        their source and their arrival times, so
 *                        presynaptic traces are kept per group;
 *   post_state[v][j]     one per target neuron of the partition, j = the
 *                        neuron's index - the partition's first target.
 * weight[k] holds the weights in double precision: the rule reads and
 * writes them; after each call the simulator stores the synapses the call
 * was given (as floats) for delivery. Traces are kept lazily: a rule stores
 * the step of its last update beside a trace (a state variable) and decays
 * it over the steps elapsed when it next reads it.
 *
 * Weights follow the simulator's sign convention (negative weights are
 * inhibitory); a rule bounds them itself (its parameters), and may refuse
 * the projection's initial weights in check_weights. */
typedef struct spk_rule_ctx {
  uint32_t struct_size;   /* sizeof(spk_rule_ctx) of the simulator */
  const char* projection; /* the projection's name, for messages */
  double dt;              /* ms */
  uint32_t n_params;
  const double* params; /* params[k]: parameter k of the rule's table */
  /* The rule's constants: constants_size bytes, zeroed, aligned to 64 bytes;
   * written by prepare(), read by the events. NULL when the size is 0. */
  void* constants;
  /* ABI 1.1: choice[k] is the index (into the row's choices) of choice k. */
  uint32_t n_choices;
  const uint32_t* choice;
  /* ABI 1.4: the neuromodulator the projection's rule reads (the rule's
   * `modulator` or the config's), or NULL for a rule that reads none, and
   * its decay time constant tau in ms. A rule that reads one has prepare()
   * called twice: when the projection is made, with modulator_tau = 0 (the
   * neuromodulator is not known yet: the parameters are checked), and
   * again on fresh zeroed constants once the simulator has found the
   * neuromodulator, before any event, with modulator_tau > 0 (tables of
   * exp(-n dt / tau) belong there). */
  const char* modulator;
  double modulator_tau;
} spk_rule_ctx;

/* ABI 1.4: one pulse of a neuromodulator: its concentration D jumps by
 * `amount` at `step` and decays as exp(-(t - step) dt / tau) after it;
 * `level_after` is D just after the pulse (every earlier pulse decayed and
 * summed, pulses of one step included in order). So between two pulses n
 * and n + 1, D(t) = level_after[n] * exp(-(t - step[n]) dt / tau) exactly,
 * and before the first pulse D = 0. */
typedef struct spk_pulse {
  int64_t step;
  double amount;
  double level_after;
} spk_pulse;

/* One event of one partition. */
typedef struct spk_rule_args {
  uint32_t struct_size; /* sizeof(spk_rule_args) of the simulator */
  int64_t step;         /* t */
  double* weight;       /* [k]: every synapse of the partition */
  double* const* synapse_state;
  double* const* pre_state;
  double* const* post_state;
  const uint32_t* synapse_target; /* [k]: j, the post_state index of synapse k's target */
  /* on_pre: the delay group and its synapses k in [begin, end). */
  uint32_t group;
  uint32_t begin, end;
  /* on_post: the neuron j that spiked and its incoming synapses of this
   * projection in the partition: synapses[n] in group groups[n], n < count. */
  uint32_t target;
  const uint32_t* synapses;
  const uint32_t* groups;
  uint32_t count;
  /* On failure, a NUL-terminated message (truncated to error_size). */
  char* error;
  size_t error_size;
  /* ABI 1.4, for a rule that reads a neuromodulator (NULL, 0 otherwise):
   * its pulses at steps <= step, in step order (the simulator's own
   * records, not a copy: read only). Pulses are only ever scheduled for
   * steps the simulation has not reached, so every partition sees the same
   * ones, and a pulse once listed never changes. */
  const spk_pulse* pulses;
  uint64_t n_pulses;
  /* ABI 1.4, for a rule that delivers (`delivers` returned 1), in on_pre: delivered[k] for k
   * in [begin, end) is what synapse k delivers for this arrival instead of
   * its weight (the rule must write each of them); indexed like weight.
   * NULL otherwise. */
  float* delivered;
  /* ABI 1.4, for a rule with sync or synapse_value (NULL otherwise):
   * [k], the delay group of synapse k (sync and synapse_value are not
   * about one group, and a synapse's presynaptic state is its group's). */
  const uint32_t* synapse_group;
} spk_rule_args;

/* Fills ctx->constants from the parameters, once per projection before the
 * run; non-zero: the parameters are refused (a config error naming the
 * projection and the message). */
typedef int (*spk_rule_prepare_fn)(const spk_rule_ctx* ctx, char* error, size_t error_size);
/* The bytes of constants a projection's rule needs, from its parameters
 * (ctx->constants is NULL during the call): for constants whose size
 * depends on them, a table of exp(-n dt / tau) for n up to 20 tau / dt, say.
 * Called once per projection before prepare(). */
typedef size_t (*spk_rule_constants_size_fn)(const spk_rule_ctx* ctx);
/* Non-zero: initial weights in [min, max] (the projection's weight spec
 * before any synapse is drawn, then the drawn weights of each partition)
 * do not suit the rule; the message says why (a config error). */
typedef int (*spk_rule_check_fn)(const spk_rule_ctx* ctx, double min, double max, char* error,
                                 size_t error_size);
/* An event; non-zero ends the run as a failed run with the message. */
typedef int (*spk_rule_event_fn)(const spk_rule_ctx* ctx, spk_rule_args* args);
/* ABI 1.4: 1 when the projection's rule (ctx: its parameters and
 * constants) changes what a spike delivers, else 0 (see `delivers`). */
typedef int (*spk_rule_delivers_fn)(const spk_rule_ctx* ctx);
/* ABI 1.4: writes to *out the value of recordable variable `var` of synapse
 * k at args->step (a step at or after the synapse's last event): var 0 is
 * the weight, var v + 1 synapse_state row v (or, ABI 1.7, the v-th name
 * `recorded` gives). For a rule that updates
 * lazily, the value the synapse would have if brought up to the step. It
 * must not write anything (the args' arrays included): recording never
 * changes a run's results. Non-zero: the run fails with the message. */
typedef int (*spk_rule_value_fn)(const spk_rule_ctx* ctx, const spk_rule_args* args, uint32_t var,
                                 uint32_t k, double* out);
/* ABI 1.7: sets *names to the names of the synapse variables a projection's
 * rule (ctx: its parameters, after prepare()) offers to [[record_weights]]
 * beside "weight" (static data of the plugin) and returns how many there
 * are; value() reads variable v + 1 as names[v]. */
typedef uint32_t (*spk_rule_recorded_fn)(const spk_rule_ctx* ctx, const char* const** names);

typedef struct spk_learning_rule {
  uint32_t struct_size;    /* sizeof(spk_learning_rule) of the plugin */
  const char* name;        /* the projection's `plasticity.rule = "..."`, unique */
  const char* doc;         /* one line for `spikeline models` */
  const spk_param* params; /* per_neuron must be 0: a rule has one value per projection */
  uint32_t n_params;
  const spk_state_var* synapse_state; /* recordable per synapse beside "weight" */
  uint32_t n_synapse_state;
  const spk_state_var* pre_state;
  uint32_t n_pre_state;
  const spk_state_var* post_state;
  uint32_t n_post_state;
  size_t constants_size;
  spk_rule_prepare_fn prepare;     /* may be NULL */
  spk_rule_check_fn check_weights; /* may be NULL */
  spk_rule_event_fn on_pre;        /* required */
  spk_rule_event_fn on_post;       /* required */
  /* ABI 1.1: the choice parameters (may be NULL, 0). */
  const spk_choice* choices;
  uint32_t n_choices;
  /* ABI 1.1: the constants' size from the parameters, or NULL:
   * constants_size bytes. */
  spk_rule_constants_size_fn constants_size_of;
  /* ABI 1.4: the neuromodulator the rule reads: NULL for none; else the
   * name of the [[neuromodulator]] it reads by default, which the
   * projection's plasticity table may replace (modulator = "..."); "" when
   * the config must name one. The simulator refuses a name no
   * [[neuromodulator]] defines, and a `modulator` key for a rule whose
   * modulator is NULL. */
  const char* modulator;
  /* ABI 1.4: brings every synapse of the partition up to args->step, for a
   * rule that updates its synapses lazily (at their own events only): the
   * simulator calls it before the stored weights are read or replaced
   * (the end of a run, a Python session's weights, set_weights; weight
   * records read synapse_value instead, a checkpoint the lazy state as it
   * is). A sync may come between any two steps (a session run in
   * pieces), so it should bring a synapse exactly where its next event
   * would. args holds
   * the partition's arrays, begin = 0 and end = the number of synapses;
   * the simulator stores every weight afterwards. NULL: nothing to do. */
  spk_rule_event_fn sync;
  /* ABI 1.4: the value of a recorded synapse variable, read only (see
   * spk_rule_value_fn). NULL: the stored weight and synapse_state row. */
  spk_rule_value_fn synapse_value;
  /* ABI 1.4: whether the projection's rule changes what a spike delivers,
   * from its parameters (a function, not a flag: reward_stdp does only with
   * short-term plasticity, tau_rec > 0, and a projection that does not
   * should pay nothing per arrival). Called once per projection, after
   * prepare(); 1: on_pre writes args->delivered[k] for the group's synapses
   * (a spike delivers w u x rather than the weight); 0: the weights are
   * delivered; any other value is refused. NULL: never. */
  spk_rule_delivers_fn delivers;
  /* ABI 1.7: the recorded synapse variables, when they are not the
   * synapse_state rows (see spk_rule_recorded_fn): the synapse_state rows
   * are then the rule's stored state only, and synapse_value is required
   * (it computes every recorded variable). The names must be non-empty,
   * distinct, free of control characters and not "weight"; the simulator
   * refuses the projection otherwise. NULL: the synapse_state rows. */
  spk_rule_recorded_fn recorded;
} spk_learning_rule;

/* ---- Connection rules ----------------------------------------------------
 *
 * A connection rule chooses which (source, target) pairs of a projection are
 * connected; nothing else. The weights and delays of its pairs come from the
 * projection's `weight` and `delay` (constants or distributions) and `taps`,
 * drawn by the simulator as for a built-in rule. A config names it as
 * `rule = "<name>"` with its parameters in `params = { ... }`.
 *
 * Calls. For a projection the simulator
 *   1. resolves each parameter from the config's `params` and the table's
 *      default and checks it against the row's range (per_neuron must be 0);
 *      a required parameter (ABI 1.3) the config does not give is an error;
 *   2. calls prepare(ctx, error, size) once, if the rule has one: it fills
 *      ctx->constants and may refuse parameters that are wrong together, or
 *      a projection the rule cannot connect (sizes), with a non-zero status;
 *   3. calls expected_pairs(ctx), if the rule has one, for the memory guard
 *      and the size of what is drawn at once (without one the simulator
 *      assumes every pair once: n_source * n_target);
 *   4. (ABI 1.5) calls counts(ctx, stream, count, error, size) once, if the
 *      rule has one, with count[t] = 0 for every target t < n_target and a
 *      stream keyed by (seed, projection, 2^32 - 1), an entity no neuron
 *      has: the rule writes how many sources each target gets (NEST's
 *      multinomial of a fixed total over the targets, say). Every process
 *      of a run of several makes the same call, so the counts depend on the
 *      seed alone. The simulator refuses (a config error naming the rule,
 *      the projection, the target, the count and the valid range) a count
 *      above the sources target t can take: with ctx->multapses 0 the
 *      sources it may connect to (n_source, less itself without autapses);
 *      none when it has no source to draw from;
 *   5. calls connect(ctx, args) once per target neuron, concurrently for
 *      different targets, in any order, possibly more than once for one
 *      target (a counting pass, then the synapses). connect reads ctx and
 *      writes nothing but through args. For a rule with counts,
 *      args->count is the target's count and connect adds exactly that
 *      many sources (else an error naming the target, the count and the
 *      number added).
 *      Or (ABI 1.5), for a rule with connect_source instead of connect:
 *      calls connect_source(ctx, args) once per source neuron
 *      (args->source; args->target is UINT64_MAX), likewise concurrently,
 *      and the rule adds the targets of that source: add(sink, target).
 *      A run of several processes has each draw a share of the sources and
 *      sends each synapse to its target's process (docs/mpi-design.md).
 *
 * Determinism. connect draws its random numbers only through ctx's
 * functions on args->stream: a counter-based stream the simulator keys by
 * (seed, projection, target) -- (seed, projection, source) for
 * connect_source -- and restarts for every call. Each call must
 * then return the same sources in the same order for the same arguments,
 * whatever the thread count, as the built-in rules do. A rule keeps no state
 * between calls and uses no random generator of its own.
 *
 * Output. connect calls args->add(args->sink, source) for each source it
 * connects onto args->target, in the order it wants the synapses (a source
 * may come more than once when ctx->multapses is 1). The simulator owns
 * what add writes to; add returns 0, or non-zero when the simulator refuses
 * to go on (the rule then returns non-zero at once). The simulator
 *   - drops a source equal to the target when ctx->same_population is 1 and
 *     ctx->autapses is 0 (a rule need not skip it, but may);
 *   - refuses (a config error naming the rule, the projection, the source
 *     and the valid range) a source >= n_source, and a source given twice
 *     for one target when ctx->multapses is 0.
 * connect_source (ABI 1.5) adds targets, and the same holds with the roles
 * swapped: a target equal to the source is dropped without autapses; a
 * target >= n_target, or a target given twice for one source without
 * multapses, is refused.
 * A non-zero status of connect or prepare is an error with the rule's
 * message; the run does not start.
 *
 * A checkpoint records the synapses themselves (the network fingerprint),
 * so a resumed run with a rule that now connects otherwise is refused. */
typedef struct spk_connection_ctx {
  uint32_t struct_size;   /* sizeof(spk_connection_ctx) of the simulator */
  const char* projection; /* the projection, for messages */
  uint64_t n_source;      /* sources are 0 .. n_source - 1 */
  uint64_t n_target;      /* targets are 0 .. n_target - 1 */
  int same_population;    /* 1: source and target are one population */
  int autapses;           /* the projection's options (default 1 each) */
  int multapses;
  double dt; /* ms */
  uint32_t n_params;
  const double* params; /* params[k]: parameter k of the rule's table */
  /* constants_size bytes, zeroed, aligned to 64 bytes; written by
   * prepare(), read by the other calls. NULL when the size is 0. */
  void* constants;
  /* The random stream of a connect call (args->stream): */
  double (*uniform)(void* stream);             /* in (0, 1) */
  uint64_t (*below)(void* stream, uint64_t n); /* in [0, n), n > 0 */
  double (*normal)(void* stream);              /* standard normal */
  /* Failures before a success; UINT64_MAX for p <= 0 or a count beyond 2^64. */
  uint64_t (*geometric)(void* stream, double p);
  uint64_t (*binomial)(void* stream, uint64_t n, double p); /* p in [0, 1] */
  /* ABI 1.1: choice[k] is the index (into the row's choices) of choice k. */
  uint32_t n_choices;
  const uint32_t* choice;
} spk_connection_ctx;

/* One connect() call: the sources of one target. */
typedef struct spk_connect_args {
  uint32_t struct_size; /* sizeof(spk_connect_args) of the simulator */
  uint64_t target;
  void* stream; /* for ctx's random functions; keyed by (seed, projection, target) */
  void* sink;
  int (*add)(void* sink, uint64_t source);
  /* On failure, a NUL-terminated message (truncated to error_size). */
  char* error;
  size_t error_size;
  /* ABI 1.2: add(sink, s) for s = first, first + 1, ..., last - 1, in one
   * call (first <= last; the same checks apply to each source). Always
   * set: a plugin built for 1.2 is refused by an older simulator. */
  int (*add_range)(void* sink, uint64_t first, uint64_t last);
  /* ABI 1.5: in a connect_source call, the source whose targets the rule
   * adds (add and add_range then take targets; args->target is
   * UINT64_MAX); UINT64_MAX in a connect call. */
  uint64_t source;
  /* ABI 1.5: in a connect call of a rule with counts, how many sources to
   * add for args->target (its count); 0 otherwise. */
  uint64_t count;
} spk_connect_args;

/* Fills ctx->constants; non-zero: the projection is refused with the message. */
typedef int (*spk_connection_prepare_fn)(const spk_connection_ctx* ctx, char* error,
                                         size_t error_size);
/* The expected number of pairs (before taps) onto all targets, >= 0. */
typedef double (*spk_connection_expected_fn)(const spk_connection_ctx* ctx);
/* The sources of args->target (connect), or the targets of args->source
 * (connect_source, ABI 1.5); non-zero: an error with the message. */
typedef int (*spk_connect_fn)(const spk_connection_ctx* ctx, spk_connect_args* args);
/* ABI 1.5: writes count[t], the number of sources target t gets, for every
 * t < ctx->n_target (each 0 on entry), drawing only through ctx's random
 * functions on `stream`; non-zero: an error with the message. */
typedef int (*spk_connection_counts_fn)(const spk_connection_ctx* ctx, void* stream,
                                        uint32_t* count, char* error, size_t error_size);

typedef struct spk_connection_rule {
  uint32_t struct_size;    /* sizeof(spk_connection_rule) of the plugin */
  const char* name;        /* the projection's `rule = "..."`, unique (not a built-in rule's) */
  const char* doc;         /* one line for `spikeline models` */
  const spk_param* params; /* per_neuron must be 0: one value per projection */
  uint32_t n_params;
  size_t constants_size;
  spk_connection_prepare_fn prepare;         /* may be NULL */
  spk_connection_expected_fn expected_pairs; /* may be NULL */
  spk_connect_fn connect;                    /* this or connect_source (ABI 1.5) */
  /* ABI 1.1: the choice parameters (may be NULL, 0). */
  const spk_choice* choices;
  uint32_t n_choices;
  /* ABI 1.3: the names of the parameter rows (numeric, not choices) the
   * projection must give in its params (may be NULL, 0): fixed_probability's
   * p has no sensible default. */
  const char* const* required;
  uint32_t n_required;
  /* ABI 1.4 appended nothing here. */
  /* ABI 1.5: the rule draws by source: the targets of args->source (NULL:
   * by target, through connect). Exactly one of connect and connect_source
   * is set. */
  spk_connect_fn connect_source;
  /* ABI 1.5: the per-target counts of the whole projection, drawn once
   * before connect (NULL: none; args->count is then 0). Only with connect. */
  spk_connection_counts_fn counts;
} spk_connection_rule;

/* ---- Current devices (ABI 1.6) -------------------------------------------
 *
 * A current device injects a current into neurons: a config names it as a
 * `[[stimulus]]` with `model = "<name>"`, a target population and
 * optionally `nodes`, and its parameters (as for a built-in device such as
 * ac_current or noise_current). Its current is a pure function of the step
 * and the neuron, I(t, i): the device keeps no state, so nothing of it is
 * checkpointed, any partitioning gives the same values, and a device
 * changed between pieces of a run acts as if configured so from the start.
 *
 * Calls. For a stimulus the simulator
 *   1. resolves each parameter from the config and the table's default and
 *      checks it against the row's range (per_neuron must be 0: one value
 *      per stimulus); a required parameter (names in `required`) the config
 *      does not give is an error;
 *   2. calls prepare(ctx, error, size) once, if the device has one: it
 *      fills ctx->constants (step counts of `start` and `stop`, say) and may
 *      refuse parameters that are wrong together with a non-zero status;
 *   3. each step, calls current(ctx, args) once per partition holding
 *      target neurons, concurrently for different partitions.
 *
 * Time: the current of step t is what the update of step t (integrating
 * ((t-1) dt, t dt]) receives: by the convention of the built-in devices,
 * the device's value at time (t-1) dt, held over the step. The current is
 * in the unit the target model reads as its injected current (pA for the
 * LIF models). Currents of several devices onto one neuron add up.
 *
 * Determinism. A device draws random numbers only through ctx->normal or
 * ctx->uniform: the stream of (seed, this stimulus, neuron, counter) --
 * each neuron its own numbers, the same whatever the thread count or the
 * partitions. A counter is any 64-bit number the device chooses (the step,
 * or the index of a noise interval); draw k of one (neuron, counter) is
 * the k-th call's, so a device asks for the same k for the same (step,
 * neuron) every time. */
typedef struct spk_device_ctx {
  uint32_t struct_size; /* sizeof(spk_device_ctx) of the simulator */
  const char* stimulus; /* the stimulus, for messages: "stimulus 'drive'" */
  double dt;            /* ms */
  uint32_t n_params;
  const double* params; /* params[k]: parameter k of the device's table */
  /* constants_size bytes, zeroed, aligned to 64 bytes; written by
   * prepare(), read by current(). NULL when the size is 0. */
  void* constants;
  uint32_t n_choices;
  const uint32_t* choice; /* choice[k]: the index of choice row k's word */
  /* Draw k (0, 1, ...) of each neuron's stream for `counter`: out[j] for
   * neurons[j], j < count, a standard normal number, or a uniform one in
   * (0, 1). One call for many neurons: a draw is a few nanoseconds, and a
   * call per neuron cost a noise device 1.2x its time. */
  void (*normal)(const struct spk_device_ctx* ctx, uint64_t counter, uint32_t k,
                 const uint32_t* neurons, uint32_t count, double* out);
  void (*uniform)(const struct spk_device_ctx* ctx, uint64_t counter, uint32_t k,
                  const uint32_t* neurons, uint32_t count, double* out);
} spk_device_ctx;

/* One call of current(): the target neurons of one partition for one step. */
typedef struct spk_current_args {
  uint32_t struct_size; /* sizeof(spk_current_args) of the simulator */
  int64_t step;         /* t >= 1 */
  /* The neurons (indices within the target population, increasing) and
   * where their currents go: current[neurons[j]] += I(t, neurons[j]). */
  const uint32_t* neurons;
  uint32_t count;
  double* current;
  /* On failure, a NUL-terminated message (truncated to error_size). */
  char* error;
  size_t error_size;
} spk_current_args;

/* Fills ctx->constants; non-zero: the stimulus is refused with the message. */
typedef int (*spk_device_prepare_fn)(const spk_device_ctx* ctx, char* error, size_t error_size);
/* Adds the current of args->step; non-zero ends the run as a failed run
 * with the message. */
typedef int (*spk_current_fn)(const spk_device_ctx* ctx, spk_current_args* args);

typedef struct spk_current_device {
  uint32_t struct_size;    /* sizeof(spk_current_device) of the plugin */
  const char* name;        /* the stimulus's `model = "..."`, unique among models and devices */
  const char* doc;         /* one line for `spikeline models` */
  const spk_param* params; /* per_neuron must be 0: one value per stimulus */
  uint32_t n_params;
  const spk_choice* choices; /* may be NULL, 0 */
  uint32_t n_choices;
  const char* const* required; /* parameter rows the config must give (may be NULL, 0) */
  uint32_t n_required;
  size_t constants_size;
  spk_device_prepare_fn prepare; /* may be NULL */
  spk_current_fn current;        /* required */
} spk_current_device;

typedef struct spk_plugin {
  uint32_t struct_size; /* sizeof(spk_plugin) of the plugin */
  uint32_t abi_major;   /* SPIKELINE_PLUGIN_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;   /* SPIKELINE_PLUGIN_ABI_MINOR the plugin was built with */
  const char* name;     /* the plugin's name: "aeif" */
  const char* version;  /* its own version: "1.0" */
  /* The neuron models: an array of pointers, so that each descriptor
   * carries its own struct_size. */
  const spk_neuron_model* const* neuron_models;
  uint32_t n_neuron_models;
  /* The learning (plasticity) rules, and the connection rules: arrays of
   * pointers as above; either may be empty (NULL, 0). */
  const struct spk_learning_rule* const* learning_rules;
  uint32_t n_learning_rules;
  const struct spk_connection_rule* const* connection_rules;
  uint32_t n_connection_rules;
  /* ABI 1.6: the current devices, an array of pointers as above (may be
   * NULL, 0). */
  const struct spk_current_device* const* current_devices;
  uint32_t n_current_devices;
} spk_plugin;

/* The entry point's type. */
typedef int (*spk_plugin_init_fn)(uint32_t host_major, uint32_t host_minor, const spk_plugin** out,
                                  char* error, size_t error_size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SPIKELINE_PLUGIN_H */
