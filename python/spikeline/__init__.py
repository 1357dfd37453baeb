"""spikeline's Python package: read, analyse and plot the HDF5 (SONATA)
files that `spikeline run` and `spikeline train` write, and any other
SONATA spike, report or edges file.

    import spikeline
    f = spikeline.open_file("coba.h5")
    exc = f.spikes("exc")                       # times (ms), node_ids
    spikeline.stats.cv(exc)                     # per-neuron ISI CV
    spikeline.plots.raster(f.all_spikes(), path="raster.png")

Running in this process (the compiled module, spikeline._core):

    sim = spikeline.Simulation.from_file("examples/coba.toml")
    sim.run(500)
    times, ids = sim.spikes("exc")

Modules: `files` (reading: h5py, numpy), `stats` (statistics: numpy),
`plots` (matplotlib figures), `report` (`python3 -m spikeline.report RUN.h5
-o DIR`, what `spikeline report` runs). Each is loaded on first use, so
`import spikeline` needs nothing beyond Python and the report can say
which Debian package is missing. The analysis part is pure Python; it
imports nothing compiled of spikeline's own. See docs/python.md.
"""

import importlib

__version__ = "0.1.0"

# The compiled engine (`spikeline._core`, pybind11, built from python/src/)
# runs networks in-process (`simulation.Simulation`). The analysis does not
# need it: this package imports without it, and `HAVE_CORE` says whether it
# is there.
try:
    _core = importlib.import_module("._core", __name__)
    HAVE_CORE = True
except ModuleNotFoundError as error:  # absent; a _core that fails otherwise is an error
    if error.name != __name__ + "._core":
        raise
    _core = None
    HAVE_CORE = False

_MODULES = ("files", "stats", "plots", "report", "simulation")
# Names of the in-process part: the simulation and the errors it raises
# (the CLI's kinds, each with the CLI's exit code in `exit_code`).
_FROM_SIMULATION = ("Simulation", "to_toml")
_FROM_CORE = ("Error", "ConfigError", "DataError", "UsageError", "IoError", "GuardError")
# Names re-exported from `files`, loaded with it.
_FROM_FILES = ("open_file", "File", "FileError", "Spikes", "Report", "WeightSnapshots", "Edges",
               "Provenance")


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module("." + name, __name__)
    if name in _FROM_FILES:
        return getattr(importlib.import_module(".files", __name__), name)
    if name in _FROM_SIMULATION or name in _FROM_CORE:
        if _core is None:
            raise ImportError(
                "spikeline.%s needs the compiled module spikeline._core, which this installation "
                "lacks: build spikeline with pybind11 (Debian: apt-get install pybind11-dev "
                "python3-dev; scripts/setup.sh does it)" % name)
        if name in _FROM_CORE:
            return getattr(_core, name)
        return getattr(importlib.import_module(".simulation", __name__), name)
    raise AttributeError("module 'spikeline' has no attribute %r" % name)


def __dir__():
    return sorted(list(globals()) + list(_MODULES) + list(_FROM_FILES) + list(_FROM_SIMULATION) +
                  list(_FROM_CORE))


__all__ = (list(_FROM_FILES) + list(_FROM_SIMULATION) + list(_FROM_CORE) +
           ["stats", "files", "HAVE_CORE", "__version__"])
