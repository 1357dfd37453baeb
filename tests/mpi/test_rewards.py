"""Rewards from outside the process at 2 ranks: rank 0 reads the file or
the stream (mpirun hands stdin to rank 0 alone) and every rank schedules
the same pulses, so the output equals one process's, bit for bit (the
weights that reward_stdp learned, the dopamine record, the spikes). A bad
line is one error, printed once, and every rank exits 65.

    test_rewards.py SPIKELINE SOURCE_DIR MPIEXEC
"""

import os
import subprocess
import sys

import mpitest

# tests/cli/test_reward.py's network: reward_stdp on 'learned', dopamine
# recorded every ms.
sys.path.insert(0, os.path.join(mpitest.SOURCE_DIR, "tests", "cli"))
from test_reward import BASE, EXTERNAL  # noqa: E402

LINES = "# time ms, modulator, amount\n300 dopamine 0.5\n\n700 dopamine 0.5  # second\n" \
        "1100 dopamine 0.5\n"


def run(tmp, name, args, ranks=None, stdin=None):
    out = os.path.join(tmp, name + ".h5")
    cmd = [mpitest.BINARY, "run", cfg, "-o", out, "-q"] + args
    if ranks is not None:
        cmd = [mpitest.MPIEXEC, "-np", str(ranks)] + mpitest.FLAGS + cmd
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                       timeout=mpitest.RUN_TIMEOUT_S)
    return r, out


with mpitest.temporary_dir() as tmp:
    cfg = os.path.join(tmp, "net.toml")
    with open(cfg, "w") as f:
        f.write(BASE % EXTERNAL)
    rewards = os.path.join(tmp, "rewards.txt")
    with open(rewards, "w") as f:
        f.write(LINES)
    r, serial = run(tmp, "serial", ["--reward-input", rewards])
    if r.returncode != 0:
        mpitest.fail("the serial run failed", r)
    for name, args, stdin in [("file", ["--reward-input", rewards], None),
                              ("stdin", ["--reward-input", "-"], LINES)]:
        r, out = run(tmp, name, args, ranks=2, stdin=stdin)
        if r.returncode != 0:
            mpitest.fail("%s at 2 ranks failed" % name, r)
        why = mpitest.same_output(serial, out)
        if why:
            mpitest.fail("rewards from %s at 2 ranks: %s" % (name, why), r)
        print("ok rewards from %s at 2 ranks: the output equals one process's" % name)
    bad = os.path.join(tmp, "bad.txt")
    with open(bad, "w") as f:
        f.write("300 dopamin 0.5\n")
    expect = "line 1: unknown neuromodulator 'dopamin' (did you mean 'dopamine'?)"
    for name, args, stdin in [("bad file", ["--reward-input", bad], None),
                              ("bad stdin", ["--reward-input", "-"], "300 dopamin 0.5\n")]:
        r, _ = run(tmp, name.replace(" ", "_"), args, ranks=2, stdin=stdin)
        if r.returncode != 65 or r.stderr.count("spikeline: error:") != 1 or expect not in r.stderr:
            mpitest.fail("%s at 2 ranks: expected exit 65 and one error saying %r"
                         % (name, expect), r)
        print("ok %s at 2 ranks: exit 65, the error once" % name)
