"""Checkpoint and resume (spikeline run --checkpoint, spikeline resume).

The guarantee: a run to 2T in one go, and a run to T that checkpoints,
stops and is resumed to 2T, write the same output file, bit for bit (every
dataset but the provenance of who ran it), at any thread count on either
side; for static and plastic networks; also when the first process is
killed (SIGKILL) at a random moment after a periodic checkpoint, or stopped
by SIGTERM. And a checkpoint that is corrupt, from another version, of
another network, or whose output file is not its run's, is refused with a
clear message, never resumed silently wrong.
"""

import os
import random
import signal
import stat
import subprocess
import sys
import time

import h5py
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import (EX_CONFIG, EX_DATAERR, EX_NOINPUT, EX_SIGTERM, EX_USAGE, SOURCE_DIR,  # noqa: E402
                     Failure, TempDir, check, check_equal, example, expect_exit, expect_in, run_ok,
                     spikeline, text_attr, write)

# Every engine path at once: Poisson generators (queued emissions), an
# event-driven delta population, a stepped psc_exp population with delays up
# to 5 ms (spikes in flight across the checkpoint), a current that changes
# after it (a queued current event), a trace report and weight records.
MIXED = """
[simulation]
dt = 0.1
duration = 600.0
seed = 3

[output]
file = "mixed.h5"
flush_interval = 50.0

[[population]]
name = "noise"
model = "poisson_generator"
size = 200
params = { rate = 30.0 }

[[population]]
name = "lif"
model = "iaf_psc_exp"
size = 400
params = { C_m = 250.0, tau_m = 20.0, E_L = -65.0, V_th = -50.0, V_reset = -65.0, t_ref = 2.0, tau_syn_ex = 2.0, tau_syn_in = 2.0 }
initial = { V_m = { distribution = "uniform", low = -65.0, high = -50.0 } }

[[population]]
name = "delta"
model = "iaf_psc_delta"
size = 300
params = { tau_m = 20.0, E_L = 0.0, V_th = 20.0, V_reset = 10.0, t_ref = 2.0 }

[[projection]]
name = "drive"
source = "noise"
target = "lif"
rule = "fixed_indegree"
indegree = 20
weight = { distribution = "uniform", low = 100.0, high = 300.0 }
delay = { distribution = "uniform", low = 0.1, high = 2.0 }

[[projection]]
name = "rec"
source = "lif"
target = "lif"
rule = "fixed_probability"
p = 0.05
weight = { distribution = "normal", mean = 20.0, std = 40.0 }
delay = { distribution = "uniform", low = 0.5, high = 5.0 }

[[projection]]
name = "to_delta"
source = "noise"
target = "delta"
rule = "fixed_indegree"
indegree = 10
weight = 6.0
delay = { distribution = "uniform", low = 1.0, high = 5.0 }

[[stimulus]]
name = "late"
model = "dc_generator"
target = "lif"
nodes = [0, 1, 2, 3, 4]
params = { amplitude = 400.0, start = 450.0, stop = 520.0 }

# Currents computed every step: nothing of them is checkpointed, a resumed
# run computes them again from the step index (and the noise's streams).
[[stimulus]]
name = "jitter"
model = "noise_current"
target = "lif"
nodes = [5, 6, 7, 8]
params = { mean = 0.0, std = 200.0, dt = 0.5, start = 100.0 }

[[stimulus]]
name = "wave"
model = "ac_current"
target = "lif"
nodes = [7, 9]
params = { amplitude = 150.0, frequency = 20.0, phase = 45.0 }

[[record]]
population = "lif"
variables = ["V_m", "I_syn_ex"]
nodes = [0, 1, 7]
interval = 0.5

[[record_weights]]
projection = "rec"
interval = 150.0
"""

# Plasticity: pair STDP onto an event-driven population; weight snapshots
# every 500 ms of a 2000 ms run.
from test_plasticity import CONFIG as STDP  # noqa: E402
# Short-term plasticity: facilitating and depressing synapses, u and x recorded.
from test_tsodyks_markram import CONFIG as STP, FACILITATING  # noqa: E402

# Who ran it and how: the config as given to each process (output name,
# duration, threads differ), the command line, the summary (wall times).
IGNORED = {"/provenance/command_line", "/provenance/resumed", "/provenance/summary",
           "/provenance/run_id", "/provenance/threads", "/provenance/config"}


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and "/" + name not in IGNORED:
                out["/" + name] = obj[()]
        f.visititems(visit)
    return out


def check_same_output(reference, resumed):
    """Every dataset of the two files (but who ran them) is identical."""
    a, b = datasets(reference), datasets(resumed)
    check_equal(sorted(b), sorted(a), "datasets of the resumed output")
    for name in a:
        x, y = a[name], b[name]
        if isinstance(x, np.ndarray):
            check(x.dtype == y.dtype and x.shape == y.shape,
                  "%s: %s %s vs %s %s" % (name, x.dtype, x.shape, y.dtype, y.shape))
            check(np.array_equal(x, y, equal_nan=x.dtype.kind == "f"),
                  "%s differs (%d of %d values)" % (name, int(np.sum(x != y)), x.size))
        else:
            check_equal(y, x, name)
    spikes = sum(len(v) for k, v in a.items() if k.endswith("/timestamps"))
    check(spikes > 1000, "too few spikes (%d) for the comparison to mean much" % spikes)
    return a


def setup(d, text, name):
    return write(os.path.join(d, name), text)


def test_static_network_any_threads():
    with TempDir() as d:
        cfg = setup(d, MIXED, "mixed.toml")
        ref = os.path.join(d, "ref.h5")
        run_ok(["run", cfg, "-o", ref, "-q", "-t", "1"])
        check_equal(text_attr(h5py.File(ref, "r")["provenance/status"][()]), "complete", "status")
        for before, after in [(1, 2), (2, 1), (3, 2)]:
            out = os.path.join(d, "out_%d_%d.h5" % (before, after))
            ck = os.path.join(d, "ck_%d_%d.h5" % (before, after))
            # 300 ms is in the middle of a 150 ms weight interval's cycle, a
            # report's and a flush's; the current change at 450 ms is after it.
            run_ok(["run", cfg, "-o", out, "-q", "-t", str(before), "-d", "300.3",
                    "--checkpoint", ck])
            r = run_ok(["resume", ck, "-d", "600", "-q", "-t", str(after)])
            expect_in(r.stderr, "complete after 600.0 ms", r=r)
            data = check_same_output(ref, out)
            check(len(data["/report/lif/data"]) == 1200, "report frames")
            with h5py.File(out, "r") as f:
                resumed = text_attr(f["provenance/resumed"][()])
            check(resumed.startswith("300.3 "), "resumed line: %r" % resumed)


def test_across_the_stops_of_records():
    """Records with start and stop: a checkpoint before the stops, resumed
    past them, writes what the unbroken run does (a weight record from t = 0
    whose events end at its stop)."""
    text = MIXED.replace("interval = 0.5\n", "interval = 0.5\nstart = 100.0\nstop = 400.0\n")
    text = text.replace("interval = 150.0\n", "interval = 150.0\nstart = 0.0\nstop = 450.0\n")
    with TempDir() as d:
        cfg = setup(d, text, "stops.toml")
        ref = os.path.join(d, "ref.h5")
        run_ok(["run", cfg, "-o", ref, "-q", "-t", "2"])
        out, ck = os.path.join(d, "out.h5"), os.path.join(d, "ck.h5")
        run_ok(["run", cfg, "-o", out, "-q", "-t", "2", "-d", "300.3", "--checkpoint", ck])
        run_ok(["resume", ck, "-d", "600", "-q", "-t", "1"])
        data = check_same_output(ref, out)
        check_equal(data["/weights/rec/time"].tolist(), [0.0, 150.0, 300.0, 450.0], "weight times")
        check_equal(len(data["/report/lif/data"]), 601, "report frames 100, 100.5, ..., 400 ms")


def test_several_records_per_population():
    """Four records of one population (one unnamed, three named; start = 0,
    other variables, nodes, intervals, a stop before the checkpoint and one
    after it) and one of another: a checkpoint at 300.3 ms, resumed to 600,
    and one at 0 ms (nothing simulated, the initial frames written), resumed
    to 600, write every report as the unbroken run does."""
    records = """
[[record]]
name = "v0"
population = "lif"
variables = "V_m"
nodes = [0, 5, 9, 399]
start = 0.0

[[record]]
name = "early"
population = "lif"
variables = ["I_syn_ex"]
interval = 2.0
start = 0.0
stop = 250.0

[[record]]
name = "across"
population = "lif"
variables = ["I_syn_ex", "V_m"]
nodes = [7, 3]
interval = 1.3
start = 99.9
stop = 420.0

[[record]]
name = "delta_v"
population = "delta"
variables = "V_m"
interval = 0.7
start = 0.0
"""
    with TempDir() as d:
        cfg = setup(d, MIXED + records, "records.toml")
        ref = os.path.join(d, "ref.h5")
        run_ok(["run", cfg, "-o", ref, "-q", "-t", "2"])
        for stop_at in ("300.3", "0"):
            out, ck = os.path.join(d, "out_%s.h5" % stop_at), os.path.join(d, "ck_%s.h5" % stop_at)
            run_ok(["run", cfg, "-o", out, "-q", "-t", "1", "-d", stop_at, "--checkpoint", ck])
            run_ok(["resume", ck, "-d", "600", "-q", "-t", "2"])
            data = check_same_output(ref, out)
            check_equal(len(data["/report/lif/data"]), 1200, "unnamed frames 0.5 .. 600 ms")
            check_equal(data["/reports/v0/lif/data"].shape, (6001, 4), "v0 frames 0 .. 600 ms")
            check_equal(len(data["/reports/early/lif/data"]), 126, "early frames 0, 2, .. 250 ms")
            check_equal(len(data["/reports/across/lif/data"]), 247, "across frames 99.9 .. 419.4")
            check_equal(len(data["/reports/delta_v/delta/data"]), 858, "delta_v frames 0 .. 599.9")
        with h5py.File(ref, "r") as f:
            v0 = f["reports/v0/lif/data"][()]
            check(np.all((v0[0] >= -65.0) & (v0[0] <= -50.0)) and len(np.unique(v0[0])) == 4,
                  "frame 0 is not the drawn initial V_m: %r" % v0[0])


def resumed_equals_unbroken(d, cfg, end):
    """A run of cfg to `end` ms in one go, and one checkpointed at 437 ms on
    2 threads and resumed on 1: the same output. Returns its datasets."""
    ref = os.path.join(d, "ref.h5")
    run_ok(["run", cfg, "-o", ref, "-q"])
    out = os.path.join(d, "out.h5")
    ck = os.path.join(d, "ck.h5")
    run_ok(["run", cfg, "-o", out, "-q", "-t", "2", "-d", "437", "--checkpoint", ck])
    run_ok(["resume", ck, "-q", "-t", "1", "-d", str(end)])
    return check_same_output(ref, out)


def test_plastic_networks():
    for rule in ("stdp", "triplet_stdp"):
        with TempDir() as d:
            data = resumed_equals_unbroken(d, setup(d, STDP % rule, "stdp.toml"), 2000)
            w = data["/weights/learned/data"]
            check(np.any(w[-1] != w[0]), rule + ": the weights did not move")


def test_short_term_plasticity():
    """tsodyks_markram: u, x and the last arrival of every delay group are
    in the checkpoint; a resumed run delivers the same amounts."""
    with TempDir() as d:
        cfg = setup(d, STP % (FACILITATING, 'variables = ["u", "x"]'), "stp.toml")
        u = resumed_equals_unbroken(d, cfg, 1000)["/weights/stp/u"]
        check(np.any(u[-1] != u[0]), "u did not move")


def test_reward_modulated_with_triggered_rewards():
    """The distal-reward network, 3 s: eligibility traces, dopamine pulses
    triggered by pairings with random delays (a random stream consumed
    across the checkpoint), lazily integrated weights."""
    with TempDir() as d:
        ref = os.path.join(d, "ref.h5")
        common = ["--set", "output.flush_interval=500", "--set", "record_weights.1.interval=1000"]
        run_ok(["run", example("distal_reward.toml"), "-d", "3000", "-o", ref, "-q"] + common)
        out = os.path.join(d, "out.h5")
        ck = os.path.join(d, "ck.h5")
        run_ok(["run", example("distal_reward.toml"), "-d", "1234", "-o", out, "-q", "-t", "2",
                "--checkpoint", ck] + common)
        r = run_ok(["resume", ck, "-d", "3000", "-q"])
        data = check_same_output(ref, out)
        check(np.max(data["/neuromodulators/dopamine/data"]) > 0.1, "no reward was delivered")
        expect_in(r.stderr, "complete after 3000.0 ms", r=r)


def test_resume_a_resumed_run():
    """A chain: run to 200 ms, resume to 400 (its checkpoint replaces the
    first), resume that to 600: the same as one run to 600, and the file
    says where it was resumed. The second resume's end comes from the first
    resume's --duration saved in the checkpoint."""
    with TempDir() as d:
        cfg = setup(d, MIXED, "mixed.toml")
        ref = os.path.join(d, "ref.h5")
        run_ok(["run", cfg, "-o", ref, "-q"])  # 600 ms
        out = os.path.join(d, "out.h5")
        ck = os.path.join(d, "ck.h5")
        run_ok(["run", cfg, "-o", out, "-q", "-d", "200", "--checkpoint", ck])
        run_ok(["resume", ck, "-q", "-d", "400", "-t", "2"])
        r = run_ok(["resume", ck, "-q", "-d", "600"])
        expect_in(r.stderr, "complete after 600.0 ms", r=r)
        check_same_output(ref, out)
        with h5py.File(out, "r") as f:
            lines = text_attr(f["provenance/resumed"][()]).splitlines()
        check_equal([line.split()[0] for line in lines], ["200", "400"], "resume times")
        # A resume with no --duration goes where the last one was going.
        out2 = os.path.join(d, "out2.h5")
        ck2 = os.path.join(d, "ck2.h5")
        run_ok(["run", cfg, "-o", out2, "-q", "-d", "200", "--checkpoint", ck2,
                "--checkpoint-every", "100"])
        p = subprocess.Popen([clitest.BINARY, "resume", ck2, "-q", "-d", "600"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p.wait()
        check_equal(p.returncode, 0, "resume to 600")
        r = spikeline(["resume", ck2])  # its last checkpoint is at the end, 600 ms
        expect_exit(r, EX_USAGE)
        expect_in(r.stderr, "already at 600 ms, its end is 600 ms", r=r)


def test_reward_file_across_a_resume():
    """Rewards from --reward-input FILE are scheduled pulses, which the
    checkpoint holds: a resume without the file delivers the same rewards
    as a run that never stopped; giving the same file again is refused."""
    with TempDir() as d:
        from test_reward import BASE, PLASTIC
        cfg = setup(d, BASE % PLASTIC + "\n[output]\nfile = \"r.h5\"\n", "reward.toml")
        rewards = write(os.path.join(d, "rewards.txt"), "300 dopamine 0.5\n900 dopamine 1.0\n")
        ref = os.path.join(d, "ref.h5")
        run_ok(["run", cfg, "-o", ref, "-q", "--reward-input", rewards])
        out = os.path.join(d, "out.h5")
        ck = os.path.join(d, "ck.h5")
        run_ok(["run", cfg, "-o", out, "-q", "-d", "600", "--reward-input", rewards,
                "--checkpoint", ck])
        r = spikeline(["resume", ck, "-q", "-d", "1500", "--reward-input", rewards])
        expect_exit(r, EX_USAGE)
        expect_in(r.stderr, "already scheduled this file's rewards", r=r)
        run_ok(["resume", ck, "-q", "-d", "1500"])
        data = check_same_output(ref, out)
        # Without the rewards (tonic dopamine 0) no weight would move.
        still = os.path.join(d, "still.h5")
        run_ok(["run", cfg, "-o", still, "-q"])
        with h5py.File(still, "r") as f:
            unrewarded = f["edges/learned/0/syn_weight"][()]
        check(np.any(data["/edges/learned/0/syn_weight"] != unrewarded),
              "the rewards changed no weight")


def test_refuses_a_changed_spike_times_file():
    """A spike_times_file that changed since the checkpoint: refused (65)
    before the output is touched."""
    cfg_text = """
[simulation]
dt = 0.1
duration = 400.0

[[population]]
name = "gen"
model = "spike_generator"
size = 3
params = { spike_times_file = "spikes.txt" }

[[population]]
name = "lif"
model = "iaf_psc_delta"
size = 3

[[projection]]
source = "gen"
target = "lif"
rule = "one_to_one"
weight = 30.0
delay = 1.0
"""
    with TempDir() as d:
        cfg = setup(d, cfg_text, "gen.toml")
        spikes = write(os.path.join(d, "spikes.txt"), "0 10.0\n1 50.0\n2 300.0\n")
        out = os.path.join(d, "out.h5")
        ck = os.path.join(d, "ck.h5")
        run_ok(["run", cfg, "-o", out, "-q", "-d", "100", "--checkpoint", ck])
        before = clitest.read_bytes(out)
        write(spikes, "0 10.0\n1 50.0\n2 250.0\n")
        r = spikeline(["resume", ck, "-d", "400"])
        expect_exit(r, EX_DATAERR)
        expect_in(r.stderr, "network fingerprint", r=r)
        check(clitest.read_bytes(out) == before, "the output was changed by a refused resume")


def wait_for(path, timeout=60):
    t0 = time.monotonic()
    while not os.path.exists(path):
        if time.monotonic() - t0 > timeout:
            raise Failure("%s did not appear within %d s" % (path, timeout))
        time.sleep(0.01)


KILLS = 12
RNG = random.Random(20261201)


def test_kill_at_random_moments_then_resume():
    """SIGKILL at a random moment after the first periodic checkpoint (at
    times while a checkpoint is being written, or the output flushed; the
    count of the former is printed): the newest complete checkpoint resumes
    to the same output as a run that never stopped. Checkpoints every 10 ms
    of a 4000 ms run."""
    with TempDir() as d:
        cfg = setup(d, MIXED, "mixed.toml")
        ref = os.path.join(d, "ref.h5")
        run_ok(["run", cfg, "-o", ref, "-q", "-d", "4000"])
        times = []
        mid_write = 0
        for k in range(KILLS):
            out = os.path.join(d, "out%d.h5" % k)
            ck = os.path.join(d, "ck%d.h5" % k)
            threads = str(1 + k % 2)
            p = subprocess.Popen([clitest.BINARY, "run", cfg, "-o", out, "-q", "-d", "4000",
                                  "-t", threads, "--checkpoint", ck, "--checkpoint-every", "10"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            wait_for(ck)
            time.sleep(RNG.uniform(0, 0.4))
            p.kill()
            _, err = p.communicate()
            if p.returncode == 0:
                continue  # finished before the kill: nothing to test
            check_equal(p.returncode, -signal.SIGKILL, "the run's fate")
            # A kill in the middle of a checkpoint write leaves its temporary
            # file (which does not stand in the way), never a bad checkpoint.
            if any(f.startswith(".ck%d.h5.tmp-" % k) for f in os.listdir(d)):
                mid_write += 1
            with h5py.File(ck, "r") as f:
                times.append(float(f.attrs["simulated_ms"]))
            run_ok(["resume", ck, "-q", "-t", "2" if threads == "1" else "1"])
            check_same_output(ref, out)
        check(len(times) >= KILLS // 2, "only %d of %d runs were killed" % (len(times), KILLS))
        print("killed %d runs at checkpoints %s ms, %d of them while writing a checkpoint"
              % (len(times), sorted(times), mid_write))


def test_sigterm_checkpoints_then_resume():
    """SIGTERM soon after the first periodic checkpoint (1000 ms) of a run
    meant to go on for a minute: a checkpoint of the stop moment, exit 143,
    then a resume to 8000 ms equals an unbroken run to 8000 ms."""
    with TempDir() as d:
        cfg = setup(d, MIXED, "mixed.toml")
        ref = os.path.join(d, "ref.h5")
        run_ok(["run", cfg, "-o", ref, "-q", "-d", "8000"])
        out = os.path.join(d, "out.h5")
        ck = os.path.join(d, "ck.h5")
        p = subprocess.Popen([clitest.BINARY, "run", cfg, "-o", out, "-q", "-d", "60000",
                              "--checkpoint", ck, "--checkpoint-every", "1000"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_for(ck)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
        check_equal(p.returncode, EX_SIGTERM, "exit code after SIGTERM\n" + err)
        with h5py.File(ck, "r") as f:
            at = float(f.attrs["simulated_ms"])
        with h5py.File(out, "r") as f:
            check_equal(text_attr(f["provenance/status"][()]), "interrupted", "status")
            check_equal(float(f["provenance/simulated_ms"][()]), at, "simulated_ms at the stop")
        check(1000 <= at < 8000, "stopped at %g ms, expected between 1000 and 8000" % at)
        run_ok(["resume", ck, "-q", "-d", "8000"])
        check_same_output(ref, out)


def corrupt_byte(path, dataset):
    """Flips one bit in the stored bytes of a dataset of a checkpoint."""
    with h5py.File(path, "r") as f:
        offset = f[dataset].id.get_offset()
    check(offset is not None, "no offset for " + dataset)
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x10]))


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def make_checkpoint(d, cfg_text=MIXED, duration="200"):
    cfg = setup(d, cfg_text, "mixed.toml")
    out = os.path.join(d, "out.h5")
    ck = os.path.join(d, "ck.h5")
    run_ok(["run", cfg, "-o", out, "-q", "-d", duration, "--checkpoint", ck])
    return cfg, out, ck


def test_refuses_corrupt_checkpoints():
    with TempDir() as d:
        _, out, ck = make_checkpoint(d)
        pristine = clitest.read_bytes(ck)
        corrupt_byte(ck, "state/simulator/populations/lif/V_m")
        r = spikeline(["resume", ck, "-d", "400"])
        expect_exit(r, EX_DATAERR)
        expect_in(r.stderr, "checksum mismatch", r=r)
        expect_in(r.stderr, "corrupted", r=r)
        # Truncated (a copy cut in half), empty, and not HDF5 at all.
        for name, data in [("half", pristine[:len(pristine) // 2]), ("empty", b""),
                           ("text", b"[simulation]\ndt = 0.1\n")]:
            bad = write(os.path.join(d, name + ".h5"), "")
            with open(bad, "wb") as f:
                f.write(data)
            r = spikeline(["resume", bad, "-d", "400"])
            expect_exit(r, EX_DATAERR)
            expect_in(r.stderr, "checkpoint " + bad, r=r)
        # The output file of a run is not a checkpoint.
        r = spikeline(["resume", out, "-d", "400"])
        expect_exit(r, EX_DATAERR)
        expect_in(r.stderr, "not a spikeline checkpoint", r=r)
        r = spikeline(["resume", os.path.join(d, "missing.h5")])
        expect_exit(r, EX_NOINPUT)
        # Nothing above touched the output file.
        with h5py.File(out, "r") as f:
            check_equal(text_attr(f["provenance/status"][()]), "complete", "output status")


def test_refuses_other_versions():
    with TempDir() as d:
        _, _, ck = make_checkpoint(d)
        with h5py.File(ck, "r+") as f:
            f.attrs["format_version"] = np.uint32(99)
        r = spikeline(["resume", ck, "-d", "400"])
        expect_exit(r, EX_DATAERR)
        expect_in(r.stderr, "format version 99 is not the one this spikeline reads (1)", r=r)
        with h5py.File(ck, "r+") as f:
            f.attrs["format_version"] = np.uint32(1)
            f.attrs["spikeline_version"] = np.bytes_("0.0.1")
        r = spikeline(["resume", ck, "-d", "400"])
        expect_exit(r, EX_DATAERR)
        expect_in(r.stderr, "written by spikeline 0.0.1", r=r)


def refuses_native_checkpoint(fixture, native_field, output):
    """A checkpoint written while a rule was native (tests/data/FIXTURE,
    made by 84c0660's or c443ef8's binary) is refused, naming the field it
    lacks, rather than misread: the rule now goes through the plugin
    interface and keeps its state in the adapter's arrays ("w",
    "synapse/...", "pre/...", "post/...")."""
    with TempDir() as d:
        _, _, fresh = make_checkpoint(d)
        with h5py.File(fresh, "r") as f:
            version = f.attrs["spikeline_version"]
        ck = os.path.join(d, "native.ck.h5")
        with open(os.path.join(SOURCE_DIR, "tests", "data", fixture), "rb") as src:
            write_bytes(ck, src.read())
        with h5py.File(ck, "r+") as f:
            # Refused for its layout, not for the version stamp (which a
            # release would change).
            f.attrs["spikeline_version"] = version
            check("state/simulator/projections/in_to_out/0/" + native_field in f,
                  "the fixture %s is not a native checkpoint" % fixture)
        r = spikeline(["resume", ck, "-d", "200"], cwd=d)
        expect_exit(r, EX_DATAERR)
        expect_in(r.stderr, "checkpoint field 'simulator/projections/in_to_out/0/w' is missing: "
                  "the checkpoint belongs to another network or another version", r=r)
        check(not os.path.exists(os.path.join(d, output)),
              "the refused resume wrote an output file")


def test_refuses_a_native_reward_stdp_checkpoint():
    """reward_stdp_native.ck.h5 (84c0660: its state one record per synapse,
    "synapses", "pre", "post"): 4 Poisson inputs onto 3 iaf_psc_delta
    neurons, all_to_all under reward_stdp, a reward at 20 ms, checkpointed
    at 100 ms."""
    refuses_native_checkpoint("reward_stdp_native.ck.h5", "synapses", "old_reward_stdp.h5")


def test_refuses_a_native_tsodyks_markram_checkpoint():
    """tsodyks_markram_native.ck.h5 (c443ef8: u, x and the latest arrival
    one "release" record per delay group): 4 Poisson generators onto 3
    iaf_psc_exp neurons, all_to_all under tsodyks_markram (U 0.5, tau_rec
    100 ms), checkpointed at 100 ms."""
    refuses_native_checkpoint("tsodyks_markram_native.ck.h5", "release", "old_tsodyks.h5")


def test_refuses_a_changed_network():
    """An input file that changed since the checkpoint: the rebuilt network
    differs and its fingerprint says so."""
    edges = """
[[projection]]
name = "extra"
source = "lif"
target = "delta"
rule = "explicit"
file = "edges.h5"
"""
    with TempDir() as d:
        cfg = setup(d, MIXED + edges, "mixed.toml")
        write_edges(os.path.join(d, "edges.h5"), weight=1.0)
        out = os.path.join(d, "out.h5")
        ck = os.path.join(d, "ck.h5")
        run_ok(["run", cfg, "-o", out, "-q", "-d", "100", "--checkpoint", ck])
        write_edges(os.path.join(d, "edges.h5"), weight=1.5)
        # Run from elsewhere: input paths are kept absolute in the checkpoint.
        r = spikeline(["resume", ck, "-d", "200"], cwd="/")
        expect_exit(r, EX_DATAERR)
        expect_in(r.stderr, "not the one it was written from", r=r)
        expect_in(r.stderr, "network fingerprint", r=r)
        write_edges(os.path.join(d, "edges.h5"), weight=1.0)
        run_ok(["resume", ck, "-d", "200", "-q"], cwd="/")


def write_edges(path, weight):
    n = 50
    with h5py.File(path, "w") as f:
        g = f.create_group("edges/extra")
        s = g.create_dataset("source_node_id", data=np.arange(n, dtype=np.uint64))
        s.attrs["node_population"] = "lif"
        t = g.create_dataset("target_node_id", data=np.arange(n, dtype=np.uint64) * 3)
        t.attrs["node_population"] = "delta"
        g.create_dataset("edge_type_id", data=np.zeros(n, dtype=np.int64))
        g.create_dataset("edge_group_id", data=np.zeros(n, dtype=np.uint32))
        g.create_dataset("edge_group_index", data=np.arange(n, dtype=np.uint64))
        g.create_dataset("0/syn_weight", data=np.full(n, weight, dtype=np.float32))
        g.create_dataset("0/delay", data=np.full(n, 1.0, dtype=np.float32))


def test_refuses_another_runs_output():
    with TempDir() as d:
        cfg, out, ck = make_checkpoint(d)
        before = clitest.read_bytes(out)
        other = os.path.join(d, "other.h5")
        run_ok(["run", cfg, "-o", other, "-q", "-d", "200"])  # the same network, another run
        os.replace(other, out)
        replaced = clitest.read_bytes(out)
        r = spikeline(["resume", ck, "-d", "400"])
        expect_exit(r, EX_DATAERR)
        expect_in(r.stderr, "not the output of the checkpointed run", r=r)
        check(clitest.read_bytes(out) == replaced, "the other run's file was changed")
        os.remove(out)
        r = spikeline(["resume", ck, "-d", "400"])
        expect_exit(r, EX_NOINPUT)
        expect_in(r.stderr, "does not exist", r=r)
        check(len(before) > 0, "")


def test_resume_refuses_files_that_are_not_regular():
    """A checkpoint, or the output file it continues, that is a FIFO is
    refused (66) saying what it is (was: "no such file" / "does not exist"),
    before HDF5 opens it (a FIFO would block the open)."""
    with TempDir() as d:
        _, out, ck = make_checkpoint(d)
        pipe = os.path.join(d, "pipe.h5")
        os.mkfifo(pipe)
        r = spikeline(["resume", pipe, "-d", "400"], timeout=10)
        expect_exit(r, EX_NOINPUT)
        expect_in(r.stderr, "checkpoint %s: is a FIFO (named pipe), not a checkpoint: only regular "
                  "files are read" % pipe, r=r)
        os.remove(out)
        os.mkfifo(out)
        r = spikeline(["resume", ck, "-d", "400"], timeout=10)
        expect_exit(r, EX_NOINPUT)
        expect_in(r.stderr, "is a FIFO (named pipe)", r=r)
        check(stat.S_ISFIFO(os.stat(out).st_mode), "the FIFO was replaced")


def test_usage_errors():
    with TempDir() as d:
        cfg, out, ck = make_checkpoint(d)
        r = spikeline(["resume", ck])  # the checkpoint is at the config's end (200 ms)
        expect_exit(r, EX_USAGE)
        expect_in(r.stderr, "already at 200 ms", r=r)
        r = spikeline(["resume", ck, "-d", "150"])
        expect_exit(r, EX_USAGE)
        r = spikeline(["run", cfg, "--checkpoint-every", "10"])
        expect_exit(r, EX_USAGE)
        expect_in(r.stderr, "--checkpoint-every needs --checkpoint", r=r)
        r = spikeline(["run", cfg, "-o", out, "--checkpoint", ck, "--checkpoint-every", "0.05"])
        expect_exit(r, EX_CONFIG)
        expect_in(r.stderr, "--checkpoint-every", r=r)
        r = spikeline(["run", cfg, "-o", out, "--checkpoint", out])
        expect_exit(r, EX_USAGE)
        expect_in(r.stderr, "must be different files", r=r)
        r = spikeline(["run", cfg, "-o", os.path.join(d, "x.h5"), "--checkpoint",
                       os.path.join(d, "no", "such", "dir", "ck.h5")])
        expect_exit(r, clitest.EX_CANTCREAT)
        expect_in(r.stderr, "cannot create checkpoint '%s'" % os.path.join(d, "no", "such", "dir", "ck.h5"), r=r)
        expect_in(r.stderr, "does not exist", r=r)
        check(not os.path.exists(os.path.join(d, "x.h5")), "output created before the error")


clitest.main(globals())
