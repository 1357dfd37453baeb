"""Helpers shared by the benchmark scripts."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd):
    """Runs cmd; returns (stdout, wall seconds, peak RSS MiB) of that child
    alone (os.wait4 gives each child's own rusage). Output goes to files, not
    pipes, so a child that prints a lot cannot block while we wait for it."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = os.times()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(p.pid, 0)
        wall = os.times().elapsed - t0.elapsed
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), stderr[-3000:]))
    return stdout, wall, usage.ru_maxrss / 1024.0


def commit():
    """The short commit of the source tree being benchmarked."""
    return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
