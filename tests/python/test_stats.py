"""spikeline.stats against known answers: regular and alternating trains
(exact), Poisson trains with fixed seeds (tolerances derived below), and
the errors for bad arguments.

Run by ctest as /usr/bin/python3 test_stats.py SPIKELINE_BINARY SOURCE_DIR,
with PYTHONPATH = SOURCE_DIR/python.
"""

import os
import sys

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import clitest  # noqa: E402
from clitest import check, check_equal  # noqa: E402

from spikeline import Spikes, stats  # noqa: E402


def from_trains(trains, t_stop, t_start=0.0, population="p"):
    times = np.concatenate([np.asarray(t, dtype=np.float64) for t in trains]) if trains else []
    ids = np.concatenate([np.full(len(t), i, dtype=np.uint64) for i, t in enumerate(trains)]) \
        if trains else []
    order = np.argsort(times, kind="stable")  # by time, as a SONATA file sorted by_time
    return Spikes(population, np.asarray(times)[order], np.asarray(ids)[order], len(trains),
                  t_start, t_stop)


def expect_error(fn, *fragments):
    try:
        fn()
    except stats.StatsError as e:
        for f in fragments:
            check(f in str(e), "message %r lacks %r" % (str(e), f))
        return
    raise clitest.Failure("no StatsError (expected one naming %s)" % (fragments,))


# --- regular trains: every number is exact ------------------------------

def regular():
    """Neuron i fires every (i + 1) * 10 ms from 5 ms, over [0, 1000] ms;
    neuron 4 is silent. Spike counts: 100, 50, 34, 25, 0."""
    trains = [np.arange(5.0, 1000.0, (i + 1) * 10.0) for i in range(4)] + [np.array([])]
    return from_trains(trains, 1000.0)


def test_rates_of_regular_trains_are_exact():
    s = regular()
    check_equal(list(stats.rates(s)), [100.0, 50.0, 34.0, 25.0, 0.0], "rates (Hz)")
    check_equal(stats.population_rate(s), 209.0 / 5, "population rate (Hz)")
    # A window: [0, 500] ms holds 50, 25, 17, 13 spikes.
    check_equal(list(stats.rates(s, 0.0, 500.0)), [100.0, 50.0, 34.0, 26.0, 0.0],
                "rates over [0, 500] ms")


def test_psth_of_regular_trains_is_exact():
    s = from_trains([np.arange(5.0, 1000.0, 10.0)] * 2, 1000.0)
    edges, rate = stats.psth(s, 100.0)
    check_equal(list(edges), [100.0 * k for k in range(11)], "bin edges")
    # 10 spikes per neuron per 100 ms bin: 100 Hz in every bin.
    check_equal(list(rate), [100.0] * 10, "PSTH (Hz)")
    # A bin that does not divide the window: the last bin is cut at t_stop and
    # its rate uses its own width (40 ms holding 4 spikes per neuron: 100 Hz).
    edges, rate = stats.psth(s, 320.0)
    check_equal(list(edges), [0.0, 320.0, 640.0, 960.0, 1000.0], "cut bin edges")
    check_equal(list(np.round(rate, 9)), [100.0] * 4, "PSTH with a cut last bin")


def test_isi_cv_lv_of_regular_trains_are_zero():
    s = regular()
    per = stats.isi_per_neuron(s)
    for i in range(4):
        check(np.all(per[i] == (i + 1) * 10.0), "ISIs of neuron %d: %s" % (i, per[i][:5]))
    check_equal(len(per[4]), 0, "ISIs of the silent neuron")
    check_equal(len(stats.isi(s)), 99 + 49 + 33 + 24, "number of ISIs")
    c, l_v = stats.cv(s), stats.lv(s)
    check_equal(list(c[:4]), [0.0] * 4, "CV of regular trains")
    check_equal(list(l_v[:4]), [0.0] * 4, "LV of regular trains")
    check(np.isnan(c[4]) and np.isnan(l_v[4]), "a silent neuron's CV and LV are NaN, not 0")


def test_cv_and_lv_of_alternating_intervals_are_exact():
    # ISIs alternating a, b: mean (a+b)/2, std |a-b|/2, so CV = |a-b|/(a+b);
    # every consecutive pair gives ((a-b)/(a+b))^2, so LV = 3 ((a-b)/(a+b))^2.
    a, b = 2.0, 6.0
    isis = np.tile([a, b], 50)
    train = np.concatenate([[0.0], np.cumsum(isis)])
    s = from_trains([train], float(train[-1]))
    check(abs(stats.cv(s)[0] - 0.5) < 1e-12, "CV %r, expected 0.5" % stats.cv(s)[0])
    check(abs(stats.lv(s)[0] - 0.75) < 1e-12, "LV %r, expected 0.75" % stats.lv(s)[0])
    # Two ISIs are the least that defines either; one is not enough.
    short = from_trains([[0.0, 2.0, 8.0], [0.0, 2.0]], 10.0)
    check_equal(list(np.round(stats.cv(short)[:1], 12)), [0.5], "CV from 2 ISIs")
    check(np.isnan(stats.cv(short)[1]) and np.isnan(stats.lv(short)[1]),
          "one ISI gives NaN CV and LV")


def test_fano_factor_and_counts_of_regular_trains():
    s = from_trains([np.arange(5.0, 1000.0, 10.0), np.arange(5.0, 1000.0, 25.0), []], 1000.0)
    counts = stats.binned_counts(s, 50.0)
    check_equal(counts.shape, (3, 20), "binned counts shape")
    check(np.all(counts[0] == 5), "neuron 0: 5 spikes per 50 ms bin")
    # Neuron 1 at 5, 30 | 55, 80 | ...: 2 per bin.
    check(np.all(counts[1] == 2), "neuron 1: 2 spikes per 50 ms bin, got %s" % counts[1][:6])
    ff = stats.fano_factor(s, 50.0)
    check_equal(list(ff[:2]), [0.0, 0.0], "Fano factor of regular trains")
    check(np.isnan(ff[2]), "a silent neuron's Fano factor is NaN")
    # Neuron 1 in 20 ms bins: spikes 5, 30, 55, 80, 105, ... fall in bins
    # 0, 1, 2, 4, 5, ...: uneven counts, known exactly, and so is the Fano factor.
    c = stats.binned_counts(s, 20.0)[1]
    expected = np.bincount((np.arange(5.0, 1000.0, 25.0) // 20).astype(int), minlength=50)
    check(np.array_equal(c, expected), "counts in 20 ms bins")
    check(abs(stats.fano_factor(s, 20.0)[1] - expected.var() / expected.mean()) < 1e-12,
          "Fano factor in 20 ms bins")


def test_count_correlations_exact_cases():
    # Identical trains correlate 1, a train and its complement in each bin -1.
    t = np.arange(5.0, 1000.0, 100.0)         # one spike in every 100 ms bin
    even = np.arange(5.0, 1000.0, 200.0)      # bins 0, 2, 4, ...
    odd = even + 100.0                        # bins 1, 3, 5, ...
    s = from_trains([even, even.copy(), odd, t], 1000.0)
    r = stats.spike_count_correlations(s, 100.0)
    check(abs(r[0, 1] - 1.0) < 1e-12, "identical trains: r = %r" % r[0, 1])
    check(abs(r[0, 2] + 1.0) < 1e-12, "complementary trains: r = %r" % r[0, 2])
    check(np.all(np.isnan(r[3])) and np.all(np.isnan(r[:, 3])),
          "a neuron with constant counts has undefined correlations (NaN)")
    m = stats.mean_pairwise_correlation(r[:3, :3])
    check(abs(m - (1 - 1 - 1) / 3) < 1e-12, "mean pairwise r %r, expected -1/3" % m)
    sub = stats.spike_count_correlations(s, 100.0, neurons=[2, 0])
    check(abs(sub[0, 1] + 1.0) < 1e-12, "chosen neurons keep their order")


def test_weight_distributions_are_exact():
    w = np.array([[0.0, 0.5, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    edges, counts, mean, std = stats.weight_distributions(w, bins=2)
    check_equal(list(edges), [0.0, 0.5, 1.0], "edges span all samples")
    check_equal(counts.tolist(), [[1, 3], [0, 4]], "histogram per sample")
    check_equal(list(mean), [0.625, 1.0], "mean per sample")
    check(abs(std[0] - np.std([0.0, 0.5, 1.0, 1.0])) < 1e-15 and std[1] == 0.0, "std per sample")


# --- Poisson trains: statistical checks ---------------------------------

def poisson(n, rate_hz, t_ms, seed):
    """n independent homogeneous Poisson trains (exponential ISIs)."""
    rng = np.random.default_rng(seed)
    trains = []
    for _ in range(n):
        k = rng.poisson(rate_hz * t_ms / 1000.0)
        trains.append(np.sort(rng.uniform(0.0, t_ms, k)))
    return trains


def test_poisson_trains_cv_lv_fano_rates():
    # 50 neurons at 20 Hz for 100 s: about 2000 ISIs each. Tolerances are 5 to
    # 6 standard deviations of the estimates (fixed seed, so the test is
    # deterministic; the margin says a correct implementation passes for any
    # seed and a wrong definition does not):
    # - rate: the count is Poisson(2000) per neuron, 100,000 in all, so the
    #   population rate has sd 20 Hz / sqrt(100,000) = 0.063 Hz: +-0.35 Hz.
    # - CV: for exponential ISIs the delta method gives var(CV^) = 1/n
    #   (var(s) = 2/n, cov(m, s) = 1/n, var(m) = 1/n at mean 1), sd 0.022
    #   per neuron, 0.0032 for the mean of 50: +-0.02.
    # - LV: for iid exponentials a/(a+b) is uniform, so each term 3 u^2
    #   (u uniform on (-1, 1)) has mean 1 and variance 0.8; neighbouring terms
    #   share an interval, at most tripling the variance: sd <= 0.035 per
    #   neuron, 0.005 for the mean: +-0.03.
    # - Fano (100 ms bins, 1000 bins of Poisson(2)): sd about
    #   sqrt(2/1000 + 1/(2*1000)) = 0.05 per neuron, 0.007 for the mean: +-0.04.
    n, rate, t = 50, 20.0, 100_000.0
    s = from_trains(poisson(n, rate, t, seed=20260101), t)
    check(abs(stats.population_rate(s) - rate) < 0.35,
          "population rate %.3f Hz, expected 20 +- 0.35" % stats.population_rate(s))
    cv_mean, lv_mean = np.nanmean(stats.cv(s)), np.nanmean(stats.lv(s))
    check(abs(cv_mean - 1.0) < 0.02, "mean CV %.4f, expected 1 +- 0.02" % cv_mean)
    check(abs(lv_mean - 1.0) < 0.03, "mean LV %.4f, expected 1 +- 0.03" % lv_mean)
    ff = np.nanmean(stats.fano_factor(s, 100.0))
    check(abs(ff - 1.0) < 0.04, "mean Fano factor %.4f, expected 1 +- 0.04" % ff)
    # ISIs are exponential with mean 50 ms: the pooled mean within 1%
    # (sd 50/sqrt(100,000) = 0.16 ms, 3 sd = 0.5 ms).
    check(abs(stats.isi(s).mean() - 50.0) < 0.5, "mean ISI %.3f ms" % stats.isi(s).mean())


def test_poisson_count_correlations():
    # Independent trains: r ~ N(0, 1/bins) per pair. 30 neurons, 1000 bins of
    # 100 ms: sd 0.032 per pair; the mean of 435 pairs has sd 0.0015 (pairs
    # are nearly independent): +-0.01; no pair beyond 6 sd (0.19).
    t = 100_000.0
    s = from_trains(poisson(30, 20.0, t, seed=7), t)
    r = stats.spike_count_correlations(s, 100.0)
    off = r[~np.eye(30, dtype=bool)]
    check(abs(off.mean()) < 0.01, "mean r of independent trains %.4f, expected 0 +- 0.01"
          % off.mean())
    check(np.abs(off).max() < 0.19, "largest |r| %.3f of independent trains" % np.abs(off).max())
    check(np.allclose(np.diag(r), 1.0), "diagonal is 1")
    # Shared input: each neuron is the union of one common Poisson train at
    # c * rate and an own one at (1 - c) * rate. Counts are then Poisson with
    # cov = c * mean, so r = c = 0.5; the sample r has sd (1 - c^2)/sqrt(1000)
    # = 0.024: +-0.12 (5 sd).
    c = 0.5
    shared = poisson(1, c * 20.0, t, seed=11)[0]
    own = poisson(2, (1 - c) * 20.0, t, seed=12)
    s2 = from_trains([np.sort(np.concatenate([shared, o])) for o in own], t)
    r2 = stats.spike_count_correlations(s2, 100.0)[0, 1]
    check(abs(r2 - c) < 0.12, "r with shared input %.3f, expected 0.5 +- 0.12" % r2)


# --- errors --------------------------------------------------------------

def test_bad_arguments_name_the_value_and_range():
    s = regular()
    expect_error(lambda: stats.psth(s, 0.0), "bin_ms", "0.0", "positive")
    expect_error(lambda: stats.psth(s, float("nan")), "bin_ms", "nan")
    expect_error(lambda: stats.rates(s, 500.0, 100.0), "[500.0, 100.0]", "t_stop must exceed")
    expect_error(lambda: stats.binned_counts(s, 5000.0), "5000", "longer than the window")
    expect_error(lambda: stats.spike_count_correlations(s, 10.0, neurons=[7]),
                 "neuron 7", "node ids 0..4")
    expect_error(lambda: stats.weight_distributions(np.zeros(3)), "samples x synapses", "(3,)")


def test_summary_of_a_population():
    s = regular()
    sm = stats.summary(s)
    check_equal((sm["neurons"], sm["spikes"]), (5, 209), "neurons, spikes")
    check_equal(sm["silent_fraction"], 0.2, "silent fraction")
    check_equal((sm["cv_mean"], sm["lv_mean"], sm["cv_neurons"]), (0.0, 0.0, 4), "CV, LV")
    empty = Spikes("e", [], [], 3, 0.0, 0.0)
    sm = stats.summary(empty)
    check(np.isnan(sm["rate_hz"]) and np.isnan(sm["cv_mean"]) and sm["spikes"] == 0,
          "an empty population's summary: NaN where undefined, %r" % sm)


clitest.main(globals())
