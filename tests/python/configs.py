"""Configs the Python tests run (tests/python/test_*.py)."""

# Two populations, a [[record]] of two variables of three nodes and
# [[record_weights]] snapshots (from the initial weights) of a projection
# with drawn weights: every group of spikeline's output but /neuromodulators.
RECORDED = """
[simulation]
dt = 0.1
duration = 200.0
seed = 3

[output]
file = "own.h5"
flush_interval = 50.0

[[population]]
name = "gen"
model = "poisson_generator"
size = 30
params = { rate = 100.0 }

[[population]]
name = "exc"
model = "iaf_psc_exp"
size = 12

[[projection]]
name = "drive"
source = "gen"
target = "exc"
rule = "fixed_probability"
p = 0.5
weight = { distribution = "uniform", low = 100.0, high = 400.0 }
delay = 1.0

[[record]]
population = "exc"
variables = ["V_m", "I_syn_ex"]
nodes = [1, 4, 9]
interval = 0.5

[[record_weights]]
projection = "drive"
interval = 50.0
start = 0.0
"""

# `spikeline train` at a tiny size: 48 neurons, 5 taps, 3 patterns of 60
# steps, 3 steps with recall evaluated every 2 (a second or two).
TRAIN = """
[simulation]
dt = 1.0
seed = 1

[output]
file = "wm.h5"

[[population]]
name = "wm"
model = "lif_discrete"
size = 48
params = { beta = 0.7, theta = 1.0 }

[[projection]]
name = "rec"
source = "wm"
target = "wm"
rule = "all_to_all"
taps = 5
weight = 0.0
delay = 1.0

[task]
patterns = 3
length = 60
p_active = 0.05

[training]
init_scale = 0.5
steps = 3
eval_every = 2
loss = "bce"
pos_weight = 20

[evaluation]
"""
