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
