"""Run-time guards: a runaway population, a wall-clock limit and neuron state
that is no longer a finite number stop the run with exit 70, a message naming
the limit (or the population, neuron, variable, value and time), and an output
file kept, marked failed, with the spikes simulated so far."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (TempDir, check, spikeline, expect_exit, expect_in, example, all_spikes,  # noqa: E402
                     status_of, EX_SOFTWARE)


def test_rate_guard_stops_runaway_activity():
    with TempDir() as d:
        out = os.path.join(d, "out.h5")
        # COBA fires at about 20 Hz: a 5 Hz limit must stop it at the first check.
        r = spikeline(["run", example("coba.toml"), "--duration", "2000", "--output", out, "--quiet",
                       "--set", "simulation.max_rate=5", "--set", "simulation.guard_interval=100"])
        expect_exit(r, EX_SOFTWARE)
        expect_in(r.stderr, "above the limit max_rate = 5 Hz", r=r)
        expect_in(r.stderr, "population 'exc'", r=r)
        check(status_of(out) == "failed", "status should be failed, got %r" % status_of(out))
        t, _ = all_spikes(out)["exc"]
        check(len(t) > 0 and t.max() <= 100.0 + 1e-9, "spikes up to the guard check are kept (last %s)" %
              (t.max() if len(t) else None))


def test_wall_limit_counts_the_whole_run_across_flushes():
    with TempDir() as d:
        out = os.path.join(d, "out.h5")
        # Frequent flushes split the run into many run_until calls; the limit
        # must still apply to the run as a whole.
        r = spikeline(["run", example("coba.toml"), "--duration", "60000", "--output", out, "--quiet",
                       "--set", "simulation.wall_limit=0.5", "--set", "output.flush_interval=10"])
        expect_exit(r, EX_SOFTWARE)
        expect_in(r.stderr, "wall_limit = 0.5 s", r=r)
        check(r.seconds < 20, "the run should stop soon after 0.5 s, took %.1f s" % r.seconds)
        check(status_of(out) == "failed", "status should be failed")


# An Izhikevich population driven by a Poisson generator, and a spike
# generator whose one spike at 250.3 ms gives neuron 2 a current pulse of
# 3e38 (the largest float32 is 3.4e38): v^2 overflows, then v is NaN.
DIVERGING = """\
[simulation]
dt = 0.1
duration = %(duration)s
guard_interval = %(guard_interval)s

[[population]]
name = "drive"
model = "poisson_generator"
size = 20
params = { rate = 200.0 }

[[population]]
name = "kick"
model = "spike_generator"
size = 1
params = { spike_times = [250.3] }

[[population]]
name = "izh"
model = "izhikevich"
size = 4
%(initial)s

[[projection]]
source = "drive"
target = "izh"
rule = "all_to_all"
weight = 2.0
delay = 1.0

[[projection]]
source = "kick"
target = "izh"
rule = "explicit"
edges = { source = [0], target = [2] }
weight = 3.0e38
delay = 0.1
"""


def diverging_run(d, duration, initial="", guard_interval=100.0, extra=()):
    cfg = clitest.write(os.path.join(d, "diverge.toml"),
                        DIVERGING % {"duration": duration, "initial": initial,
                                     "guard_interval": guard_interval})
    out = os.path.join(d, "out.h5")
    r = spikeline(["run", cfg, "--output", out, "--quiet"] + list(extra))
    return r, out


def test_non_finite_state_fails_the_run():
    """State that turns NaN mid-run is found at the next guard interval (300
    ms): the run fails (exit 70, status failed) naming the population, the
    neuron, the variable, the value and the time, and keeps its spikes."""
    with TempDir() as d:
        r, out = diverging_run(d, 1000.0)
        expect_exit(r, EX_SOFTWARE)
        for fragment in ("population 'izh' neuron 2: state variable V_m = nan mV at 300 ms is not "
                         "a finite number: the run was stopped",
                         "checked every guard_interval = 100 ms of simulated time"):
            expect_in(r.stderr, fragment, r=r)
        check(status_of(out) == "failed", "status should be failed, got %r" % status_of(out))
        t, _ = all_spikes(out)["drive"]
        check(len(t) > 0 and 299.0 < t.max() <= 300.0 + 1e-9,
              "the spikes up to the check are kept (last %s)" % (t.max() if len(t) else None))


def test_non_finite_state_is_checked_at_the_end():
    """A run that ends before the next guard interval is checked at its end."""
    with TempDir() as d:
        r, out = diverging_run(d, 280.0, guard_interval=1000.0)
        expect_exit(r, EX_SOFTWARE)
        expect_in(r.stderr, "population 'izh' neuron 2: state variable V_m = nan mV at 280 ms", r=r)
        check(status_of(out) == "failed", "status should be failed, got %r" % status_of(out))


def test_non_finite_state_is_checked_before_a_flush():
    """A flush writes the run so far: the state is checked before it, even
    between guard intervals (NaN from 250.3 ms: found at the 400 ms flush,
    not at the 1000 ms guard)."""
    with TempDir() as d:
        r, out = diverging_run(d, 2000.0, guard_interval=1000.0,
                               extra=["--set", "output.flush_interval=400"])
        expect_exit(r, EX_SOFTWARE)
        expect_in(r.stderr, "population 'izh' neuron 2: state variable V_m = nan mV at 400 ms", r=r)
        check(status_of(out) == "failed", "status should be failed, got %r" % status_of(out))


def test_non_finite_initial_state_is_found_in_the_first_window():
    """An initial V_m = 1e300 (finite, so a valid config) overflows in the
    first step; the state is checked after the first window too."""
    with TempDir() as d:
        r, out = diverging_run(d, 1000.0, "initial = { V_m = 1e300 }")
        expect_exit(r, EX_SOFTWARE)
        expect_in(r.stderr, "population 'izh' neuron 0: state variable ", r=r)  # U_m = inf
        expect_in(r.stderr, "at 0.1 ms is not a finite number", r=r)
        check(status_of(out) == "failed", "status should be failed, got %r" % status_of(out))


def test_finite_state_runs_to_the_end():
    with TempDir() as d:
        r, out = diverging_run(d, 240.0)  # ends before the kick
        expect_exit(r, 0)
        check(status_of(out) == "complete", "status should be complete, got %r" % status_of(out))


if __name__ == "__main__":
    clitest.main(globals())
