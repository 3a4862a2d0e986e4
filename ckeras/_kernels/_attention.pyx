"""Attention softmax kernels (csrc/attention.c): softmax over the last axis
of (G, H, T, S) scores fused with a boolean / causal mask, and its backward."""
import numpy as np
cimport numpy as cnp
from ckeras._kernels._csrc cimport ck_masked_softmax_f32, ck_softmax_backward_f32
from ckeras._kernels._checks cimport f32c, fptr

cnp.import_array()


def masked_softmax(x, mask=None, bint causal=False, int n_threads=1, out=None):
    """y (G, H, T, S) for float32 scores x (G, H, T, S); into ``out`` (which
    may be x itself) when given.

    mask: None, or a C-contiguous bool / uint8 array (Gm, Hm, T, S) with Gm in
    {1, G} and Hm in {1, H} (broadcast over batch groups / heads)."""
    cdef cnp.ndarray X = f32c(x, "scores")
    if X.ndim != 4:
        raise ValueError(f"scores must be 4-D (G, H, T, S), got shape {(<object>X).shape}")
    cdef Py_ssize_t G = X.shape[0], H = X.shape[1], T = X.shape[2], S = X.shape[3]
    cdef Py_ssize_t mg = 0, mh = 0
    cdef cnp.ndarray M = None
    cdef const unsigned char *pm = NULL
    if mask is not None:
        if not isinstance(mask, np.ndarray) or mask.dtype not in (np.bool_, np.uint8):
            raise TypeError("mask must be a bool or uint8 numpy array")
        M = <cnp.ndarray>mask
        if not cnp.PyArray_IS_C_CONTIGUOUS(M):
            raise ValueError("mask must be C-contiguous")
        if M.ndim != 4 or M.shape[0] not in (1, G) or M.shape[1] not in (1, H) \
                or M.shape[2] != T or M.shape[3] != S:
            raise ValueError(f"mask has shape {(<object>M).shape}, expected "
                             f"(1 or {G}, 1 or {H}, {T}, {S})")
        mh = T * S if M.shape[1] == H else 0
        mg = M.shape[1] * T * S if M.shape[0] == G else 0
        pm = <const unsigned char *>cnp.PyArray_DATA(M)
    cdef cnp.ndarray Y
    if out is None:
        Y = np.empty((G, H, T, S), dtype=np.float32)
    else:
        Y = f32c(out, "out", True)
        if (<object>Y).shape != (<object>X).shape:
            raise ValueError(f"out has shape {(<object>Y).shape}, scores {(<object>X).shape}")
    cdef const float *px = fptr(X)
    cdef float *py = fptr(Y)
    with nogil:
        ck_masked_softmax_f32(px, pm, py, G, H, T, S, mg, mh, causal, n_threads)
    return Y


def softmax_backward(dy, y, int n_threads=1, out=None):
    """dx = y * (dy - sum(dy * y, axis=-1)) for float32 dy, y of one shape;
    into ``out`` (which may be dy itself) when given."""
    cdef cnp.ndarray DY = f32c(dy, "dy")
    cdef cnp.ndarray Yv = f32c(y, "y")
    if (<object>DY).shape != (<object>Yv).shape or Yv.ndim < 1:
        raise ValueError(f"dy {(<object>DY).shape} and y {(<object>Yv).shape} must have "
                         "one shape of rank >= 1")
    cdef Py_ssize_t S = Yv.shape[Yv.ndim - 1]
    cdef Py_ssize_t R = Yv.size // S if S else 0
    cdef cnp.ndarray DX
    if out is None:
        DX = np.empty_like(Yv)
    else:
        DX = f32c(out, "out", True)
        if (<object>DX).shape != (<object>Yv).shape:
            raise ValueError(f"out has shape {(<object>DX).shape}, y {(<object>Yv).shape}")
    cdef const float *pdy = fptr(DY)
    cdef const float *pyv = fptr(Yv)
    cdef float *pdx = fptr(DX)
    with nogil:
        ck_softmax_backward_f32(pdy, pyv, pdx, R, S, n_threads)
    return DX
