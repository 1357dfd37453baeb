"""Creating the output never harms what is at its path before the run is
known to start (docs/output.md, "Where the file is created").

The output is created under a temporary name beside the target
(".NAME.tmp-XXXXXX") and renamed over the target once it is laid out, after
the build: a reader holding the old file keeps it, a failure at creation
leaves it byte-identical, and a path that is not a regular file (a device,
a FIFO, a directory) is refused (73) without being touched. No file a run
writes may be one it reads (the config, an edges file, a spike_times_file,
a [task] file, a reward input) or its other output: refused before the
build, 64 when both names come from the command line, else 73, naming both.
"""

import os
import resource
import signal
import stat
import sys
import time

import h5py

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CANTCREAT, EX_USAGE, TempDir, check, check_equal, expect_exit,  # noqa: E402
                     expect_in, read_bytes, run_ok, spikeline, write)

CONFIG = clitest.SMALL_NETWORK


def listing(d):
    return sorted(os.listdir(d))


def refused(r, code, fragments):
    expect_exit(r, code)
    check(r.stderr.startswith("spikeline: error: "), "no error line\n" + r.describe())
    for f in fragments:
        expect_in(r.stderr, f, r=r)
    check("build " not in r.stderr, "refused after the build\n" + r.describe())


def test_a_reader_holding_the_old_file_keeps_it():
    """Was: the file a reader held open was truncated to 0 bytes and the run
    failed (73). Now the run replaces the path with its new file and the
    reader goes on reading the old one, whole."""
    with TempDir() as d:
        cfg = write(os.path.join(d, "c.toml"), CONFIG)
        out = os.path.join(d, "out.h5")
        run_ok(["run", cfg, "-o", out, "-q", "-d", "20"], cwd=d)
        with h5py.File(out, "r") as held:
            before = len(held["spikes/exc/timestamps"])
            run_ok(["run", cfg, "-o", out, "-q", "-d", "50"], cwd=d)
            check_equal(len(held["spikes/exc/timestamps"][()]), before, "spikes the reader holds")
            check(held["provenance/simulated_ms"][()] == 20.0, "the reader's file changed")
        with h5py.File(out, "r") as f:
            check_equal(float(f["provenance/simulated_ms"][()]), 50.0, "the new file's simulated_ms")
        check_equal(listing(d), ["c.toml", "out.h5"], "files")


def test_a_failure_at_creation_leaves_the_old_file_intact():
    """A file too small to be laid out (a file size limit: writes fail as on
    a full disk): 73, and the earlier results at the path are byte-identical
    (were removed), no temporary file is left."""
    with TempDir() as d:
        cfg = write(os.path.join(d, "c.toml"), CONFIG)
        out = os.path.join(d, "out.h5")
        run_ok(["run", cfg, "-o", out, "-q"], cwd=d)
        before = read_bytes(out)

        def small():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 10, 16 << 10))

        r = spikeline(["run", clitest.example("coba.toml"), "-d", "100", "-o", out, "-q"], cwd=d,
                      preexec_fn=small)
        expect_exit(r, EX_CANTCREAT)
        expect_in(r.stderr, out, r=r)
        check(read_bytes(out) == before, "the earlier output changed")
        check_equal(listing(d), ["c.toml", "out.h5"], "files")


def test_paths_that_are_not_regular_files_are_refused_untouched():
    """A device node (was: unlinked, as root, -o /dev/null), a FIFO, a
    directory: 73 before the build, naming what it is; still there after.
    The device is a copy of /dev/null's node made in the test's folder."""
    with TempDir() as d:
        cfg = write(os.path.join(d, "c.toml"), CONFIG)
        cases = [("fifo", lambda p: os.mkfifo(p), "is a FIFO", stat.S_ISFIFO),
                 ("dir", lambda p: os.mkdir(p), "is a directory", stat.S_ISDIR)]
        if os.geteuid() == 0:
            cases.append(("null", lambda p: os.mknod(p, stat.S_IFCHR | 0o666, os.makedev(1, 3)),
                          "is a character device", stat.S_ISCHR))
        else:
            print("device node case skipped: not root")
        for name, make, what, is_kind in cases:
            path = os.path.join(d, name)
            make(path)
            for flag in ("-o", "--checkpoint"):
                r = spikeline(["run", cfg, flag, path, "-q"] +
                              (["-o", os.path.join(d, "x.h5")] if flag != "-o" else []), cwd=d)
                refused(r, EX_CANTCREAT, ["'%s' %s" % (path, what), "not a regular file"])
                check(is_kind(os.lstat(path).st_mode), "%s was replaced" % path)
            check(not os.path.exists(os.path.join(d, "x.h5")), "an output was created")


def test_a_symbolic_link_is_followed():
    """-o LINK writes the file the link points to (as before: the link stays)."""
    with TempDir() as d:
        cfg = write(os.path.join(d, "c.toml"), CONFIG)
        os.mkdir(os.path.join(d, "data"))
        real = os.path.join(d, "data", "real.h5")
        run_ok(["run", cfg, "-o", real, "-q", "-d", "20"], cwd=d)
        os.symlink(real, os.path.join(d, "link.h5"))
        run_ok(["run", cfg, "-o", "link.h5", "-q", "-d", "30"], cwd=d)
        check(os.path.islink(os.path.join(d, "link.h5")), "the link was replaced by a file")
        with h5py.File(real, "r") as f:
            check_equal(float(f["provenance/simulated_ms"][()]), 30.0, "simulated_ms of the target")
        check_equal(listing(os.path.join(d, "data")), ["real.h5"], "files beside the target")


def test_stale_temporaries_are_removed():
    """A run killed while its file was being laid out leaves its temporary
    file: the next output created there removes it once a minute old."""
    with TempDir() as d:
        cfg = write(os.path.join(d, "c.toml"), CONFIG)
        old = write(os.path.join(d, ".out.h5.tmp-AbC123"), "killed")
        fresh = write(os.path.join(d, ".out.h5.tmp-XyZ789"), "being written")
        os.utime(old, (time.time() - 120, time.time() - 120))
        run_ok(["run", cfg, "-o", "out.h5", "-q"], cwd=d)
        check_equal(listing(d), [".out.h5.tmp-XyZ789", "c.toml", "out.h5"], "files")
        check(os.path.exists(fresh), "a fresh temporary file was removed")


def test_resume_continues_the_output_in_place_and_checks_its_checkpoint():
    """resume continues the run's own file where it is (no temporary name);
    a new --checkpoint naming that output is refused (73) before anything
    changes."""
    with TempDir() as d:
        cfg = write(os.path.join(d, "c.toml"), CONFIG)
        run_ok(["run", cfg, "-o", "out.h5", "--checkpoint", "ck.h5", "-d", "20", "-q"], cwd=d)
        before = read_bytes(os.path.join(d, "out.h5"))
        inode = os.stat(os.path.join(d, "out.h5")).st_ino
        r = spikeline(["resume", "ck.h5", "-d", "50", "--checkpoint", "./out.h5", "-q"], cwd=d)
        refused(r, EX_CANTCREAT, ["--checkpoint './out.h5'", "are the same file"])
        check(read_bytes(os.path.join(d, "out.h5")) == before, "out.h5 changed")
        run_ok(["resume", "ck.h5", "-d", "50", "-q"], cwd=d)
        check_equal(os.stat(os.path.join(d, "out.h5")).st_ino, inode, "the output's inode")
        check_equal(clitest.status_of(os.path.join(d, "out.h5")), "complete", "status")
        check_equal(listing(d), ["c.toml", "ck.h5", "out.h5"], "files")


def clash(args_of, files, code, fragments, first_run=False):
    """Runs `spikeline run` with args_of(d) in a folder holding `files` and
    the config (c.toml; with first_run, also first.h5 written by a run of
    it): refused with `code` and the fragments, every file byte-identical,
    nothing created."""
    def test():
        with TempDir() as d:
            write(os.path.join(d, "c.toml"), CONFIG)
            for name, text in files.items():
                write(os.path.join(d, name), text)
            if first_run:
                run_ok(["run", "c.toml", "-o", "first.h5", "-q"], cwd=d)
            before = {n: read_bytes(os.path.join(d, n)) for n in os.listdir(d)}
            r = spikeline(["run"] + args_of(d), cwd=d)
            refused(r, code, [f.format(d=d) for f in fragments])
            check_equal(listing(d), sorted(before), "files")
            for n, b in before.items():
                check(read_bytes(os.path.join(d, n)) == b, "%s changed" % n)
    return test


SPIKE_FILE_CONFIG = CONFIG.replace('model = "poisson_generator"\nsize = 20\nparams = { rate = 200.0 }',
                                   'model = "spike_generator"\nsize = 20\n'
                                   'params = { spike_times_file = "spikes.txt" }')
EDGES_CONFIG = CONFIG.replace('rule = "all_to_all"\nweight = 5.0\ndelay = 1.0',
                              'rule = "explicit"\nfile = "first.h5"\nedge_population = "gen_to_exc"')

test_output_is_the_config = clash(
    lambda d: ["c.toml", "-o", "./c.toml"], {}, EX_USAGE,
    ["--output './c.toml' and the config file 'c.toml' are the same file",
     "a run must not write over its own input"])
test_checkpoint_is_the_config = clash(
    lambda d: ["c.toml", "--checkpoint", os.path.join(d, "c.toml")], {}, EX_USAGE,
    ["--checkpoint '{d}/c.toml' and the config file 'c.toml' are the same file"])
test_output_is_the_checkpoint_by_another_name = clash(
    lambda d: ["c.toml", "-o", "x.h5", "--checkpoint", os.path.join(d, "sub", "..", "x.h5")], {},
    EX_USAGE, ["--output 'x.h5' and --checkpoint", "must be different files"])
test_output_is_the_reward_input = clash(
    lambda d: ["c.toml", "-o", "r.txt", "--reward-input", "./r.txt"], {"r.txt": "dopamine 1\n"},
    EX_USAGE, ["--output 'r.txt' and --reward-input './r.txt' are the same file"])
test_config_output_is_the_config = clash(
    lambda d: ["self.toml", "-q"], {"self.toml": '[output]\nfile = "self.toml"\n' + CONFIG},
    EX_CANTCREAT, ["the output file (output.file) 'self.toml' and the config file 'self.toml'"])
test_output_is_a_spike_times_file = clash(
    lambda d: ["s.toml", "-o", "spikes.txt"], {"s.toml": SPIKE_FILE_CONFIG, "spikes.txt": "0 1.0\n"},
    EX_CANTCREAT, ["--output 'spikes.txt' and population 'gen' spike_times_file 'spikes.txt'"])
test_output_is_an_edges_file = clash(
    lambda d: ["e.toml", "-o", "first.h5"], {"e.toml": EDGES_CONFIG}, EX_CANTCREAT,
    ["--output 'first.h5' and projection 'gen_to_exc' file (edges) 'first.h5'"],
    first_run=True)


if __name__ == "__main__":
    clitest.main(globals())
