"""An HTML report of a spikeline run: `python3 -m spikeline.report RUN.h5 -o DIR`
(what `spikeline report` runs).

DIR gets index.html and the plots it shows (PNG, referenced by relative
paths): no script, no network. A simulation shows its summary (status,
timing, populations with spike counts, rates, ISI CV and LV), raster with
population rate, rate and ISI/CV distributions, recorded traces, weights
over time and the final weight matrix; a training (`spikeline train`) its
curves, recall scores and recall rasters. Always the config that produced
the file.

Exit codes (as the CLI's): 0, 64 usage, 65 not an HDF5 file or unreadable,
66 no such file, 69 matplotlib missing, 73 DIR cannot be created.
"""

import argparse
import datetime
import html
import importlib
import math
import os
import sys

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_UNAVAILABLE, EX_CANTCREAT = 64, 65, 66, 69, 73
PROG = os.environ.get("SPIKELINE_REPORT_PROG", "spikeline report")
# Reading large edge populations for the weight matrix costs memory and time:
# above this the matrix is left out (the report says so).
MAX_MATRIX_EDGES = 5_000_000


def fail(code, message):
    sys.stderr.write("%s: error: %s\n" % (PROG, message))
    sys.exit(code)


def _fmt(value, digits=3):
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return "%.*g" % (digits, value)
        return ("%.*f" % (digits, value)).rstrip("0").rstrip(".") if digits else "%.0f" % value
    if isinstance(value, int):
        return format(value, ",")
    return str(value)


def _bytes(n):
    if not n:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return "%.1f %s" % (n, unit) if unit != "B" else "%d B" % n
        n /= 1024.0


def _table(header, rows, numeric_from=1):
    out = ["<table><thead><tr>"]
    out += ["<th>%s</th>" % html.escape(h) for h in header]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for k, cell in enumerate(row):
            cls = ' class="num"' if k >= numeric_from else ""
            out.append("<td%s>%s</td>" % (cls, html.escape(_fmt(cell))))
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _kv(pairs):
    rows = "".join("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(k), html.escape(_fmt(v)))
                   for k, v in pairs)
    return '<table class="kv">%s</table>' % rows


STYLE = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#1d2b3a;color:#fff;padding:14px 28px}
header h1{margin:0;font-size:22px;font-weight:600}
header .sub{color:#b8c4d0;font-size:13px;margin-top:4px}
main{padding:8px 28px 28px;max-width:1240px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 18px;margin:14px 0}
h2{font-size:16px;margin:2px 0 10px;color:#1d2b3a}
table{border-collapse:collapse;font-size:13px}
th,td{padding:3px 10px;border-bottom:1px solid #eceef1;text-align:left}
thead th{background:#f0f2f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.kv th{color:#555;font-weight:500}
.status{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;font-size:13px}
.complete{background:#d8f3dc;color:#1b5e20}.running{background:#fff3cd;color:#7a5c00}
.interrupted{background:#ffe0b2;color:#8a4b00}.failed{background:#ffd6d6;color:#9b1c1c}
.grid{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
figure{margin:6px 0}figure img{max-width:100%;border:1px solid #eceef1}
figcaption{font-size:12px;color:#555;margin-top:2px}
pre{background:#f6f8fa;padding:10px;font-size:12px;overflow:auto;max-height:480px;border-radius:4px}
.note{font-size:12px;color:#666}
"""


class Page:
    def __init__(self, title, subtitle):
        self.title, self.subtitle = title, subtitle
        self.sections = []

    def section(self, title, body):
        self.sections.append("<section><h2>%s</h2>%s</section>" % (html.escape(title), body))

    def html(self):
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<title>%s</title><style>%s</style></head><body><header><h1>%s</h1>"
                "<div class=\"sub\">%s</div></header><main>%s</main></body></html>\n" %
                (html.escape(self.title), STYLE, html.escape(self.title), self.subtitle,
                 "\n".join(self.sections)))


def _figure_html(name, caption):
    return ('<figure><img src="%s" alt="%s"><figcaption>%s</figcaption></figure>' %
            (html.escape(name), html.escape(caption), html.escape(caption)))


class Builder:
    def __init__(self, f, out_dir, max_spikes=200_000, bin_ms=None, raster_ms=1000.0,
                 max_neurons=300):
        self.f, self.out, self.max_spikes, self.bin_ms = f, out_dir, max_spikes, bin_ms
        self.raster_ms, self.max_neurons = raster_ms, max_neurons

    def plot(self, name, function, *args, **kwargs):
        path = os.path.join(self.out, name)
        fig = function(*args, **kwargs)
        fig.savefig(path, dpi=100)
        return name

    def run(self):
        import numpy as np

        from . import plots, stats

        f = self.f
        prov = f.provenance
        summary = f.summary or {}
        status = f.status or "unknown"
        title = "spikeline %s: %s" % ("training" if f.is_training else "run",
                                      os.path.basename(f.path))
        sub = ['<span class="status %s">%s</span>' % (html.escape(status), html.escape(status))]
        if prov is not None and prov.version:
            sub.append("spikeline %s" % html.escape(prov.version))
        sub.append("report written %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
        page = Page(title, " &middot; ".join(sub))

        # --- overview -----------------------------------------------------
        overview = [("file", f.path), ("status", status)]
        if summary.get("message"):
            overview.append(("message", summary["message"]))
        if prov is not None:
            if not f.is_training:
                overview.append(("simulated", "%s ms" % _fmt(prov.simulated_ms)))
            overview += [("time step", "%s ms" % _fmt(prov.dt_ms)), ("seed", prov.seed),
                         ("threads", prov.threads), ("command", prov.command_line)]
            if prov.resumed:
                overview.append(("resumed", prov.resumed.strip()))
        if status == "running":
            overview.append(("note", "the run has not ended (still going, or killed): the file "
                                     "is read up to its last flush"))
        timing = [(k.replace("_s", "").replace("_", " ") + " (s)", summary[k])
                  for k in ("build_s", "loop_s", "total_s", "train_s", "eval_s") if k in summary]
        if "synapses" in summary:
            timing.append(("synapses", int(summary["synapses"])))
        if summary.get("synapse_bytes"):
            timing.append(("synapse memory", _bytes(summary["synapse_bytes"])))
        if summary.get("peak_rss_bytes"):
            timing.append(("peak memory", _bytes(summary["peak_rss_bytes"])))
        body = '<div class="grid"><div>%s</div>' % _kv(overview)
        if timing:
            body += "<div>%s</div>" % _kv(timing)
        page.section("Run", body + "</div>")

        # --- spikes -------------------------------------------------------
        pops = f.all_spikes()
        by_name = {p.get("name"): p for p in summary.get("populations", [])}
        if pops or by_name:
            rows = []
            # The run's order (its summary's), then any other recorded population.
            names = [n for n in by_name if n] + [n for n in pops if n not in by_name]
            for name in names:
                s = pops.get(name)
                if s is None:
                    p = by_name[name]
                    rows.append((name, p.get("size"), p.get("spikes"), p.get("rate_hz"), None,
                                 None, None, "not recorded"))
                    continue
                st = stats.summary(s)
                rows.append((name, st["neurons"], st["spikes"], st["rate_hz"], st["cv_mean"],
                             st["lv_mean"], st["silent_fraction"] * 100 if st["neurons"] else None,
                             "%d neurons with >= 2 ISIs" % st["cv_neurons"]))
            page.section("Populations", _table(
                ["population", "neurons", "spikes", "rate (Hz)", "ISI CV (mean)", "LV (mean)",
                 "silent (%)", "note"], rows) + '<p class="note">Rates over the simulated '
                "time; CV and LV averaged over neurons with at least 2 inter-spike "
                "intervals (1 for a Poisson process, 0 for a regular train).</p>")
        spiking = {p: s for p, s in pops.items() if len(s)}
        if spiking:
            t_start = min(s.t_start for s in spiking.values())
            t_stop = max(s.t_stop for s in spiking.values())
            bin_ms = self.bin_ms or max(0.1, round((t_stop - t_start) / 400.0, 1))
            r0 = max(t_start, t_stop - self.raster_ms)
            shown = "the last %g ms" % (t_stop - r0) if r0 > t_start else "the whole run"
            figs = [
                _figure_html(self.plot("raster.png", plots.raster, spiking, r0, t_stop,
                                       max_spikes=self.max_spikes, max_neurons=self.max_neurons,
                                       width=11, height=5.2,
                                       title="Spike raster, %s" % shown),
                             "Spike raster of %s: one row per neuron, populations coloured "
                             "(at most %d neurons shown, the same fraction of each "
                             "population)" % (shown, self.max_neurons)),
                _figure_html(self.plot("rates.png", plots.population_rate, spiking, bin_ms,
                                       width=11, height=2.6),
                             "Population rate over the whole run (%g ms bins)" % bin_ms),
            ]
            page.section("Activity", "".join(figs))
            figs = [_figure_html(self.plot("rate_hist.png", plots.rate_histogram, spiking,
                                           width=4.2, height=3.2), "Per-neuron firing rates"),
                    _figure_html(self.plot("isi_cv.png", plots.isi_cv_histogram, spiking,
                                           width=7.0, height=3.2),
                                 "ISI distribution and per-neuron ISI CV")]
            page.section("Statistics", '<div class="grid">%s</div>' % "".join(figs))
        elif pops:
            page.section("Activity", '<p class="note">No spikes were recorded.</p>')

        # --- traces, weights, edges ---------------------------------------
        figs = []
        for k, name in enumerate(f.reports):
            rep = f.report(name)
            if rep.data.shape[0] == 0:
                continue
            # The last fifth of the raster's window: spikes stay visible.
            t1 = float(rep.times[-1])
            t0 = max(float(rep.times[0]), t1 - self.raster_ms / 5)
            span = "the last %g ms" % (t1 - t0) if t0 > rep.times[0] else "the whole run"
            for v, variable in enumerate(rep.variables):
                figs.append(_figure_html(
                    self.plot("trace_%d_%d.png" % (k, v), plots.traces, rep, variable,
                              t_start=t0, width=5.6, height=3.0),
                    "%s: %s of %d recorded nodes, %s" % (name, variable,
                                                         min(8, len(rep.node_ids)), span)))
        if figs:
            page.section("Recorded traces", '<div class="grid">%s</div>' % "".join(figs))
        figs, notes, tables = [], [], []
        for k, name in enumerate(f.weight_records):
            w = f.weights(name)
            if w.data.shape[0]:
                figs.append(_figure_html(self.plot("weights_%d.png" % k,
                                                   plots.weight_histogram_over_time, w,
                                                   width=6.4, height=3.2),
                                         "Weights of %s over time" % name))
        if status != "running":  # a running simulation has not written its edges yet
            small, sizes = [], {p["name"]: p.get("size") for p in summary.get("populations", [])}
            for name in f.edge_populations:
                n_edges = f.h5["edges"][name]["source_node_id"].shape[0]
                if n_edges > MAX_MATRIX_EDGES:
                    notes.append("%s: %s edges, not drawn (more than %s)" %
                                 (name, format(n_edges, ","), format(MAX_MATRIX_EDGES, ",")))
                else:
                    small.append(f.edges(name))
            if small:
                figs.append(_figure_html(self.plot("matrix.png", plots.weight_matrix, small, sizes,
                                                   width=5.2, height=4.4),
                                         "Final weights, target x source"))
                if any(len(e) and float(np.std(e.weight)) > 0 for e in small):
                    figs.append(_figure_html(self.plot("weight_hist.png", plots.weight_histogram,
                                                       small, width=5.2, height=4.4),
                                             "Distribution of the final weights"))
                rows = []
                for e in small:
                    w = e.weight.astype(np.float64) if len(e) else np.zeros(1)
                    d = e.delay if e.delay is not None and len(e) else None
                    rows.append((e.name, "%s -> %s" % (e.source_population, e.target_population),
                                 len(e), float(w.mean()), float(w.std()), float(w.min()),
                                 float(w.max()), None if d is None else
                                 "%g" % float(d.min()) if d.min() == d.max() else
                                 "%g .. %g" % (float(d.min()), float(d.max()))))
                tables.append(_table(["projection", "populations", "synapses", "mean weight",
                                      "std", "min", "max", "delay (ms)"], rows, numeric_from=2))
        if figs or notes or tables:
            page.section("Weights", "".join(tables) + '<div class="grid">%s</div>' % "".join(figs) + "".join(
                '<p class="note">%s</p>' % html.escape(n) for n in notes))

        # --- training -----------------------------------------------------
        if f.is_training:
            self.training(page, summary)

        # --- config -------------------------------------------------------
        if prov is not None and prov.config:
            page.section("Config", "<details open><summary>the resolved config (after --set) "
                                   "that produced this file</summary><pre>%s</pre></details>" %
                         html.escape(prov.config))
        with open(os.path.join(self.out, "index.html"), "w", encoding="utf-8") as out:
            out.write(page.html())

    def training(self, page, summary):
        from . import plots

        f = self.f
        log = f.training_log()
        rows = [(k, summary[k]) for k in ("steps", "loss") if k in summary]
        for key, label in (("initial", "initial weights"), ("recall", "final weights")):
            s = summary.get(key)
            if isinstance(s, dict):
                rows.append(("recall with %s" % label, "P %s, R %s, F1 %s" % tuple(
                    _fmt(s.get(k)) for k in ("precision", "recall", "f1"))))
        body = _kv(rows) if rows else ""
        if len(log):
            body += _figure_html(self.plot("training.png", plots.training_curves, log,
                                           width=10, height=3.4),
                                 "Loss, training F1 and recall F1 per step")
        page.section("Training", body)
        if "recall" in f.h5 and "raster" in f.h5["recall"] and "patterns" in f.h5:
            rec = f.recall()
            raster, patterns = rec["raster"], rec["patterns"]
            cue = _cue_steps(f)
            figs = []
            scores = []
            f1 = rec.get("f1")
            for m in range(min(2, raster.shape[0])):
                title = "Pattern %d" % m + ("" if f1 is None else ": recall F1 %.3f" % f1[m])
                figs.append(_figure_html(
                    self.plot("recall_%d.png" % m, plots.recall_raster, raster[m], patterns[m],
                              cue, title, width=10, height=3.6),
                    "Recall of pattern %d: targets (grey squares), the network's spikes on "
                    "target (green) and off target (red); cue shaded" % m))
            if "pooled" in rec:
                p, r, f1p = (float(x) for x in rec["pooled"])
                scores = [("precision", p), ("recall", r), ("F1", f1p),
                          ("patterns", int(raster.shape[0]))]
            page.section("Recall", (_kv(scores) if scores else "") + "".join(figs))


def _cue_steps(f):
    """The task's cue length in steps: [task] cue, else the recurrent
    projection's longest delay (taps x delay) in steps."""
    try:
        cfg = f.provenance.config_dict
        task = cfg.get("task", {})
        if "cue" in task:
            return int(task["cue"])
        dt = float(cfg.get("simulation", {}).get("dt", f.provenance.dt_ms or 1.0))
        projections = cfg.get("projection", [])
        name = task.get("projection")
        proj = next((p for p in projections if p.get("name") == name), projections[0])
        delay = float(proj.get("delay", dt))
        return int(round(int(proj.get("taps", 1)) * delay / dt))
    except Exception:  # a foreign or odd config: no shading
        return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=PROG, description="Write an HTML report (index.html and its plots) of a spikeline "
        "output file: summary, raster, rates, ISI CV, traces, weights, training.")
    parser.add_argument("file", help="the HDF5 file (spikeline run or train output)")
    parser.add_argument("-o", "--output", help="directory to write (default: FILE without .h5, "
                        "plus _report)")
    parser.add_argument("--max-spikes", type=int, default=200_000,
                        help="most spikes drawn in the raster; beyond, neurons are subsampled "
                        "(default 200000)")
    parser.add_argument("--raster-ms", type=float, default=1000.0,
                        help="the raster shows the last this many ms (default 1000)")
    parser.add_argument("--max-neurons", type=int, default=300,
                        help="most neurons (rows) in the raster (default 300)")
    parser.add_argument("--bin", type=float, default=None,
                        help="bin of the population rate in ms (default: 1/400 of the run)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        sys.exit(0 if e.code == 0 else EX_USAGE)
    if args.max_spikes < 1:
        fail(EX_USAGE, "--max-spikes %d: must be at least 1" % args.max_spikes)
    if args.max_neurons < 1:
        fail(EX_USAGE, "--max-neurons %d: must be at least 1" % args.max_neurons)
    if not (math.isfinite(args.raster_ms) and args.raster_ms > 0):
        fail(EX_USAGE, "--raster-ms %g: must be a positive, finite time in ms" % args.raster_ms)
    if args.bin is not None and not (math.isfinite(args.bin) and args.bin > 0):
        fail(EX_USAGE, "--bin %g: must be a positive, finite time in ms" % args.bin)
    missing = []
    for module, package in (("numpy", "python3-numpy"), ("h5py", "python3-h5py"),
                            ("matplotlib", "python3-matplotlib")):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append((module, package))
    if missing:
        fail(EX_UNAVAILABLE, "the report needs %s for %s: install Debian's %s (apt-get install %s)"
             % (" and ".join(m for m, _ in missing), sys.executable,
                ", ".join(p for _, p in missing), " ".join(p for _, p in missing)))
    from .files import FileError, open_file

    out = args.output
    if out is None:
        stem = args.file[:-3] if args.file.endswith(".h5") else args.file
        out = stem + "_report"
    try:
        f = open_file(args.file)
    except FileError as e:
        fail(e.exit_code, str(e))
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        fail(EX_CANTCREAT, "cannot create the report directory %s: %s" % (out, e.strerror or e))
    if not os.access(out, os.W_OK):
        fail(EX_CANTCREAT, "cannot write into the report directory %s" % out)
    with f:
        try:
            Builder(f, out, args.max_spikes, args.bin, args.raster_ms, args.max_neurons).run()
        except FileError as e:
            fail(e.exit_code, str(e))
        except (KeyError, OSError, ValueError) as e:  # ValueError: StatsError, PlotError
            fail(EX_DATAERR, "%s: cannot be reported on: %s" % (args.file, e))
    sys.stderr.write("%s: report written to %s\n" % (PROG, os.path.join(out, "index.html")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
