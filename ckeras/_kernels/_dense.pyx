"""Dense layer kernels: BLAS GEMM plus one fused bias/activation pass.

forward:  y = sgemm(x, kernel), then act(y + bias) in place (one pass).
backward: dz = act'(y) * dy fused with the column sum into dbias (one pass),
          dkernel += x^T dz (sgemm, beta=1, in place), dx = dz kernel^T.
BLAS runs on its own thread pool and is never called inside an OpenMP
region; n_threads applies to the fused passes only.
"""
import numpy as np
cimport numpy as cnp
from ckeras._kernels._blas cimport gemm
from ckeras._kernels._csrc cimport ck_bias_act_f32, CK_ACT_LINEAR
from ckeras._kernels._backward cimport act_dz
from ckeras._kernels._checks cimport (f32c, f32c_2d, f32c_1d_opt, fptr, fptr_or_null, act_code,
                                     check_native, clamp_threads, no_overlap)

cnp.import_array()


def dense_forward(x, kernel, bias, str activation="linear", int n_threads=1):
    """act(x @ kernel + bias) for float32 x (batch, in), kernel (in, units)."""
    cdef int act = act_code(activation)
    _f32_2d(x, "x")
    _f32_2d(kernel, "kernel")
    n_threads = clamp_threads(n_threads)
    cdef cnp.ndarray Y = gemm(x, kernel)
    cdef Py_ssize_t rows = Y.shape[0], cols = Y.shape[1]
    cdef cnp.ndarray Bv = f32c_1d_opt(bias, "bias", cols)
    cdef float *py = fptr(Y)
    cdef const float *pb = fptr_or_null(Bv)
    if pb != NULL or act != CK_ACT_LINEAR:
        with nogil:
            ck_bias_act_f32(py, pb, py, rows, cols, act, n_threads)
    return Y


cdef int _f32_2d(object a, str name) except -1:
    """A 2-D native float32 array of any strides (gemm reads strided rows)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(a).__name__}")
    if (<cnp.ndarray>a).dtype != np.float32:
        raise TypeError(f"{name} must be float32 in native byte order, got {a.dtype}")
    check_native(<cnp.ndarray>a, name)
    if (<cnp.ndarray>a).ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {a.shape}")
    return 0


def dense_backward(dy, x, y, kernel, str activation, dkernel, dbias,
                   bint need_dx=True, int n_threads=1, bint dkernel_fresh=False):
    """Accumulate dkernel += x^T dz and dbias += sum(dz); return dx = dz kernel^T.

    dkernel_fresh: dkernel holds garbage; overwrite it (GEMM beta=0).

    dy, y (batch, units) and x (batch, in), kernel (in, units) float32.
    dkernel / dbias are updated in place (float32 buffers directly, any other
    dtype through one temporary); dbias may be None."""
    cdef int act = act_code(activation)
    cdef cnp.ndarray DY = f32c_2d(dy, "dy")
    cdef cnp.ndarray Yv = f32c_2d(y, "y")
    _f32_2d(x, "x")
    _f32_2d(kernel, "kernel")
    n_threads = clamp_threads(n_threads)
    cdef Py_ssize_t rows = DY.shape[0], cols = DY.shape[1]
    if Yv.shape[0] != rows or Yv.shape[1] != cols:
        raise ValueError(f"dy {(<object>DY).shape} and y {(<object>Yv).shape} differ in shape")
    if x.shape[0] != rows or kernel.shape[0] != x.shape[1] or kernel.shape[1] != cols:
        raise ValueError(f"dense_backward: x {x.shape}, kernel {kernel.shape} and dy "
                         f"{(<object>DY).shape} do not fit (batch, in) @ (in, units)")
    if dkernel is None or dkernel.shape != kernel.shape:
        raise ValueError(f"dkernel has shape {getattr(dkernel, 'shape', None)}, expected "
                         f"{kernel.shape}")
    for out, out_name in ((dkernel, "dkernel"), (dbias, "dbias")):
        if out is not None:
            for a, a_name in ((dy, "dy"), (y, "y"), (x, "x"), (kernel, "kernel")):
                if np.may_share_memory(out, a):
                    raise ValueError(f"{out_name} overlaps {a_name} in memory")
    if dbias is not None and np.may_share_memory(dkernel, dbias):
        raise ValueError("dkernel overlaps dbias in memory")
    cdef cnp.ndarray DZ = act_dz(DY, Yv, act, dbias, rows, cols, n_threads)
    if isinstance(dkernel, np.ndarray) and dkernel.dtype == np.float32 and dkernel.ndim == 2:
        gemm(x, DZ, True, False, dkernel, 1.0, 0.0 if dkernel_fresh else 1.0)
    elif dkernel_fresh:
        dkernel[...] = gemm(x, DZ, True, False)
    else:
        dkernel += gemm(x, DZ, True, False)
    if need_dx:
        return gemm(DZ, kernel, False, True)
    return None
