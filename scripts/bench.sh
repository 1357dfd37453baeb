#!/usr/bin/env bash
# The performance suite (goals: docs/performance.md): builds spikeline (Release) if needed and
# runs every benchmark case in spikeline and in Brian2 side by side.
#   ./scripts/bench.sh --quick     a few minutes: bench/results/suite_quick.md
#   ./scripts/bench.sh             the full suite (about 30 minutes): bench/results/suite.md
# Extra arguments go to bench/suite.py (--reps R, --only coba sparse pd14).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -f build/build.ninja ] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$(nproc)"
exec /usr/bin/python3 bench/suite.py "$@"
