"""`spikeline report` (the CLI running python3 -m spikeline.report): the page
of a COBA run and of a training holds the file's numbers and only local
images; it opens in headless Chromium without console messages (a
screenshot is taken); errors exit non-zero with a message saying what to
do; examples/python/ runs.

Run by ctest as /usr/bin/python3 test_report.py SPIKELINE_BINARY SOURCE_DIR,
with PYTHONPATH = SOURCE_DIR/python. `chromium` selects the browser test
(its own ctest test: skipped, visibly, where chromium is missing).
"""

import html
import os
import re
import shutil
import struct
import subprocess
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
import configs  # noqa: E402
from clitest import (EX_DATAERR, EX_NOINPUT, EX_USAGE, SOURCE_DIR, TempDir, check,  # noqa: E402
                     check_equal, expect_exit, expect_in, run_ok, spikeline, write)

EX_UNAVAILABLE, EX_CANTCREAT = 69, 73
COBA = os.path.join(SOURCE_DIR, "examples", "coba.toml")


def coba_run(d, duration=500.0, small=False):
    """COBA (examples/coba.toml) for `duration` ms; `small`: 800 + 200 neurons."""
    out = os.path.join(d, "coba.h5")
    sizes = ["--set", "population.exc.size=800", "--set", "population.inh.size=200"] \
        if small else []
    run_ok(["run", COBA, "-o", out, "-q", "--set", "simulation.duration=%g" % duration] + sizes,
           cwd=d)
    return out


def images_of(page):
    return re.findall(r'<img src="([^"]+)"', page)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


def mean_cv(times, ids, n):
    """Mean over neurons with >= 2 ISIs of std/mean of their ISIs, written
    here independently of spikeline.stats."""
    cvs = []
    for i in range(n):
        t = np.sort(times[ids == i])
        if len(t) >= 3:
            isi = np.diff(t)
            cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs))


def test_report_of_a_coba_run():
    with TempDir() as d:
        out = coba_run(d)
        report = os.path.join(d, "rep")
        r = run_ok(["report", out, "-o", report], cwd=d)
        expect_in(r.stderr, "report written to %s" % os.path.join(report, "index.html"), r=r)
        with open(os.path.join(report, "index.html"), encoding="utf-8") as f:
            page = f.read()
        # Only local, relative images, each written and non-empty; nothing
        # fetched from a network (no URL, no script, no stylesheet link).
        images = images_of(page)
        check_equal(sorted(images), ["isi_cv.png", "matrix.png", "raster.png", "rate_hist.png",
                                     "rates.png"], "images of a COBA report")
        for name in images:
            w, h = png_size(os.path.join(report, name))
            check(w > 300 and h > 200, "%s is %dx%d" % (name, w, h))
        for bad in ("http:", "https:", "<script", "<link", "@import", "url("):
            check(bad not in page, "the page holds %r" % bad)
        # The file's numbers.
        with h5py.File(out, "r") as f:
            for pop in ("exc", "inh"):
                t = f["spikes"][pop]["timestamps"][()]
                ids = f["spikes"][pop]["node_ids"][()]
                n = int(f["spikes"][pop].attrs["node_count"])
                row = re.search(r"<tr><td>%s</td>(.*?)</tr>" % pop, page)
                check(row is not None, "a table row for %s" % pop)
                cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
                check_equal(cells[0], format(n, ","), pop + " neurons")
                check_equal(cells[1], format(len(t), ","), pop + " spikes")
                rate = len(t) / n / 0.5
                check(abs(float(cells[2]) - rate) < 5e-4, "%s rate %s, expected %.4f Hz"
                      % (pop, cells[2], rate))
                cv = mean_cv(t, ids, n)
                check(abs(float(cells[3]) - cv) < 5e-4, "%s ISI CV %s, expected %.4f"
                      % (pop, cells[3], cv))
            config = f["provenance/config"][()].decode().rstrip("\0")
        check('<span class="status complete">complete</span>' in page, "status badge")
        check(html.escape(config) in page, "the config, whole")
        for word in ("500 ms", "loop (s)", "synapses", "Spike raster", "ISI CV"):
            check(word in page, "the page lacks %r" % word)


def test_report_of_a_training():
    with TempDir() as d:
        cfg = write(os.path.join(d, "wm.toml"), configs.TRAIN)
        run_ok(["train", cfg, "-o", "wm.h5", "-q"], cwd=d)
        run_ok(["report", "wm.h5"], cwd=d)                 # default: wm_report/
        with open(os.path.join(d, "wm_report", "index.html"), encoding="utf-8") as f:
            page = f.read()
        check_equal(sorted(images_of(page)), ["matrix.png", "recall_0.png", "recall_1.png",
                                              "training.png", "weight_hist.png"],
                    "images of a training report")
        with h5py.File(os.path.join(d, "wm.h5"), "r") as f:
            pooled = f["recall/pooled"][()]
            steps = len(f["training/step"])
        for name, value in zip(("precision", "recall", "F1"), pooled):
            shown = ("%.3f" % value).rstrip("0").rstrip(".")
            check("<tr><th>%s</th><td>%s</td></tr>" % (name, shown) in page,
                  "pooled %s %s in the page" % (name, shown))
        check("<tr><th>steps</th><td>%d</td></tr>" % steps in page, "steps in the page")
        check("spikeline training: wm.h5" in page and "Recall" in page, "training sections")
        for name in images_of(page):
            png_size(os.path.join(d, "wm_report", name))


def test_report_of_traces_and_weights():
    with TempDir() as d:
        cfg = write(os.path.join(d, "rec.toml"), configs.RECORDED)
        run_ok(["run", cfg, "-o", "rec.h5", "-q"], cwd=d)
        run_ok(["report", "rec.h5", "-o", "rep"], cwd=d)
        with open(os.path.join(d, "rep", "index.html"), encoding="utf-8") as f:
            page = f.read()
        check_equal(sorted(images_of(page)), ["isi_cv.png", "matrix.png", "raster.png",
                                              "rate_hist.png", "rates.png", "trace_0_0.png",
                                              "trace_0_1.png", "weight_hist.png",
                                              "weights_0.png"], "images with records")
        with h5py.File(os.path.join(d, "rec.h5"), "r") as f:
            synapses = len(f["edges/drive/source_node_id"])
        for text in ("exc: V_m of 3 recorded nodes, the whole run",
                     "exc: I_syn_ex of 3 recorded nodes, the whole run",
                     "Weights of drive over time", "<td>drive</td><td>gen -&gt; exc</td>"
                     "<td class=\"num\">%d</td>" % synapses):
            check(text in page, "the page lacks %r" % text)


def test_report_errors():
    with TempDir() as d:
        r = spikeline(["report", os.path.join(d, "nope.h5")])
        expect_exit(r, EX_NOINPUT)
        expect_in(r.stderr, "nope.h5: No such file or directory", r=r)
        toml = write(os.path.join(d, "c.toml"), "[simulation]\n")
        r = spikeline(["report", toml, "-o", os.path.join(d, "x")])
        expect_exit(r, EX_DATAERR)
        expect_in(r.stderr, "c.toml: not an HDF5 file", r=r)
        check(not os.path.exists(os.path.join(d, "x")), "no directory for a bad file")
        fifo = os.path.join(d, "fifo.h5")
        os.mkfifo(fifo)
        r = spikeline(["report", fifo], timeout=30)
        expect_exit(r, EX_NOINPUT)
        expect_in(r.stderr, "fifo.h5: not a regular file", r=r)
        r = spikeline(["report"])
        expect_exit(r, EX_USAGE)
        expect_in(r.stderr, "a FILE is required", r=r)
        out = coba_run(d, duration=50.0, small=True)
        r = spikeline(["report", out, "--bin", "-2"])
        expect_exit(r, EX_USAGE)
        expect_in(r.stderr, "--bin -2: must be a positive, finite time in ms", r=r)
        write(os.path.join(d, "file"), "")
        r = spikeline(["report", out, "-o", os.path.join(d, "file", "sub")])
        expect_exit(r, EX_CANTCREAT)
        expect_in(r.stderr, "cannot create the report directory", r=r)
        # No interpreter: what to install.
        env = dict(os.environ, SPIKELINE_PYTHON=os.path.join(d, "no-python3"))
        p = subprocess.run([clitest.BINARY, "report", out], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        check_equal(p.returncode, EX_UNAVAILABLE, "exit without Python (%s)" % p.stderr)
        check("report needs Python 3 with numpy, h5py and matplotlib" in p.stderr and
              "apt-get install python3 python3-numpy python3-h5py python3-matplotlib" in p.stderr,
              "message without Python: %s" % p.stderr)
        # No matplotlib (a package that fails to import stands for it).
        fake = os.path.join(d, "fake")
        os.makedirs(os.path.join(fake, "matplotlib"))
        write(os.path.join(fake, "matplotlib", "__init__.py"), "raise ImportError('gone')\n")
        env = dict(os.environ, PYTHONPATH=fake)
        p = subprocess.run([clitest.BINARY, "report", out, "-o", os.path.join(d, "r")], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check_equal(p.returncode, EX_UNAVAILABLE, "exit without matplotlib (%s)" % p.stderr)
        check("needs matplotlib" in p.stderr and "apt-get install python3-matplotlib" in p.stderr,
              "message without matplotlib: %s" % p.stderr)


def test_python_example_runs():
    example = os.path.join(SOURCE_DIR, "examples", "python", "analyse_run.py")
    with TempDir() as d:
        out = coba_run(d, duration=300.0, small=True)
        p = subprocess.run([sys.executable, example, out, os.path.join(d, "coba.png")], cwd=d,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        check_equal(p.returncode, 0, "example exit (stderr %s)" % p.stderr[-2000:])
        w, h = png_size(os.path.join(d, "coba.png"))
        check(w >= 600 and h >= 400, "the example's figure is %dx%d" % (w, h))
        check("exc" in p.stdout and "Hz" in p.stdout, "the example prints rates: %s" % p.stdout)


def test_report_in_chromium():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise clitest.Skip("no chromium (Debian package chromium; CI installs it)")
    with TempDir() as d:
        out = coba_run(d, duration=300.0, small=True)
        report = os.path.join(d, "rep")
        run_ok(["report", out, "-o", report], cwd=d)
        with open(os.path.join(report, "index.html"), encoding="utf-8") as f:
            page = f.read()
        n_images = len(images_of(page))
        # The report has no script of its own; this copy adds one that, once
        # the page has loaded, logs how many images decoded. Any other console
        # line (an error of the page, a resource that failed) fails the test.
        probe = ('<script>window.addEventListener("load", () => {const i = [...document.images];'
                 'const ok = i.filter(x => x.complete && x.naturalWidth > 0).length;'
                 'console.log("report-probe " + ok + "/" + i.length + " images");});</script>')
        write(os.path.join(report, "probe.html"), page.replace("</body>", probe + "</body>"))
        shot = os.path.join(d, "shot.png")
        p = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", "--user-data-dir=" + os.path.join(d, "profile"),
                            "--enable-logging=stderr", "--hide-scrollbars",
                            "--window-size=1280,1600", "--screenshot=" + shot,
                            "file://" + os.path.join(report, "probe.html")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        check_equal(p.returncode, 0, "chromium exit (stderr %s)" % p.stderr[-3000:])
        console = [line for line in p.stderr.splitlines() if ":CONSOLE" in line]
        expected = "report-probe %d/%d images" % (n_images, n_images)
        check(len(console) == 1 and expected in console[0],
              "console: expected only %r, got %s" % (expected, console))
        check_equal(png_size(shot), (1280, 1600), "screenshot size")
        import matplotlib.image
        img = matplotlib.image.imread(shot)[..., :3]
        # The header bar (#1d2b3a) and the raster's population colours.
        check(np.abs(img[10, 10] - np.array([0x1d, 0x2b, 0x3a]) / 255).max() < 0.05,
              "header colour at the top left: %s" % img[10, 10])
        for colour in ("#1f77b4", "#d62728"):
            rgb = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
            n = int(np.all(np.abs(img - rgb) < 0.12, axis=-1).sum())
            check(n > 200, "screenshot shows colour %s in %d pixels" % (colour, n))


clitest.main(globals())
