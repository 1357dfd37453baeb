#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (a separate build in build-asan), run by CI after the plain suite. Any
# sanitizer report fails the test that triggered it.
# ThreadSanitizer runs separately (scripts/tsan.sh, with a oneTBB built for
# it).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
supp="$PWD/tests/sanitizers"
# Without MPI (-DSPIKELINE_MPI=OFF): Open MPI's own allocations at
# MPI_Init are reported as leaks by LeakSanitizer, and its shared-memory
# transport is not instrumented. The engine's side of the MPI runs (the
# placement, the serial communicator, the exchange code) is still built and
# tested here; tests/mpi runs in the plain build.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSPIKELINE_SANITIZE=address,undefined -DSPIKELINE_MPI=OFF -DSPIKELINE_BENCH=OFF
cmake --build build-asan --parallel "$jobs"
# The shadow memory needs terabytes of address space, so the error tests'
# RLIMIT_AS is replaced by ASan's own allocation limit (see test_errors.py).
SPIKELINE_SANITIZER=address \
ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:check_initialization_order=1:max_allocation_size_mb=4096:allocator_may_return_null=1" \
LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  ctest --test-dir build-asan --output-on-failure --parallel "$jobs" "$@"
