"""Fused LSTM gate math on float32 (B, 4u) / (B, u) rows (csrc/recurrent.c)."""
import numpy as np
cimport numpy as cnp
from ckeras._kernels._csrc cimport ck_lstm_gates_forward_f32, ck_lstm_gates_backward_f32
from ckeras._kernels._checks cimport f32c_2d, fptr

cnp.import_array()


cdef _shape(cnp.ndarray a, str name, Py_ssize_t rows, Py_ssize_t cols):
    if a.shape[0] != rows or a.shape[1] != cols:
        raise ValueError(f"{name} has shape {(<object>a).shape}, expected {(rows, cols)}")


cdef cnp.ndarray _out(object a, str name, Py_ssize_t rows, Py_ssize_t cols):
    if a is None:
        return np.empty((rows, cols), dtype=np.float32)
    cdef cnp.ndarray r = f32c_2d(a, name, True)
    _shape(r, name, rows, cols)
    return r


def lstm_gates_forward(z, c_prev, h=None, c=None, tanh_c=None, int n_threads=1):
    """Activate z (B, 4u) in place into the gates; return (h, c, tanh_c)."""
    cdef cnp.ndarray Z = f32c_2d(z, "z", True)
    if Z.shape[1] % 4:
        raise ValueError(f"z has {Z.shape[1]} columns, expected a multiple of 4")
    cdef Py_ssize_t B = Z.shape[0], u = Z.shape[1] // 4
    cdef cnp.ndarray CP = f32c_2d(c_prev, "c_prev")
    _shape(CP, "c_prev", B, u)
    cdef cnp.ndarray H = _out(h, "h", B, u)
    cdef cnp.ndarray C = _out(c, "c", B, u)
    cdef cnp.ndarray TC = _out(tanh_c, "tanh_c", B, u)
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
    cdef cnp.ndarray DH = f32c_2d(dh, "dh")
    cdef cnp.ndarray DC = f32c_2d(dc, "dc")
    cdef cnp.ndarray CP = f32c_2d(c_prev, "c_prev")
    cdef cnp.ndarray TC = f32c_2d(tanh_c, "tanh_c")
    _shape(DH, "dh", B, u)
    _shape(DC, "dc", B, u)
    _shape(CP, "c_prev", B, u)
    _shape(TC, "tanh_c", B, u)
    cdef cnp.ndarray DZ = _out(dz, "dz", B, 4 * u)
    cdef cnp.ndarray DCP = _out(dc_prev, "dc_prev", B, u)
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
