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

# The URI of the main Debian archive as this machine's apt configuration
# names it (its own mirror, proxy or snapshot; no host is written in this
# repository): the first source whose suites include the release's own
# suite $1 (not -updates or -security) with component main, from the
# one-line entries of /etc/apt/sources.list and sources.list.d/*.list
# ("deb [options] URI SUITE COMPONENT...") and the deb822 stanzas of
# sources.list.d/*.sources (Debian 12's default: debian.sources, with
# Types:, URIs:, Suites:, Components: and Enabled: fields).
archive_uri() {
  local suite=$1 files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] && files+=("$f")
  done
  if [ ${#files[@]} -gt 0 ]; then
    awk -v suite="$suite" '
      /^[ \t]*deb(-src)?[ \t]/ {
        sub(/\[[^]]*\]/, "")
        main = 0
        for (i = 4; i <= NF; i++) if ($i == "main") main = 1
        if ($3 == suite && main) { print $2; exit }
      }' "${files[@]}"
  fi
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk -v suite="$suite" '
      function stanza_end() {
        if (found == "" && enabled != "no" && (" " types " ") ~ / deb(-src)? / &&
            (" " suites " ") ~ (" " suite " ") && (" " components " ") ~ / main / && uris != "") {
          split(uris, u, " ")
          found = u[1]
        }
        types = uris = suites = components = ""
        enabled = "yes"
      }
      BEGIN { enabled = "yes" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { stanza_end(); next }
      {
        key = tolower($1)
        sub(/:$/, "", key)
        value = $0
        sub(/^[^:]*:[ \t]*/, "", value)
        if (key == "types") types = value
        else if (key == "uris") uris = value
        else if (key == "suites") suites = value
        else if (key == "components") components = value
        else if (key == "enabled") enabled = tolower(value)
      }
      END { stanza_end(); if (found != "") print found }' "$f"
  done
}

if [ ! -f "$prefix/lib/cmake/TBB/TBBConfig.cmake" ]; then
  # Debian's source package of the installed libtbb-dev, fetched by apt from
  # the archive the machine's apt configuration names, through a private
  # source list and package-list folder: nothing of the system's apt
  # configuration changes, and no root is needed.
  apt=$tsan/apt
  rm -rf "$tsan/onetbb-src"
  mkdir -p "$apt/lists/partial" "$tsan/onetbb-src"
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  uri=$(archive_uri "$suite" | head -n 1)
  if [ -z "$uri" ]; then
    echo "tsan.sh: no Debian archive for suite '$suite' (component main) in" \
      "/etc/apt/sources.list or /etc/apt/sources.list.d/; add the machine's archive there" >&2
    exit 1
  fi
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
    "$uri $suite main" >"$apt/sources.list"
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

# Without MPI (-DSPIKELINE_MPI=OFF): Open MPI is not instrumented for TSan
# (its progress threads and shared-memory transport would be reported), and
# tests/mpi runs in the plain build; the threads of one process are what
# this build checks.
cmake -S . -B "$tsan/spikeline" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSPIKELINE_SANITIZE=thread -DTBB_DIR="$prefix/lib/cmake/TBB" -DSPIKELINE_MPI=OFF -DSPIKELINE_BENCH=OFF
cmake --build "$tsan/spikeline" --parallel "$jobs"
# Any report fails the test that triggered it (a non-zero exit).
export SPIKELINE_SANITIZER=thread
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
ctest --test-dir "$tsan/spikeline" --output-on-failure --parallel "$jobs" \
  -L '^(tsan|test_engine|test_synapses|test_learning)$' "$@"
ctest --test-dir "$tsan/spikeline" --output-on-failure -R '^cli\.test_determinism$' "$@"
