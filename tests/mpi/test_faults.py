"""A failure on one rank, or of one rank, ends every rank cleanly.

    test_faults.py SPIKELINE SOURCE_DIR MPIEXEC CASE

CASE:
  state    a NaN in one rank's neurons (found by the state check after a
           window): every rank stops after the same window, exit 70, the
           serial run's message (once), the file marked failed with the
           spikes of one process that failed alike; at 2 and 4 ranks.
  state_overlap
           the same with every delay 0.5 ms (a window of 5 steps): the
           exchange overlaps computation at 2 and 4 ranks (and in one
           process with SPIKELINE_OVERLAP=always), the NaN is reported as
           one process without overlap reports it, the same spikes kept.
  update   a plugin model's update fails on every rank in the same window
           (the computation itself): as above, the serial run's message.
  killed   one rank is killed (SIGKILL) mid-run: mpirun ends the job; rank 0
           gives up its exchange after the launcher's SIGTERM and marks the
           file failed, saying why; the file keeps its flushed spikes.
  disk     rank 0 alone writes, and its disk fills up (a file size limit):
           every rank stops, exit 74, the file marked failed with the spikes
           of an unbroken run up to its simulated time.
"""

import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import h5py

import mpitest

CASE = mpitest.ARGS[0]

# tests/cli/test_guards.py's network: neuron 2 of 'izh' is kicked to NaN at
# 250.3 ms; the state check at 300 ms finds it. With 2 and 4 ranks the
# neuron lies on rank 1 and rank 2: the others know only what the
# exchange tells them.
sys.path.insert(0, os.path.join(mpitest.SOURCE_DIR, "tests", "cli"))
from test_guards import DIVERGING as GUARDS  # noqa: E402

DIVERGING = GUARDS % {"duration": 1000.0, "initial": "", "guard_interval": 100.0} + """
[output]
edges = false
flush_interval = 100.0
"""

# Its projections' delay of 0.1 ms (one step) is 0.5 ms here.
assert DIVERGING.count("delay = 0.1") == 1
DIVERGING_OVERLAP = DIVERGING.replace("delay = 0.1", "delay = 0.5")

# tests/cli/test_plugins.py's failing plugin: every partition's update
# fails at step 50.
UPDATE = """\
[simulation]
dt = 0.1
duration = 100.0
seed = 1

[[population]]
name = "leaky"
model = "c_leaky"
size = 10
params = { I_e = 2.0, tau = 1.0 }

[[projection]]
source = "leaky"
target = "leaky"
rule = "one_to_one"
weight = 0.01
delay = 0.5

[output]
edges = false
"""


def status_of(path):
    with h5py.File(path, "r") as f:
        return f["provenance/status"][()].decode()


def error_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("spikeline: error:")]


def same_failure(tmp, text, extra, ranks_list, expect, overlap_serial=False):
    cfg = os.path.join(tmp, "net.toml")
    with open(cfg, "w") as f:
        f.write(text)
    serial = os.path.join(tmp, "serial.h5")
    one = mpitest.run(["run", cfg, "-q", "-o", serial] + extra)
    if one.returncode != 70 or expect not in one.stderr:
        mpitest.fail("the serial run should fail with exit 70 saying %r" % expect, one)
    runs = [(ranks, None) for ranks in ranks_list]
    if overlap_serial:
        runs.insert(0, (None, {"SPIKELINE_OVERLAP": "always"}))
    for ranks, env in runs:
        out = os.path.join(tmp, "k%s.h5" % ranks)
        t = time.monotonic()
        r = mpitest.run(["run", cfg, "-q", "-o", out] + extra, ranks=ranks, env=env)
        ranks = ranks or 1
        took = time.monotonic() - t
        if r.returncode != 70:
            mpitest.fail("%d ranks: exit %d, not 70" % (ranks, r.returncode), r)
        lines = error_lines(r.stderr)
        if lines != error_lines(one.stderr):
            mpitest.fail("%d ranks: the error lines %r are not the serial run's %r"
                         % (ranks, lines, error_lines(one.stderr)), r)
        if status_of(out) != "failed":
            mpitest.fail("%d ranks: status %r, not failed" % (ranks, status_of(out)), r)
        why = mpitest.same_spikes(serial, out)
        if why:
            mpitest.fail("%d ranks: /spikes differ from the serial failed run's: %s"
                         % (ranks, why), r)
        print("ok %d ranks: exit 70 in %.1f s, the serial message once, status failed, "
              "spikes identical" % (ranks, took))


def killed(tmp):
    cfg = os.path.join(mpitest.SOURCE_DIR, "examples", "brunel.toml")
    out = os.path.join(tmp, "killed.h5")
    # Rank 1 kills itself once rank 0 has created the file and run a while
    # (its shell's PID is spikeline's after the exec).
    killer = ('if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then '
              '(while [ ! -e "%s" ]; do sleep 0.1; done; sleep 1.5; kill -9 $$) & fi; '
              'exec "$0" "$@"' % out)
    # Open MPI SIGTERMs the survivors and SIGKILLs them 5 s later (the
    # default is 1 s; docs/cli.md recommends more for large outputs): rank
    # 0 has time to finish the file.
    cmd = [mpitest.MPIEXEC, "-np", "2"] + mpitest.FLAGS + \
        ["--mca", "odls_base_sigkill_timeout", "5", "sh", "-c", killer, mpitest.BINARY,
         "run", cfg, "-q", "-d", "600000", "-o", out, "--set", "output.edges=false",
         "--set", "output.flush_interval=100"]
    t = time.monotonic()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        mpitest.fail("the job did not end within 60 s of starting (a rank was killed)")
    took = time.monotonic() - t
    if r.returncode == 0:
        mpitest.fail("mpirun exited 0 although rank 1 was killed", r)
    with h5py.File(out, "r") as f:
        status = f["provenance/status"][()].decode()
        spikes = sum(len(f["spikes"][p]["node_ids"]) for p in f["spikes"])
    if status != "failed":
        mpitest.fail("the file's status is %r, not failed" % status, r)
    if "another rank has died" not in r.stderr:
        mpitest.fail("rank 0 did not say why it stopped", r)
    if spikes == 0:
        mpitest.fail("the file kept no spikes from before the kill", r)
    print("ok rank 1 killed: mpirun exit %d after %.1f s, status failed, %d spikes kept"
          % (r.returncode, took, spikes))


def disk_full(tmp):
    coba = os.path.join(mpitest.SOURCE_DIR, "examples", "coba.toml")
    args = ["run", coba, "-d", "12000", "-q", "--set", "output.edges=false"]
    ref = os.path.join(tmp, "ref.h5")
    r = mpitest.run(args + ["-o", ref])
    if r.returncode != 0:
        mpitest.fail("the unbroken run failed", r)
    out = os.path.join(tmp, "full.h5")

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, 4 << 20))
    # mpirun gives the ranks the default action of SIGXFSZ back (death):
    # a shell ignores it again before it becomes spikeline, so that a write
    # past the limit fails with EFBIG as one on a full disk fails with ENOSPC.
    cmd = [mpitest.MPIEXEC, "-np", "2"] + mpitest.FLAGS + \
        ["sh", "-c", 'trap "" XFSZ; exec "$0" "$@"', mpitest.BINARY] + args + ["-o", out]
    r = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=limited,
                       timeout=mpitest.RUN_TIMEOUT_S)
    if r.returncode != 74 or "File too large" not in r.stderr:
        mpitest.fail("2 ranks on a full disk: expected exit 74 naming the error", r)
    if len(error_lines(r.stderr)) != 1:
        mpitest.fail("the error should be printed once", r)
    # HDF5 may leave its end-of-data mark past what reached the disk: the
    # copy is cleared as the error message says.
    copy = os.path.join(tmp, "copy.h5")
    shutil.copy(out, copy)
    subprocess.run(["h5clear", "-s", "--increment", copy], check=True, capture_output=True)
    with h5py.File(copy, "r") as f, h5py.File(ref, "r") as g:
        status = f["provenance/status"][()].decode()
        simulated = float(f["provenance/simulated_ms"][()])
        for pop in ("exc", "inh"):
            t, n = f["spikes"][pop]["timestamps"][()], f["spikes"][pop]["node_ids"][()]
            rt, rn = g["spikes"][pop]["timestamps"][()], g["spikes"][pop]["node_ids"][()]
            due = int((rt <= simulated).sum())
            if len(t) != due or not ((t == rt[:due]).all() and (n == rn[:due]).all()):
                mpitest.fail("%s: the spikes kept are not the unbroken run's to %g ms"
                             % (pop, simulated), r)
    if status != "failed" or not 0 < simulated < 12000:
        mpitest.fail("status %r at %g ms" % (status, simulated), r)
    print("ok 2 ranks on a full disk: exit 74, the error once, status failed at %g ms, "
          "spikes those of an unbroken run" % simulated)


with mpitest.temporary_dir() as tmp:
    if CASE == "state":
        same_failure(tmp, DIVERGING, [], [2, 4],
                     "population 'izh' neuron 2: state variable V_m = nan mV at 300 ms")
    elif CASE == "state_overlap":
        same_failure(tmp, DIVERGING_OVERLAP, [], [2, 4],
                     "population 'izh' neuron 2: state variable V_m = nan mV at 300 ms",
                     overlap_serial=True)
    elif CASE == "update":
        plugin = os.path.join(os.environ["SPIKELINE_TEST_PLUGIN_DIR"],
                              "libtest_plugin_update_error.so")
        same_failure(tmp, UPDATE, ["--plugin", plugin], [2],
                     "update failed at step 50 (5 ms): the membrane of neuron 0")
    elif CASE == "killed":
        killed(tmp)
    elif CASE == "disk":
        disk_full(tmp)
    else:
        mpitest.fail("unknown case %r" % CASE)
