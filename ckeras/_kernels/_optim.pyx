"""Fused in-place optimizer updates (csrc/optim.c) on float32 C-contiguous
arrays of equal size; optional slots may be None."""
cimport numpy as cnp
from ckeras._kernels._csrc cimport (ck_index, ck_sgd_update_f32, ck_adam_update_f32,
                                    ck_rmsprop_update_f32, ck_adagrad_update_f32)
from ckeras._kernels._checks cimport f32c, fptr, fptr_or_null, clamp_threads, no_overlap

cnp.import_array()


cdef cnp.ndarray _slot(object x, str name, Py_ssize_t n, bint writeable=True):
    if x is None:
        return None
    cdef cnp.ndarray a = f32c(x, name, writeable)
    if cnp.PyArray_SIZE(a) != n:
        raise ValueError(f"{name} has {cnp.PyArray_SIZE(a)} elements, param has {n}")
    return a


cdef int _distinct(list arrays, tuple names) except -1:
    """Every buffer of an update is its own: none overlaps another."""
    cdef Py_ssize_t i, j
    for i in range(len(arrays)):
        for j in range(i):
            no_overlap(arrays[i], names[i], arrays[j], names[j])
    return 0


cdef cnp.ndarray _need(object x, str name, Py_ssize_t n, bint writeable=True):
    if x is None:
        raise TypeError(f"{name} is required")
    return _slot(x, name, n, writeable)


cdef list _buffers(object param, object grad, tuple slots, tuple names, Py_ssize_t required):
    """[param, grad, *slots], checked: float32 C-contiguous arrays of param's
    size, each of its own, all writeable but grad. names: of param, grad and
    each slot; past the first ``required`` a slot may be None."""
    cdef cnp.ndarray P = f32c(param, "param", True)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(P), i
    cdef list arrays = [P, _need(grad, "grad", n, False)]
    for i in range(len(slots)):
        arrays.append(_need(slots[i], names[i + 2], n) if i < required
                      else _slot(slots[i], names[i + 2], n))
    _distinct(arrays, names)
    return arrays


def sgd_update(param, grad, double lr, double momentum=0.0, velocity=None,
               bint nesterov=False, int n_threads=1):
    cdef cnp.ndarray P, G, V
    P, G, V = _buffers(param, grad, (velocity,), ("param", "grad", "velocity"), required=0)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(P)
    n_threads = clamp_threads(n_threads)
    cdef float *pp = fptr(P)
    cdef const float *pg = fptr(G)
    cdef float *pv = fptr_or_null(V)
    cdef float flr = <float>lr, fm = <float>momentum
    with nogil:
        ck_sgd_update_f32(pp, pg, pv, n, flr, fm, nesterov, n_threads)


def adam_update(param, grad, m, v, double lr_t, double beta_1, double beta_2,
                double epsilon, vhat=None, int n_threads=1):
    cdef cnp.ndarray P, G, M, Vv, H
    P, G, M, Vv, H = _buffers(param, grad, (m, v, vhat), ("param", "grad", "m", "v", "vhat"),
                              required=2)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(P)
    n_threads = clamp_threads(n_threads)
    cdef float *pp = fptr(P)
    cdef const float *pg = fptr(G)
    cdef float *pm = fptr(M)
    cdef float *pv = fptr(Vv)
    cdef float *ph = fptr_or_null(H)
    cdef float flr = <float>lr_t, omb1 = <float>(1.0 - beta_1), omb2 = <float>(1.0 - beta_2)
    cdef float feps = <float>epsilon
    with nogil:
        ck_adam_update_f32(pp, pg, pm, pv, ph, n, flr, omb1, omb2, feps, n_threads)


def rmsprop_update(param, grad, velocity, double lr, double rho, double epsilon,
                   double momentum=0.0, momentum_buf=None, average_grad=None,
                   int n_threads=1):
    cdef cnp.ndarray P, G, V, MB, AG
    P, G, V, MB, AG = _buffers(param, grad, (velocity, momentum_buf, average_grad),
                               ("param", "grad", "velocity", "momentum_buf", "average_grad"),
                               required=1)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(P)
    n_threads = clamp_threads(n_threads)
    cdef float *pp = fptr(P)
    cdef const float *pg = fptr(G)
    cdef float *pv = fptr(V)
    cdef float *pmb = fptr_or_null(MB)
    cdef float *pag = fptr_or_null(AG)
    cdef float flr = <float>lr, frho = <float>rho, omr = <float>(1.0 - rho)
    cdef float feps = <float>epsilon, fmom = <float>momentum
    with nogil:
        ck_rmsprop_update_f32(pp, pg, pv, pmb, pag, n, flr, frho, omr, feps, fmom, n_threads)


def adagrad_update(param, grad, accumulator, double lr, double epsilon, int n_threads=1):
    cdef cnp.ndarray P, G, A
    P, G, A = _buffers(param, grad, (accumulator,), ("param", "grad", "accumulator"), required=1)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(P)
    n_threads = clamp_threads(n_threads)
    cdef float *pp = fptr(P)
    cdef const float *pg = fptr(G)
    cdef float *pa = fptr(A)
    cdef float flr = <float>lr, feps = <float>epsilon
    with nogil:
        ck_adagrad_update_f32(pp, pg, pa, n, flr, feps, n_threads)
