#!/usr/bin/env bash
# Builds spikeline and runs the whole test suite (Catch2 unit tests and the
# end-to-end CLI tests, all under ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$(nproc)"
ctest --test-dir build --output-on-failure --parallel "$(nproc)" "$@"
