"""The PyNN backend (spikeline.pynn): PyNN's names and units against
analytic solutions and against the same network written as a spikeline
config; connectors against PyNN's own connector code (pyNN.mock);
recording into Neo; reset; threads; the errors for what is not supported.

    PYTHONPATH=build/python /usr/bin/python3 tests/python/test_pynn.py build/tools/spikeline .
"""

import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import clitest  # noqa: E402
from clitest import check, check_equal, Failure  # noqa: E402

import numpy as np  # noqa: E402
import spikeline  # noqa: E402

if not spikeline.HAVE_CORE:
    print("skipped: spikeline._core is not built")
    sys.exit(clitest.EX_SKIPPED)
try:
    import pyNN  # noqa: F401
except ImportError:
    print("skipped: PyNN (python3-pynn) is not installed")
    sys.exit(clitest.EX_SKIPPED)

import spikeline.pynn as sim  # noqa: E402
from pyNN.random import NativeRNG, NumpyRNG, RandomDistribution  # noqa: E402


def close(a, b, tol, what):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    check(a.shape == b.shape, "%s: shapes %s vs %s" % (what, a.shape, b.shape))
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    check(err <= tol, "%s: max error %.3g > %.3g" % (what, err, tol))


def raises(kind, fragment, call):
    try:
        call()
    except kind as e:
        check(fragment in str(e), "%r not in %r" % (fragment, str(e)))
        return
    raise Failure("no %s for: %s" % (kind.__name__, fragment))


def signal(block, name):
    return block.segments[-1].filter(name=name)[0]


# ---- cell types: units and parameter translation -------------------------------

def test_if_curr_exp_membrane_follows_the_analytic_charging_curve():
    # A constant i_offset (nA) below threshold: V(t) = v_rest + R I (1 - e^{-t/tau_m}),
    # R = tau_m / cm (ms / nF = MOhm), so the nA and nF scaling is checked.
    sim.setup(timestep=0.1)
    p = sim.Population(2, sim.IF_curr_exp(cm=0.5, tau_m=10.0, v_rest=-65.0, v_thresh=-40.0,
                                          i_offset=[0.2, 0.5]))
    p.record("v")
    sim.run(50.0)
    v = signal(p.get_data(), "v")
    t = np.arange(v.shape[0]) * 0.1
    for k, i in enumerate([0.2, 0.5]):
        expected = -65.0 + (10.0 / 0.5) * i * (1 - np.exp(-t / 10.0))
        close(v.magnitude[:, k], expected, 2e-4, "V(t) for i_offset %g nA" % i)
    check_equal(str(v.units.dimensionality), "mV", "units of v")
    check_equal(v.shape[0], 501, "samples from t = 0 to 50 ms")
    sim.end()


def test_if_curr_exp_period_equals_the_analytic_interval():
    # Above threshold: the interval is tau_refrac + tau_m ln(RI / (RI - (v_th - v_reset))),
    # on the grid (a spike at the first step V >= v_th).
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.IF_curr_exp(cm=0.25, tau_m=10.0, v_rest=-70.0, v_reset=-70.0,
                                          v_thresh=-55.0, tau_refrac=2.0, i_offset=0.5))
    p.initialize(v=-70.0)
    p.record("spikes")
    sim.run(200.0)
    times = p.get_data().segments[0].spiketrains[0].magnitude
    ri = 40.0 * 0.5
    free = 10.0 * math.log(ri / (ri - 15.0))
    check(len(times) >= 10, "fires regularly: %d spikes" % len(times))
    check(abs(times[0] - math.ceil(free / 0.1 - 1e-9) * 0.1) < 1e-9,
          "first spike %g vs %g" % (times[0], free))
    isi = np.diff(times)
    check(np.all(np.abs(isi - isi[0]) < 1e-9), "regular intervals")
    check(abs(isi[0] - (2.0 + free)) <= 0.1 + 1e-9, "interval %g vs %g" % (isi[0], 2.0 + free))
    sim.end()


def test_if_cond_exp_conductance_jump_is_the_weight_in_microsiemens():
    # One input spike of weight 0.004 uS: gsyn_exc jumps to 0.004 uS at the
    # arrival (spike time + delay) and decays with tau_syn_E; inhibitory
    # weights are positive in PyNN and land on gsyn_inh.
    sim.setup(timestep=0.1)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0]))
    cell = sim.Population(1, sim.IF_cond_exp(tau_syn_E=3.0, tau_syn_I=6.0))
    sim.Projection(src, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.004, delay=1.5),
                   receptor_type="excitatory")
    sim.Projection(src, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.002, delay=2.0),
                   receptor_type="inhibitory")
    cell.record(["gsyn_exc", "gsyn_inh", "v"])
    sim.run(40.0)
    data = cell.get_data()
    ge = signal(data, "gsyn_exc").magnitude[:, 0]
    gi = signal(data, "gsyn_inh").magnitude[:, 0]
    t = np.arange(len(ge)) * 0.1
    exp_e = np.where(t >= 11.5 - 1e-9, 0.004 * np.exp(-(t - 11.5) / 3.0), 0.0)
    exp_i = np.where(t >= 12.0 - 1e-9, 0.002 * np.exp(-(t - 12.0) / 6.0), 0.0)
    close(ge, exp_e, 1e-8, "gsyn_exc(t) in uS")
    close(gi, exp_i, 1e-8, "gsyn_inh(t) in uS")
    sim.end()


def test_if_curr_delta_weight_is_a_voltage_jump_in_mV():
    sim.setup(timestep=0.1)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    cell = sim.Population(1, sim.IF_curr_delta(tau_m=20.0, v_rest=-65.0, v_thresh=-50.0))
    sim.Projection(src, cell, sim.OneToOneConnector(), sim.StaticSynapse(weight=2.5, delay=1.0))
    cell.record("v")
    sim.run(20.0)
    v = signal(cell.get_data(), "v").magnitude[:, 0]
    t = np.arange(len(v)) * 0.1
    expected = np.where(t >= 6.0 - 1e-9, -65.0 + 2.5 * np.exp(-(t - 6.0) / 20.0), -65.0)
    close(v, expected, 2e-5, "V(t) after a 2.5 mV jump")
    sim.end()


def run_pynn_izhikevich():
    sim.setup(timestep=0.1)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[20.0, 40.0]))
    cell = sim.Population(2, sim.Izhikevich(a=0.02, b=0.2, c=-65.0, d=6.0, i_offset=[0.0, 0.014]))
    cell.initialize(v=-70.0, u=-14.0)
    sim.Projection(src, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=5.0, delay=1.0))
    cell.record(["v", "u", "spikes"])
    sim.run(300.0)
    data = cell.get_data().segments[0]
    out = (data.filter(name="v")[0].magnitude.copy(),
           [st.magnitude.copy() for st in data.spiketrains])
    sim.end()
    return out


def test_izhikevich_translation_equals_the_spikeline_config():
    # The PyNN cell, its i_offset (nA -> x1000, NEST's convention) and a
    # 5 mV jump (a one-step current of 5 / dt) against the same network
    # written as a spikeline config: bit for bit.
    v, trains = run_pynn_izhikevich()
    direct = spikeline.Simulation.from_dict({
        "simulation": {"dt": 0.1, "duration": 300.0, "seed": 1},
        "population": [
            {"name": "src", "model": "spike_generator", "size": 1,
             "params": {"spike_times": [[20.0, 40.0]]}},
            {"name": "n", "model": "izhikevich", "size": 2,
             "params": {"a": 0.02, "b": 0.2, "c": -65.0, "d": 6.0, "I_e": [0.0, 14.0]},
             "initial": {"V_m": -70.0, "U_m": -14.0}}],
        "projection": [{"source": "src", "target": "n", "rule": "all_to_all",
                        "weight": 50.0, "delay": 1.0}],
        "record": [{"population": "n", "variables": ["V_m"], "start": 0.0}]})
    direct.run(300.0)
    t, ids = direct.spikes("n")
    check(len(trains[1]) > 5, "the driven neuron fires: %d" % len(trains[1]))
    for k in range(2):
        check(np.array_equal(trains[k], t[ids == k]), "neuron %d: spikes as the config's" % k)
    close(v, direct.trace("n")["data"], 0.0, "v as the config's")
    # The jump: v rises by about 5 mV in the step after the arrival at 21 ms.
    jump = v[210, 0] - v[209, 0]
    check(4.0 < jump < 6.0, "a 5 mV input moves v by %g" % jump)


def test_spike_source_poisson_rate_start_and_duration():
    sim.setup(timestep=0.1)
    p = sim.Population(200, sim.SpikeSourcePoisson(rate=40.0, start=100.0, duration=500.0))
    p.record("spikes")
    sim.run(1000.0)
    sts = p.get_data().segments[0].spiketrains
    allt = np.concatenate([st.magnitude for st in sts])
    n = len(allt)
    expected = 200 * 40.0 * 0.5
    check(abs(n - expected) < 5 * math.sqrt(expected), "count %d vs %g" % (n, expected))
    check(allt.min() > 100.0 and allt.max() <= 600.0 + 1e-9, "spikes inside (start, start+duration]")
    sim.end()


def test_spike_source_array_times_are_delivered_exactly_and_off_grid_refused():
    sim.setup(timestep=0.1)
    p = sim.Population(2, sim.SpikeSourceArray(spike_times=[[1.0, 2.5, 7.3], [4.0]]))
    p.record("spikes")
    sim.run(10.0)
    sts = p.get_data().segments[0].spiketrains
    close(sts[0].magnitude, [1.0, 2.5, 7.3], 1e-9, "train 0")
    close(sts[1].magnitude, [4.0], 1e-9, "train 1")
    sim.end()
    sim.setup(timestep=0.1)
    sim.Population(1, sim.SpikeSourceArray(spike_times=[1.05]))
    raises(spikeline.Error, "1.05", lambda: sim.run(5.0))
    sim.end()


def test_population_set_between_runs_changes_the_model():
    # i_offset raised mid-run: the neuron starts firing; initialize() sets v.
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.IF_curr_exp(i_offset=0.0))
    p.record(["spikes", "v"])
    sim.run(50.0)
    check_equal(p.get_spike_counts()[p[0]], 0, "silent before")
    p.set(i_offset=2.0)
    check_equal(p.get("i_offset"), 2.0, "get after set")
    sim.run(50.0)
    n = p.get_spike_counts()[p[0]]
    check(n > 3, "fires after")
    check_equal(p.mean_spike_count(), n, "mean_spike_count of one neuron")
    p.initialize(v=-60.0)
    close(sim.simulator.state.sim.state("p0", "V_m"), [-60.0], 0, "initialize mid-run")
    sim.end()


# ---- connectors ------------------------------------------------------------------

def mock_connections(make_connector, n_pre, n_post, synapse):
    import pyNN.mock as mock

    mock.setup(timestep=0.1)
    a = mock.Population(n_pre, mock.IF_curr_exp())
    b = mock.Population(n_post, mock.IF_curr_exp())
    prj = mock.Projection(a, b, make_connector(), synapse(mock))
    return sorted(prj.get(["weight", "delay"], format="list"))


def ours(make_connector, n_pre, n_post, synapse, run=True):
    sim.setup(timestep=0.1)
    a = sim.Population(n_pre, sim.IF_curr_exp())
    b = sim.Population(n_post, sim.IF_curr_exp())
    prj = sim.Projection(a, b, make_connector(), synapse(sim))
    before = sorted(prj.get(["weight", "delay"], format="list"))
    if run:
        sim.run(1.0)
    after = sorted(prj.get(["weight", "delay"], format="list"))
    sim.end()
    return before, after


def test_connectors_make_the_connections_pyNN_draws():
    # PyNN's connector code with a NumpyRNG draws the connections (as on
    # every backend); the engine must hold exactly those, weights and delays
    # included, before and after the build.
    conn = [
        ("AllToAll", lambda: sim.AllToAllConnector(allow_self_connections=False)),
        ("OneToOne", lambda: sim.OneToOneConnector()),
        ("FixedProbability", lambda: sim.FixedProbabilityConnector(0.2, rng=NumpyRNG(seed=3))),
        ("FixedNumberPre", lambda: sim.FixedNumberPreConnector(3, rng=NumpyRNG(seed=4))),
        ("FixedNumberPost", lambda: sim.FixedNumberPostConnector(2, rng=NumpyRNG(seed=5))),
        ("FixedTotalNumber", lambda: sim.FixedTotalNumberConnector(17, rng=NumpyRNG(seed=6))),
        ("FromList", lambda: sim.FromListConnector([(0, 1, 0.3, 0.2), (2, 0, 0.1, 1.0),
                                                    (2, 0, 0.2, 0.5)],
                                                   column_names=["weight", "delay"])),
        ("Array", lambda: sim.ArrayConnector(np.eye(12, 10, 1, dtype=bool))),
        ("IndexBased", lambda: sim.IndexBasedProbabilityConnector(
            _EvenPairs(), rng=NumpyRNG(seed=7))),
    ]
    conn.append(("DistanceDependent", lambda: sim.DistanceDependentProbabilityConnector(
        "d < 3.5", rng=NumpyRNG(seed=8))))
    for name, make in conn:
        n_pre, n_post = (12, 10) if name != "OneToOne" else (10, 10)
        syn = (lambda m: m.StaticSynapse(weight=0.25, delay=0.7)) if name != "FromList" else \
            (lambda m: m.StaticSynapse())
        expected = mock_connections(make, n_pre, n_post, syn)
        before, after = ours(make, n_pre, n_post, syn)
        check(len(expected) > 0, "%s: makes connections" % name)
        close(np.array(before), np.array(expected), 1e-12, "%s: connections before the run" % name)
        close(np.array(after), np.array(expected), 1e-6, "%s: connections in the engine" % name)
    # Random weights from a NumpyRNG: the same draws as PyNN's.
    syn = (lambda m: m.StaticSynapse(weight=RandomDistribution("uniform", (0.1, 0.5),
                                                                rng=NumpyRNG(seed=9)), delay=0.5))
    expected = mock_connections(lambda: sim.FixedProbabilityConnector(0.3, rng=NumpyRNG(seed=2)),
                                20, 20, syn)
    _, after = ours(lambda: sim.FixedProbabilityConnector(0.3, rng=NumpyRNG(seed=2)), 20, 20, syn)
    close(np.array(after), np.array(expected), 1e-6, "random weights as PyNN draws them")


class _EvenPairs:
    """An index-based probability: 0.8 where i + j is even, else 0."""

    def __init__(self):
        from pyNN.core import IndexBasedExpression

        self.__class__ = type("EvenPairs", (IndexBasedExpression,), {
            "__call__": lambda self, i, j: np.where((i + j) % 2 == 0, 0.8, 0.0)})
        IndexBasedExpression.__init__(self)


def test_assemblies_and_views_connect_as_pyNN_draws():
    # A projection onto an Assembly (Brunel's exc + inh) and from a view
    # becomes one spikeline projection per population pair, with PyNN's
    # connections; parameters set on a view reach only its neurons.
    # (PyNN 0.10 itself refuses initialize() on a view, on every backend.)
    def build(m, receptor_type=None):
        m.setup(timestep=0.1)
        a = m.Population(6, m.IF_curr_exp())
        b = m.Population(4, m.IF_curr_exp())
        c = m.Population(5, m.IF_curr_exp())
        prj1 = m.Projection(a, b + c, m.FixedNumberPreConnector(2, rng=NumpyRNG(seed=1)),
                            m.StaticSynapse(weight=0.1, delay=0.5), receptor_type=receptor_type)
        prj2 = m.Projection(a[1:4], c[::2], m.AllToAllConnector(),
                            m.StaticSynapse(weight=0.2, delay=0.3))
        return a, b, c, prj1, prj2

    import pyNN.mock as mock

    # PyNN 0.10 guesses an Assembly's receptor type from a set (at random):
    # the reference is told; spikeline.pynn guesses "excitatory" every time.
    expected = [sorted(p.get(["weight", "delay"], format="list"))
                for p in build(mock, "excitatory")[3:]]
    a, b, c, prj1, prj2 = build(sim)
    check_equal(prj1.receptor_type, "excitatory", "the guessed receptor type")
    b[[1, 3]].set(tau_m=[11.0, 13.0])
    sim.run(1.0)
    for k, prj in enumerate((prj1, prj2)):
        close(np.array(sorted(prj.get(["weight", "delay"], format="list"))), np.array(expected[k]),
              1e-6, "projection %d" % k)
    close(b.get("tau_m"), [20.0, 11.0, 20.0, 13.0], 0, "tau_m set on a view")
    state = sim.simulator.state
    close(state.sim.params("p1")["tau_m"], [20.0, 11.0, 20.0, 13.0], 0, "the engine's tau_m")
    check_equal(len(state.sim.projections), 3, "exc->b, exc->c, view->view")
    sim.end()


def test_from_file_connector():
    with clitest.TempDir() as tmp:
        path = os.path.join(tmp, "conn.txt")
        with open(path, "w") as f:
            f.write("# columns = [\"i\", \"j\", \"weight\", \"delay\"]\n0 1 0.5 1.0\n1 0 0.25 2.0\n")
        _, after = ours(lambda: sim.FromFileConnector(path), 2, 2, lambda m: m.StaticSynapse())
        close(np.array(after), np.array([(0, 1, 0.5, 1.0), (1, 0, 0.25, 2.0)]), 1e-6, "from file")


def test_native_connectors_draw_with_spikeline_streams():
    # rng=NativeRNG(): spikeline's own rules; the counts are the rules' own.
    def count(connector, n_pre=50, n_post=40, **kw):
        sim.setup(timestep=0.1, rng_seed=11, **kw)
        a = sim.Population(n_pre, sim.IF_curr_exp())
        b = sim.Population(n_post, sim.IF_curr_exp())
        prj = sim.Projection(a, b, connector, sim.StaticSynapse(
            weight=RandomDistribution("normal", (0.5, 0.1), rng=NativeRNG()), delay=1.0))
        lst = prj.get(["weight"], format="list")
        sim.end()
        return np.array(lst)

    lst = count(sim.FixedProbabilityConnector(0.1, rng=NativeRNG()))
    check(abs(len(lst) - 200) < 5 * math.sqrt(200 * 0.9), "fixed_probability count %d" % len(lst))
    check(abs(lst[:, 2].mean() - 0.5) < 5 * 0.1 / math.sqrt(len(lst)), "weight mean")
    lst = count(sim.FixedNumberPreConnector(7, rng=NativeRNG()))
    check(np.all(np.bincount(lst[:, 1].astype(int), minlength=40) == 7), "indegree 7 each")
    lst = count(sim.FixedNumberPostConnector(3, rng=NativeRNG()))
    check(np.all(np.bincount(lst[:, 0].astype(int), minlength=50) == 3), "outdegree 3 each")
    lst = count(sim.FixedTotalNumberConnector(123, rng=NativeRNG()))
    check_equal(len(lst), 123, "total number")
    a = count(sim.FixedProbabilityConnector(0.1, rng=NativeRNG()), threads=2)
    b = count(sim.FixedProbabilityConnector(0.1, rng=NativeRNG()), threads=1)
    check(np.array_equal(a, b), "the same connections at 1 and 2 threads")


def test_projection_get_and_set_weights_and_delays():
    sim.setup(timestep=0.1)
    a = sim.Population(3, sim.SpikeSourceArray(spike_times=[5.0]))
    b = sim.Population(2, sim.IF_curr_delta(v_thresh=0.0))
    prj = sim.Projection(a, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=1.0))
    w = prj.get("weight", format="array")
    check(w.shape == (3, 2) and np.all(w == 1.0), "array format")
    prj.set(weight=np.array([[0.5, 1.0], [0.5, 1.0], [0.5, 1.0]]), delay=2.0)
    b.record("v")
    sim.run(10.0)
    v = signal(b.get_data(), "v").magnitude
    # Three 0.5 mV (neuron 0) and 1.0 mV (neuron 1) jumps arrive at 7 ms.
    check(abs((v[70, 0] - v[69, 0]) - 1.5) < 0.01, "set weights act: %g" % (v[70, 0] - v[69, 0]))
    check(abs((v[70, 1] - v[69, 1]) - 3.0) < 0.01, "set weights act (neuron 1)")
    close(prj.get("delay", format="array"), np.full((3, 2), 2.0), 1e-9, "delays")
    prj.set(weight=0.25)
    close(prj.get("weight", format="array"), np.full((3, 2), 0.25), 1e-7, "set after the build")
    raises(NotImplementedError, "delays", lambda: prj.set(delay=3.0))
    # Weights set after the build survive reset() (the network is built again).
    sim.reset()
    close(prj.get("weight", format="array"), np.full((3, 2), 0.25), 1e-7, "kept through reset")
    sim.run(10.0)
    v = signal(b.get_data(), "v").magnitude
    check(abs((v[70, 0] - v[69, 0]) - 0.75) < 0.01, "0.25 mV jumps after reset")
    sim.end()


# ---- plasticity ----------------------------------------------------------------------

def stdp_weight(dependence, w0, pre_t, post_t, delay=1.0):
    """A single pre/post pair; the post neuron is made to fire by a strong
    static input at a known time."""
    sim.setup(timestep=0.1)
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[pre_t]))
    kick = sim.Population(1, sim.SpikeSourceArray(spike_times=[post_t - 1.0]))
    post = sim.Population(1, sim.IF_curr_delta(v_thresh=-50.0, tau_refrac=1.0))
    sim.Projection(kick, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=30.0, delay=1.0))
    rule = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=15.0, A_plus=0.1,
                                            A_minus=0.05),
        weight_dependence=dependence, weight=w0, delay=delay, dendritic_delay_fraction=0.0)
    prj = sim.Projection(pre, post, sim.OneToOneConnector(), rule)
    post.record("spikes")
    sim.run(100.0)
    w = prj.get("weight", format="list")[0][2]
    spikes = post.get_data().segments[0].spiketrains[0].magnitude
    sim.end()
    return w, spikes


def test_stdp_pair_changes_the_weight_as_pyNN_defines():
    # Additive (PyNN on NEST and Brian2): dw = A_plus w_max e^{-dt/tau_plus}
    # for pre (arrival) before post; -A_minus w_max e^{dt/tau_minus} after.
    for pre_t, post_t in [(10.0, 21.0), (30.0, 21.0)]:
        w, spikes = stdp_weight(sim.AdditiveWeightDependence(w_min=0.0, w_max=2.0), 1.0,
                                pre_t, post_t)
        check(np.allclose(spikes, [post_t]), "post fires at %g: %s" % (post_t, spikes))
        dt = post_t - (pre_t + 1.0)
        expected = 1.0 + (0.1 * 2.0 * math.exp(-dt / 20.0) if dt >= 0
                          else -0.05 * 2.0 * math.exp(dt / 15.0))
        check(abs(w - expected) < 1e-6, "additive, dt %g: %g vs %g" % (dt, w, expected))
    # Multiplicative: dw = A_plus (w_max - w) e^{...}, -A_minus (w - w_min) e^{...}.
    w, _ = stdp_weight(sim.MultiplicativeWeightDependence(w_min=0.0, w_max=2.0), 0.5, 10.0, 21.0)
    # Only axonal delays (dendritic_delay_fraction=0), as pyNN.brian2.
    raises(NotImplementedError, "dendritic_delay_fraction=0", lambda: sim.Projection(
        sim.Population(1, sim.SpikeSourcePoisson()), sim.Population(1, sim.IF_curr_exp()),
        sim.AllToAllConnector(), sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence(),
            weight=0.5)))
    sim.end()
    expected = 0.5 + 0.1 * (2.0 - 0.5) * math.exp(-10.0 / 20.0)
    check(abs(w - expected) < 1e-6, "multiplicative: %g vs %g" % (w, expected))


def test_tsodyks_markram_amplitudes_follow_the_recursion():
    # A regular 50 Hz train through a depressing (and a facilitating)
    # synapse onto IF_curr_delta: each jump of v is weight * u_n * x_n, with
    # x_{n+1} = 1 + (x_n - x_n u_n - 1) e^{-h/tau_rec} and
    # u_{n+1} = U + u_n (1 - U) e^{-h/tau_facil}, u_1 = U, x_1 = 1.
    for U, tau_rec, tau_facil in [(0.5, 100.0, 0.0), (0.1, 50.0, 200.0)]:
        sim.setup(timestep=0.1)
        times = [10.0 + 20.0 * k for k in range(8)]
        src = sim.Population(1, sim.SpikeSourceArray(spike_times=times))
        cell = sim.Population(1, sim.IF_curr_delta(tau_m=1e6, v_rest=0.0, v_reset=0.0,
                                                   v_thresh=1e3, tau_refrac=0.1))
        cell.initialize(v=0.0)
        syn = sim.TsodyksMarkramSynapse(U=U, tau_rec=tau_rec, tau_facil=tau_facil, weight=2.0,
                                        delay=1.0)
        prj = sim.Projection(src, cell, sim.OneToOneConnector(), syn)
        cell.record("v")
        sim.run(200.0)
        v = signal(cell.get_data(), "v").magnitude[:, 0]
        steps = [int(round((t + 1.0) / 0.1)) for t in times]
        jumps = np.array([v[k] - v[k - 1] for k in steps])
        u, x, expected = U, 1.0, []
        for n in range(len(times)):
            if n:
                x = 1 + (x - x * u - 1) * math.exp(-20.0 / tau_rec)
                u = U + u * (1 - U) * (math.exp(-20.0 / tau_facil) if tau_facil else 0.0)
            expected.append(2.0 * u * x)
        close(jumps, expected, 2e-4, "amplitudes U=%g tau_facil=%g" % (U, tau_facil))
        close(prj.get("weight", format="array"), [[2.0]], 1e-7, "the stored weight unchanged")
        close(prj.get("U", format="array"), [[U]], 0, "U read back")
        sim.end()


# ---- current sources -------------------------------------------------------------------

def test_dc_source_into_a_view():
    sim.setup(timestep=0.1)
    p = sim.Population(3, sim.IF_curr_exp(cm=1.0, tau_m=20.0, v_thresh=0.0))
    source = sim.DCSource(amplitude=0.5, start=10.0, stop=30.0)
    source.inject_into(p[[0, 2]])
    p.record("v")
    sim.run(50.0)
    v = signal(p.get_data(), "v").magnitude
    t = np.arange(v.shape[0]) * 0.1
    # On during (10, 30]: V rises as R I (1 - e^{-(t-10)/tau}), R = 20 MOhm.
    on = (t > 10.0 + 1e-9) & (t <= 30.0 + 1e-9)
    check(np.all(v[:, 1] == -65.0), "neuron 1 gets no current")
    check(np.all(v[t <= 10.0 + 1e-9, 0] == -65.0), "nothing before start")
    late = v[np.argmin(np.abs(t - 30.0)), 0] + 65.0
    expected = 20.0 * 0.5 * (1 - math.exp(-20.0 / 20.0))
    check(abs(late - expected) < 0.05, "V at stop: %g vs %g" % (late, expected))
    check(on.sum() == 200, "200 steps on")
    source.amplitude = 0.0  # after the build: goes to the engine
    sim.run(10.0)
    sim.end()


def test_step_current_source_follows_the_analytic_curve():
    # On at 10 ms (0.5 nA), changed at 30 ms (0.2 nA), off at 60 ms: V of a
    # non-firing IF_curr_exp is the exact piecewise exponential (R = 20 MOhm).
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.IF_curr_exp(cm=1.0, tau_m=20.0, v_rest=-65.0, v_thresh=0.0))
    sim.StepCurrentSource(times=[10.0, 30.0, 60.0], amplitudes=[0.5, 0.2, 0.0]).inject_into(p)
    p.record("v")
    sim.run(100.0)
    v = signal(p.get_data(), "v").magnitude[:, 0]
    t = np.arange(len(v)) * 0.1
    expected = np.full(len(t), -65.0)
    level = -65.0
    for start, stop, amp in [(10.0, 30.0, 0.5), (30.0, 60.0, 0.2), (60.0, 1e9, 0.0)]:
        on = (t > start + 1e-9) & (t <= stop + 1e-9)
        target = -65.0 + 20.0 * amp
        expected[on] = target + (level - target) * np.exp(-(t[on] - start) / 20.0)
        level = target + (level - target) * math.exp(-(min(stop, 100.0) - start) / 20.0)
    close(v, expected, 1e-4, "V(t) under a step current")
    sim.end()


def current_sources_pynn(source):
    sim.setup(timestep=0.1, rng_seed=9)
    p = sim.Population(3, sim.IF_curr_exp(v_thresh=-40.0))
    source().inject_into(p[[0, 2]])
    p.record("v")
    sim.run(200.0)
    v = signal(p.get_data(), "v").magnitude.copy()
    sim.end()
    return v


def current_sources_config(model, params):
    direct = spikeline.Simulation.from_dict({
        "simulation": {"dt": 0.1, "duration": 200.0, "seed": 9},
        "population": [{"name": "n", "model": "iaf_psc_exp", "size": 3,
                        "params": {"C_m": 1000.0, "tau_m": 20.0, "tau_syn_ex": 5.0,
                                   "tau_syn_in": 5.0, "t_ref": 0.1, "E_L": -65.0,
                                   "V_reset": -65.0, "V_th": -40.0},
                        "initial": {"V_m": -65.0}}],
        "stimulus": [{"model": model, "target": "n", "nodes": [0, 2], "params": params}],
        "record": [{"population": "n", "variables": ["V_m"], "start": 0.0}]})
    direct.run(200.0)
    return direct.trace("n")["data"].astype(float)


def test_ac_and_noisy_current_sources_are_spikeline_devices_in_pA():
    v = current_sources_pynn(lambda: sim.ACSource(amplitude=0.3, offset=0.1, frequency=25.0,
                                                  phase=90.0, start=20.0, stop=150.0))
    ref = current_sources_config("ac_current", {"amplitude": 300.0, "offset": 100.0,
                                                "frequency": 25.0, "phase": 90.0,
                                                "start": 20.0, "stop": 150.0})
    close(v, ref, 0.0, "ACSource as ac_current")
    check(np.ptp(v[:, 0]) > 2.0 and np.all(v[:, 1] == -65.0), "drives neurons 0 and 2 only")
    v = current_sources_pynn(lambda: sim.NoisyCurrentSource(mean=0.2, stdev=0.5, dt=1.0,
                                                            start=10.0, stop=180.0))
    ref = current_sources_config("noise_current", {"mean": 200.0, "std": 500.0, "dt": 1.0,
                                                   "start": 10.0, "stop": 180.0})
    close(v, ref, 0.0, "NoisyCurrentSource as noise_current")
    check(np.any(v[:, 0] != v[:, 2]), "each neuron its own noise")


def test_sources_and_generators_changed_between_runs():
    sim.setup(timestep=0.1)
    poisson = sim.Population(500, sim.SpikeSourcePoisson(rate=10.0))
    array = sim.Population(2, sim.SpikeSourceArray(spike_times=[[5.0], [6.0]]))
    cell = sim.Population(1, sim.IF_curr_exp(cm=1.0, v_thresh=0.0))
    dc = sim.DCSource(amplitude=0.1)
    dc.inject_into(cell)
    for pop in (poisson, array, cell):
        pop.record("spikes" if pop is not cell else "v")
    sim.run(500.0)
    poisson.set(rate=40.0)
    array.set(spike_times=[[520.0, 530.0], [600.0]])
    dc.amplitude = 0.3
    check_equal(poisson.get("rate"), 40.0, "rate read back")
    sim.run(500.0)
    t = np.concatenate([st.magnitude for st in poisson.get_data().segments[0].spiketrains])
    n0, n1 = np.sum(t <= 500.0), np.sum(t > 500.0)
    check(abs(n0 - 2500) < 5 * math.sqrt(2500), "10 Hz before: %d" % n0)
    check(abs(n1 - 10000) < 5 * math.sqrt(10000), "40 Hz after: %d" % n1)
    trains = [st.magnitude for st in array.get_data().segments[0].spiketrains]
    close(trains[0], [5.0, 520.0, 530.0], 1e-9, "array neuron 0")
    close(trains[1], [6.0, 600.0], 1e-9, "array neuron 1")
    v = signal(cell.get_data(), "v").magnitude[:, 0]
    # The DC raised from 0.1 to 0.3 nA at 500 ms: V(1000) near -65 + 20 * 0.3.
    check(abs(v[-1] - (-65.0 + 6.0)) < 0.01 and abs(v[5000] - (-65.0 + 2.0)) < 0.01,
          "DC before %g and after %g" % (v[5000], v[-1]))
    sim.end()


# ---- recording, reset, threads, errors ----------------------------------------------------

def brunel_like(threads=1, seed=5):
    sim.setup(timestep=0.1, threads=threads, rng_seed=seed)
    noise = sim.Population(50, sim.SpikeSourcePoisson(rate=20.0))
    exc = sim.Population(80, sim.IF_curr_exp(tau_refrac=2.0), label="exc")
    exc.initialize(v=RandomDistribution("uniform", (-65.0, -55.0), rng=NumpyRNG(seed=1)))
    sim.Projection(noise, exc, sim.FixedProbabilityConnector(0.3, rng=NumpyRNG(seed=2)),
                   sim.StaticSynapse(weight=0.3, delay=1.0))
    sim.Projection(exc, exc, sim.FixedProbabilityConnector(0.1, rng=NumpyRNG(seed=3)),
                   sim.StaticSynapse(weight=-0.05, delay=1.5), receptor_type="inhibitory")
    exc.record(["spikes", "v"])
    return exc


def spikes_of(segment):
    return [st.magnitude.copy() for st in segment.spiketrains]


def test_reset_repeats_the_run_and_threads_do_not_change_it():
    exc = brunel_like(threads=1)
    sim.run(200.0)
    sim.reset()
    sim.run(200.0)
    block = exc.get_data()
    check_equal(len(block.segments), 2, "a segment per run")
    a, b = spikes_of(block.segments[0]), spikes_of(block.segments[1])
    check(sum(len(x) for x in a) > 20, "activity: %d spikes" % sum(len(x) for x in a))
    check(all(np.array_equal(x, y) for x, y in zip(a, b)), "reset repeats the run")
    sim.end()
    exc = brunel_like(threads=2)
    sim.run(200.0)
    c = spikes_of(exc.get_data().segments[0])
    check(all(np.array_equal(x, y) for x, y in zip(a, c)), "2 threads give the same spikes")
    sim.end()


def test_write_data_and_clear():
    exc = brunel_like()
    sim.run(100.0)
    with clitest.TempDir() as tmp:
        path = os.path.join(tmp, "exc.pkl")
        exc.write_data(path)
        import neo

        block = neo.io.PickleIO(path).read_block()
        check_equal(len(block.segments[0].spiketrains), 80, "spike trains written")
    first = exc.get_data(clear=True)
    n_first = sum(len(st) for st in first.segments[0].spiketrains)
    sim.run(100.0)
    second = exc.get_data()
    times = np.concatenate([st.magnitude for st in second.segments[0].spiketrains])
    check(n_first > 0 and times.min() > 100.0, "after clear only new spikes")
    v = signal(second, "v")
    check_equal(v.shape[0], 1001, "v from the clear on")
    sim.end()


def test_sampling_interval_to_file_and_random_parameters():
    sim.setup(timestep=0.1)
    p = sim.Population(20, sim.IF_curr_exp(v_thresh=0.0))
    p.set(tau_m=RandomDistribution("uniform", (10.0, 30.0), rng=NumpyRNG(seed=4)),
          i_offset=np.linspace(0.0, 0.5, 20))
    tau = p.get("tau_m")
    check(len(set(np.round(tau, 9))) == 20 and tau.min() >= 10.0 and tau.max() <= 30.0,
          "per-neuron tau_m from a distribution")
    p.record("v", sampling_interval=1.0)
    q = sim.Population(1, sim.IF_curr_exp())
    raises(ValueError, "whole number", lambda: q.record("v", sampling_interval=0.25))
    with clitest.TempDir() as tmp:
        path = os.path.join(tmp, "spikes.pkl")
        p.record("spikes", to_file=path)
        sim.run(50.0)
        v = signal(p.get_data(), "v")
        check_equal(v.shape, (51, 20), "one sample per ms from 0 to 50 ms")
        check_equal(float(v.sampling_period.magnitude), 1.0, "sampling period")
        # Neuron k's V at 50 ms: -65 + 20 i_k (1 - e^{-50/tau_k}) (R = tau_m / cm).
        expected = -65.0 + tau * np.linspace(0.0, 0.5, 20) * (1 - np.exp(-50.0 / tau))
        close(v.magnitude[-1], expected, 1e-3, "each neuron with its own tau_m and i_offset")
        sim.end()
        check(os.path.getsize(path) > 0, "record(to_file=...) written at end()")


def test_errors_name_what_is_not_supported():
    sim.setup(timestep=0.1)
    raises(NotImplementedError, "IF_cond_alpha", lambda: sim.Population(1, sim_cell("IF_cond_alpha")))
    check_equal(sim.list_standard_models(),
                ["IF_curr_exp", "IF_cond_exp", "IF_curr_delta", "Izhikevich",
                 "SpikeSourcePoisson", "SpikeSourceArray"], "the cell types")
    check_equal(len(sim.simulator.state.populations), 0, "a refused Population is not kept")
    a = sim.Population(2, sim.IF_curr_exp())
    raises(Exception, "negative", lambda: sim.Projection(
        a, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1), receptor_type="inhibitory"))
    raises(Exception, "0.15", lambda: (sim.Projection(
        a, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=0.15)), sim.run(1.0)))
    sim.end()
    sim.setup(timestep=0.1)
    a = sim.Population(2, sim.IF_curr_exp())
    sim.run(1.0)
    raises(NotImplementedError, "Projection", lambda: sim.Projection(
        a, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1)))
    raises(NotImplementedError, "Population", lambda: sim.Population(1, sim.IF_curr_exp()))
    sim.end()


def test_import_pyNN_spikeline_is_the_backend():
    # The installed spikeline_pynn.pth makes `import pyNN.spikeline` work
    # (here the build tree's, processed as a site directory).
    import subprocess

    here = os.path.dirname(os.path.dirname(os.path.abspath(spikeline.__file__)))
    code = ("import site; site.addsitedir(%r)\n"
            "import pyNN.spikeline as sim, spikeline.pynn\n"
            "assert sim is spikeline.pynn\n"
            "sim.setup(timestep=0.1)\n"
            "p = sim.Population(1, sim.IF_curr_exp(i_offset=1.0)); p.record('spikes')\n"
            "sim.run(100.0); print(p.get_spike_counts()[p[0]])\n" % here)
    r = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=here))
    check(r.returncode == 0, "import pyNN.spikeline: %s" % r.stderr[-2000:])
    # i_offset 1 nA, R = 20 MOhm: a period of 0.1 + 20 ln(20 / 5) = 27.8 ms.
    check_equal(int(r.stdout.split()[-1]), 3, "spikes in 100 ms")


def test_procedural_api():
    # create / connect / record / initialize / run_until / get_current_time.
    sim.setup(timestep=0.1, min_delay=0.5)
    src = sim.create(sim.SpikeSourceArray, {"spike_times": [2.0]}, n=1)
    cells = sim.create(sim.IF_curr_delta, {"v_thresh": 0.0}, n=3)
    sim.initialize(cells, v=-60.0)
    prj = sim.connect(src, cells, weight=1.5, delay=1.0, receptor_type="excitatory", p=1.0)
    sim.record("v", cells, None)
    check_equal(sim.get_min_delay(), 0.5, "min_delay")
    check_equal(sim.run_until(10.0), 10.0, "run_until returns the time")
    check_equal(sim.get_current_time(), 10.0, "get_current_time")
    v = signal(cells.get_data(), "v").magnitude
    close(v[0], [-60.0] * 3, 0, "initialize")
    check(np.all(v[31] - v[29] > 1.4), "the connect()ed input arrives at 3 ms: %s" % (v[31] - v[29]))
    check_equal(len(prj), 3, "p = 1 connects all")
    # A default delay is min_delay; an off-grid random delay is an error that
    # names the value (NEST and Brian2 would round it; spikeline never does).
    sim.end()
    sim.setup(timestep=0.1)
    a = sim.Population(2, sim.IF_curr_exp())
    sim.Projection(a, a, sim.AllToAllConnector(), sim.StaticSynapse(
        weight=0.1, delay=RandomDistribution("uniform", (0.5, 2.0), rng=NumpyRNG(seed=1))))
    raises(Exception, "whole multiples of dt", lambda: sim.run(1.0))
    sim.end()


def test_more_unsupported_features_are_named():
    from pyNN.standardmodels import synapses as std_synapses

    raises(NotImplementedError, "foo", lambda: sim.setup(timestep=0.1, foo=1))
    raises(NotImplementedError, "spike_precision",
           lambda: sim.setup(timestep=0.1, spike_precision="off_grid"))
    sim.setup(timestep=0.1)
    a = sim.Population(4, sim.IF_curr_exp())
    raises(NotImplementedError, "GutigWeightDependence", lambda: sim.Projection(
        a, a, sim.AllToAllConnector(), sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(),
            weight_dependence=std_synapses.GutigWeightDependence(), weight=0.1,
            dendritic_delay_fraction=0.0)))
    raises(NotImplementedError, "ElectricalSynapse", lambda: sim.Projection(
        a, a, sim.AllToAllConnector(), std_synapses.ElectricalSynapse(weight=0.1)))
    raises(NotImplementedError, "NativeRNG", lambda: sim.Projection(
        a[0:2], a, sim.FixedProbabilityConnector(0.5, rng=NativeRNG()),
        sim.StaticSynapse(weight=0.1)))
    raises(NotImplementedError, "lognormal", lambda: (sim.Projection(
        a, a, sim.FixedProbabilityConnector(0.5, rng=NativeRNG()),
        sim.StaticSynapse(weight=RandomDistribution("lognormal", (0.0, 1.0), rng=NativeRNG()))),
        sim.run(1.0)))
    sim.end()


def sim_cell(name):
    from pyNN.standardmodels import cells

    return getattr(cells, name)()


clitest.main(globals())
