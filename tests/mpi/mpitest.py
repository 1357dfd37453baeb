"""Shared helpers of the MPI tests (tests/mpi/test_*.py).

Each script is run by ctest as

    /usr/bin/python3 SCRIPT SPIKELINE_BINARY SOURCE_DIR MPIEXEC [ARG...]

with SPIKELINE_MPIEXEC_FLAGS in the environment (','-separated: what
mpirun needs here, e.g. --allow-run-as-root --oversubscribe as root in a
container). Uses only the standard library, numpy and h5py.
"""

import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

BINARY = os.path.abspath(sys.argv[1])
SOURCE_DIR = os.path.abspath(sys.argv[2])
MPIEXEC = sys.argv[3]
ARGS = sys.argv[4:]
FLAGS = [f for f in os.environ.get("SPIKELINE_MPIEXEC_FLAGS", "").split(",") if f]
# No run of these tests takes long: a hang (a collective one rank skipped)
# fails here rather than at the ctest TIMEOUT.
RUN_TIMEOUT_S = 100


# Records for examples/coba.toml with plasticity on exc_to_exc: traces of
# neurons on every rank (of 4) and chosen synapses' weights.
COBA_RECORDS = """
[[record]]
population = "exc"
variables = ["V_m", "g_ex"]
nodes = [0, 1, 800, 1600, 2400, 3199]
interval = 1.0

[[record_weights]]
name = "ids"
projection = "exc_to_exc"
synapses = [0, 5, 17, 40000, 123456, 190000]
interval = 20.0
"""


def run(args, ranks=None, cwd=None, env=None):
    """spikeline ARGS, in one process (ranks None) or under mpirun -np RANKS;
    ENV: variables to set besides this process's (passed to every rank)."""
    cmd = [BINARY] + list(args)
    if ranks is not None:
        exported = []
        for name in env or {}:
            exported += ["-x", name]
        cmd = [MPIEXEC, "-np", str(ranks)] + FLAGS + exported + cmd
    full = dict(os.environ, **env) if env else None
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                          env=full)


def datasets(path, group="spikes"):
    """Every dataset under /GROUP, by its path (none when the file has no such group)."""
    out = {}
    with h5py.File(path, "r") as f:
        if group in f:
            f[group].visititems(
                lambda name, obj: out.__setitem__(name, obj[()])
                if isinstance(obj, h5py.Dataset) else None)
    return out


def spikes(path):
    return datasets(path, "spikes")


def same_datasets(a, b, group="spikes"):
    """Why /GROUP of two files differs, or None when it is equal, bit for bit."""
    x, y = datasets(a, group), datasets(b, group)
    if sorted(x) != sorted(y):
        return "datasets differ: %s vs %s" % (sorted(x), sorted(y))
    for name in x:
        if x[name].dtype != y[name].dtype or not np.array_equal(x[name], y[name]):
            return "/%s/%s differs (%d vs %d values)" % (group, name, len(x[name]), len(y[name]))
    return None


def same_output(a, b):
    """Why two output files differ, or None when every dataset outside
    /provenance (run id, times, paths) is equal, bit for bit: spikes,
    traces, weight records, neuromodulators, edges."""
    names = {}
    for path in (a, b):
        with h5py.File(path, "r") as f:
            found = []
            f.visititems(lambda name, obj: found.append(name)
                         if isinstance(obj, h5py.Dataset) and not name.startswith("provenance")
                         else None)
            names[path] = sorted(found)
    if names[a] != names[b]:
        return "datasets differ: %s vs %s" % (names[a], names[b])
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for name in names[a]:
            x, y = fa[name][()], fb[name][()]
            if x.dtype != y.dtype or not np.array_equal(x, y):
                return "/%s differs (%d vs %d values)" % (name, np.size(x), np.size(y))
    return None


def same_spikes(a, b):
    return same_datasets(a, b, "spikes")


def strip_tables(text, header):
    """TOML text without its [[header]] tables (e.g. "record")."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        s = line.strip()
        if s.startswith("["):
            skipping = s == "[[%s]]" % header
        if not skipping:
            out.append(line)
    return "".join(out)


def write_sonata_edges(path, population, source, target, src, tgt, weight, delay,
                       index=True, grouped=False):
    """A SONATA edges file; with index, indices/target_to_source as
    libsonata writes it (each target's runs of consecutive edges); grouped:
    weights in two groups whose rows run backwards."""
    n = len(src)
    with h5py.File(path, "w") as f:
        g = f.create_group("edges/" + population)
        g["source_node_id"] = np.asarray(src, np.uint64)
        g["source_node_id"].attrs["node_population"] = source
        g["target_node_id"] = np.asarray(tgt, np.uint64)
        g["target_node_id"].attrs["node_population"] = target
        g["edge_type_id"] = np.zeros(n, np.int64)
        gid = (np.arange(n) % 2) if grouped else np.zeros(n, np.int64)
        g["edge_group_id"] = gid
        rows = np.zeros(n, np.int64)
        for k in (0, 1):
            at = np.where(gid == k)[0]
            rows[at] = np.arange(len(at))[::-1] if grouped else np.arange(len(at))
            order = np.argsort(rows[at])
            if len(at):
                g["%d/syn_weight" % k] = np.asarray(weight, np.float32)[at[order]]
                g["%d/delay" % k] = np.asarray(delay, np.float32)[at[order]]
        g["edge_group_index"] = rows
        if index:
            node_rows, edge_rows = [], []
            for t in range(int(max(tgt)) + 1):
                runs = []
                for e in np.where(tgt == t)[0]:
                    if runs and runs[-1][1] == e:
                        runs[-1][1] = e + 1
                    else:
                        runs.append([e, e + 1])
                node_rows.append((len(edge_rows), len(edge_rows) + len(runs)))
                edge_rows.extend(runs)
            i = g.create_group("indices/target_to_source")
            i["node_id_to_range"] = np.array(node_rows, np.uint64)
            i["range_to_edge_id"] = np.array(edge_rows, np.uint64)


def fail(message, result=None):
    sys.stderr.write("FAIL: %s\n" % message)
    if result is not None:
        sys.stderr.write("command: %s\nexit %d\nstdout:\n%s\nstderr:\n%s\n"
                         % (" ".join(result.args), result.returncode, result.stdout, result.stderr))
    sys.exit(1)


def temporary_dir():
    return tempfile.TemporaryDirectory(prefix="spikeline_mpi_")
