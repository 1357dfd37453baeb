"""Helpers shared by the benchmark scripts."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd):
    """Runs cmd; returns (stdout, wall seconds, peak RSS MiB) of that child
    (os.wait4's rusage). That peak includes this process's own peak, which
    Linux carries across fork and exec into the child's ru_maxrss: after the
    suite has read a large output file, every later child looks at least as
    large. spikeline runs report their own (own_rss_mib). Output goes to
    files, not pipes, so a child that prints a lot cannot block while we
    wait for it."""
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


def own_rss_mib(summary, fallback):
    """The peak RSS a spikeline run measured itself (its summary's
    peak_rss_bytes, from /proc/self/status), else the parent's view."""
    own = summary.get("peak_rss_bytes", 0)
    return own / 2**20 if own > 0 else fallback


def commit():
    """The short commit of the source tree being benchmarked."""
    return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()


def spikeline_output(path):
    """The run's /provenance/summary (dict), its spike count and a digest of
    every population's spikes (node ids and times, in file order): equal
    digests are bit-identical spikes."""
    import h5py  # Debian's python3-h5py: only for the scripts that read output
    digest = hashlib.sha256()
    spikes = 0
    with h5py.File(path, "r") as f:
        summary = json.loads(f["provenance/summary"][0].decode())
        for pop in sorted(f["spikes"]):
            g = f["spikes"][pop]
            digest.update(pop.encode())
            # In slices, so that this process's peak stays small (see run()).
            for name in ("node_ids", "timestamps"):
                d = g[name]
                for start in range(0, d.shape[0], 1 << 20):
                    digest.update(d[start:start + (1 << 20)].tobytes())
            spikes += g["timestamps"].shape[0]
    return summary, spikes, digest.hexdigest()[:16]
