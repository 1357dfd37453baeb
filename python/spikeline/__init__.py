"""spikeline from Python: run networks in this process (:class:`Simulation`)."""

from ._core import ConfigError, DataError, Error, GuardError, IoError, UsageError
from ._core import version as __version__
from .simulation import Simulation, to_toml

__all__ = ["Simulation", "to_toml", "Error", "ConfigError", "DataError", "UsageError",
           "IoError", "GuardError", "__version__"]
