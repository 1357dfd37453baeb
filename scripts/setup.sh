#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the main job:
# installs the Debian packages, builds spikeline (Release), installs its
# Python package (docs/python.md), and simulates the
# COBA benchmark network (examples/coba.toml), writing out/coba.h5 and its
# report, out/coba_report/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$(nproc)"
# The Python package into /usr/bin/python3's dist-packages for local packages
# (/usr/local/lib/python3.11/dist-packages): `import spikeline` with no PYTHONPATH.
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO cmake --install build --component python
mkdir -p out
./build/tools/spikeline run examples/coba.toml --output out/coba.h5
./build/tools/spikeline inspect out/coba.h5
./build/tools/spikeline report out/coba.h5 -o out/coba_report   # open out/coba_report/index.html
