#include "spikeline/ember/session.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <map>
#include <optional>
#include <ostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spikeline/app/session.hpp"
#include "spikeline/ember/params.hpp"
#include "spikeline/ember/reasoning.hpp"
#include "spikeline/encoding/assembly_detector.hpp"
#include "spikeline/encoding/ngram_embedder.hpp"
#include "spikeline/encoding/population_code.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/state_archive.hpp"
#include "spikeline/io/checkpoint.hpp"
#include "spikeline/io/embedding_file.hpp"

namespace spikeline::ember {

namespace {

using json = nlohmann::json;
using io::text_field;

// The session's tables in the output file (RunOptions::tables), in order.
enum Table : std::size_t { kExchanges, kActions, kAssociations };
std::vector<io::TableLayout> tables() {
  return {{"ember/exchanges",
           {"exchange", "line", "user_ms", "assistant_ms", "reward", "user_message",
            "assistant_message", "user_assembly", "assistant_assembly"}},
          {"ember/actions", {"action", "time_ms", "exchange", "message", "level", "answered"}},
          {"ember/associations", {"action", "message", "strength"}}};
}

std::size_t population_index(const app::Session& s, const std::string& name, const char* key) {
  const auto& names = s.population_names();
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k] == name) return k;
  throw ConfigError(fmt::format("[ember] {} = '{}': no such population{}; the config has: {}", key,
                                name, did_you_mean(name, names), fmt::join(names, ", ")));
}

}  // namespace

struct EmberSession::Impl {
  // A message presented, with the concept neurons it drove (its assembly,
  // in the detector under the same index).
  struct Stored {
    std::string text, id;
    std::uint32_t side = 0;      // 0 user, 1 assistant (when first presented)
    std::uint64_t exchange = 0;  // the last exchange that presented it
    std::uint64_t presentations = 0;
  };
  // An ignition that makes an action, found while simulating; handled
  // (written, the reasoning command asked) after the piece.
  struct Pending {
    Step step = 0;
    std::uint32_t assembly = 0;
    double level = 0;
    std::vector<std::pair<std::uint32_t, double>> associations;
  };

  io::Config config;
  EmberParams p;
  EmberOptions options;
  std::ostream& actions_out;
  std::ostream& log;
  std::optional<app::Session> session;
  std::optional<encoding::PopulationCode> code;
  std::optional<encoding::NgramEmbedder> embedder;
  EmbeddingTable table;
  std::optional<ReasoningEngine> reasoning;
  std::size_t sensory = 0, concept_index = 0;
  Step window = 0, gap = 0, idle = 0, settle = 0, reward_delay = 0, refractory = 0;

  // The session's state (checkpointed: walk()).
  std::uint64_t exchanges = 0, actions = 0, first_action_exchange = 0;
  std::uint64_t dim = 0;  // the embedding size, fixed by the first one (or the config)
  Step quiet_from = 0;    // activity from this step on is not explained by input
  Step last_action = -1;  // step of the last action (-1: none)
  std::vector<Stored> stored;
  // A text presented again is the same stored message (its assembly the
  // latest response): the index of each text.
  std::map<std::string, std::uint32_t> by_text;
  std::optional<encoding::AssemblyDetector> detector;
  std::string last_user, last_assistant;  // the context of actions

  // Within an exchange: spikes per concept neuron in the user's and the
  // assistant's windows ([begin, end] steps).
  std::vector<std::uint32_t> counts[2];
  Step window_begin[2] = {-1, -1}, window_end[2] = {-1, -1};
  std::vector<Pending> pending;
  std::vector<std::uint32_t> step_neurons;  // the listener's scratch
  std::size_t refused = 0;
  bool stopped = false;

  Impl(io::Config c, const Registry& registry, EmberOptions o, std::ostream& out, std::ostream& lg)
      : config(std::move(c)), options(std::move(o)), actions_out(out), log(lg) {
    // Checked before the (possibly long) build.
    p = EmberParams::from(config);
    app::RunOptions ro;
    ro.command_line = options.command_line;
    ro.stop_signal = options.stop_signal;
    ro.checkpoint_path = options.checkpoint_path;
    ro.output_on_command_line = options.output_on_command_line;
    ro.tables = tables();
    if (!p.corpus.empty()) p.encoder.corpus = io::read_corpus_stats(p.corpus);
    code.emplace(p.encoder);
    if (p.ngram) embedder.emplace(p.ngram_params);
    if (!p.embeddings.empty()) table = EmbeddingTable::read(p.embeddings);
    if (!p.reasoning_command.empty()) {
      ReasoningParams rp;
      rp.command = {"/bin/sh", "-c", p.reasoning_command};
      rp.timeout_s = p.reasoning_timeout_s;
      rp.max_answer_bytes = p.reasoning_max_answer_bytes;
      reasoning.emplace(rp);
    }
    dim = p.encoder.corpus   ? p.encoder.corpus->dim()
          : table.size() > 0 ? table.dim()
          : embedder         ? p.ngram_params.dim
                             : 0;

    if (options.resume_from.empty()) {
      session.emplace(config, registry, ro);
    } else {
      session.emplace(app::Session::resume(config, registry, ro, options.resume_from,
                                           [this](StateArchive& a) { walk(a); }));
    }
    sensory = population_index(*session, p.sensory, "sensory");
    concept_index = population_index(*session, p.concept_population, "concept");
    const TimeGrid& g = session->grid();
    window = static_cast<Step>(p.encoder.window_steps());
    gap = g.time_steps(p.gap_ms, "[ember] gap");
    idle = g.delay_steps(p.idle_ms, "[ember] idle");
    settle = g.time_steps(p.settle_ms, "[ember] settle");
    reward_delay = g.time_steps(p.reward_delay_ms, "[ember] reward_delay");
    refractory = g.time_steps(p.refractory_ms, "[ember.trigger] refractory");
    if (!detector) detector.emplace(p.detector, session->population_sizes()[concept_index]);
    session->set_checkpoint_state([this](StateArchive& a) { walk(a); });
    session->set_spike_listener([this](std::span<const SpikeRecord> s) { observe(s); });
    const std::uint64_t n = session->population_sizes()[concept_index];
    counts[0].assign(n, 0);
    counts[1].assign(n, 0);
  }

  // The session's state, both ways. The detector's assemblies first (as
  // flat neuron lists), then its levels.
  void walk(StateArchive& a) {
    StateArchive::Scope scope(a, "ember");
    a.value("exchanges", exchanges);
    a.value("actions", actions);
    a.value("first_action_exchange", first_action_exchange);
    a.value("dim", dim);
    a.value("quiet_from", quiet_from);
    a.value("last_action", last_action);
    text_field(a, "context/user", last_user);
    text_field(a, "context/assistant", last_assistant);
    // Stored messages: texts and ids concatenated, with their lengths.
    std::string texts, ids;
    std::vector<std::uint64_t> text_len, id_len, exchange_of, presentations;
    std::vector<std::uint32_t> side, members, sizes;
    if (!a.loading()) {
      for (std::uint32_t m = 0; m < stored.size(); ++m) {
        const auto& s = stored[m];
        texts += s.text;
        ids += s.id;
        text_len.push_back(s.text.size());
        id_len.push_back(s.id.size());
        exchange_of.push_back(s.exchange);
        presentations.push_back(s.presentations);
        side.push_back(s.side);
        const auto& mem = detector->members(m);
        sizes.push_back(static_cast<std::uint32_t>(mem.size()));
        members.insert(members.end(), mem.begin(), mem.end());
      }
    }
    text_field(a, "stored/texts", texts);
    text_field(a, "stored/ids", ids);
    a.field("stored/text_lengths", text_len, true);
    a.field("stored/id_lengths", id_len, true);
    a.field("stored/exchange", exchange_of, true);
    a.field("stored/presentations", presentations, true);
    a.field("stored/side", side, true);
    a.field("stored/assembly_sizes", sizes, true);
    a.field("stored/assembly_members", members, true);
    std::vector<double> levels = a.loading() ? std::vector<double>{} : detector->state();
    a.field("detector", levels, true);
    if (!a.loading()) return;
    const std::size_t n = text_len.size();
    if (id_len.size() != n || exchange_of.size() != n || side.size() != n || sizes.size() != n ||
        presentations.size() != n) {
      throw CheckpointError("checkpoint: the EMBER session's stored messages do not fit together");
    }
    detector.emplace(p.detector, session_concept_size());
    stored.clear();
    by_text.clear();
    std::size_t t = 0, i = 0, m0 = 0;
    for (std::size_t m = 0; m < n; ++m) {
      if (t + text_len[m] > texts.size() || i + id_len[m] > ids.size() ||
          m0 + sizes[m] > members.size()) {
        throw CheckpointError("checkpoint: the EMBER session's stored messages are truncated");
      }
      stored.push_back({texts.substr(t, text_len[m]), ids.substr(i, id_len[m]), side[m],
                        exchange_of[m], presentations[m]});
      if (!stored.back().text.empty()) by_text[stored.back().text] = static_cast<std::uint32_t>(m);
      t += text_len[m];
      i += id_len[m];
      detector->add({members.begin() + static_cast<std::ptrdiff_t>(m0),
                     members.begin() + static_cast<std::ptrdiff_t>(m0 + sizes[m])});
      m0 += sizes[m];
    }
    detector->restore(levels);
  }

  // The concept population's size, known from the config before the
  // session exists (a resume restores the detector while it is built).
  std::uint64_t session_concept_size() const {
    for (const auto& pc : config.populations)
      if (pc.name == p.concept_population) return pc.size;
    throw ConfigError(
        fmt::format("[ember] concept = '{}': no such population", p.concept_population));
  }

  // Every window's spikes: the concept layer's, step by step, to the
  // detector and, inside a presentation window, to that message's counts.
  void observe(std::span<const SpikeRecord> spikes) {
    std::size_t k = 0;
    while (k < spikes.size()) {
      const Step t = spikes[k].step;
      step_neurons.clear();
      for (; k < spikes.size() && spikes[k].step == t; ++k) {
        if (spikes[k].population != concept_index) continue;
        const NeuronIndex n = spikes[k].neuron;
        step_neurons.push_back(static_cast<std::uint32_t>(n));
        for (int w = 0; w < 2; ++w)
          if (t >= window_begin[w] && t <= window_end[w]) ++counts[w][n];
      }
      if (step_neurons.empty()) continue;
      std::vector<encoding::Ignition> ignitions;
      detector->observe(t, step_neurons, &ignitions);
      for (const auto& ig : ignitions) {
        if (t < quiet_from || (last_action >= 0 && t < last_action + refractory)) continue;
        Pending a{t, ig.assembly, ig.level, {}};
        const auto levels = detector->levels(t);
        for (std::uint32_t m = 0; m < levels.size(); ++m)
          if (levels[m] >= p.association_level) a.associations.emplace_back(m, levels[m]);
        std::stable_sort(a.associations.begin(), a.associations.end(),
                         [](const auto& x, const auto& y) { return x.second > y.second; });
        if (a.associations.size() > p.max_associations) a.associations.resize(p.max_associations);
        pending.push_back(std::move(a));
        last_action = t;
        break;  // one action per step
      }
    }
  }

  // The embedding of a message, checked against the session's size.
  std::vector<double> embedding_of(const Message& m, const std::string& where, const char* side) {
    std::vector<double> e;
    if (!m.embedding.empty()) {
      e = m.embedding;
    } else if (const auto* row = table.find(m.text)) {
      e = *row;
    } else if (embedder) {
      e = embedder->embed(m.text);
    } else {
      throw DataError(fmt::format(
          "{}: the {} message \"{}\" has no embedding: it is not in the embeddings table and "
          "[ember.embedder] kind = \"none\"; give \"{}_embedding\"",
          where, side, quote_input(m.text), side));
    }
    if (dim != 0 && e.size() != dim) {
      throw DataError(fmt::format("{}: the {} embedding has {} entries; this session's have {}",
                                  where, side, e.size(), dim));
    }
    return e;
  }

  void present(const Exchange& x, const std::string& where) {
    // Everything that can fail on the input, first: the substrate is
    // touched only by an exchange that is whole.
    const auto eu = embedding_of(x.user, where, "user");
    const auto ea = embedding_of(x.assistant, where, "assistant");
    encoding::Volley volley[2];
    try {
      volley[0] = code->encode(eu);
      volley[1] = code->encode(ea);
    } catch (const Error& e) {
      throw DataError(fmt::format("{}: {}", where, e.what()));
    }
    if (dim == 0) dim = eu.size();
    const double reward = x.reward.value_or(p.reward);

    const Step t0 = session->now();
    const Step begin[2] = {t0 + 1, t0 + 1 + window + gap};
    for (int w = 0; w < 2; ++w) {
      for (const auto& s : volley[w].spikes)
        session->clamp(sensory, begin[w] + static_cast<Step>(s.step), s.neuron);
      window_begin[w] = begin[w];
      window_end[w] = begin[w] + window - 1;
      std::fill(counts[w].begin(), counts[w].end(), 0);
    }
    const Step input_end = window_end[1];
    if (reward != 0) session->add_reward(p.modulator, input_end + 1 + reward_delay, reward);
    quiet_from = input_end + settle + 1;
    if (!advance(input_end)) return;

    // The two messages' assemblies, now that their windows are simulated.
    std::uint32_t sizes[2] = {0, 0}, index[2] = {0, 0};
    for (int w = 0; w < 2; ++w) {
      std::vector<std::uint32_t> members;
      for (std::uint32_t n = 0; n < counts[w].size(); ++n)
        if (counts[w][n] >= p.assembly_min_spikes) members.push_back(n);
      sizes[w] = static_cast<std::uint32_t>(members.size());
      const std::string& text = w == 0 ? x.user.text : x.assistant.text;
      const auto known = text.empty() ? by_text.end() : by_text.find(text);
      if (known != by_text.end()) {
        index[w] = known->second;
        detector->replace(index[w], std::move(members));
        stored[index[w]].exchange = exchanges + 1;
        if (!x.id.empty()) stored[index[w]].id = x.id;
      } else {
        index[w] = detector->add(std::move(members));
        stored.push_back({text, x.id, static_cast<std::uint32_t>(w), exchanges + 1, 0});
        if (!text.empty()) by_text[text] = index[w];
      }
      ++stored[index[w]].presentations;
      window_begin[w] = window_end[w] = -1;
    }
    ++exchanges;
    last_user = x.user.text;
    last_assistant = x.assistant.text;
    const TimeGrid& g = session->grid();
    const double row[] = {static_cast<double>(exchanges),
                          static_cast<double>(x.line),
                          g.to_ms(begin[0]),
                          g.to_ms(begin[1]),
                          reward,
                          static_cast<double>(index[0]),
                          static_cast<double>(index[1]),
                          static_cast<double>(sizes[0]),
                          static_cast<double>(sizes[1])};
    session->append_row(kExchanges, row);
    if (!advance(input_end + idle)) return;
    if (!options.checkpoint_path.empty()) session->checkpoint();
  }

  // Simulates to `until`, then handles the actions found. False when a
  // stop signal ended it early.
  bool advance(Step until) {
    const bool completed = session->run_until(until);
    handle_actions();
    if (!completed) stopped = true;
    return completed;
  }

  void handle_actions() {
    for (auto& a : pending) {
      ++actions;
      if (first_action_exchange == 0) first_action_exchange = exchanges;
      const TimeGrid& g = session->grid();
      json request;
      request["action"] = actions;
      request["time_ms"] = g.to_ms(a.step);
      request["exchange"] = exchanges;
      request["trigger"] = {{"message", a.assembly}, {"level", a.level}};
      json assoc = json::array();
      for (const auto& [m, level] : a.associations) {
        const auto& s = stored[m];
        json item = {{"message", m},
                     {"text", s.text},
                     {"side", s.side == 0 ? "user" : "assistant"},
                     {"exchange", s.exchange},
                     {"presentations", s.presentations},
                     {"strength", level}};
        if (!s.id.empty()) item["id"] = s.id;
        assoc.push_back(std::move(item));
      }
      request["associations"] = std::move(assoc);
      request["context"] = {{"user", last_user}, {"assistant", last_assistant}};
      json line = request;
      bool answered = false;
      if (reasoning) {
        const std::string text = request.dump(-1, ' ', false, json::error_handler_t::replace);
        const ReasoningAnswer r = reasoning->ask(text, options.stop_signal);
        if (r.ok) {
          line["answer"] = json::parse(r.answer);
          answered = true;
        } else {
          line["reasoning_error"] = r.error;
          log << fmt::format("spikeline ember: action {} at {} ms: {}\n", actions, g.to_ms(a.step),
                             r.error);
        }
        line["reasoning_s"] = r.seconds;
      }
      actions_out << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
      actions_out.flush();
      const double row[] = {
          static_cast<double>(actions),    g.to_ms(a.step), static_cast<double>(exchanges),
          static_cast<double>(a.assembly), a.level,         answered ? 1.0 : 0.0};
      session->append_row(kActions, row);
      for (const auto& [m, level] : a.associations) {
        const double r2[] = {static_cast<double>(actions), static_cast<double>(m), level};
        session->append_row(kAssociations, r2);
      }
    }
    pending.clear();
  }

  void idle_for(double ms) {
    const TimeGrid& g = session->grid();
    const Step total = g.time_steps(ms, "--idle");
    const Step end = session->now() + total;
    // Pieces of 10 s of simulated time: actions are written as they come.
    const Step piece = std::max<Step>(1, g.delay_steps(10000.0, "idle piece"));
    while (session->now() < end && !stopped) {
      if (!advance(std::min(end, session->now() + piece))) break;
    }
  }
};

EmberSession::EmberSession(io::Config config, const Registry& registry, EmberOptions options,
                           std::ostream& actions, std::ostream& log)
    : impl_(std::make_unique<Impl>(std::move(config), registry, std::move(options), actions, log)) {
}
EmberSession::~EmberSession() = default;

void EmberSession::present(const Exchange& e, const std::string& where) {
  impl_->present(e, where);
}

void EmberSession::read(std::istream& input, const std::string& source) {
  std::string line;
  std::size_t passed = 0;
  for (std::size_t n = 1; !impl_->stopped && std::getline(input, line); ++n) {
    if (is_skippable(line)) continue;
    const std::string where = fmt::format("{} line {}", source, n);
    try {
      Exchange e = parse_exchange(line, where);
      e.line = n;
      if (passed < impl_->options.skip) {
        ++passed;
        continue;
      }
      impl_->present(e, where);
    } catch (const DataError& e) {
      ++impl_->refused;
      impl_->log << "spikeline ember: refused: " << e.what() << "\n";
    }
    if (impl_->options.stop_signal && *impl_->options.stop_signal) impl_->stopped = true;
  }
}

void EmberSession::idle(double ms) {
  impl_->idle_for(ms);
}

EmberResult EmberSession::finish() {
  Impl& s = *impl_;
  EmberResult r;
  if (!s.stopped && !s.options.checkpoint_path.empty() && !s.session->ended()) {
    s.session->checkpoint();
  }
  r.run = s.session->end();
  r.exchanges = s.exchanges;
  r.actions = s.actions;
  r.first_action_exchange = s.first_action_exchange;
  r.refused_lines = s.refused;
  r.code = r.run.code;
  r.message = r.run.message;
  if (r.code == ExitCode::ok && s.refused > 0) {
    r.code = ExitCode::data;
    r.message = fmt::format("{} input line(s) refused (see the messages above)", s.refused);
  }
  return r;
}

std::size_t EmberSession::exchanges() const {
  return impl_->exchanges;
}
std::size_t EmberSession::actions() const {
  return impl_->actions;
}

}  // namespace spikeline::ember
