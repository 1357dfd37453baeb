"""Run-time guards: a runaway population and a wall-clock limit stop the run
with exit 70, a message naming the limit, and an output file kept, marked
failed, with the spikes simulated so far."""

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


if __name__ == "__main__":
    clitest.main(globals())
