"""The kernel dispatch: the numerical operations layers, losses and optimizers
call (through ``ckeras.ops``, which re-exports every public name here).

Each name dispatches to the compiled kernel (``ckeras._kernels``) when it is
built and the inputs are float32, else to the numpy twin of the same name in
``ckeras.ops.reference`` (the spec: same signatures, same semantics).

Dispatch rules, per call:
  * ``CKERAS_REFERENCE=1`` at import (or ``use_reference(True)``) forces the
    reference everywhere.
  * The main float operands (``a``/``b``, ``x``/``kernel``/``y``,
    ``logits``, ``table``, ``param``...) must be float32; float64 (the
    gradient checks) and other dtypes go to the reference. Secondary inputs
    (bias, dy, targets, grads, sample_scale) and layouts are coerced to
    C-contiguous float32 with at most one copy; in-place buffers (optimizer
    slots, ``dtable``) must already be float32 C-contiguous, else the
    reference updates them (dense's dkernel/dbias of another dtype are
    accumulated through one temporary).
  * Never a silent fallback. Importing ``ckeras.ops`` raises ImportError,
    saying what to run, when a kernel module is not built at all (e.g. an
    uncompiled source checkout shadowing the installed package); a built
    module that fails to load (e.g. libgomp missing) warns once, naming the
    library and how to install it, then runs that family on the reference.
    ``CKERAS_ALLOW_REFERENCE=1`` is the one way to run without kernels on
    purpose (no error, no warning). ``kernel_status()`` and
    ``ckeras.show_config()`` tell what was loaded and why not.
  * Modules load lazily on first use: ``_blas``/``_dense`` import scipy's
    BLAS (slow to import; benchmarks/README.md), which ``import ckeras``
    must not pay. Which BLAS the GEMMs then call (numpy's OpenBLAS or
    scipy's) is ``ckeras.ops.blas``'s choice, made on that first load.
  * ``n_threads`` comes from ``ckeras.ops.threads.for_work`` (1 thread for
    small work). Results are bitwise identical at any thread count.

Layers import ``ckeras.ops``, never ``ckeras._kernels``.
"""
import importlib
import math
import os

import numpy as np

from ckeras.ops import blas as _blas_choice
from ckeras.ops import kernel_loading as _kernel_loading
from ckeras.ops import operators as _operators
from ckeras.ops import reference as _ref
from ckeras.ops import threads as _threads
from ckeras.ops.errors import OutOfRangeError  # noqa: F401
from ckeras.ops.reference import (  # noqa: F401
    FUSED_ACTIVATIONS,
    check_range,
)

__all__ = [
    "FUSED_ACTIVATIONS", "OutOfRangeError", "check_range",
    "matmul", "sigmoid", "softmax",
    "activation_from_output", "activation_backward_from_output",
    "dense", "dense_backward",
    "softmax_cross_entropy", "sigmoid_binary_cross_entropy",
    "embedding_lookup", "embedding_lookup_backward",
    "sgd_update", "adam_update", "rmsprop_update", "adagrad_update",
    "lstm_gates_forward", "lstm_gates_backward",
    "use_reference", "kernel_status",
]
__all__ += ["masked_softmax", "softmax_backward"]

# ckeras.ops.nn, installed there on import: sigmoid/softmax on tensors go to
# the differentiable ops, which sit above this module.
_nn = None

_F32 = np.dtype(np.float32)
_I32 = np.dtype(np.int32)
_I64 = np.dtype(np.int64)
_ndarray = np.ndarray
_for_work = _threads.for_work

def _env_flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


_FORCE_REF = _env_flag("CKERAS_REFERENCE")
_ALLOW_REF = _env_flag("CKERAS_ALLOW_REFERENCE")

# kernel module name -> module, or None when it could not be imported
_modules = {}
_import_errors = {}
_BLAS_MODULES = ("_blas", "_dense")
_blas_configured = False   # CKERAS_BLAS applied (ckeras.ops.blas)
KERNEL_MODULES = ("_blas", "_activation", "_dense", "_losses", "_embedding", "_optim", "_recurrent")
KERNEL_MODULES += ("_attention",)
KERNEL_MODULES += ("_conv", "_pool", "_alloc")
_BLAS_MODULES += ("_conv",)


def use_reference(flag=True):
    """Force (True) or stop forcing (False) the numpy reference; returns the
    previous setting. ``CKERAS_REFERENCE=1`` sets it at import."""
    global _FORCE_REF
    prev = _FORCE_REF
    _FORCE_REF = bool(flag)
    return prev


def _load(name):
    global _blas_configured
    try:
        return _modules[name]
    except KeyError:
        pass
    try:
        mod = importlib.import_module("ckeras._kernels." + name)
    except ImportError as exc:  # not built, a runtime library missing, or stale
        mod = None
        _import_errors[name] = exc
        if not _ALLOW_REF:
            _kernel_loading.warn_load_failure(name, exc)
    _modules[name] = mod
    if mod is not None and name in _BLAS_MODULES:
        if not _blas_configured:
            _blas_configured = True
            _blas_choice.configure_from_env()
        _threads._blas_loaded()
    return mod


def kernel_status():
    """{module: True | "reason it is unavailable"} (imports every kernel module)."""
    return {name: (True if _load(name) is not None else repr(_import_errors.get(name)))
            for name in KERNEL_MODULES}


# An uncompiled tree (or a partial build) fails here, at import, with what to
# run, unless CKERAS_ALLOW_REFERENCE=1 says the numpy twins are wanted.
if not _ALLOW_REF:
    _kernel_loading.require_built(KERNEL_MODULES + ("_openmp",))


def _k(name):
    """The kernel module to use, or None for the reference."""
    if _FORCE_REF:
        return None
    mod = _modules.get(name)
    return mod if mod is not None else (None if name in _modules else _load(name))


def _is32(a):
    # dtype == float32 also means native byte order ('>f4' compares unequal).
    return isinstance(a, _ndarray) and a.dtype == _F32 and a.flags.aligned


def _buffer32(a):
    """True if ``a`` can be updated in place by a kernel."""
    return (isinstance(a, _ndarray) and a.dtype == _F32 and a.flags.c_contiguous
            and a.flags.writeable and a.flags.aligned)


def _c32(a):
    a = np.ascontiguousarray(a, dtype=_F32)
    return a if a.flags.aligned else a.copy()


def _2d(a):
    """(prod(leading), last) view (a copy if need be) of an array, ndim >= 1."""
    return a if a.ndim == 2 else a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _rows(a):
    """_2d of a C-contiguous version of ``a`` (at most one copy)."""
    return _2d(np.ascontiguousarray(a))


# ---- GEMM -------------------------------------------------------------------

def matmul(a, b, trans_a=False, trans_b=False, out=None, alpha=1.0, beta=0.0):
    """out = alpha * op(a) @ op(b) + beta * out  (GEMM). On tensors, weights or
    KerasTensors it is Keras's ``ops.matmul(x1, x2)`` (differentiable)."""
    if (_is32(a) and _is32(b) and a.ndim == 2 and b.ndim == 2
            and (out is None or (_is32(out) and out.ndim == 2
                                 and not np.may_share_memory(out, a)
                                 and not np.may_share_memory(out, b)))):
        mod = _k("_blas")
        if mod is not None:
            return mod.gemm(a, b, trans_a, trans_b, out, alpha, beta)
    if not (isinstance(a, _ndarray) and isinstance(b, _ndarray)):
        return _public_gemm(a, b, trans_a, trans_b, out, alpha, beta)
    return _ref.matmul(a, b, trans_a, trans_b, out, alpha, beta)


# ---- activations ------------------------------------------------------------

def _act_forward(name, z):
    mod = _k("_activation")
    if mod is None:
        return None
    z2 = _rows(z)
    return mod.bias_act(z2, None, name, _for_work(z2.size)).reshape(z.shape)


def sigmoid(x):
    if _is32(x) and x.ndim >= 1:
        y = _act_forward("sigmoid", x)
        if y is not None:
            return y
    if not isinstance(x, _ndarray):
        return _nn.sigmoid(x)   # Keras's ops.sigmoid on tensors, weights, KerasTensors
    return _ref.sigmoid(x)


def softmax(x, axis=-1):
    if axis == -1 and _is32(x) and x.ndim >= 1 and x.shape[-1] > 0:
        y = _act_forward("softmax", x)
        if y is not None:
            return y
    if axis != -1 or not isinstance(x, _ndarray):
        return _nn.softmax(x, axis=axis)   # Keras's ops.softmax(x, axis)
    return _ref.softmax(x)


def activation_from_output(name, z):
    """Apply a FUSED_ACTIVATIONS activation to pre-activations ``z``."""
    if (_is32(z) and z.ndim >= 1 and name in FUSED_ACTIVATIONS
            and (name != "softmax" or z.shape[-1] > 0)):
        y = _act_forward(name, z)
        if y is not None:
            return y
    return _ref.activation_from_output(name, z)


def activation_backward_from_output(name, dy, y):
    """Gradient w.r.t. the pre-activation, given the activation's output ``y``."""
    if (_is32(y) and isinstance(dy, _ndarray) and y.ndim >= 1 and dy.shape == y.shape
            and name in FUSED_ACTIVATIONS):
        mod = _k("_activation")
        if mod is not None:
            y2 = _rows(y)
            dz = mod.act_backward(_rows(_c32(dy)), y2, name, _for_work(y2.size))
            return dz.reshape(y.shape)
    return _ref.activation_backward_from_output(name, dy, y)


# ---- Dense ------------------------------------------------------------------

def dense(x, kernel, bias, activation="linear"):
    """y = activation(x @ kernel + bias); x is (batch, in), bias may be None."""
    if (_is32(x) and _is32(kernel) and x.ndim >= 1 and kernel.ndim == 2
            and x.shape[-1] == kernel.shape[0] and activation in FUSED_ACTIVATIONS):
        mod = _k("_dense")
        if mod is not None:
            x2 = _2d(x)
            units = kernel.shape[1]
            if bias is not None:
                bias = _c32(bias)
            y = mod.dense_forward(x2, kernel, bias, activation, _for_work(x2.shape[0] * units))
            return y if x.ndim == 2 else y.reshape(x.shape[:-1] + (units,))
    return _ref.dense(x, kernel, bias, activation)


def dense_backward(dy, x, y, kernel, activation, dkernel, dbias, need_dx=True,
                   dkernel_fresh=False):
    """Accumulate dkernel (+= x^T dz) and dbias (+= sum dz); return dx = dz kernel^T.

    With ``dkernel_fresh`` dkernel holds garbage and is overwritten (= x^T dz):
    the GEMM runs with beta=0 and nobody zeroes it first."""
    if (_is32(x) and _is32(y) and _is32(kernel) and isinstance(dy, _ndarray)
            and x.ndim >= 1 and kernel.ndim == 2 and dy.shape == y.shape
            and y.shape[:-1] == x.shape[:-1] and x.shape[-1] == kernel.shape[0]
            and y.shape[-1] == kernel.shape[1] and activation in FUSED_ACTIVATIONS):
        mod = _k("_dense")
        if mod is not None:
            x2 = _2d(x)
            y2 = _rows(y)
            dx = mod.dense_backward(_rows(_c32(dy)), x2, y2, kernel, activation, dkernel, dbias,
                                    need_dx, _for_work(y2.size), dkernel_fresh)
            return dx if dx is None or x.ndim == 2 else dx.reshape(x.shape)
    if dkernel_fresh:
        dkernel[...] = 0
    return _ref.dense_backward(dy, x, y, kernel, activation, dkernel, dbias, need_dx)


# ---- losses -----------------------------------------------------------------

def _row_scale32(sample_scale, lead_shape):
    """sample_scale as a flat float32 (rows,) array or scalar; False if its
    shape does not match the rows (then the reference handles it)."""
    if sample_scale is None:
        return None
    s = np.asarray(sample_scale, dtype=_F32)
    if s.ndim == 0:
        return s
    if s.shape != lead_shape:
        return False
    return s.reshape(-1)


def softmax_cross_entropy(logits, labels, sample_scale=None, want_probs=False):
    """Fused softmax + categorical cross-entropy on logits (batch, classes).

    labels: int (batch,) class ids, or float (batch, classes) target rows.
    Returns (losses (batch,), dlogits, probs or None) with
    dlogits[i] = sample_scale[i] * (softmax(logits[i]) * sum(t_i) - t_i).
    """
    if _is32(logits) and logits.ndim >= 1 and logits.shape[-1] > 0:
        mod = _k("_losses")
        if mod is not None:
            labels = np.asarray(labels)
            lead = logits.shape[:-1]
            ok = True
            if labels.ndim == logits.ndim - 1:           # sparse class ids
                if labels.dtype != _I64 and labels.dtype != _I32:
                    ok = labels.dtype.kind in "iu"
                    labels = labels.astype(_I64) if ok else labels
                lab = np.ascontiguousarray(labels).reshape(-1)
                ok = ok and labels.shape == lead
            else:
                ok = labels.shape == logits.shape
                lab = _rows(_c32(labels)) if ok else None
            scale = _row_scale32(sample_scale, lead)
            if ok and scale is not False:
                x2 = _rows(logits)
                losses, grad, probs = mod.softmax_xent(x2, lab, scale, want_probs,
                                                       _for_work(x2.size))
                if logits.ndim != 2:
                    losses = losses.reshape(lead)
                    grad = grad.reshape(logits.shape)
                    probs = None if probs is None else probs.reshape(logits.shape)
                return losses, grad, probs
    return _ref.softmax_cross_entropy(logits, labels, sample_scale, want_probs)


def sigmoid_binary_cross_entropy(logits, targets, sample_scale=None):
    """Fused sigmoid + binary cross-entropy, averaged over the last axis.

    logits, targets: (batch, k). Returns (losses (batch,), dlogits, probs) with
    dlogits[i] = sample_scale[i] * (sigmoid(logits[i]) - t_i) / k.
    """
    if _is32(logits) and logits.ndim >= 1 and np.shape(targets) == logits.shape:
        mod = _k("_losses")
        scale = _row_scale32(sample_scale, logits.shape[:-1])
        if mod is not None and scale is not False:
            x2 = _rows(logits)
            losses, grad, probs = mod.sigmoid_bce(x2, _rows(_c32(targets)), scale,
                                                  _for_work(x2.size))
            if logits.ndim != 2:
                losses = losses.reshape(logits.shape[:-1])
                grad = grad.reshape(logits.shape)
                probs = probs.reshape(logits.shape)
            return losses, grad, probs
    return _ref.sigmoid_binary_cross_entropy(logits, targets, sample_scale)


# ---- Embedding --------------------------------------------------------------

def _flat_ids(ids):
    """ids as a flat C-contiguous int32/int64 array, or None if not integer."""
    ids = np.asarray(ids)
    if ids.dtype != _I64 and ids.dtype != _I32:
        if ids.dtype.kind not in "iu":
            return None
        ids = ids.astype(_I64)
    return np.ascontiguousarray(ids).reshape(-1)


def embedding_lookup(ids, table):
    """Gather rows: out[..., :] = table[ids[...], :]."""
    if _is32(table) and table.ndim == 2:
        mod = _k("_embedding")
        flat = _flat_ids(ids) if mod is not None else None
        if flat is not None:
            out = mod.gather(flat, np.ascontiguousarray(table), _for_work(flat.size * table.shape[1]))
            return out.reshape(np.shape(ids) + (table.shape[1],))
    return _ref.embedding_lookup(ids, table)


def embedding_lookup_backward(ids, dout, dtable):
    """Scatter-add rows of dout into dtable (repeated ids accumulate)."""
    if _buffer32(dtable) and dtable.ndim == 2:
        mod = _k("_embedding")
        flat = _flat_ids(ids) if mod is not None else None
        if flat is not None:
            dim = dtable.shape[1]
            d2 = _c32(dout).reshape(flat.size, dim) if np.size(dout) == flat.size * dim else None
            if d2 is not None and np.may_share_memory(d2, dtable):
                d2 = d2.copy()
            if d2 is not None:
                mod.scatter_add(flat, d2, dtable, _for_work(d2.size))
                return
    _ref.embedding_lookup_backward(ids, dout, dtable)


# ---- optimizer updates (in place, Keras 3 formulas) ------------------------

def _grad32(grad, param):
    """grad as C-contiguous float32 with param's size (a copy if it shares
    memory with param: the kernels refuse overlapping buffers), or None."""
    g = _c32(grad)
    if g.size != param.size:
        return None
    return g.copy() if np.may_share_memory(g, param) else g


def _slots_ok(*slots):
    return all(s is None or _buffer32(s) for s in slots)


def sgd_update(param, grad, lr, momentum=0.0, velocity=None, nesterov=False):
    if _buffer32(param) and _slots_ok(velocity):
        mod = _k("_optim")
        g = _grad32(grad, param) if mod is not None else None
        if g is not None and (velocity is None or velocity.size == param.size):
            mod.sgd_update(param, g, lr, momentum, velocity, nesterov, _for_work(param.size))
            return
    _ref.sgd_update(param, grad, lr, momentum, velocity, nesterov)


def adam_update(param, grad, m, v, lr_t, beta_1, beta_2, epsilon, vhat=None):
    """lr_t already holds the bias correction: lr * sqrt(1-b2^t) / (1-b1^t)."""
    if _buffer32(param) and _buffer32(m) and _buffer32(v) and _slots_ok(vhat):
        mod = _k("_optim")
        g = _grad32(grad, param) if mod is not None else None
        if g is not None and m.size == v.size == param.size and (vhat is None or vhat.size == param.size):
            mod.adam_update(param, g, m, v, lr_t, beta_1, beta_2, epsilon, vhat,
                            _for_work(param.size))
            return
    _ref.adam_update(param, grad, m, v, lr_t, beta_1, beta_2, epsilon, vhat)


def rmsprop_update(param, grad, velocity, lr, rho, epsilon, momentum=0.0,
                   momentum_buf=None, average_grad=None):
    if _buffer32(param) and _buffer32(velocity) and _slots_ok(momentum_buf, average_grad):
        mod = _k("_optim")
        g = _grad32(grad, param) if mod is not None else None
        if (g is not None and velocity.size == param.size
                and all(s is None or s.size == param.size for s in (momentum_buf, average_grad))):
            mod.rmsprop_update(param, g, velocity, lr, rho, epsilon, momentum,
                               momentum_buf if momentum > 0 else None, average_grad,
                               _for_work(param.size))
            return
    _ref.rmsprop_update(param, grad, velocity, lr, rho, epsilon, momentum,
                        momentum_buf, average_grad)


def adagrad_update(param, grad, accumulator, lr, epsilon):
    if _buffer32(param) and _buffer32(accumulator):
        mod = _k("_optim")
        g = _grad32(grad, param) if mod is not None else None
        if g is not None and accumulator.size == param.size:
            mod.adagrad_update(param, g, accumulator, lr, epsilon, _for_work(param.size))
            return
    _ref.adagrad_update(param, grad, accumulator, lr, epsilon)


# ---- recurrent gate math --------------------------------------------------------

def lstm_gates_forward(z, c_prev, h=None, c=None, tanh_c=None):
    """One LSTM step's gate math: z (B, 4u) activated in place into the gates
    (i, f, g, o); returns (h, c, tanh_c), into the given buffers if any."""
    if (_buffer32(z) and z.ndim == 2 and z.shape[1] % 4 == 0
            and all(b is None or _buffer32(b) for b in (h, c, tanh_c))):
        mod = _k("_recurrent")
        if mod is not None:
            return mod.lstm_gates_forward(z, _c32(c_prev), h, c, tanh_c, _for_work(z.size))
    return _ref.lstm_gates_forward(z, c_prev, h, c, tanh_c)


def lstm_gates_backward(dh, dc, gates, c_prev, tanh_c, dz=None, dc_prev=None):
    """(dz (B, 4u), dc_prev (B, u)) from the saved gates, c_prev, tanh_c."""
    if (_is32(gates) and gates.ndim == 2 and gates.shape[1] % 4 == 0
            and all(b is None or _buffer32(b) for b in (dz, dc_prev))):
        mod = _k("_recurrent")
        if mod is not None:
            return mod.lstm_gates_backward(_c32(dh), _c32(dc), _c32(gates), _c32(c_prev),
                                           _c32(tanh_c), dz, dc_prev, _for_work(gates.size))
    return _ref.lstm_gates_backward(dh, dc, gates, c_prev, tanh_c, dz, dc_prev)


# ---- recurrent: whole sequences (the time loop in C; csrc/recurrent.h) ------------

__all__ += ["lstm_seq_forward", "lstm_seq_backward", "gru_seq_forward",
            "gru_seq_backward", "rnn_seq_forward", "rnn_seq_backward"]


def _seq_kernel(*arrays):
    """The _recurrent module when every array given is float32 C-contiguous
    (None allowed), else None (then the reference runs)."""
    if not all(a is None or (_is32(a) and a.flags.c_contiguous) for a in arrays):
        return None
    if _k("_blas") is None:       # loads and configures the BLAS the loop calls
        return None
    return _k("_recurrent")


def _step_size(z):
    """Elements of one step (B * gates * u): the gate loops' work."""
    return z.size // max(z.shape[0], 1)


def _skip8(skip):
    return None if skip is None else np.ascontiguousarray(skip, dtype=np.uint8)


def lstm_seq_forward(z, R, skip, hs, cs, tcs, rmask=None):
    """LSTM over all steps: z (T, B, 4u) = x W + b in, gates out (in place);
    hs, cs (T+1, B, u) with [0] the initial states, tcs (T, B, u) = tanh(c).
    rmask (B, u) or None: recurrent dropout (h * rmask enters h R), in every
    *_seq_* function."""
    mod = _seq_kernel(z, R, hs, cs, tcs, rmask)
    if mod is not None:
        return mod.lstm_seq_forward(z, R, _skip8(skip), hs, cs, tcs, rmask,
                                    _for_work(_step_size(z)))
    return _ref.lstm_seq_forward(z, R, skip, hs, cs, tcs, rmask)


def lstm_seq_backward(gates, R, skip, cs, tcs, dH, dh, dc, dz, need_initial=False,
                      rmask=None):
    """BPTT of lstm_seq_forward: dz (T, B, 4u); dh, dc (B, u): the final
    states' gradients in, the initial states' out (when need_initial)."""
    mod = _seq_kernel(gates, R, cs, tcs, dH, dh, dc, dz, rmask)
    if mod is not None:
        return mod.lstm_seq_backward(gates, R, _skip8(skip), cs, tcs, dH, dh, dc, dz,
                                     need_initial, rmask, _for_work(_step_size(gates)))
    return _ref.lstm_seq_backward(gates, R, skip, cs, tcs, dH, dh, dc, dz, need_initial,
                                  rmask)


def gru_seq_forward(z, R, brec, skip, hs, rec, reset_after, rmask=None):
    """GRU over all steps: z (T, B, 3u) = x W + b_in in, gates [z, r, h~] out;
    rec: (T, B, 3u) h R + brec (reset_after) or (T, B, u) r h."""
    mod = _seq_kernel(z, R, brec, hs, rec, rmask)
    if mod is not None:
        return mod.gru_seq_forward(z, R, brec, _skip8(skip), hs, rec, reset_after, rmask,
                                   _for_work(_step_size(z)))
    return _ref.gru_seq_forward(z, R, brec, skip, hs, rec, reset_after, rmask)


def gru_seq_backward(gates, R, skip, hs, rec, dH, dh, dxp, drec, reset_after,
                     need_initial=False, rmask=None):
    """BPTT of gru_seq_forward: dxp (T, B, 3u), drec (T, B, 3u) or None."""
    mod = _seq_kernel(gates, R, hs, rec, dH, dh, dxp, drec, rmask)
    if mod is not None:
        return mod.gru_seq_backward(gates, R, _skip8(skip), hs, rec, dH, dh, dxp, drec,
                                    reset_after, need_initial, rmask,
                                    _for_work(_step_size(gates)))
    return _ref.gru_seq_backward(gates, R, skip, hs, rec, dH, dh, dxp, drec, reset_after,
                                 need_initial, rmask)


_SEQ_ACTS = ("linear", "relu", "sigmoid", "tanh")


def rnn_seq_forward(z, R, skip, hs, activation, rmask=None):
    """SimpleRNN over all steps: z (T, B, u) = x W + b in, outputs out."""
    mod = _seq_kernel(z, R, hs, rmask) if activation in _SEQ_ACTS else None
    if mod is not None:
        return mod.rnn_seq_forward(z, R, _skip8(skip), hs, activation, rmask,
                                   _for_work(_step_size(z)))
    return _ref.rnn_seq_forward(z, R, skip, hs, activation, rmask)


def rnn_seq_backward(y, R, skip, dH, dh, dz, activation, need_initial=False, rmask=None):
    """BPTT of rnn_seq_forward: dz (T, B, u); dh (B, u) in/out."""
    mod = _seq_kernel(y, R, dH, dh, dz, rmask) if activation in _SEQ_ACTS else None
    if mod is not None:
        return mod.rnn_seq_backward(y, R, _skip8(skip), dH, dh, dz, activation,
                                    need_initial, rmask, _for_work(_step_size(y)))
    return _ref.rnn_seq_backward(y, R, skip, dH, dh, dz, activation, need_initial, rmask)

# ---- attention softmax --------------------------------------------------------------

def _mask4(mask, shape):
    """mask as C-contiguous bool (1|G, 1|H, T, S) for scores of ``shape``, or
    False when it does not broadcast that way (then the reference handles it)."""
    m = np.asarray(mask)
    if m.dtype != np.bool_:
        m = m.astype(bool) if m.dtype.kind in "biu" else m > 0.5
    if m.ndim > 4:
        return False
    m = m.reshape((1,) * (4 - m.ndim) + m.shape)
    if any(d not in (1, n) for d, n in zip(m.shape, shape)):
        return False
    target = m.shape[:2] + tuple(shape[2:])
    return np.ascontiguousarray(np.broadcast_to(m, target))


def masked_softmax(x, mask=None, causal=False, out=None):
    """Softmax over the last axis of attention scores x (G, H, T, S), fused
    with a boolean mask broadcastable to x and the causal mask (key j <= query
    i); masked entries, and rows with nothing kept, are 0. ``out`` (may be x)
    receives the result when given."""
    if _is32(x) and x.ndim == 4 and (out is None or (_buffer32(out) and out.shape == x.shape)):
        mod = _k("_attention")
        m = None if mask is None else _mask4(mask, x.shape)
        if mod is not None and m is not False:
            return mod.masked_softmax(np.ascontiguousarray(x), m, bool(causal),
                                      _for_work(x.size), out)
    return _ref.masked_softmax(x, mask, causal, out)


def softmax_backward(dy, y, out=None):
    """dx = y * (dy - sum(dy * y)) over the last axis; into ``out`` (may be dy)."""
    if (_is32(y) and isinstance(dy, _ndarray) and dy.shape == y.shape and y.ndim >= 1
            and (out is None or (_buffer32(out) and out.shape == y.shape))):
        mod = _k("_attention")
        if mod is not None:
            return mod.softmax_backward(_c32(dy), np.ascontiguousarray(y), _for_work(y.size),
                                        out)
    return _ref.softmax_backward(dy, y, out)

# ---- convolution and pooling ------------------------------------------------------
# Channels-last 5-D tensors (batch, D, H, W, C) and geo = (in, out, k, s, d,
# pad) over (D, H, W), as in ckeras.ops.reference.

def _geo(geo):
    return tuple(tuple(int(v) for v in t) for t in geo)


def _conv_ok(x, kernel, activation):
    return (_is32(x) and _is32(kernel) and x.ndim == 5 and kernel.ndim == 2
            and activation in FUSED_ACTIVATIONS)


def conv_forward(x, kernel, bias, activation, geo):
    """act(conv(x, kernel) + bias): x (B, D, H, W, C), kernel (prod(k)*C, F)."""
    if _conv_ok(x, kernel, activation):
        mod = _k("_conv")
        if mod is not None:
            geo = _geo(geo)
            work = x.shape[0] * math.prod(geo[1]) * kernel.shape[0]
            return mod.conv_forward(np.ascontiguousarray(x), kernel if kernel.flags.c_contiguous
                                    else _c32(kernel), None if bias is None else _c32(bias),
                                    activation, geo, _for_work(work),
                                    min_parallel=_threads.MIN_PARALLEL_WORK)
    return _ref.conv_forward(x, kernel, bias, activation, geo)


def conv_backward(dy, x, y, kernel, activation, geo, dkernel, dbias, need_dx=True,
                  dkernel_fresh=False):
    """Accumulate dkernel (+= cols^T dz; overwritten if ``dkernel_fresh``) and
    dbias (+= sum dz); return dx (or None)."""
    if _conv_ok(x, kernel, activation) and _is32(y) and _buffer32(dkernel) and dkernel.ndim == 2:
        mod = _k("_conv")
        if mod is not None:
            geo = _geo(geo)
            return mod.conv_backward(dy, np.ascontiguousarray(x), np.ascontiguousarray(y),
                                     _c32(kernel), activation, geo, dkernel, dbias, need_dx,
                                     dkernel_fresh, _for_work(x.size + y.size),
                                     min_parallel=_threads.MIN_PARALLEL_WORK)
    if dkernel_fresh:
        dkernel[...] = 0
    return _ref.conv_backward(dy, x, y, kernel, activation, geo, dkernel, dbias, need_dx)


def conv_transpose_forward(x, kernel, bias, activation, geo):
    """The adjoint in x of conv with geometry ``geo``: x (B, *geo[1], Cin),
    kernel (prod(k)*F, Cin) -> act(. + bias) of shape (B, *geo[0], F)."""
    if _conv_ok(x, kernel, activation):
        mod = _k("_conv")
        if mod is not None:
            geo = _geo(geo)
            work = x.shape[0] * math.prod(geo[1]) * kernel.shape[0]
            return mod.conv_transpose_forward(np.ascontiguousarray(x), _c32(kernel),
                                              None if bias is None else _c32(bias),
                                              activation, geo, _for_work(work),
                                              min_parallel=_threads.MIN_PARALLEL_WORK)
    return _ref.conv_transpose_forward(x, kernel, bias, activation, geo)


def conv_transpose_backward(dy, x, y, kernel, activation, geo, dkernel, dbias, need_dx=True,
                            dkernel_fresh=False):
    """Accumulate dkernel and dbias of a transposed convolution; return dx (or None)."""
    if _conv_ok(x, kernel, activation) and _is32(y) and _buffer32(dkernel) and dkernel.ndim == 2:
        mod = _k("_conv")
        if mod is not None:
            geo = _geo(geo)
            return mod.conv_transpose_backward(dy, np.ascontiguousarray(x),
                                               np.ascontiguousarray(y), _c32(kernel),
                                               activation, geo, dkernel, dbias, need_dx,
                                               dkernel_fresh, _for_work(x.size + y.size),
                                               min_parallel=_threads.MIN_PARALLEL_WORK)
    if dkernel_fresh:
        dkernel[...] = 0
    return _ref.conv_transpose_backward(dy, x, y, kernel, activation, geo, dkernel, dbias,
                                        need_dx)


def max_pool_forward(x, geo, want_argmax=True):
    """(y, argmax): window maxima and the flat spatial index of each first
    maximum (argmax None unless ``want_argmax``: inference needs no routing)."""
    if _is32(x) and x.ndim == 5:
        mod = _k("_pool")
        if mod is not None:
            return mod.max_pool_forward(np.ascontiguousarray(x), _geo(geo), _for_work(x.size),
                                        want_argmax)
    return _ref.max_pool_forward(x, geo, want_argmax)


def max_pool_backward(dy, argmax, geo):
    """dx: each dy added at its window's argmax."""
    if (_is32(dy) and dy.ndim == 5 and isinstance(argmax, _ndarray) and argmax.dtype == _I32
            and argmax.flags.c_contiguous):
        mod = _k("_pool")
        if mod is not None:
            return mod.max_pool_backward(dy, argmax, _geo(geo), _for_work(dy.size))
    return _ref.max_pool_backward(dy, argmax, geo)


def avg_pool_forward(x, geo):
    """Window means over the real (unpadded) elements."""
    if _is32(x) and x.ndim == 5:
        mod = _k("_pool")
        if mod is not None:
            return mod.avg_pool_forward(np.ascontiguousarray(x), _geo(geo), _for_work(x.size))
    return _ref.avg_pool_forward(x, geo)


def avg_pool_backward(dy, channels, geo):
    """dx: each dy / count spread over its window."""
    if _is32(dy) and dy.ndim == 5:
        mod = _k("_pool")
        if mod is not None:
            return mod.avg_pool_backward(dy, channels, _geo(geo), _for_work(dy.size))
    return _ref.avg_pool_backward(dy, channels, geo)


def im2col(x, geo):
    """(B*prod(out), prod(k)*C) patch matrix of x (B, D, H, W, C)."""
    if _is32(x) and x.ndim == 5:
        mod = _k("_conv")
        if mod is not None:
            return mod.im2col(np.ascontiguousarray(x), _geo(geo), _for_work(x.size))
    return _ref.im2col(x, geo)


def col2im(cols, batch, channels, geo):
    """Adjoint of im2col: (B, D, H, W, C) summed from a patch matrix."""
    if _is32(cols) and cols.ndim == 2:
        mod = _k("_conv")
        if mod is not None:
            return mod.col2im(np.ascontiguousarray(cols), batch, channels, _geo(geo),
                              _for_work(cols.size))
    return _ref.col2im(cols, batch, channels, geo)


def depthwise_forward(x, kernel, bias, activation, geo):
    """act(depthwise_conv(x, kernel) + bias): x (B, D, H, W, C), kernel
    (prod(k), C, M) -> (B, *out, C*M), output channel c*M + m."""
    if _is32(x) and _is32(kernel) and x.ndim == 5 and kernel.ndim == 3 \
            and activation in FUSED_ACTIVATIONS:
        mod = _k("_conv")
        if mod is not None:
            geo = _geo(geo)
            return mod.depthwise_forward(np.ascontiguousarray(x), _c32(kernel),
                                         None if bias is None else _c32(bias), activation,
                                         geo, _for_work(x.shape[0] * math.prod(geo[1])
                                                        * kernel.size),
                                         min_parallel=_threads.MIN_PARALLEL_WORK)
    return _ref.depthwise_forward(x, kernel, bias, activation, geo)


def depthwise_backward(dy, x, y, kernel, activation, geo, dkernel, dbias, need_dx=True,
                       dkernel_fresh=False):
    """Accumulate dkernel (overwritten if ``dkernel_fresh``) and dbias of a
    depthwise convolution; return dx (or None)."""
    if (_is32(x) and _is32(kernel) and _is32(y) and x.ndim == 5 and kernel.ndim == 3
            and activation in FUSED_ACTIVATIONS and _buffer32(dkernel)):
        mod = _k("_conv")
        if mod is not None:
            geo = _geo(geo)
            return mod.depthwise_backward(dy, np.ascontiguousarray(x), np.ascontiguousarray(y),
                                          _c32(kernel), activation, geo, dkernel, dbias,
                                          need_dx, dkernel_fresh,
                                          _for_work(x.size + y.size),
                                          min_parallel=_threads.MIN_PARALLEL_WORK)
    if dkernel_fresh:
        dkernel[...] = 0
    return _ref.depthwise_backward(dy, x, y, kernel, activation, geo, dkernel, dbias, need_dx)

def _public_gemm(a, b, trans_a, trans_b, out, alpha, beta):
    # Keras's differentiable ops.matmul on tensors, weights or KerasTensors;
    # array_ops sits above this module, so it is reached through the hook it
    # installs in ckeras.ops.operators on import.
    array_ops = _operators._ops
    if out is not None or alpha != 1.0 or beta != 0.0:
        raise TypeError("ckeras.ops.matmul: out/alpha/beta need plain ndarrays, got "
                        f"{type(a).__name__} and {type(b).__name__}.")
    if trans_a:
        a = array_ops.swapaxes(a, -1, -2)
    if trans_b:
        b = array_ops.swapaxes(b, -1, -2)
    return array_ops.matmul(a, b)
