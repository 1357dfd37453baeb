"""A Ctrl-C on mpirun stops every rank after the same window: the run ends
promptly (no rank left waiting in an exchange), the file is marked
interrupted, and its spikes are those of one process run to the time the
file says was simulated.

    test_signals.py SPIKELINE SOURCE_DIR MPIEXEC
"""

import os
import signal
import subprocess
import time

import h5py

import mpitest

BRUNEL = os.path.join(mpitest.SOURCE_DIR, "examples", "brunel.toml")
ARGS = ["run", BRUNEL, "--set", "output.edges=false", "-q"]

with mpitest.temporary_dir() as tmp:
    out = os.path.join(tmp, "k2.h5")
    cmd = [mpitest.MPIEXEC, "-np", "2"] + mpitest.FLAGS + [mpitest.BINARY] + ARGS + \
        ["-d", "60000", "-o", out]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The file exists once rank 0 has built the network; a little later
    # the loop runs.
    deadline = time.monotonic() + 60
    while not os.path.exists(out) and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.1)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    try:
        stdout, stderr = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        mpitest.fail("the ranks did not stop within 60 s of SIGINT")
    if "spikeline: interrupted" not in stderr:
        mpitest.fail("no 'interrupted' summary line; stderr:\n%s" % stderr)
    with h5py.File(out, "r") as f:
        status = f["provenance/status"][()].decode()
        simulated = float(f["provenance/simulated_ms"][()])
    if status != "interrupted":
        mpitest.fail("the file's status is %r, not 'interrupted'" % status)
    if not 0 < simulated < 60000:
        mpitest.fail("simulated_ms = %g" % simulated)
    serial = os.path.join(tmp, "serial.h5")
    r = mpitest.run(ARGS + ["-d", "%g" % simulated, "-o", serial])
    if r.returncode != 0:
        mpitest.fail("the serial run to %g ms failed" % simulated, r)
    why = mpitest.same_spikes(serial, out)
    if why:
        mpitest.fail("stopped at %g ms, /spikes differ from one process's: %s" % (simulated, why))
    print("ok stopped by SIGINT at %g ms, /spikes identical to one process's" % simulated)
