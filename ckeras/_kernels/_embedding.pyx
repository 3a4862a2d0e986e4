"""Embedding gather / scatter-add kernels (csrc/embedding.c).

ids are flat C-contiguous int32 or int64 arrays; they are range-checked
before the nogil loop and a bad one raises ckeras.ops.errors.OutOfRangeError
(an IndexError and ValueError with .index, .position and .limit)."""
import numpy as np
cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t
from ckeras._kernels._csrc cimport (ck_index, ck_find_bad_id_i64, ck_find_bad_id_i32,
                                    ck_embedding_gather_f32, ck_embedding_gather_i32_f32,
                                    ck_embedding_scatter_add_f32,
                                    ck_embedding_scatter_add_i32_f32)
from ckeras._kernels._checks cimport f32c_2d, fptr, check_native, clamp_threads, no_overlap

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


cdef int _check_ids(cnp.ndarray ids, bint is64, Py_ssize_t vocab) except -1:
    cdef ck_index n = ids.shape[0], bad
    cdef void *p = cnp.PyArray_DATA(ids)
    with nogil:
        if is64:
            bad = ck_find_bad_id_i64(<const int64_t *>p, n, vocab)
        else:
            bad = ck_find_bad_id_i32(<const int32_t *>p, n, vocab)
    if bad >= 0:
        from ckeras.ops.errors import out_of_range_error
        raise out_of_range_error("id", ids[bad], bad, vocab)
    return 0


def gather(ids, table, int n_threads=1):
    """out (n, dim) = table[ids] for flat ids and a float32 (vocab, dim) table."""
    cdef bint is64 = _ids_are_64(ids)
    cdef cnp.ndarray I = <cnp.ndarray>ids
    cdef cnp.ndarray T = f32c_2d(table, "table")
    cdef ck_index n = I.shape[0], vocab = T.shape[0], dim = T.shape[1]
    _check_ids(I, is64, vocab)
    n_threads = clamp_threads(n_threads)
    cdef cnp.ndarray OUT = np.empty((n, dim), dtype=np.float32)
    cdef void *pi = cnp.PyArray_DATA(I)
    cdef const float *pt = fptr(T)
    cdef float *po = fptr(OUT)
    with nogil:
        if is64:
            ck_embedding_gather_f32(<const int64_t *>pi, n, pt, dim, po, n_threads)
        else:
            ck_embedding_gather_i32_f32(<const int32_t *>pi, n, pt, dim, po, n_threads)
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
    _check_ids(I, is64, vocab)
    n_threads = clamp_threads(n_threads)
    cdef void *pi = cnp.PyArray_DATA(I)
    cdef const float *pd = fptr(D)
    cdef float *pt = fptr(T)
    with nogil:
        if is64:
            ck_embedding_scatter_add_f32(<const int64_t *>pi, n, pd, dim, pt, n_threads)
        else:
            ck_embedding_scatter_add_i32_f32(<const int32_t *>pi, n, pd, dim, pt, n_threads)
    return dtable
