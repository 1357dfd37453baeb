#!/usr/bin/env bash
# Installs every Debian package spikeline needs to build, test and benchmark.
# Called by the README's first command and by .ci/run. Idempotent.
set -euo pipefail
# With arguments, installs those packages instead (scripts/fuzz.sh: clang).
pkgs=(
  build-essential cmake ninja-build pkg-config
  libboost-dev libboost-program-options-dev   # Boost.Heap (header-only), Program_options
  libtbb-dev                                  # oneTBB
  libhdf5-dev hdf5-tools                      # HDF5 C API, h5dump
  catch2                                      # Catch2 v2 (catch2/catch.hpp)
  librandom123-dev                            # counter-based RNG (Philox)
  libtomlplusplus-dev libfmt-dev              # TOML configs, formatting
  nlohmann-json3-dev                          # JSON lines (the EMBER session)
  python3-h5py python3-numpy                  # tests read the output back with h5py
  python3-matplotlib python3-pandas           # the Python package: plots, data frames (python/)
  python3-neo                                 # optional: Neo objects from the Python package
  python3-pynn                                # the PyNN backend (spikeline.pynn) and its tests
  pybind11-dev python3-dev                    # the compiled Python module (python/src)
  libopenmpi-dev openmpi-bin                  # runs of several processes (mpi/, tests/mpi)
  chromium                                    # tests open the HTML report headless
  python3-brian                               # the reference peer (Brian2)
)
[ $# -gt 0 ] && pkgs=("$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
