"""What a run of several MPI ranks does not do yet is refused, clearly and
by every rank: a usage error (64) naming the feature and saying that it
runs in one process, printed once (rank 0 alone speaks), and no rank left
waiting (the run ends well within the timeout). Partitions fewer than the
ranks: a config error (78) naming both numbers.

    test_refusals.py SPIKELINE SOURCE_DIR MPIEXEC
"""

import os
import sys

import mpitest

# clitest's network (tests/cli): 20 generators onto 10 neurons, 50 ms.
sys.path.insert(0, os.path.join(mpitest.SOURCE_DIR, "tests", "cli"))
from clitest import SMALL_NETWORK as SMALL  # noqa: E402

def check(name, ranks, args, code, *texts, config=SMALL):
    with mpitest.temporary_dir() as tmp:
        path = os.path.join(tmp, "net.toml")
        with open(path, "w") as f:
            f.write(config)
        args = [a.replace("CONFIG", path) for a in args]
        if args[0] == "run":
            args += ["-o", "out.h5"]
        r = mpitest.run(args, ranks=ranks, cwd=tmp)
        if r.returncode != code:
            mpitest.fail("%s: exit %d, expected %d" % (name, r.returncode, code), r)
        if r.stderr.count("spikeline: error:") != 1:
            mpitest.fail("%s: the error should be printed once (by rank 0)" % name, r)
        for t in texts:
            if t not in r.stderr:
                mpitest.fail("%s: stderr lacks %r" % (name, t), r)
        if os.path.exists(os.path.join(tmp, "out.h5")):
            mpitest.fail("%s: an output file was written" % name, r)
        print("ok %s" % name)


ONE = "runs in one process"
# Not a refusal: rank 0 alone reads a checkpoint; its failure is every rank's.
check("resume of a missing checkpoint", 2, ["resume", "c.h5"], 66, "checkpoint c.h5: no such file")
check("train", 4, ["train", "CONFIG"], 64, "spikeline train runs in one process", "rank 0 of 4",
      "mpirun -np 4")
check("ember", 2, ["ember", "CONFIG"], 64, "spikeline ember", ONE)
check("report", 2, ["report", "CONFIG"], 64, "spikeline report runs in one process")
check("partitions fewer than ranks", 4, ["run", "CONFIG", "--set", "simulation.partitions=3", "--set", "output.edges=false"], 78,
      "simulation.partitions = 3 is fewer than the 4 MPI ranks")
