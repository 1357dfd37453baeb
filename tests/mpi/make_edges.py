"""Writes the SONATA edges file that test_mpi_communicator reads (the
fixture of mpi.communicator): 3000 edges drive (50) -> exc (203) in source
order, with the target index and per-edge weights and delays.

    make_edges.py SPIKELINE SOURCE_DIR MPIEXEC OUT
"""

import numpy as np

import mpitest

rng = np.random.default_rng(17)
src = np.sort(rng.integers(0, 50, 3000))
tgt = rng.integers(0, 203, 3000)
weight = rng.uniform(2.0, 9.0, 3000)
delay = rng.integers(1, 16, 3000) / 10.0
mpitest.write_sonata_edges(mpitest.ARGS[0], "file", "drive", "exc", src, tgt, weight, delay)
