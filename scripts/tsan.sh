#!/usr/bin/env bash
# The threaded tests under ThreadSanitizer (a separate build in build-tsan),
# run by CI after the ASan/UBSan suite.
#
# TSan must see every synchronisation, including oneTBB's task hand-off:
# Debian's libtbb is not instrumented (TSan then reports a race inside
# every parallel_for), so this script builds oneTBB itself from Debian's
# own source package (the version of the installed libtbb-dev, 2021.8) with
# -DTBB_SANITIZE=thread and links the checked build against it. No
# suppression is used; tests/sanitizers/tsan_canary.cpp proves the set-up.
#
# What runs: the engine's tests (determinism across threads and partitions,
# checkpoints restored at other thread counts), the synapse tests
# (connections drawn in parallel), the learning tests (plastic projections
# at several threads) and the CLI's determinism test (whole runs at 1, 2
# and 4 threads). The CLI's checkpoint test is left out: under TSan it
# takes 5 minutes, and the engine's checkpoint test covers its threading.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
tsan=$root/build-tsan
prefix=$tsan/onetbb-install

if [ ! -f "$prefix/lib/cmake/TBB/TBBConfig.cmake" ]; then
  # Debian's source package of the installed libtbb-dev, fetched by apt from
  # Debian's archive through a private source list and package-list folder:
  # nothing of the system's apt configuration changes, and no root is needed.
  apt=$tsan/apt
  rm -rf "$tsan/onetbb-src"
  mkdir -p "$apt/lists/partial" "$tsan/onetbb-src"
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
    "http://deb.debian.org/debian $suite main" >"$apt/sources.list"
  opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/none"
        -o "Dir::State::Lists=$apt/lists" -o "Debug::NoLocking=1")
  mkdir -p "$apt/none"
  apt-get "${opts[@]}" update -qq
  version=$(dpkg-query -W -f='${source:Version}' libtbb-dev)
  (cd "$tsan/onetbb-src" &&
     apt-get "${opts[@]}" source --download-only -qq "onetbb=$version" >/dev/null 2>&1 &&
     tar xf onetbb_*.orig.tar.* && rm -f onetbb_*)
  src=$(find "$tsan/onetbb-src" -maxdepth 1 -mindepth 1 -type d | head -n 1)
  cmake -S "$src" -B "$tsan/onetbb-build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTBB_SANITIZE=thread -DTBB_TEST=OFF -DTBB_EXAMPLES=OFF -DTBB_STRICT=OFF \
    -DTBBMALLOC_BUILD=OFF -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
  cmake --build "$tsan/onetbb-build" --parallel "$jobs" >"$tsan/onetbb-build.log" 2>&1 ||
    { tail -n 50 "$tsan/onetbb-build.log"; exit 1; }
  cmake --install "$tsan/onetbb-build" >/dev/null
fi

cmake -S . -B "$tsan/spikeline" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSPIKELINE_SANITIZE=thread -DTBB_DIR="$prefix/lib/cmake/TBB"
cmake --build "$tsan/spikeline" --parallel "$jobs"
# Any report fails the test that triggered it (a non-zero exit).
export SPIKELINE_SANITIZER=thread
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
ctest --test-dir "$tsan/spikeline" --output-on-failure --parallel "$jobs" \
  -L '^(tsan|test_engine|test_synapses|test_learning)$' "$@"
ctest --test-dir "$tsan/spikeline" --output-on-failure -R '^cli\.test_determinism$' "$@"
