#!/usr/bin/python3
"""A NumPy port of Izhikevich's published simulation of the distal-reward
experiment (daspnet.m, 2007), step for step, as the independent reference for
examples/distal_reward.toml. It follows the MATLAB code's order of
operations exactly, because the experiment's outcome depends on details the
paper does not state (which trace value a pairing reads, in which step a
spike is delivered):

  step t:  I = 13 (U - 0.5)
           fired = v >= 30;  v = c, u += d;  trace(fired, t) = 0.1
           post side: for each fired neuron, every incoming excitatory
             synapse gets sd += presynaptic trace at t - 1
           pre side: every synapse out of a fired neuron adds its weight to
             I of its target in this step, and gets sd -= 1.5 * the
             postsynaptic trace at t (0.1 if the target fired at t too)
           v += 0.5 (0.04 v^2 + 5 v + 140 - u + I), twice;  u += a (0.2 v - u)
           trace(t + 1) = 0.95 trace(t);  DA *= 0.995
           every 10 ms: w = clip(w + (0.002 + DA) sd, 0, 4);  sd *= 0.99
           reward: n2 fires 1..19 ms after n1 -> DA += 0.5 at a step
             1000 + ceil(2000 U) ms later

    /usr/bin/python3 bench/daspnet.py --duration 3600 --seed 1 [--control --rewards K] [--out f.json]
"""
import argparse
import json
import sys
import time

import numpy as np


def simulate(duration_s, seed, control_rewards=None, snapshot_every_s=0, split=False):
    rng = np.random.default_rng(seed)
    Ne, Ni, M = 800, 200, 100
    N = Ne + Ni
    a = np.r_[np.full(Ne, 0.02), np.full(Ni, 0.1)]
    d = np.r_[np.full(Ne, 8.0), np.full(Ni, 2.0)]
    # Targets: randperm(N)(1:M) for excitatory rows (self allowed), randperm(Ne)(1:M) for inhibitory.
    post = np.empty((N, M), dtype=np.int64)
    for i in range(Ne):
        if split:  # as examples/distal_reward.toml: 80 excitatory (not itself) + 20 inhibitory targets
            others = np.delete(np.arange(Ne), i)
            post[i] = np.r_[rng.permutation(others)[:80], Ne + rng.permutation(Ni)[:M - 80]]
        else:
            post[i] = rng.permutation(N)[:M]
    for i in range(Ne, N):
        post[i] = rng.permutation(Ne)[:M]
    s = np.r_[np.ones((Ne, M)), -np.ones((Ni, M))]
    sd = np.zeros((Ne, M))
    n1, syn = 0, 0
    n2 = int(post[n1, syn])
    s[n1, syn] = 0.0

    # Incoming excitatory synapses per target, as flat indices into s[:Ne] and their sources.
    flat_post = post[:Ne].ravel()
    order = np.argsort(flat_post, kind="stable")
    starts = np.searchsorted(flat_post[order], np.arange(N + 1))
    incoming = [order[starts[j]:starts[j + 1]] for j in range(N)]
    sources = [idx // M for idx in incoming]

    v = np.full(N, -65.0)
    u = 0.2 * v
    trace = np.zeros(N)       # STDP trace at the current step
    prev_trace = np.zeros(N)  # ... at the previous step
    DA = 0.0
    steps = int(round(duration_s * 1000))
    if control_rewards is None:
        pending = set()
    else:
        pending = set(int(x) for x in rng.integers(1, steps, size=control_rewards))
    n_rewards = 0
    last_n1 = -10 ** 9
    spikes = np.zeros(N, dtype=np.int64)
    snapshots = []
    t0 = time.perf_counter()
    for t in range(steps):
        I = 13.0 * (rng.random(N) - 0.5)
        fired = np.flatnonzero(v >= 30.0)
        if fired.size:
            v[fired] = -65.0
            u[fired] += d[fired]
            trace[fired] = 0.1
            spikes[fired] += 1
            sdf = sd.ravel()
            for j in fired:
                idx = incoming[j]
                sdf[idx] += prev_trace[sources[j]]
            I += np.bincount(post[fired].ravel(), weights=s[fired].ravel(), minlength=N)
            fe = fired[fired < Ne]
            if fe.size:
                sd[fe] -= 1.5 * trace[post[fe]]
            if control_rewards is None:
                if n1 in fired:
                    last_n1 = t
                if n2 in fired and 0 < t - last_n1 < 20:
                    pending.add(t + 1000 + int(np.ceil(2000 * rng.random())))
        v += 0.5 * ((0.04 * v + 5.0) * v + 140.0 - u + I)
        v += 0.5 * ((0.04 * v + 5.0) * v + 140.0 - u + I)
        u += a * (0.2 * v - u)
        prev_trace, trace = trace, prev_trace
        np.multiply(prev_trace, 0.95, out=trace)
        DA *= 0.995
        if t % 10 == 9:
            np.clip(s[:Ne] + (0.002 + DA) * sd, 0.0, 4.0, out=s[:Ne])
            sd *= 0.99
        if t in pending:
            pending.discard(t)
            DA += 0.5
            n_rewards += 1
        if snapshot_every_s and (t + 1) % int(snapshot_every_s * 1000) == 0:
            snapshots.append(summarise(s, Ne, n1, syn, (t + 1) / 1000.0))
    loop_s = time.perf_counter() - t0
    out = summarise(s, Ne, n1, syn, duration_s)
    out.update({"seed": seed, "n2": n2, "rewards": n_rewards, "loop_s": loop_s,
                "exc_hz": float(spikes[:Ne].sum() / Ne / duration_s),
                "inh_hz": float(spikes[Ne:].sum() / Ni / duration_s), "snapshots": snapshots})
    return out


def summarise(s, Ne, n1, syn, t_s):
    w = s[:Ne].ravel()
    chosen = float(s[n1, syn])
    return {"t_s": t_s, "chosen": chosen, "percentile": float(100.0 * np.mean(w < chosen)),
            "p50": float(np.median(w)), "p999": float(np.percentile(w, 99.9)),
            "mean": float(w.mean()), "at_max": float(np.mean(w >= 3.99)),
            "hist": np.histogram(w, bins=8, range=(0, 4))[0].tolist()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=3600.0, help="simulated seconds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--control", action="store_true", help="rewards at random times instead")
    ap.add_argument("--rewards", type=int, default=0, help="number of rewards in the control")
    ap.add_argument("--snapshot-every", type=float, default=0, help="seconds between weight summaries")
    ap.add_argument("--split", action="store_true",
                    help="excitatory targets: 80 excitatory + 20 inhibitory, as spikeline's example")
    ap.add_argument("--out")
    args = ap.parse_args()
    r = simulate(args.duration, args.seed, args.rewards if args.control else None, args.snapshot_every,
                 args.split)
    text = json.dumps(r, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text if not r["snapshots"] else json.dumps({k: v for k, v in r.items() if k != "snapshots"}))
    for snap in r["snapshots"]:
        print("t=%6.0f s chosen %.3f pct %.2f at_max %.4f mean %.3f hist %s" % (
            snap["t_s"], snap["chosen"], snap["percentile"], snap["at_max"], snap["mean"], snap["hist"]),
            file=sys.stderr)


if __name__ == "__main__":
    main()
