#!/bin/sh
# Builds bench/parallel_hdf5.cpp against Debian's parallel HDF5
# (libhdf5-openmpi-dev) into build-phdf5/, outside the project's CMake build,
# which must keep linking the serial libhdf5 (CMakeLists.txt:
# HDF5_PREFER_PARALLEL OFF). Then, unless --build-only, runs the measurements
# (bench/parallel_hdf5.py, under /tmp/spikeline-heavy.lock) with the
# remaining arguments. The compile holds /tmp/spikeline-heavy.lock too.
#
#   bench/parallel_hdf5.sh [--build-only] [parallel_hdf5.py arguments]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
inc=/usr/include/hdf5/openmpi
lib=/usr/lib/x86_64-linux-gnu/hdf5/openmpi
if [ ! -f "$inc/hdf5.h" ] || [ ! -e "$lib/libhdf5.so" ]; then
  echo "parallel_hdf5: needs Debian's parallel HDF5 ($inc/hdf5.h and $lib/libhdf5.so not found):" >&2
  echo "  apt-get install libhdf5-openmpi-dev" >&2
  echo "  then check that the project's build still finds the serial one:" >&2
  echo "  update-alternatives --get-selections | grep hdf5  (hdf5.pc -> hdf5-serial.pc)" >&2
  exit 2
fi
if ! command -v mpicxx >/dev/null 2>&1; then
  echo "parallel_hdf5: needs mpicxx (Open MPI: apt-get install libopenmpi-dev)" >&2
  exit 2
fi
out="$root/build-phdf5"
mkdir -p "$out"
flock /tmp/spikeline-heavy.lock nice mpicxx -std=c++20 -O2 -Wall -Wextra -I"$inc" "$here/parallel_hdf5.cpp" -o "$out/parallel_hdf5" \
  -L"$lib" -Wl,-rpath,"$lib" -lhdf5
echo "built $out/parallel_hdf5"
if [ "${1:-}" = "--build-only" ]; then exit 0; fi
exec /usr/bin/python3 "$here/parallel_hdf5.py" --binary "$out/parallel_hdf5" "$@"
