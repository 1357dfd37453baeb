"""Makes ``import pyNN.spikeline as sim`` the spikeline backend
(``spikeline.pynn``), as ``import pyNN.nest`` is NEST's, without adding a
file to PyNN's own package: spikeline_pynn.pth imports this module at
interpreter start-up, and it appends a finder that answers for the one name
``pyNN.spikeline`` only after every other finder has failed to find it.
It imports nothing at start-up beyond what Python has loaded already.
"""
import sys

NAME = "pyNN.spikeline"


class _Loader:
    @staticmethod
    def create_module(spec):
        import spikeline.pynn

        return spikeline.pynn

    @staticmethod
    def exec_module(module):
        pass


class _Finder:
    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname != NAME:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(NAME, _Loader)


if not any(type(f).__name__ == "_Finder" and getattr(f, "NAME", None) == NAME
           for f in sys.meta_path):
    _Finder.NAME = NAME
    sys.meta_path.append(_Finder())
