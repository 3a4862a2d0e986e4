"""What the kernels were built with (OpenMP or serial)."""
from ckeras._kernels._checks cimport clamp_threads, ck_thread_cap
cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int ck_openmp_enabled(void) { return 1; }
    static int ck_omp_max_threads(void) { return omp_get_max_threads(); }
    static int ck_threads_used(int n)
    {
        int used = 1;
        #pragma omp parallel num_threads(n)
        {
            #pragma omp single
            used = omp_get_num_threads();
        }
        return used;
    }
    #else
    static int ck_openmp_enabled(void) { return 0; }
    static int ck_omp_max_threads(void) { return 1; }
    static int ck_threads_used(int n) { (void)n; return 1; }
    #endif
    """
    int ck_openmp_enabled() nogil
    int ck_omp_max_threads() nogil
    int ck_threads_used(int n) nogil

cdef extern from *:
    """
    #ifdef _OPENMP
    static int ck_openmp_version(void) { return _OPENMP; }
    #else
    static int ck_openmp_version(void) { return 0; }
    #endif
    #include "ck_common.h"
    #ifdef CK_HAVE_TARGET_CLONES
    #define CK_TARGET_CLONES_AVX2 1
    #else
    #define CK_TARGET_CLONES_AVX2 0
    #endif
    /* Instruction-set extensions the compiler was allowed to use. */
    static const char *ck_compiled_isa(void)
    {
        return ""
    #ifdef __SSE2__
            " sse2"
    #endif
    #ifdef __SSE4_2__
            " sse4.2"
    #endif
    #ifdef __AVX__
            " avx"
    #endif
    #ifdef __AVX2__
            " avx2"
    #endif
    #ifdef __FMA__
            " fma"
    #endif
    #ifdef __AVX512F__
            " avx512f"
    #endif
    #if defined(__ARM_NEON) || defined(__ARM_NEON__)
            " neon"
    #endif
    #ifdef __ARM_FEATURE_SVE
            " sve"
    #endif
            ;
    }
    """
    int ck_openmp_version() nogil
    const char *ck_compiled_isa() nogil
    int ck_target_clones "CK_TARGET_CLONES_AVX2"


def openmp_enabled():
    """True if the kernels were compiled with OpenMP (else they run serially)."""
    return bool(ck_openmp_enabled())


def omp_max_threads():
    """omp_get_max_threads() of the OpenMP runtime (1 in a serial build)."""
    return ck_omp_max_threads()


def threads_used(int n):
    """How many threads a kernel's `num_threads(n)` region actually gets
    (n is clamped as every kernel clamps it: see _checks.clamp_threads)."""
    return ck_threads_used(clamp_threads(n))


def thread_cap():
    """The most threads a kernel will start: max(256, 4 * CPUs)."""
    return ck_thread_cap()


def openmp_version():
    """The _OPENMP date macro the kernels were compiled with (0 if serial)."""
    return ck_openmp_version()


def avx2_clones():
    """True if the hot loops also carry an AVX2 clone, picked at load time on
    CPUs that have AVX2 (glibc ifunc; see csrc/ck_common.h)."""
    return bool(ck_target_clones)


def compiled_isa():
    """Instruction-set extensions the kernels were compiled for, e.g. ['sse2']."""
    return ck_compiled_isa().decode().split()
