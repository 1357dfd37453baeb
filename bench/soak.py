"""Soak: a plastic network for an hour of simulated time with periodic
checkpoints; resident memory must stay flat, and a resume from a checkpoint
in the middle must end bit-identical to the unbroken run.

    /usr/bin/python3 bench/soak.py [--hours 1] [--every 60] [--threads 2]

The network is examples/distal_reward.toml (1000 Izhikevich neurons, 80,000
reward-modulated STDP synapses with eligibility traces, dopamine pulses
triggered by pairings), checkpointed every `--every` s of simulated time.
Resident memory (VmRSS) is sampled every 0.2 s of wall time; the slope is a
least-squares fit over the second half of the run (after the output file's
buffers and HDF5's caches have reached their working size), reported in MiB
per simulated hour. Writes results/soak.md and .json.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

BINARY = os.path.join(benchlib.ROOT, "build", "tools", "spikeline")
CONFIG = os.path.join(benchlib.ROOT, "examples", "distal_reward.toml")


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return None


def monitored_run(args):
    """Runs spikeline, sampling its RSS; returns (samples [(wall s, RSS MiB)],
    wall seconds, stderr)."""
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.monotonic()
        p = subprocess.Popen([BINARY] + args, stdout=subprocess.DEVNULL, stderr=err, text=True)
        samples = []
        while p.poll() is None:
            try:
                r = rss_mib(p.pid)
            except OSError:
                break
            if r is not None:
                samples.append((time.monotonic() - t0, r))
            time.sleep(0.2)
        wall = time.monotonic() - t0
        err.seek(0)
        text = err.read()
    if p.returncode != 0:
        sys.exit("failed (%d): spikeline %s\n%s" % (p.returncode, " ".join(args), text[-3000:]))
    return samples, wall, text


def datasets(path):
    out = {}
    skip = ("provenance/command_line", "provenance/summary", "provenance/resumed",
            "provenance/run_id", "provenance/config", "provenance/threads")
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset)
                     and n not in skip else None)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--every", type=float, default=60.0, help="simulated s between checkpoints")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    duration = a.hours * 3600e3
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "soak.h5")
        ck = os.path.join(d, "soak.ck.h5")
        args = ["run", CONFIG, "-d", "%g" % duration, "-o", out, "-q", "-t", str(a.threads),
                "--checkpoint", ck, "--checkpoint-every", "%g" % (a.every * 1e3)]
        samples, wall, _ = monitored_run(args)
        t = np.array([s[0] for s in samples])
        rss = np.array([s[1] for s in samples])
        half = t >= t[-1] / 2
        slope_per_wall_s = np.polyfit(t[half], rss[half], 1)[0]
        sim_per_wall = (duration / 1e3) / wall
        slope_per_sim_hour = slope_per_wall_s / sim_per_wall * 3600
        ck_size = os.path.getsize(ck)
        print("run: %.1f s wall for %.0f s simulated; RSS %.1f -> %.1f MiB (peak %.1f); slope over "
              "the second half %.3f MiB per simulated hour" % (wall, duration / 1e3, rss[half][0],
                                                               rss[-1], rss.max(),
                                                               slope_per_sim_hour))

        # Resume from a checkpoint in the middle: a second run stopped at half
        # time leaves its checkpoint there; resumed (at another thread count)
        # to the end, its output must equal the unbroken run's.
        ref = datasets(out)
        out2 = os.path.join(d, "half.h5")
        ck2 = os.path.join(d, "half.ck.h5")
        benchlib.run([BINARY, "run", CONFIG, "-d", "%g" % (duration / 2), "-o", out2, "-q",
                      "-t", str(a.threads), "--checkpoint", ck2])
        benchlib.run([BINARY, "resume", ck2, "-d", "%g" % duration, "-q", "-t", "1"])
        resumed = datasets(out2)
        same = sorted(ref) == sorted(resumed) and all(
            np.array_equal(ref[k], resumed[k], equal_nan=getattr(ref[k], "dtype", None) is not None
                           and ref[k].dtype.kind == "f") if isinstance(ref[k], np.ndarray)
            else ref[k] == resumed[k] for k in ref)
        with h5py.File(out, "r") as f:
            spikes = sum(len(f["spikes"][p]["timestamps"]) for p in f["spikes"])
            chosen = float(f["weights/chosen/data"][-1][0])
        print("resume from %.0f s at 1 thread: %s" % (duration / 2e3, "bit-identical" if same
                                                       else "DIFFERENT"))

    result = {
        "date": time.strftime("%Y-%m-%d"), "commit": benchlib.commit(),
        "machine": "%s, %d cores" % (platform.processor() or platform.machine(), os.cpu_count()),
        "simulated_s": duration / 1e3, "checkpoint_every_s": a.every, "threads": a.threads,
        "wall_s": wall, "checkpoints": int(duration / 1e3 // a.every),
        "checkpoint_bytes": ck_size, "spikes": spikes, "chosen_weight_end": chosen,
        "rss_first_half_mib": float(rss[half][0]), "rss_end_mib": float(rss[-1]),
        "rss_peak_mib": float(rss.max()), "rss_slope_mib_per_sim_hour": float(slope_per_sim_hour),
        "resume_bit_identical": bool(same),
    }
    os.makedirs(os.path.join(benchlib.HERE, "results"), exist_ok=True)
    with open(os.path.join(benchlib.HERE, "results", "soak.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(benchlib.HERE, "results", "soak.md"), "w") as f:
        f.write("# Soak: distal reward, %.0f s simulated, a checkpoint every %.0f s\n\n"
                % (duration / 1e3, a.every))
        f.write("%s, commit %s, %s; `/usr/bin/python3 bench/soak.py`\n\n"
                % (result["date"], result["commit"], result["machine"]))
        f.write("| | |\n|---|---|\n")
        f.write("| wall time | %.1f s (%d threads), %d checkpoints of %.1f MiB |\n"
                % (wall, a.threads, result["checkpoints"], ck_size / 2**20))
        f.write("| resident memory | %.1f MiB at half time, %.1f MiB at the end, peak %.1f MiB |\n"
                % (result["rss_first_half_mib"], result["rss_end_mib"], result["rss_peak_mib"]))
        f.write("| RSS slope, second half | %.3f MiB per simulated hour |\n" % slope_per_sim_hour)
        f.write("| resumed from %.0f s at 1 thread | %s |\n"
                % (duration / 2e3, "bit-identical to the unbroken run" if same else "DIFFERENT"))
        f.write("| spikes, chosen synapse at the end | %d, w = %.3f |\n" % (spikes, chosen))
        f.write("\nTwo 4-hour runs at commit bc221b0 gave slopes of 0.000 and 0.376 MiB per "
                "simulated hour (the sampling sees whole pages, and the allocator's heap grows "
                "in steps). Before the writer's fixed HDF5 caches (commit 793212a) the same "
                "network grew from 32 to 38 MiB between 0.5 and 2 simulated hours; without an "
                "output file it is flat at 18 MiB.\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
