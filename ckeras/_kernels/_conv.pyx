"""Convolution as GEMM over compiled patch extraction (csrc/conv.c).

Tensors are channels-last 5-D (batch, D, H, W, C); 1-D/2-D layers pass
D = H = 1. The batch is processed in chunks whose patch matrix and output
fit in about ``chunk_bytes``, so they stay in cache between im2col, the GEMM
and the epilogue, and the patch matrix is never the size of the whole batch:

  forward:   cols = im2col(x_chunk); y_chunk = cols @ kernel; act(y + bias)
  backward:  dz = act'(y) dy (+ dbias, one pass over the batch), then per
             chunk dkernel += cols^T dz_chunk and dx_chunk = col2im(dz_chunk kernel^T)

Without dx (a first layer) and with a small patch width, the weight
gradient comes straight from x, dy and y in one pass (ck_conv_small_dw_f32).
Depthwise convolution uses the same chunked im2col with a per-channel
contraction (csrc/depthwise.c) in place of the GEMM.
Transposed convolution is the adjoint: its forward is col2im(x kernel^T),
its backward im2col of dz. A 1x1 / stride 1 / unpadded convolution skips
im2col (the input already is its patch matrix).
BLAS is called between the OpenMP passes, never inside one.
"""
import numpy as np
cimport numpy as cnp
from ckeras._kernels._blas cimport sgemm_rm
from ckeras._kernels._csrc cimport ck_index, ck_bias_act_f32, CK_ACT_LINEAR, CK_ACT_RELU
from ckeras._kernels._backward cimport act_dz, dbias_buffer, dbias_done
from ckeras._kernels._checks cimport (f32c, f32c_1d_opt, f32c_2d, f32c_2d_like, fptr, fptr_or_null,
                                     act_code)
from ckeras._kernels._convgeom cimport (ck_conv_geom, make_geom, five_d, tensor5,
                                        ck_im2col_f32, ck_col2im_f32,
                                        CK_SMALL_K, CK_SMALL_F,
                                        ck_conv_small_blocks, ck_conv_small_dw_f32,
                                        ck_depthwise_rows_f32, ck_depthwise_dcols_f32,
                                        ck_depthwise_dw_f32)

cnp.import_array()

CHUNK_BYTES = 1 << 21
# Without dx, patch widths (kh*kw*C) up to this (first layers) take their
# weight gradient straight from x, dy and y (ck_conv_small_dw_f32): no patch
# matrix, no dz, one pass.
SMALL_K = CK_SMALL_K
cdef Py_ssize_t _INT_MAX = 2147483647


cdef inline ck_index _prod3(ck_index *v) noexcept:
    return v[0] * v[1] * v[2]


cdef inline bint _identity(ck_conv_geom *g) noexcept:
    """1x1 kernel, stride 1, no padding: x is already its patch matrix."""
    cdef int i
    for i in range(3):
        if g.k[i] != 1 or g.s[i] != 1 or g.pad[i] != 0 or g.in_[i] != g.out[i]:
            return False
    return True


cdef struct _Chunks:
    Py_ssize_t nb       # images per chunk
    int nt              # threads for a chunk's OpenMP passes


cdef cnp.ndarray _chunk_plan(Py_ssize_t batch, Py_ssize_t patch_per_image,
                             Py_ssize_t out_per_image, bint need_patches, Py_ssize_t chunk_bytes,
                             int n_threads, Py_ssize_t min_parallel, _Chunks *ch):
    """Fill ch and return a chunk's patch matrix (None without need_patches;
    never a 0-size buffer).

    A chunk's patch matrix and output fit in about ``chunk_bytes``; its passes
    run on one thread below ``min_parallel`` elements of patch matrix (waking
    a team costs more than it saves, ckeras.ops.threads)."""
    cdef Py_ssize_t row_bytes = (patch_per_image + out_per_image) * 4, n = batch
    if row_bytes > 0:
        n = chunk_bytes // row_bytes
    n = max(1, min(batch, n))
    ch.nb = n
    ch.nt = n_threads if n * patch_per_image >= min_parallel else 1
    return np.empty(max(n * patch_per_image, 1), np.float32) if need_patches else None


cdef inline Py_ssize_t _chunk(Py_ssize_t b0, _Chunks ch, Py_ssize_t batch) noexcept nogil:
    """Images in the chunk that starts at image b0."""
    return ch.nb if batch - b0 > ch.nb else batch - b0


cdef cnp.ndarray _patch_buffer(ck_conv_geom *g, Py_ssize_t B, Py_ssize_t F, Py_ssize_t M,
                               int n_threads, Py_ssize_t chunk_bytes, Py_ssize_t min_parallel,
                               _Chunks *ch):
    """The chunk plan of a patch loop over B images of g with F outputs (M as
    in _patch_forward) and its patch matrix, None where x is its own."""
    cdef Py_ssize_t K = _prod3(g.k) * g.c, per_out = _prod3(g.out)
    cdef cnp.ndarray cols = _chunk_plan(B, per_out * K, per_out * F, M > 0 or not _identity(g),
                                        chunk_bytes, n_threads, min_parallel, ch)
    if M == 0:
        _check_gemm(ch.nb * per_out, K, F)
    return cols


cdef inline const float *_patches(const float *x, Py_ssize_t n, ck_conv_geom *g, float *pc,
                                  int nt) noexcept nogil:
    """The patch matrix of the n images at x: im2col into pc, or x itself
    when there is no patch buffer (pc NULL, an identity geometry)."""
    if pc == NULL:
        return x
    ck_im2col_f32(x, n, g, pc, nt)
    return pc


cdef cnp.ndarray _conv_input(object x, object geo, ck_conv_geom *g):
    """x as float32 5-D (batch, *geo input, C); fills g for C channels."""
    cdef cnp.ndarray X = five_d(x)
    g[0] = make_geom(geo, X.shape[4])
    return tensor5(x, "x", tuple(geo[0]), -1)


cdef tuple _conv_operands(object x, object kernel, object geo, ck_conv_geom *g):
    """(x, kernel) of a convolution, checked: kernel (prod(k)*C, F); fills g."""
    cdef cnp.ndarray X = _conv_input(x, geo, g)
    cdef cnp.ndarray Kn = f32c_2d(kernel, "kernel")
    _check_kernel(Kn, _prod3(g.k) * g.c, Kn.shape[1], "prod(kernel_size) * channels, filters")
    return X, Kn


cdef tuple _transpose_operands(object x, object kernel, object geo, ck_conv_geom *g):
    """(x, kernel) of a transposed convolution, checked: x (B, *geo[1], Cin),
    kernel (prod(k)*F, Cin); fills g with the geometry it is the adjoint of."""
    cdef cnp.ndarray Kn = f32c_2d(kernel, "kernel")
    five_d(x)
    cdef cnp.ndarray X = tensor5(x, "x", tuple(geo[1]), Kn.shape[1])
    g[0] = _transpose_geom(geo, Kn)
    return X, Kn


cdef tuple _output_and_gradient(object y, object dy, tuple spatial, Py_ssize_t F, Py_ssize_t B):
    """(y, dy) as float32 (B, *spatial, F); x, y and dy must agree on the batch."""
    cdef cnp.ndarray Yv = tensor5(y, "y", spatial, F)
    cdef cnp.ndarray DY = tensor5(np.ascontiguousarray(dy, np.float32), "dy", spatial, F)
    if Yv.shape[0] != B or DY.shape[0] != B:
        raise ValueError(f"x, y and dy disagree on the batch size: {B}, {Yv.shape[0]}, "
                         f"{DY.shape[0]}")
    return Yv, DY


cdef ck_conv_geom _transpose_geom(object geo, cnp.ndarray Kn):
    """Geometry of the convolution a transposed one is the adjoint of: its
    input channels are the kernel's rows over the taps."""
    cdef Py_ssize_t taps = geo[2][0] * geo[2][1] * geo[2][2]
    if taps <= 0 or Kn.shape[0] % taps:
        raise ValueError(f"kernel has {Kn.shape[0]} rows, expected a multiple of "
                         f"prod(kernel_size) = {taps}")
    return make_geom(geo, Kn.shape[0] // taps)


cdef _check_kernel(cnp.ndarray K, Py_ssize_t rows, Py_ssize_t cols, str what):
    if K.shape[0] != rows or K.shape[1] != cols:
        raise ValueError(f"kernel has shape {(<object>K).shape}, expected {(rows, cols)} "
                         f"({what})")


cdef _check_gemm(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k):
    if m > _INT_MAX or n > _INT_MAX or k > _INT_MAX:
        raise ValueError("convolution: a GEMM dimension exceeds the 32-bit BLAS interface")


cdef cnp.ndarray _dx(bint need_dx, tuple shape, bint nothing_to_sum):
    """dx's buffer, None without need_dx; zeros when no chunk will write it."""
    if not need_dx:
        return None
    return np.zeros(shape, np.float32) if nothing_to_sum else np.empty(shape, np.float32)


cdef cnp.ndarray _dkernel(object dkernel, Py_ssize_t rows, Py_ssize_t cols, bint fresh):
    """dkernel (rows, cols), zeroed when fresh (it may hold garbage then, and
    stays right if there is nothing to sum into it)."""
    cdef cnp.ndarray DK = f32c_2d_like(dkernel, "dkernel", rows, cols, True)
    if fresh:
        DK.fill(0)
    return DK


# ---- patch extraction (exposed for the tests) ---------------------------------

def im2col(x, geo, int n_threads=1):
    """(B*prod(out), prod(k)*C) patch matrix of x (B, D, H, W, C)."""
    cdef ck_conv_geom g
    cdef cnp.ndarray X = _conv_input(x, geo, &g)
    cdef ck_index nb = X.shape[0]
    cdef cnp.ndarray cols = np.empty((nb * _prod3(g.out), _prod3(g.k) * g.c), np.float32)
    cdef const float *px = fptr(X)
    cdef float *pc = fptr(cols)
    with nogil:
        ck_im2col_f32(px, nb, &g, pc, n_threads)
    return cols


def col2im(cols, Py_ssize_t batch, Py_ssize_t channels, geo, int n_threads=1):
    """Adjoint of im2col: (B, D, H, W, C) from a (B*prod(out), prod(k)*C) matrix."""
    cdef ck_conv_geom g = make_geom(geo, channels)
    cdef cnp.ndarray CL = f32c_2d(cols, "cols")
    if batch < 0 or CL.shape[0] != batch * _prod3(g.out) or CL.shape[1] != _prod3(g.k) * g.c:
        raise ValueError(f"cols has shape {(<object>CL).shape}, expected "
                         f"{(batch * _prod3(g.out), _prod3(g.k) * g.c)}")
    cdef cnp.ndarray X = np.empty((batch,) + tuple(geo[0]) + (channels,), np.float32)
    cdef const float *pc = fptr(CL)
    cdef float *px = fptr(X)
    with nogil:
        ck_col2im_f32(pc, batch, &g, px, n_threads)
    return X


# ---- convolution and depthwise convolution: patches of x times the kernel -------

cdef cnp.ndarray _patch_forward(cnp.ndarray X, cnp.ndarray Kn, object bias, int act, object geo,
                                ck_conv_geom *g, Py_ssize_t F, Py_ssize_t M, int n_threads,
                                Py_ssize_t chunk_bytes, Py_ssize_t min_parallel):
    """act(patches(x) . kernel + bias) -> (B, *out, F), a chunk of images at a
    time. M == 0: a GEMM with the (K, F) kernel (none for an identity
    geometry); M > 0: depthwise, the per-channel contraction with the
    (T, C, M) kernel."""
    cdef Py_ssize_t T = _prod3(g.k), C = g.c, K = T * C, B = X.shape[0]
    cdef cnp.ndarray Bv = f32c_1d_opt(bias, "bias", F)
    cdef cnp.ndarray Y = np.empty((B,) + tuple(geo[1]) + (F,), np.float32)
    cdef Py_ssize_t per_out = _prod3(g.out), per_in = _prod3(g.in_) * C
    if B == 0 or per_out == 0 or F == 0:
        return Y
    cdef _Chunks ch
    cdef cnp.ndarray cols = _patch_buffer(g, B, F, M, n_threads, chunk_bytes, min_parallel, &ch)
    cdef const float *px = fptr(X)
    cdef const float *pk = fptr(Kn)
    cdef const float *pb = fptr_or_null(Bv)
    cdef float *py = fptr(Y)
    cdef float *pc = fptr_or_null(cols)
    cdef const float *src
    cdef float *yc
    cdef Py_ssize_t b0 = 0, n, rows, i
    with nogil:
        while b0 < B:
            n = _chunk(b0, ch, B)
            rows = n * per_out
            yc = py + b0 * per_out * F
            src = _patches(px + b0 * per_in, n, g, pc, ch.nt)
            if M > 0:
                ck_depthwise_rows_f32(src, pk, yc, rows, T, C, M, ch.nt)
            elif K == 0:
                for i in range(rows * F):
                    yc[i] = 0.0
            else:
                sgemm_rm(False, False, <int>rows, <int>F, <int>K, 1.0, src, <int>K, pk,
                         <int>F, 0.0, yc, <int>F)
            if pb != NULL or act != CK_ACT_LINEAR:
                ck_bias_act_f32(yc, pb, yc, rows, F, act, ch.nt)
            b0 += n
    return Y


cdef cnp.ndarray _patch_backward(cnp.ndarray X, cnp.ndarray Kn, cnp.ndarray Yv, cnp.ndarray DY,
                                 cnp.ndarray DK, object dbias, int act, object geo,
                                 ck_conv_geom *g, Py_ssize_t F, Py_ssize_t M, bint need_dx,
                                 int n_threads, Py_ssize_t chunk_bytes, Py_ssize_t min_parallel):
    """The adjoint of _patch_forward: dz = act'(y) dy, dbias += sum(dz), then
    per chunk dkernel += patches^T dz and dx += col2im(dz kernel^T) (or None)."""
    cdef Py_ssize_t T = _prod3(g.k), C = g.c, K = T * C, B = X.shape[0]
    cdef Py_ssize_t per_out = _prod3(g.out), per_in = _prod3(g.in_) * C
    cdef cnp.ndarray DZ = act_dz(DY, Yv, act, dbias, B * per_out, F, n_threads)
    cdef bint nothing = B == 0 or K == 0 or F == 0 or per_out == 0
    cdef cnp.ndarray DX = _dx(need_dx, (B,) + tuple(geo[0]) + (C,), nothing)
    if nothing:
        return DX
    cdef _Chunks ch
    cdef cnp.ndarray cols = _patch_buffer(g, B, F, M, n_threads, chunk_bytes, min_parallel, &ch)
    cdef const float *px = fptr(X)
    cdef const float *pk = fptr(Kn)
    cdef const float *pdz = fptr(DZ)
    cdef float *pdk = fptr(DK)
    cdef float *pdx = fptr_or_null(DX)
    cdef float *pc = fptr_or_null(cols)
    cdef const float *src
    cdef const float *dzc
    cdef float *dcols
    cdef Py_ssize_t b0 = 0, n, rows
    with nogil:
        while b0 < B:
            n = _chunk(b0, ch, B)
            rows = n * per_out
            dzc = pdz + b0 * per_out * F
            src = _patches(px + b0 * per_in, n, g, pc, ch.nt)
            if M > 0:
                ck_depthwise_dw_f32(src, dzc, pdk, rows, T, C, M, ch.nt)
            else:
                sgemm_rm(True, False, <int>K, <int>F, <int>rows, 1.0, src, <int>K,
                         dzc, <int>F, 1.0, pdk, <int>F)
            if need_dx:      # without a patch buffer x is its own patch matrix, so is dx
                dcols = pdx + b0 * per_in if pc == NULL else pc
                if M > 0:
                    ck_depthwise_dcols_f32(dzc, pk, dcols, rows, T, C, M, ch.nt)
                else:
                    sgemm_rm(False, True, <int>rows, <int>K, <int>F, 1.0, dzc, <int>F,
                             pk, <int>F, 0.0, dcols, <int>K)
                if pc != NULL:
                    ck_col2im_f32(pc, n, g, pdx + b0 * per_in, ch.nt)
            b0 += n
    return DX


def conv_forward(x, kernel, bias, str activation, geo, int n_threads=1,
                 Py_ssize_t chunk_bytes=CHUNK_BYTES,
                 Py_ssize_t min_parallel=0):
    """act(conv(x, kernel) + bias): x (B, D, H, W, C), kernel (prod(k)*C, F)."""
    cdef int act = act_code(activation)
    cdef ck_conv_geom g
    cdef cnp.ndarray X, Kn
    X, Kn = _conv_operands(x, kernel, geo, &g)
    return _patch_forward(X, Kn, bias, act, geo, &g, Kn.shape[1], 0, n_threads, chunk_bytes,
                          min_parallel)


def conv_backward(dy, x, y, kernel, str activation, geo, dkernel, dbias,
                  bint need_dx=True, bint dkernel_fresh=False, int n_threads=1,
                  Py_ssize_t chunk_bytes=CHUNK_BYTES, Py_ssize_t small_k=SMALL_K,
                  Py_ssize_t min_parallel=0):
    """dkernel (+)= cols^T dz and dbias += sum(dz); return dx (or None).

    dkernel: float32 C-contiguous (prod(k)*C, F), overwritten when
    dkernel_fresh (it may hold garbage then)."""
    cdef int act = act_code(activation)
    cdef ck_conv_geom g
    cdef cnp.ndarray X, Kn, Yv, DY
    X, Kn = _conv_operands(x, kernel, geo, &g)
    cdef Py_ssize_t K = Kn.shape[0], F = Kn.shape[1]
    Yv, DY = _output_and_gradient(y, dy, tuple(geo[1]), F, X.shape[0])
    cdef cnp.ndarray DK = _dkernel(dkernel, K, F, dkernel_fresh)
    if (not need_dx and 0 < K <= min(small_k, CK_SMALL_K) and 0 < F <= CK_SMALL_F
            and (act == CK_ACT_LINEAR or act == CK_ACT_RELU) and not _identity(&g)):
        _small_dw(X, DY, Yv, act == CK_ACT_RELU, &g, DK, dbias, F, n_threads)
        return None
    return _patch_backward(X, Kn, Yv, DY, DK, dbias, act, geo, &g, F, 0, need_dx, n_threads,
                           chunk_bytes, min_parallel)


cdef _small_dw(cnp.ndarray X, cnp.ndarray DY, cnp.ndarray Yv, bint relu, ck_conv_geom *g,
               cnp.ndarray DK, object dbias, Py_ssize_t F, int n_threads):
    """First-layer weight gradient straight from x, dy and y (see conv.h)."""
    cdef cnp.ndarray DB = dbias_buffer(dbias, F)
    cdef ck_index nb = X.shape[0]
    cdef Py_ssize_t K = _prod3(g.k) * g.c
    cdef cnp.ndarray parts = np.empty(max(ck_conv_small_blocks(nb, g) * (K * F + F), 1),
                                      np.float32)
    cdef const float *px = fptr(X)
    cdef const float *pdy = fptr(DY)
    cdef const float *py = fptr(Yv)
    cdef float *pdk = fptr(DK)
    cdef float *pdb = fptr_or_null(DB)
    cdef float *pp = fptr(parts)
    with nogil:
        ck_conv_small_dw_f32(px, nb, g, pdy, py, relu, pdk, pdb, F, pp, n_threads)
    dbias_done(dbias, DB)


# ---- transposed convolution (the adjoint of conv in x) ---------------------------

cdef cnp.ndarray _transpose_buffer(ck_conv_geom *g, Py_ssize_t B, Py_ssize_t K, Py_ssize_t Cin,
                                   int n_threads, Py_ssize_t chunk_bytes, Py_ssize_t min_parallel,
                                   _Chunks *ch):
    """The chunk plan of a transposed convolution's loop and its patch matrix
    (of y's patches in the forward, dz's in the backward): K = prod(k)*F."""
    cdef Py_ssize_t per_x = _prod3(g.out)
    cdef cnp.ndarray cols = _chunk_plan(B, per_x * K, _prod3(g.in_) * g.c, True, chunk_bytes,
                                        n_threads, min_parallel, ch)
    _check_gemm(ch.nb * per_x, K, Cin)
    return cols


def conv_transpose_forward(x, kernel, bias, str activation, geo, int n_threads=1,
                           Py_ssize_t chunk_bytes=CHUNK_BYTES,
                           Py_ssize_t min_parallel=0):
    """act(conv_transpose(x, kernel) + bias).

    geo describes the convolution this is the adjoint of: its input (geo[0])
    is our output (B, *geo[0], F), its output (geo[1]) our input x
    (B, *geo[1], Cin); kernel (prod(k)*F, Cin)."""
    cdef int act = act_code(activation)
    cdef ck_conv_geom g
    cdef cnp.ndarray X, Kn
    X, Kn = _transpose_operands(x, kernel, geo, &g)
    cdef Py_ssize_t Cin = X.shape[4], B = X.shape[0], F = g.c, K = Kn.shape[0]
    cdef cnp.ndarray Bv = f32c_1d_opt(bias, "bias", F)
    cdef Py_ssize_t per_x = _prod3(g.out), per_y = _prod3(g.in_)
    cdef cnp.ndarray Y = np.empty((B,) + tuple(geo[0]) + (F,), np.float32)
    if B == 0 or per_y == 0 or F == 0:
        return Y
    cdef _Chunks ch
    cdef cnp.ndarray cols = _transpose_buffer(&g, B, K, Cin, n_threads, chunk_bytes,
                                              min_parallel, &ch)
    cdef const float *px = fptr(X)
    cdef const float *pk = fptr(Kn)
    cdef const float *pb = fptr_or_null(Bv)
    cdef float *py = fptr(Y)
    cdef float *pc = fptr(cols)
    cdef Py_ssize_t b0 = 0, n, i
    with nogil:
        while b0 < B:
            n = _chunk(b0, ch, B)
            if Cin == 0 or per_x == 0:
                for i in range(n * per_x * K):
                    pc[i] = 0.0
            else:
                sgemm_rm(False, True, <int>(n * per_x), <int>K, <int>Cin, 1.0,
                         px + b0 * per_x * Cin, <int>Cin, pk, <int>Cin, 0.0, pc, <int>K)
            ck_col2im_f32(pc, n, &g, py + b0 * per_y * F, ch.nt)
            if pb != NULL or act != CK_ACT_LINEAR:
                ck_bias_act_f32(py + b0 * per_y * F, pb, py + b0 * per_y * F, n * per_y, F,
                                act, ch.nt)
            b0 += n
    return Y


def conv_transpose_backward(dy, x, y, kernel, str activation, geo, dkernel, dbias,
                            bint need_dx=True, bint dkernel_fresh=False, int n_threads=1,
                            Py_ssize_t chunk_bytes=CHUNK_BYTES,
                            Py_ssize_t min_parallel=0):
    """dkernel (+)= im2col(dz)^T x, dbias += sum(dz); return dx = im2col(dz) kernel."""
    cdef int act = act_code(activation)
    cdef ck_conv_geom g
    cdef cnp.ndarray X, Kn, Yv, DY
    X, Kn = _transpose_operands(x, kernel, geo, &g)
    cdef Py_ssize_t Cin = X.shape[4], B = X.shape[0], F = g.c, K = Kn.shape[0]
    Yv, DY = _output_and_gradient(y, dy, tuple(geo[0]), F, B)
    cdef cnp.ndarray DK = _dkernel(dkernel, K, Cin, dkernel_fresh)
    cdef Py_ssize_t per_x = _prod3(g.out), per_y = _prod3(g.in_)
    cdef cnp.ndarray DZ = act_dz(DY, Yv, act, dbias, B * per_y, F, n_threads)
    cdef bint nothing = B == 0 or K == 0 or Cin == 0 or per_x == 0
    cdef cnp.ndarray DX = _dx(need_dx, (B,) + tuple(geo[1]) + (Cin,), nothing)
    if nothing:
        return DX
    cdef _Chunks ch
    cdef cnp.ndarray cols = _transpose_buffer(&g, B, K, Cin, n_threads, chunk_bytes,
                                              min_parallel, &ch)
    cdef const float *px = fptr(X)
    cdef const float *pk = fptr(Kn)
    cdef const float *pdz = fptr(DZ)
    cdef float *pdk = fptr(DK)
    cdef float *pdx = fptr_or_null(DX)
    cdef float *pc = fptr(cols)
    cdef Py_ssize_t b0 = 0, n
    with nogil:
        while b0 < B:
            n = _chunk(b0, ch, B)
            ck_im2col_f32(pdz + b0 * per_y * F, n, &g, pc, ch.nt)
            sgemm_rm(True, False, <int>K, <int>Cin, <int>(n * per_x), 1.0, pc, <int>K,
                     px + b0 * per_x * Cin, <int>Cin, 1.0, pdk, <int>Cin)
            if need_dx:
                sgemm_rm(False, False, <int>(n * per_x), <int>Cin, <int>K, 1.0, pc, <int>K,
                         pk, <int>Cin, 0.0, pdx + b0 * per_x * Cin, <int>Cin)
            b0 += n
    return DX


# ---- depthwise convolution ----------------------------------------------------------

cdef cnp.ndarray _depthwise_kernel(object kernel, ck_conv_geom *g):
    cdef cnp.ndarray Kn = f32c(kernel, "kernel")
    cdef Py_ssize_t T = _prod3(g.k)
    if Kn.ndim != 3 or Kn.shape[0] != T or Kn.shape[1] != g.c or Kn.shape[2] < 1:
        raise ValueError(f"kernel has shape {(<object>Kn).shape}, expected "
                         f"({T}, {g.c}, depth_multiplier)")
    return Kn


def depthwise_forward(x, kernel, bias, str activation, geo, int n_threads=1,
                      Py_ssize_t chunk_bytes=CHUNK_BYTES,
                      Py_ssize_t min_parallel=0):
    """act(depthwise_conv(x, kernel) + bias): x (B, D, H, W, C), kernel
    (prod(k), C, M) -> (B, *out, C*M), output channel c*M + m."""
    cdef int act = act_code(activation)
    cdef ck_conv_geom g
    cdef cnp.ndarray X = _conv_input(x, geo, &g)
    cdef cnp.ndarray Kn = _depthwise_kernel(kernel, &g)
    cdef Py_ssize_t M = Kn.shape[2]
    return _patch_forward(X, Kn, bias, act, geo, &g, g.c * M, M, n_threads, chunk_bytes,
                          min_parallel)


def depthwise_backward(dy, x, y, kernel, str activation, geo, dkernel, dbias,
                       bint need_dx=True, bint dkernel_fresh=False, int n_threads=1,
                       Py_ssize_t chunk_bytes=CHUNK_BYTES,
                       Py_ssize_t min_parallel=0):
    """dkernel (prod(k), C, M) (+)= per-channel cols^T dz, dbias += sum(dz);
    return dx (or None)."""
    cdef int act = act_code(activation)
    cdef ck_conv_geom g
    cdef cnp.ndarray X = _conv_input(x, geo, &g)
    cdef cnp.ndarray Kn = _depthwise_kernel(kernel, &g)
    cdef Py_ssize_t M = Kn.shape[2], F = g.c * M
    cdef cnp.ndarray Yv, DY
    Yv, DY = _output_and_gradient(y, dy, tuple(geo[1]), F, X.shape[0])
    cdef cnp.ndarray DK = f32c(dkernel, "dkernel", True)
    if (<object>DK).shape != (<object>Kn).shape:
        raise ValueError(f"dkernel has shape {(<object>DK).shape}, expected "
                         f"{(<object>Kn).shape}")
    if dkernel_fresh:
        DK.fill(0)
    return _patch_backward(X, Kn, Yv, DY, DK, dbias, act, geo, &g, F, M, need_dx, n_threads,
                           chunk_bytes, min_parallel)
