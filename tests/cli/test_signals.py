"""Crash safety: a run killed (SIGKILL) at any moment leaves a readable file
holding everything up to its last flush; SIGINT and SIGTERM stop the run
cleanly (exit 130 / 143, /provenance/status "interrupted").

How the file is opened (see io/include/spikeline/io/sonata_writer.hpp): the
writer creates every object, then switches the file to SWMR-write mode.
While a run is going on, and after it was killed, the file is still marked
as open for writing, so

    h5py.File(path, "r")              -> OSError "file is already open for write"
    h5py.File(path, "r", swmr=True)   -> works: everything flushed so far

(`h5clear -s path` would clear the mark). `spikeline inspect` falls back to
SWMR reading by itself. A run that ended normally or by SIGINT/SIGTERM
closed the file and it opens with a plain "r" (and also with swmr=True).

The network is examples/coba.toml (4000 neurons, self-sustained activity,
no external input, so spikes come from the first step) with a long duration
that is never reached, flushing every 50 ms of simulated time.
"""

import os
import random
import re
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_SIGINT, EX_SIGTERM, Failure, TempDir, check,  # noqa: E402
                     check_equal, example, expect_in, run_ok, spikeline, text_attr)

SIZES = {"exc": 3200, "inh": 800}
FLUSH_MS = 50.0
LONG_DURATION = 60000.0  # never reached: every run here is stopped
RNG = random.Random(20240611)
KILLS = 15
MAX_EXTRA_DELAY_S = 1.5  # random wait after the first flush before the kill
FIRST_FLUSH_TIMEOUT_S = 60


def run_args(out):
    return ["run", example("coba.toml"), "--duration", "%g" % LONG_DURATION,
            "--set", "output.flush_interval=%g" % FLUSH_MS, "-o", out, "-q"]


def start(out, cwd):
    return subprocess.Popen([clitest.BINARY] + run_args(out), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def flushed_spikes(out):
    """The number of exc spikes a SWMR reader sees now (0 when the file does
    not exist yet or is not yet in SWMR mode)."""
    if not os.path.exists(out):
        return 0
    try:
        with h5py.File(out, "r", swmr=True) as f:
            return len(f["spikes"]["exc"]["timestamps"])
    except (OSError, KeyError):
        return 0


def wait_for_first_flush(proc, out):
    t0 = time.monotonic()
    while time.monotonic() - t0 < FIRST_FLUSH_TIMEOUT_S:
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise Failure("the run ended (exit %s) before flushing any spike:\n%s"
                          % (proc.returncode, err[-2000:]))
        if flushed_spikes(out) > 0:
            return
        time.sleep(0.02)
    proc.kill()
    proc.communicate()
    raise Failure("no spike flushed within %d s" % FIRST_FLUSH_TIMEOUT_S)


def stop(proc, sig, timeout=60):
    os.kill(proc.pid, sig)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise Failure("the run did not stop within %d s of signal %d" % (timeout, sig))
    return proc.returncode, err


def read_run(out, swmr):
    """(status, simulated_ms, {pop: (timestamps, node_ids)}, {pop: unequal
    lengths}) checked for consistency: non-empty, sorted times > 0 (and <=
    simulated_ms in a closed file), node ids in range."""
    with h5py.File(out, "r", swmr=swmr) as f:
        status = text_attr(f["provenance"]["status"][()])
        simulated = float(f["provenance"]["simulated_ms"][()])
        spikes = {}
        mismatched = {}
        for pop, size in SIZES.items():
            t, n = clitest.read_spikes(f, pop)
            if len(t) != len(n):
                # The two datasets grow separately; a kill between their
                # chunk writes leaves them unequal beyond the last flush.
                # Readers (like inspect) use the common prefix. A closed
                # file must be consistent.
                check(swmr, "%s: %d timestamps but %d node_ids in a closed file"
                      % (pop, len(t), len(n)))
                mismatched[pop] = (len(t), len(n))
                t, n = t[:min(len(t), len(n))], n[:min(len(t), len(n))]
            check(len(t) > 0, pop + ": no spikes in the file")
            check(np.all(np.diff(t) >= 0), pop + ": timestamps not sorted")
            check(np.all(n < size), pop + ": node id out of range")
            check(t[0] > 0, "%s: spike at %g ms" % (pop, t[0]))
            # A closed file holds exactly the spikes up to simulated_ms.
            check(swmr or t[-1] <= simulated + 1e-9,
                  "%s: spike at %g ms after simulated_ms = %g" % (pop, t[-1], simulated))
            spikes[pop] = (t, n)
    check(simulated > 0, "simulated_ms is %g" % simulated)
    return status, simulated, spikes, mismatched


def inspect_status(out):
    r = run_ok(["inspect", out])
    m = re.search(r"^status\s+(.*)$", r.stdout, re.M)
    check(m, "inspect prints no status line:\n" + r.stdout)
    return m.group(1).strip(), r


def check_prefix(spikes, simulated, reference, what):
    """The spikes of a stopped run are exactly the first spikes of an
    uninterrupted run, and include every spike up to the simulated time the
    file claims (/provenance/simulated_ms, as of the last flush). A killed
    file may also hold some later spikes (buffers written between flushes);
    those must be correct too."""
    for pop in SIZES:
        t, n = spikes[pop]
        rt, rn = reference[pop]
        due = int(np.count_nonzero(rt <= simulated + 1e-9))
        if len(t) < due:
            raise Failure("%s: %s holds %d spikes, but an uninterrupted run has %d up to "
                          "simulated_ms = %g" % (what, pop, len(t), due, simulated))
        check(len(t) <= len(rt), "%s: more spikes than the reference run" % what)
        if not (np.array_equal(t, rt[:len(t)]) and np.array_equal(n, rn[:len(t)])):
            bad = int(np.argmax((t != rt[:len(t)]) | (n != rn[:len(t)])))
            raise Failure("%s: %s spike %d is (%g ms, node %d), an uninterrupted run has "
                          "(%g ms, node %d)" % (what, pop, bad, t[bad], n[bad], rt[bad], rn[bad]))


class Reference:
    """An uninterrupted run of the same config, long enough to cover every
    stopped run (made once, on demand, and extended if needed)."""

    def __init__(self):
        self.duration = 0.0
        self.spikes = None

    def get(self, simulated_ms):
        # Cover the spikes a killed file may hold beyond its last flush (up to
        # a 64 Ki-spike chunk: about 1.6 s of COBA activity).
        simulated_ms += 3000.0
        if simulated_ms > self.duration:
            duration = max(6000.0, 1000.0 * np.ceil(simulated_ms / 1000.0))
            with TempDir() as tmp:
                out = os.path.join(tmp, "reference.h5")
                args = run_args(out)
                args[args.index("--duration") + 1] = "%g" % duration
                run_ok(args, cwd=tmp, timeout=600)
                with h5py.File(out, "r") as f:
                    self.spikes = {p: clitest.read_spikes(f, p) for p in SIZES}
            self.duration = duration
        return self.spikes


REFERENCE = Reference()


def kill_once(extra_delay):
    with TempDir() as tmp:
        out = os.path.join(tmp, "killed.h5")
        proc = start(out, tmp)
        wait_for_first_flush(proc, out)
        time.sleep(extra_delay)
        code, err = stop(proc, signal.SIGKILL)
        check_equal(code, -signal.SIGKILL, "return code after SIGKILL")
        status, simulated, spikes, mismatched = read_run(out, swmr=True)
        check_equal(status, "running", "/provenance/status of a killed run")
        shown, r = inspect_status(out)
        check(not shown.startswith("complete"), "inspect says %r for a killed run" % shown)
        expect_in(shown, "running", "inspect status", r)
        # inspect's spike counts match what h5py reads.
        for pop in SIZES:
            m = re.search(r"^\s+%s\s+(\d+)\s+(\d+)\s" % pop, r.stdout, re.M)
            check(m, "inspect lists no spikes row for %s:\n%s" % (pop, r.stdout))
            check_equal(int(m.group(2)), len(spikes[pop][0]), "inspect spike count of " + pop)
            if pop in mismatched:
                expect_in(r.stdout, "%d timestamps but %d node ids" % mismatched[pop],
                          "inspect problems", r)
        check_prefix(spikes, simulated, REFERENCE.get(simulated), "killed run")
        return simulated


def make_kill_test(k, delay):
    def test():
        kill_once(delay)
    return ("test_sigkill_%d_after_%.2fs" % (k + 1, delay), test)


LOAD_KILLED_EDGES = """\
[simulation]
duration = 10.0

[[population]]
name = "exc"
model = "iaf_cond_exp"
size = 3200

[[projection]]
source = "exc"
target = "exc"
rule = "explicit"
file = "{file}"
edge_population = "exc_to_exc"
"""


def test_killed_file_does_not_present_unwritten_edges():
    """The /edges datasets are created at full size when the run starts and
    filled only when it ends: in a killed file they hold fill values (zeros).
    Loading them as explicit edges must be refused as bad data (65, naming
    the file), and inspect must not report them as real edges (it must flag
    them under "notes", what a killed run's file lacks as expected, or not
    list them)."""
    with TempDir() as tmp:
        out = os.path.join(tmp, "killed.h5")
        proc = start(out, tmp)
        wait_for_first_flush(proc, out)
        stop(proc, signal.SIGKILL)
        with h5py.File(out, "r", swmr=True) as f:
            if "edges" not in f or not len(f["edges"]):
                return  # nothing presented: fine
        cfg = clitest.write(os.path.join(tmp, "load.toml"), LOAD_KILLED_EDGES.format(file=out))
        r = spikeline(["run", cfg, "-o", os.path.join(tmp, "load.h5"), "-q"], cwd=tmp)
        problems_found = []
        if r.returncode != clitest.EX_DATAERR or out not in r.stderr:
            problems_found.append("loading the killed file's edges: expected exit 65 and a "
                                  "message naming %s\n%s" % (out, r.describe()))
        shown, r = inspect_status(out)
        listed = re.search(r"^edges\n(.*?)(?:\n\n|\Z)", r.stdout, re.M | re.S)
        problems = r.stdout.split("\nnotes\n", 1)[1] if "\nnotes\n" in r.stdout else ""
        if listed and "edges" not in problems and "exc_to_exc" not in problems:
            problems_found.append("inspect lists the never-written edges of a killed run as "
                                  "real and reports no problem:\n" + r.stdout)
        check(not problems_found, "\n".join(problems_found))


def sigint_or_sigterm(sig, code):
    with TempDir() as tmp:
        out = os.path.join(tmp, "stopped.h5")
        proc = start(out, tmp)
        wait_for_first_flush(proc, out)
        time.sleep(RNG.uniform(0.0, 0.5))
        rc, err = stop(proc, sig)
        check_equal(rc, code, "exit code after signal %d (stderr: %s)" % (sig, err[-500:]))
        expect_in(err, "interrupted", "stderr")
        # The file was closed: a plain read-only open works.
        status, simulated, spikes, _ = read_run(out, swmr=False)
        check_equal(status, "interrupted", "/provenance/status")
        check(simulated < LONG_DURATION, "simulated_ms %g" % simulated)
        with h5py.File(out, "r") as f:
            # The final connectivity is written on the way out.
            d = f["edges"]["exc_to_exc"]["0"]["delay"][()]
            check(len(d) > 0 and np.allclose(d, 0.1), "edges not written on interrupt")
        shown, _ = inspect_status(out)
        check(shown.startswith("interrupted"), "inspect status %r" % shown)
        check_prefix(spikes, simulated, REFERENCE.get(simulated), "signal %d" % sig)


SLOW_BUILD = """\
[simulation]
duration = 100.0
threads = 2

[output]
edges = false

[[population]]
name = "exc"
model = "iaf_psc_delta"
size = 60000

[[projection]]
source = "exc"
target = "exc"
rule = "fixed_indegree"
indegree = 1000
weight = 0.1
delay = 1.5
"""


def signal_during_build(sig, code):
    """A network whose synapses take seconds to lay out (6e7 of them: 4 to 7
    s here, 600 MB), a signal 1 s after the start: the build stops within a
    second (2 s allowed on a loaded machine; the wait is at most a slice of
    synapses, 4096 rows, or a partition's allocation), the exit code is the
    signal's, and the output path is as it was (an earlier file
    byte-identical, no temporary file). Was: the build went on to the end
    and the file was created."""
    with TempDir() as tmp:
        cfg = clitest.write(os.path.join(tmp, "slow.toml"), SLOW_BUILD)
        out = os.path.join(tmp, "out.h5")
        clitest.write(out, "an earlier run's results")
        proc = subprocess.Popen([clitest.BINARY, "run", cfg, "-o", out, "-q"], cwd=tmp,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        check(proc.poll() is None, "the build ended within 1 s: it must take longer for this test")
        rc, err = stop(proc, sig)
        check_equal(rc, code, "exit code after signal %d during the build (stderr: %s)"
                    % (sig, err[-500:]))
        expect_in(err, "stopped by signal %d while building the network" % sig, "stderr")
        check(clitest.read_bytes(out) == b"an earlier run's results", "the output path changed")
        check_equal(sorted(os.listdir(tmp)), ["out.h5", "slow.toml"], "files")


def test_sigint_during_the_build():
    signal_during_build(signal.SIGINT, EX_SIGINT)


def test_sigterm_during_the_build():
    signal_during_build(signal.SIGTERM, EX_SIGTERM)


def test_sigint():
    sigint_or_sigterm(signal.SIGINT, EX_SIGINT)


def test_sigterm():
    sigint_or_sigterm(signal.SIGTERM, EX_SIGTERM)


def all_tests():
    tests = [make_kill_test(k, RNG.uniform(0.0, MAX_EXTRA_DELAY_S)) for k in range(KILLS)]
    tests += clitest.collect(globals())
    return tests


if __name__ == "__main__":
    clitest.main(all_tests())
