// SPIKELINE_CLONES: a hot loop compiled for several x86-64 instruction sets
// (baseline SSE2, AVX2, AVX-512), the best one picked when the library loads
// (GCC's target_clones, an ifunc). The build stays portable -- no
// -march=native -- and a machine with AVX-512 still runs 8 doubles a lane.
// Results do not depend on the clone: floating-point contraction is off
// project-wide (-ffp-contract=off), so every clone does the same IEEE
// operations per element, and the loops it is used on have no reductions.
// Off under the sanitizers (their runtimes start after ifunc resolvers run)
// and on compilers without target_clones.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define SPIKELINE_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define SPIKELINE_CLONES
#endif
