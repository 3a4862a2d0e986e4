# Small argument checks shared by the kernel wrappers: every array that
# reaches C is an ndarray of the expected dtype, C-contiguous, right-sized.
cimport numpy as cnp
from ckeras._kernels._csrc cimport (ck_index, ck_find_bad_id, CK_ACT_LINEAR, CK_ACT_RELU,
                                   CK_ACT_SIGMOID, CK_ACT_TANH, CK_ACT_SOFTMAX)

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int ck_thread_cap(void)
    {
        int p = omp_get_num_procs();
        return p * 4 > 256 ? p * 4 : 256;
    }
    #else
    static int ck_thread_cap(void) { return 1; }
    #endif
    """
    int ck_thread_cap() nogil


cdef inline int clamp_threads(int n) noexcept:
    """n_threads within [1, max(256, 4 * CPUs)]: OpenMP crashes creating
    tens of thousands of threads."""
    cdef int cap = ck_thread_cap()
    return 1 if n < 1 else (cap if n > cap else n)


cdef inline int check_native(cnp.ndarray a, str name) except -1:
    """Byte order and alignment the C code can read directly."""
    if not cnp.PyArray_ISNOTSWAPPED(a):
        raise TypeError(f"{name} must be in native byte order, got dtype {a.dtype.str!r}")
    if not cnp.PyArray_ISALIGNED(a):
        raise ValueError(f"{name} is not aligned to its element size")
    return 0


cdef inline cnp.ndarray f32c(object x, str name, bint writeable=False):
    """x as a C-contiguous native float32 ndarray (no copy), else TypeError/ValueError."""
    if not isinstance(x, cnp.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    cdef cnp.ndarray a = <cnp.ndarray>x
    if cnp.PyArray_TYPE(a) != cnp.NPY_FLOAT32:
        raise TypeError(f"{name} must be float32, got {a.dtype}")
    check_native(a, name)
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError(f"{name} must be C-contiguous")
    if writeable and not cnp.PyArray_ISWRITEABLE(a):
        raise ValueError(f"{name} is read-only")
    return a


cdef inline bint _overlap(cnp.ndarray a, cnp.ndarray b) noexcept:
    """True if the bytes of two C-contiguous arrays intersect."""
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    cdef Py_ssize_t na = cnp.PyArray_NBYTES(a), nb = cnp.PyArray_NBYTES(b)
    if na == 0 or nb == 0:
        return False
    return pa < pb + nb and pb < pa + na


cdef inline int no_overlap(cnp.ndarray out, str out_name, cnp.ndarray a, str a_name,
                           bint same_ok=False) except -1:
    """An output buffer may not overlap an input (nor another output); with
    ``same_ok`` it may be exactly the same buffer (an in-place update)."""
    if out is None or a is None or not _overlap(out, a):
        return 0
    if (same_ok and cnp.PyArray_DATA(out) == cnp.PyArray_DATA(a)
            and cnp.PyArray_NBYTES(out) == cnp.PyArray_NBYTES(a)):
        return 0
    raise ValueError(f"{out_name} overlaps {a_name} in memory"
                     + (" (only exactly the same buffer is allowed)" if same_ok else ""))

cdef inline cnp.ndarray f32c_2d(object x, str name, bint writeable=False):
    cdef cnp.ndarray a = f32c(x, name, writeable)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {(<object>a).shape}")
    return a

cdef inline cnp.ndarray f32c_opt(object x, str name, bint writeable=False):
    return None if x is None else f32c(x, name, writeable)

cdef inline cnp.ndarray f32c_1d(object x, str name, Py_ssize_t n, bint writeable=False):
    """x as a float32 C-contiguous (n,) array (a bias, its gradient, ...)."""
    cdef cnp.ndarray a = f32c(x, name, writeable)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{name} has shape {(<object>a).shape}, expected ({n},)")
    return a

cdef inline cnp.ndarray f32c_1d_opt(object x, str name, Py_ssize_t n, bint writeable=False):
    return None if x is None else f32c_1d(x, name, n, writeable)

cdef inline cnp.ndarray f32c_2d_like(object x, str name, Py_ssize_t rows, Py_ssize_t cols,
                                     bint writeable=False):
    """x as a float32 C-contiguous (rows, cols) array."""
    cdef cnp.ndarray a = f32c_2d(x, name, writeable)
    if a.shape[0] != rows or a.shape[1] != cols:
        raise ValueError(f"{name} has shape {(<object>a).shape}, expected {(rows, cols)}")
    return a

cdef inline cnp.ndarray f32c_2d_out(object x, str name, Py_ssize_t rows, Py_ssize_t cols):
    """An output (rows, cols): x, checked, to write in place, or when x is None
    a new array (which overlaps nothing)."""
    cdef cnp.npy_intp dims[2]
    if x is None:
        dims[0] = rows
        dims[1] = cols
        return cnp.PyArray_EMPTY(2, dims, cnp.NPY_FLOAT32, 0)
    return f32c_2d_like(x, name, rows, cols, True)

cdef inline float *fptr(cnp.ndarray a) noexcept:
    return <float *>cnp.PyArray_DATA(a)

cdef inline float *fptr_or_null(cnp.ndarray a) noexcept:
    return NULL if a is None else <float *>cnp.PyArray_DATA(a)

cdef inline int act_code(str name) except -1:
    if name == "linear":
        return CK_ACT_LINEAR
    if name == "relu":
        return CK_ACT_RELU
    if name == "sigmoid":
        return CK_ACT_SIGMOID
    if name == "tanh":
        return CK_ACT_TANH
    if name == "softmax":
        return CK_ACT_SOFTMAX
    raise ValueError(f"activation {name!r} is not one of "
                     "('linear', 'relu', 'sigmoid', 'tanh', 'softmax')")

cdef inline int check_ids(cnp.ndarray ids, bint ids_64, Py_ssize_t limit, str what) except -1:
    """Every entry of the flat int64 (ids_64) or int32 array ids lies in
    [0, limit), else OutOfRangeError naming the first one that does not."""
    cdef ck_index n = cnp.PyArray_SIZE(ids), bad
    cdef const void *p = cnp.PyArray_DATA(ids)
    with nogil:
        bad = ck_find_bad_id(p, ids_64, n, limit)
    if bad >= 0:
        from ckeras.ops.errors import out_of_range_error
        raise out_of_range_error(what, ids[bad], bad, limit)
    return 0
