#!/usr/bin/env python3
"""Writes examples/pd14.toml: the cortical microcircuit of Potjans and
Diesmann (2014) at full scale, as shared/specs/benchmarks.md gives it (the
parameters of the model's published reference implementation, DC-driven
variant): 77,169 iaf_psc_exp neurons in 8 populations, 64 projections drawn
with fixed_total_number (multapses, no autapses), normal weights redrawn to
keep their sign, normal delays redrawn below 0.05 ms and rounded to the grid.

    /usr/bin/python3 bench/make_pd14.py [--scale 1.0] [--output examples/pd14.toml]

--scale s multiplies the population sizes and keeps the connection
probabilities (so a synapse count of about s^2 times), with the in-degree and
so the activity changed: for quick tests of the file, not for the benchmark.
"""
import argparse
import math
import os

POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
SIZES = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948]
V0_MEAN = [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]
V0_SD = [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]
K_EXT = [1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]
# row = target, column = source, in the order of POPS
P = [
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
]
C_M, TAU_M, TAU_SYN = 250.0, 10.0, 0.5
E_L, V_TH, V_RESET, T_REF = -65.0, -50.0, -65.0, 2.0
PSP_E, G, REL_SD_W = 0.15, -4.0, 0.1
DELAY_E, DELAY_I, REL_SD_D, DELAY_MIN = 1.5, 0.75, 0.5, 0.05
BG_RATE = 8.0  # Hz


def psc_per_psp():
    """pA of PSC amplitude per mV of PSP amplitude (about 585 here)."""
    sub = 1.0 / (TAU_SYN - TAU_M)
    pre = TAU_M * TAU_SYN / C_M * sub
    frac = (TAU_M / TAU_SYN) ** sub
    return 1.0 / (pre * (frac**TAU_M - frac**TAU_SYN))


def synapse_count(p, n_pre, n_post):
    """K = log(1 - p) / log((Npre Npost - 1) / (Npre Npost)), rounded."""
    if p <= 0:
        return 0
    prod = float(n_pre) * float(n_post)
    return int(round(math.log(1.0 - p) / math.log((prod - 1.0) / prod)))


def fmt(x):
    return repr(round(x, 6))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--output", default=os.path.join(here, "..", "examples", "pd14.toml"))
    args = ap.parse_args()
    sizes = [max(1, int(round(n * args.scale))) for n in SIZES]
    w_e = PSP_E * psc_per_psp()
    out = []
    total = 0
    counts = {}
    for t in range(8):
        for s in range(8):
            k = synapse_count(P[t][s], sizes[s], sizes[t])
            counts[(t, s)] = k
            total += k
    out.append(f"""# PD14: the cortical microcircuit of Potjans and Diesmann (2014), full scale,
# DC-driven, as shared/specs/benchmarks.md gives it. Written by
# bench/make_pd14.py (--scale {args.scale:g}): {sum(sizes)} iaf_psc_exp neurons,
# {total} synapses in 64 projections (fixed_total_number, multapses, no
# autapses). PSC per mV of PSP: {psc_per_psp():.2f} pA, so 0.15 mV is {w_e:.2f} pA.
# 0.5 s warm-up then 1 s measured: the run simulates 1.5 s; spikes after
# 500 ms give the rates (near 0.9, 3.0, 4.4, 5.9, 7.6, 8.6, 1.1, 7.8 Hz).
# Edges are not written (3e8 of them): output.edges = false.
#
#   spikeline run examples/pd14.toml --threads 2

[simulation]
dt = 0.1
duration = 1500.0
seed = 55

[output]
file = "pd14.h5"
edges = false
""")
    for i, name in enumerate(POPS):
        dc = BG_RATE * K_EXT[i] * w_e * TAU_SYN * 0.001
        out.append(f"""[[population]]
name = "{name}"
model = "iaf_psc_exp"
size = {sizes[i]}
params = {{ C_m = {C_M}, tau_m = {TAU_M}, tau_syn_ex = {TAU_SYN}, tau_syn_in = {TAU_SYN}, E_L = {E_L}, V_th = {V_TH}, V_reset = {V_RESET}, t_ref = {T_REF}, I_e = {fmt(dc)} }}
initial = {{ V_m = {{ distribution = "normal", mean = {V0_MEAN[i]}, std = {V0_SD[i]} }} }}
""")
    for t in range(8):
        for s in range(8):
            k = counts[(t, s)]
            if k == 0:
                continue
            exc = POPS[s].endswith("E")
            w = w_e * (2.0 if (POPS[s], POPS[t]) == ("L4E", "L23E") else 1.0) * (1.0 if exc else G)
            bound = "low = 0.0" if exc else "high = 0.0"
            d = DELAY_E if exc else DELAY_I
            out.append(f"""[[projection]]
name = "{POPS[s]}->{POPS[t]}"
source = "{POPS[s]}"
target = "{POPS[t]}"
rule = "fixed_total_number"
total = {k}
autapses = false
weight = {{ distribution = "normal", mean = {fmt(w)}, std = {fmt(abs(w) * REL_SD_W)}, {bound}, bounds = "redraw" }}
delay = {{ distribution = "normal", mean = {d}, std = {fmt(d * REL_SD_D)}, low = {DELAY_MIN}, bounds = "redraw" }}
""")
    with open(args.output, "w") as f:
        f.write("\n".join(out))
    print(f"{args.output}: {sum(sizes)} neurons, {total} synapses")


if __name__ == "__main__":
    main()
