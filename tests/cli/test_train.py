"""spikeline train: the working-memory task at a reduced size.

The closed-form (per-context Hebbian) initialisation recalls every pattern
exactly; the robustness sweeps perturb the cue as documented (a cut cue
loses recall but never precision; p_flip = 0 is the unperturbed cue);
training from a weak or a random initialisation reaches the acceptance F1;
the training log follows the cosine schedule; results are identical at 1
and 2 threads; `spikeline run` with the trained edges and the cue as a
clamp replays the recall raster spike for spike; patterns can be read from
an HDF5 file; bad [task], [training] and [evaluation] entries are refused
with the item, the value and the valid range.
"""

import math
import os
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CONFIG, EX_DATAERR, EX_USAGE, TempDir, check, check_equal, expect_exit,  # noqa: E402
                     expect_in, run_ok, spikeline, write)


def config(n=256, patterns=8, length=400, p_active=0.003, taps=41, threads=2, training="",
           evaluation="", task=""):
    return """
[simulation]
dt = 1.0
seed = 1
threads = %d

[output]
file = "out.h5"

[[population]]
name = "wm"
model = "lif_discrete"
size = %d
params = { beta = 0.7, theta = 1.0 }

[[projection]]
name = "rec"
source = "wm"
target = "wm"
rule = "all_to_all"
taps = %d
weight = 0.0
delay = 1.0

[task]
patterns = %d
length = %d
p_active = %g
%s

[training]
%s

[evaluation]
%s
""" % (threads, n, taps, patterns, length, p_active, task, training, evaluation)


def train(d, text, extra=(), timeout=300):
    cfg = write(os.path.join(d, "wm.toml"), text)
    out = os.path.join(d, "out.h5")
    run_ok(["train", cfg, "-o", out, "-q"] + list(extra), cwd=d, timeout=timeout)
    return h5py.File(out, "r")


def pooled(f, group):
    p, r, f1 = f[group]["pooled"][()]
    return p, r, f1


def test_closed_form_recalls_every_pattern_exactly():
    with TempDir() as d, train(d, config(training="steps = 0")) as f:
        pats = f["patterns"][()]
        check_equal(pats.shape, (8, 400, 256), "patterns shape")
        density = pats.mean()
        check(abs(density - 0.003) < 0.0006, "pattern density %.5f, p_active 0.003" % density)
        check_equal(tuple(pooled(f, "recall")), (1.0, 1.0, 1.0), "pooled P, R, F1")
        check(np.all(f["recall/f1"][()] == 1.0), "per-pattern F1 %s" % f["recall/f1"][()])
        # The raster is the pattern itself: the cue (clamped) and every free-running bin.
        raster = f["recall/raster"][()]
        check(np.array_equal(raster, pats), "the recall raster differs from the patterns")
        # One chunk per pattern, compressed: the raster is M x T x N bytes otherwise.
        check_equal(f["recall/raster"].chunks, (1, 400, 256), "raster chunks")
        check_equal(f["recall/raster"].compression, "gzip", "raster compression")
        # The sequence of all patterns, each cued after a background gap, too.
        check_equal(tuple(f["evaluation/sequential/pooled"][()]), (1.0, 1.0, 1.0),
                    "sequential P, R, F1")
        w = f["evaluation/sequential/window_f1"][()]
        check_equal(len(w), 8 * math.ceil((400 - 41) / 100), "sequential windows")
        # The edges: 256 x 256 x 41 synapses, non-negative, the closed form's scale.
        wt = f["edges/rec/0/syn_weight"][()]
        check_equal(len(wt), 256 * 256 * 41, "synapses")
        check(wt.min() >= 0 and 0.01 < wt.max() < 0.2, "weights in [%g, %g]" % (wt.min(), wt.max()))


def test_mean_normalised_closed_form_is_weaker():
    with TempDir() as d, train(d, config(training='steps = 0\ninit = "mean_hebbian"')) as f:
        _, _, f1 = pooled(f, "recall")
        check(f1 < 0.99, "the mean-normalised closed form recalls F1 = %.4f" % f1)


def test_robustness_sweeps():
    ev = "p_flip = [0.0, 1.0]\ncue_steps = [41, 30]\nsilenced = [0, 16]"
    with TempDir() as d, train(d, config(training="steps = 0", evaluation=ev)) as f:
        pf = f["evaluation/p_flip"]
        check_equal(list(pf["value"][()]), [0.0, 1.0], "p_flip values")
        check_equal(pf["f1"][0], 1.0, "F1 at p_flip = 0")
        # Every cue bit redrawn: the cue says nothing of the pattern.
        check(pf["recall"][1] < 0.05, "p_flip = 1: R %.4f" % pf["recall"][1])
        cs = f["evaluation/cue_steps"]
        check_equal(cs["f1"][0], 1.0, "F1 with the whole cue")
        # A cut cue loses the steps whose context it lacks, never precision.
        p, r = cs["precision"][1], cs["recall"][1]
        check(p == 1.0 and 0.3 < r < 0.95, "30-step cue: P %.4f R %.4f" % (p, r))
        si = f["evaluation/silenced"]
        check_equal(si["f1"][0], 1.0, "F1 with none silenced")
        check(si["f1"][1] > 0.9, "16 silenced: F1 %.4f" % si["f1"][1])


def log_of(f):
    g = f["training"]
    return {k: g[k][()] for k in g}


def test_training_from_half_the_closed_form():
    tr = 'init_scale = 0.5\nsteps = 40\neval_every = 5\nloss = "bce"\npos_weight = 150'
    with TempDir() as d, train(d, config(n=128, patterns=4, length=200, p_active=0.006,
                                         training=tr)) as f:
        _, _, f0 = pooled(f, "recall_initial")
        _, _, f1 = pooled(f, "recall")
        check(f0 < 0.5, "0.5 x the closed form already recalls F1 = %.4f" % f0)
        check(f1 >= 0.99, "after training F1 = %.4f (initial %.4f)" % (f1, f0))
        log = log_of(f)
        check_equal(len(log["step"]), 40, "log rows")
        check(log["loss"][-1] < 0.5 * log["loss"][0], "loss %.4g -> %.4g" % (log["loss"][0], log["loss"][-1]))
        # Cosine schedule, no warm-up: lr(k) = lr_min + (lr - lr_min) (1 + cos(pi k / steps)) / 2.
        want = [0.003 * (1 + math.cos(math.pi * k / 40)) / 2 for k in range(40)]
        check(np.allclose(log["lr"], want, rtol=1e-9), "lr %s" % log["lr"][:4])
        # Recall evaluated every 5 steps.
        evaluated = np.flatnonzero(~np.isnan(log["recall_f1"]))
        check_equal(list(evaluated), list(range(4, 40, 5)), "evaluated steps")


def test_training_from_random_weights():
    tr = ('init = "random"\ninit_std = 0.01\nsteps = 60\neval_every = 10\ntarget_f1 = 0.99\n'
          'loss = "bce"\npos_weight = 150\ngradient = "local"')
    with TempDir() as d, train(d, config(n=128, patterns=4, length=200, p_active=0.006,
                                         training=tr)) as f:
        _, _, f0 = pooled(f, "recall_initial")
        _, _, f1 = pooled(f, "recall")
        check(f0 < 0.05, "random weights recall F1 = %.4f" % f0)
        check(f1 >= 0.99, "after training F1 = %.4f" % f1)
        steps = len(f["training/step"])
        check(steps < 60, "target_f1 = 0.99 should stop training early, ran %d steps" % steps)


def test_identical_at_one_and_two_threads():
    for state in ("float32", "bfloat16"):
        identical_at_one_and_two_threads(state)


def identical_at_one_and_two_threads(state):
    tr = ('init_scale = 0.5\nsteps = 6\nbatch = 2\ndropout = 0.2\neval_every = 3\n'
          'optimizer_state = "%s"' % state)
    results = []
    for threads in (1, 2):
        with TempDir() as d, train(d, config(n=96, patterns=4, length=150, p_active=0.008,
                                             threads=threads, training=tr)) as f:
            log = log_of(f)
            results.append((f["edges/rec/0/syn_weight"][()], log["loss"], log["grad_norm"],
                            f["recall/raster"][()]))
    a, b = results
    check(np.array_equal(a[0], b[0]), "weights differ between 1 and 2 threads")
    check(np.array_equal(a[1], b[1]), "losses differ: %s vs %s" % (a[1], b[1]))
    check(np.array_equal(a[2], b[2]), "gradient norms differ")
    check(np.array_equal(a[3], b[3]), "recall rasters differ")


def test_run_replays_the_recall():
    # No background, so the cue alone drives the replay.
    with TempDir() as d:
        tr = 'init_scale = 0.5\nsteps = 20\nloss = "bce"\npos_weight = 150'
        with train(d, config(n=128, patterns=4, length=200, p_active=0.006, training=tr,
                             task="background = 0")) as f:
            raster = f["recall/raster"][()]
            pats = f["patterns"][()]
        os.rename(os.path.join(d, "out.h5"), os.path.join(d, "trained.h5"))
        m = 2
        with open(os.path.join(d, "cue.txt"), "w") as c:
            for s in range(41):
                for j in np.flatnonzero(pats[m, s]):
                    c.write("%d %.1f\n" % (j, s + 1.0))
        replay = write(os.path.join(d, "replay.toml"), """
[simulation]
dt = 1.0
duration = 200.0
seed = 1

[output]
file = "replay.h5"
edges = false

[[population]]
name = "wm"
model = "lif_discrete"
size = 128
params = { beta = 0.7, theta = 1.0 }

[[projection]]
name = "rec"
source = "wm"
target = "wm"
rule = "explicit"
file = "trained.h5"

[[clamp]]
population = "wm"
params = { spike_times_file = "cue.txt" }
""")
        run_ok(["run", replay, "-q"], cwd=d)
        with h5py.File(os.path.join(d, "replay.h5"), "r") as f:
            t = f["spikes/wm/timestamps"][()]
            ids = f["spikes/wm/node_ids"][()]
        got = np.zeros((200, 128), dtype=np.uint8)
        got[np.rint(t).astype(int) - 1, ids.astype(int)] = 1
        check(raster[m].sum() > 50, "the recall raster is nearly empty")
        check(np.array_equal(got, raster[m]),
              "replay differs from the recall raster in %d bins" % int((got != raster[m]).sum()))


def test_sigint_stops_after_a_step_and_keeps_the_file():
    import signal
    import subprocess
    import time
    with TempDir() as d:
        cfg = write(os.path.join(d, "wm.toml"), config(training="init_scale = 0.5\nsteps = 100000"))
        out = os.path.join(d, "out.h5")
        p = subprocess.Popen([clitest.BINARY, "train", cfg, "-q", "-o", out], cwd=d,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        check_equal(p.returncode, clitest.EX_SIGINT, "exit code (stderr: %s)" % err[-500:])
        with h5py.File(out, "r") as f:
            check_equal(clitest.text_attr(f["provenance/status"][()]), "interrupted", "status")
            steps = len(f["training/step"])
            check(0 < steps < 100000, "%d steps logged" % steps)
            check(f["edges/rec/0/syn_weight"].shape == (256 * 256 * 41,), "the weights are written")
            # Interrupted: the final recall is not run (it would take minutes
            # at large M); the patterns, the initial recall and the log are kept.
            check("recall" not in f, "an interrupted run has no /recall")
            check(f["patterns"].shape[0] > 0 and "recall_initial" in f, "patterns, initial recall")


def test_patterns_from_a_file():
    with TempDir() as d:
        rng = np.random.default_rng(7)
        pats = (rng.random((3, 200, 128)) < 0.006).astype(np.uint8)
        with h5py.File(os.path.join(d, "pats.h5"), "w") as f:
            f["patterns"] = pats
        with train(d, config(n=128, patterns=3, length=200, p_active=0.006,
                             training="steps = 0", task='file = "pats.h5"')) as f:
            check(np.array_equal(f["patterns"][()], pats), "the patterns are not the file's")
            check_equal(pooled(f, "recall")[2], 1.0, "closed-form F1 on the file's patterns")


def refused(text, code, fragments, files=None):
    def fn():
        with TempDir() as d:
            for name, content in (files or {}).items():
                content(os.path.join(d, name))
            cfg = write(os.path.join(d, "wm.toml"), text)
            r = spikeline(["train", cfg, "-q", "-o", os.path.join(d, "out.h5")], cwd=d)
            expect_exit(r, code)
            for frag in fragments:
                expect_in(r.stderr, frag, r=r)
            check(not os.path.exists(os.path.join(d, "out.h5")), "an output file was left behind")
    return fn


SMALL = dict(n=32, patterns=2, length=100, p_active=0.01, taps=5)
test_refuses_unknown_training_key = refused(
    config(training="stpes = 3", **SMALL), EX_CONFIG, ["stpes", "did you mean 'steps'?"])
test_refuses_bad_init = refused(
    config(training='init = "hebian"', **SMALL), EX_CONFIG, ["init", "hebian", "hebbian"])
test_refuses_bad_pos_weight = refused(
    config(training='loss = "bce"\npos_weight = -1', **SMALL), EX_CONFIG, ["pos_weight", "-1"])
test_refuses_bad_gradient = refused(
    config(training='gradient = "partial"', **SMALL), EX_CONFIG,
    ["gradient", "partial", "truncated, full, local"])
test_refuses_bad_optimizer_state = refused(
    config(training='optimizer_state = "float16"', **SMALL), EX_CONFIG,
    ["optimizer_state", "float16", "float32", "bfloat16"])
test_refuses_p_active_out_of_range = refused(
    config(n=32, patterns=2, length=100, p_active=1.5, taps=5), EX_CONFIG, ["p_active", "1.5"])
test_refuses_cue_longer_than_patterns = refused(
    config(n=32, patterns=2, length=100, p_active=0.01, taps=5, task="cue = 100"), EX_CONFIG,
    ["cue = 100", "shorter than the patterns (100 steps)"])
test_refuses_unknown_task_population = refused(
    config(task='population = "memory"', **SMALL), EX_CONFIG, ["memory", "wm"])
test_refuses_silenced_beyond_population = refused(
    config(training="steps = 0", evaluation="silenced = [33]", **SMALL), EX_CONFIG,
    ["silenced = 33", "0 to 32"])
test_refuses_patterns_file_of_wrong_shape = refused(
    config(task='file = "pats.h5"', **SMALL), EX_DATAERR, ["pats.h5", "patterns"],
    files={"pats.h5": lambda p: h5py.File(p, "w").create_dataset(
        "patterns", data=np.zeros((2, 100, 31), dtype=np.uint8)).file.close()})


def test_refuses_negative_steps_option():
    """A bad option value is a usage error (64, docs/cli.md) naming the
    option and its range, like --seed and --threads."""
    with TempDir() as d:
        cfg = write(os.path.join(d, "wm.toml"), config(**SMALL))
        r = spikeline(["train", cfg, "-q", "--steps", "-1", "-o", os.path.join(d, "out.h5")], cwd=d)
        expect_exit(r, EX_USAGE)
        expect_in(r.stderr, "--steps: -1 is not valid", r=r)
        expect_in(r.stderr, "[0, 1000000000]", r=r)
        check(not os.path.exists(os.path.join(d, "out.h5")), "an output file was left behind")


def test_train_needs_a_task():
    with TempDir() as d:
        text = config(**SMALL)
        text = text[:text.index("[task]")]
        cfg = write(os.path.join(d, "wm.toml"), text)
        r = spikeline(["train", cfg, "-q"], cwd=d)
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "needs a [task] table", r=r)


clitest.main(globals())
