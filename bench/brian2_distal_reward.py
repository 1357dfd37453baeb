#!/usr/bin/python3
"""Izhikevich's distal-reward experiment (shared/specs/distal-reward.md) in
Brian2 cpp_standalone, one thread: an independent discrete port of the
author's daspnet.m, step for step, to compare spikeline's run against.

    /usr/bin/python3 bench/brian2_distal_reward.py [--duration 3600] [--seed 1] [--out FILE.json]
    /usr/bin/python3 bench/brian2_distal_reward.py --control --rewards K ...   # K rewards at random times

Prints (and with --out writes) one JSON object: the chosen synapse's final
weight, its percentile among the 80,000 excitatory weights, the median and
99.9th percentile, the fraction at w_max, rewards, rates, and timing.

Everything is dimensionless and written as explicit per-step code rather
than ODEs, because daspnet's result depends on the order of operations inside
a 1 ms step. Brian2 runs each step's objects by schedule slot ('start',
'groups', 'thresholds', 'synapses', 'resets', 'end', each with 'before_' and
'after_' variants) and then by `order`; every object below names its slot.
One step, as in daspnet:
  start          I = 13*(rand-0.5)
  thresholds     fired = v >= 30
  resets         v = c, u += d, trace x = 0.1 (x is the trace at this step t)
  after_resets   spikes of step t delivered (delay 1 ms in daspnet means: to
                 this step's v update). Exc synapses: post fired ->
                 sd += pre trace at t-1 (xprev); pre fired -> I_post += w and
                 sd -= 1.5 * post trace at t (x, so it already holds the 0.1
                 of a post that fired at t: this is why delivery follows the
                 resets). Then the reward trigger (n1 before n2, as in daspnet).
  end, order 0   v += 0.5*(...) twice, u += a(0.2v-u); xprev = x, x *= 0.95; DA *= 0.995
  end, order 1   (every 10 ms) w = clip(w + (0.002 + DA) sd, 0, 4), sd *= 0.99
  end, order 2   DA += 0.5 if a reward is due at this step
Checked against a numpy replay of daspnet's loop fed with this port's
recorded inputs and reward draws: over 30 s, identical spikes (37,848), DA
and reward times, and weights within 2e-15.
"""
import time

T_START = time.perf_counter()  # before importing Brian2: its import is part of the process cost

import argparse
import json
import shutil
import tempfile

import numpy as np

NE, NI, M = 800, 200, 100
N = NE + NI
SLOTS = 32  # ring of pending rewards; at most ~10 can be pending (1-3 s each, a few triggers/s at most)


def connectivity(seed):
    """Each excitatory neuron has 100 distinct targets among all 1000 (self
    allowed), each inhibitory one 100 distinct targets among the 800
    excitatory (randperm). The published daspnet.m draws with replacement,
    post = ceil(N*rand), so a few pairs are doubled there. Drawn with numpy
    from the seed, so the control gets the same network."""
    rng = np.random.default_rng(seed)
    post_e = np.concatenate([rng.permutation(N)[:M] for _ in range(NE)])
    post_i = np.concatenate([rng.permutation(NE)[:M] for _ in range(NI)])
    return np.repeat(np.arange(NE), M), post_e, np.repeat(np.arange(NE, N), M), post_i


def build(seed, control_times_ms=None):
    """The network (not yet run). control_times_ms: None for the rewarded
    experiment, else the steps at which rewards are given (the control)."""
    from brian2 import NeuronGroup, Synapses, SpikeGeneratorGroup, BrianLogger, defaultclock, ms
    import brian2
    brian2.seed(seed)  # the C++ generator behind rand() in the generated code
    defaultclock.dt = 1 * ms  # one daspnet step; t_in_timesteps is then the time in ms

    G = NeuronGroup(N, '''v : 1
                          u : 1
                          I : 1                  # this step's input, external + synaptic
                          x : 1                  # STDP trace at the current step
                          xprev : 1              # the trace at the previous step
                          DA : 1                 # dopamine (same value in every neuron; read as DA_pre)
                          rew : 1                # set to 1 when a reward is due at this step
                          a : 1 (constant)
                          d : 1 (constant)
                          nspk : integer
                          nrew : integer''',
                    threshold='v >= 30', reset='v = -65; u += d; x = 0.1; nspk += 1')
    G.v = -65
    G.u = 0.2 * -65
    G.a = np.r_[np.full(NE, 0.02), np.full(NI, 0.1)]
    G.d = np.r_[np.full(NE, 8.0), np.full(NI, 2.0)]
    G.run_regularly('I = 13*(rand() - 0.5)', when='start', order=0)
    # The v update uses this step's I, so it follows delivery: slot 'end',
    # not the 'groups' slot where Brian2 integrates ODEs (before thresholds).
    G.run_regularly('''v += 0.5*((0.04*v + 5)*v + 140 - u + I)
                       v += 0.5*((0.04*v + 5)*v + 140 - u + I)
                       u += a*(0.2*v - u)
                       xprev = x
                       x = 0.95*x
                       DA = 0.995*DA''', when='end', order=0)
    # After the weight update (order 1): daspnet adds the reward last, so a
    # reward first counts at the next 10 ms update, decayed.
    G.run_regularly('''nrew += int(rew > 0)
                       DA += 0.5*rew
                       rew = 0''', when='end', order=2)

    pre_e, post_e, pre_i, post_i = connectivity(seed)
    n1, n2 = 0, int(post_e[0])  # daspnet: the first synapse of neuron 1, n2 = its target
    Se = Synapses(G, G, 'w : 1\nsd : 1',
                  on_pre='I_post += w\nsd -= 1.5*x_post', on_post='sd += xprev_pre')
    Se.connect(i=pre_e, j=post_e)
    Se.w = '1.0 - 1.0*int(i == n1 and j == n2)'  # targets are distinct, so this is the one synapse
    Si = Synapses(G, G, on_pre='I_post -= 1')  # inhibitory weights fixed at -1
    Si.connect(i=pre_i, j=post_i)
    for path in (Se.pre, Se.post, Si.pre):
        path.when, path.order = 'after_resets', 0  # see the docstring: after x = 0.1
    # Brian2 steps from t = 0, so this runs at steps 0, 10, 20 ... (daspnet: 10,
    # 20, ...; the step-0 update is a no-op since sd = 0): the same grid.
    Se.run_regularly('w = clip(w + (0.002 + DA_pre)*sd, 0, 4)\nsd = 0.99*sd',
                     dt=10 * ms, when='end', order=1)
    objs = [G, Se, Si]

    if control_times_ms is None:
        # Pending rewards: SLOTS neurons, each holding one due step (-1: free).
        # All slots see every trigger and keep the same count ntrig; slot
        # ntrig % SLOTS takes it, so several rewards can be pending at once.
        # A slot "spikes" at its due step, which sets rew in the exc neurons:
        # rew = 1 rather than DA += 0.5 per slot, so two rewards due at the same
        # step count once, as daspnet's any(rew == t).
        Q = NeuronGroup(SLOTS, '''due : integer
                                  t1 : integer        # n1's last spike (a copy in every slot)
                                  ntrig : integer
                                  overflow : integer  # a pending reward overwritten (must stay 0)
                                  slot : integer (constant)''',
                        threshold='due == t_in_timesteps', reset='')
        Q.due, Q.t1, Q.slot = -1, -10 ** 6, 'i'
        watch1 = Synapses(G, Q, on_pre='t1_post = t_in_timesteps')
        watch1.connect(i=np.full(SLOTS, n1), j=np.arange(SLOTS))
        # daspnet: n2 fires at now, n1 last fired at n1f, now - n1f < 20 and
        # n2's spike after n1's (same-step pairs do not count): 1..19 ms.
        watch2 = Synapses(G, Q, on_pre='''
            dt1 = t_in_timesteps - t1_post
            ok = int(dt1 >= 1 and dt1 <= 19)
            take = ok*int(ntrig_post % SLOTS == slot_post)
            overflow_post += take*int(due_post > t_in_timesteps)
            due_post = take*(t_in_timesteps + 1000 + int(ceil(2000*rand()))) + (1 - take)*due_post
            ntrig_post += ok''', namespace={'SLOTS': SLOTS})
        # Brian2 warns that this code may depend on the order of execution: it
        # does not, each synapse writes only its own slot (one synapse per slot).
        BrianLogger.suppress_name('base')  # i.e. brian2.codegen.generators.base
        watch2.connect(i=np.full(SLOTS, n2), j=np.arange(SLOTS))
        # n1's spike is recorded before n2's is tested, as in daspnet.
        watch1.pre.when, watch1.pre.order = 'after_resets', 1
        watch2.pre.when, watch2.pre.order = 'after_resets', 2
        source = Q
        objs += [Q, watch1, watch2]
    else:
        source = SpikeGeneratorGroup(1, np.zeros(len(control_times_ms), int), control_times_ms * ms)
        Q = None
        objs.append(source)
    # Only excitatory neurons' DA is read (as DA_pre by their synapses).
    deliver = Synapses(source, G[:NE], on_pre='rew_post = 1')
    deliver.connect()
    objs.append(deliver)
    return dict(G=G, Se=Se, Q=Q, objs=objs, n1=n1, n2=n2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--duration', type=float, default=3600.0, help='simulated seconds')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--control', action='store_true', help='rewards at random times, no trigger')
    ap.add_argument('--rewards', type=int, default=0, help='with --control: how many rewards')
    ap.add_argument('--out', help='also write the JSON here')
    ap.add_argument('--keep', action='store_true', help='keep the build directory')
    args = ap.parse_args()

    import warnings  # Debian's pythran, imported by Brian2, warns about numpy aliases
    warnings.filterwarnings('ignore', category=FutureWarning, module='pythran')
    from brian2 import Network, set_device, device, prefs, second
    # A directory per invocation, so that two runs can build side by side.
    outdir = tempfile.mkdtemp(prefix='brian2_distal_reward_', dir='/tmp')
    set_device('cpp_standalone', directory=outdir, build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = 0  # no OpenMP: one thread
    prefs.devices.cpp_standalone.extra_make_args_unix = ['-j1']  # compile on one core too (shared machine)

    steps = int(round(args.duration * 1000))
    times = None
    if args.control:
        # K distinct steps, uniform over the run; a generator of its own so the
        # network (drawn from --seed) is the same as the rewarded run's.
        rng = np.random.default_rng(10 ** 6 + args.seed)
        times = np.sort(rng.choice(np.arange(1, steps), size=min(args.rewards, steps - 1), replace=False))
    net_objs = build(args.seed, times)
    Network(*net_objs['objs']).run(args.duration * second)  # standalone: records the run, builds nothing

    t0 = time.perf_counter()
    device.build(directory=outdir, compile=True, run=False, with_output=False)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    device.run(directory=outdir, with_output=False, run_args=[])
    run_s = time.perf_counter() - t0

    G, Se, Q = net_objs['G'], net_objs['Se'], net_objs['Q']
    w = np.asarray(Se.w[:])
    i, j = np.asarray(Se.i[:]), np.asarray(Se.j[:])
    chosen = float(w[(i == net_objs['n1']) & (j == net_objs['n2'])][0])
    nspk = np.asarray(G.nspk[:])
    res = {
        'simulator': 'brian2 cpp_standalone (1 thread)', 'duration_s': args.duration, 'seed': args.seed,
        'mode': 'control' if args.control else 'rewarded', 'n1': net_objs['n1'], 'n2': net_objs['n2'],
        'chosen_w': chosen,
        'chosen_percentile': float(100.0 * np.mean(w < chosen)),
        'median_w': float(np.median(w)),
        'p999_w': float(np.percentile(w, 99.9)),
        'frac_w_ge_3.99': float(np.mean(w >= 3.99)),
        'rewards_delivered': int(G.nrew[0]),
        'rate_exc_hz': float(nspk[:NE].sum() / NE / args.duration),
        'rate_inh_hz': float(nspk[NE:].sum() / NI / args.duration),
        'build_s': round(build_s, 2),  # code generation + compilation
        'loop_s': round(float(device._last_run_time), 3),  # the compiled binary's own simulation loop
        'run_s': round(run_s, 3),  # the binary's process, including writing results
    }
    if Q is not None:
        res['triggers'] = int(Q.ntrig[0])
        res['reward_overflow'] = int(np.asarray(Q.overflow[:]).sum())
    else:
        res['rewards_requested'] = args.rewards
    res['loop_s_per_sim_s'] = round(res['loop_s'] / args.duration, 5)
    res['process_wall_s'] = round(time.perf_counter() - T_START, 2)
    text = json.dumps(res, indent=1)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    if not args.keep:
        shutil.rmtree(outdir, ignore_errors=True)


if __name__ == '__main__':
    main()
