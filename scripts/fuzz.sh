#!/usr/bin/env bash
# Fuzzes spikeline's input readers with libFuzzer (clang-14), under
# AddressSanitizer + UndefinedBehaviorSanitizer, a bounded time per target:
#
#   fuzz_config      the config language: TOML text -> parse, check, validate
#   fuzz_edges       SONATA edges files that are valid HDF5 but bad SONATA
#                    (types, lengths, ids, attributes), through the explicit
#                    projection path and inspect
#   fuzz_hdf5_bytes  raw bytes as an HDF5 file, through the edges reader
#                    and inspect
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 60; CI uses the default)
#
# Seeds: tests/fuzz/corpus/<target> (committed), plus the examples and the
# bad-config corpus for fuzz_config. New inputs go to build-fuzz/corpus; a
# crash leaves its input in build-fuzz/artifacts and fails the script. Such an
# input, once fixed, is committed to tests/fuzz/corpus/<target> as
# regression-<what>, where the ordinary test suite replays it (ctest -L fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
jobs=$(nproc)

bash scripts/install-deps.sh clang-14 libclang-rt-14-dev

CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSPIKELINE_FUZZ=ON -DSPIKELINE_TESTS=OFF >/dev/null
cmake --build build-fuzz --parallel "$jobs" --target fuzz_config fuzz_edges fuzz_hdf5_bytes

# Absolute paths: the targets work in a scratch folder of their own.
top=$PWD
mkdir -p build-fuzz/artifacts build-fuzz/tmp
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=2048"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Scratch files (the HDF5 files fuzz_edges writes) in memory when possible.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR=/dev/shm/spikeline-fuzz-$$
  mkdir -p "$TMPDIR"
  trap 'rm -rf "$TMPDIR"' EXIT
else
  export TMPDIR=$PWD/build-fuzz/tmp
fi
status=0
for target in config edges hdf5_bytes; do
  work=$top/build-fuzz/corpus/$target
  mkdir -p "$work"
  seeds=("$top/tests/fuzz/corpus/$target")
  [ "$target" = config ] && seeds+=("$top/examples" "$top/tests/cli/bad_configs")
  echo "== fuzz_$target for ${seconds} s"
  if ! "$top/build-fuzz/tests/fuzz/fuzz_$target" "$work" "${seeds[@]}" \
      -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=8192 \
      -artifact_prefix="$top/build-fuzz/artifacts/$target-" -print_final_stats=1 \
      >"build-fuzz/fuzz_$target.log" 2>&1; then
    status=1
    grep -E "ERROR|SUMMARY|^    #[0-9]" "build-fuzz/fuzz_$target.log" | head -n 40
    echo "fuzz_$target found a crash: build-fuzz/artifacts/ (log: build-fuzz/fuzz_$target.log)"
  fi
  grep -E "^stat::(number_of_executed_units|new_units_added)|cov: " "build-fuzz/fuzz_$target.log" |
    tail -n 3
done
exit $status
