"""Plots of spikeline (and any SONATA) output, with matplotlib.

Every function returns a matplotlib `Figure` made without pyplot (no GUI
backend, no global state; it renders with Agg) and, given `path`, also saves
it there: PNG, SVG or PDF by the file's extension.

    import spikeline, spikeline.plots as sp
    with spikeline.open_file("coba.h5") as f:
        sp.raster(f.all_spikes(), path="raster.png")
"""

import os

import numpy as np
from matplotlib.figure import Figure

from . import stats
from .files import Spikes

FORMATS = (".png", ".svg", ".pdf")
# Population colours: matplotlib's tab10, excitatory-looking first.
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


class PlotError(ValueError):
    pass


def save(fig, path, dpi=100):
    """Saves `fig` as PNG, SVG or PDF, chosen by the extension of `path`."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in FORMATS:
        raise PlotError("%s: unknown image format %r (valid: %s)" % (path, ext or "(none)",
                                                                     ", ".join(FORMATS)))
    fig.savefig(path, dpi=dpi, format=ext[1:])
    return path


def _figure(width=8.0, height=4.0):
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig


def _finish(fig, path):
    if path is not None:
        save(fig, path)
    return fig


def _as_dict(spikes):
    if isinstance(spikes, dict):
        return spikes
    if isinstance(spikes, (list, tuple)):
        return {s.population: s for s in spikes}
    return {spikes.population: spikes}


def subsample(spikes_by_pop, max_spikes, seed=0, max_neurons=None):
    """Neurons to draw per population so that at most about `max_spikes`
    spikes (and `max_neurons` rows) are drawn: whole neurons are kept (a
    chosen row shows its whole train), the same fraction of each
    population, chosen at random with `seed`. Returns {population: sorted
    node ids, or None for all}."""
    total = sum(len(s) for s in spikes_by_pop.values())
    neurons = sum(s.node_count for s in spikes_by_pop.values())
    fraction = 1.0
    if total > max_spikes:
        fraction = max_spikes / total
    if max_neurons is not None and neurons > max_neurons:
        fraction = min(fraction, max_neurons / neurons)
    if fraction >= 1.0:
        return {p: None for p in spikes_by_pop}
    rng = np.random.default_rng(seed)
    out = {}
    for p, s in spikes_by_pop.items():
        k = max(1, int(round(s.node_count * fraction)))
        out[p] = np.sort(rng.choice(s.node_count, size=min(k, s.node_count), replace=False))
    return out


def raster(spikes, t_start=None, t_stop=None, max_spikes=200_000, max_neurons=None, seed=0,
           path=None, width=10.0, height=5.0, title=None, rate_bin_ms=None):
    """Raster plot: one row per neuron, populations stacked and coloured,
    labelled at the left. Beyond `max_spikes` spikes, whole neurons are
    subsampled (the same fraction of every population, so their relative
    sizes stay right; the title says how many are shown); `max_neurons`
    caps the rows the same way (a legible raster has a few hundred). With
    `rate_bin_ms`, a population-rate panel is drawn underneath."""
    pops = _as_dict(spikes)
    if not pops:
        raise PlotError("raster: no spikes to plot (no population)")
    t0 = min(s.t_start for s in pops.values()) if t_start is None else t_start
    t1 = max(s.t_stop for s in pops.values()) if t_stop is None else t_stop
    window = {}
    for p, s in pops.items():
        sel = (s.times >= t0) & (s.times <= t1)
        window[p] = Spikes(p, s.times[sel], s.node_ids[sel], s.node_count, t0, t1)
    kept = subsample(window, max_spikes, seed, max_neurons)
    fig = _figure(width, height)
    if rate_bin_ms:
        ax, ax_rate = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    else:
        ax, ax_rate = fig.subplots(1, 1), None
    # Dots about a row high (the axes' height in points over the rows):
    # distinct where rows are few, a texture where they are many.
    rows_total = sum(s.node_count if kept[p] is None else len(kept[p]) for p, s in window.items())
    row_pt = height * 72.0 * (0.6 if rate_bin_ms else 0.8) / max(rows_total, 1)
    dot = min(12.0, max(3.0, (1.4 * row_pt) ** 2))
    offset = 0
    ticks, labels = [], []
    for k, (p, s) in enumerate(window.items()):
        colour = COLOURS[k % len(COLOURS)]
        times, ids = s.times, s.node_ids.astype(np.int64)
        rows = s.node_count
        if kept[p] is not None:
            row_of = np.full(s.node_count, -1, dtype=np.int64)
            row_of[kept[p]] = np.arange(len(kept[p]))
            r = row_of[ids]
            times, ids = times[r >= 0], r[r >= 0]
            rows = len(kept[p])
        ax.scatter(times, ids + offset, s=dot, marker="o",
                   color=colour, linewidths=0, rasterized=True)
        ticks.append(offset + rows / 2)
        labels.append("%s\n(%d)" % (p, s.node_count))
        offset += rows
        if k + 1 < len(window):
            ax.axhline(offset - 0.5, color="0.6", linewidth=0.5)
        if ax_rate is not None:
            edges, r = stats.psth(s, rate_bin_ms, t0, t1)
            ax_rate.step(edges[:-1], r, where="post", color=colour, label=p, linewidth=1)
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    ax.set_xlim(t0, t1)
    ax.invert_yaxis()
    neurons = sum(s.node_count for s in window.values())
    note = "" if offset == neurons else " (%s of %s neurons shown)" % (format(offset, ","),
                                                                         format(neurons, ","))
    ax.set_title((title or "Spike raster") + note, fontsize=10)
    if ax_rate is not None:
        ax_rate.set_ylabel("rate (Hz)")
        ax_rate.set_xlabel("time (ms)")
        ax_rate.legend(fontsize=8, loc="upper right")
    else:
        ax.set_xlabel("time (ms)")
    return _finish(fig, path)


def population_rate(spikes, bin_ms=5.0, t_start=None, t_stop=None, path=None, width=8.0,
                    height=3.0):
    """Population rate (PSTH, Hz) of each population in bins of `bin_ms`."""
    pops = _as_dict(spikes)
    fig = _figure(width, height)
    ax = fig.subplots()
    for k, (p, s) in enumerate(pops.items()):
        edges, r = stats.psth(s, bin_ms, t_start, t_stop)
        ax.step(edges[:-1], r, where="post", color=COLOURS[k % len(COLOURS)],
                label="%s (mean %.2f Hz)" % (p, stats.population_rate(s, t_start, t_stop)),
                linewidth=1)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz)")
    ax.set_title("Population rate (%g ms bins)" % bin_ms, fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return _finish(fig, path)


def rate_histogram(spikes, bins=40, path=None, width=5.0, height=3.5):
    """Distribution of the per-neuron firing rates of each population."""
    pops = _as_dict(spikes)
    fig = _figure(width, height)
    ax = fig.subplots()
    all_rates = {p: stats.rates(s) for p, s in pops.items()}
    hi = max((float(r.max()) for r in all_rates.values() if len(r)), default=1.0)
    edges = np.linspace(0, hi if hi > 0 else 1.0, bins + 1)
    for k, (p, r) in enumerate(all_rates.items()):
        ax.hist(r, bins=edges, histtype="step", linewidth=1.2, color=COLOURS[k % len(COLOURS)],
                label="%s (mean %.2f Hz)" % (p, r.mean() if len(r) else float("nan")))
    ax.set_xlabel("firing rate (Hz)")
    ax.set_ylabel("neurons")
    ax.set_title("Firing-rate distribution", fontsize=10)
    ax.legend(fontsize=8)
    return _finish(fig, path)


def isi_cv_histogram(spikes, bins=50, max_isi_ms=None, path=None, width=9.0, height=3.5):
    """Two panels: the ISI distribution (all neurons pooled, log-spaced
    bins) and the
    distribution of per-neuron CVs, per population (the dashed line marks
    CV = 1, a Poisson process)."""
    pops = _as_dict(spikes)
    fig = _figure(width, height)
    ax_isi, ax_cv = fig.subplots(1, 2)
    isis = {p: stats.isi(s) for p, s in pops.items()}
    positive = [v[v > 0] for v in isis.values() if np.any(v > 0)]
    lo = min((float(v.min()) for v in positive), default=0.1)
    hi = max_isi_ms or max((float(v.max()) for v in positive), default=1000.0)
    edges = np.geomspace(lo, max(hi, lo * 10), bins + 1)
    for k, (p, s) in enumerate(pops.items()):
        colour = COLOURS[k % len(COLOURS)]
        v = isis[p]
        v = v[v > 0]
        if len(v):
            ax_isi.hist(v, bins=edges, weights=np.full(len(v), 1.0 / len(v)), histtype="step",
                        color=colour, linewidth=1.2, label="%s (median %.3g ms)" % (p, np.median(v)))
        c = stats.cv(s)
        c = c[np.isfinite(c)]
        if len(c):
            ax_cv.hist(c, bins=np.linspace(0, max(2.0, float(c.max())), bins + 1),
                       histtype="step", color=colour, linewidth=1.2,
                       label="%s (mean %.2f)" % (p, c.mean()))
    ax_isi.set_xscale("log")
    ax_isi.set_xlabel("ISI (ms, log scale)")
    ax_isi.set_ylabel("fraction of ISIs")
    ax_isi.set_title("Inter-spike intervals", fontsize=10)
    ax_cv.axvline(1.0, color="0.4", linestyle="--", linewidth=0.8)
    ax_cv.set_xlabel("CV of ISI")
    ax_cv.set_ylabel("neurons")
    ax_cv.set_title("ISI coefficient of variation", fontsize=10)
    for a in (ax_isi, ax_cv):
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=8)
    return _finish(fig, path)


def traces(report, variable=None, nodes=None, max_nodes=8, t_start=None, t_stop=None,
           path=None, width=8.0, height=3.5):
    """Traces of one variable of chosen nodes (node ids; default the first
    `max_nodes` recorded) from a `Report`."""
    if variable is None:
        variable = report.variables[0]
    nodes = list(report.node_ids[:max_nodes]) if nodes is None else list(nodes)
    data = report.traces(variable, nodes)
    t = report.times
    sel = np.ones(len(t), dtype=bool)
    if t_start is not None:
        sel &= t >= t_start
    if t_stop is not None:
        sel &= t <= t_stop
    fig = _figure(width, height)
    ax = fig.subplots()
    for k, n in enumerate(nodes):
        ax.plot(t[sel], data[sel, k], linewidth=0.8, label="node %d" % int(n))
    unit = report.unit(variable)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("%s (%s)" % (variable, unit) if unit else variable)
    ax.set_title("%s of %s" % (variable, report.name), fontsize=10)
    if len(nodes) <= 10:
        ax.legend(fontsize=7, ncol=min(len(nodes), 4), loc="upper right")
    return _finish(fig, path)


def weight_histogram_over_time(snapshots, bins=50, path=None, width=8.0, height=3.5):
    """The weight distribution at each snapshot as an image (time x weight,
    colour = fraction of synapses), with the mean weight over it."""
    edges, counts, mean, _ = stats.weight_distributions(snapshots, bins)
    times = np.asarray(snapshots.times, dtype=np.float64)
    if len(times) == 0:
        raise PlotError("weights %r: no snapshot to plot" % snapshots.name)
    fig = _figure(width, height)
    ax = fig.subplots()
    frac = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    if len(times) > 1:
        dt = np.diff(times)
        t_edges = np.concatenate([[times[0] - dt[0] / 2], times[:-1] + dt / 2,
                                  [times[-1] + dt[-1] / 2]])
    else:
        t_edges = np.array([times[0] - 0.5, times[0] + 0.5])
    mesh = ax.pcolormesh(t_edges, edges, frac.T, cmap="viridis", shading="flat")
    fig.colorbar(mesh, ax=ax, label="fraction of synapses")
    ax.plot(times, mean, color="white", linewidth=1.2, label="mean")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("weight")
    ax.set_title("Weights of %s over time (%d synapses)" % (snapshots.name,
                                                            snapshots.data.shape[1]), fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return _finish(fig, path)


def weight_matrix(edges, sizes=None, max_size=400, path=None, width=5.5, height=5.0):
    """The connectivity as a target x source matrix of summed weights (all
    delays / taps of a pair summed). `edges`: one `Edges` or a list of them
    (e.g. every projection of a run): the populations are stacked in order
    of appearance, with their names on the axes. `sizes` maps a population to
    its size (default: its largest node id + 1). Beyond `max_size` neurons
    a side, neurons are pooled into blocks and the mean weight per pair of
    the block is shown. Colours: red excitatory (> 0), blue inhibitory, each
    side scaled to its own extreme so that both show."""
    from matplotlib.colors import TwoSlopeNorm

    edge_list = list(edges) if isinstance(edges, (list, tuple)) else [edges]
    if not edge_list:
        raise PlotError("weight matrix: no edges given")
    sizes = dict(sizes or {})
    order = []
    for e in edge_list:
        if e.weight is None:
            raise PlotError("edges %r have no syn_weight" % e.name)
        for pop, ids in ((e.source_population or "source", e.source),
                         (e.target_population or "target", e.target)):
            if pop not in order:
                order.append(pop)
            top = int(ids.max()) + 1 if len(ids) else 0
            sizes[pop] = max(int(sizes.get(pop) or 0), top)
    first = {}
    total = 0
    for pop in order:
        first[pop] = total
        total += sizes[pop]
    total = max(total, 1)
    block = max(1, int(np.ceil(total / max_size)))
    cells = int(np.ceil(total / block))
    m = np.zeros((cells, cells))
    for e in edge_list:
        src = (e.source.astype(np.int64) + first[e.source_population or "source"]) // block
        tgt = (e.target.astype(np.int64) + first[e.target_population or "target"]) // block
        np.add.at(m, (tgt, src), e.weight.astype(np.float64))
    m /= block * block
    fig = _figure(width, height)
    ax = fig.subplots()
    lo, hi = float(m.min()), float(m.max())
    norm = TwoSlopeNorm(vcenter=0.0, vmin=lo if lo < 0 else -1e-12, vmax=hi if hi > 0 else 1e-12)
    img = ax.imshow(m, cmap="RdBu_r", norm=norm, interpolation="nearest", aspect="auto",
                    extent=(0, cells * block, cells * block, 0))
    fig.colorbar(img, ax=ax, label="weight" + (" (mean over %dx%d blocks)" % (block, block)
                                               if block > 1 else ""))
    if len(order) > 1:
        for pop in order[1:]:
            ax.axvline(first[pop], color="0.3", linewidth=0.6)
            ax.axhline(first[pop], color="0.3", linewidth=0.6)
    centres = [first[p] + sizes[p] / 2 for p in order]
    ax.set_xticks(centres)
    ax.set_xticklabels(order)
    ax.set_yticks(centres)
    ax.set_yticklabels(order)
    ax.set_xlabel("source")
    ax.set_ylabel("target")
    n = sum(len(e) for e in edge_list)
    ax.set_title("Weights (%s synapses)" % format(n, ","), fontsize=10)
    return _finish(fig, path)


def weight_histogram(edges, bins=60, path=None, width=5.0, height=3.5):
    """Distribution of the final weights of each edges population."""
    edge_list = list(edges) if isinstance(edges, (list, tuple)) else [edges]
    fig = _figure(width, height)
    ax = fig.subplots()
    for k, e in enumerate(edge_list):
        if e.weight is None or not len(e):
            continue
        ax.hist(e.weight, bins=bins, histtype="step", linewidth=1.2,
                color=COLOURS[k % len(COLOURS)], label="%s (%s)" % (e.name, format(len(e), ",")))
    ax.set_yscale("log")
    ax.set_xlabel("weight")
    ax.set_ylabel("synapses")
    ax.set_title("Final weights", fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return _finish(fig, path)


def training_curves(log, path=None, width=9.0, height=3.5):
    """`spikeline train`'s log (File.training_log()): loss, and training and
    recall F1, against the step."""
    if len(log) == 0:
        raise PlotError("training log is empty: no step to plot")
    fig = _figure(width, height)
    ax_loss, ax_f1 = fig.subplots(1, 2)
    steps = log["step"].to_numpy()
    ax_loss.plot(steps, log["loss"].to_numpy(), color=COLOURS[0], marker="." if len(log) < 50
                 else None)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("Training loss", fontsize=10)
    ax_f1.plot(steps, log["train_f1"].to_numpy(), color=COLOURS[2], label="training F1")
    if "recall_f1" in log:
        rf = log["recall_f1"].to_numpy()
        ok = np.isfinite(rf)
        if ok.any():
            ax_f1.plot(steps[ok], rf[ok], color=COLOURS[1], marker="o", linestyle="-",
                       label="recall F1")
    ax_f1.set_ylim(-0.02, 1.02)
    ax_f1.set_xlabel("step")
    ax_f1.set_ylabel("F1")
    ax_f1.set_title("F1", fontsize=10)
    ax_f1.legend(fontsize=8)
    return _finish(fig, path)


def recall_raster(network, target, cue_steps=0, title=None, path=None, width=8.0, height=4.0,
                  max_neurons=None):
    """One pattern's recall: the target spikes (grey squares) under the
    network's spikes (green where they hit a target spike, red where they
    do not); the cue (first `cue_steps` steps, clamped) is shaded. `network`
    and `target` are [steps x neurons] arrays of 0/1."""
    network = np.asarray(network).astype(bool)
    target = np.asarray(target).astype(bool)
    if network.shape != target.shape or network.ndim != 2:
        raise PlotError("recall raster: network %s and target %s must be equal [steps x neurons]"
                        % (network.shape, target.shape))
    if max_neurons is not None:
        network, target = network[:, :max_neurons], target[:, :max_neurons]
    fig = _figure(width, height)
    ax = fig.subplots()
    tt, tn = np.nonzero(target)
    ax.scatter(tt, tn, s=16, marker="s", facecolor="none", edgecolor="0.55", linewidths=0.7,
               label="target")
    hit = network & target
    miss_fire = network & ~target
    for mask, colour, label in ((hit, "#2ca02c", "network, on target"),
                                (miss_fire, "#d62728", "network, off target")):
        t, n = np.nonzero(mask)
        ax.scatter(t, n, s=5, marker="o", color=colour, linewidths=0, label=label)
    if cue_steps:
        ax.axvspan(-0.5, cue_steps - 0.5, color="#1f77b4", alpha=0.08, label="cue")
    ax.set_xlim(-0.5, network.shape[0] - 0.5)
    ax.set_ylim(-0.5, network.shape[1] - 0.5)
    ax.set_xlabel("step")
    ax.set_ylabel("neuron")
    ax.set_title(title or "Recall", fontsize=10)
    ax.legend(fontsize=7, loc="upper right", markerscale=1.5)
    return _finish(fig, path)

