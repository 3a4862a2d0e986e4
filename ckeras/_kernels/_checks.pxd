# Small argument checks shared by the kernel wrappers: every array that
# reaches C is an ndarray of the expected dtype, C-contiguous, right-sized.
cimport numpy as cnp
from ckeras._kernels._csrc cimport (CK_ACT_LINEAR, CK_ACT_RELU, CK_ACT_SIGMOID,
                                   CK_ACT_TANH, CK_ACT_SOFTMAX)

cdef inline cnp.ndarray f32c(object x, str name, bint writeable=False):
    """x as a C-contiguous float32 ndarray (no copy), else TypeError/ValueError."""
    if not isinstance(x, cnp.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    cdef cnp.ndarray a = <cnp.ndarray>x
    if cnp.PyArray_TYPE(a) != cnp.NPY_FLOAT32:
        raise TypeError(f"{name} must be float32, got {a.dtype}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError(f"{name} must be C-contiguous")
    if writeable and not cnp.PyArray_ISWRITEABLE(a):
        raise ValueError(f"{name} is read-only")
    return a

cdef inline cnp.ndarray f32c_2d(object x, str name, bint writeable=False):
    cdef cnp.ndarray a = f32c(x, name, writeable)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {(<object>a).shape}")
    return a

cdef inline cnp.ndarray f32c_opt(object x, str name, bint writeable=False):
    return None if x is None else f32c(x, name, writeable)

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
