# Declarations of csrc/conv.h and csrc/pool.h, the geometry tuple the
# Python side passes: (in, out, k, s, d, pad), each a 3-tuple over (D, H, W),
# and the checks of the channels-last 5-D tensors both families take.
cimport numpy as cnp
from libc.stdint cimport int32_t
from ckeras._kernels._csrc cimport ck_index
from ckeras._kernels._checks cimport f32c

cdef extern from "conv.h" nogil:
    ctypedef struct ck_conv_geom:
        ck_index in_ "in"[3]
        ck_index out[3]
        ck_index k[3]
        ck_index s[3]
        ck_index d[3]
        ck_index pad[3]
        ck_index c
    void ck_im2col_f32(const float *x, ck_index nb, const ck_conv_geom *g, float *cols,
                       int n_threads)
    void ck_col2im_f32(const float *cols, ck_index nb, const ck_conv_geom *g, float *x,
                       int n_threads)
    enum:
        CK_SMALL_K
        CK_SMALL_F
    ck_index ck_conv_small_blocks(ck_index nb, const ck_conv_geom *g)
    void ck_conv_small_dw_f32(const float *x, ck_index nb, const ck_conv_geom *g,
                              const float *dy, const float *y, int relu, float *dw,
                              float *dbias, ck_index F, float *partials, int n_threads)

cdef extern from "pool.h" nogil:
    void ck_maxpool_forward_f32(const float *x, ck_index nb, const ck_conv_geom *g, float *y,
                                int32_t *argmax, int n_threads)
    void ck_maxpool_backward_f32(const float *dy, const int32_t *argmax, ck_index nb,
                                 const ck_conv_geom *g, float *dx, int n_threads)
    void ck_avgpool_forward_f32(const float *x, ck_index nb, const ck_conv_geom *g, float *y,
                                int n_threads)
    void ck_avgpool_backward_f32(const float *dy, ck_index nb, const ck_conv_geom *g,
                                 float *dx, int n_threads)


cdef inline ck_conv_geom make_geom(object geo, ck_index channels) except *:
    """Fill the C struct from (in, out, k, s, d, pad), validating every entry."""
    cdef ck_conv_geom g
    cdef int i
    if len(geo) != 6 or [len(t) for t in geo] != [3] * 6:
        raise ValueError(f"geometry must be six 3-tuples (in, out, k, s, d, pad), got {geo!r}")
    for i in range(3):
        g.in_[i] = geo[0][i]
        g.out[i] = geo[1][i]
        g.k[i] = geo[2][i]
        g.s[i] = geo[3][i]
        g.d[i] = geo[4][i]
        g.pad[i] = geo[5][i]
        if g.in_[i] < 0 or g.out[i] < 0 or g.k[i] < 1 or g.s[i] < 1 or g.d[i] < 1 or g.pad[i] < 0:
            raise ValueError(f"invalid geometry {geo!r}")
    if channels < 0:
        raise ValueError("negative channel count")
    g.c = channels
    return g


cdef inline cnp.ndarray five_d(object x):
    """x as a float32 (batch, D, H, W, C) array, before its geometry is known."""
    cdef cnp.ndarray X = f32c(x, "x")
    if X.ndim != 5:
        raise ValueError(f"x must be 5-D (batch, D, H, W, C), got shape {(<object>X).shape}")
    return X


cdef inline cnp.ndarray tensor5(object a, str name, tuple spatial, Py_ssize_t channels):
    """a as a float32 (batch, *spatial, channels) array; channels -1: any."""
    cdef cnp.ndarray t = f32c(a, name)
    if (t.ndim != 5 or tuple((<object>t).shape[1:4]) != spatial
            or (channels >= 0 and t.shape[4] != channels)):
        want = ("batch",) + spatial + ((channels,) if channels >= 0 else ("channels",))
        raise ValueError(f"{name} has shape {(<object>t).shape}, expected {want}")
    return t


cdef extern from "depthwise.h" nogil:
    void ck_depthwise_rows_f32(const float *cols, const float *w, float *z, ck_index R,
                               ck_index T, ck_index C, ck_index M, int n_threads)
    void ck_depthwise_dcols_f32(const float *dz, const float *w, float *dcols, ck_index R,
                                ck_index T, ck_index C, ck_index M, int n_threads)
    void ck_depthwise_dw_f32(const float *cols, const float *dz, float *dw, ck_index R,
                             ck_index T, ck_index C, ck_index M, int n_threads)
