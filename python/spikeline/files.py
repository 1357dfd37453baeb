"""Reading SONATA HDF5 files: spikeline's output and anyone else's.

    import spikeline
    with spikeline.open_file("coba.h5") as f:
        exc = f.spikes("exc")          # Spikes: times (ms), node_ids, node_count
        trains = exc.trains()          # one array of times per neuron
        df = f.spikes_frame()          # pandas: population, node_id, time_ms

Everything is read with h5py. A file whose writer still has it open (a run
in progress, or one killed by SIGKILL) is opened in SWMR mode and read as
far as it was flushed: spikes up to /provenance/simulated_ms, report frames
up to mapping/time's stop.
"""

import dataclasses
import json
import os

import h5py
import numpy as np


class FileError(Exception):
    """A file that cannot be read as asked: missing, not HDF5, or without
    the item (the message names the file, the item and what exists)."""

    def __init__(self, message, exit_code=65):
        super().__init__(message)
        self.exit_code = exit_code  # sysexits: 66 missing input, 65 bad data


SORTING_NAMES = ("none", "by_id", "by_time")


def text(value):
    """An HDF5 string as str: fixed-length strings come back from h5py as
    (null-padded) bytes, variable-length ones as str; a one-element array
    gives its element."""
    if isinstance(value, np.ndarray) and value.shape in ((), (1,)):
        value = value.reshape(-1)[0] if value.shape else value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).rstrip(b"\0").decode("utf-8", errors="replace")
    return str(value)


def _units_factor(dataset, what):
    """Factor that turns the dataset's time units into ms."""
    units = text(dataset.attrs["units"]).strip().lower() if "units" in dataset.attrs else "ms"
    factors = {"ms": 1.0, "msec": 1.0, "millisecond": 1.0, "milliseconds": 1.0,
               "s": 1000.0, "sec": 1000.0, "second": 1000.0, "seconds": 1000.0}
    if units not in factors:
        raise FileError("%s: time units %r are not known (valid: ms, s)" % (what, units))
    return factors[units]


def sorting_of(attrs):
    """The `sorting` attribute of a spike group as one of none/by_id/by_time,
    whether stored as SONATA's enum over uint8 or as a string; None when
    absent."""
    if "sorting" not in attrs:
        return None
    value = attrs["sorting"]
    dtype = attrs.get_id("sorting").dtype
    enum = h5py.check_enum_dtype(dtype)
    if enum is not None:
        by_value = {v: k for k, v in enum.items()}
        return by_value.get(int(np.asarray(value).reshape(-1)[0]), "unknown")
    if np.issubdtype(np.asarray(value).dtype, np.integer):
        v = int(np.asarray(value).reshape(-1)[0])
        return SORTING_NAMES[v] if 0 <= v < len(SORTING_NAMES) else "unknown"
    name = text(value)
    return {"time": "by_time", "id": "by_id"}.get(name, name)


class Spikes:
    """The spikes of one population: `times` (float64, ms) and `node_ids`
    (uint64, 0-based within the population), in the file's order
    (`sorting` says which), `node_count` neurons, observed over
    [t_start, t_stop] ms."""

    def __init__(self, population, times, node_ids, node_count, t_start=0.0, t_stop=None,
                 sorting=None):
        self.population = population
        self.times = np.asarray(times, dtype=np.float64)
        self.node_ids = np.asarray(node_ids, dtype=np.uint64)
        if len(self.times) != len(self.node_ids):
            raise FileError("population %r: %d timestamps but %d node_ids" %
                            (population, len(self.times), len(self.node_ids)))
        if node_count is None:
            node_count = int(self.node_ids.max()) + 1 if len(self.node_ids) else 0
        self.node_count = int(node_count)
        self.t_start = float(t_start)
        if t_stop is None:
            t_stop = float(self.times.max()) if len(self.times) else self.t_start
        self.t_stop = float(t_stop)
        self.sorting = sorting

    def __len__(self):
        return len(self.times)

    def __repr__(self):
        return "Spikes(%r: %d spikes, %d neurons, %g..%g ms, sorting=%s)" % (
            self.population, len(self), self.node_count, self.t_start, self.t_stop, self.sorting)

    @property
    def duration_ms(self):
        return self.t_stop - self.t_start

    def trains(self):
        """One sorted array of spike times (ms) per neuron: `trains()[i]` is
        neuron i's (empty for a silent neuron)."""
        order = np.lexsort((self.times, self.node_ids))
        ids = self.node_ids[order]
        times = self.times[order]
        bounds = np.searchsorted(ids, np.arange(self.node_count + 1, dtype=np.uint64))
        return [times[bounds[i]:bounds[i + 1]] for i in range(self.node_count)]

    def to_neo(self):
        """The trains as Neo `SpikeTrain`s (Debian's python3-neo), one per
        neuron, in ms over [t_start, t_stop], named "population[i]"."""
        try:
            import neo
            import quantities as pq
        except ImportError:
            raise ImportError("to_neo needs Neo: install Debian's python3-neo "
                              "(apt-get install python3-neo)") from None
        return [neo.SpikeTrain(t, units=pq.ms, t_start=self.t_start * pq.ms,
                               t_stop=max(self.t_stop, float(t[-1]) if len(t) else 0.0) * pq.ms,
                               name="%s[%d]" % (self.population, i),
                               population=self.population, node_id=i)  # annotations
                for i, t in enumerate(self.trains())]

    def frame(self):
        """A pandas DataFrame with columns population, node_id, time_ms."""
        import pandas as pd

        return pd.DataFrame({"population": pd.Categorical([self.population] * len(self)),
                             "node_id": self.node_ids, "time_ms": self.times})


@dataclasses.dataclass(repr=False)
class Report:
    """A SONATA frame report: `data` [frames x columns], `times` (ms) of the
    frames, `node_ids` and the mapping (node k owns columns
    index_pointers[k] .. index_pointers[k+1]-1, `element_ids` says which
    element, here which variable, each column holds)."""

    name: str
    population: str
    data: np.ndarray
    times: np.ndarray
    node_ids: np.ndarray
    index_pointers: np.ndarray
    element_ids: np.ndarray
    variables: list
    units: list

    def __repr__(self):
        return "Report(%r: %d frames, %d nodes, variables %s)" % (
            self.name, self.data.shape[0], len(self.node_ids), self.variables)

    def _variable_index(self, variable):
        if variable is None:
            if len(self.variables) != 1:
                raise FileError("report %r records %s: name a variable" % (self.name, self.variables))
            return 0
        if variable not in self.variables:
            raise FileError("report %r has no variable %r (it records %s)" %
                            (self.name, variable, ", ".join(self.variables)))
        return self.variables.index(variable)

    def unit(self, variable=None):
        return self.units[self._variable_index(variable)] if self.units else ""

    def traces(self, variable=None, nodes=None):
        """frames x nodes array of one variable, for `nodes` (node ids, default
        all recorded ones, in the report's order)."""
        v = self._variable_index(variable)
        if nodes is None:
            positions = range(len(self.node_ids))
        else:
            where = {int(n): k for k, n in enumerate(self.node_ids)}
            positions = []
            for n in nodes:
                if int(n) not in where:
                    raise FileError("report %r does not record node %d (it records %d nodes: %s)" %
                                    (self.name, int(n), len(self.node_ids),
                                     _preview(self.node_ids)))
                positions.append(where[int(n)])
        columns = []
        for k in positions:
            cols = np.arange(int(self.index_pointers[k]), int(self.index_pointers[k + 1]))
            hit = cols[self.element_ids[cols] == v]
            if len(hit) != 1:
                raise FileError("report %r: node %d has %d columns of variable %r" %
                                (self.name, int(self.node_ids[k]), len(hit), self.variables[v]))
            columns.append(int(hit[0]))
        return self.data[:, columns]

    def trace(self, variable=None, node=None):
        """One node's trace of one variable (default: the first node)."""
        node = self.node_ids[0] if node is None else node
        return self.traces(variable, [node])[:, 0]

    def frame(self, variable=None):
        """A pandas DataFrame indexed by time_ms, one column per node."""
        import pandas as pd

        df = pd.DataFrame(self.traces(variable), columns=[int(n) for n in self.node_ids])
        df.index = pd.Index(self.times, name="time_ms")
        return df


@dataclasses.dataclass(repr=False)
class WeightSnapshots:
    """A /weights/<name> group: `data` [samples x synapses] at `times` (ms),
    the `projection`, `edge_ids` (None: every synapse, in the order of
    /edges/<projection>) and any other recorded synapse variable in
    `variables`."""

    name: str
    projection: str
    times: np.ndarray
    data: np.ndarray
    edge_ids: np.ndarray  # or None
    variables: dict

    def __repr__(self):
        return "WeightSnapshots(%r: %d samples x %d synapses)" % (self.name, *self.data.shape)


class Edges:
    """A SONATA edges population: `source`, `target` (node ids), `weight`,
    `delay` (ms, None when absent), the populations they connect, and every
    other edge attribute in `attributes`."""

    def __init__(self, name, source, target, source_population, target_population, attributes):
        self.name = name
        self.source = source
        self.target = target
        self.source_population = source_population
        self.target_population = target_population
        self.attributes = attributes
        self.weight = attributes.get("syn_weight")
        self.delay = attributes.get("delay")

    def __len__(self):
        return len(self.source)

    def __repr__(self):
        return "Edges(%r: %d edges, %s -> %s)" % (self.name, len(self), self.source_population,
                                                  self.target_population)

    def frame(self):
        import pandas as pd

        columns = {"source": self.source, "target": self.target}
        columns.update(self.attributes)
        return pd.DataFrame(columns)


class Provenance:
    """/provenance of a spikeline file: the resolved `config` (TOML text; as a
    dict in `config_dict`), `command_line`, `version`, `seed`, `threads`,
    `dt_ms`, `simulated_ms`, `status` (running, complete, interrupted,
    failed), the JSON `summary` (None while running), `run_id` and the
    `resumed` lines."""

    FIELDS = ("config", "command_line", "version", "seed", "threads", "dt_ms", "simulated_ms",
              "status", "run_id", "resumed")

    def __init__(self, group):
        for name in self.FIELDS:
            setattr(self, name, None)
        for name in self.FIELDS:
            if name in group:
                value = group[name][()]
                if name in ("seed", "threads"):
                    value = int(value)
                elif name in ("dt_ms", "simulated_ms"):
                    value = float(value)
                else:
                    value = text(value)
                setattr(self, name, value)
        self.summary = None
        if "summary" in group:
            raw = text(group["summary"][()])
            if raw.strip():
                self.summary = json.loads(raw)

    @property
    def config_dict(self):
        import tomllib

        return tomllib.loads(self.config) if self.config else {}

    def __repr__(self):
        return "Provenance(status=%r, simulated_ms=%r, seed=%r, version=%r)" % (
            self.status, self.simulated_ms, self.seed, self.version)


def _preview(values, n=8):
    values = list(values)
    shown = ", ".join(str(int(v)) for v in values[:n])
    return shown + (", ..." if len(values) > n else "")


def _names(group):
    return sorted(group.keys()) if group is not None else []


class File:
    """An open SONATA / spikeline HDF5 file. Use as a context manager or call
    close(). `swmr` is True when the file was still open for writing and was
    opened in SWMR mode."""

    def __init__(self, path):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileError("%s: no such file" % self.path, exit_code=66)
        if not os.path.isfile(self.path):  # a FIFO would block the reader
            raise FileError("%s: not a regular file (a directory, FIFO or device)" % self.path,
                            exit_code=66)
        if not h5py.is_hdf5(self.path):
            raise FileError("%s: not an HDF5 file" % self.path)
        self.swmr = False
        try:
            self.h5 = h5py.File(self.path, "r")
        except OSError as plain_error:
            # A writer still holds it (a run going on, or killed): SWMR reads
            # it as far as it was flushed.
            try:
                self.h5 = h5py.File(self.path, "r", swmr=True)
                self.swmr = True
            except OSError:
                raise FileError("%s: cannot be opened: %s" % (self.path, plain_error))
        self.provenance = Provenance(self.h5["provenance"]) if "provenance" in self.h5 else None

    # --- file management -------------------------------------------------
    def close(self):
        self.h5.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return "spikeline.File(%r, status=%s, populations=%s)" % (self.path, self.status,
                                                                 self.populations)

    def _dataset(self, path):
        ds = self.h5[path]
        if self.swmr:
            ds.refresh()
        return ds

    def _choose(self, kind, plural, name, names):
        """`name` if the file has it; None names the only one there is."""
        names = sorted(names)
        if name is None:
            if len(names) != 1:
                raise FileError("%s: %d %s (%s): name one" % (self.path, len(names), plural,
                                                              ", ".join(names) or "none"))
            return names[0]
        if name not in names:
            raise FileError("%s: no %s %r (it has %s)" % (
                self.path, kind, name, ", ".join(repr(n) for n in names) if names else "none"))
        return name

    @property
    def status(self):
        return self.provenance.status if self.provenance else None

    @property
    def simulated_ms(self):
        """How far the run went (as of its last flush); None for a file that
        does not say."""
        return self.provenance.simulated_ms if self.provenance else None

    @property
    def summary(self):
        return self.provenance.summary if self.provenance else None

    # --- spikes ----------------------------------------------------------
    def _spike_groups(self):
        """{population: (group, timestamps name, node ids name)}. SONATA's
        /spikes/<population>/{timestamps,node_ids}, and the older layout with
        /spikes/{timestamps,gids} and no population (named by a `population`
        attribute, else "default")."""
        out = {}
        if "spikes" not in self.h5:
            return out
        root = self.h5["spikes"]
        if isinstance(root.get("timestamps"), h5py.Dataset):
            ids = "node_ids" if "node_ids" in root else "gids"
            name = text(root.attrs["population"]) if "population" in root.attrs else "default"
            out[name] = (root, "timestamps", ids)
        for name, g in root.items():
            if isinstance(g, h5py.Group) and "timestamps" in g:
                ids = "node_ids" if "node_ids" in g else "gids"
                out[name] = (g, "timestamps", ids)
        return out

    @property
    def populations(self):
        """Names of the populations with spikes: in the run's order (its
        summary's) for spikeline's output, else sorted."""
        names = set(self._spike_groups())
        ordered = [p.get("name") for p in (self.summary or {}).get("populations", [])]
        ordered = [p for p in ordered if p in names]
        return ordered + sorted(names - set(ordered))

    def spikes(self, population=None):
        """Spikes of one population (may be omitted when there is one)."""
        groups = self._spike_groups()
        population = self._choose("spike population", "spike populations", population, groups)
        g, t_name, id_name = groups[population]
        if id_name not in g:
            raise FileError("%s: /spikes/%s has timestamps but no node_ids" % (self.path, population))
        what = "%s: %s/%s" % (self.path, g.name, t_name)
        t_ds, id_ds = self._dataset(g.name + "/" + t_name), self._dataset(g.name + "/" + id_name)
        n = min(t_ds.shape[0], id_ds.shape[0])
        times = t_ds[:n].astype(np.float64) * _units_factor(t_ds, what)
        ids = id_ds[:n]
        if ids.size and np.issubdtype(ids.dtype, np.signedinteger) and ids.min() < 0:
            raise FileError("%s: %s/%s holds negative node ids (%d)" %
                            (self.path, g.name, id_name, int(ids.min())))
        ids = ids.astype(np.uint64)
        sorting = sorting_of(g.attrs)
        if sorting is None and g.name != "/spikes":
            sorting = sorting_of(self.h5["spikes"].attrs)
        t_stop = self.simulated_ms
        if t_stop is not None and self.status == "running":
            # Beyond the last flush rows may be partly written.
            keep = times <= t_stop
            times, ids = times[keep], ids[keep]
        node_count = int(g.attrs["node_count"]) if "node_count" in g.attrs else None
        return Spikes(population, times, ids, node_count, 0.0, t_stop, sorting)

    def all_spikes(self):
        """{population: Spikes} for every population with spikes."""
        return {p: self.spikes(p) for p in self.populations}

    def trains(self, population=None):
        return self.spikes(population).trains()

    def spikes_frame(self, populations=None):
        """One pandas DataFrame (population, node_id, time_ms) of the given
        populations (default all), sorted by time."""
        import pandas as pd

        names = self.populations if populations is None else list(populations)
        frames = [self.spikes(p).frame() for p in names]
        if not frames:
            return pd.DataFrame({"population": pd.Categorical([]), "node_id": np.array([], np.uint64),
                                 "time_ms": np.array([], np.float64)})
        df = pd.concat(frames, ignore_index=True)
        df["population"] = pd.Categorical(df["population"].astype(str), categories=names)
        return df.sort_values(["time_ms", "population", "node_id"], kind="stable",
                              ignore_index=True)

    # --- reports ---------------------------------------------------------
    def _report_groups(self):
        """{name: group} of every group under /report holding a `data`
        dataset and a `mapping` group; the name is its path below /report
        (e.g. "exc", or "exc/V_m" for nested records)."""
        out = {}
        if "report" not in self.h5:
            return out

        def visit(name, obj):
            if isinstance(obj, h5py.Group) and isinstance(obj.get("data"), h5py.Dataset) \
                    and isinstance(obj.get("mapping"), h5py.Group):
                out[name] = obj

        self.h5["report"].visititems(visit)
        return out

    @property
    def reports(self):
        return sorted(self._report_groups())

    def report(self, name=None):
        groups = self._report_groups()
        name = self._choose("report", "reports", name, groups)
        g = groups[name]
        data_ds = self._dataset(g.name + "/data")
        mapping = g["mapping"]
        node_ids = mapping["node_ids"][()].astype(np.uint64)
        columns = data_ds.shape[1] if data_ds.ndim == 2 else 1
        ip = mapping["index_pointers"][()] if "index_pointers" in mapping else \
            np.arange(len(node_ids) + 1, dtype=np.uint64) * (columns // max(len(node_ids), 1))
        el = mapping["element_ids"][()] if "element_ids" in mapping else np.zeros(columns, np.uint32)
        start, stop, step = (float(x) for x in self._dataset(mapping.name + "/time")[:3])
        factor = _units_factor(mapping["time"], "%s: %s/time" % (self.path, mapping.name))
        frames = data_ds.shape[0]
        if step > 0 and stop > start:
            frames = min(frames, int(round((stop - start) / step)))
        data = data_ds[:frames]
        if data.ndim == 1:
            data = data.reshape(-1, 1)
        attrs = data_ds.attrs
        if "variables" in attrs:
            variables = [text(v) for v in attrs["variables"]]
        else:
            variables = ["data"] if int(el.max(initial=0)) == 0 else \
                ["element %d" % i for i in range(int(el.max()) + 1)]
        if "variable_units" in attrs:
            units = [text(u) for u in attrs["variable_units"]]
        else:
            units = [text(attrs["units"]) if "units" in attrs else ""] * len(variables)
        times = (start + step * np.arange(frames)) * factor
        population = text(g.attrs["population"]) if "population" in g.attrs else name.split("/")[0]
        return Report(name, population, data, times, node_ids, ip, el, variables, units)

    # --- weights, edges, neuromodulators ----------------------------------
    @property
    def weight_records(self):
        return _names(self.h5.get("weights"))

    def weights(self, name=None):
        name = self._choose("weight record", "weight records", name, self.weight_records)
        g = self.h5["weights"][name]
        t_ds = self._dataset(g.name + "/time")
        d_ds = self._dataset(g.name + "/data")
        n = min(t_ds.shape[0], d_ds.shape[0])
        variables = {}
        for key, ds in g.items():
            if key not in ("data", "time", "edge_ids") and isinstance(ds, h5py.Dataset):
                ds = self._dataset(ds.name)
                variables[key] = ds[:min(n, ds.shape[0])]
        projection = text(g.attrs["projection"]) if "projection" in g.attrs else name
        edge_ids = g["edge_ids"][()] if "edge_ids" in g else None
        return WeightSnapshots(name, projection, t_ds[:n] * _units_factor(t_ds, g.name + "/time"),
                               d_ds[:n], edge_ids, variables)

    @property
    def edge_populations(self):
        return _names(self.h5.get("edges"))

    def edges(self, name=None):
        """A SONATA edges population with its attributes gathered edge by edge
        through edge_group_id / edge_group_index (group "0" read in order when
        those are absent)."""
        name = self._choose("edge population", "edge populations", name, self.edge_populations)
        g = self.h5["edges"][name]
        src_ds, tgt_ds = g["source_node_id"], g["target_node_id"]
        src, tgt = src_ds[()].astype(np.uint64), tgt_ds[()].astype(np.uint64)
        n = len(src)
        attributes = {}
        group_names = [k for k, v in g.items() if isinstance(v, h5py.Group) and k.isdigit()]
        if "edge_group_id" in g and "edge_group_index" in g:
            gid, gidx = g["edge_group_id"][()], g["edge_group_index"][()]
            for gname in group_names:
                mask = gid == int(gname)
                for key, ds in g[gname].items():
                    if not isinstance(ds, h5py.Dataset):
                        continue
                    values = ds[()]
                    if key not in attributes:
                        attributes[key] = np.full(n, np.nan, dtype=np.float64) \
                            if values.dtype.kind == "f" else np.zeros(n, dtype=values.dtype)
                        if values.dtype.kind == "f":
                            attributes[key] = attributes[key].astype(values.dtype)
                    attributes[key][mask] = values[gidx[mask].astype(np.int64)]
        elif "0" in group_names:
            for key, ds in g["0"].items():
                if isinstance(ds, h5py.Dataset):
                    attributes[key] = ds[:n]

        def population_of(ds):
            return text(ds.attrs["node_population"]) if "node_population" in ds.attrs else None

        return Edges(name, src, tgt, population_of(src_ds), population_of(tgt_ds), attributes)

    @property
    def neuromodulators(self):
        return _names(self.h5.get("neuromodulators"))

    def neuromodulator(self, name=None):
        """(times ms, concentrations) of a recorded neuromodulator."""
        name = self._choose("neuromodulator", "neuromodulators", name, self.neuromodulators)
        g = self.h5["neuromodulators"][name]
        t, d = self._dataset(g.name + "/time"), self._dataset(g.name + "/data")
        n = min(t.shape[0], d.shape[0])
        return t[:n], d[:n]

    # --- spikeline train -------------------------------------------------
    @property
    def is_training(self):
        return "training" in self.h5

    def training_log(self):
        """The /training log of `spikeline train` as a pandas DataFrame: one
        row per step (step, loss, train_f1, lr, grad_norm, recall_f1 (NaN
        where not evaluated), wall_s)."""
        import pandas as pd

        if "training" not in self.h5:
            raise FileError("%s: no /training log (not written by spikeline train)" % self.path)
        g = self.h5["training"]
        columns = {k: self._dataset(v.name)[()] for k, v in g.items() if isinstance(v, h5py.Dataset)}
        n = min((len(c) for c in columns.values()), default=0)
        df = pd.DataFrame({k: c[:n] for k, c in columns.items()})
        if "step" in df:
            df["step"] = df["step"].astype(np.int64)
        return df

    def recall(self, which="recall"):
        """The recall of `spikeline train` (`which` = "recall" for the final
        weights, "recall_initial" for the initial ones): a dict with
        raster (uint8 [M][T][N]: the network's spikes and the cue), patterns
        (the targets, same shape), precision, recall, f1 (per pattern) and
        pooled ([P, R, F1])."""
        if which not in self.h5:
            raise FileError("%s: no /%s (a finished spikeline train writes it)" % (self.path, which))
        g = self.h5[which]
        out = {k: v for k, v in g.items() if isinstance(v, h5py.Dataset)}
        result = {k: out[k] for k in ("raster",) if k in out}
        for k in ("precision", "recall", "f1", "pooled"):
            if k in out:
                result[k] = out[k][()]
        if "patterns" in self.h5:
            result["patterns"] = self.h5["patterns"]
        return result


def open_file(path):
    """Opens a SONATA / spikeline HDF5 file for reading (SWMR when its writer
    still has it open)."""
    return File(path)
