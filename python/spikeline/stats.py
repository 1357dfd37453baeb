"""Spike-train and weight statistics, on numpy arrays or `Spikes`.

Times are in ms, rates in Hz. The functions take a `Spikes` (from
`File.spikes`) or, where noted, plain arrays; vectorised over neurons, so a
few million spikes take well under a second.

Definitions (the usual ones):
- rate of a neuron: spikes / (t_stop - t_start);
- PSTH / population rate: spikes in each bin / (neurons x bin width);
- ISI: differences of consecutive spike times of one neuron;
- CV = std(ISI) / mean(ISI) (population std, ddof = 0) per neuron, needs >= 2 ISIs;
- LV (Shinomoto et al. 2003, 2009) = 3/(n-1) sum_i ((I_i - I_{i+1}) / (I_i + I_{i+1}))^2
  over a neuron's n ISIs, needs >= 2 ISIs; 1 for a Poisson process, 0 for a regular train;
- Fano factor = var(count) / mean(count) of a neuron's spike counts in
  consecutive windows (ddof = 0); 1 for a Poisson process;
- spike-count correlation: Pearson's r between two neurons' binned counts.
Undefined values (too few spikes, a silent neuron) are NaN, never 0.
"""

import numpy as np


class StatsError(ValueError):
    pass


def _check_positive(name, value):
    if not (np.isfinite(value) and value > 0):
        raise StatsError("%s must be a positive, finite number of ms, got %r" % (name, value))


def _window(spikes, t_start, t_stop):
    t0 = spikes.t_start if t_start is None else float(t_start)
    t1 = spikes.t_stop if t_stop is None else float(t_stop)
    if not (np.isfinite(t0) and np.isfinite(t1) and t1 > t0):
        raise StatsError("time window [%r, %r] ms is empty: t_stop must exceed t_start" % (t0, t1))
    return t0, t1


def _in_window(spikes, t0, t1):
    keep = (spikes.times >= t0) & (spikes.times <= t1)
    return spikes.times[keep], spikes.node_ids[keep].astype(np.int64)


def rates(spikes, t_start=None, t_stop=None):
    """Per-neuron firing rates (Hz), an array of node_count."""
    t0, t1 = _window(spikes, t_start, t_stop)
    _, ids = _in_window(spikes, t0, t1)
    counts = np.bincount(ids, minlength=spikes.node_count)[:spikes.node_count]
    return counts / ((t1 - t0) / 1000.0)


def population_rate(spikes, t_start=None, t_stop=None):
    """Mean rate of the population (Hz): spikes / (neurons x duration)."""
    t0, t1 = _window(spikes, t_start, t_stop)
    times, _ = _in_window(spikes, t0, t1)
    if spikes.node_count == 0:
        return float("nan")
    return len(times) / spikes.node_count / ((t1 - t0) / 1000.0)


def psth(spikes, bin_ms, t_start=None, t_stop=None):
    """Peri-stimulus time histogram / population rate: (bin edges in ms,
    rate in Hz per bin = spikes in the bin / (neurons x bin width)). Bins are
    [t_start + k bin, t_start + (k+1) bin); the last one is cut at t_stop
    and its rate uses its own width."""
    _check_positive("bin_ms", bin_ms)
    t0, t1 = _window(spikes, t_start, t_stop)
    times, _ = _in_window(spikes, t0, t1)
    n_bins = int(np.ceil((t1 - t0) / bin_ms - 1e-9))
    edges = t0 + bin_ms * np.arange(n_bins + 1)
    edges[-1] = t1
    counts, _ = np.histogram(times, bins=edges)
    widths_s = np.diff(edges) / 1000.0
    return edges, counts / (max(spikes.node_count, 1) * widths_s)


def _sorted_by_neuron(spikes, t0=None, t1=None):
    if t0 is None:
        times, ids = spikes.times, spikes.node_ids.astype(np.int64)
    else:
        times, ids = _in_window(spikes, t0, t1)
    order = np.lexsort((times, ids))
    return times[order], ids[order]


def _isi_with_owner(spikes):
    times, ids = _sorted_by_neuron(spikes)
    same = ids[1:] == ids[:-1]
    return np.diff(times)[same], ids[1:][same]


def isi(spikes):
    """All inter-spike intervals (ms) of all neurons, concatenated."""
    return _isi_with_owner(spikes)[0]


def isi_per_neuron(spikes):
    """One array of ISIs (ms) per neuron."""
    intervals, owner = _isi_with_owner(spikes)
    bounds = np.searchsorted(owner, np.arange(spikes.node_count + 1))
    return [intervals[bounds[i]:bounds[i + 1]] for i in range(spikes.node_count)]


def cv(spikes, min_isis=2):
    """Per-neuron coefficient of variation of the ISIs (NaN for neurons with
    fewer than `min_isis` intervals)."""
    intervals, owner = _isi_with_owner(spikes)
    n = np.bincount(owner, minlength=spikes.node_count).astype(np.float64)
    s = np.bincount(owner, weights=intervals, minlength=spikes.node_count)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / n
        var = np.bincount(owner, weights=(intervals - mean[owner]) ** 2,
                          minlength=spikes.node_count) / n
        out = np.sqrt(var) / mean
    out[n < max(min_isis, 2)] = np.nan
    return out


def lv(spikes):
    """Per-neuron local variation (Shinomoto): NaN for neurons with fewer than
    2 ISIs."""
    intervals, owner = _isi_with_owner(spikes)
    pair = owner[1:] == owner[:-1]
    a, b = intervals[:-1][pair], intervals[1:][pair]
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = ((a - b) / (a + b)) ** 2
    n_pairs = np.bincount(owner[1:][pair], minlength=spikes.node_count).astype(np.float64)
    total = np.bincount(owner[1:][pair], weights=terms, minlength=spikes.node_count)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 3.0 * total / n_pairs
    out[n_pairs < 1] = np.nan
    return out


def binned_counts(spikes, bin_ms, t_start=None, t_stop=None):
    """neurons x bins matrix of spike counts in consecutive whole bins of
    `bin_ms` from t_start (a last, partial bin is dropped)."""
    _check_positive("bin_ms", bin_ms)
    t0, t1 = _window(spikes, t_start, t_stop)
    n_bins = int(np.floor((t1 - t0) / bin_ms + 1e-9))
    if n_bins < 1:
        raise StatsError("bin_ms = %g ms is longer than the window [%g, %g] ms" % (bin_ms, t0, t1))
    times, ids = _in_window(spikes, t0, t0 + n_bins * bin_ms)
    b = np.minimum(((times - t0) / bin_ms).astype(np.int64), n_bins - 1)
    counts = np.zeros((spikes.node_count, n_bins), dtype=np.int64)
    np.add.at(counts, (ids, b), 1)
    return counts


def fano_factor(spikes, bin_ms, t_start=None, t_stop=None):
    """Per-neuron Fano factor of spike counts in windows of `bin_ms` (NaN for
    a neuron with no spike)."""
    counts = binned_counts(spikes, bin_ms, t_start, t_stop).astype(np.float64)
    mean = counts.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = counts.var(axis=1) / mean
    out[mean == 0] = np.nan
    return out


def spike_count_correlations(spikes, bin_ms, neurons=None, t_start=None, t_stop=None):
    """Pearson correlation matrix of the binned spike counts of `neurons`
    (node ids, default all); rows and columns of neurons with constant counts
    (e.g. silent) are NaN. The diagonal is 1 where defined."""
    counts = binned_counts(spikes, bin_ms, t_start, t_stop).astype(np.float64)
    if neurons is not None:
        neurons = np.asarray(neurons, dtype=np.int64)
        bad = neurons[(neurons < 0) | (neurons >= spikes.node_count)]
        if len(bad):
            raise StatsError("neuron %d is not in population %r (node ids 0..%d)" %
                             (int(bad[0]), spikes.population, spikes.node_count - 1))
        counts = counts[neurons]
    centred = counts - counts.mean(axis=1, keepdims=True)
    norm = np.sqrt((centred ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (centred @ centred.T) / np.outer(norm, norm)
    r[norm == 0, :] = np.nan
    r[:, norm == 0] = np.nan
    return r


def mean_pairwise_correlation(matrix):
    """Mean of the off-diagonal, defined entries of a correlation matrix."""
    m = np.asarray(matrix, dtype=np.float64)
    off = m[~np.eye(len(m), dtype=bool)]
    off = off[np.isfinite(off)]
    return float(off.mean()) if len(off) else float("nan")


def weight_distributions(snapshots, bins=50, range=None):
    """Histograms of the weights at each sample of a `WeightSnapshots` (or a
    samples x synapses array): (edges, counts [samples x bins], mean [samples],
    std [samples]). The bins span all samples' weights unless `range` is
    given, so the rows are comparable."""
    data = np.asarray(getattr(snapshots, "data", snapshots), dtype=np.float64)
    if data.ndim != 2:
        raise StatsError("weights must be samples x synapses, got shape %s" % (data.shape,))
    if range is None:
        lo, hi = (float(np.nanmin(data)), float(np.nanmax(data))) if data.size else (0.0, 1.0)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        range = (lo, hi)
    edges = np.linspace(range[0], range[1], int(bins) + 1)
    counts = np.stack([np.histogram(row, bins=edges)[0] for row in data]) if len(data) else \
        np.zeros((0, int(bins)), dtype=np.int64)
    return edges, counts, data.mean(axis=1), data.std(axis=1)


def summary(spikes):
    """A dict of the usual numbers for one population: neurons, spikes, rate
    (Hz), mean and median CV and LV over neurons where defined, and the
    fraction of silent neurons."""
    timed = spikes.t_stop > spikes.t_start
    r = rates(spikes) if timed else np.full(spikes.node_count, np.nan)
    c, l_v = cv(spikes), lv(spikes)
    return {
        "population": spikes.population,
        "neurons": spikes.node_count,
        "spikes": len(spikes),
        "rate_hz": population_rate(spikes) if timed else float("nan"),
        "rate_std_hz": float(r.std()) if timed and len(r) else float("nan"),
        "silent_fraction": float(np.mean(r == 0)) if timed and len(r) else float("nan"),
        "cv_mean": float(np.nanmean(c)) if np.isfinite(c).any() else float("nan"),
        "cv_median": float(np.nanmedian(c)) if np.isfinite(c).any() else float("nan"),
        "lv_mean": float(np.nanmean(l_v)) if np.isfinite(l_v).any() else float("nan"),
        "cv_neurons": int(np.isfinite(c).sum()),
    }
