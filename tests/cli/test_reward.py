"""Reward-modulated STDP through the config: neuromodulators, scheduled and
triggered rewards. Without dopamine (tonic 0, no rewards) nothing changes;
rewards change the weights; a pairing trigger fires rewards, identically at
any thread count."""

import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import TempDir, check, run_ok, spikeline, expect_exit, expect_in, write, EX_CONFIG  # noqa: E402

import h5py  # noqa: E402

BASE = """
[simulation]
dt = 0.1
duration = 1500.0
seed = 9

[[population]]
name = "input"
model = "poisson_generator"
size = 100
params = { rate = 20.0 }

[[population]]
name = "out"
model = "iaf_psc_delta"
size = 50
params = { tau_m = 20.0, E_L = 0.0, V_th = 20.0, V_reset = 10.0, t_ref = 2.0 }

[[neuromodulator]]
name = "dopamine"
tau = 200.0

[[projection]]
name = "learned"
source = "input"
target = "out"
rule = "fixed_indegree"
indegree = 40
weight = { distribution = "uniform", low = 1.0, high = 3.0 }
delay = 1.0
%s
"""

PLASTIC = 'plasticity = { rule = "reward_stdp", modulator = "dopamine", tonic = 0.0, w_max = 4.0 }'


def run(d, name, extra_toml, *args):
    cfg = write(os.path.join(d, name + ".toml"), BASE % extra_toml)
    out = os.path.join(d, name + ".h5")
    run_ok(["run", cfg, "--output", out, "--quiet"] + list(args))
    with h5py.File(out, "r") as f:
        w = f["edges/learned/0/syn_weight"][()]
        summary = json.loads(f["provenance/summary"][0].decode())
    return w, summary


def test_no_dopamine_no_change_rewards_change():
    with TempDir() as d:
        static, _ = run(d, "static", "")
        silent, s = run(d, "silent", PLASTIC)
        check(np.array_equal(static, silent), "tonic 0 and no reward: weights must not change")
        check(s["rewards"] == {"dopamine": 0}, "no reward pulses expected, got %s" % s["rewards"])
        rewarded, s = run(d, "rewarded", PLASTIC + """
[[reward]]
modulator = "dopamine"
amount = 0.5
times = [300.0, 700.0, 1100.0]
""")
        check(s["rewards"] == {"dopamine": 3}, "three scheduled pulses, got %s" % s["rewards"])
        changed = np.mean(rewarded != static)
        check(changed > 0.5, "rewards should change most weights, %.2f changed" % changed)


def test_pairing_trigger_rewards_deterministically():
    trigger = PLASTIC + """
[[reward]]
modulator = "dopamine"
amount = 0.5
trigger = { pre = { population = "input", node = 0 }, post = { population = "out", node = 0 }, window = 20.0, delay = { distribution = "uniform", low = 100.0, high = 300.0 } }
"""
    with TempDir() as d:
        w1, s1 = run(d, "t1", trigger)
        check(s1["rewards"]["dopamine"] > 0, "the trigger should fire at least once")
        w2, s2 = run(d, "t2", trigger, "--threads", "2", "--set", "simulation.partitions=5")
        check(s1["rewards"] == s2["rewards"], "reward counts differ across threads")
        check(np.array_equal(w1, w2), "learned weights differ across threads")
        # With the exchange overlapping computation (a 10-step window as two
        # epochs: the observer hears of a pairing one epoch later), each
        # reward still lands after the step it is drawn at, at the same step.
        os.environ["SPIKELINE_OVERLAP"] = "always"
        try:
            w3, s3 = run(d, "t3", trigger, "--threads", "2")
        finally:
            del os.environ["SPIKELINE_OVERLAP"]
        check(s1["rewards"] == s3["rewards"], "reward counts differ with overlap")
        check(np.array_equal(w1, w3), "learned weights differ with overlap")


def test_reward_errors():
    with TempDir() as d:
        bad = PLASTIC + """
[[reward]]
modulator = "dopamin"
times = [10.0]
"""
        r = spikeline(["run", write(os.path.join(d, "bad.toml"), BASE % bad), "-o", os.path.join(d, "x.h5")])
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "unknown neuromodulator 'dopamin'", r=r)
        expect_in(r.stderr, "did you mean 'dopamine'", r=r)
        check(not os.path.exists(os.path.join(d, "x.h5")), "no output on a config error")
        short = PLASTIC + """
[[reward]]
modulator = "dopamine"
trigger = { pre = { population = "input", node = 0 }, post = { population = "out", node = 0 }, delay = 0.5 }
"""
        r = spikeline(["run", write(os.path.join(d, "short.toml"), BASE % short), "-o", os.path.join(d, "y.h5")])
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "shorter than the simulation's lookahead window", r=r)
        check(not os.path.exists(os.path.join(d, "y.h5")), "no output on a config error")


def test_validate_names_an_unknown_modulator_of_the_rule():
    # `validate` checks the rule's neuromodulator (it did not before plugin
    # ABI 1.4 moved the check into the config's checks; a run said it).
    with TempDir() as d:
        cfg = write(os.path.join(d, "bad.toml"),
                    BASE % PLASTIC.replace('modulator = "dopamine"', 'modulator = "dopamin"'))
        for command in (["validate", cfg], ["run", cfg, "-o", os.path.join(d, "x.h5")]):
            r = spikeline(command)
            expect_exit(r, EX_CONFIG)
            expect_in(r.stderr, "projection 'learned': its plasticity rule reads neuromodulator "
                      "'dopamin', which is not defined (did you mean 'dopamine'?); defined: "
                      "dopamine", r=r)


# Recording (trajectories of chosen synapses with their eligibility, the
# dopamine concentration), checked against the closed forms: dopamine is a
# sum of decaying pulses, eligibility decays with tau_c between a synapse's
# events. Recording must not change a run, and is the same at any thread count.
REWARDED = """plasticity = { rule = "reward_stdp", modulator = "dopamine", tonic = 0.01, tau_c = 1000.0, w_max = 4.0 }

[[reward]]
modulator = "dopamine"
amount = 0.5
times = [300.0, 700.0, 1100.0]
"""

RECORD = """
[[record_weights]]
name = "traj"
projection = "learned"
interval = 1.0
synapses = [5, 0, 17]
sources = [%d]
targets = [%d]
variables = ["eligibility"]

[[record_neuromodulator]]
name = "dopamine"
interval = 1.0
"""


def run_rec(d, name, extra, *args):
    cfg = write(os.path.join(d, name + ".toml"), BASE % (REWARDED + extra))
    out = os.path.join(d, name + ".h5")
    run_ok(["run", cfg, "--output", out, "--quiet"] + list(args))
    return out


def test_trajectories_and_dopamine():
    with TempDir() as d:
        plain = run_rec(d, "plain", "")
        with h5py.File(plain, "r") as f:
            e = f["edges/learned"]
            src, tgt = e["source_node_id"][()], e["target_node_id"][()]
            final_plain = e["0/syn_weight"][()]
        pair = (int(src[40]), int(tgt[40]))
        expected_ids = sorted({0, 5, 17} | {k for k in range(len(src)) if (src[k], tgt[k]) == pair})

        rec = run_rec(d, "rec", RECORD % pair)
        with h5py.File(rec, "r") as f:
            final = f["edges/learned/0/syn_weight"][()]
            g = f["weights/traj"]
            ids = g["edge_ids"][()]
            w, c, t = g["data"][()], g["eligibility"][()], g["time"][()]
            check(g.attrs["projection"] == b"learned" or g.attrs["projection"] == "learned",
                  "the group names its projection")
            da, da_t = f["neuromodulators/dopamine/data"][()], f["neuromodulators/dopamine/time"][()]
            in_t = f["spikes/input/timestamps"][()]
            in_n = f["spikes/input/node_ids"][()]
            out_t = f["spikes/out/timestamps"][()]
            out_n = f["spikes/out/node_ids"][()]
        check(np.array_equal(final, final_plain), "recording changed the learned weights")
        check(list(ids) == expected_ids, "edge_ids %s, expected %s" % (list(ids), expected_ids))
        check(w.shape == (1500, len(ids)) and c.shape == w.shape, "shape %s" % (w.shape,))
        check(np.allclose(t, np.arange(1, 1501) * 1.0), "samples every 1 ms from 1 ms")
        check(np.array_equal(w[-1], final[ids]), "the last sample equals the final weights")
        check(np.any(w[-1] != w[0]), "the recorded weights should move")

        # Dopamine: a sum of pulses decaying with tau = 200 ms (a pulse at t counts at t).
        expect = sum(0.5 * np.exp(-(da_t - p) / 200.0) * (da_t >= p) for p in (300.0, 700.0, 1100.0))
        check(np.allclose(da, expect, rtol=1e-12, atol=0), "dopamine differs from the closed form: max "
              "error %g" % np.max(np.abs(da - expect)))

        # Eligibility: between a synapse's events (presynaptic arrivals at
        # spike + 1 ms, postsynaptic spikes) it decays as exp(-dt / tau_c).
        checked = 0
        for j, k in enumerate(ids):
            arrivals = in_t[in_n == src[k]] + 1.0
            posts = out_t[out_n == tgt[k]]
            events = np.sort(np.r_[arrivals, posts])
            for i in range(len(t) - 1):
                quiet = not np.any((events > t[i] - 1e-9) & (events <= t[i + 1] + 1e-9))
                if quiet and c[i, j] != 0:
                    ratio = c[i + 1, j] / c[i, j]
                    check(abs(ratio / np.exp(-1.0 / 1000.0) - 1) < 1e-6,
                          "eligibility of edge %d at %g ms decays by %r" % (k, t[i], ratio))
                    checked += 1
        check(checked > 1000, "too few quiet intervals checked (%d)" % checked)
        jumps = np.sum(np.abs(np.diff(c, axis=0)) > 1e-3)
        check(jumps > 10, "the eligibility should jump at pairings (%d jumps)" % jumps)

        # The same trajectories at another thread count and partitioning.
        rec2 = run_rec(d, "rec2", RECORD % pair, "--threads", "2", "--set", "simulation.partitions=3")
        with h5py.File(rec2, "r") as f:
            check(np.array_equal(f["weights/traj/data"][()], w), "weight trajectories differ across threads")
            check(np.array_equal(f["weights/traj/eligibility"][()], c), "eligibility differs across threads")


def test_recording_errors():
    cases = [
        ("synapses = [4000]", "synapse (edge id) 4000 is out of range: projection 'learned' has 2000 "
                              "synapses (ids 0 to 1999)"),
        ('synapses = [1]\nvariables = ["eligibilty"]', "has no synapse variable 'eligibilty'"),
        ("sources = [1, 2]\ntargets = [3]", "sources has 2 ids but targets has 1"),
        ("sources = [100]\ntargets = [0]", "sources holds node 100, out of range: population 'input' "
                                           "has 100 nodes (ids 0 to 99)"),
    ]
    with TempDir() as d:
        for n, (keys, message) in enumerate(cases):
            extra = '[[record_weights]]\nprojection = "learned"\ninterval = 1.0\n' + keys + "\n"
            out = os.path.join(d, "x%d.h5" % n)
            r = spikeline(["run", write(os.path.join(d, "bad%d.toml" % n), BASE % (REWARDED + extra)), "-o", out])
            expect_exit(r, EX_CONFIG)
            expect_in(r.stderr, message, r=r)
            check(not os.path.exists(out), "no output on a config error")
        r = spikeline(["run", write(os.path.join(d, "var.toml"), BASE % (REWARDED +
            '[[record_weights]]\nprojection = "learned"\ninterval = 1.0\nvariables = ["eligibilty"]\n')),
            "-o", os.path.join(d, "v.h5")])
        expect_in(r.stderr, "did you mean 'eligibility'", r=r)
        expect_in(r.stderr, "recordable: weight, eligibility", r=r)
        r = spikeline(["validate", write(os.path.join(d, "mod.toml"), BASE % (REWARDED +
            '[[record_neuromodulator]]\nname = "dopamin"\ninterval = 1.0\n'))])
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "unknown neuromodulator 'dopamin'", r=r)
        expect_in(r.stderr, "did you mean 'dopamine'", r=r)


# Rewards from outside the process: a file is read whole before the run (as
# reproducible as a schedule in the config); stdin is polled between windows.
EXTERNAL = """plasticity = { rule = "reward_stdp", modulator = "dopamine", tonic = 0.01, tau_c = 1000.0, w_max = 4.0 }

[[record_neuromodulator]]
name = "dopamine"
interval = 1.0
"""


def run_external(d, name, extra, args, stdin=None):
    cfg = write(os.path.join(d, name + ".toml"), BASE % (EXTERNAL + extra))
    out = os.path.join(d, name + ".h5")
    p = subprocess.run([clitest.BINARY, "run", cfg, "--output", out, "--quiet"] + args, input=stdin,
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "run %s failed: %s" % (name, p.stderr))
    with h5py.File(out, "r") as f:
        return (f["edges/learned/0/syn_weight"][()], f["neuromodulators/dopamine/data"][()],
                json.loads(f["provenance/summary"][0].decode())["rewards"]["dopamine"])


def test_rewards_from_a_file_and_stdin():
    lines = "# time ms, modulator, amount\n300 dopamine 0.5\n\n700 dopamine 0.5  # second\n1100 dopamine 0.5"
    with TempDir() as d:
        w0, da0, n0 = run_external(d, "config", '[[reward]]\nmodulator = "dopamine"\namount = 0.5\n'
                                   "times = [300.0, 700.0, 1100.0]\n", [])
        path = write(os.path.join(d, "rewards.txt"), lines)
        w1, da1, n1 = run_external(d, "file", "", ["--reward-input", path])
        check(n0 == n1 == 3, "three pulses expected, got %d and %d" % (n0, n1))
        check(np.array_equal(w0, w1) and np.array_equal(da0, da1),
              "rewards from a file must equal the same schedule in the config")
        # Timed lines on stdin (all there before the first poll) give the same run.
        w2, da2, n2 = run_external(d, "stdin", "", ["--reward-input", "-"], stdin=lines + "\n")
        check(n2 == 3 and np.array_equal(w0, w2) and np.array_equal(da0, da2),
              "timed rewards on stdin must equal the schedule")
        # A line without a time takes effect at the first poll (10 ms), the step after it.
        _, da3, n3 = run_external(d, "asap", "", ["--reward-input", "-", "--reward-poll", "10"],
                                  stdin="dopamine 0.25\n")
        check(n3 == 1, "one pulse expected, got %d" % n3)
        check(da3[9] == 0 and abs(da3[10] - 0.25 * np.exp(-0.9 / 200.0)) < 1e-12,
              "an untimed reward should start at 10.1 ms: %r" % da3[8:12])


def test_reward_input_errors():
    with TempDir() as d:
        cfg = write(os.path.join(d, "c.toml"), BASE % EXTERNAL)
        cases = [("300 dopamin 0.5\n", "line 1: unknown neuromodulator 'dopamin' (did you mean 'dopamine'?)"),
                 ("\n300 dopamine\n", "line 2: '300 dopamine': amount 'dopamine' is not a number"),
                 ("300 dopamine nan\n", "amount nan must be finite"),
                 ("0.05 dopamine 1\n", "not a whole number of time steps"),
                 ("1 2 3 4\n", "4 fields; expected '[TIME_MS] MODULATOR AMOUNT'")]
        for n, (text, message) in enumerate(cases):
            out = os.path.join(d, "x%d.h5" % n)
            r = spikeline(["run", cfg, "-o", out, "--reward-input", write(os.path.join(d, "r%d.txt" % n), text)])
            expect_exit(r, clitest.EX_DATAERR if "whole number" not in message else EX_CONFIG)
            expect_in(r.stderr, message, r=r)
            check(not os.path.exists(out), "a bad reward file is refused before the output is created")
        # A missing input is 66 (EX_NOINPUT), as is a directory: both refused
        # before the output is created.
        r = spikeline(["run", cfg, "-o", os.path.join(d, "y.h5"), "--reward-input", os.path.join(d, "none.txt")])
        expect_exit(r, clitest.EX_NOINPUT)
        expect_in(r.stderr, "cannot open '%s'" % os.path.join(d, "none.txt"), r=r)
        check(not os.path.exists(os.path.join(d, "y.h5")), "a missing reward file created the output")
        os.mkdir(os.path.join(d, "rewards.d"))
        r = spikeline(["run", cfg, "-o", os.path.join(d, "z.h5"), "--reward-input", os.path.join(d, "rewards.d")])
        expect_exit(r, clitest.EX_NOINPUT)
        expect_in(r.stderr, "--reward-input: '%s' is a directory" % os.path.join(d, "rewards.d"), r=r)
        check("complete" not in r.stderr and "failed after" not in r.stderr,
              "a directory as reward input must be refused before the run starts\n" + r.describe())
        check(not os.path.exists(os.path.join(d, "z.h5")), "a directory as reward input created the output")
        # A device is refused before it is opened (66): /dev/zero was read
        # without end until the memory ran out (was: out of memory after minutes).
        r = spikeline(["run", cfg, "-o", os.path.join(d, "dev.h5"), "--reward-input", "/dev/zero"],
                      timeout=30)
        expect_exit(r, clitest.EX_NOINPUT)
        expect_in(r.stderr, "--reward-input: '/dev/zero' is a character device, not a file or a "
                  "stream", r=r)
        check(not os.path.exists(os.path.join(d, "dev.h5")), "a device as reward input created the output")
        # On a stream, a time already simulated stops the run; what was written is kept.
        out = os.path.join(d, "late.h5")
        p = subprocess.run([clitest.BINARY, "run", cfg, "-o", out, "--reward-input", "-"], input="5 dopamine 0.5\n",
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == clitest.EX_DATAERR, "exit %d: %s" % (p.returncode, p.stderr))
        expect_in(p.stderr, "time 5 ms is already simulated (the run is at 10 ms)")
        with h5py.File(out, "r") as f:
            check(f["provenance/status"][()].decode().strip("\x00") == "failed", "status should be failed")


def test_a_huge_bad_line_is_quoted_cut():
    """A 20 MB line of garbage in the reward input: the message quotes its
    first 80 bytes and says how long it was, it does not print 20 MB. (The
    input is a file, or stdin redirected from one: read whole before the
    run, so the test does not race a pipe.)"""
    with TempDir() as d:
        cfg = write(os.path.join(d, "c.toml"), BASE % EXTERNAL)
        out = os.path.join(d, "huge.h5")
        line = "300 dopamine " + "7" * (20 << 20) + "x"
        huge = write(os.path.join(d, "huge.txt"), line + "\n")
        r = spikeline(["run", cfg, "-o", out, "-q", "--reward-input", huge])
        expect_exit(r, clitest.EX_DATAERR)
        check(len(r.stderr) < 2000, "stderr is %d bytes long" % len(r.stderr))
        expect_in(r.stderr, "line 1: '300 dopamine 777", r=r)
        expect_in(r.stderr, "... (%d bytes)': amount '7777" % len(line), r=r)
        expect_in(r.stderr, "... (%d bytes)' is not a number" % (len(line) - 13), r=r)
        # A word alone: the unknown neuromodulator's name is cut the same way.
        word = write(os.path.join(d, "word.txt"), "d" * (1 << 20) + " 0.5\n")
        with open(word) as stdin:
            p = subprocess.run([clitest.BINARY, "run", cfg, "-o", out, "-q", "--reward-input", "-"],
                               stdin=stdin, capture_output=True, text=True, timeout=120)
        check(p.returncode == clitest.EX_DATAERR, "exit %d: %s" % (p.returncode, p.stderr[:2000]))
        check(len(p.stderr) < 2000, "stderr is %d bytes long" % len(p.stderr))
        expect_in(p.stderr, "unknown neuromodulator 'ddd")
        expect_in(p.stderr, "... (%d bytes)'" % (1 << 20))


if __name__ == "__main__":
    clitest.main(globals())
