"""Bias + activation kernels on (rows, cols) float32 arrays (csrc/activation.c)."""
cimport numpy as cnp
from ckeras._kernels._csrc cimport ck_bias_act_f32, ck_act_backward_f32, ck_colsum_add_f32
from ckeras._kernels._checks cimport (f32c_1d, f32c_1d_opt, f32c_2d, f32c_2d_out, fptr,
                                     fptr_or_null, act_code, clamp_threads, no_overlap)

cnp.import_array()


def bias_act(z, bias, str activation, int n_threads=1, out=None):
    """y = act(z + bias) row by row; z (rows, cols), bias (cols,) or None.

    ``out`` (same shape) may be ``z`` itself for an in-place update."""
    cdef int act = act_code(activation)
    cdef cnp.ndarray Z = f32c_2d(z, "z")
    cdef Py_ssize_t rows = Z.shape[0], cols = Z.shape[1]
    cdef cnp.ndarray Bv = f32c_1d_opt(bias, "bias", cols)
    cdef cnp.ndarray Y = f32c_2d_out(out, "out", rows, cols)
    no_overlap(Y, "out", Z, "z", True)
    no_overlap(Y, "out", Bv, "bias")
    n_threads = clamp_threads(n_threads)
    cdef const float *pz = fptr(Z)
    cdef const float *pb = fptr_or_null(Bv)
    cdef float *py = fptr(Y)
    with nogil:
        ck_bias_act_f32(pz, pb, py, rows, cols, act, n_threads)
    return Y


def act_backward(dy, y, str activation, int n_threads=1, dbias=None, out=None):
    """dz = act'(y) * dy for (rows, cols) arrays; dbias (cols,) += column sums of dz."""
    cdef int act = act_code(activation)
    cdef cnp.ndarray DY = f32c_2d(dy, "dy")
    cdef cnp.ndarray Yv = f32c_2d(y, "y")
    cdef Py_ssize_t rows = DY.shape[0], cols = DY.shape[1]
    if Yv.shape[0] != rows or Yv.shape[1] != cols:
        raise ValueError(f"dy {(<object>DY).shape} and y {(<object>Yv).shape} differ in shape")
    cdef cnp.ndarray DB = f32c_1d_opt(dbias, "dbias", cols, True)
    cdef cnp.ndarray DZ = f32c_2d_out(out, "out", rows, cols)
    no_overlap(DZ, "out", DY, "dy")
    no_overlap(DZ, "out", Yv, "y")
    no_overlap(DZ, "out", DB, "dbias")
    no_overlap(DB, "dbias", DY, "dy")
    no_overlap(DB, "dbias", Yv, "y")
    n_threads = clamp_threads(n_threads)
    cdef const float *pdy = fptr(DY)
    cdef const float *py = fptr(Yv)
    cdef float *pdz = fptr(DZ)
    cdef float *pdb = fptr_or_null(DB)
    with nogil:
        ck_act_backward_f32(pdy, py, pdz, pdb, rows, cols, act, n_threads)
    return DZ


def colsum_add(a, out, int n_threads=1):
    """out (cols,) += a.sum(axis=0) for a (rows, cols), summed in double."""
    cdef cnp.ndarray A = f32c_2d(a, "a")
    cdef cnp.ndarray O = f32c_1d(out, "out", A.shape[1], True)
    no_overlap(O, "out", A, "a")
    n_threads = clamp_threads(n_threads)
    cdef const float *pa = fptr(A)
    cdef float *po = fptr(O)
    cdef Py_ssize_t rows = A.shape[0], cols = A.shape[1]
    with nogil:
        ck_colsum_add_f32(pa, po, rows, cols, n_threads)
    return O
