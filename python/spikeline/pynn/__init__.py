"""spikeline as a PyNN backend: ``import spikeline.pynn as sim``.

A PyNN script written for ``pyNN.nest`` or ``pyNN.brian2`` runs on
spikeline by changing that one import (PyNN 0.10, Debian's python3-pynn).
What is supported, how PyNN's names map onto spikeline's and what is not
supported is in docs/pynn.md. Anything PyNN names that spikeline cannot do
raises NotImplementedError naming it: nothing is approximated silently.
"""

from __future__ import annotations

import logging

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.connectors import (  # noqa: F401
    AllToAllConnector, ArrayConnector, DisplacementDependentProbabilityConnector,
    DistanceDependentProbabilityConnector, FixedNumberPostConnector, FixedNumberPreConnector,
    FixedProbabilityConnector, FixedTotalNumberConnector, FromFileConnector, FromListConnector,
    IndexBasedProbabilityConnector, OneToOneConnector, SmallWorldConnector)
from pyNN.random import NativeRNG, NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.recording import get_io
from pyNN.space import Space  # noqa: F401

from . import simulator
from .populations import Assembly, Population, PopulationView  # noqa: F401
from .projections import Projection
from .standardmodels import *  # noqa: F401,F403

logger = logging.getLogger("PyNN")


def list_standard_models():
    """The standard cell types this backend runs."""
    from .standardmodels import CELL_TYPES

    return [c.__name__ for c in CELL_TYPES]


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, max_delay=DEFAULT_MAX_DELAY,
          **extra_params):
    """Starts a new network. ``timestep`` (ms) is spikeline's dt; ``threads``
    (default 1) and ``rng_seed`` (default 1, spikeline's seed: its own
    connection and Poisson draws) as in pyNN.nest. Results are the same for
    any number of threads."""
    common.setup(timestep, min_delay, **extra_params)
    state = simulator.state
    state.clear()
    state.dt = float(timestep)
    if min_delay == "auto":
        min_delay = timestep
    if max_delay == "auto":
        max_delay = (1 << 20) * float(timestep)  # spikeline's longest delay line
    state.min_delay = float(min_delay)
    state.max_delay = float(max_delay)
    threads = extra_params.get("threads", 1)
    seed = extra_params.get("rng_seed", extra_params.get("rng_seeds_seed", 1))
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads = {threads!r}: a whole number >= 1")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"rng_seed = {seed!r}: a whole number >= 0")
    for key in extra_params:
        if key not in ("threads", "rng_seed", "rng_seeds_seed", "spike_precision", "verbosity"):
            raise NotImplementedError(f"setup({key}=...): not a setting of the spikeline backend")
    if extra_params.get("spike_precision", "on_grid") != "on_grid":
        raise NotImplementedError("spike_precision other than 'on_grid' (spikeline's spikes "
                                  "lie on the time grid)")
    state.threads = threads
    state.rng_seed = seed
    return 0


def end(compatible_output=True):
    """Writes what ``record(..., to_file=...)`` asked for and ends the run."""
    state = simulator.state
    for (population, variables, filename) in state.write_on_end:
        population.write_data(get_io(filename), variables)
    state.write_on_end = []
    state._end_engine()


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)
create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)  # noqa: F405
record = common.build_record(simulator)


def record_v(source, filename):
    return record(["v"], source, filename)


def record_gsyn(source, filename):
    return record(["gsyn_exc", "gsyn_inh"], source, filename)
