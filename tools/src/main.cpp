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
//   spikeline inspect FILE
//
// Exit codes (sysexits): 0 success, 64 usage, 65 bad data, 66 missing
// input, 70 stopped by a guard, 73 cannot create output, 74 I/O error,
// 78 bad config, 130/143 after SIGINT/SIGTERM (output flushed and closed;
// during the build: no output created or touched).
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "spikeline/app/run.hpp"
#include "spikeline/app/train.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/io/build.hpp"
#include "spikeline/io/config.hpp"
#include "spikeline/io/sonata_reader.hpp"
#include "spikeline/learning/builtin.hpp"
#include "spikeline/neurons/builtin.hpp"

namespace po = boost::program_options;
using namespace spikeline;

namespace {

// The one piece of global state: a signal handler can only talk to the
// program through a volatile sig_atomic_t.
volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_signal(int sig) {
  g_stop_signal = sig;
}

const char* kUsage =
    "usage: spikeline <command> [options]\n"
    "\n"
    "commands:\n"
    "  run CONFIG        simulate the network in CONFIG (TOML) and write HDF5 output\n"
    "  resume FILE       continue a run from its checkpoint FILE\n"
    "  train CONFIG      train a network on the task of CONFIG ([task], [training])\n"
    "  validate CONFIG   check CONFIG without simulating\n"
    "  models [NAME]     list the registered models, their parameters and state variables\n"
    "  inspect FILE      summarise an output file (populations, spikes, rates, time range)\n"
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

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& opts,
                        const po::positional_options_description& pos) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(fmt::format("{} (see --help)", e.what()));
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
  return registry;
}

int cmd_run(const std::vector<std::string>& args, const std::string& cmdline) {
  std::vector<std::string> sets;
  auto o = config_options(sets);
  std::string config_path;
  o.add_options()("config", po::value<std::string>(&config_path), "the TOML config")(
      "threads,t", po::value<std::string>(), "number of threads (simulation.threads)")(
      "seed,s", po::value<std::string>(), "random seed (simulation.seed)")(
      "duration,d", po::value<double>(), "simulated time in ms (simulation.duration)")(
      "output,o", po::value<std::string>(), "output HDF5 file (output.file)");
  add_loop_options(o);
  po::positional_options_description pos;
  pos.add("config", 1);
  const auto vm = parse(args, o, pos);
  if (vm.count("help")) {
    std::cout << "usage: spikeline run CONFIG [options]\n\nSimulate CONFIG and write spikes, "
                 "traces and weights to an HDF5 file (SONATA layout).\n\n"
              << o;
    return 0;
  }
  if (config_path.empty()) throw UsageError("run: a CONFIG file is required (see --help)");
  if (vm.count("checkpoint-every") && !vm.count("checkpoint"))
    throw UsageError("run: --checkpoint-every needs --checkpoint FILE");
  add_config_overrides(vm, sets);
  const Registry registry = builtin_registry();
  io::Config config = io::load_config(config_path, sets);
  set_output(vm, config);

  app::RunOptions ro = loop_options(vm, cmdline);
  ro.output_on_command_line = vm.count("output") > 0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  return report(app::run(config, registry, ro), config.output.file);
}

int cmd_resume(const std::vector<std::string>& args, const std::string& cmdline) {
  po::options_description o("options");
  std::string checkpoint;
  o.add_options()("help,h", "show this help")("file", po::value<std::string>(&checkpoint),
                                              "the checkpoint")(
      "threads,t", po::value<std::string>(), "number of threads (any; the partitions are kept)")(
      "duration,d", po::value<double>(),
      "the new end of the run in simulated ms (default: the config's duration)");
  add_loop_options(o);
  po::positional_options_description pos;
  pos.add("file", 1);
  const auto vm = parse(args, o, pos);
  if (vm.count("help")) {
    std::cout << "usage: spikeline resume CHECKPOINT [options]\n\nContinue the run saved in "
                 "CHECKPOINT (written by run --checkpoint): the same network, seed and output "
                 "file, which is cut back to the checkpoint and continued. The result is the same, "
                 "bit for bit, as a run that never stopped. Checkpoints go on to the same file at "
                 "the same interval unless --checkpoint/--checkpoint-every say otherwise.\n\n"
              << o;
    return 0;
  }
  if (checkpoint.empty()) throw UsageError("resume: a CHECKPOINT file is required (see --help)");
  app::ResumeOptions options;
  options.run = loop_options(vm, cmdline);
  options.checkpoint_every_given = vm.count("checkpoint-every") > 0;
  if (vm.count("threads")) options.threads = static_cast<int>(integer_option(vm, kThreads));
  if (vm.count("duration")) {
    options.duration_ms = vm["duration"].as<double>();
    if (!(options.duration_ms > 0) || !std::isfinite(options.duration_ms)) {
      throw UsageError(
          fmt::format("--duration {}: must be a positive, finite time in ms", options.duration_ms));
    }
  }
  const Registry registry = builtin_registry();
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::string output;
  const app::RunResult r = app::resume(checkpoint, registry, options, &output);
  return report(r, output);
}

int cmd_train(const std::vector<std::string>& args, const std::string& cmdline) {
  std::vector<std::string> sets;
  auto o = config_options(sets);
  std::string config_path;
  o.add_options()("config", po::value<std::string>(&config_path), "the TOML config")(
      "threads,t", po::value<std::string>(), "number of threads (simulation.threads)")(
      "steps", po::value<std::string>(), "training steps ([training] steps)")(
      "output,o", po::value<std::string>(), "output HDF5 file (output.file)")("quiet,q",
                                                                              "no progress lines");
  po::positional_options_description pos;
  pos.add("config", 1);
  const auto vm = parse(args, o, pos);
  if (vm.count("help")) {
    std::cout << "usage: spikeline train CONFIG [options]\n\nTrain the network of CONFIG on its "
                 "[task] by surrogate-gradient BPTT ([training]), evaluate recall and its "
                 "robustness ([evaluation]), and write weights, recall rasters and the training "
                 "log to an HDF5 file (docs/training.md).\n\n"
              << o;
    return 0;
  }
  if (config_path.empty()) throw UsageError("train: a CONFIG file is required (see --help)");
  add_config_overrides(vm, sets);
  const Registry registry = builtin_registry();
  io::Config config = io::load_config(config_path, sets);
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

int cmd_validate(const std::vector<std::string>& args) {
  std::vector<std::string> sets;
  auto o = config_options(sets);
  std::string config_path;
  o.add_options()("config", po::value<std::string>(&config_path), "the TOML config");
  po::positional_options_description pos;
  pos.add("config", 1);
  const auto vm = parse(args, o, pos);
  if (vm.count("help")) {
    std::cout << "usage: spikeline validate CONFIG [options]\n\nCheck CONFIG (syntax, keys, "
                 "models, parameters, ranges, memory) without simulating.\n\n"
              << o;
    return 0;
  }
  if (config_path.empty()) throw UsageError("validate: a CONFIG file is required (see --help)");
  const Registry registry = builtin_registry();
  const io::Config config = io::load_config(config_path, sets);
  io::validate_config(config, registry);
  std::uint64_t neurons = 0;
  for (const auto& p : config.populations) neurons += p.size;
  std::cout << fmt::format("{}: valid ({} populations, {} neurons, {} projections, {} ms)\n",
                           config_path, config.populations.size(), neurons,
                           config.projections.size(), config.simulation.duration_ms);
  return 0;
}

std::string default_of(const ParamInfo& p) {
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

int cmd_models(const std::vector<std::string>& args) {
  po::options_description o("options");
  std::string name;
  o.add_options()("help,h", "show this help")("name", po::value<std::string>(&name), "a model");
  po::positional_options_description pos;
  pos.add("name", 1);
  const auto vm = parse(args, o, pos);
  if (vm.count("help")) {
    std::cout << "usage: spikeline models [NAME]\n\nList every registered model with its "
                 "parameters (units, defaults) and state variables.\n\n"
              << o;
    return 0;
  }
  const Registry registry = builtin_registry();
  std::vector<const ModelInfo*> list;
  std::vector<const RuleInfo*> rules;
  if (name.empty()) {
    list = registry.all();
    rules = registry.rules();
  } else if (registry.has_rule(name) && !registry.has(name)) {
    rules.push_back(&registry.get_rule(name, "models"));
  } else {
    list.push_back(&registry.get(name, "models"));
  }
  for (const auto* m : list) {
    std::cout << fmt::format("{} ({})\n  {}\n", m->name, kind_name(m->kind), m->summary);
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
    std::cout << fmt::format("{} (plasticity rule)\n  {}\n  parameters:\n", r->name, r->summary);
    for (const auto& p : r->params) {
      std::cout << fmt::format("    {:<18} {:>10} {:<4}  {}\n", p.name, default_of(p), p.unit,
                               p.doc);
    }
    // What [[record_weights]] variables can name (a rule with its defaults says).
    const auto rule = r->make(ParamMap{}, TimeGrid(0.1));
    std::cout << fmt::format("  synapse variables: {}\n\n",
                             fmt::join(rule->synapse_variables(), ", "));
  }
  return 0;
}

int cmd_inspect(const std::vector<std::string>& args) {
  po::options_description o("options");
  std::string file;
  o.add_options()("help,h", "show this help")("file", po::value<std::string>(&file),
                                              "an output file");
  po::positional_options_description pos;
  pos.add("file", 1);
  const auto vm = parse(args, o, pos);
  if (vm.count("help")) {
    std::cout << "usage: spikeline inspect FILE\n\nSummarise a spikeline output file: run status, "
                 "populations, spike counts, rates, time range, reports, edges.\n\n"
              << o;
    return 0;
  }
  if (file.empty()) throw UsageError("inspect: a FILE is required (see --help)");
  const io::FileSummary summary = io::inspect(file);
  std::cout << io::format_summary(summary);
  if (!summary.problems.empty()) {
    throw DataError(fmt::format("{}: damaged or inconsistent metadata ({} problem{}): {}", file,
                                summary.problems.size(), summary.problems.size() == 1 ? "" : "s",
                                fmt::join(summary.problems, "; ")));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
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
      return 0;
    }
    if (cmd == "run") return cmd_run(rest, command_line(argc, argv));
    if (cmd == "resume") return cmd_resume(rest, command_line(argc, argv));
    if (cmd == "train") return cmd_train(rest, command_line(argc, argv));
    if (cmd == "validate") return cmd_validate(rest);
    if (cmd == "models") return cmd_models(rest);
    if (cmd == "inspect") return cmd_inspect(rest);
    throw UsageError(fmt::format(
        "unknown command '{}'{}; commands: run, resume, train, validate, models, "
        "inspect",
        cmd, did_you_mean(cmd, {"run", "resume", "train", "validate", "models", "inspect"})));
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
