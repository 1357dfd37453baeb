"""The COBA example against the Brian2 reference statistics.

shared/specs/benchmarks.md gives the reference (Brian2, seeds 1-3, 10 s):
excitatory rate 19.1 Hz, inhibitory 19.2 Hz, mean ISI CV 1.76 in both, and
the tolerance a faithful implementation meets: rates within 15 %, CV within
0.2. The network is chaotic, so single spikes cannot be compared; these
statistics can. Each seed is checked on its own (the reference spread over
seeds is +-0.4 Hz, far inside the tolerance), and the means over the three
seeds must hold too. One seed runs with two threads, which must not matter.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import TempDir, check, run_ok, example, all_spikes  # noqa: E402

REF = {"exc": (19.1, 1.76), "inh": (19.2, 1.76)}
SIZES = {"exc": 3200, "inh": 800}
DURATION_S = 10.0


def cv_isi(times, ids, n):
    """Mean CV of the inter-spike intervals over neurons with >= 3 spikes,
    computed as in shared/reference/brian2_coba.py."""
    order = np.lexsort((times, ids))
    ii, tt = ids[order], times[order]
    bounds = np.searchsorted(ii, np.arange(n + 1))
    cvs = []
    for k in range(n):
        s = tt[bounds[k]:bounds[k + 1]]
        if len(s) >= 3:
            d = np.diff(s)
            cvs.append(d.std() / d.mean())
    return float(np.mean(cvs))


def run_seed(seed, threads):
    with TempDir() as d:
        out = os.path.join(d, "coba.h5")
        run_ok(["run", example("coba.toml"), "--seed", str(seed), "--threads", str(threads),
                "--output", out, "--quiet"], timeout=300)
        spikes = all_spikes(out)
    stats = {}
    for pop, (t, ids) in spikes.items():
        stats[pop] = (len(t) / SIZES[pop] / DURATION_S, cv_isi(t / 1000.0, ids, SIZES[pop]))
    return stats


def test_rates_and_cv_match_brian2():
    per_seed = [run_seed(1, 1), run_seed(2, 2), run_seed(3, 1)]
    for seed, stats in zip((1, 2, 3), per_seed):
        for pop, (rate_ref, cv_ref) in REF.items():
            rate, cv = stats[pop]
            print("seed %d %s: rate %.2f Hz (ref %.1f), CV %.3f (ref %.2f)" % (seed, pop, rate, rate_ref, cv, cv_ref))
            check(abs(rate - rate_ref) <= 0.15 * rate_ref,
                  "seed %d %s rate %.2f Hz is not within 15%% of %.1f Hz" % (seed, pop, rate, rate_ref))
            check(abs(cv - cv_ref) <= 0.2, "seed %d %s ISI CV %.3f is not within 0.2 of %.2f" % (seed, pop, cv, cv_ref))
    for pop, (rate_ref, cv_ref) in REF.items():
        rate = np.mean([s[pop][0] for s in per_seed])
        cv = np.mean([s[pop][1] for s in per_seed])
        check(abs(rate - rate_ref) <= 0.15 * rate_ref, "%s mean rate %.2f Hz off the reference" % (pop, rate))
        check(abs(cv - cv_ref) <= 0.2, "%s mean CV %.3f off the reference" % (pop, cv))


if __name__ == "__main__":
    clitest.main(globals())
