"""spikeline.plots: every plot renders a non-empty image of the expected
size (PNG: width x height inches at 100 dpi; SVG and PDF by extension), in
the colours it promises; subsampling keeps whole neurons; bad input is
refused with a message.

Run by ctest as /usr/bin/python3 test_plots.py SPIKELINE_BINARY SOURCE_DIR,
with PYTHONPATH = SOURCE_DIR/python.
"""

import os
import struct
import sys

import numpy as np
import pandas as pd

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import clitest  # noqa: E402
from clitest import TempDir, check, check_equal  # noqa: E402

import matplotlib.image  # noqa: E402
from spikeline import Edges, Report, Spikes, WeightSnapshots, plots  # noqa: E402


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


def colour_pixels(path, hex_colour, tolerance=0.12):
    """How many pixels are within `tolerance` (per channel, 0..1) of the colour."""
    img = matplotlib.image.imread(path)[..., :3]
    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255.0 for i in (1, 3, 5)])
    return int(np.all(np.abs(img - rgb) < tolerance, axis=-1).sum())


def check_png(path, width_in, height_in, colours=()):
    check_equal(png_size(path), (int(round(width_in * 100)), int(round(height_in * 100))),
                os.path.basename(path) + " size in pixels")
    img = matplotlib.image.imread(path)[..., :3]
    non_white = int((img.min(axis=-1) < 0.9).sum())
    check(non_white > 0.01 * img.shape[0] * img.shape[1],
          "%s is nearly blank (%d non-white pixels)" % (path, non_white))
    for c in colours:
        n = colour_pixels(path, c)
        check(n > 20, "%s shows too little of colour %s (%d pixels)" % (path, c, n))


def two_populations(seed=1):
    rng = np.random.default_rng(seed)
    out = {}
    for name, n, rate in (("exc", 80, 20.0), ("inh", 20, 40.0)):
        k = rng.poisson(n * rate)            # 1 s
        t = np.sort(rng.uniform(0, 1000.0, k))
        out[name] = Spikes(name, t, rng.integers(0, n, k).astype(np.uint64), n, 0.0, 1000.0)
    return out


EXC, INH = plots.COLOURS[0], plots.COLOURS[1]


def test_raster_population_colours_and_size():
    with TempDir() as d:
        pops = two_populations()
        path = os.path.join(d, "raster.png")
        fig = plots.raster(pops, path=path, width=8, height=4, rate_bin_ms=10.0)
        check_png(path, 8, 4, colours=(EXC, INH))
        check_equal(len(fig.axes), 2, "raster and rate panels")
        ax = fig.axes[0]
        check_equal([t.get_text() for t in ax.get_yticklabels()], ["exc\n(80)", "inh\n(20)"],
                    "population labels")
        check_equal(ax.get_title(), "Spike raster", "title without subsampling")


def test_raster_subsamples_whole_neurons():
    # 1,000,000 spikes of 10,000 neurons: at most 20,000 spikes drawn, the
    # same fraction of each population, whole trains (a drawn row has all
    # its neuron's spikes).
    rng = np.random.default_rng(3)
    n_exc, n_inh = 8000, 2000
    t = np.sort(rng.uniform(0, 1000.0, 1_000_000))
    ids = rng.integers(0, n_exc + n_inh, len(t))
    pops = {"exc": Spikes("exc", t[ids < n_exc], ids[ids < n_exc], n_exc, 0, 1000.0),
            "inh": Spikes("inh", t[ids >= n_exc], ids[ids >= n_exc] - n_exc, n_inh, 0, 1000.0)}
    kept = plots.subsample(pops, 20_000, seed=0)
    check_equal((len(kept["exc"]), len(kept["inh"])), (160, 40), "neurons kept per population")
    check(len(np.unique(kept["exc"])) == 160 and kept["exc"].max() < n_exc, "distinct exc ids")
    with TempDir() as d:
        path = os.path.join(d, "big.png")
        fig = plots.raster(pops, max_spikes=20_000, path=path)
        check_png(path, 10, 5, colours=(EXC, INH))
        drawn = sum(len(c.get_offsets()) for c in fig.axes[0].collections)
        in_kept = int(np.isin(pops["exc"].node_ids, kept["exc"]).sum() +
                      np.isin(pops["inh"].node_ids, kept["inh"]).sum())
        check_equal(drawn, in_kept, "every spike of the kept neurons drawn, no other")
        check("200 of 10,000 neurons shown" in fig.axes[0].get_title(),
              "title says the subsampling: %r" % fig.axes[0].get_title())
    capped = plots.subsample(pops, 10**9, max_neurons=500)
    check_equal((len(capped["exc"]), len(capped["inh"])), (400, 100), "max_neurons")


def test_rate_and_distribution_plots():
    pops = two_populations()
    with TempDir() as d:
        for name, fn, size in (("rate.png", lambda p: plots.population_rate(pops, 20.0, path=p),
                                (8, 3)),
                               ("hist.png", lambda p: plots.rate_histogram(pops, path=p), (5, 3.5)),
                               ("isi.png", lambda p: plots.isi_cv_histogram(pops, path=p), (9, 3.5))):
            path = os.path.join(d, name)
            fn(path)
            check_png(path, *size, colours=(EXC, INH))


def test_traces_weights_matrix_training_recall():
    with TempDir() as d:
        frames, nodes = 200, 3
        t = 0.1 * np.arange(1, frames + 1)
        data = np.stack([np.sin(t / (k + 1)) for k in range(nodes * 2)], axis=1).astype(np.float32)
        rep = Report("exc", "exc", data, t, np.array([2, 5, 7], dtype=np.uint64),
                     np.array([0, 2, 4, 6]), np.array([0, 1] * 3), ["V_m", "g_ex"], ["mV", "nS"])
        path = os.path.join(d, "traces.svg")
        fig = plots.traces(rep, "g_ex", nodes=[5, 7], path=path)
        check_equal(fig.axes[0].get_ylabel(), "g_ex (nS)", "y label with unit")
        check_equal(len(fig.axes[0].lines), 2, "one line per chosen node")
        check(np.array_equal(fig.axes[0].lines[0].get_ydata(), data[:, 3]), "node 5's g_ex")
        with open(path, "rb") as f:
            svg = f.read()
        check(b"<svg" in svg and b'width="576pt"' in svg and b'height="252pt"' in svg,
              "an SVG of 8 x 3.5 in")

        rng = np.random.default_rng(0)
        w = WeightSnapshots("ee", "ee", np.arange(1, 21) * 100.0,
                            np.cumsum(rng.normal(0.01, 0.05, (20, 500)), axis=0), None, {})
        path = os.path.join(d, "weights.png")
        plots.weight_histogram_over_time(w, path=path)
        check_png(path, 8, 3.5)

        src = rng.integers(0, 50, 2000).astype(np.uint64)
        tgt = rng.integers(0, 50, 2000).astype(np.uint64)
        ee = Edges("ee", src, tgt, "exc", "exc", {"syn_weight": np.full(2000, 1.0, np.float32)})
        ie = Edges("ie", src[:500] % 10, tgt[:500], "inh", "exc",
                   {"syn_weight": np.full(500, -4.0, np.float32)})
        path = os.path.join(d, "matrix.pdf")
        fig = plots.weight_matrix([ee, ie], {"exc": 50, "inh": 10}, path=path)
        with open(path, "rb") as f:
            check(f.read(5) == b"%PDF-", "a PDF")
        check_equal([t.get_text() for t in fig.axes[0].get_xticklabels()], ["exc", "inh"],
                    "stacked populations on the source axis")
        img = fig.axes[0].images[0].get_array()
        check_equal(img.shape, (60, 60), "one cell per neuron below max_size")
        check_equal(float(img[:50, :50].sum()), 2000.0, "exc -> exc block sums the weights")
        check_equal(float(img[:50, 50:].sum()), -2000.0, "inh -> exc block")
        path = os.path.join(d, "matrix.png")
        plots.weight_matrix([ee, ie], {"exc": 50, "inh": 10}, path=path, width=5, height=4)
        check_png(path, 5, 4, colours=("#b2182b",))   # RdBu_r's red end: excitatory
        path = os.path.join(d, "whist.png")
        plots.weight_histogram([ee, ie], path=path)
        check_png(path, 5, 3.5)

        log = pd.DataFrame({"step": np.arange(10), "loss": np.linspace(1, 0.1, 10),
                            "train_f1": np.linspace(0, 1, 10),
                            "recall_f1": [np.nan] * 4 + [0.5] + [np.nan] * 4 + [1.0]})
        path = os.path.join(d, "training.png")
        fig = plots.training_curves(log, path=path)
        check_png(path, 9, 3.5)
        recall_line = [l for l in fig.axes[1].lines if l.get_label() == "recall F1"][0]
        check_equal(list(recall_line.get_xdata()), [4, 9], "recall F1 only where evaluated")

        target = (rng.random((100, 30)) < 0.05).astype(np.uint8)
        network = target.copy()
        network[50, 3] ^= 1
        path = os.path.join(d, "recall.png")
        fig = plots.recall_raster(network, target, cue_steps=10, path=path)
        check_png(path, 8, 4)
        green = fig.axes[0].collections[1].get_offsets()
        red = fig.axes[0].collections[2].get_offsets()
        check_equal(len(green), int((network & target).sum()), "on-target spikes")
        check_equal(len(red), int((network & ~target.astype(bool)).sum()), "off-target spikes")


def test_bad_input_is_refused():
    pops = two_populations()
    with TempDir() as d:
        for ext in (".jpeg", ""):
            try:
                plots.raster(pops, path=os.path.join(d, "r" + ext))
            except plots.PlotError as e:
                check("unknown image format" in str(e) and ".png, .svg, .pdf" in str(e), str(e))
            else:
                raise clitest.Failure("a %r extension was accepted" % ext)
    for fn, fragment in ((lambda: plots.raster({}), "no population"),
                         (lambda: plots.recall_raster(np.zeros((3, 4)), np.zeros((3, 5))),
                          "(3, 4) and target (3, 5)"),
                         (lambda: plots.training_curves(pd.DataFrame({"step": []})),
                          "training log is empty")):
        try:
            fn()
        except plots.PlotError as e:
            check(fragment in str(e), "%r lacks %r" % (str(e), fragment))
        else:
            raise clitest.Failure("no PlotError for %r" % fragment)


clitest.main(globals())
