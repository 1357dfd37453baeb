"""A full disk: the output cannot grow (a file size limit, RLIMIT_FSIZE,
makes writes fail as ENOSPC would, with EFBIG). The run stops with a clear
error and exit 74 (73 when the file cannot even be laid out), prints its
summary, and never leaves a file that claims to be complete: the file is
marked "failed" and holds exactly the spikes up to its
/provenance/simulated_ms (the last flush that reached the disk), identical
to a run that did not fail. HDF5 may leave the file's end-of-data mark past
what reached the disk; `h5clear -s --increment` (the command the error
names) makes it readable.
"""

import os
import resource
import shutil
import signal
import subprocess
import sys

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CANTCREAT, Failure, TempDir, check, check_equal, example,  # noqa: E402
                     expect_in, run_ok, text_attr)

EX_IOERR = 74


def limited(bytes_):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (bytes_, bytes_))
    return pre


def run_limited(args, limit, cwd):
    r = clitest.spikeline(args, cwd=cwd, preexec_fn=limited(limit), timeout=300)
    return r


def readable_copy(path, d):
    """A copy h5py can open (h5clear on it, as the error message says)."""
    copy = os.path.join(d, "recovered.h5")
    shutil.copy(path, copy)
    p = subprocess.run(["h5clear", "-s", "--increment", copy], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    check(p.returncode == 0, "h5clear failed: " + p.stdout)
    return copy


def test_disk_full_mid_run():
    with TempDir() as d:
        ref = os.path.join(d, "ref.h5")
        run_ok(["run", example("coba.toml"), "-d", "12000", "-o", ref, "-q",
                "--set", "output.edges=false"], cwd=d)
        with h5py.File(ref, "r") as f:
            reference = {p: clitest.read_spikes(f, p) for p in ("exc", "inh")}
        for limit_mb in (4, 9):
            out = os.path.join(d, "full%d.h5" % limit_mb)
            r = run_limited(["run", example("coba.toml"), "-d", "12000", "-o", out, "-q",
                             "--set", "output.edges=false"], limit_mb << 20, d)
            check_equal(r.returncode, EX_IOERR, "exit code on a full disk\n" + r.describe())
            expect_in(r.stderr, "File too large", r=r)
            expect_in(r.stderr, "spikeline: failed after", r=r)
            expect_in(r.stderr, "h5clear -s --increment " + out, r=r)
            with h5py.File(readable_copy(out, d), "r") as f:
                check_equal(text_attr(f["provenance/status"][()]), "failed", "status")
                simulated = float(f["provenance/simulated_ms"][()])
                check(0 < simulated < 12000, "simulated_ms %g" % simulated)
                for pop in ("exc", "inh"):
                    t, n = clitest.read_spikes(f, pop)
                    rt, rn = reference[pop]
                    due = int(np.count_nonzero(rt <= simulated))
                    check_equal(len(t), due, "%s spikes up to %g ms" % (pop, simulated))
                    check(np.array_equal(t, rt[:due]) and np.array_equal(n, rn[:due]),
                          pop + ": the spikes kept differ from an unbroken run's")
            os.remove(out)


def test_disk_full_at_creation():
    """The file cannot even be laid out: 73, and no unreadable file left."""
    with TempDir() as d:
        out = os.path.join(d, "tiny.h5")
        r = run_limited(["run", example("coba.toml"), "-d", "100", "-o", out, "-q"], 16 << 10, d)
        check_equal(r.returncode, EX_CANTCREAT, "exit code\n" + r.describe())
        expect_in(r.stderr, out, r=r)
        expect_in(r.stderr, "File too large", r=r)
        check(not os.path.exists(out), "a half-created output file was left behind")


def test_checkpoint_on_a_full_disk_keeps_the_previous_one():
    """The next checkpoint no longer fits: the run fails (74), the previous
    checkpoint still resumes. (No output file here: the limit is per file.)"""
    with TempDir() as d:
        ck = os.path.join(d, "ck.h5")
        no_output = ["--set", 'output.file=""']
        run_ok(["run", example("coba.toml"), "-d", "100", "-q", "--checkpoint", ck] + no_output,
               cwd=d)
        before = clitest.read_bytes(ck)
        r = run_limited(["run", example("coba.toml"), "-d", "100", "-q", "--checkpoint", ck,
                         "--checkpoint-every", "50"] + no_output, len(before) // 2, d)
        check_equal(r.returncode, EX_IOERR, "exit code\n" + r.describe())
        expect_in(r.stderr, "checkpoint " + ck, r=r)
        expect_in(r.stderr, "failed after 50.0 ms", r=r)
        check(clitest.read_bytes(ck) == before, "the previous checkpoint was changed")
        leftovers = [f for f in os.listdir(d) if ".tmp-" in f]
        check(not leftovers, "temporary files left: %s" % leftovers)
        r = run_ok(["resume", ck, "-d", "150", "-q"], cwd=d)
        expect_in(r.stderr, "complete after 150.0 ms", r=r)


clitest.main(globals())
