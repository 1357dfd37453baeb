"""bench/scaling_model.py: the analytic model reproduces a case computed by
hand, and the discrete-event simulation without noise reproduces the
analytic model exactly (with noise it can only be slower: the slowest rank
sets the pace).

    test_scaling_model.py SOURCE_DIR
"""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.abspath(sys.argv[1]), "bench"))
import scaling_model as sm  # noqa: E402

P = {"cores": 4, "c_upd_ns": 1.0, "c_ev_ns": 10.0, "c_row_ns": 8.0, "o_sw_us": 0.5,
     "alpha_us": 2.0, "beta_ns_per_byte": 0.1, "b_ev_bytes": 64.0, "B_node_GBps": 200.0,
     "T_sync_us": 2.0, "t_bit_ns": 2.0}
# k_out 1000: 500 per projection, so every partition of these is dense (no bitmap).
NET = {"name": "hand", "neurons": 1000, "spikes_per_window": 10.0, "events_per_window": 10000.0,
       "projections_per_source": 2, "k_out": 1000.0, "window_ms": 0.1}
failures = []


def check(what, got, want, rel=1e-12):
    if not math.isclose(got, want, rel_tol=rel, abs_tol=1e-12):
        failures.append("%s: %r, expected %r" % (what, got, want))


# K = 4 nodes of 4 cores: 16 threads.
# compute: (1000 x 1 ns + max(10000 x 10 ns, 10000 x 4 x 64 B / 200 GB/s = 12800 ns)) / 16
#          = 101000 ns / 16 = 6.3125 us
# file: 10 spikes x 2 projections x 8 ns = 0.16 us; sync 2 us
# comm: 2 collectives x 2 rounds x 2 us + 0.1 ns/B x (16 x 3 + 8 x 10 x 3/4) B + 0.5 us
#       = 8 + 0.0108 + 0.5 = 8.5108 us
a = sm.analytic(P, NET, 4)
check("compute", a["terms"]["compute"], 6.3125)
check("file", a["terms"]["file"], 0.16)
check("comm", a["terms"]["comm"], 8.5108)
check("T_window", a["T_window_us"], 16.9833)
check("RTF", a["rtf"], 0.169833)
if a["dominant"] != "comm":
    failures.append("dominant term %s, expected comm" % a["dominant"])
# Memory-bound: at c_ev = 1 ns the node's traffic (12,800 ns) exceeds the
# cores' work (10,000 ns).
check("memory-bound compute", sm.analytic(dict(P, c_ev_ns=1.0), NET, 4)["terms"]["compute"],
      (1000 + 12800) * 1e-3 / 16)
# Source bitmaps: with k_out 8 (4 per projection) a source reaches a given
# one of 16 partitions with f = 1 - exp(-4/16) = 0.221199 <= 1/2, so a slot
# costs t_bit + f c_row = 2 + 0.221199 x 8 = 3.769594 ns: file = 10 x 2 x
# 3.769594 ns. At 4 partitions (K = 1) f = 1 - exp(-1) = 0.632 > 1/2: dense.
sparse = dict(NET, k_out=8.0)
check("file with bitmaps", sm.analytic(P, sparse, 4)["terms"]["file"],
      20 * (2.0 + (1 - math.exp(-0.25)) * 8.0) * 1e-3)
check("file of dense blocks", sm.analytic(P, sparse, 1)["terms"]["file"], 0.16)
# One node: no exchange.
check("K = 1 comm", sm.analytic(P, NET, 1)["terms"]["comm"], 0.0)
v = sm.volume(NET, 4)
check("sent", v["sent"], 16 + 20.0)
check("received", v["received"], 48 + 60.0)

rng = np.random.default_rng(1)
for k in (1, 2, 4, 8, 64):
    check("DES without noise, K = %d" % k, sm.des(P, NET, k, None, 5, rng)["T_window_us"],
          sm.analytic(P, NET, k)["T_window_us"], rel=1e-9)
# A rank that is late by x delays every rank by x: the exchange is a
# barrier after log2 K rounds. Residuals of 0 or a fixed positive value,
# with common fluctuation 0: the mean window is at least the lower bound.
noise = {"common": np.zeros(4), "residual": np.array([0.0, 0.0, 0.0, 3.0]),
         "sd_us": lambda mu: 1.0}
for k in (2, 16):
    d = sm.des(P, NET, k, noise, 200, rng)
    if d["T_window_us"] < sm.analytic(P, NET, k)["T_window_us"]:
        failures.append("DES with noise faster than the lower bound at K = %d" % k)
    if not d["mean_wait_us"] > 0:
        failures.append("DES with noise: no rank waits at K = %d" % k)
try:
    sm.des(P, NET, 6, None, 1, rng)
    failures.append("K = 6 accepted by the DES")
except ValueError as e:
    if "K = 6" not in str(e):
        failures.append("K = 6: message does not name the value: %s" % e)

if failures:
    sys.exit("FAIL:\n" + "\n".join(failures))
print("scaling model: hand-computed case and DES agree")
