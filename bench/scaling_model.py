#!/usr/bin/python3
"""The scaling model of docs/scaling.md (docs/mpi-design.md, section 9),
with its parameters taken from this machine's measurements, and a
discrete-event simulation of K ranks that exchange once per window.

    /usr/bin/python3 bench/scaling_model.py [--windows 2000] [--seed 1]

Reads bench/results/mpi_scaling.json and bench/results/window_times/ (both
written by bench/mpi_scaling.py); writes bench/results/scaling_model.md and
.json.

A node is 128 cores (two 64-core AMD EPYC Rome, as in Kurth et al. 2021's
NEST runs); one rank per node with 128 threads, one partition per thread
(P = 128 K). Per window of W steps (PD14: W = 1 step = 0.1 ms):

    T_window = T_compute + T_file + T_sync + T_comm
    T_compute = (N c_upd + max(E c_ev, E c b_ev / B_node)) / (K c)   per thread
    T_file    = S m c_slot       every partition tests every spike (Simulator::enqueue):
                c_slot = c_row where a source reaches the partition with chance
                f = 1 - exp(-k_out / (m P)) > 1/2, else t_bit + f c_row (its bitmap)
    T_sync    = the rank's StepTeam join of c threads
    T_comm    = two allgathers by recursive doubling (headers, 16 B per rank; then
                8-byte records, S/K per rank): 2 ceil(log2 K) alpha
                + beta (16 (K - 1) + 8 S (K - 1) / K) + o_sw
    RTF       = T_window / (W dt)

The analytic form is a lower bound: every rank computes exactly the mean.
The discrete-event simulation gives each thread of each rank its own
compute time per window, drawn from the per-window times measured here
(bench/window_times.cpp), takes the slowest thread of each rank (the
StepTeam join), and runs the two allgathers round by round: in round j rank
r waits for its partner r xor 2^j, so a late rank delays everyone within
log2 K rounds, and a rank leaves the exchange at its own time (the next
window starts from there). Its mean window time is the expected value.
"""
import argparse
import datetime
import json
import math
import os
import statistics
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
NODE_CORES = 128
NODES = (16, 64, 256, 1024)
ALPHA_SENSITIVITY_US = (0.75, 1.5, 3.0, 6.0)
# A dedicated node's noise (assumed: this VM cannot measure one): per
# thread, a relative jitter of 2 % of its work, and an OS interruption
# (timer tick, daemon) of 2 us hitting a given thread once per ms.
DEDICATED_JITTER = 0.02
DEDICATED_TICK_US, DEDICATED_TICK_PERIOD_MS = 2.0, 1.0

# Values not measured here, with where they come from.
ASSUMED = {
    "alpha_fabric_us": (1.5, "latency of one round of a collective between nodes: InfiniBand HDR "
                             "adapters are specified below 0.6 us (NVIDIA ConnectX-6), plus switch "
                             "hops and MPI software; sensitivity 0.75-6 us"),
    "beta_fabric_ns_per_byte": (0.1, "10 GB/s per node effective (HDR line rate 25 GB/s)"),
    "b_ev_bytes": (64.0, "one random cache line into the target's input per delivered event"),
    "B_node_GBps": (200.0, "one 64-core EPYC Rome socket, 8 channels of DDR4-3200 (205 GB/s)"),
    "T_sync_us": (2.0, "join of 128 threads: this machine's 2-thread hand-over (110-135 ns, "
                       "results/machine.md) over log2 128 = 7 levels, doubled"),
    "c_upd_ns": (0.7, "neuron update per step: measured here for iaf_cond_exp at 64,000 "
                      "neurons by bench/machine_bench (0.64-0.87 ns, results/machine.md), taken "
                      "for iaf_psc_exp"),
}
PD14_PROJECTIONS_PER_SOURCE = 8   # m: every PD14 population projects to all 8
COBA_PROJECTIONS_PER_SOURCE = 2   # exc -> exc, exc -> inh (inh alike)
# COBA 64,000 at in-degree 80 (p = 0.00125): a source's out-degree into the
# 51,200 excitatory and the 12,800 inhibitory neurons.
COBA64K_K_PROJ = (64.0, 16.0)


# ---------------------------------------------------------------- the model

def allgather_rounds(k):
    return 0 if k <= 1 else math.ceil(math.log2(k))


def comm_time(p, net, k):
    """T_comm of the two allgathers, mean (no waiting), in us."""
    if k <= 1:
        return 0.0
    s = net["spikes_per_window"]
    beta_us = p["beta_ns_per_byte"] * 1e-3
    return (2 * allgather_rounds(k) * p["alpha_us"]
            + beta_us * (16 * (k - 1) + 8 * s * (k - 1) / k) + p["o_sw_us"])


def thread_compute(p, net, k):
    """Mean compute per thread per window (us): updates and deliveries,
    the deliveries at least the node's memory traffic."""
    c = p["cores"]
    ev_cpu = net["events_per_window"] * p["c_ev_ns"]
    ev_mem = net["events_per_window"] * c * p["b_ev_bytes"] / p["B_node_GBps"]  # ns (B / (GB/s))
    return (net["neurons"] * p["c_upd_ns"] + max(ev_cpu, ev_mem)) * 1e-3 / (k * c)


def reach(k_proj, partitions):
    """The chance that a source has a synapse of a projection (out-degree
    k_proj) in a given one of `partitions` partitions."""
    return 1.0 - math.exp(-k_proj / partitions)


def slot_ns(p, k_proj, partitions):
    """The cost of one (spike, projection, partition) of the filing: a row
    lookup (c_row) where the block is dense; where at most half the sources
    reach the partition, the source bitmap's test (t_bit) and the lookup of
    the rows that exist (Simulator::make_partitions keeps a bitmap only
    there)."""
    f = reach(k_proj, partitions)
    return p["c_row_ns"] if f > 0.5 else p["t_bit_ns"] + f * p["c_row_ns"]


def file_time(p, net, k):
    """Every partition tests every spike, once per projection of its
    population, and looks up the rows that reach it."""
    partitions = p["cores"] * k
    m = net["projections_per_source"]
    return net["spikes_per_window"] * m * slot_ns(p, net["k_out"] / m, partitions) * 1e-3


def analytic(p, net, k):
    """The lower bound: every thread of every rank computes the mean."""
    terms = {"compute": thread_compute(p, net, k), "file": file_time(p, net, k),
             "sync": p["T_sync_us"] if p["cores"] > 1 else 0.0, "comm": comm_time(p, net, k)}
    t = sum(terms.values())
    return {"T_window_us": t, "rtf": t / (net["window_ms"] * 1e3), "terms": terms,
            "dominant": max(terms, key=terms.get)}


def volume(net, k):
    """Bytes per rank per window: sent (header + own records) and received."""
    s = net["spikes_per_window"]
    return {"sent": 16 + 8 * s / k, "received": 16 * (k - 1) + 8 * s * (k - 1) / k}


def des(p, net, k, noise, windows, rng):
    """Discrete-event simulation of K ranks x c threads for `windows`
    windows. noise: None (every thread computes the mean: reproduces
    analytic() exactly) or a dict with 'common' (relative fluctuation of
    the whole network's work per window, a series), 'residual' (standardised
    per-rank residuals) and 'sd_us' (fn: mean thread time -> sd in us).
    Returns the mean window time and the mean wait of a rank in the
    exchange beyond the fabric's own time."""
    if k < 1 or k & (k - 1):
        raise ValueError("des: K = %d ranks; the recursive-doubling exchange modelled here needs "
                         "a power of 2 (1, 2, 4, ...)" % k)
    c = p["cores"]
    mu = thread_compute(p, net, k)
    fixed = file_time(p, net, k) + (p["T_sync_us"] if c > 1 else 0.0)
    ranks = np.arange(k)
    ready = np.zeros(k)
    beta_us = p["beta_ns_per_byte"] * 1e-3
    rounds = allgather_rounds(k)
    pool = None
    if noise is not None:
        # The slowest of c threads, each with its own residual and its own
        # share of the window's events (Poisson: relative sd 1/sqrt(n)).
        sd = noise["sd_us"](mu)
        n_ev = net["events_per_window"] / (k * c)
        ev_share = net["events_per_window"] * p["c_ev_ns"] * 1e-3 / (k * c)
        draws = 2048
        res = rng.choice(noise["residual"], size=(draws, c)) * sd
        poisson = rng.standard_normal((draws, c)) * (ev_share / math.sqrt(n_ev) if n_ev > 0 else 0)
        tick = 0.0
        if "tick" in noise:
            length_us, period_ms = noise["tick"]
            tick = length_us * (rng.random((draws, c)) < net["window_ms"] / period_ms)
        pool = (res + poisson + tick).max(axis=1)
        common = noise["common"]
    arrive_total, wait_total = 0.0, 0.0
    for w in range(windows):
        if pool is None:
            comp = np.full(k, mu + fixed)
        else:
            cw = common[rng.integers(len(common))]
            comp = mu * (1 + cw) + pool[rng.integers(len(pool), size=k)] + fixed
        arrive = ready + comp
        t = arrive.copy()
        for bytes_per_rank in (16.0, 8.0 * net["spikes_per_window"] / k):
            for j in range(rounds):
                partner = ranks ^ (1 << j)
                t = np.maximum(t, t[partner]) + p["alpha_us"] + beta_us * bytes_per_rank * (1 << j)
        if k > 1:
            t = t + p["o_sw_us"]
        wait_total += float(np.mean(t - arrive)) - comm_time(p, net, k)
        arrive_total += float(np.mean(comp))
        ready = t
    t_window = float(np.max(ready)) / windows
    return {"T_window_us": t_window, "rtf": t_window / (net["window_ms"] * 1e3),
            "mean_compute_us": arrive_total / windows, "mean_wait_us": wait_total / windows}


# ---------------------------------------------------------- the measurements

def load_window_times(name, k):
    """Per rank, the (compute_us, exchange_us, spikes) columns of
    results/window_times/NAME_kK.rR.txt."""
    out = []
    for r in range(k):
        path = os.path.join(RESULTS, "window_times", "%s_k%d.r%d.txt" % (name, k, r))
        out.append(np.loadtxt(path, comments="#", ndmin=2))
    return out


def noise_of(name):
    """From the 2-rank per-window compute times of NAME: the common relative
    fluctuation (the same network activity on both ranks), the residual of
    each rank about it (in us), and each rank's mean."""
    a, b = load_window_times(name, 2)
    n = min(len(a), len(b))
    x = np.stack([a[:n, 0], b[:n, 0]])
    means = x.mean(axis=1, keepdims=True)
    rel = x / means - 1
    common = rel.mean(axis=0)
    residual_us = x - means * (1 + common)
    # With 2 ranks the residual about their mean has half the variance of
    # one rank's own: sqrt(2) restores it.
    sd = float(np.std(residual_us) * math.sqrt(2))
    return {"common": common, "residual_us": residual_us.ravel() * math.sqrt(2), "sd_us": sd,
            "mean_us": float(means.mean()), "rank_means_us": [float(v) for v in means.ravel()],
            "p99_over_median": float(np.percentile(x, 99) / np.median(x))}


def exchange_row(exchanges, k, yield_when_idle):
    for e in exchanges:
        if e["ranks"] == k and e["yield_when_idle"] == yield_when_idle:
            return e
    sys.exit("no mpi_exchange result for K = %d (yield %s) in mpi_scaling.json" % (k, yield_when_idle))


def find(rows, case, variant):
    for r in rows:
        if r["case"] == case and r["variant"] == variant:
            return r
    sys.exit("no '%s' / '%s' row in mpi_scaling.json: run bench/mpi_scaling.py" % (case, variant))


def bitmap_test(file_spikes, c_row):
    """t_bit: the cost of a (spike, projection, partition) whose block has a
    source bitmap, less the lookups of the rows that reach the partition,
    from bench/file_spikes.py's COBA 64,000 on one thread. Between 16
    partitions (no block keeps a bitmap) and the most measured (every block
    keeps one), the extra partitions cost r times as much with the bitmaps
    as without; without, a slot costs c_row (as c_row is measured), with
    them t_bit + f c_row, f the mean reach of the two projections. Like
    c_row, an upper bound: each partition's fixed per-step work is in it."""
    rows = {r["partitions"]: r for r in file_spikes["bitmaps"] if r["network"] == "COBA 64,000"}
    lo, hi = min(rows), max(rows)
    a, b = rows[lo], rows[hi]
    if a["automatic_bitmaps"] != 0 or b["automatic_bitmaps"] != b["blocks"]:
        sys.exit("file_spikes.json: expected no bitmap at %d partitions and every block with "
                 "one at %d" % (lo, hi))
    r = (b["automatic_min"] - a["automatic_min"]) / (b["never_min"] - a["never_min"])
    f = statistics.mean(reach(k, hi) for k in COBA64K_K_PROJ)
    t_bit = (r - f) * c_row
    why = ("%.2f: COBA 64,000 at 1 thread, the partitions from %d to %d cost %.3f times as much "
           "with the bitmaps as without (bench/results/file_spikes.json, commit %s), less the "
           "lookups of the rows that reach a partition (%.3f of them at %d); upper bound" % (
               t_bit, lo, hi, r, file_spikes["commit"], f, hi))
    return t_bit, why


def parameters(scaling, file_spikes):
    """The model's parameters: (values, provenance)."""
    meta = scaling["meta"]
    dt_ms = 0.1
    pd = find(scaling["strong"], "PD14 full scale", "1 process x 1 thread")
    steps = pd["simulated_s"] * 1e3 / dt_ms
    n_pd14 = 77169
    k_out = pd["synapses"] / n_pd14
    spikes_per_window = pd["spikes"] / steps
    events = spikes_per_window * k_out
    t_step_us = pd["loop_s_median"] / steps * 1e6
    c_upd = ASSUMED["c_upd_ns"][0]
    c_ev = (t_step_us * 1e3 - n_pd14 * c_upd) / events
    # c_row: the extra loop time of 256 partitions over 1 on one thread, per
    # spike, projection and extra partition (an upper bound: it includes
    # each partition's fixed cost per step).
    one = find(scaling["partitions"], "COBA 64000", "1 process x 1 thread")
    many = find(scaling["partitions"], "COBA 64000", "1 process x 1 thread, 256 partitions")
    coba_steps = one["simulated_s"] * 1e3 / dt_ms
    coba_s = one["spikes"] / coba_steps
    c_row = ((many["loop_s_median"] - one["loop_s_median"]) * 1e9
             / (coba_steps * 255 * coba_s * COBA_PROJECTIONS_PER_SOURCE))
    t_bit, t_bit_why = bitmap_test(file_spikes, c_row)
    ex = exchange_row(scaling["exchange"], 2, False)
    by_n = {c["records_per_rank"]: c for c in ex["cases"]}
    o_sw = by_n[1]["median_us"] - 2 * ex["bare_allgather_us"]["median"]
    values = {"dt_ms": dt_ms, "cores": NODE_CORES, "c_upd_ns": c_upd, "c_ev_ns": c_ev,
              "c_row_ns": c_row, "t_bit_ns": t_bit, "o_sw_us": max(0.0, o_sw),
              "alpha_us": ASSUMED["alpha_fabric_us"][0],
              "beta_ns_per_byte": ASSUMED["beta_fabric_ns_per_byte"][0],
              "b_ev_bytes": ASSUMED["b_ev_bytes"][0], "B_node_GBps": ASSUMED["B_node_GBps"][0],
              "T_sync_us": ASSUMED["T_sync_us"][0]}
    measured = {
        "pd14_step_1_thread_us": t_step_us, "pd14_spikes_per_window": spikes_per_window,
        "pd14_k_out": k_out, "pd14_events_per_window": events,
        "c_ev_ns": "%.2f: (PD14 1-thread step %.0f us - N c_upd) / %.0f events" % (
            c_ev, t_step_us, events),
        "c_row_ns": "%.2f: COBA 64,000 at 1 thread, 256 partitions against 1 (upper bound)" % c_row,
        "t_bit_ns": t_bit_why,
        "o_sw_us": "%.2f: protocol at 1 record per rank minus two bare MPI_Allgathers, K = 2 "
                   "loopback" % o_sw,
        "alpha_loopback_us": ex["bare_allgather_us"]["median"],
        "protocol_loopback_us": {n: by_n[n]["median_us"] for n in sorted(by_n)},
        "beta_loopback_ns_per_byte": ex["beta_ns_per_byte"],
        "commit": meta["commit"], "date": meta["date"]}
    pd14 = {"name": "PD14", "neurons": n_pd14, "spikes_per_window": spikes_per_window,
            "events_per_window": events, "projections_per_source": PD14_PROJECTIONS_PER_SOURCE,
            "k_out": k_out, "window_ms": dt_ms}
    return values, measured, pd14


def scaled(net, factor):
    """The same in-degree and rates at `factor` times the neurons."""
    out = dict(net)
    out["name"] = "PD14 x %d" % factor
    for key in ("neurons", "spikes_per_window", "events_per_window"):
        out[key] = net[key] * factor
    return out


def noise_model(pd14_noise, coba_noise):
    """This machine's noise: the per-thread residual's sd as a function of
    the thread's mean work, a line through the two networks measured at 2
    ranks (their mean per-rank window times differ by about 10x), floored
    at the smaller measured sd (an sd that grows with the work is relative
    noise: cache and memory contention; one that stays is absolute: the OS
    and the other processes of this shared VM); the residual's shape is
    PD14's, standardised."""
    (x0, y0), (x1, y1) = sorted([(coba_noise["mean_us"], coba_noise["sd_us"]),
                                 (pd14_noise["mean_us"], pd14_noise["sd_us"])])
    slope = max(0.0, (y1 - y0) / (x1 - x0)) if x1 > x0 else 0.0
    floor = min(y0, y1)
    intercept = max(floor, y0 - slope * x0)

    def sd_us(mu):
        return max(floor, intercept + slope * mu)

    return {"common": pd14_noise["common"], "residual": pd14_noise["residual_us"] / pd14_noise["sd_us"],
            "sd_us": sd_us, "line": {"intercept_us": intercept, "slope": slope, "floor_us": floor}}


def dedicated_noise(pd14_noise, rng):
    """A dedicated node: the measured common fluctuation of the network's
    activity; per thread a normal residual of DEDICATED_JITTER of its work
    and, with probability window / tick period, an interruption of
    DEDICATED_TICK_US (assumed: this VM cannot measure a quiet node)."""
    return {"common": pd14_noise["common"], "residual": rng.standard_normal(4096),
            "sd_us": lambda mu: DEDICATED_JITTER * mu,
            "tick": (DEDICATED_TICK_US, DEDICATED_TICK_PERIOD_MS)}


# ------------------------------------------------------------------ output

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--windows", type=int, default=2000, help="windows per simulated run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--results", default=None,
                    help="where mpi_scaling.json is and the model goes (default bench/results)")
    args = ap.parse_args()
    global RESULTS
    RESULTS = args.results or RESULTS
    with open(os.path.join(RESULTS, "mpi_scaling.json")) as f:
        scaling = json.load(f)
    with open(os.path.join(RESULTS, "file_spikes.json")) as f:
        file_spikes = json.load(f)
    p, measured, pd14 = parameters(scaling, file_spikes)
    pd14_noise, coba_noise = noise_of("pd14"), noise_of("coba64k")
    noise = noise_model(pd14_noise, coba_noise)
    rng = np.random.default_rng(args.seed)
    dedicated = dedicated_noise(pd14_noise, rng)
    nets = [pd14, scaled(pd14, 10), scaled(pd14, 100)]

    rows = []
    for net in nets:
        for nodes in (1, 2) + NODES:
            a = analytic(p, net, nodes)
            d = des(p, net, nodes, noise, args.windows, rng)
            q = des(p, net, nodes, dedicated, args.windows, rng)
            z = des(p, net, nodes, None, 3, rng)
            rows.append({"network": net["name"], "nodes": nodes, "analytic_rtf": a["rtf"],
                         "des_rtf": d["rtf"], "des_dedicated_rtf": q["rtf"],
                         "des_dedicated_wait_us": q["mean_wait_us"], "des_no_noise_rtf": z["rtf"],
                         "terms_us": a["terms"], "dominant": a["dominant"],
                         "des_wait_us": d["mean_wait_us"], "des_compute_us": d["mean_compute_us"],
                         "volume": volume(net, nodes)})
            print("%-10s K=%5d analytic %.3f  DES %.3f (wait %.1f us)  dedicated %.3f  dominant %s" % (
                net["name"], nodes, a["rtf"], d["rtf"], d["mean_wait_us"], q["rtf"], a["dominant"]),
                flush=True)
    sensitivity = []
    for alpha in ALPHA_SENSITIVITY_US:
        q = dict(p, alpha_us=alpha)
        for net in nets:
            for nodes in NODES:
                sensitivity.append({"alpha_us": alpha, "network": net["name"], "nodes": nodes,
                                    "analytic_rtf": analytic(q, net, nodes)["rtf"]})
    best = {}
    for net in nets:
        ks = [2 ** i for i in range(0, 15)]
        rtf = [analytic(p, net, k)["rtf"] for k in ks]
        i = int(np.argmin(rtf))
        best[net["name"]] = {"nodes": ks[i], "analytic_rtf": rtf[i]}
    out = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "parameters": p, "measured": measured,
           "assumed": {k: {"value": v[0], "why": v[1]} for k, v in ASSUMED.items()},
           "networks": nets,
           "noise": {"pd14_2_ranks": {k: v for k, v in pd14_noise.items()
                                      if k not in ("common", "residual_us")},
                     "coba64k_2_ranks": {k: v for k, v in coba_noise.items()
                                         if k not in ("common", "residual_us")},
                     "sd_line": noise["line"]},
           "rows": rows, "alpha_sensitivity": sensitivity, "best": best,
           "windows": args.windows, "seed": args.seed}
    with open(os.path.join(RESULTS, "scaling_model.json"), "w") as f:
        json.dump(out, f, indent=1, default=float)
    write_md(out)


def write_md(out):
    p, m = out["parameters"], out["measured"]
    lines = ["# Scaling model: predictions (bench/scaling_model.py)", "",
             "%s, from bench/results/mpi_scaling.json (commit %s, %s). A node: 128 cores, one rank "
             "with 128 threads; RTF = wall time / simulated time (below 1: faster than real time). "
             "DES: discrete-event simulation of the ranks and the two allgathers, %d windows, "
             "per-thread times drawn from the measured per-window distribution. docs/scaling.md "
             "explains the model." % (out["date"], m["commit"], m["date"], out["windows"]), "",
             "## Parameters", "", "| parameter | value | source |", "|---|---|---|"]
    lines.append("| c_ev (per delivered event) | %.2f ns | measured: %s |" % (p["c_ev_ns"], m["c_ev_ns"]))
    lines.append("| c_row (per spike, projection, partition) | %.2f ns | measured: %s |" % (
        p["c_row_ns"], m["c_row_ns"]))
    lines.append("| t_bit (per spike, projection, partition with a bitmap) | %.2f ns | measured: %s |" % (
        p["t_bit_ns"], m["t_bit_ns"]))
    lines.append("| o_sw (protocol software per exchange) | %.2f us | measured: %s |" % (
        p["o_sw_us"], m["o_sw_us"]))
    for k, v in out["assumed"].items():
        lines.append("| %s | %g | assumed: %s |" % (k, v["value"], v["why"]))
    n = out["noise"]
    lines += ["", "Per-window compute at 2 ranks (this machine): PD14 mean %.0f us per rank "
              "(rank means %s), sd of a rank's own residual %.1f us, p99/median %.2f; COBA 64,000 "
              "mean %.0f us, residual sd %.1f us, p99/median %.2f. Per-thread residual sd in the DES: "
              "max(%.1f, %.1f + %.3f x mean thread time) us (this VM); a dedicated node: %.0f %% of the "
              "thread's time, normal, and a %.0f us interruption once per %.0f ms per thread (assumed)." % (
                  n["pd14_2_ranks"]["mean_us"],
                  ", ".join("%.0f" % v for v in n["pd14_2_ranks"]["rank_means_us"]),
                  n["pd14_2_ranks"]["sd_us"], n["pd14_2_ranks"]["p99_over_median"],
                  n["coba64k_2_ranks"]["mean_us"], n["coba64k_2_ranks"]["sd_us"],
                  n["coba64k_2_ranks"]["p99_over_median"], n["sd_line"]["floor_us"],
                  n["sd_line"]["intercept_us"], n["sd_line"]["slope"], 100 * DEDICATED_JITTER,
                  DEDICATED_TICK_US, DEDICATED_TICK_PERIOD_MS),
              "", "## Predictions", "",
              "| network | nodes | RTF lower bound | RTF expected, this VM's noise (DES) | "
              "RTF expected, dedicated node (DES) | compute us | file us | comm us | DES wait us "
              "(VM / dedicated) | dominant term of the bound | bytes sent / received per rank per window |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in out["rows"]:
        t = r["terms_us"]
        lines.append("| %s | %d | %.3f | %.3f | %.3f | %.2f | %.2f | %.2f | %.1f / %.1f | %s | "
                     "%.0f / %.0f |" % (
                         r["network"], r["nodes"], r["analytic_rtf"], r["des_rtf"],
                         r["des_dedicated_rtf"], t["compute"], t["file"], t["comm"], r["des_wait_us"],
                         r["des_dedicated_wait_us"], r["dominant"], r["volume"]["sent"],
                         r["volume"]["received"]))
    lines += ["", "## Sensitivity to the fabric's latency (lower bound RTF)", "",
              "| alpha per round | network | " + " | ".join("%d nodes" % k for k in NODES) + " |",
              "|---|---|" + "---|" * len(NODES)]
    by = {}
    for s in out["alpha_sensitivity"]:
        by.setdefault((s["alpha_us"], s["network"]), {})[s["nodes"]] = s["analytic_rtf"]
    for (alpha, net), v in by.items():
        lines.append("| %.2f us | %s | %s |" % (alpha, net, " | ".join("%.3f" % v[k] for k in NODES)))
    lines += ["", "Best node count (lower bound, powers of 2 up to 16,384): " + "; ".join(
        "%s: %d nodes, RTF %.3f" % (k, v["nodes"], v["analytic_rtf"]) for k, v in out["best"].items())]
    with open(os.path.join(RESULTS, "scaling_model.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
