# The activation backward the fused layers (dense, convolutions) share:
# dz = act'(y) * dy, and dbias += the column sums of dz.
cimport numpy as cnp
from ckeras._kernels._csrc cimport ck_act_backward_f32, ck_colsum_add_f32, CK_ACT_LINEAR
from ckeras._kernels._checks cimport fptr, fptr_or_null


cdef inline cnp.ndarray dbias_buffer(object dbias, Py_ssize_t cols):
    """Where the C code adds the column sums: dbias itself when it is a
    writeable C-contiguous native float32 array, else zeros that dbias_done
    adds into it (any float dtype); None without dbias. Either way gives
    the same bits: C adds each float32 sum into the buffer once."""
    cdef cnp.npy_intp n = cols
    if dbias is None:
        return None
    if dbias.shape != (cols,):
        raise ValueError(f"dbias has shape {dbias.shape}, expected ({cols},)")
    if (isinstance(dbias, cnp.ndarray) and cnp.PyArray_TYPE(<cnp.ndarray>dbias) == cnp.NPY_FLOAT32
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>dbias)
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>dbias)
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>dbias)
            and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>dbias)):
        return <cnp.ndarray>dbias
    return cnp.PyArray_ZEROS(1, &n, cnp.NPY_FLOAT32, 0)


cdef inline int dbias_done(object dbias, cnp.ndarray DB) except -1:
    if DB is not dbias:
        dbias += DB
    return 0


cdef inline cnp.ndarray act_dz(cnp.ndarray DY, cnp.ndarray Yv, int act, object dbias,
                               Py_ssize_t rows, Py_ssize_t cols, int n_threads):
    """act'(y) * dy for C-contiguous float32 (rows, cols) dy and y (dy itself
    for a linear activation), adding its column sums into dbias (None, or
    (cols,) of any float dtype)."""
    cdef cnp.ndarray DB = dbias_buffer(dbias, cols)
    cdef float *pdb = fptr_or_null(DB)
    cdef const float *pdy = fptr(DY)
    cdef const float *py = fptr(Yv)
    cdef cnp.ndarray DZ = DY
    cdef float *pdz
    if act == CK_ACT_LINEAR:
        if pdb != NULL:
            with nogil:
                ck_colsum_add_f32(pdy, pdb, rows, cols, n_threads)
    else:
        DZ = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(DY), cnp.PyArray_DIMS(DY), cnp.NPY_FLOAT32, 0)
        pdz = fptr(DZ)
        with nogil:
            ck_act_backward_f32(pdy, py, pdz, pdb, rows, cols, act, n_threads)
    dbias_done(dbias, DB)
    return DZ
