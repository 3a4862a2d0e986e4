# Row-major GEMM on raw pointers over the chosen BLAS (see _blas.pyx), shared by
# the kernel modules that need it (cimport ckeras._kernels._blas).
#
#   C (m, n) = alpha * op(A) @ op(B) + beta * C,  all row-major with leading
#   dimensions lda / ldb / ldc (elements between rows as stored).
# Callers handle empty dimensions (m, n or k == 0) themselves; these only
# clamp the leading dimensions so BLAS never sees an invalid one.

cdef void sgemm_rm(bint trans_a, bint trans_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta,
                   float *c, int ldc) noexcept nogil
cdef void dgemm_rm(bint trans_a, bint trans_b, int m, int n, int k, double alpha,
                   const double *a, int lda, const double *b, int ldb, double beta,
                   double *c, int ldc) noexcept nogil

# Python-level GEMM on float32 / float64 arrays of any 2-D layout (see gemm()).
cpdef object gemm(object a, object b, bint trans_a=*, bint trans_b=*, object out=*,
                  double alpha=*, double beta=*)
