"""Checkpoints written by K MPI ranks and resumed by K' (docs/mpi-design.md,
section 5.2, slice 4): the checkpoint a run at K ranks writes holds, field
by field, what one process writes with the same partitions; resumed at
another number of ranks, or without mpirun, the run ends with /spikes (and
/neuromodulators, if recorded) identical to one process's uninterrupted run;
more ranks than the checkpoint's partitions are refused.

    test_checkpoints.py SPIKELINE SOURCE_DIR MPIEXEC CASE

CASE "plastic": COBA with stdp and tsodyks_markram, 4 partitions,
checkpointed at 4 ranks midway, resumed at 2 ranks and in one process.
CASE "static": brunel, 2 partitions, checkpointed at 2 ranks, resumed in one
process; resumed at 4 ranks: refused.
CASE "unwritable": rank 0 cannot replace the checkpoint file (a directory
took its name during the run): every rank ends, the error said once, the
output marked failed.
"""

import os
import shutil
import subprocess
import time

import h5py
import numpy as np

import mpitest

# Different on every run, by design: the output file's identity (the
# resumed run checks it against the file's /provenance/run_id).
NOT_COMPARED = {"run/output/run_id"}

CASES = {
    "plastic": dict(
        records=mpitest.COBA_RECORDS, example="coba.toml", duration=300, midway=150, partitions=4, first=4, resumed=[2, None],
        sets=['projection.exc_to_exc.plasticity={rule="stdp", w_max=12.0, A_plus=0.5, '
              'A_minus=0.6}',
              'projection.exc_to_inh.plasticity={rule="tsodyks_markram", U=0.5, '
              'tau_rec=100.0}']),
    "static": dict(example="brunel.toml", duration=150, midway=75, partitions=2, first=2,
                   resumed=[None], sets=["output.edges=false"], refused=4),
}


def state(path):
    """The checkpoint's fields, by path under /state."""
    out = {}
    with h5py.File(path, "r") as f:
        f["state"].visititems(
            lambda name, obj: out.__setitem__(name, obj[()])
            if isinstance(obj, h5py.Dataset) else None)
    return out


def same_state(a, b):
    """Why two checkpoints' fields differ, or None when they are equal, bit for bit."""
    x, y = state(a), state(b)
    if sorted(x) != sorted(y):
        return "fields differ: only in the first %s, only in the second %s" % (
            sorted(set(x) - set(y))[:5], sorted(set(y) - set(x))[:5])
    for name in sorted(x):
        if name in NOT_COMPARED:
            continue
        u, v = np.asarray(x[name]), np.asarray(y[name])
        if u.dtype != v.dtype or u.shape != v.shape or u.tobytes() != v.tobytes():
            return "field %s differs (%s %s vs %s %s)" % (name, u.dtype, u.shape, v.dtype, v.shape)
    return None


def status(path):
    with h5py.File(path, "r") as f:
        return f["provenance/status"][()].decode()


def unwritable():
    with mpitest.temporary_dir() as tmp:
        shutil.copy(os.path.join(mpitest.SOURCE_DIR, "examples", "brunel.toml"), tmp)
        cmd = [mpitest.MPIEXEC, "-np", "2"] + mpitest.FLAGS + [
            mpitest.BINARY, "run", "brunel.toml", "-q", "-o", "out.h5", "-d", "600000",
            "--set", "output.edges=false", "--checkpoint", "c.h5", "--checkpoint-every", "20"]
        p = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        ckpt = os.path.join(tmp, "c.h5")
        deadline = time.monotonic() + 60
        # Once the first checkpoint is there, its name becomes a directory
        # that is not empty, which the next checkpoint's rename cannot replace.
        while True:
            if time.monotonic() > deadline or p.poll() is not None:
                p.kill()
                out, err = p.communicate()
                mpitest.fail("no checkpoint appeared, or the run ended first:\n" + err)
            try:
                os.remove(ckpt)
                os.mkdir(ckpt)
                break
            except (FileNotFoundError, FileExistsError):
                time.sleep(0.02)
        open(os.path.join(ckpt, "keep"), "w").close()
        swapped = time.monotonic()
        try:
            out, err = p.communicate(timeout=mpitest.RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            p.kill()
            mpitest.fail("the run did not end after rank 0 failed to write its checkpoint")
        took = time.monotonic() - swapped
        r = subprocess.CompletedProcess(cmd, p.returncode, out, err)
        if p.returncode == 0 or err.count("spikeline: error:") != 1 or "c.h5" not in err:
            mpitest.fail("expected a failure naming the checkpoint, said once", r)
        if status(os.path.join(tmp, "out.h5")) != "failed":
            mpitest.fail("the output is %r, not failed" % status(os.path.join(tmp, "out.h5")), r)
        print("ok checkpoint unwritable on rank 0: every rank ended %.1f s later, exit %d, "
              "output failed: %s" % (took, p.returncode,
                                    err.split("spikeline: error:")[1].splitlines()[0].strip()))


def groups(path):
    import h5py
    with h5py.File(path, "r") as f:
        return ", ".join("/%s" % g for g in f if g != "provenance")


def main():
    if mpitest.ARGS[0] == "unwritable":
        return unwritable()
    case = CASES[mpitest.ARGS[0]]
    with mpitest.temporary_dir() as tmp:
        with open(os.path.join(mpitest.SOURCE_DIR, "examples", case["example"])) as f:
            text = f.read()
        config = os.path.join(tmp, "net.toml")
        with open(config, "w") as f:
            f.write(text + case.get("records", ""))
        sets = ["--set", "simulation.partitions=%d" % case["partitions"]]
        for s in case["sets"]:
            sets += ["--set", s]

        def run(args, ranks, what):
            r = mpitest.run(args, ranks=ranks, cwd=tmp)
            if r.returncode != 0:
                mpitest.fail(what + " failed", r)
            return r

        full = os.path.join(tmp, "full.h5")
        run(["run", config, "-q", "-o", full, "-d", str(case["duration"])] + sets, None,
            "the uninterrupted run")
        total = sum(len(v) for v in mpitest.spikes(full).values())
        if total < 1000:
            mpitest.fail("the uninterrupted run has only %d spike values: nothing to compare"
                         % total)

        # The first half in one process, then at K ranks, to the same
        # names (the checkpoint stores its own and the output's paths).
        first = ["run", config, "-q", "-o", "out.h5", "-d", str(case["midway"]),
                 "--checkpoint", "c.h5"] + sets
        run(first, None, "the first half in one process")
        shutil.copy(os.path.join(tmp, "c.h5"), os.path.join(tmp, "serial_c.h5"))
        k = case["first"]
        r = run(first, k, "the first half at %d ranks" % k)
        if r.stderr.count("spikeline: complete") != 1:
            mpitest.fail("expected one summary line, from rank 0", r)
        why = same_state(os.path.join(tmp, "serial_c.h5"), os.path.join(tmp, "c.h5"))
        if why:
            mpitest.fail("the checkpoint at %d ranks is not one process's: %s" % (k, why))
        print("ok checkpoint at %d ranks = one process's, %d fields" % (
            k, len(state(os.path.join(tmp, "c.h5")))))
        for name in ("c.h5", "out.h5"):
            shutil.copy(os.path.join(tmp, name), os.path.join(tmp, "k%d_" % k + name))

        if case.get("refused"):
            n = case["refused"]
            r = mpitest.run(["resume", "c.h5"], ranks=n, cwd=tmp)
            expected = "the checkpoint has %d partitions, fewer than the %d MPI ranks" % (
                case["partitions"], n)
            if r.returncode != 64 or expected not in r.stderr or \
                    r.stderr.count("spikeline: error:") != 1:
                mpitest.fail("resume at %d ranks of a %d-partition checkpoint: expected exit 64 "
                             "and %r once" % (n, case["partitions"], expected), r)
            print("ok resume at %d ranks refused" % n)

        for ranks in case["resumed"]:
            for name in ("c.h5", "out.h5"):
                shutil.copy(os.path.join(tmp, "k%d_" % k + name), os.path.join(tmp, name))
            where = "without mpirun" if ranks is None else "at %d ranks" % ranks
            r = run(["resume", "c.h5", "-q", "-d", str(case["duration"])], ranks,
                    "the resume " + where)
            out = os.path.join(tmp, "out.h5")
            why = mpitest.same_output(full, out)
            if why:
                mpitest.fail("checkpointed at %d ranks, resumed %s: %s" % (k, where, why))
            if status(out) != "complete":
                mpitest.fail("the resumed output is %r, not complete" % status(out))
            print("ok checkpointed at %d ranks, resumed %s: the output identical to the "
                  "uninterrupted run's (%d spike values; %s)"
                  % (k, where, total, groups(out)))


main()
