"""Max / average pooling on channels-last 5-D float32 tensors (csrc/pool.c).

geo is (in, out, pool, strides, (1, 1, 1), pad) over (D, H, W); 1-D/2-D
layers pass D = H = 1. Max pooling returns the argmax (first maximum, flat
spatial index per output element) that its backward routes through.
"""
import numpy as np
cimport numpy as cnp
from libc.stdint cimport int32_t
from ckeras._kernels._csrc cimport ck_index
from ckeras._kernels._checks cimport fptr
from ckeras._kernels._convgeom cimport (ck_conv_geom, make_geom, five_d, tensor5,
                                        ck_maxpool_forward_f32,
                                        ck_maxpool_backward_f32, ck_avgpool_forward_f32,
                                        ck_avgpool_backward_f32)

cnp.import_array()


cdef ck_conv_geom _geom(object geo, Py_ssize_t channels) except *:
    cdef ck_conv_geom g = make_geom(geo, channels)
    cdef int i
    for i in range(3):
        if g.d[i] != 1:
            raise ValueError(f"pooling has no dilation, got {geo!r}")
        if g.out[i] > 0 and g.in_[i] > 0 and (g.pad[i] >= g.k[i]
                                              or (g.out[i] - 1) * g.s[i] - g.pad[i] >= g.in_[i]):
            raise ValueError(f"pooling geometry {geo!r} has windows with no input in them")
        if g.out[i] > 0 and g.in_[i] == 0:
            raise ValueError(f"pooling geometry {geo!r} has an empty input")
    if g.in_[0] * g.in_[1] * g.in_[2] > 2147483647:
        raise ValueError("pooling: the spatial size exceeds 2**31 elements")
    return g


cdef cnp.ndarray _pool_input(object x, object geo, ck_conv_geom *g):
    """x as float32 5-D (batch, *geo input, C); fills g for C channels."""
    cdef cnp.ndarray X = five_d(x)
    g[0] = _geom(geo, X.shape[4])
    return tensor5(x, "x", tuple(geo[0]), -1)


def max_pool_forward(x, geo, int n_threads=1, bint want_argmax=True):
    """(y, argmax): window maxima and the flat spatial index of each
    (argmax None unless ``want_argmax``)."""
    cdef ck_conv_geom g
    cdef cnp.ndarray X = _pool_input(x, geo, &g)
    cdef ck_index nb = X.shape[0]
    shape = (nb,) + tuple(geo[1]) + (g.c,)
    cdef cnp.ndarray Y = np.empty(shape, np.float32)
    cdef cnp.ndarray A = np.empty(shape, np.int32) if want_argmax else None
    cdef const float *px = fptr(X)
    cdef float *py = fptr(Y)
    cdef int32_t *pa = <int32_t *>cnp.PyArray_DATA(A) if want_argmax else NULL
    with nogil:
        ck_maxpool_forward_f32(px, nb, &g, py, pa, n_threads)
    return Y, A


def max_pool_backward(dy, argmax, geo, int n_threads=1):
    """dx: each dy added at its window's argmax."""
    cdef cnp.ndarray A = argmax
    if A.dtype != np.int32 or not A.flags.c_contiguous or A.ndim != 5:
        raise TypeError("argmax must be the int32 C-contiguous array max_pool_forward returned")
    cdef ck_conv_geom g = _geom(geo, A.shape[4])
    cdef cnp.ndarray DY = tensor5(np.ascontiguousarray(dy, np.float32), "dy", tuple(geo[1]), g.c)
    if (<object>A).shape != (<object>DY).shape:
        raise ValueError(f"argmax {(<object>A).shape} and dy {(<object>DY).shape} differ in shape")
    cdef ck_index per_in = g.in_[0] * g.in_[1] * g.in_[2]
    if A.size and (A.min() < 0 or A.max() >= per_in):
        raise ValueError("argmax holds positions outside the input")
    cdef ck_index nb = DY.shape[0]
    cdef cnp.ndarray DX = np.empty((nb,) + tuple(geo[0]) + (g.c,), np.float32)
    cdef const float *pdy = fptr(DY)
    cdef const int32_t *pa = <const int32_t *>cnp.PyArray_DATA(A)
    cdef float *pdx = fptr(DX)
    with nogil:
        ck_maxpool_backward_f32(pdy, pa, nb, &g, pdx, n_threads)
    return DX


def avg_pool_forward(x, geo, int n_threads=1):
    """Window means over the real (unpadded) elements."""
    cdef ck_conv_geom g
    cdef cnp.ndarray X = _pool_input(x, geo, &g)
    cdef ck_index nb = X.shape[0]
    cdef cnp.ndarray Y = np.empty((nb,) + tuple(geo[1]) + (g.c,), np.float32)
    cdef const float *px = fptr(X)
    cdef float *py = fptr(Y)
    with nogil:
        ck_avgpool_forward_f32(px, nb, &g, py, n_threads)
    return Y


def avg_pool_backward(dy, Py_ssize_t channels, geo, int n_threads=1):
    """dx: each dy / count spread over its window."""
    cdef ck_conv_geom g = _geom(geo, channels)
    cdef cnp.ndarray DY = tensor5(np.ascontiguousarray(dy, np.float32), "dy", tuple(geo[1]), channels)
    cdef ck_index nb = DY.shape[0]
    cdef cnp.ndarray DX = np.empty((nb,) + tuple(geo[0]) + (channels,), np.float32)
    cdef const float *pdy = fptr(DY)
    cdef float *pdx = fptr(DX)
    with nogil:
        ck_avgpool_backward_f32(pdy, nb, &g, pdx, n_threads)
    return DX
