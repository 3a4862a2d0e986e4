"""Recurrent kernels on float32 (csrc/recurrent.c): the fused LSTM gate math
of one step, and whole sequences (forward and BPTT of LSTM, GRU, SimpleRNN)
with the time loop in C calling the BLAS of ckeras._kernels._blas."""
import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint8_t
from ckeras._kernels._blas cimport sgemm_rm
from ckeras._kernels._csrc cimport (ck_lstm_gates_forward_f32, ck_lstm_gates_backward_f32,
                                   ck_sgemm_fn, ck_lstm_seq_forward_f32,
                                   ck_lstm_seq_backward_f32, ck_gru_seq_forward_f32,
                                   ck_gru_seq_backward_f32, ck_rnn_seq_forward_f32,
                                   ck_rnn_seq_backward_f32, CK_ACT_SOFTMAX)
from ckeras._kernels._checks cimport f32c, f32c_2d, f32c_2d_like, f32c_2d_out, fptr, act_code

cnp.import_array()


def lstm_gates_forward(z, c_prev, h=None, c=None, tanh_c=None, int n_threads=1):
    """Activate z (B, 4u) in place into the gates; return (h, c, tanh_c)."""
    cdef cnp.ndarray Z = f32c_2d(z, "z", True)
    if Z.shape[1] % 4:
        raise ValueError(f"z has {Z.shape[1]} columns, expected a multiple of 4")
    cdef Py_ssize_t B = Z.shape[0], u = Z.shape[1] // 4
    cdef cnp.ndarray CP = f32c_2d_like(c_prev, "c_prev", B, u)
    cdef cnp.ndarray H = f32c_2d_out(h, "h", B, u)
    cdef cnp.ndarray C = f32c_2d_out(c, "c", B, u)
    cdef cnp.ndarray TC = f32c_2d_out(tanh_c, "tanh_c", B, u)
    cdef float *pz = fptr(Z)
    cdef const float *pcp = fptr(CP)
    cdef float *ph = fptr(H)
    cdef float *pc = fptr(C)
    cdef float *ptc = fptr(TC)
    with nogil:
        ck_lstm_gates_forward_f32(pz, pcp, ph, pc, ptc, B, u, n_threads)
    return H, C, TC


def lstm_gates_backward(dh, dc, gates, c_prev, tanh_c, dz=None, dc_prev=None,
                        int n_threads=1):
    """(dz (B, 4u), dc_prev (B, u)); dc_prev may be dc (in place)."""
    cdef cnp.ndarray G = f32c_2d(gates, "gates")
    if G.shape[1] % 4:
        raise ValueError(f"gates has {G.shape[1]} columns, expected a multiple of 4")
    cdef Py_ssize_t B = G.shape[0], u = G.shape[1] // 4
    cdef cnp.ndarray DH = f32c_2d_like(dh, "dh", B, u)
    cdef cnp.ndarray DC = f32c_2d_like(dc, "dc", B, u)
    cdef cnp.ndarray CP = f32c_2d_like(c_prev, "c_prev", B, u)
    cdef cnp.ndarray TC = f32c_2d_like(tanh_c, "tanh_c", B, u)
    cdef cnp.ndarray DZ = f32c_2d_out(dz, "dz", B, 4 * u)
    cdef cnp.ndarray DCP = f32c_2d_out(dc_prev, "dc_prev", B, u)
    cdef const float *pdh = fptr(DH)
    cdef const float *pdc = fptr(DC)
    cdef const float *pg = fptr(G)
    cdef const float *pcp = fptr(CP)
    cdef const float *ptc = fptr(TC)
    cdef float *pdz = fptr(DZ)
    cdef float *pdcp = fptr(DCP)
    with nogil:
        ck_lstm_gates_backward_f32(pdh, pdc, pg, pcp, ptc, pdz, pdcp, B, u, n_threads)
    return DZ, DCP


# ---- whole sequences ----------------------------------------------------------------

cdef Py_ssize_t _INT_MAX = 2147483647      # the BLAS interface takes 32-bit ints


cdef cnp.ndarray _arr(object a, str name, tuple shape, bint writeable=False):
    """a as a C-contiguous float32 array of exactly ``shape``."""
    cdef cnp.ndarray r = f32c(a, name, writeable)
    if (<object>r).shape != shape:
        raise ValueError(f"{name} has shape {(<object>r).shape}, expected {shape}")
    return r


cdef const float *_opt(object a, str name, tuple shape) except? NULL:
    if a is None:
        return NULL
    return fptr(_arr(a, name, shape))


cdef cnp.ndarray _skip(object skip, Py_ssize_t T, Py_ssize_t B):
    if skip is None:
        return None
    if not isinstance(skip, np.ndarray) or skip.dtype not in (np.bool_, np.uint8):
        raise TypeError("skip must be a bool or uint8 numpy array or None")
    if not skip.flags.c_contiguous:
        raise ValueError("skip must be C-contiguous")
    if skip.shape != (T, B):
        raise ValueError(f"skip has shape {skip.shape}, expected {(T, B)}")
    return skip


cdef const uint8_t *_sptr(cnp.ndarray skip) noexcept:
    return NULL if skip is None else <const uint8_t *>cnp.PyArray_DATA(skip)


cdef tuple _dims(object z, int gates):
    """(T, B, u) from z (T, B, gates*u), with the sizes BLAS can take."""
    cdef cnp.ndarray Z = f32c(z, "z")
    if Z.ndim != 3 or Z.shape[2] % gates:
        raise ValueError(f"z must be (T, B, {gates}*units), got shape {(<object>Z).shape}")
    cdef Py_ssize_t T = Z.shape[0], B = Z.shape[1], u = Z.shape[2] // gates
    if B * gates * u > _INT_MAX or T * B > _INT_MAX:
        raise ValueError(f"z of shape {(<object>Z).shape} exceeds the 32-bit BLAS interface")
    return T, B, u


cdef ck_sgemm_fn _gemm = <ck_sgemm_fn>sgemm_rm


def lstm_seq_forward(z, R, skip, hs, cs, tcs, rmask=None, int n_threads=1):
    """Run an LSTM over all steps: z (T, B, 4u) x W + b in, gates out (in
    place); hs, cs (T+1, B, u) with [0] the initial states; tcs (T, B, u);
    rmask (B, u) or None: recurrent dropout (every *_seq_* function)."""
    cdef Py_ssize_t T, B, u
    T, B, u = _dims(z, 4)
    cdef float *pz = fptr(_arr(z, "z", (T, B, 4 * u), True))
    cdef const float *pR = fptr(_arr(R, "recurrent_kernel", (u, 4 * u)))
    cdef const uint8_t *ps = _sptr(_skip(skip, T, B))
    cdef float *ph = fptr(_arr(hs, "hs", (T + 1, B, u), True))
    cdef float *pc = fptr(_arr(cs, "cs", (T + 1, B, u), True))
    cdef float *pt = fptr(_arr(tcs, "tcs", (T, B, u), True))
    cdef const float *pm = _opt(rmask, "rmask", (B, u))
    with nogil:
        ck_lstm_seq_forward_f32(_gemm, T, B, u, pz, pR, ps, pm, ph, pc, pt, n_threads)


def lstm_seq_backward(gates, R, skip, cs, tcs, dH, dh, dc, dz, bint need_initial=False,
                      rmask=None, int n_threads=1):
    """BPTT of lstm_seq_forward: dz (T, B, 4u) out; dh, dc (B, u) in: the
    final states' gradients, out: the initial states' (if need_initial)."""
    cdef Py_ssize_t T, B, u
    T, B, u = _dims(gates, 4)
    cdef const float *pg = fptr(_arr(gates, "gates", (T, B, 4 * u)))
    cdef const float *pR = fptr(_arr(R, "recurrent_kernel", (u, 4 * u)))
    cdef const uint8_t *ps = _sptr(_skip(skip, T, B))
    cdef const float *pc = fptr(_arr(cs, "cs", (T + 1, B, u)))
    cdef const float *pt = fptr(_arr(tcs, "tcs", (T, B, u)))
    cdef const float *pdH = _opt(dH, "dH", (T, B, u))
    cdef float *pdh = fptr(_arr(dh, "dh", (B, u), True))
    cdef float *pdc = fptr(_arr(dc, "dc", (B, u), True))
    cdef float *pdz = fptr(_arr(dz, "dz", (T, B, 4 * u), True))
    cdef const float *pm = _opt(rmask, "rmask", (B, u))
    cdef cnp.ndarray S = np.empty((B, u), np.float32)
    cdef float *pS = fptr(S)
    with nogil:
        ck_lstm_seq_backward_f32(_gemm, T, B, u, pg, pR, ps, pm, pc, pt, pdH, pdh, pdc, pdz,
                                 pS, need_initial, n_threads)


def gru_seq_forward(z, R, brec, skip, hs, rec, bint reset_after, rmask=None,
                    int n_threads=1):
    """Run a GRU over all steps: z (T, B, 3u) in, gates [z, r, h~] out;
    hs (T+1, B, u); rec (T, B, 3u) (reset_after, h R + brec) or (T, B, u)
    (r * h)."""
    cdef Py_ssize_t T, B, u
    T, B, u = _dims(z, 3)
    cdef float *pz = fptr(_arr(z, "z", (T, B, 3 * u), True))
    cdef const float *pR = fptr(_arr(R, "recurrent_kernel", (u, 3 * u)))
    cdef const float *pb = _opt(brec, "recurrent bias", (3 * u,)) if reset_after else NULL
    cdef const uint8_t *ps = _sptr(_skip(skip, T, B))
    cdef float *ph = fptr(_arr(hs, "hs", (T + 1, B, u), True))
    cdef float *pr = fptr(_arr(rec, "rec", (T, B, 3 * u if reset_after else u), True))
    cdef const float *pm = _opt(rmask, "rmask", (B, u))
    with nogil:
        ck_gru_seq_forward_f32(_gemm, T, B, u, pz, pR, pb, ps, pm, ph, pr, reset_after,
                               n_threads)


def gru_seq_backward(gates, R, skip, hs, rec, dH, dh, dxp, drec, bint reset_after,
                     bint need_initial=False, rmask=None, int n_threads=1):
    """BPTT of gru_seq_forward: dxp (T, B, 3u), drec (T, B, 3u) (reset_after;
    else None) out; dh (B, u) in/out as for LSTM."""
    cdef Py_ssize_t T, B, u
    T, B, u = _dims(gates, 3)
    cdef const float *pg = fptr(_arr(gates, "gates", (T, B, 3 * u)))
    cdef const float *pR = fptr(_arr(R, "recurrent_kernel", (u, 3 * u)))
    cdef const uint8_t *ps = _sptr(_skip(skip, T, B))
    cdef const float *ph = fptr(_arr(hs, "hs", (T + 1, B, u)))
    cdef const float *pr = fptr(_arr(rec, "rec", (T, B, 3 * u if reset_after else u)))
    cdef const float *pdH = _opt(dH, "dH", (T, B, u))
    cdef float *pdh = fptr(_arr(dh, "dh", (B, u), True))
    cdef float *pdx = fptr(_arr(dxp, "dxp", (T, B, 3 * u), True))
    cdef float *pdr = NULL
    if reset_after:
        pdr = fptr(_arr(drec, "drec", (T, B, 3 * u), True))
    cdef const float *pm = _opt(rmask, "rmask", (B, u))
    cdef cnp.ndarray S = np.empty((2, B, u), np.float32)
    cdef float *pS = fptr(S)
    with nogil:
        ck_gru_seq_backward_f32(_gemm, T, B, u, pg, pR, ps, pm, ph, pr, pdH, pdh, pdx, pdr,
                                pS, reset_after, need_initial, n_threads)


cdef int _rnn_act(str activation) except -1:
    cdef int act = act_code(activation)
    if act == CK_ACT_SOFTMAX:
        raise ValueError("softmax is not an elementwise recurrent activation")
    return act


def rnn_seq_forward(z, R, skip, hs, str activation, rmask=None, int n_threads=1):
    """Run a SimpleRNN over all steps: z (T, B, u) in, act outputs out;
    hs (T+1, B, u)."""
    cdef int act = _rnn_act(activation)
    cdef Py_ssize_t T, B, u
    T, B, u = _dims(z, 1)
    cdef float *pz = fptr(_arr(z, "z", (T, B, u), True))
    cdef const float *pR = fptr(_arr(R, "recurrent_kernel", (u, u)))
    cdef const uint8_t *ps = _sptr(_skip(skip, T, B))
    cdef float *ph = fptr(_arr(hs, "hs", (T + 1, B, u), True))
    cdef const float *pm = _opt(rmask, "rmask", (B, u))
    with nogil:
        ck_rnn_seq_forward_f32(_gemm, T, B, u, pz, pR, ps, pm, ph, act, n_threads)


def rnn_seq_backward(y, R, skip, dH, dh, dz, str activation, bint need_initial=False,
                     rmask=None, int n_threads=1):
    """BPTT of rnn_seq_forward (y: its z after the call): dz (T, B, u) out."""
    cdef int act = _rnn_act(activation)
    cdef Py_ssize_t T, B, u
    T, B, u = _dims(y, 1)
    cdef const float *py = fptr(_arr(y, "y", (T, B, u)))
    cdef const float *pR = fptr(_arr(R, "recurrent_kernel", (u, u)))
    cdef const uint8_t *ps = _sptr(_skip(skip, T, B))
    cdef const float *pdH = _opt(dH, "dH", (T, B, u))
    cdef float *pdh = fptr(_arr(dh, "dh", (B, u), True))
    cdef float *pdz = fptr(_arr(dz, "dz", (T, B, u), True))
    cdef const float *pm = _opt(rmask, "rmask", (B, u))
    cdef cnp.ndarray S = np.empty((B, u), np.float32)
    cdef float *pS = fptr(S)
    with nogil:
        ck_rnn_seq_backward_f32(_gemm, T, B, u, py, pR, ps, pm, pdH, pdh, pdz, pS, act,
                                need_initial, n_threads)
