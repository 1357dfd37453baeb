"""The hot loops' prefetches are in the optimised binary.

GCC deletes a call to a helper that only prefetches (its pure-const analysis
sees no side effect), and it did so silently for months of measurements:
filing's prefetches were never in the binary, and delivery's vanished once
its helpers became shared lambdas (engine/src/simulator.cpp). This test
disassembles the built CLI and fails if a function that is meant to prefetch
holds no prefetch instruction.

usage: check_prefetch.py OBJDUMP BINARY
"""
import re
import subprocess
import sys

# (mangled-name fragment, human name, least number of prefetch instructions)
EXPECTED = [
    ("Simulator7enqueue", "Simulator::enqueue (filing: rows, groups)", 2),
    ("Simulator14deliver_bucket", "Simulator::deliver_bucket (headers, synapses)", 6),
    ("IafPscDelta14update_touched", "IafPscDelta::update_touched (lazy state)", 5),
    ("RewardStdp7on_post", "RewardStdp::on_post (synapse states, pre traces)", 3),
    ("RewardStdp6on_pre", "RewardStdp::on_pre (post traces)", 1),
]


def main():
    objdump, binary = sys.argv[1], sys.argv[2]
    text = subprocess.run([objdump, "-d", "--no-show-raw-insn", binary], check=True,
                          capture_output=True, text=True).stdout
    counts = {}
    current = None
    head = re.compile(r"^[0-9a-f]+ <(.*)>:$")
    for line in text.splitlines():
        m = head.match(line)
        if m:
            current = m.group(1)
            continue
        if current and "prefetch" in line:
            counts[current] = counts.get(current, 0) + 1
    failures = []
    for fragment, name, least in EXPECTED:
        found = [(f, n) for f, n in counts.items() if fragment in f]
        total = sum(n for _, n in found)
        defined = any(fragment in line for line in text.splitlines() if head.match(line))
        if not defined:
            failures.append(f"{name}: no function matching '{fragment}' in {binary}")
        elif total < least:
            failures.append(f"{name}: {total} prefetch instructions, expected at least {least}")
        else:
            print(f"ok: {name}: {total} prefetch instructions")
    for f in failures:
        print(f"FAIL: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
