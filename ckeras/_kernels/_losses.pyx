"""Fused loss kernels (csrc/softmax_xent.c): softmax + cross-entropy with
sparse or dense targets, and sigmoid + binary cross-entropy."""
import numpy as np
cimport numpy as cnp
from ckeras._kernels._csrc cimport (ck_softmax_xent_f32, ck_softmax_xent_dense_f32,
                                    ck_sigmoid_bce_f32)
from ckeras._kernels._checks cimport (f32c, f32c_2d, fptr, fptr_or_null, check_native,
                                     clamp_threads, check_ids)

cnp.import_array()


cdef cnp.ndarray _scale_array(object sample_scale, Py_ssize_t rows):
    if sample_scale is None:
        return None
    s = np.asarray(sample_scale, dtype=np.float32)
    if s.ndim == 0:
        return np.full(rows, s, dtype=np.float32)
    if s.shape != (rows,):
        raise ValueError(f"sample_scale has shape {s.shape}, expected ({rows},)")
    return np.ascontiguousarray(s)


def softmax_xent(logits, labels, sample_scale=None, bint want_probs=False, int n_threads=1):
    """(losses (B,), dlogits (B, C), probs or None) for float32 logits (B, C).

    labels: int32 / int64 (B,) class ids (range-checked here, before the
    nogil loop), or float32 (B, C) target rows."""
    cdef cnp.ndarray X = f32c_2d(logits, "logits")
    cdef Py_ssize_t B = X.shape[0], C = X.shape[1]
    if C == 0:
        raise ValueError("logits must have at least one class")
    cdef cnp.ndarray S = _scale_array(sample_scale, B)
    cdef cnp.ndarray L
    cdef bint sparse, is64 = False
    if not isinstance(labels, np.ndarray):
        raise TypeError("labels must be a numpy array")
    L = <cnp.ndarray>labels
    if L.ndim == 1:
        sparse = True
        if cnp.PyArray_TYPE(L) == cnp.NPY_INT64:
            is64 = True
        elif cnp.PyArray_TYPE(L) != cnp.NPY_INT32:
            raise TypeError(f"sparse labels must be int32 or int64, got {L.dtype}")
        check_native(L, "labels")
        if not cnp.PyArray_IS_C_CONTIGUOUS(L):
            raise ValueError("labels must be C-contiguous")
        if L.shape[0] != B:
            raise ValueError(f"{L.shape[0]} labels for {B} rows of logits")
        check_ids(L, is64, C, "label")
    else:
        sparse = False
        L = f32c_2d(labels, "targets")
        if L.shape[0] != B or L.shape[1] != C:
            raise ValueError(f"targets have shape {(<object>L).shape}, logits {(B, C)}")
    n_threads = clamp_threads(n_threads)
    cdef cnp.ndarray G = np.empty((B, C), dtype=np.float32)
    cdef cnp.ndarray LOSS = np.empty(B, dtype=np.float32)
    cdef cnp.ndarray P = np.empty((B, C), dtype=np.float32) if want_probs else None
    cdef const float *px = fptr(X)
    cdef const float *ps = fptr_or_null(S)
    cdef float *pg = fptr(G)
    cdef float *ploss = fptr(LOSS)
    cdef float *pp = fptr_or_null(P)
    cdef void *pl = cnp.PyArray_DATA(L)
    with nogil:
        if sparse:
            ck_softmax_xent_f32(px, pl, is64, ps, pg, ploss, pp, B, C, n_threads)
        else:
            ck_softmax_xent_dense_f32(px, <const float *>pl, ps, pg, ploss, pp, B, C, n_threads)
    return LOSS, G, P


def sigmoid_bce(logits, targets, sample_scale=None, int n_threads=1):
    """(losses (B,), dlogits (B, K), probs (B, K)) for float32 logits/targets (B, K)."""
    cdef cnp.ndarray X = f32c_2d(logits, "logits")
    cdef cnp.ndarray T = f32c_2d(targets, "targets")
    cdef Py_ssize_t B = X.shape[0], K = X.shape[1]
    if T.shape[0] != B or T.shape[1] != K:
        raise ValueError(f"targets have shape {(<object>T).shape}, logits {(B, K)}")
    cdef cnp.ndarray S = _scale_array(sample_scale, B)
    n_threads = clamp_threads(n_threads)
    cdef cnp.ndarray G = np.empty((B, K), dtype=np.float32)
    cdef cnp.ndarray P = np.empty((B, K), dtype=np.float32)
    cdef cnp.ndarray LOSS = np.empty(B, dtype=np.float32)
    if K == 0:
        LOSS.fill(np.nan)          # mean over an empty axis, as numpy
        return LOSS, G, P
    cdef const float *px = fptr(X)
    cdef const float *pt = fptr(T)
    cdef const float *ps = fptr_or_null(S)
    cdef float *pg = fptr(G)
    cdef float *pp = fptr(P)
    cdef float *ploss = fptr(LOSS)
    with nogil:
        ck_sigmoid_bce_f32(px, pt, ps, pg, ploss, pp, B, K, n_threads)
    return LOSS, G, P
