"""Embedding gather / scatter-add kernels (csrc/embedding.c).

ids are flat C-contiguous int32 or int64 arrays; they are range-checked
before the nogil loop and a bad one raises ckeras.ops.errors.OutOfRangeError
(an IndexError and ValueError with .index, .position and .limit)."""
import numpy as np
cimport numpy as cnp
from ckeras._kernels._csrc cimport (ck_index, ck_embedding_gather_f32,
                                    ck_embedding_scatter_add_f32)
from ckeras._kernels._checks cimport (f32c_2d, fptr, check_native, clamp_threads, no_overlap,
                                     check_ids)

cnp.import_array()


cdef bint _ids_are_64(object ids) except -1:
    if not isinstance(ids, np.ndarray):
        raise TypeError("ids must be a numpy array")
    cdef cnp.ndarray a = <cnp.ndarray>ids
    if a.ndim != 1 or not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError("ids must be a flat C-contiguous array")
    check_native(a, "ids")
    if cnp.PyArray_TYPE(a) == cnp.NPY_INT64:
        return True
    if cnp.PyArray_TYPE(a) == cnp.NPY_INT32:
        return False
    raise TypeError(f"ids must be int32 or int64, got {a.dtype}")


def gather(ids, table, int n_threads=1):
    """out (n, dim) = table[ids] for flat ids and a float32 (vocab, dim) table."""
    cdef bint is64 = _ids_are_64(ids)
    cdef cnp.ndarray I = <cnp.ndarray>ids
    cdef cnp.ndarray T = f32c_2d(table, "table")
    cdef ck_index n = I.shape[0], vocab = T.shape[0], dim = T.shape[1]
    check_ids(I, is64, vocab, "id")
    n_threads = clamp_threads(n_threads)
    cdef cnp.ndarray OUT = np.empty((n, dim), dtype=np.float32)
    cdef const void *pi = cnp.PyArray_DATA(I)
    cdef const float *pt = fptr(T)
    cdef float *po = fptr(OUT)
    with nogil:
        ck_embedding_gather_f32(pi, is64, n, pt, dim, po, n_threads)
    return OUT


def scatter_add(ids, dout, dtable, int n_threads=1):
    """dtable[ids[p]] += dout[p] for p in order (repeated ids accumulate).

    Deterministic and bitwise identical at any thread count."""
    cdef bint is64 = _ids_are_64(ids)
    cdef cnp.ndarray I = <cnp.ndarray>ids
    cdef cnp.ndarray D = f32c_2d(dout, "dout")
    cdef cnp.ndarray T = f32c_2d(dtable, "dtable", True)
    cdef ck_index n = I.shape[0], vocab = T.shape[0], dim = T.shape[1]
    if D.shape[0] != n or D.shape[1] != dim:
        raise ValueError(f"dout has shape {(<object>D).shape}, expected {(n, dim)}")
    no_overlap(T, "dtable", D, "dout")
    no_overlap(T, "dtable", I, "ids")
    check_ids(I, is64, vocab, "id")
    n_threads = clamp_threads(n_threads)
    cdef const void *pi = cnp.PyArray_DATA(I)
    cdef const float *pd = fptr(D)
    cdef float *pt = fptr(T)
    with nogil:
        ck_embedding_scatter_add_f32(pi, is64, n, pd, dim, pt, n_threads)
    return dtable
