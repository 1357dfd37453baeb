"""Shared helpers for the end-to-end CLI tests (tests/cli/test_*.py).

Each test script is run by ctest as

    /usr/bin/python3 SCRIPT SPIKELINE_BINARY SOURCE_DIR

and uses only the standard library, numpy and h5py. A script defines
test_* functions (or builds a list of (name, function) pairs) and ends with
`clitest.main(globals())`, which runs them all in definition order, prints
"ok NAME" or "FAIL NAME: reason" for each and a final "N passed, M failed"
line, and exits non-zero if any test failed.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

if len(sys.argv) < 3:
    sys.stderr.write("usage: %s SPIKELINE_BINARY SOURCE_DIR [TEST_NAME_SUBSTRING...]\n" % sys.argv[0])
    sys.exit(64)

BINARY = os.path.abspath(sys.argv[1])
SOURCE_DIR = os.path.abspath(sys.argv[2])
# Optional extra arguments select tests whose name contains one of them;
# an argument "-WORD" leaves out the tests whose name contains WORD.
SELECT = [a for a in sys.argv[3:] if not a.startswith("-")]
EXCLUDE = [a[1:] for a in sys.argv[3:] if a.startswith("-")]
# The exit code of a script all of whose selected tests were skipped: ctest
# counts it as skipped (SKIP_RETURN_CODE), never as passed.
EX_SKIPPED = 77
CLI_DIR = os.path.dirname(os.path.abspath(__file__))

# sysexits codes used by spikeline (see tools/src/main.cpp).
EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_SOFTWARE = 70
EX_CANTCREAT = 73
EX_CONFIG = 78
EX_SIGINT = 130
EX_SIGTERM = 143


# A valid config that runs in a moment: 20 Poisson generators driving 10
# delta-synapse neurons for 50 ms (200 synapses).
SMALL_NETWORK = """\
[simulation]
dt = 0.1
duration = 50.0
seed = 7

[[population]]
name = "gen"
model = "poisson_generator"
size = 20
params = { rate = 200.0 }

[[population]]
name = "exc"
model = "iaf_psc_delta"
size = 10

[[projection]]
source = "gen"
target = "exc"
rule = "all_to_all"
weight = 5.0
delay = 1.0
"""


class Failure(AssertionError):
    pass


class Skip(Exception):
    """Raised by a test that cannot run here (a missing facility): reported
    as skipped, never as passed."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def check_equal(actual, expected, what):
    if actual != expected:
        raise Failure("%s: expected %r, got %r" % (what, expected, actual))


class Result:
    def __init__(self, args, returncode, stdout, stderr, seconds):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    def describe(self):
        return "spikeline %s -> exit %s\n--- stdout:\n%s--- stderr:\n%s" % (
            " ".join(self.args), self.returncode, self.stdout[-2000:], self.stderr[-2000:])


def spikeline(args, cwd=None, timeout=120, preexec_fn=None):
    """Runs the binary with `args` (a list of strings); never raises on a
    non-zero exit. A death by signal (negative return code) is always a
    failure: the CLI must exit with a code, not crash."""
    t0 = time.monotonic()
    try:
        p = subprocess.run([BINARY] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, text=True,
                           preexec_fn=preexec_fn)
    except subprocess.TimeoutExpired:
        raise Failure("spikeline %s did not finish within %s s" % (" ".join(args), timeout))
    r = Result(list(args), p.returncode, p.stdout, p.stderr, time.monotonic() - t0)
    check(r.returncode >= 0, "crashed with signal %d\n%s" % (-r.returncode, r.describe()))
    return r


def expect_exit(r, code):
    if r.returncode != code:
        raise Failure("expected exit code %d, got %d\n%s" % (code, r.returncode, r.describe()))


def expect_in(text, fragment, where="stderr", r=None):
    if fragment not in text:
        extra = ("\n" + r.describe()) if r is not None else ("\n--- %s:\n%s" % (where, text[-2000:]))
        raise Failure("%s lacks %r%s" % (where, fragment, extra))


def run_ok(args, cwd=None, timeout=120):
    r = spikeline(args, cwd=cwd, timeout=timeout)
    expect_exit(r, EX_OK)
    return r


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def plugin_abi():
    """(major, minor) of the plugin ABI this tree's spikeline/plugin.h declares."""
    with open(os.path.join(SOURCE_DIR, "plugin", "include", "spikeline", "plugin.h")) as f:
        text = f.read()
    version = [int(re.search(r"#define SPIKELINE_PLUGIN_ABI_%s (\d+)" % part, text).group(1))
               for part in ("MAJOR", "MINOR")]
    return version[0], version[1]


def example(name):
    return os.path.join(SOURCE_DIR, "examples", name)


def text_attr(value):
    """HDF5 fixed-length strings come back from h5py as bytes (or numpy
    bytes, possibly null-padded); variable-length ones as str."""
    if getattr(value, "shape", None) == (1,):
        value = value[0]
    if isinstance(value, bytes):
        value = value.rstrip(b"\0").decode("utf-8")
    return value


def read_spikes(h5file, population):
    """(timestamps float64 array, node_ids uint64 array) of one population."""
    g = h5file["spikes"][population]
    return g["timestamps"][()], g["node_ids"][()]


def all_spikes(path, swmr=False):
    """{population: (timestamps, node_ids)} from an output file."""
    import h5py

    out = {}
    with h5py.File(path, "r", swmr=swmr) as f:
        for name in f["spikes"]:
            out[name] = read_spikes(f, name)
    return out


def status_of(path, swmr=False):
    import h5py

    with h5py.File(path, "r", swmr=swmr) as f:
        return text_attr(f["provenance"]["status"][()])


class TempDir:
    """A fresh temporary directory per test (removed afterwards)."""

    def __enter__(self):
        self._t = tempfile.TemporaryDirectory(prefix="spikeline-cli-")
        return self._t.name

    def __exit__(self, *exc):
        self._t.cleanup()
        return False


def collect(namespace):
    return [(name, fn) for name, fn in namespace.items()
            if name.startswith("test_") and callable(fn)]


def main(namespace_or_tests):
    if isinstance(namespace_or_tests, dict):
        tests = collect(namespace_or_tests)
    else:
        tests = list(namespace_or_tests)
    if SELECT:
        tests = [(n, f) for n, f in tests if any(s in n for s in SELECT)]
    tests = [(n, f) for n, f in tests if not any(s in n for s in EXCLUDE)]
    check(os.access(BINARY, os.X_OK), "no executable spikeline binary at %s" % BINARY)
    passed = failed = skipped = 0
    for name, fn in tests:
        try:
            fn()
        except Skip as e:
            skipped += 1
            print("skip %s: %s" % (name, e), flush=True)
            continue
        except Failure as e:
            failed += 1
            print("FAIL %s: %s" % (name, e), flush=True)
            continue
        except Exception:
            failed += 1
            print("FAIL %s: unexpected exception\n%s" % (name, traceback.format_exc()), flush=True)
            continue
        passed += 1
        print("ok %s" % name, flush=True)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    if failed:
        sys.exit(1)
    sys.exit(EX_SKIPPED if skipped and not passed else 0)
