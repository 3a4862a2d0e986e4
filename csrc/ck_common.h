/* Shared definitions for the ckeras C kernels.
 *
 * Conventions: C99, no Python.h, no allocation (the caller hands in every
 * buffer), row-major 2-D arrays, int64_t sizes, and an explicit n_threads
 * argument on every entry point.  OpenMP is optional: without it the
 * pragmas below expand to nothing and the kernels run serially.
 */
#ifndef CK_COMMON_H
#define CK_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <math.h>

#ifdef _OPENMP
#include <omp.h>
#endif

typedef int64_t ck_index;

#if defined(__GNUC__) || defined(__clang__)
#define CK_RESTRICT __restrict__
#else
#define CK_RESTRICT
#endif

#define CK_STR_(x) #x
#define CK_PRAGMA(x) _Pragma(CK_STR_(x))

/* `#pragma omp simd` is honoured with -fopenmp or -fopenmp-simd (the serial
 * build uses the latter); other compilers ignore it. */
#define CK_SIMD CK_PRAGMA(omp simd)
#define CK_SIMD_REDUCE(op, var) CK_PRAGMA(omp simd reduction(op:var))

/* Parallel for over [0, n) with a static schedule; serial when nt <= 1. */
#ifdef _OPENMP
#define CK_PARALLEL_FOR(nt) CK_PRAGMA(omp parallel for num_threads(nt) schedule(static) if((nt) > 1))
#else
#define CK_PARALLEL_FOR(nt)
#endif

/* Vectorised libm without -ffast-math: on x86-64 glibc, libmvec provides
 * SIMD variants (_ZGV*_expf, ...).  Declaring them lets `omp simd` loops call
 * them; math.h only does so under __FAST_MATH__.  Link with -lm (libm.so
 * pulls in libmvec as needed).  Elsewhere the scalar functions are used. */
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__GNUC__) && !defined(__clang__) \
    && !defined(__FAST_MATH__)
#define CK_HAVE_MVEC 1
__attribute__((__simd__("notinbranch"))) float expf(float);
__attribute__((__simd__("notinbranch"))) float logf(float);
#if defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 35)
__attribute__((__simd__("notinbranch"))) float tanhf(float);
__attribute__((__simd__("notinbranch"))) float log1pf(float);
#endif
#endif
#endif

/* Row / chunk bodies that are worth AVX2 are compiled twice (baseline x86-64
 * and AVX2) and picked at load time by glibc's ifunc, so the build stays
 * portable (no -march=native) yet uses 8-lane libmvec expf where available.
 * Every thread runs the same clone: results stay thread-count independent. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__) \
    && !defined(CK_NO_TARGET_CLONES) && !defined(__AVX2__)
#define CK_TARGET_CLONES __attribute__((noinline, target_clones("avx2", "default")))
#define CK_HAVE_TARGET_CLONES 1
#else
#define CK_TARGET_CLONES
#endif

/* Flat (1-D) kernels split their range into chunks of this many elements,
 * fixed whatever the thread count, so every element goes through the same
 * code path (vector body or scalar tail) at 1 or N threads: bitwise equal. */
#define CK_FLAT_CHUNK 4096

static inline ck_index ck_min_index(ck_index a, ck_index b) { return a < b ? a : b; }
static inline ck_index ck_clamp_index(ck_index v, ck_index lo, ck_index hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

#endif /* CK_COMMON_H */
