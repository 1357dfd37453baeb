// spikeline: the command-line interface.
//
//   spikeline run CONFIG [--set key=value]... [--threads N] [--seed S]
//                        [--duration MS] [--output FILE] [--quiet]
//                        [--checkpoint FILE [--checkpoint-every MS]]
//   spikeline resume CHECKPOINT [--duration MS] [--threads N] [--checkpoint FILE]
//                               [--checkpoint-every MS] [--quiet]
//   spikeline train CONFIG [--set key=value]... [--threads N] [--steps N]
//                          [--output FILE] [--quiet]
//   spikeline validate CONFIG [--set key=value]...
//   spikeline models [NAME]
// run, resume, train, validate and models also take --plugin PATH.so (repeatable).
//   spikeline inspect FILE
//   spikeline report FILE [-o DIR] [...]   (runs python3 -m spikeline.report)
//
// Exit codes (sysexits): 0 success, 64 usage, 65 bad data, 66 missing
// input, 69 a program it needs is missing (report), 70 stopped by a guard, 73 cannot create output,
// 74 I/O error, 78 bad config, 130/143 after SIGINT/SIGTERM (output flushed and closed; during the
// build: no output created or touched).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "spikeline/app/run.hpp"
#include "spikeline/app/train.hpp"
#include "spikeline/ember/params.hpp"
#include "spikeline/ember/session.hpp"
#include "spikeline/engine/communicator.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/io/build.hpp"
#include "spikeline/io/config.hpp"
#include "spikeline/io/sonata_reader.hpp"
#include "spikeline/learning/builtin.hpp"
#include "spikeline/neurons/builtin.hpp"
#include "spikeline/plugin/loader.hpp"
#include "spikeline/synapses/connect.hpp"
#ifdef SPIKELINE_HAVE_MPI
#include "spikeline/mpi/communicator.hpp"
#endif

namespace po = boost::program_options;
using namespace spikeline;

namespace {

// The one piece of global state: a signal handler can only talk to the
// program through a volatile sig_atomic_t.
volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_signal(int sig) {
  g_stop_signal = sig;
}

// The run's processes: this one alone, or the ranks of an MPI job
// (`mpirun -np K spikeline run CONFIG`, docs/mpi-design.md).
using Comm = std::shared_ptr<Communicator>;

// A command that does not run distributed yet refuses a job of several
// ranks before it reads anything (every rank alike, so all of them exit).
void refuse_ranks(const Comm& comm, const std::string& what) {
  if (comm->size() <= 1) return;
  throw UsageError(fmt::format(
      "{} runs in one process: it was started as rank {} of {} (mpirun -np {}); run it without "
      "mpirun, with --threads",
      what, comm->rank(), comm->size(), comm->size()));
}

const char* kUsage =
    "usage: spikeline <command> [options]\n"
    "\n"
    "commands:\n"
    "  run CONFIG        simulate the network in CONFIG (TOML) and write HDF5 output\n"
    "  resume FILE       continue a run from its checkpoint FILE\n"
    "  train CONFIG      train a network on the task of CONFIG ([task], [training])\n"
    "  ember CONFIG      an EMBER session: exchanges (JSON lines) in, actions (JSON lines) out\n"
    "  validate CONFIG   check CONFIG without simulating\n"
    "  models [NAME]     list the registered models, their parameters and state variables\n"
    "  inspect FILE      summarise an output file (populations, spikes, rates, time range)\n"
    "  report FILE       write an HTML report with plots of an output file (needs Python)\n"
    "\n"
    "options: --help (also after a command), --version\n"
    "Times are in ms everywhere. Documentation: docs/ in the source tree.\n";

std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  return s;
}

// What a command's --help prints, and its one operand.
struct CommandHelp {
  const char* command;  // "run"
  const char* operand;  // "CONFIG": the positional argument, shown in the usage line
  const char* key;      // the option it is stored under ("config")
  const char* doc;      // "the TOML config"
  const char* missing;  // "a CONFIG file": an error when absent; nullptr: optional
  const char* about;
};

// Parses a command's arguments: its options `o` (with --help) and its
// operand, stored in `operand`. Prints the help and returns nothing on
// --help; a missing required operand is a usage error.
std::optional<po::variables_map> parse_command(const std::vector<std::string>& args,
                                               po::options_description& o, const CommandHelp& help,
                                               std::string& operand) {
  if (o.find_nothrow("help", false) == nullptr) o.add_options()("help,h", "show this help");
  o.add_options()(help.key, po::value<std::string>(&operand), help.doc);
  po::positional_options_description pos;
  pos.add(help.key, 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(o).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(fmt::format("{} (see --help)", e.what()));
  }
  if (vm.count("help")) {
    const bool listed = o.options().size() > 2;  // more than --help and the operand
    std::cout << fmt::format("usage: spikeline {} {}{}\n\n{}\n", help.command,
                             help.missing ? help.operand : fmt::format("[{}]", help.operand),
                             listed ? " [options]" : "", help.about);
    if (listed) std::cout << "\n" << o;
    return std::nullopt;
  }
  if (help.missing != nullptr && operand.empty()) {
    throw UsageError(fmt::format("{}: {} is required (see --help)", help.command, help.missing));
  }
  return vm;
}

po::options_description config_options(std::vector<std::string>& sets) {
  po::options_description o("options");
  o.add_options()("help,h", "show this help")(
      "set", po::value<std::vector<std::string>>(&sets)->composing(),
      "override a config value: key=value, e.g. simulation.duration=500 or "
      "population.exc.size=100 (repeatable)");
  return o;
}

// Options that run and resume share: progress, rewards, checkpoints.
void add_loop_options(po::options_description& o) {
  o.add_options()("quiet,q", "no progress line")(
      "reward-input", po::value<std::string>(),
      "rewards from a file or a stream ('-' for stdin), one per line: [TIME_MS] MODULATOR "
      "AMOUNT")("reward-poll", po::value<double>()->default_value(10.0),
                "simulated ms between polls of a reward stream")(
      "checkpoint", po::value<std::string>(),
      "save the whole state to this HDF5 file at the end, when stopped by SIGINT/SIGTERM, and "
      "every --checkpoint-every ms (written atomically; see `spikeline resume`)")(
      "checkpoint-every", po::value<double>(),
      "simulated ms between checkpoints (a whole number of steps)");
}

app::RunOptions loop_options(const po::variables_map& vm, const std::string& cmdline) {
  app::RunOptions ro;
  ro.command_line = cmdline;
  ro.progress = !vm.count("quiet") && isatty(STDERR_FILENO);
  ro.stop_signal = &g_stop_signal;
  if (vm.count("reward-input")) ro.reward_input = vm["reward-input"].as<std::string>();
  ro.reward_poll_ms = vm["reward-poll"].as<double>();
  if (vm.count("checkpoint")) {
    ro.checkpoint_path = vm["checkpoint"].as<std::string>();
    if (ro.checkpoint_path.empty()) throw UsageError("--checkpoint: the file name is empty");
  }
  if (vm.count("checkpoint-every")) {
    ro.checkpoint_every_ms = vm["checkpoint-every"].as<double>();
    if (!(ro.checkpoint_every_ms > 0) || !std::isfinite(ro.checkpoint_every_ms)) {
      throw UsageError(fmt::format("--checkpoint-every {}: must be a positive, finite time in ms",
                                   ro.checkpoint_every_ms));
    }
  }
  return ro;
}

int report(const app::RunResult& r, const std::string& output) {
  std::cerr << r.summary_line() << "\n";
  if (r.status == "failed") std::cerr << "spikeline: error: " << r.message << "\n";
  if (output.empty()) return static_cast<int>(r.code);
  if (r.code == ExitCode::io) {
    // A write failed (a full disk): HDF5 may have left the file's end-of-data
    // mark beyond what reached the disk.
    std::cerr << fmt::format(
        "spikeline: the output {} holds what was flushed up to its /provenance/simulated_ms; if "
        "h5py cannot open it, `h5clear -s --increment {}` makes it readable\n",
        output, output);
  } else {
    std::cerr << "spikeline: output written to " << output << "\n";
  }
  return static_cast<int>(r.code);
}

// The integer options, read from their text here: boost's parse of "-1"
// as an unsigned wrapped it to 2^64 - 1, which as a --set value was no
// TOML integer ("simulation.seed must be a whole number, got a string"),
// and its refusals name no range. The ranges are the config keys'.
struct IntegerOption {
  const char* name;  // without the dashes
  const char* what;  // "a seed is", ...
  std::int64_t min, max;
};
constexpr IntegerOption kThreads{"threads", "the number of threads is", 1, 1024};
constexpr IntegerOption kSeed{"seed", "a seed is", 0, std::numeric_limits<std::int64_t>::max()};
constexpr IntegerOption kSteps{"steps", "the number of training steps is", 0, 1000000000};

std::int64_t integer_option(const po::variables_map& vm, const IntegerOption& o) {
  const std::string text = vm[o.name].as<std::string>();
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || stop != end || v < o.min || v > o.max) {
    throw UsageError(fmt::format("--{}: {} is not valid: {} an integer in [{}, {}]", o.name,
                                 escaped(text), o.what, o.min, o.max));
  }
  return v;
}

// The options that stand for a config key (--threads N is --set
// simulation.threads=N, ...): added after the user's --set, checked like them.
// A number formats as TOML text safely; a path does not (see set_output).
void add_config_overrides(const po::variables_map& vm, std::vector<std::string>& sets) {
  if (vm.count("threads"))
    sets.push_back(fmt::format("simulation.threads={}", integer_option(vm, kThreads)));
  if (vm.count("seed"))
    sets.push_back(fmt::format("simulation.seed={}", integer_option(vm, kSeed)));
  if (vm.count("duration"))
    sets.push_back(fmt::format("simulation.duration={}", vm["duration"].as<double>()));
  if (vm.count("steps"))
    sets.push_back(fmt::format("training.steps={}", integer_option(vm, kSteps)));
}

// --output is set on the parsed config as a value: passed through TOML text
// (output.file="...") a path holding a '"', a '\' or a control character
// named another file. /provenance/command_line records it.
void set_output(const po::variables_map& vm, io::Config& config) {
  if (!vm.count("output")) return;
  const auto& output = vm["output"].as<std::string>();
  if (output.empty()) throw UsageError("--output: the file name is empty");
  config.output.file = output;
}

Registry builtin_registry() {
  Registry registry;
  register_builtin_models(registry);
  register_builtin_rules(registry);
  synapses::register_builtin_connection_rules(registry);
  return registry;
}

// --plugin PATH (repeatable): a plugin's models beside the built-in ones.
void add_plugin_option(po::options_description& o, std::vector<std::string>& plugins) {
  o.add_options()("plugin", po::value<std::vector<std::string>>(&plugins)->composing(),
                  "load the models of a plugin (a shared library, docs/plugins.md); repeatable");
}

// The built-in models, those of the --plugin libraries, then those of the
// config's `plugins` list (a library named twice is loaded once).
Registry registry_with(const std::vector<std::string>& plugins, const io::Config* config) {
  Registry registry = builtin_registry();
  for (const auto& p : plugins)
    if (p.empty()) throw UsageError("--plugin: the file name is empty");
  plugin::load_plugins(plugins, registry);
  if (config != nullptr) plugin::load_plugins(config->plugins, registry);
  return registry;
}

int cmd_run(const std::vector<std::string>& args, const std::string& cmdline, const Comm& comm) {
  std::vector<std::string> sets;
  auto o = config_options(sets);
  std::string config_path;
  o.add_options()("threads,t", po::value<std::string>(), "number of threads (simulation.threads)")(
      "seed,s", po::value<std::string>(), "random seed (simulation.seed)")(
      "duration,d", po::value<double>(), "simulated time in ms (simulation.duration)")(
      "output,o", po::value<std::string>(), "output HDF5 file (output.file)");
  add_loop_options(o);
  std::vector<std::string> plugins;
  add_plugin_option(o, plugins);
  const auto parsed = parse_command(
      args, o,
      {"run", "CONFIG", "config", "the TOML config", "a CONFIG file",
       "Simulate CONFIG and write spikes, traces and weights to an HDF5 file (SONATA layout)."},
      config_path);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  if (vm.count("checkpoint-every") && !vm.count("checkpoint"))
    throw UsageError("run: --checkpoint-every needs --checkpoint FILE");
  add_config_overrides(vm, sets);
  io::Config config = io::load_config(config_path, sets);
  const Registry registry = registry_with(plugins, &config);
  set_output(vm, config);

  app::RunOptions ro = loop_options(vm, cmdline);
  ro.output_on_command_line = vm.count("output") > 0;
  ro.comm = comm;
  ro.progress = ro.progress && comm->rank() == 0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  return report(app::run(config, registry, ro), config.output.file);
}

int cmd_resume(const std::vector<std::string>& args, const std::string& cmdline, const Comm& comm) {
  po::options_description o("options");
  std::string checkpoint;
  o.add_options()("threads,t", po::value<std::string>(),
                  "number of threads (any; the partitions are kept)")(
      "duration,d", po::value<double>(),
      "the new end of the run in simulated ms (default: the config's duration)");
  add_loop_options(o);
  std::vector<std::string> plugins;
  add_plugin_option(o, plugins);
  const auto parsed = parse_command(
      args, o,
      {"resume", "CHECKPOINT", "file", "the checkpoint", "a CHECKPOINT file",
       "Continue the run saved in CHECKPOINT (written by run --checkpoint): the same network, "
       "seed and output file, which is cut back to the checkpoint and continued. The result is "
       "the same, bit for bit, as a run that never stopped. Checkpoints go on to the same file "
       "at the same interval unless --checkpoint/--checkpoint-every say otherwise."},
      checkpoint);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  app::ResumeOptions options;
  options.run = loop_options(vm, cmdline);
  // Any number of ranks up to the checkpoint's partitions (app::resume).
  options.run.comm = comm;
  options.run.progress = options.run.progress && comm->rank() == 0;
  options.checkpoint_every_given = vm.count("checkpoint-every") > 0;
  if (vm.count("threads")) options.threads = static_cast<int>(integer_option(vm, kThreads));
  if (vm.count("duration")) {
    options.duration_ms = vm["duration"].as<double>();
    if (!(options.duration_ms > 0) || !std::isfinite(options.duration_ms)) {
      throw UsageError(
          fmt::format("--duration {}: must be a positive, finite time in ms", options.duration_ms));
    }
  }
  // The checkpointed config's own `plugins` are loaded by resume().
  const Registry registry = registry_with(plugins, nullptr);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::string output;
  const app::RunResult r = app::resume(checkpoint, registry, options, &output);
  return report(r, output);
}

int cmd_train(const std::vector<std::string>& args, const std::string& cmdline, const Comm& comm) {
  refuse_ranks(comm, "spikeline train");
  std::vector<std::string> sets;
  auto o = config_options(sets);
  std::string config_path;
  o.add_options()("threads,t", po::value<std::string>(), "number of threads (simulation.threads)")(
      "steps", po::value<std::string>(), "training steps ([training] steps)")(
      "output,o", po::value<std::string>(), "output HDF5 file (output.file)")("quiet,q",
                                                                              "no progress lines");
  std::vector<std::string> plugins;
  add_plugin_option(o, plugins);
  const auto parsed = parse_command(
      args, o,
      {"train", "CONFIG", "config", "the TOML config", "a CONFIG file",
       "Train the network of CONFIG on its [task] by surrogate-gradient BPTT ([training]), "
       "evaluate recall and its robustness ([evaluation]), and write weights, recall rasters "
       "and the training log to an HDF5 file (docs/training.md)."},
      config_path);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  add_config_overrides(vm, sets);
  io::Config config = io::load_config(config_path, sets);
  const Registry registry = registry_with(plugins, &config);
  set_output(vm, config);
  app::TrainOptions to;
  to.command_line = cmdline;
  to.progress = !vm.count("quiet") && isatty(STDERR_FILENO);
  to.stop_signal = &g_stop_signal;
  to.output_on_command_line = vm.count("output") > 0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const app::TrainResult r = app::train(config, registry, to);
  std::cerr << r.summary_line() << "\n";
  if (r.status == "failed") std::cerr << "spikeline: error: " << r.message << "\n";
  if (!config.output.file.empty())
    std::cerr << "spikeline: output written to " << config.output.file << "\n";
  return static_cast<int>(r.code);
}

int cmd_ember(const std::vector<std::string>& args, const std::string& cmdline, const Comm& comm) {
  refuse_ranks(comm, "spikeline ember (an interactive session)");
  std::vector<std::string> sets;
  auto o = config_options(sets);
  std::string config_path;
  o.add_options()("threads,t", po::value<std::string>(), "number of threads (simulation.threads)")(
      "seed,s", po::value<std::string>(), "random seed (simulation.seed)")(
      "output,o", po::value<std::string>(), "output HDF5 file (output.file)")(
      "input,i", po::value<std::string>()->default_value("-"),
      "the exchanges, JSON lines ('-': stdin)")(
      "checkpoint", po::value<std::string>(),
      "save the whole state (substrate and session) to this file after every exchange and at "
      "the end")("resume", po::value<std::string>(),
                 "continue the session saved in this checkpoint (CONFIG must build the same "
                 "substrate); later checkpoints go to --checkpoint, else to the same file")(
      "skip", po::value<std::string>(),
      "pass over the first N exchanges of the input (those a resumed session already had)")(
      "idle", po::value<double>(),
      "after the input ends, simulate this many hours of idle (spontaneous activity; actions "
      "may come)");
  std::vector<std::string> plugins;
  add_plugin_option(o, plugins);
  const auto parsed = parse_command(
      args, o,
      {"ember", "CONFIG", "config", "the TOML config of the substrate, with its [ember] table",
       "a CONFIG file",
       "Run an EMBER session (docs/ember.md): each input line is an exchange (a user and an "
       "assistant message, or their embeddings, and a reward), presented to the substrate as "
       "spike volleys and followed by an idle window. Whenever a learned concept assembly "
       "reignites without input, an action is written to stdout as a JSON line with the "
       "associations it surfaces (and, with [ember.reasoning] command, that command's answer). "
       "Spikes, rewards and the session's tables go to the output file."},
      config_path);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  add_config_overrides(vm, sets);
  io::Config config = io::load_config(config_path, sets);
  const Registry registry = registry_with(plugins, &config);
  set_output(vm, config);
  ember::EmberOptions eo;
  eo.command_line = cmdline;
  eo.stop_signal = &g_stop_signal;
  eo.output_on_command_line = vm.count("output") > 0;
  if (vm.count("checkpoint")) {
    eo.checkpoint_path = vm["checkpoint"].as<std::string>();
    if (eo.checkpoint_path.empty()) throw UsageError("--checkpoint: the file name is empty");
  }
  if (vm.count("resume")) {
    eo.resume_from = vm["resume"].as<std::string>();
    if (eo.resume_from.empty()) throw UsageError("--resume: the file name is empty");
    if (eo.checkpoint_path.empty()) eo.checkpoint_path = eo.resume_from;
  }
  if (vm.count("skip")) {
    constexpr IntegerOption kSkip{"skip", "the number of exchanges to skip is", 0,
                                  std::numeric_limits<std::int64_t>::max()};
    eo.skip = static_cast<std::size_t>(integer_option(vm, kSkip));
  }
  if (vm.count("idle")) {
    eo.idle_hours = vm["idle"].as<double>();
    if (!(eo.idle_hours > 0 && eo.idle_hours <= 1e4)) {
      throw UsageError(
          fmt::format("--idle {}: must be a number of hours in (0, 10000]", eo.idle_hours));
    }
  }
  const std::string input = vm["input"].as<std::string>();
  std::ifstream file;
  if (input != "-") {
    if (std::filesystem::is_directory(input) || (file.open(input), !file)) {
      throw Error(ExitCode::no_input, fmt::format("--input {}: cannot be read", input));
    }
  }
  // Without SA_RESTART: Ctrl-C while the session waits for its next line
  // interrupts the read (std::signal's handlers restart it, and the
  // session would wait for one more line before it noticed).
  struct sigaction stop {};
  stop.sa_handler = on_signal;
  sigemptyset(&stop.sa_mask);
  sigaction(SIGINT, &stop, nullptr);
  sigaction(SIGTERM, &stop, nullptr);
  // A reasoning command that exits before reading its request must not
  // kill the session (reasoning.cpp also guards its own writes).
  std::signal(SIGPIPE, SIG_IGN);
  const std::string output = config.output.file;
  ember::EmberSession session(std::move(config), registry, eo, std::cout, std::cerr);
  session.read(input == "-" ? std::cin : file, input == "-" ? "stdin" : input);
  if (eo.idle_hours > 0 && !g_stop_signal) session.idle(eo.idle_hours * 3600e3);
  const ember::EmberResult r = session.finish();
  std::cerr << fmt::format("spikeline ember: {} exchanges, {} actions{}", r.exchanges, r.actions,
                           r.first_action_exchange ? fmt::format(" (the first after exchange {})",
                                                                 r.first_action_exchange)
                                                   : std::string())
            << "\n";
  if (!r.message.empty() && r.run.status != "failed")
    std::cerr << "spikeline: " << r.message << "\n";
  if (g_stop_signal != 0 && r.run.status == "complete") {
    // Stopped while waiting for input: every exchange read was presented
    // whole, and the checkpoint (if any) holds them all.
    std::cerr << fmt::format(
        "spikeline ember: stopped by signal {} between exchanges; the session ended normally\n",
        static_cast<int>(g_stop_signal));
  }
  const int code = report(r.run, output);
  return r.code != ExitCode::ok ? static_cast<int>(r.code) : code;
}

int cmd_validate(const std::vector<std::string>& args, const std::string&, const Comm&) {
  std::vector<std::string> sets;
  auto o = config_options(sets);
  std::string config_path;
  std::vector<std::string> plugins;
  add_plugin_option(o, plugins);
  if (!parse_command(args, o,
                     {"validate", "CONFIG", "config", "the TOML config", "a CONFIG file",
                      "Check CONFIG (syntax, keys, models, parameters, ranges, memory) without "
                      "simulating."},
                     config_path)) {
    return 0;
  }
  const io::Config config = io::load_config(config_path, sets);
  const Registry registry = registry_with(plugins, &config);
  io::validate_config(config, registry);
  // A substrate's [ember] tables, as `spikeline ember` reads them.
  if (config.has_ember) ember::EmberParams::from(config);
  std::uint64_t neurons = 0;
  for (const auto& p : config.populations) neurons += p.size;
  std::cout << fmt::format("{}: valid ({} populations, {} neurons, {} projections, {} ms)\n",
                           config_path, config.populations.size(), neurons,
                           config.projections.size(), config.simulation.duration_ms);
  return 0;
}

std::string default_of(const ParamInfo& p) {
  if (p.required) return "required";
  if (!p.default_text.empty()) return p.default_text;
  return std::isnan(p.default_value) ? "-" : fmt::format("{:g}", p.default_value);
}

const char* kind_name(ModelKind k) {
  switch (k) {
    case ModelKind::neuron:
      return "neuron";
    case ModelKind::generator:
      return "generator";
    default:
      return "stimulus";
  }
}

int cmd_models(const std::vector<std::string>& args, const std::string&, const Comm&) {
  po::options_description o("options");
  std::string name;
  std::vector<std::string> plugins;
  add_plugin_option(o, plugins);
  if (!parse_command(args, o,
                     {"models", "NAME", "name", "a model or rule", nullptr,
                      "List every registered model with its parameters (units, defaults) and "
                      "state variables, or only NAME."},
                     name)) {
    return 0;
  }
  const Registry registry = registry_with(plugins, nullptr);
  std::vector<const ModelInfo*> list;
  std::vector<const RuleInfo*> rules;
  std::vector<const ConnectionRuleInfo*> connections;
  if (name.empty()) {
    list = registry.all();
    rules = registry.rules();
    connections = registry.connection_rules();
  } else if (registry.has_rule(name) && !registry.has(name)) {
    rules.push_back(&registry.get_rule(name, "models"));
  } else if (registry.has_connection_rule(name) && !registry.has(name)) {
    connections.push_back(&registry.get_connection_rule(name, "models"));
  } else {
    list.push_back(&registry.get(name, "models"));
  }
  for (const auto* m : list) {
    std::cout << fmt::format("{} ({})\n  {}\n", m->name, kind_name(m->kind), m->summary);
    if (!m->origin.empty()) std::cout << fmt::format("  from plugin {}\n", m->origin);
    std::cout << "  parameters:\n";
    std::vector<std::string> varying;
    for (const auto& p : m->params) {
      std::cout << fmt::format("    {:<18} {:>10} {:<4}  {}\n", p.name, default_of(p), p.unit,
                               p.doc);
      if (p.per_neuron) varying.push_back(p.name);
    }
    if (!varying.empty()) {
      std::cout << fmt::format("  per neuron (a distribution or an array of `size` numbers): {}\n",
                               fmt::join(varying, ", "));
    }
    if (!m->state_vars.empty()) {
      std::cout << "  state variables:\n";
      for (const auto& v : m->state_vars) {
        std::cout << fmt::format("    {:<18} {:<4}  {}\n", v.name, v.unit, v.doc);
      }
    }
    std::cout << "\n";
  }
  for (const auto* r : rules) {
    std::cout << fmt::format("{} (plasticity rule)\n  {}\n", r->name, r->summary);
    if (!r->origin.empty()) std::cout << fmt::format("  from plugin {}\n", r->origin);
    std::cout << "  parameters:\n";
    for (const auto& p : r->params) {
      std::cout << fmt::format("    {:<18} {:>10} {:<4}  {}\n", p.name, default_of(p), p.unit,
                               p.doc);
    }
    // What [[record_weights]] variables can name (a rule with its defaults says).
    // A rule that needs its neuromodulator named (plugin ABI 1.4) is made
    // with a stand-in: only its variables are asked, it never runs.
    ParamMap defaults;
    for (const auto& p : r->params)
      if (p.required && p.name == "modulator") defaults.set(p.name, std::string("(any)"));
    const auto rule = r->make(defaults, TimeGrid(0.1));
    std::cout << fmt::format("  synapse variables: {}\n\n",
                             fmt::join(rule->synapse_variables(), ", "));
  }
  for (const auto* r : connections) {
    std::cout << fmt::format("{} (connection rule)\n  {}\n", r->name, r->summary);
    if (!r->origin.empty()) {
      std::cout << fmt::format("  from plugin {}; its parameters go in params = {{...}}\n",
                               r->origin);
    }
    if (!r->params.empty()) std::cout << "  parameters:\n";
    for (const auto& p : r->params) {
      std::cout << fmt::format("    {:<18} {:>10} {:<4}  {}\n", p.name, default_of(p), p.unit,
                               p.doc);
    }
    std::cout << "\n";
  }
  return 0;
}

int cmd_inspect(const std::vector<std::string>& args, const std::string&, const Comm&) {
  po::options_description o("options");
  std::string file;
  if (!parse_command(args, o,
                     {"inspect", "FILE", "file", "an output file", "a FILE",
                      "Summarise a spikeline output file: run status, populations, spike counts, "
                      "rates, time range, reports, edges."},
                     file)) {
    return 0;
  }
  const io::FileSummary summary = io::inspect(file);
  std::cout << io::format_summary(summary);
  if (!summary.problems.empty()) {
    throw DataError(fmt::format("{}: damaged or inconsistent metadata ({} problem{}): {}", file,
                                summary.problems.size(), summary.problems.size() == 1 ? "" : "s",
                                fmt::join(summary.problems, "; ")));
  }
  return 0;
}

// The interpreter and the package `report` runs, fixed when spikeline is
// built (tools/CMakeLists.txt); SPIKELINE_PYTHON in the environment names
// another interpreter.
const char* kReportPython = SPIKELINE_REPORT_PYTHON;
const char* kPackageDir = SPIKELINE_PYTHON_PACKAGE_DIR;
const char* kPythonPackages = "python3 python3-numpy python3-h5py python3-matplotlib";

// `report` is the Python package's (python/spikeline/report.py): this
// checks what it can say better than Python could (a missing file, a missing
// interpreter) and then replaces itself with
// `python3 -m spikeline.report FILE ...`, whose exit code is the command's.
// The package of the source tree this binary was built from comes first on
// PYTHONPATH (so a build tree needs no installation); without it, the one
// `cmake --install` put into the interpreter's dist-packages is used.
int cmd_report(const std::vector<std::string>& args, const std::string&, const Comm& comm) {
  // K ranks would write the same report files at once.
  refuse_ranks(comm, "spikeline report");
  po::options_description o("options");
  std::string file;
  o.add_options()("output,o", po::value<std::string>(),
                  "the directory to write (default: FILE without .h5, plus _report)")(
      "max-spikes", po::value<std::string>(),
      "most spikes drawn in the raster; beyond, neurons are subsampled (default 200000)")(
      "max-neurons", po::value<std::string>(), "most neurons (rows) in the raster (default 300)")(
      "raster-ms", po::value<std::string>(),
      "the raster shows the last this many ms (default 1000)")(
      "bin", po::value<std::string>(),
      "bin of the population rate in ms (default: 1/400 of the run)");
  const std::string about = fmt::format(
      "Write DIR/index.html and its plots: the run's summary (status, timing, populations, "
      "spike counts, rates, ISI CV), raster, population rate, rate and ISI distributions, "
      "recorded traces, weights; for spikeline train, the training curves and recall rasters; "
      "and the config. Opens in any browser, offline. Runs Python's spikeline package "
      "(docs/python.md) with {}.",
      kReportPython);
  const auto parsed = parse_command(
      args, o, {"report", "FILE", "file", "an output file", "a FILE", about.c_str()}, file);
  if (!parsed) return 0;
  const auto& vm = *parsed;
  struct stat st {};
  if (stat(file.c_str(), &st) != 0) {
    throw Error(ExitCode::no_input,
                fmt::format("report: {}: {}", escaped(file), std::strerror(errno)));
  }
  // As inspect: a FIFO would block the reader, a directory is no file.
  if (!S_ISREG(st.st_mode)) {
    throw Error(
        ExitCode::no_input,
        fmt::format("report: {}: not a regular file (a directory, FIFO or device)", escaped(file)));
  }
  const char* env_python = std::getenv("SPIKELINE_PYTHON");
  const std::string python = env_python && *env_python ? env_python : kReportPython;
  if (access(python.c_str(), X_OK) != 0) {
    throw Error(ExitCode::unavailable,
                fmt::format("report needs Python 3 with numpy, h5py and matplotlib, and there is "
                            "no executable {} ({}); on Debian: apt-get install {} (or run "
                            "scripts/install-deps.sh)",
                            escaped(python), std::strerror(errno), kPythonPackages));
  }
  std::vector<std::string> argv_text{python, "-m", "spikeline.report", "--", file};
  for (const char* name : {"output", "max-spikes", "max-neurons", "raster-ms", "bin"}) {
    if (vm.count(name)) {
      argv_text.insert(argv_text.end() - 2, {std::string("--") + name, vm[name].as<std::string>()});
    }
  }
  struct stat package {};
  const std::string init = std::string(kPackageDir) + "/spikeline/__init__.py";
  if (stat(init.c_str(), &package) == 0) {
    const char* old = std::getenv("PYTHONPATH");
    const std::string path =
        old && *old ? std::string(kPackageDir) + ":" + old : std::string(kPackageDir);
    setenv("PYTHONPATH", path.c_str(), 1);
  }
  setenv("SPIKELINE_REPORT_PROG", "spikeline report", 1);
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  execv(python.c_str(), argv.data());
  throw Error(ExitCode::unavailable,
              fmt::format("report: cannot run {}: {}; on Debian: apt-get install {}",
                          escaped(python), std::strerror(errno), kPythonPackages));
}

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>& args, const std::string& command_line,
             const Comm& comm);
};
constexpr Command kCommands[] = {{"run", cmd_run},           {"resume", cmd_resume},
                                 {"train", cmd_train},       {"ember", cmd_ember},
                                 {"validate", cmd_validate}, {"models", cmd_models},
                                 {"inspect", cmd_inspect},   {"report", cmd_report}};

}  // namespace

int main(int argc, char** argv) {
  // First, before anything reads the arguments (MPI_Init may change them).
  Comm comm;
  try {
#ifdef SPIKELINE_HAVE_MPI
    comm = mpi::make_communicator(argc, argv);
    // A rank waiting for a peer that died gives up half a second after the
    // launcher's SIGTERM (Open MPI kills one second after it).
    comm->watch_signal(&g_stop_signal, 0.5);
#else
    comm = std::make_shared<SerialCommunicator>();
#endif
  } catch (const Error& e) {
    std::cerr << "spikeline: error: " << e.what() << "\n";
    return static_cast<int>(e.code());
  }
  // Only rank 0 speaks: K copies of every line would say nothing more.
  if (comm->rank() != 0) {
    std::cout.rdbuf(nullptr);
    std::cerr.rdbuf(nullptr);
  }
  const std::vector<std::string> all(argv + 1, argv + argc);
  try {
    if (all.empty()) {
      std::cerr << kUsage;
      return static_cast<int>(ExitCode::usage);
    }
    const std::string& cmd = all[0];
    const std::vector<std::string> rest(all.begin() + 1, all.end());
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (cmd == "--version" || cmd == "-V") {
      std::cout << "spikeline " << SPIKELINE_VERSION << "\n";
#ifdef SPIKELINE_HAVE_MPI
      std::cout << "MPI: " << (mpi::launched_by_mpi() ? comm->library() : "built in") << "\n";
#else
      std::cout << "MPI: no\n";
#endif
      return 0;
    }
    std::vector<std::string> names;
    for (const auto& c : kCommands) {
      if (cmd == c.name) return c.run(rest, command_line(argc, argv), comm);
      names.emplace_back(c.name);
    }
    throw UsageError(fmt::format("unknown command '{}'{}; commands: {}", cmd,
                                 did_you_mean(cmd, names), fmt::join(names, ", ")));
  } catch (const Error& e) {
    std::cerr << "spikeline: error: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::cerr << "spikeline: error: out of memory\n";
    return static_cast<int>(ExitCode::software);
  } catch (const std::exception& e) {
    std::cerr << "spikeline: internal error: " << e.what() << "\n";
    return static_cast<int>(ExitCode::software);
  }
}
