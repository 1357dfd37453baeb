// spikeline._core: the engine in the Python process (pybind11). A thin layer
// over app::Session (spikeline/app/session.hpp); what Python users call is
// spikeline.Simulation (python/spikeline/simulation.py), which builds on it.
//
// - The GIL is released while the engine runs; Ctrl-C stops a run at the
//   end of its current window (KeyboardInterrupt), and the run can go on.
// - spikeline's errors arrive as spikeline.ConfigError, DataError, ... with
//   the CLI's message and its exit code (`exit_code`).
// - Arrays cross as numpy arrays, copied (the engine's memory stays its own).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "spikeline/app/session.hpp"
#include "spikeline/engine/error.hpp"
#include "spikeline/engine/registry.hpp"
#include "spikeline/io/config.hpp"
#include "spikeline/learning/builtin.hpp"
#include "spikeline/neurons/builtin.hpp"
#include "spikeline/synapses/connect.hpp"

namespace py = pybind11;
using namespace spikeline;

namespace {

// A signal handler can only talk to the program through a sig_atomic_t;
// the engine polls it between windows (RunOptions::stop_signal).
volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_sigint(int sig) {
  g_stop_signal = sig;
}

// Python's SIGINT handler is set aside while the engine runs without the
// GIL (Python could not run it until the engine returned), and put back.
class SigintScope {
 public:
  SigintScope() {
    g_stop_signal = 0;
    active_ = is_main_thread();
    if (active_) previous_ = std::signal(SIGINT, on_sigint);
  }
  ~SigintScope() {
    if (active_) std::signal(SIGINT, previous_);
  }
  SigintScope(const SigintScope&) = delete;
  SigintScope& operator=(const SigintScope&) = delete;

 private:
  static bool is_main_thread() {
    py::object threading = py::module_::import("threading");
    return threading.attr("current_thread")().is(threading.attr("main_thread")());
  }
  bool active_ = false;
  void (*previous_)(int) = SIG_DFL;
};

Registry builtin_registry() {
  Registry registry;
  register_builtin_models(registry);
  register_builtin_rules(registry);
  synapses::register_builtin_connection_rules(registry);
  return registry;
}

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

class PySimulation {
 public:
  // `text`: the config's TOML; `source`: its name in messages; `base_dir`:
  // the folder its input files are relative to; `output`: overrides
  // output.file ("" keeps the config's; None: no file at all).
  // `edges`: {projection name: (source, target, weight, delay in ms)}, the
  // edges of projections the config gives rule = "explicit" with an empty
  // inline table: a script's own connection lists, handed over as arrays
  // rather than as TOML text. They are checked as inline edges are (ids,
  // finite weights, delays on the grid) when the network is built.
  PySimulation(const std::string& text, const std::string& source, const std::string& base_dir,
               const std::vector<std::string>& overrides, std::optional<std::string> output,
               bool record, const py::dict& edges)
      : registry_(builtin_registry()) {
    io::Config config = io::parse_config(text, source, overrides);
    io::resolve_input_paths(config, base_dir);
    for (const auto& [key, value] : edges) set_edges(config, py::cast<std::string>(key), value);
    if (output) config.output.file = *output;
    app::RunOptions options;
    options.command_line = "python: spikeline.Simulation(" + source + ")";
    options.stop_signal = &g_stop_signal;
    {
      py::gil_scoped_release nogil;
      session_.emplace(std::move(config), registry_, options);
    }
    if (record) session_->record_in_memory();
  }

  static void set_edges(io::Config& config, const std::string& name, const py::handle& value) {
    auto it = std::find_if(config.projections.begin(), config.projections.end(),
                           [&name](const io::ProjectionConfig& p) { return p.name == name; });
    if (it == config.projections.end())
      throw ConfigError(
          fmt::format("edges given for projection '{}', which the config lacks", name));
    if (it->spec.rule != synapses::Rule::explicit_edges || !it->edges_file.empty() ||
        !it->spec.edges.source.empty())
      throw ConfigError(fmt::format(
          "edges given for projection '{}', which is not rule \"explicit\" with an empty "
          "edges table",
          name));
    const auto t = py::cast<py::tuple>(value);
    if (t.size() != 4)
      throw ConfigError(fmt::format(
          "edges of projection '{}': expected (source, target, weight, delay), got {} items", name,
          t.size()));
    using Ids = py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>;
    using Values = py::array_t<double, py::array::c_style | py::array::forcecast>;
    const auto source = py::cast<Ids>(t[0]), target = py::cast<Ids>(t[1]);
    const auto weight = py::cast<Values>(t[2]), delay = py::cast<Values>(t[3]);
    auto& e = it->spec.edges;
    e.source.assign(source.data(), source.data() + source.size());
    e.target.assign(target.data(), target.data() + target.size());
    e.weight.assign(weight.data(), weight.data() + weight.size());
    e.delay_ms.assign(delay.data(), delay.data() + delay.size());
  }

  // Simulates up to `t_ms`; false when Ctrl-C stopped it (KeyboardInterrupt
  // is raised by the caller, after the state is consistent).
  bool run_until(double t_ms) {
    const Step until = session_->grid().time_steps(t_ms, "run until");
    SigintScope sigint;
    bool completed = false;
    {
      py::gil_scoped_release nogil;
      completed = session_->run_until(until);
    }
    if (!completed && g_stop_signal != 0) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
      throw py::error_already_set();
    }
    return completed;
  }

  double now_ms() const { return session_->grid().to_ms(session_->now()); }
  double dt_ms() const { return session_->grid().dt(); }
  std::vector<std::string> populations() const { return session_->population_names(); }
  std::vector<std::string> projections() const { return session_->projection_names(); }
  std::vector<std::uint64_t> sizes() const { return session_->population_sizes(); }

  // (times in ms, node ids) of population k, all spikes since the start.
  py::tuple spikes(std::size_t k) const {
    const auto& rec = recording();
    if (k >= rec.spikes.size()) throw ConfigError(fmt::format("no population {}", k));
    const auto& s = rec.spikes[k];
    py::array_t<double> times(static_cast<py::ssize_t>(s.steps.size()));
    const double dt = session_->grid().dt();
    // As the file stores them: step * dt in double.
    for (std::size_t i = 0; i < s.steps.size(); ++i)
      times.mutable_data()[i] = static_cast<double>(s.steps[i]) * dt;
    py::array_t<std::uint64_t> ids(static_cast<py::ssize_t>(s.ids.size()));
    std::copy(s.ids.begin(), s.ids.end(), ids.mutable_data());
    return py::make_tuple(times, ids);
  }

  std::size_t trace_count() const { return recording().traces.size(); }

  py::dict trace(std::size_t k) const {
    const auto& rec = recording();
    if (k >= rec.traces.size()) throw ConfigError(fmt::format("no [[record]] {}", k));
    const auto& t = rec.traces[k];
    const std::size_t rows = t.columns == 0 ? 0 : t.frames.size() / t.columns;
    py::array_t<float> data({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(t.columns)});
    std::copy(t.frames.begin(), t.frames.end(), data.mutable_data());
    py::dict d;
    d["name"] = t.info.name;
    d["population"] = t.info.population;
    d["variables"] = t.info.variables;
    d["units"] = t.info.units;
    d["nodes"] = to_array(t.info.nodes);
    d["start_ms"] = session_->grid().to_ms(t.info.start);
    d["interval_ms"] = session_->grid().to_ms(t.info.interval);
    d["data"] = data;
    return d;
  }

  py::array_t<double> state(std::size_t population, const std::string& variable) const {
    return to_array(session_->state(population, variable));
  }
  void set_state(std::size_t population, const std::string& variable,
                 const py::array_t<double, py::array::c_style | py::array::forcecast>& values) {
    session_->set_state(population, variable,
                        {values.data(), static_cast<std::size_t>(values.size())});
  }

  // Parameters between pieces: {name: number | list of numbers | text}.
  // A list of lists: one list per neuron (spike_generator's spike_times).
  using ParamDict =
      std::map<std::string, std::variant<double, std::vector<double>,
                                         std::vector<std::vector<double>>, std::string>>;
  static ParamMap to_param_map(const ParamDict& d) {
    ParamMap m;
    for (const auto& [name, v] : d)
      std::visit([&m, &name = name](const auto& x) { m.set(name, x); }, v);
    return m;
  }
  static py::dict to_dict(const std::vector<std::pair<std::string, ParamValue>>& params) {
    py::dict d;
    for (const auto& [name, v] : params) {
      if (const auto* x = std::get_if<double>(&v))
        d[name.c_str()] = *x;
      else if (const auto* t = std::get_if<std::string>(&v))
        d[name.c_str()] = *t;
      else if (const auto* l = std::get_if<std::vector<double>>(&v))
        d[name.c_str()] = to_array(*l);
      else
        d[name.c_str()] = std::get<std::vector<std::vector<double>>>(v);
    }
    return d;
  }
  void set_params(std::size_t population, const ParamDict& changes) {
    session_->set_params(population, to_param_map(changes));
  }
  py::dict params(std::size_t population) const { return to_dict(session_->params(population)); }
  void set_stimulus(const std::string& name, const ParamDict& changes) {
    session_->set_stimulus(name, to_param_map(changes));
  }
  py::dict stimulus_params(const std::string& name) const {
    return to_dict(session_->stimulus_params(name));
  }
  std::vector<std::string> stimuli() const { return session_->stimulus_names(); }

  py::dict synapses(std::size_t projection) {
    const auto records = session_->synapses(projection);
    const std::size_t n = records.size();
    py::array_t<std::uint64_t> source(n), target(n);
    py::array_t<double> delay(n);
    py::array_t<float> weight(n);
    const double dt = session_->grid().dt();
    for (std::size_t i = 0; i < n; ++i) {
      source.mutable_data()[i] = records[i].source;
      target.mutable_data()[i] = records[i].target;
      delay.mutable_data()[i] = static_cast<double>(records[i].delay) * dt;
      weight.mutable_data()[i] = records[i].weight;
    }
    py::dict d;
    d["source"] = source;
    d["target"] = target;
    d["delay"] = delay;
    d["weight"] = weight;
    return d;
  }
  void set_weights(std::size_t projection,
                   const py::array_t<double, py::array::c_style | py::array::forcecast>& w) {
    session_->set_weights(projection, {w.data(), static_cast<std::size_t>(w.size())});
  }

  void request_stop() { session_->request_stop(); }

  py::dict end() {
    app::RunResult r;
    {
      py::gil_scoped_release nogil;
      r = session_->end();
    }
    py::dict d;
    d["status"] = r.status;
    d["message"] = r.message;
    d["exit_code"] = static_cast<int>(r.code);
    d["simulated_ms"] = r.simulated_ms;
    d["build_s"] = r.build_s;
    d["loop_s"] = r.loop_s;
    d["synapses"] = r.synapses;
    py::list pops;
    for (const auto& p : r.populations) {
      py::dict q;
      q["name"] = p.name;
      q["size"] = p.size;
      q["spikes"] = p.spikes;
      q["rate_hz"] = p.rate_hz;
      pops.append(q);
    }
    d["populations"] = pops;
    d["summary_json"] = r.summary_json();
    return d;
  }
  bool ended() const { return session_->ended(); }

 private:
  const app::Recording& recording() const {
    if (!session_->recording()) {
      throw UsageError("this simulation keeps nothing in memory (record=False)");
    }
    return *session_->recording();
  }

  Registry registry_;  // outlives the session, which holds models from it
  std::optional<app::Session> session_;
};

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "spikeline's engine in this process; use spikeline.Simulation";
  m.attr("version") = SPIKELINE_VERSION;

  // The exception classes, one per error kind of the CLI (its exit code in
  // `exit_code`); they derive from spikeline.Error, itself a RuntimeError.
  static py::exception<Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<ConfigError> config_error(m, "ConfigError", error.ptr());
  static py::exception<DataError> data_error(m, "DataError", error.ptr());
  static py::exception<UsageError> usage_error(m, "UsageError", error.ptr());
  static py::exception<IoError> io_error(m, "IoError", error.ptr());
  static py::exception<GuardError> guard_error(m, "GuardError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    if (!p) return;
    try {
      std::rethrow_exception(p);
    } catch (const Error& e) {
      // The class by exit code: a missing input (66) and an output that
      // cannot be created (73) are I/O errors, as the CLI's codes say.
      PyObject* kind = error.ptr();
      if (dynamic_cast<const GuardError*>(&e) != nullptr) {
        kind = guard_error.ptr();
      } else {
        switch (e.code()) {
          case ExitCode::config:
            kind = config_error.ptr();
            break;
          case ExitCode::data:
            kind = data_error.ptr();
            break;
          case ExitCode::usage:
            kind = usage_error.ptr();
            break;
          case ExitCode::no_input:
          case ExitCode::cant_create:
          case ExitCode::io:
            kind = io_error.ptr();
            break;
          default:
            break;
        }
      }
      py::object instance = py::reinterpret_borrow<py::object>(kind)(e.what());
      instance.attr("exit_code") = static_cast<int>(e.code());
      PyErr_SetObject(kind, instance.ptr());
    }
  });

  py::class_<PySimulation>(m, "_Simulation")
      .def(py::init<const std::string&, const std::string&, const std::string&,
                    const std::vector<std::string>&, std::optional<std::string>, bool,
                    const py::dict&>(),
           py::arg("text"), py::arg("source"), py::arg("base_dir"), py::arg("overrides"),
           py::arg("output"), py::arg("record"), py::arg("edges") = py::dict())
      .def("run_until", &PySimulation::run_until, py::arg("t_ms"))
      .def_property_readonly("now_ms", &PySimulation::now_ms)
      .def_property_readonly("dt_ms", &PySimulation::dt_ms)
      .def_property_readonly("populations", &PySimulation::populations)
      .def_property_readonly("projections", &PySimulation::projections)
      .def_property_readonly("sizes", &PySimulation::sizes)
      .def("spikes", &PySimulation::spikes, py::arg("population"))
      .def("trace_count", &PySimulation::trace_count)
      .def("trace", &PySimulation::trace, py::arg("k"))
      .def("state", &PySimulation::state, py::arg("population"), py::arg("variable"))
      .def("set_state", &PySimulation::set_state, py::arg("population"), py::arg("variable"),
           py::arg("values"))
      .def("set_params", &PySimulation::set_params, py::arg("population"), py::arg("changes"))
      .def("params", &PySimulation::params, py::arg("population"))
      .def("set_stimulus", &PySimulation::set_stimulus, py::arg("name"), py::arg("changes"))
      .def("stimulus_params", &PySimulation::stimulus_params, py::arg("name"))
      .def_property_readonly("stimuli", &PySimulation::stimuli)
      .def("synapses", &PySimulation::synapses, py::arg("projection"))
      .def("set_weights", &PySimulation::set_weights, py::arg("projection"), py::arg("weights"))
      .def("request_stop", &PySimulation::request_stop)
      .def("end", &PySimulation::end)
      .def_property_readonly("ended", &PySimulation::ended);
}
