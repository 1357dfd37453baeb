"""spikeline train: the working-memory task at a reduced size.

The closed-form (per-context Hebbian) initialisation recalls every pattern
exactly; the robustness sweeps perturb the cue as documented (a cut cue
loses recall but never precision; p_flip = 0 is the unperturbed cue);
training from a weak or a random initialisation reaches the acceptance F1;
robustness training (target_from, context_flip) recalls from a cut cue and
from silenced neurons where plain training on the same seed does not;
the training log follows the cosine schedule; results are identical at 1
and 2 threads; `spikeline run` with the trained edges and the cue as a
clamp replays the recall raster spike for spike; patterns can be read from
an HDF5 file; bad [task], [training] and [evaluation] entries are refused
with the item, the value and the valid range.
"""

import json
import math
import os
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CONFIG, EX_DATAERR, EX_NOINPUT, EX_USAGE, TempDir, check, check_equal,  # noqa: E402
                     expect_exit,  # noqa: E402
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


def wait_for_log_rows(proc, out, rows, seconds=120):
    """Waits until the training log in `out` (read under SWMR while `proc`
    writes it; flushed at least every 5 s) has `rows` rows, `proc` ends or
    `seconds` pass (generous: sanitizers and load slow it); returns the rows
    seen."""
    import time
    seen, deadline = 0, time.time() + seconds
    while seen < rows and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            with h5py.File(out, "r", swmr=True) as f:
                seen = len(f["training/step"])
        except (OSError, KeyError):
            pass  # not created yet, or not yet in SWMR mode
    return seen


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


def robustness_after_training(extra):
    """Recall F1 from a clean cue, and from a cue cut to 30 of its 41 steps,
    p_flip = 0.25 and a quarter of the neurons silenced, after training from
    half the closed form with the example's recipe (a fixed step budget)."""
    tr = ('init_scale = 0.5\nsteps = 30\nloss = "bce"\npos_weight = 300\ngradient = "local"\n'
          'lr = 0.01\n' + extra)
    ev = 'p_flip = [0.25]\ncue_steps = [30]\nsilenced = [48]\nsequential = "no"'
    with TempDir() as d, train(d, config(n=192, patterns=8, length=300, p_active=0.002,
                                         training=tr, evaluation=ev)) as f:
        return {"clean": pooled(f, "recall")[2],
                **{k: f["evaluation/%s/f1" % k][0] for k in ("cue_steps", "p_flip", "silenced")}}


def test_robustness_training():
    """Same seed, same steps, three recipes. target_from trains the cue's own
    steps from the contexts before them (background and the cue's first
    steps), so a network cued with only the first 30 of 41 steps produces
    steps 30 .. 40 itself and recalls the rest, where plain training loses
    spikes. context_flip (the forced context corrupted, the target clean)
    adds the margin that recall from a cue with a quarter of its neurons
    silenced needs. Clean recall stays exact in all three."""
    plain = robustness_after_training("")
    cut = robustness_after_training("target_from = 20")
    both = robustness_after_training("target_from = 20\ncontext_flip = 0.25")
    for name, r in (("plain", plain), ("target_from", cut), ("both", both)):
        check_equal(r["clean"], 1.0, "%s: clean recall F1" % name)
    check(plain["cue_steps"] < 0.97, "plain training: cut cue F1 %.4f" % plain["cue_steps"])
    check_equal(cut["cue_steps"], 1.0, "target_from = 20: cut cue F1 (plain %.4f)"
                % plain["cue_steps"])
    check_equal(both["cue_steps"], 1.0, "target_from and context_flip: cut cue F1")
    check(both["silenced"] > plain["silenced"] + 0.03,
          "48 of 192 silenced: F1 %.4f with context_flip, %.4f plain"
          % (both["silenced"], plain["silenced"]))
    check(both["p_flip"] >= plain["p_flip"],
          "p_flip = 0.25: F1 %.4f with context_flip, %.4f plain" % (both["p_flip"], plain["p_flip"]))


def test_identical_at_one_and_two_threads():
    for state in ("float32", "bfloat16"):
        identical_at_one_and_two_threads(state)
    # Robustness training's draws are keyed by (seed, pattern, step).
    identical_at_one_and_two_threads("float32", "context_flip = 0.3\ntarget_from = 20")


def identical_at_one_and_two_threads(state, extra=""):
    tr = ('init_scale = 0.5\nsteps = 6\nbatch = 2\ndropout = 0.2\neval_every = 3\n'
          'optimizer_state = "%s"\n%s' % (state, extra))
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
    with TempDir() as d:
        cfg = write(os.path.join(d, "wm.toml"), config(training="init_scale = 0.5\nsteps = 100000"))
        out = os.path.join(d, "out.h5")
        p = subprocess.Popen([clitest.BINARY, "train", cfg, "-q", "-o", out], cwd=d,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # SIGINT once a step is logged, not after a fixed sleep: under a
        # sanitizer on a loaded machine the build alone took longer than 3 s.
        wait_for_log_rows(p, out, 1)
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
            # The summary is JSON (written by io::JsonWriter) and says why it stopped.
            summary = json.loads(clitest.text_attr(f["provenance/summary"][()]))
            check_equal(summary["status"], "interrupted", "summary status")
            check_equal(summary["message"], "stopped by signal 2", "summary message")
            check_equal(summary["steps"], steps, "summary steps")


def test_sigkill_leaves_the_log_and_the_latest_weights():
    # The file is written as training goes (SWMR, as `run` writes it): a run
    # killed outright leaves the log so far and the weights of its last
    # evaluated row, marked "running". Constant lr, so that a run of k steps
    # has the same weights as the killed one after k.
    import signal
    import subprocess
    tr = 'init_scale = 0.5\nschedule = "constant"\neval_every = 3\nsteps = %d'
    small = dict(n=64, patterns=2, length=100, p_active=0.02, taps=5, threads=1)
    with TempDir() as d:
        cfg = write(os.path.join(d, "wm.toml"), config(training=tr % 1000000, **small))
        out = os.path.join(d, "out.h5")
        p = subprocess.Popen([clitest.BINARY, "train", cfg, "-q", "-o", out], cwd=d,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        rows = wait_for_log_rows(p, out, 7)
        p.send_signal(signal.SIGKILL)
        _, err = p.communicate(timeout=30)
        check_equal(p.returncode, -signal.SIGKILL, "killed (stderr: %s)" % err[-500:])
        check(rows >= 7, "the log reached %d rows in 120 s, while running" % rows)
        with h5py.File(out, "r", swmr=True) as f:
            check_equal(clitest.text_attr(f["provenance/status"][()]), "running", "status")
            log = log_of(f)
            weights = f["edges/rec/0/syn_weight"][()]
            check_equal(len(weights), 64 * 64 * 5, "synapses")
        # HDF5's SWMR keeps each dataset consistent, not several at once: a
        # kill while a flush extends the columns one after another leaves
        # some of them longer, by at most the rows since the previous flush
        # (every evaluation flushes: eval_every = 3). The complete rows are
        # the shortest column's, as File.training_log() reads them.
        lengths = {k: len(v) for k, v in log.items()}
        n = min(lengths.values())
        check(max(lengths.values()) - n <= 3, "columns of lengths %s" % lengths)
        log = {k: v[:n] for k, v in log.items()}
        check(n >= 7, "log rows %d" % n)
        check(np.array_equal(log["step"], np.arange(n)), "steps %s" % log["step"][:10])
        evaluated = np.flatnonzero(~np.isnan(log["recall_f1"]))
        check_equal(list(evaluated), list(range(2, n, 3)), "evaluated rows")
        # The weights are those of the last evaluated row, or (killed while
        # they were being rewritten) partly those of the next evaluation.
        last = int(evaluated[-1]) + 1
        refs = []
        for steps in (last, last + 3):
            with TempDir() as r:
                with train(r, config(training=tr % steps, **small)) as f:
                    refs.append(f["edges/rec/0/syn_weight"][()])
        check(not np.array_equal(refs[0], refs[1]), "training does not change the weights")
        same = (weights == refs[0]) | (weights == refs[1])
        check(same.all(), "%d weights are neither those of step %d nor of step %d"
              % ((~same).sum(), last, last + 3))
        # As docs/training.md says: its edges, copied out, load as explicit weights.
        with h5py.File(out, "r", swmr=True) as f, \
                h5py.File(os.path.join(d, "weights.h5"), "w") as g:
            f.copy("edges", g)
        text = config(training="steps = 0\ninit = \"config\"", **small).replace(
            'rule = "all_to_all"\ntaps = 5\nweight = 0.0\ndelay = 1.0',
            'rule = "explicit"\nfile = "weights.h5"')
        with train(d, text) as f:
            check(np.array_equal(f["edges/rec/0/syn_weight"][()], weights),
                  "the copied weights do not load back")


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


def test_patterns_from_a_file_of_any_integer_type():
    # Any integer type holding 0 and 1 reads as the same patterns: signed,
    # wide, big-endian, and h5py's bool (an enum over int8). With a file,
    # p_active is the background's density only, and 0 (no background) is fine.
    rng = np.random.default_rng(7)
    pats = (rng.random((2, 150, 64)) < 0.01).astype(np.uint8)
    for dtype in (np.int64, ">u2", bool):
        with TempDir() as d:
            with h5py.File(os.path.join(d, "pats.h5"), "w") as f:
                f["patterns"] = pats.astype(dtype)
            with train(d, config(n=64, patterns=2, length=150, p_active=0, taps=5,
                                 training="steps = 0", task='file = "pats.h5"')) as f:
                check(np.array_equal(f["patterns"][()], pats), "%s: not the file's patterns" % dtype)


def test_output_is_no_input_and_can_be_created():
    """The output is checked before the build and the training, as in a run
    (tests/cli/test_output_path.py): not the [task] file (73), not the config
    (64: both on the command line), not a FIFO (73); every file intact."""
    with TempDir() as d:
        pats = os.path.join(d, "pats.h5")
        with h5py.File(pats, "w") as f:
            f["patterns"] = np.zeros((2, 100, 32), np.uint8)
        cfg = write(os.path.join(d, "wm.toml"), config(training="steps = 0", task='file = "pats.h5"',
                                                       **dict(SMALL, patterns=2)))
        os.mkfifo(os.path.join(d, "fifo"))
        before = {n: clitest.read_bytes(os.path.join(d, n)) for n in ("pats.h5", "wm.toml")}
        for out, code, fragments in [
                ("pats.h5", clitest.EX_CANTCREAT, ["--output 'pats.h5' and [task] file (patterns)"]),
                ("./wm.toml", clitest.EX_USAGE, ["--output './wm.toml' and the config file"]),
                (os.path.join(d, "fifo"), clitest.EX_CANTCREAT, ["is a FIFO", "not a regular file"])]:
            r = spikeline(["train", cfg, "-q", "-o", out], cwd=d)
            expect_exit(r, code)
            for frag in fragments:
                expect_in(r.stderr, frag, r=r)
            check("training " not in r.stderr, "refused after the training\n" + r.describe())
        for n, b in before.items():
            check(clitest.read_bytes(os.path.join(d, n)) == b, n + " changed")
        check_equal(sorted(os.listdir(d)), ["fifo", "pats.h5", "wm.toml"], "files")


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


def test_output_name_with_tab_quote_and_backslash():
    """-o is a value, not TOML text: the file written has exactly the name given."""
    with TempDir() as d:
        cfg = write(os.path.join(d, "wm.toml"), config(training="steps = 0", **SMALL))
        name = 'w\tm"1\\2\\t.h5'
        run_ok(["train", cfg, "-o", name, "-q"], cwd=d)
        check_equal(sorted(os.listdir(d)), sorted(["wm.toml", name]), "files written")
        with h5py.File(os.path.join(d, name), "r") as f:
            check_equal(clitest.text_attr(f["provenance/status"][()]), "complete", "status")


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
test_refuses_context_flip_of_one = refused(
    config(training="context_flip = 1.0", **SMALL), EX_CONFIG,
    ["[training] parameter context_flip = 1 is out of range", "valid is [0, 1)"])
test_refuses_negative_context_flip = refused(
    config(training="context_flip = -0.1", **SMALL), EX_CONFIG,
    ["[training] parameter context_flip = -0.1 is out of range", "valid is [0, 1)"])
test_refuses_target_from_zero = refused(
    config(training="target_from = 0", **SMALL), EX_CONFIG,
    ["[training] parameter target_from = 0 is invalid", "a whole number from 1 to 5"])
test_refuses_target_from_beyond_the_cue = refused(
    config(training="target_from = 6", **SMALL), EX_CONFIG,
    ["[training] parameter target_from = 6 is invalid", "a whole number from 1 to 5"])
test_refuses_fractional_target_from = refused(
    config(training="target_from = 2.5", **SMALL), EX_CONFIG,
    ["[training] parameter target_from = 2.5 is invalid", "a whole number from 1 to 5"])
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

# A patterns file that is not there, or not a file, is a missing input (66);
# one that is not HDF5 is bad data (65).
test_refuses_missing_patterns_file = refused(
    config(task='file = "pats.h5"', **SMALL), EX_NOINPUT, ["[task] file", "pats.h5"])
test_refuses_directory_as_patterns_file = refused(
    config(task='file = "pats.h5"', **SMALL), EX_NOINPUT, ["pats.h5", "not a regular file"],
    files={"pats.h5": os.mkdir})
test_refuses_fifo_as_patterns_file = refused(  # was: "not a regular file", not saying what
    config(task='file = "pats.h5"', **SMALL), EX_NOINPUT,
    ["[task] file: ", "/pats.h5: is a FIFO (named pipe), not a regular file"],
    files={"pats.h5": os.mkfifo})
test_refuses_patterns_file_not_hdf5 = refused(
    config(task='file = "pats.h5"', **SMALL), EX_DATAERR, ["pats.h5", "not an HDF5 file"],
    files={"pats.h5": lambda p: write(p, "0 1 0\n")})


def patterns_file(data):
    """A files= entry for refused(): an HDF5 file whose /patterns is `data`."""
    def make(path):
        with h5py.File(path, "w") as f:
            f["patterns"] = data
    return make


# Shapes that cannot be trained or scored are refused before anything is
# written (they crashed: SIGSEGV with 0 steps, SIGFPE with some): no pattern,
# or patterns no longer than the cue (5 steps here), which leave nothing to
# recall. From a file that is bad data (65), from [task] a config error (78).
test_refuses_patterns_file_with_no_pattern = refused(
    config(task='file = "pats.h5"', **SMALL), EX_DATAERR,
    ["[task] file: /", "/pats.h5: ", "0 patterns", "at least 1"],
    files={"pats.h5": patterns_file(np.zeros((0, 100, 32), dtype=np.uint8))})
test_refuses_patterns_file_with_no_pattern_when_training = refused(
    config(task='file = "pats.h5"', training="steps = 3", **SMALL), EX_DATAERR,
    ["[task] file: /", "/pats.h5: ", "0 patterns", "at least 1"],
    files={"pats.h5": patterns_file(np.zeros((0, 100, 32), dtype=np.uint8))})
test_refuses_patterns_file_of_zero_steps = refused(
    config(task='file = "pats.h5"', training="steps = 3", **SMALL), EX_DATAERR,
    ["[task] file: /", "/pats.h5: ", "0 steps per pattern", "longest delay of projection 'rec'",
     "at least 6 steps"],
    files={"pats.h5": patterns_file(np.zeros((2, 0, 32), dtype=np.uint8))})
test_refuses_patterns_file_no_longer_than_the_cue = refused(
    config(task='file = "pats.h5"\ncue = 3', **SMALL), EX_DATAERR,
    ["[task] file: /", "/pats.h5: ", "3 steps per pattern", "[task] cue = 3", "at least 4 steps"],
    files={"pats.h5": patterns_file(np.ones((2, 3, 32), dtype=np.uint8))})
test_refuses_length_no_longer_than_the_longest_delay = refused(
    config(n=32, patterns=2, length=5, p_active=0.01, taps=5), EX_CONFIG,
    ["length = 5", "longest delay of projection 'rec'", "from 6 to 10000000"])


# /patterns must be stored as integers of 0 and 1: a float dataset was
# converted on read (0.5 became 0), and an integer outside 0 .. 255 clamped
# (-1 became 0, 256 was reported as 255).
test_refuses_patterns_file_of_floats = refused(
    config(task='file = "pats.h5"', **SMALL), EX_DATAERR,
    ["[task] file: /", "/pats.h5: ", "stored as float64, not as integers", "0 and 1"],
    files={"pats.h5": patterns_file(np.ones((2, 100, 32)))})
test_refuses_patterns_file_of_halves = refused(
    config(task='file = "pats.h5"', **SMALL), EX_DATAERR,
    ["[task] file: /", "/pats.h5: ", "stored as float32, not as integers"],
    files={"pats.h5": patterns_file(np.full((2, 100, 32), 0.5, dtype=np.float32))})
test_refuses_patterns_file_of_negative_entries = refused(
    config(task='file = "pats.h5"', **SMALL), EX_DATAERR,
    ["[task] file: /", "/pats.h5: ", "holds -1, outside 0 .. 255", "0 and 1"],
    files={"pats.h5": patterns_file(-np.ones((2, 100, 32), dtype=np.int64))})
test_refuses_patterns_file_of_entries_beyond_a_byte = refused(
    config(task='file = "pats.h5"', **SMALL), EX_DATAERR,
    ["[task] file: /", "/pats.h5: ", "holds 256, outside 0 .. 255"],
    files={"pats.h5": patterns_file(np.full((2, 100, 32), 256, dtype=np.int16))})

# Nothing to recall: F1 of nothing is undefined (it was reported as 1.0000).
test_refuses_p_active_zero = refused(
    config(n=32, patterns=2, length=100, p_active=0, taps=5), EX_CONFIG,
    ["p_active = 0", "F1 with nothing to recall is undefined", "(0, 1]"])
test_refuses_p_active_drawing_an_empty_pattern = refused(
    config(n=32, patterns=2, length=100, p_active=0.0001, taps=5), EX_CONFIG,
    ["p_active = 0.0001", "pattern 0 has no active entry in its free-running steps 5 .. 99",
     "raise p_active"])
test_refuses_patterns_file_of_zeros = refused(
    config(task='file = "pats.h5"', **SMALL), EX_DATAERR,
    ["[task] file: /", "/pats.h5: ", "/patterns[0] has no active entry", "undefined"],
    files={"pats.h5": patterns_file(np.zeros((2, 100, 32), dtype=np.uint8))})


def pattern_silent_after_its_cue():
    pats = np.zeros((3, 100, 32), dtype=np.uint8)
    pats[:, ::7, ::3] = 1
    pats[1, 5:] = 0  # active in its cue only
    return pats


test_refuses_pattern_silent_after_its_cue = refused(
    config(task='file = "pats.h5"', **SMALL), EX_DATAERR,
    ["[task] file: /", "/pats.h5: ", "/patterns[1] has no active entry in its free-running steps 5 .. 99"],
    files={"pats.h5": patterns_file(pattern_silent_after_its_cue())})


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


def test_task_file_is_relative_to_the_config():
    """[task] file is an input file: relative to the config's folder
    (docs/config.md), not to the working directory; was: read from the
    working directory (66, no such file)."""
    with TempDir() as d:
        sub = os.path.join(d, "cfg")
        os.mkdir(sub)
        rng = np.random.default_rng(7)
        pats = (rng.random((2, 100, 32)) < 0.01).astype(np.uint8)
        with h5py.File(os.path.join(sub, "pats.h5"), "w") as f:
            f["patterns"] = pats
        text = config(**SMALL, training="steps = 0", task='file = "pats.h5"').replace(
            'file = "out.h5"', 'file = "../out.h5"')
        cfg = write(os.path.join(sub, "wm.toml"), text)
        out = os.path.join(d, "out.h5")
        run_ok(["train", cfg, "-o", out, "-q"], cwd=d)
        with h5py.File(out, "r") as f:
            check(np.array_equal(f["patterns"][()], pats), "the patterns are not the file's")


def test_per_neuron_neuron_parameters_are_refused():
    """`run` takes lif_discrete's beta and theta per neuron; the trainer
    needs one value each and says so, naming the population and the
    parameter (was: "must be a number, got a list of numbers")."""
    for given, name in [("beta = [%s], theta = 1.0" % ", ".join(["0.7"] * 32), "beta"),
                        ("beta = 0.7, theta = { distribution = \"uniform\", low = 0.9, "
                         "high = 1.1 }", "theta")]:
        with TempDir() as d:
            text = config(**SMALL).replace("params = { beta = 0.7, theta = 1.0 }",
                                           "params = { %s }" % given)
            cfg = write(os.path.join(d, "wm.toml"), text)
            r = spikeline(["train", cfg, "-q", "-o", os.path.join(d, "out.h5")], cwd=d)
            expect_exit(r, EX_CONFIG)
            expect_in(r.stderr, "population 'wm' (lif_discrete) parameter %s: training needs one "
                      "value per parameter (beta, theta) for the whole population 'wm'" % name,
                      r=r)
            expect_in(r.stderr, "per-neuron values (a list or a distribution) are for "
                      "`spikeline run` only", r=r)
            check(not os.path.exists(os.path.join(d, "out.h5")), "an output file was left behind")


clitest.main(globals())
