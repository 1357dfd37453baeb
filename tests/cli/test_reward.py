"""Reward-modulated STDP through the config: neuromodulators, scheduled and
triggered rewards. Without dopamine (tonic 0, no rewards) nothing changes;
rewards change the weights; a pairing trigger fires rewards, identically at
any thread count."""

import json
import os
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


if __name__ == "__main__":
    clitest.main(globals())
