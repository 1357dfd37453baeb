"""`spikeline inspect` on damaged files: metadata that a closed spikeline
file cannot have (made here with h5py from a good run's output) is reported
with exit 65 and a message naming the dataset or attribute; the summary is
still printed. A path that is not a regular file (a FIFO, a device, a
directory) is refused before it is opened (66), never waited on."""

import os
import shutil
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_DATAERR, EX_NOINPUT, TempDir, check, expect_exit,  # noqa: E402
                     expect_in, run_ok, spikeline, write)

import h5py  # noqa: E402
import numpy as np  # noqa: E402

CONFIG = clitest.SMALL_NETWORK + """
[[record]]
population = "exc"
variables = ["V_m"]
interval = 10.0
"""

_good = {}


def good_file(tmp):
    """A copy of one good run's output (made once per script run)."""
    if "path" not in _good:
        _good["dir"] = TempDir()
        d = _good["dir"].__enter__()
        cfg = write(os.path.join(d, "good.toml"), CONFIG)
        _good["path"] = os.path.join(d, "good.h5")
        run_ok(["run", cfg, "-o", _good["path"], "-q"], cwd=d)
    path = os.path.join(tmp, "damaged.h5")
    shutil.copy(_good["path"], path)
    return path


def test_good_file_has_no_problems():
    with TempDir() as tmp:
        r = run_ok(["inspect", good_file(tmp)])
        check("problems" not in r.stdout, "a good file shows problems:\n" + r.stdout)
        check(r.stderr == "", "a good file prints to stderr:\n" + r.stderr)


def damage_case(damage, fragments):
    """Damages a copy of the good file with `damage(h5py.File)` and expects
    exit 65, each fragment on stderr (and in the summary's problems), and
    the rest of the summary on stdout."""
    def test():
        with TempDir() as tmp:
            path = good_file(tmp)
            with h5py.File(path, "r+") as f:
                damage(f)
            r = spikeline(["inspect", path])
            expect_exit(r, EX_DATAERR)
            check(r.stderr.startswith("spikeline: error: %s: damaged or inconsistent metadata"
                                      % path), "stderr:\n" + r.describe())
            for fragment in fragments:
                expect_in(r.stderr, fragment, r=r)
                expect_in(r.stdout, fragment, "stdout", r=r)
            expect_in(r.stdout, "\nspikes\n", "stdout", r=r)
            expect_in(r.stdout, "\nproblems\n", "stdout", r=r)
    return test


def delete(name):
    def damage(f):
        del f[name]
    return damage


def replace(name, value):
    def damage(f):
        del f[name]
        f[name] = value
    return damage


def set_attr(name, attr, value, dtype=None):
    def damage(f):
        if dtype is None:
            f[name].attrs[attr] = value
        else:
            f[name].attrs.create(attr, value, dtype=dtype)
    return damage


def del_attr(name, attr):
    def damage(f):
        del f[name].attrs[attr]
    return damage


SORTING = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")

test_status_missing = damage_case(
    delete("provenance/status"), ["dataset /provenance/status is missing"])
test_status_unknown = damage_case(
    replace("provenance/status", np.bytes_("finished")),
    ["/provenance/status is 'finished': valid are running, complete, interrupted, failed"])
test_seed_wrong_type = damage_case(
    replace("provenance/seed", np.bytes_("three")),
    ["/provenance/seed holds string values, expected an integer"])
test_dt_wrong_type = damage_case(
    replace("provenance/dt_ms", np.int32(1)),
    ["/provenance/dt_ms holds integer values, expected a number (ms)"])
test_dt_negative = damage_case(
    replace("provenance/dt_ms", np.float64(-0.1)),
    ["/provenance/dt_ms is -0.1: it must be finite and > 0"])
test_simulated_missing = damage_case(
    delete("provenance/simulated_ms"), ["dataset /provenance/simulated_ms is missing"])
test_threads_array = damage_case(
    replace("provenance/threads", np.array([1, 2], dtype=np.int32)),
    ["/provenance/threads holds 2 values, expected one"])


def drop_last_node_id(f):
    ids = f["spikes/exc/node_ids"][:-1]
    replace("spikes/exc/node_ids", ids)(f)


test_lengths_differ = damage_case(drop_last_node_id, ["/spikes/exc: ", " timestamps but ", " node ids"])
test_sorting_unknown_string = damage_case(
    set_attr("spikes/exc", "sorting", np.bytes_("by_magic")),
    ["/spikes/exc: attribute sorting is 'by_magic': valid are none (0), by_id (1), by_time (2)"])
test_sorting_unknown_enum_value = damage_case(
    set_attr("spikes/exc", "sorting", 7, dtype=SORTING),
    ["/spikes/exc: attribute sorting holds a value that is none of its enum's names"])
test_sorting_unknown_integer = damage_case(
    set_attr("spikes/exc", "sorting", 5, dtype="i4"),
    ["/spikes/exc: attribute sorting is 5"])
test_sorting_missing = damage_case(
    del_attr("spikes/exc", "sorting"), ["/spikes/exc has no attribute sorting"])
test_node_count_wrong_type = damage_case(
    set_attr("spikes/exc", "node_count", np.bytes_("ten")),
    ["/spikes/exc: attribute node_count holds string (1 values), expected one integer"])
test_node_count_below_ids = damage_case(
    set_attr("spikes/exc", "node_count", 2, dtype="u8"),
    ["/spikes/exc/node_ids holds node 9, but attribute node_count is 2"])
test_times_out_of_order = damage_case(
    lambda f: f["spikes/exc/timestamps"].__setitem__(0, 1e9),
    ["/spikes/exc/timestamps are not in time order, but attribute sorting is by_time"])
test_timestamps_strings = damage_case(
    replace("spikes/exc/timestamps", np.array([b"a", b"b"])),
    ["/spikes/exc: timestamps hold string values"])
test_edges_without_population = damage_case(
    del_attr("edges/gen_to_exc/source_node_id", "node_population"),
    ["/edges/gen_to_exc/source_node_id has no string attribute node_population"])
test_edges_lengths_differ = damage_case(
    replace("edges/gen_to_exc/target_node_id", np.zeros(3, dtype=np.uint64)),
    ["/edges/gen_to_exc: 200 source_node_id but 3 target_node_id"])
test_report_time_damaged = damage_case(
    replace("report/exc/mapping/time", np.zeros(2)),
    ["/report/exc/mapping/time holds 2 values, expected 3"])


def test_several_problems_are_all_named():
    with TempDir() as tmp:
        path = good_file(tmp)
        with h5py.File(path, "r+") as f:
            del f["provenance/status"]
            del f["spikes/exc"].attrs["sorting"]
        r = spikeline(["inspect", path])
        expect_exit(r, EX_DATAERR)
        expect_in(r.stderr, "(2 problems): dataset /provenance/status is missing; /spikes/exc "
                  "has no attribute sorting", r=r)


def test_foreign_sonata_file_is_not_held_to_provenance():
    """A SONATA spikes file from another tool (no /provenance, no sorting
    attribute) is summarised, exit 0."""
    with TempDir() as tmp:
        path = os.path.join(tmp, "other.h5")
        with h5py.File(path, "w") as f:
            g = f.create_group("spikes/pop")
            g["timestamps"] = np.array([1.0, 2.0, 3.0])
            g["node_ids"] = np.array([0, 1, 0], dtype=np.uint64)
        r = run_ok(["inspect", path])
        expect_in(r.stdout, "unknown (no /provenance/status)", "stdout", r=r)


def not_regular_case(make, fragment):
    def test():
        with TempDir() as tmp:
            path = make(tmp)
            # A timeout well below clitest's: a hang is a failure, not a wait.
            r = spikeline(["inspect", path], timeout=10)
            expect_exit(r, EX_NOINPUT)
            expect_in(r.stderr, "spikeline: error: %s: is %s, not an HDF5 file: only regular "
                      "files are read" % (path, fragment), r=r)
    return test


def make_fifo(tmp):
    path = os.path.join(tmp, "pipe.h5")
    os.mkfifo(path)
    return path


test_fifo_is_refused = not_regular_case(make_fifo, "a FIFO (named pipe)")
test_device_is_refused = not_regular_case(lambda tmp: "/dev/null", "a character device")
test_directory_is_refused = not_regular_case(lambda tmp: tmp, "a directory")


def test_fifo_edges_file_is_refused():
    """An explicit projection's edges file goes through the same check."""
    with TempDir() as tmp:
        make_fifo(tmp)  # pipe.h5, named by the config
        cfg = write(os.path.join(tmp, "edges.toml"), CONFIG.replace(
            'rule = "all_to_all"', 'rule = "explicit"\nfile = "pipe.h5"'))
        r = spikeline(["validate", cfg], timeout=10)
        expect_exit(r, EX_NOINPUT)
        expect_in(r.stderr, "is a FIFO (named pipe), not an HDF5 file", r=r)


if __name__ == "__main__":
    try:
        clitest.main(globals())
    finally:
        if "dir" in _good:
            _good["dir"].__exit__(None, None, None)
