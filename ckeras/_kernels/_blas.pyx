"""Row-major GEMM through BLAS, without copies.

A row-major ``C = op(A) @ op(B)`` is the column-major ``C^T = op(B)^T @ op(A)^T``:
swap the operands and m/n and pass the stored row lengths as leading
dimensions.  Arrays whose rows are strided (slices) or that are transposed
views are described by (pointer, leading dimension, transposed) without
copying; only layouts BLAS cannot express at all are copied once.

Two BLAS providers, chosen by ``ckeras.ops.blas`` (see there for why):
scipy's (``scipy.linalg.cython_blas``, always available, the fallback) or an
ILP64 OpenBLAS already loaded in the process (numpy's wheels bundle one),
called through function pointers with the same Fortran calling convention.

Importing this module imports scipy.linalg (slow; benchmarks/README.md):
``ckeras.ops`` imports it lazily, on the first matmul / dense call.
"""
import numpy as np
cimport numpy as cnp
from scipy.linalg.cython_blas cimport sgemm, dgemm, sgemv

cnp.import_array()

cdef Py_ssize_t _INT_MAX = 2147483647     # scipy's BLAS takes 32-bit ints

# An ILP64 BLAS (64-bit integers, Fortran ABI) set by set_ilp64_blas();
# all three NULL means scipy's cython_blas.
ctypedef long long i64
ctypedef void (*sgemm64_t)(const char *, const char *, const i64 *, const i64 *, const i64 *,
                           const float *, const float *, const i64 *, const float *,
                           const i64 *, const float *, float *, const i64 *) noexcept nogil
ctypedef void (*dgemm64_t)(const char *, const char *, const i64 *, const i64 *, const i64 *,
                           const double *, const double *, const i64 *, const double *,
                           const i64 *, const double *, double *, const i64 *) noexcept nogil
ctypedef void (*sgemv64_t)(const char *, const i64 *, const i64 *, const float *,
                           const float *, const i64 *, const float *, const i64 *,
                           const float *, float *, const i64 *) noexcept nogil
cdef sgemm64_t _sgemm64 = NULL
cdef dgemm64_t _dgemm64 = NULL
cdef sgemv64_t _sgemv64 = NULL


def set_ilp64_blas(size_t sgemm_addr=0, size_t sgemv_addr=0, size_t dgemm_addr=0):
    """Route GEMMs to ILP64 Fortran-ABI ``sgemm``/``sgemv``/``dgemm`` at these
    addresses (all three), or back to scipy's BLAS (all zero).

    The caller vouches for the addresses (``ckeras.ops.blas`` takes them from
    a loaded library's exported symbols); they must stay loaded."""
    global _sgemm64, _dgemm64, _sgemv64
    if (sgemm_addr == 0) != (sgemv_addr == 0) or (sgemm_addr == 0) != (dgemm_addr == 0):
        raise ValueError("set_ilp64_blas needs all three addresses, or none")
    _sgemm64 = <sgemm64_t><void *>sgemm_addr
    _sgemv64 = <sgemv64_t><void *>sgemv_addr
    _dgemm64 = <dgemm64_t><void *>dgemm_addr


def using_ilp64_blas():
    return _sgemm64 != NULL


cdef inline int _clamp_ld(int ld, int cols) noexcept nogil:
    return ld if ld >= cols and ld >= 1 else (cols if cols >= 1 else 1)


cdef void sgemm_rm(bint trans_a, bint trans_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta,
                   float *c, int ldc) noexcept nogil:
    cdef char ta = b'T' if trans_b else b'N'
    cdef char tb = b'T' if trans_a else b'N'
    cdef char tv
    cdef int inc_x, inc_y = 1, rows, cols
    cdef i64 l_m, l_n, l_k, l_a, l_b, l_c, l_x, l_y
    lda = _clamp_ld(lda, m if trans_a else k)
    ldb = _clamp_ld(ldb, k if trans_b else n)
    ldc = _clamp_ld(ldc, n)
    if m == 1 and k > 0 and n > 0:
        # One output row (predicting one sample): a matrix-vector product.
        # scipy's OpenBLAS is much slower at this as an sgemm (benchmarks/README.md).
        # Row c = op(a) @ op(b) is c^T = op(b)^T a^T, with b read column-major.
        inc_x = lda if trans_a else 1
        tv = b'T' if trans_b else b'N'
        rows = k if trans_b else n
        cols = n if trans_b else k
        if _sgemv64 != NULL:
            l_m, l_n, l_b, l_x, l_y = rows, cols, ldb, inc_x, inc_y
            _sgemv64(&tv, &l_m, &l_n, &alpha, b, &l_b, a, &l_x, &beta, c, &l_y)
        else:
            sgemv(&tv, &rows, &cols, &alpha, <float *>b, &ldb, <float *>a, &inc_x,
                  &beta, c, &inc_y)
        return
    if _sgemm64 != NULL:
        l_m, l_n, l_k, l_a, l_b, l_c = m, n, k, lda, ldb, ldc
        _sgemm64(&ta, &tb, &l_n, &l_m, &l_k, &alpha, b, &l_b, a, &l_a, &beta, c, &l_c)
        return
    sgemm(&ta, &tb, &n, &m, &k, &alpha, <float *>b, &ldb, <float *>a, &lda,
          &beta, c, &ldc)


cdef void dgemm_rm(bint trans_a, bint trans_b, int m, int n, int k, double alpha,
                   const double *a, int lda, const double *b, int ldb, double beta,
                   double *c, int ldc) noexcept nogil:
    cdef char ta = b'T' if trans_b else b'N'
    cdef char tb = b'T' if trans_a else b'N'
    lda = _clamp_ld(lda, m if trans_a else k)
    ldb = _clamp_ld(ldb, k if trans_b else n)
    ldc = _clamp_ld(ldc, n)
    cdef i64 l_m, l_n, l_k, l_a, l_b, l_c
    if _dgemm64 != NULL:
        l_m, l_n, l_k, l_a, l_b, l_c = m, n, k, lda, ldb, ldc
        _dgemm64(&ta, &tb, &l_n, &l_m, &l_k, &alpha, b, &l_b, a, &l_a, &beta, c, &l_c)
        return
    dgemm(&ta, &tb, &n, &m, &k, &alpha, <double *>b, &ldb, <double *>a, &lda,
          &beta, c, &ldc)


cdef bint _layout(cnp.ndarray arr, Py_ssize_t *ld, bint *transposed):
    """Describe a 2-D array as row-major storage (possibly of its transpose).

    Returns False when BLAS cannot address it (then the caller copies)."""
    cdef Py_ssize_t r = arr.shape[0], c = arr.shape[1]
    cdef Py_ssize_t isz = arr.itemsize
    cdef Py_ssize_t s0 = arr.strides[0], s1 = arr.strides[1]
    # row-major: a[i, j] at i * ld + j
    if (c <= 1 or s1 == isz) and (r <= 1 or (s0 > 0 and s0 % isz == 0 and s0 // isz >= c)):
        ld[0] = s0 // isz if r > 1 else (c if c > 1 else 1)
        transposed[0] = False
        return True
    # column-major: a[i, j] at j * ld + i, i.e. a.T is row-major
    if (r <= 1 or s0 == isz) and (c <= 1 or (s1 > 0 and s1 % isz == 0 and s1 // isz >= r)):
        ld[0] = s1 // isz if c > 1 else (r if r > 1 else 1)
        transposed[0] = True
        return True
    return False


cdef inline cnp.ndarray _as_array(object x, object dtype):
    if not isinstance(x, np.ndarray) or (<cnp.ndarray>x).ndim != 2:
        raise ValueError("gemm operands must be 2-D arrays")
    if (<cnp.ndarray>x).dtype != dtype:
        raise TypeError(f"gemm operands must all be {np.dtype(dtype).name}, "
                        f"got {(<cnp.ndarray>x).dtype}")
    if not cnp.PyArray_ISALIGNED(<cnp.ndarray>x):
        raise ValueError("gemm operands must be aligned to their element size")
    return <cnp.ndarray>x


cpdef object gemm(object a, object b, bint trans_a=False, bint trans_b=False,
                  object out=None, double alpha=1.0, double beta=0.0):
    """out = alpha * op(a) @ op(b) + beta * out for 2-D float32 or float64 arrays.

    With out=None a new C-contiguous array is returned (beta is ignored).
    ``out`` must not overlap ``a`` or ``b``. Empty dimensions are fine.
    """
    if not isinstance(a, np.ndarray):
        raise TypeError("gemm operands must be numpy arrays")
    dtype = (<cnp.ndarray>a).dtype
    if dtype != np.float32 and dtype != np.float64:
        raise TypeError(f"gemm supports float32 and float64, got {dtype}")
    cdef cnp.ndarray A = _as_array(a, dtype)
    cdef cnp.ndarray B = _as_array(b, dtype)
    cdef Py_ssize_t m = A.shape[1] if trans_a else A.shape[0]
    cdef Py_ssize_t k = A.shape[0] if trans_a else A.shape[1]
    cdef Py_ssize_t kb = B.shape[1] if trans_b else B.shape[0]
    cdef Py_ssize_t n = B.shape[0] if trans_b else B.shape[1]
    if k != kb:
        raise ValueError(f"gemm: shapes {(<object>A).shape}{'^T' if trans_a else ''} and "
                         f"{(<object>B).shape}{'^T' if trans_b else ''} are not aligned "
                         f"({k} != {kb})")
    cdef cnp.ndarray C
    cdef bint fresh = out is None
    if fresh:
        C = np.empty((m, n), dtype=dtype)
        beta = 0.0
    else:
        C = _as_array(out, dtype)
        if C.shape[0] != m or C.shape[1] != n:
            raise ValueError(f"gemm: out has shape {(<object>C).shape}, expected {(m, n)}")
        if not C.flags.writeable:
            raise ValueError("gemm: out is read-only")
        if np.may_share_memory(C, A) or np.may_share_memory(C, B):
            raise ValueError("gemm: out overlaps an input")
    if m == 0 or n == 0:
        return C
    if k == 0 or alpha == 0.0:
        if fresh or beta == 0.0:
            C.fill(0)
        elif beta != 1.0:
            C *= beta
        return C
    if m > _INT_MAX or n > _INT_MAX or k > _INT_MAX:
        raise ValueError("gemm: dimension exceeds the 32-bit BLAS interface")

    cdef Py_ssize_t lda, ldb, ldc
    cdef bint ta, tb, tc
    if not _layout(A, &lda, &ta):
        A = np.ascontiguousarray(A)
        _layout(A, &lda, &ta)
    if not _layout(B, &ldb, &tb):
        B = np.ascontiguousarray(B)
        _layout(B, &ldb, &tb)
    cdef cnp.ndarray target = C
    if not _layout(C, &ldc, &tc):
        target = np.ascontiguousarray(C) if beta != 0.0 else np.empty((m, n), dtype=dtype)
        _layout(target, &ldc, &tc)
    if max(lda, ldb, ldc) > _INT_MAX:
        raise ValueError("gemm: leading dimension exceeds the 32-bit BLAS interface")

    # transposed storage of an operand flips its trans flag
    cdef bint fa = trans_a ^ ta, fb = trans_b ^ tb
    cdef void *pa = cnp.PyArray_DATA(A)
    cdef void *pb = cnp.PyArray_DATA(B)
    cdef void *pc = cnp.PyArray_DATA(target)
    cdef int im = <int>m, in_ = <int>n, ik = <int>k
    cdef int ilda = <int>lda, ildb = <int>ldb, ildc = <int>ldc
    cdef bint is32 = dtype == np.float32
    with nogil:
        if not tc:
            if is32:
                sgemm_rm(fa, fb, im, in_, ik, <float>alpha, <const float *>pa, ilda,
                         <const float *>pb, ildb, <float>beta, <float *>pc, ildc)
            else:
                dgemm_rm(fa, fb, im, in_, ik, alpha, <const double *>pa, ilda,
                         <const double *>pb, ildb, beta, <double *>pc, ildc)
        else:
            # C stored transposed: C^T (n x m) = op(B)^T op(A)^T, row-major
            if is32:
                sgemm_rm(not fb, not fa, in_, im, ik, <float>alpha, <const float *>pb, ildb,
                         <const float *>pa, ilda, <float>beta, <float *>pc, ildc)
            else:
                dgemm_rm(not fb, not fa, in_, im, ik, alpha, <const double *>pb, ildb,
                         <const double *>pa, ilda, beta, <double *>pc, ildc)
    if target is not C:
        C[...] = target
    return C
