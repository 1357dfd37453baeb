/* A plugin in plain C99 (the ABI needs no C++), and its broken variants:
 * compiled once per case of tests/CMakeLists.txt with one of
 *   PLUGIN_OK            a working model "c_leaky"
 *   PLUGIN_OK_V2         the same, as the plugin's version 0.2
 *   PLUGIN_NO_ENTRY      no spikeline_plugin_init
 *   PLUGIN_MAJOR         built for ABI major + 1
 *   PLUGIN_MINOR         built for a newer minor
 *   PLUGIN_DUPLICATE     a model named iaf_cond_exp (built in)
 *   PLUGIN_NAN_DEFAULT   a parameter with a NaN default
 *   PLUGIN_INIT_ERROR    the entry point reports an error
 *   PLUGIN_UPDATE_ERROR  update() fails at step 50
 *   PLUGIN_RULE_DUPLICATE  the learning rule is named stdp (built in)
 *   PLUGIN_RULE_NO_ON_PRE  the learning rule lacks on_pre
 *   PLUGIN_RULE_PER_NEURON a learning-rule parameter marked per_neuron
 *   PLUGIN_RULE_ERROR      the learning rule's on_post fails at step 50
 *   PLUGIN_RULE_COUNTER    the learning rule has an int32 state variable
 *   PLUGIN_BAD_STATE_TYPE  the model's state variable has type 7
 *   PLUGIN_CONN_DUPLICATE  the connection rule is named fixed_indegree (built in)
 *   PLUGIN_CONN_BAD_SOURCE the connection rule gives target 3 the source n_source
 *   PLUGIN_CONN_ERROR      the connection rule fails for target 7
 *   PLUGIN_CONN_NO_CONNECT the connection rule has no connect function
 *   PLUGIN_ABI_1_0         built for ABI 1.0: descriptors without the choice
 *                          fields of 1.1 (their struct_size ends before them)
 *   PLUGIN_ABI_1_2         built for ABI 1.2: descriptors without the
 *                          required-parameter fields of 1.3
 *   PLUGIN_BAD_CHOICE      the model's choice has the default index 2 of 2 words
 *   PLUGIN_CHOICE_TWICE    the model's choice lists a word twice
 *   PLUGIN_REQUIRED        (ABI 1.3) the model requires theta, the connection
 *                          rule requires fan (both with NaN defaults)
 *   PLUGIN_REQUIRED_UNKNOWN  the connection rule requires "fanout" (no such row)
 *   PLUGIN_REQUIRED_CHOICE   the connection rule requires its choice "direction"
 *   PLUGIN_REQUIRED_TWICE    the model lists theta as required twice
 *   PLUGIN_RULE_BAD_DELIVERS (ABI 1.4) the learning rule's delivers() returns 2
 *   PLUGIN_CONN_BOTH       (ABI 1.5) c_spread sets both connect and connect_source
 *   PLUGIN_CONN_BAD_TARGET (ABI 1.5) c_spread gives source 2 the target n_target
 *
 * c_leaky: dx/dt = (I_e + I_inj - x) / tau, forward Euler; x += input;
 * x >= theta: spike, then x = 0 (reset = "zero", the default) or
 * x -= theta (reset = "subtract"; ABI 1.1).
 *
 * c_hebb, a learning rule: a postsynaptic spike within `window` ms after a
 * presynaptic arrival (the arrival's step included) adds A to the weight,
 * at most w_max (bound = "skip", the default: an addition that would pass
 * w_max is skipped; "clip": the weight becomes w_max); the synapse variable
 * `count` counts these additions.
 *
 * c_stride, a connection rule: target t gets the sources t mod n_source,
 * then every `stride`-th after it (mod n_source), `fan` of them, each
 * `copies` times; with `random` = 1 the first source is drawn uniformly
 * instead (from the target's stream); direction = "down" walks the
 * sources downwards. Refuses fan > n_source (prepare).
 *
 * Of ABI 1.5 (not in the ABI_1_0 and ABI_1_2 variants):
 * c_spread, drawn by source (connect_source): source s connects to the
 * targets f, f + 1, ..., f + fan - 1 (mod n_target), f = s mod n_target,
 * or drawn uniformly from the source's stream with `random` = 1.
 * c_counted, with per-target counts: `total` pairs spread over the targets,
 * target t getting total / n_target, one more when t < total mod n_target;
 * with `random` = 1 each of the `total` pairs picks its target uniformly
 * from the projection's stream (a multinomial). Target t's sources are
 * t, t + 1, ... (mod n_source), or drawn uniformly from t's stream with
 * `random` = 1; `extra` = 1 adds one source more than target 0's count (a
 * broken rule). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "spikeline/plugin.h"

/* The choices of ABI 1.1, or their defaults for a 1.0 plugin, which has none. */
#ifdef PLUGIN_ABI_1_0
#define CHOICE(ctx, k) 0u
#define STRUCT_SIZE(T) offsetof(T, choices)
#define RULE_STRUCT_SIZE offsetof(spk_learning_rule, choices)
#elif defined(PLUGIN_ABI_1_2)
/* 1.3 appended nothing to a learning rule's descriptor; 1.4 did. */
#define CHOICE(ctx, k) ((ctx)->choice[k])
#define STRUCT_SIZE(T) offsetof(T, required)
#define RULE_STRUCT_SIZE offsetof(spk_learning_rule, modulator)
#else
#define CHOICE(ctx, k) ((ctx)->choice[k])
#define STRUCT_SIZE(T) sizeof(T)
#define RULE_STRUCT_SIZE sizeof(spk_learning_rule)
#endif

#ifdef PLUGIN_CHOICE_TWICE
static const char* const reset_words[] = {"zero", "subtract", "zero"};
#else
static const char* const reset_words[] = {"zero", "subtract"};
#endif
#ifdef PLUGIN_BAD_CHOICE
static const spk_choice model_choices[] = {{"reset", "after a spike", reset_words, 2, 2}};
#else
static const spk_choice model_choices[] = {
    {"reset", "after a spike", reset_words, sizeof reset_words / sizeof reset_words[0], 0}};
#endif
static const char* const bound_words[] = {"skip", "clip"};
static const spk_choice rule_choices[] = {{"bound", "at w_max", bound_words, 2, 0}};
static const char* const direction_words[] = {"up", "down"};
static const spk_choice conn_choices[] = {{"direction", "of the walk", direction_words, 2, 0}};

static const spk_param params[] = {
    {"tau", "ms", 10.0, 0.0, HUGE_VAL, 0, 0, 1, "time constant"},
#if defined(PLUGIN_NAN_DEFAULT) || defined(PLUGIN_REQUIRED) || defined(PLUGIN_REQUIRED_TWICE)
    {"theta", "", NAN, -HUGE_VAL, HUGE_VAL, 0, 0, 0, "threshold"},
#else
    {"theta", "", 1.0, -HUGE_VAL, HUGE_VAL, 0, 0, 0, "threshold"},
#endif
    {"I_e", "pA", 0.0, -HUGE_VAL, HUGE_VAL, 0, 0, 1, "bias"},
};

#ifdef PLUGIN_BAD_STATE_TYPE
static const spk_state_var state[] = {{"x", "", "the level", 0.0, 7}};
#else
static const spk_state_var state[] = {{"x", "", "the level", 0.0, SPK_STATE_DOUBLE}};
#endif

static int update(const spk_model_ctx* ctx, spk_update_args* a) {
  const double* tau = ctx->params[0];
  const int tau_each = ctx->param_per_neuron[0];
  const double theta = ctx->params[1][0];
  const double* I_e = ctx->params[2];
  const int I_each = ctx->param_per_neuron[2];
  double* x = a->state[0];
  uint32_t i;
#ifdef PLUGIN_UPDATE_ERROR
  if (a->step >= 50) {
    snprintf(a->error, a->error_size, "the membrane of neuron %u exploded", (unsigned)a->begin);
    return SPK_ERROR;
  }
#endif
  for (i = a->begin; i < a->end; ++i) {
    const double I = I_e[I_each ? i : 0] + (a->current ? a->current[i] : 0.0);
    x[i] += ctx->dt / tau[tau_each ? i : 0] * (I - x[i]) + a->input_ex[i] + a->input_in[i];
    a->input_ex[i] = 0.0f;
    a->input_in[i] = 0.0f;
    if (x[i] >= theta) {
      x[i] = CHOICE(ctx, 0) == 1 ? x[i] - theta : 0.0;
      a->spikes[a->spike_count++] = i;
    }
  }
  return SPK_OK;
}

/* The parameters a config must give (ABI 1.3). */
#if defined(PLUGIN_REQUIRED)
static const char* const model_required[] = {"theta"};
#elif defined(PLUGIN_REQUIRED_TWICE)
static const char* const model_required[] = {"theta", "theta"};
#else
#define model_required NULL
#endif
#if defined(PLUGIN_REQUIRED) || defined(PLUGIN_REQUIRED_TWICE)
#define N_MODEL_REQUIRED (sizeof model_required / sizeof model_required[0])
#else
#define N_MODEL_REQUIRED 0
#endif
#if defined(PLUGIN_REQUIRED)
static const char* const conn_required[] = {"fan"};
#elif defined(PLUGIN_REQUIRED_UNKNOWN)
static const char* const conn_required[] = {"fanout"};
#elif defined(PLUGIN_REQUIRED_CHOICE)
static const char* const conn_required[] = {"direction"};
#else
#define conn_required NULL
#endif
#if defined(PLUGIN_REQUIRED) || defined(PLUGIN_REQUIRED_UNKNOWN) || defined(PLUGIN_REQUIRED_CHOICE)
#define N_CONN_REQUIRED 1
#else
#define N_CONN_REQUIRED 0
#endif

static const spk_neuron_model model = {STRUCT_SIZE(spk_neuron_model),
#ifdef PLUGIN_DUPLICATE
                                       "iaf_cond_exp",
#else
                                       "c_leaky",
#endif
                                       "a leaky integrator written in C",
                                       params,
                                       sizeof params / sizeof params[0],
                                       state,
                                       sizeof state / sizeof state[0],
                                       0,
                                       0,
                                       NULL,
                                       update,
                                       NULL,
                                       model_choices,
                                       1,
                                       NULL,
                                       model_required,
                                       N_MODEL_REQUIRED};

static const spk_neuron_model* const models[] = {&model};

static const spk_param rule_params[] = {
    {"A", "", 0.1, 0.0, HUGE_VAL, 1, 0, 0, "added per pairing"},
#ifdef PLUGIN_RULE_PER_NEURON
    {"window", "ms", 5.0, 0.0, HUGE_VAL, 0, 0, 1, "pairing window"},
#else
    {"window", "ms", 5.0, 0.0, HUGE_VAL, 0, 0, 0, "pairing window"},
#endif
    {"w_max", "", 10.0, -HUGE_VAL, HUGE_VAL, 0, 0, 0, "upper bound"},
};
static const spk_state_var rule_synapse[] = {{"count", "", "pairings", 0.0, SPK_STATE_DOUBLE}};
#ifdef PLUGIN_RULE_COUNTER
static const spk_state_var rule_pre[] = {
    {"last", "", "step of the last arrival", -1e9, SPK_STATE_INT32}};
#else
static const spk_state_var rule_pre[] = {
    {"last", "", "step of the last arrival", -1e9, SPK_STATE_DOUBLE}};
#endif

#ifndef PLUGIN_RULE_NO_ON_PRE
static int hebb_on_pre(const spk_rule_ctx* ctx, spk_rule_args* a) {
  (void)ctx;
  a->pre_state[0][a->group] = (double)a->step;
  return SPK_OK;
}
#endif

static int hebb_on_post(const spk_rule_ctx* ctx, spk_rule_args* a) {
  const double A = ctx->params[0], window = ctx->params[1], w_max = ctx->params[2];
  uint32_t n;
#ifdef PLUGIN_RULE_ERROR
  if (a->step >= 50) {
    snprintf(a->error, a->error_size, "neuron %u spiked too much", (unsigned)a->target);
    return SPK_ERROR;
  }
#endif
  for (n = 0; n < a->count; ++n) {
    const uint32_t k = a->synapses[n];
    const double since = ((double)a->step - a->pre_state[0][a->groups[n]]) * ctx->dt;
    if (since > window) continue;
    if (a->weight[k] + A <= w_max) {
      a->weight[k] += A;
      a->synapse_state[0][k] += 1.0;
    } else if (CHOICE(ctx, 0) == 1 && a->weight[k] < w_max) {
      a->weight[k] = w_max;
      a->synapse_state[0][k] += 1.0;
    }
  }
  return SPK_OK;
}

#ifdef PLUGIN_RULE_BAD_DELIVERS
static int hebb_delivers(const spk_rule_ctx* ctx) {
  (void)ctx;
  return 2;
}
#endif

static const spk_learning_rule rule = {RULE_STRUCT_SIZE,
#ifdef PLUGIN_RULE_DUPLICATE
                                       "stdp",
#else
                                       "c_hebb",
#endif
                                       "a Hebbian window rule written in C",
                                       rule_params,
                                       sizeof rule_params / sizeof rule_params[0],
                                       rule_synapse,
                                       1,
                                       rule_pre,
                                       1,
                                       NULL,
                                       0,
                                       0,
                                       NULL,
                                       NULL,
#ifdef PLUGIN_RULE_NO_ON_PRE
                                       NULL,
#else
                                       hebb_on_pre,
#endif
                                       hebb_on_post,
                                       rule_choices,
                                       1,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL,
#ifdef PLUGIN_RULE_BAD_DELIVERS
                                       hebb_delivers,
#else
                                       NULL,
#endif
                                       NULL};

static const spk_learning_rule* const rules[] = {&rule};

static const spk_param conn_params[] = {
    {"stride", "", 1.0, 1.0, HUGE_VAL, 1, 0, 0, "step between sources"},
#ifdef PLUGIN_REQUIRED
    {"fan", "", NAN, 0.0, HUGE_VAL, 1, 0, 0, "sources per target"},
#else
    {"fan", "", 2.0, 0.0, HUGE_VAL, 1, 0, 0, "sources per target"},
#endif
    {"copies", "", 1.0, 1.0, 4.0, 1, 1, 0, "synapses per pair"},
    {"random", "", 0.0, 0.0, 1.0, 1, 1, 0, "1: the first source is drawn"}};

static int stride_prepare(const spk_connection_ctx* ctx, char* error, size_t error_size) {
  if (ctx->params[1] > (double)ctx->n_source) {
    snprintf(error, error_size, "fan = %g exceeds the %llu sources", ctx->params[1],
             (unsigned long long)ctx->n_source);
    return SPK_ERROR;
  }
  return SPK_OK;
}

static double stride_expected(const spk_connection_ctx* ctx) {
  return ctx->params[1] * ctx->params[2] * (double)ctx->n_target;
}

#ifndef PLUGIN_CONN_NO_CONNECT /* that variant has none: unused, it would warn */
static int stride_connect(const spk_connection_ctx* ctx, spk_connect_args* a) {
  const uint64_t stride = (uint64_t)ctx->params[0], fan = (uint64_t)ctx->params[1];
  const uint64_t copies = (uint64_t)ctx->params[2];
  uint64_t s =
      ctx->params[3] != 0.0 ? ctx->below(a->stream, ctx->n_source) : a->target % ctx->n_source;
  uint64_t k, c;
#ifdef PLUGIN_CONN_ERROR
  if (a->target == 7) {
    snprintf(a->error, a->error_size, "no sources for target %llu", (unsigned long long)a->target);
    return SPK_ERROR;
  }
#endif
#ifdef PLUGIN_CONN_BAD_SOURCE
  if (a->target == 3) return a->add(a->sink, ctx->n_source);
#endif
  for (k = 0; k < fan; ++k) {
    for (c = 0; c < copies; ++c)
      if (a->add(a->sink, s) != 0) return SPK_ERROR;
    s = CHOICE(ctx, 0) == 1 ? (s + ctx->n_source - stride % ctx->n_source) % ctx->n_source
                            : (s + stride) % ctx->n_source;
  }
  return SPK_OK;
}
#endif

static const spk_connection_rule conn = {STRUCT_SIZE(spk_connection_rule),
#ifdef PLUGIN_CONN_DUPLICATE
                                         "fixed_indegree",
#else
                                         "c_stride",
#endif
                                         "fan sources at a stride, written in C",
                                         conn_params,
                                         sizeof conn_params / sizeof conn_params[0],
                                         0,
                                         stride_prepare,
                                         stride_expected,
#ifdef PLUGIN_CONN_NO_CONNECT
                                         NULL,
#else
                                         stride_connect,
#endif
                                         conn_choices,
                                         1,
                                         conn_required,
                                         N_CONN_REQUIRED,
                                         NULL,
                                         NULL};

#if !defined(PLUGIN_ABI_1_0) && !defined(PLUGIN_ABI_1_2)
static const spk_param spread_params[] = {
    {"fan", "", 2.0, 0.0, HUGE_VAL, 1, 0, 0, "targets per source"},
    {"random", "", 0.0, 0.0, 1.0, 1, 1, 0, "1: the first target is drawn"}};

static int spread_connect_source(const spk_connection_ctx* ctx, spk_connect_args* a) {
  const uint64_t fan = (uint64_t)ctx->params[0], nt = ctx->n_target;
  uint64_t first, k;
  if (nt == 0) return SPK_OK;
  first = ctx->params[1] != 0.0 ? ctx->below(a->stream, nt) : a->source % nt;
#ifdef PLUGIN_CONN_BAD_TARGET
  if (a->source == 2) return a->add(a->sink, nt);
#endif
  for (k = 0; k < fan; ++k)
    if (a->add(a->sink, (first + k) % nt) != 0) return SPK_ERROR;
  return SPK_OK;
}

static double spread_expected(const spk_connection_ctx* ctx) {
  return ctx->params[0] * (double)ctx->n_source;
}

static const spk_connection_rule spread = {sizeof(spk_connection_rule),
                                           "c_spread",
                                           "fan consecutive targets per source, written in C",
                                           spread_params,
                                           2,
                                           0,
                                           NULL,
                                           spread_expected,
#ifdef PLUGIN_CONN_BOTH
                                           stride_connect,
#else
                                           NULL,
#endif
                                           NULL,
                                           0,
                                           NULL,
                                           0,
                                           spread_connect_source,
                                           NULL};

static const spk_param counted_params[] = {
    {"total", "", 0.0, 0.0, 4294967295.0, 1, 1, 0, "pairs in all"},
    {"random", "", 0.0, 0.0, 1.0, 1, 1, 0, "1: counts and sources drawn"},
    {"extra", "", 0.0, 0.0, 1.0, 1, 1, 0, "1: target 0 gets one source too many"}};

static int counted_counts(const spk_connection_ctx* ctx, void* stream, uint32_t* count, char* error,
                          size_t error_size) {
  const uint64_t total = (uint64_t)ctx->params[0], nt = ctx->n_target;
  uint64_t t, k;
  if (nt == 0) {
    if (total == 0) return SPK_OK;
    snprintf(error, error_size, "total = %llu but there is no target", (unsigned long long)total);
    return SPK_ERROR;
  }
  if (ctx->params[1] != 0.0) {
    for (k = 0; k < total; ++k) ++count[ctx->below(stream, nt)];
  } else {
    for (t = 0; t < nt; ++t) count[t] = (uint32_t)(total / nt + (t < total % nt ? 1 : 0));
  }
  return SPK_OK;
}

static int counted_connect(const spk_connection_ctx* ctx, spk_connect_args* a) {
  const uint64_t ns = ctx->n_source;
  uint64_t j, n = a->count;
  if (ns == 0) return SPK_OK; /* then every count is 0 (the simulator checks) */
  if (ctx->params[2] != 0.0 && a->target == 0) ++n;
  for (j = 0; j < n; ++j) {
    const uint64_t s = ctx->params[1] != 0.0 ? ctx->below(a->stream, ns) : (a->target + j) % ns;
    if (a->add(a->sink, s) != 0) return SPK_ERROR;
  }
  return SPK_OK;
}

static double counted_expected(const spk_connection_ctx* ctx) {
  return ctx->params[0];
}

static const spk_connection_rule counted = {sizeof(spk_connection_rule),
                                            "c_counted",
                                            "`total` pairs, counted per target first, written in C",
                                            counted_params,
                                            3,
                                            0,
                                            NULL,
                                            counted_expected,
                                            counted_connect,
                                            NULL,
                                            0,
                                            NULL,
                                            0,
                                            NULL,
                                            counted_counts};

static const spk_connection_rule* const conns[] = {&conn, &spread, &counted};
#define N_CONNS 3
#else
static const spk_connection_rule* const conns[] = {&conn};
#define N_CONNS 1
#endif

/* A plugin older than 1.6: its descriptor ends before the current devices. */
#if defined(PLUGIN_ABI_1_0) || defined(PLUGIN_ABI_1_2)
#define PLUGIN_STRUCT_SIZE offsetof(spk_plugin, current_devices)
#else
#define PLUGIN_STRUCT_SIZE sizeof(spk_plugin)
#endif

static const spk_plugin plugin = {PLUGIN_STRUCT_SIZE,
#ifdef PLUGIN_MAJOR
                                  SPIKELINE_PLUGIN_ABI_MAJOR + 1,
#else
                                  SPIKELINE_PLUGIN_ABI_MAJOR,
#endif
#if defined(PLUGIN_MINOR)
                                  SPIKELINE_PLUGIN_ABI_MINOR + 1,
#elif defined(PLUGIN_ABI_1_0)
                                  0,
#elif defined(PLUGIN_ABI_1_2)
                                  2,
#else
                                  SPIKELINE_PLUGIN_ABI_MINOR,
#endif
                                  "c_plugin",
#ifdef PLUGIN_OK_V2
                                  "0.2",
#else
                                  "0.1",
#endif
                                  models,
                                  1,
                                  rules,
                                  1,
                                  conns,
                                  N_CONNS,
                                  NULL,
                                  0};

#ifdef PLUGIN_NO_ENTRY
SPIKELINE_PLUGIN_EXPORT int some_other_function(void) {
  return plugin.n_neuron_models;
}
#else
SPIKELINE_PLUGIN_EXPORT int spikeline_plugin_init(uint32_t host_major, uint32_t host_minor,
                                                  const spk_plugin** out, char* error,
                                                  size_t error_size) {
  (void)host_major;
  (void)host_minor;
#ifdef PLUGIN_INIT_ERROR
  (void)out;
  (void)plugin;
  snprintf(error, error_size, "no licence for this plugin");
  return SPK_ERROR;
#else
  (void)error;
  (void)error_size;
  *out = &plugin;
  return SPK_OK;
#endif
}
#endif
