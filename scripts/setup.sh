#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the main job:
# installs the Debian packages, builds spikeline (Release), and simulates the
# COBA benchmark network (examples/coba.toml), writing out/coba.h5.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$(nproc)"
mkdir -p out
./build/tools/spikeline run examples/coba.toml --output out/coba.h5
./build/tools/spikeline inspect out/coba.h5
