"""Plain-numpy twins of every kernel in ``ckeras._kernels``.

Same names and signatures as the fast path in ``ckeras.ops``; they accept
float32 or float64 (the gradient checks run in float64) and are the oracle the
kernel tests compare against. Clarity wins over speed here.

Conventions shared with the kernels:
  * 2-D arrays are row-major (batch, features).
  * ``*_backward`` functions *accumulate* weight gradients into the buffers they
    are given (a shared layer called twice sums its gradients) and return the
    gradient with respect to the input.
  * ``sample_scale`` is a per-row factor (already ``weight_i / batch_size``)
    applied to each row's gradient; losses are returned per row, unscaled.
    A scalar is broadcast to every row.
  * Losses and ``dense`` accept N-D inputs: the last axis is the feature /
    class axis and the leading axes are rows.
  * Integer ids and sparse labels are range-checked; a bad one raises
    ``OutOfRangeError`` (both an ``IndexError`` and a ``ValueError``) with
    ``.index`` (the bad value), ``.position`` (its flat position / row) and
    ``.limit`` (input_dim / number of classes). The kernels raise the same.
"""
import numpy as np


class OutOfRangeError(IndexError, ValueError):
    """An integer id or class label outside ``[0, limit)``."""

    def __init__(self, message, index=None, position=None, limit=None):
        super().__init__(message)
        self.index = index
        self.position = position
        self.limit = limit


def out_of_range_error(kind, value, position, limit):
    """Build the error for a bad ``kind`` ("id" or "label") at ``position``."""
    value, position, limit = int(value), int(position), int(limit)
    if kind == "label":
        msg = (f"label {value} at row {position} is out of range for {limit} "
               f"classes (valid labels are 0..{limit - 1})")
    else:
        msg = (f"id {value} at flat position {position} is out of range for "
               f"input_dim {limit} (valid ids are 0..{limit - 1})")
    return OutOfRangeError(msg, index=value, position=position, limit=limit)


def check_range(ids, limit, kind="id"):
    """Raise ``OutOfRangeError`` for the first entry of ``ids`` outside [0, limit)."""
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{kind}s must be integers, got dtype {ids.dtype}")
    flat = ids.reshape(-1)
    if flat.size == 0:
        return
    bad = (flat < 0) | (flat >= limit)
    if bad.any():
        pos = int(np.argmax(bad))
        raise out_of_range_error(kind, flat[pos], pos, limit)


def _row_scale(sample_scale, dtype):
    # (batch,) or scalar -> broadcastable against (batch, ..., classes)
    return np.asarray(sample_scale, dtype)[..., None]

# Activations whose derivative can be written in terms of the output alone, so
# Dense can fuse bias + activation forward and its derivative backward.
FUSED_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")


def matmul(a, b, trans_a=False, trans_b=False, out=None, alpha=1.0, beta=0.0):
    """out = alpha * op(a) @ op(b) + beta * out  (GEMM)."""
    a = a.T if trans_a else a
    b = b.T if trans_b else b
    prod = a @ b
    if alpha != 1.0:
        prod *= alpha
    if out is None:
        return prod
    if beta == 0.0:
        out[...] = prod
    else:
        out *= beta
        out += prod
    return out


def sigmoid(x):
    # Split by sign so exp never overflows.
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def softmax(x):
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def activation_from_output(name, z):
    """Apply a FUSED_ACTIVATIONS activation to pre-activations ``z``."""
    if name == "linear":
        return z.copy()
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "softmax":
        return softmax(z)
    raise ValueError(f"activation {name!r} is not one of {FUSED_ACTIVATIONS}")


def activation_backward_from_output(name, dy, y):
    """Gradient w.r.t. the pre-activation, given the activation's output ``y``."""
    if name == "linear":
        return dy.copy()
    if name == "relu":
        return dy * (y > 0)
    if name == "sigmoid":
        return dy * y * (1 - y)
    if name == "tanh":
        return dy * (1 - y * y)
    if name == "softmax":
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))
    raise ValueError(f"activation {name!r} is not one of {FUSED_ACTIVATIONS}")


def dense(x, kernel, bias, activation="linear"):
    """y = activation(x @ kernel + bias); x is (batch, in), bias may be None."""
    z = x @ kernel
    if bias is not None:
        z += bias
    return activation_from_output(activation, z)


def dense_backward(dy, x, y, kernel, activation, dkernel, dbias, need_dx=True):
    """Accumulate dkernel (+= x^T dz) and dbias (+= sum dz); return dx = dz kernel^T."""
    dz = activation_backward_from_output(activation, dy, y)
    x2 = x.reshape(-1, x.shape[-1])            # N-D inputs: leading axes are rows
    dz2 = dz.reshape(-1, dz.shape[-1])
    dkernel += x2.T @ dz2
    if dbias is not None:
        dbias += dz2.sum(axis=0)
    return dz @ kernel.T if need_dx else None


def softmax_cross_entropy(logits, labels, sample_scale=None, want_probs=False):
    """Fused softmax + categorical cross-entropy on logits (batch, classes).

    labels: int (batch,) class ids, or float (batch, classes) target rows.
    Returns (losses (batch,), dlogits, probs or None) with
    dlogits[i] = sample_scale[i] * (softmax(logits[i]) * sum(t_i) - t_i).
    """
    p = softmax(logits)
    # log p via log-sum-exp keeps precision where p underflows.
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    labels = np.asarray(labels)
    if labels.ndim == logits.ndim - 1:          # sparse class ids
        n_classes = logits.shape[-1]
        check_range(labels, n_classes, "label")
        rows = np.arange(labels.size)
        flat = labels.reshape(-1)
        losses = -logp.reshape(-1, n_classes)[rows, flat].reshape(labels.shape)
        grad = p.copy()
        grad.reshape(-1, n_classes)[rows, flat] -= 1
    else:
        t = labels.astype(logits.dtype, copy=False)
        # terms with t == 0 contribute 0 even where logp is -inf (masked logits)
        tlogp = np.multiply(t, logp, out=np.zeros_like(logp), where=(t != 0))
        losses = -tlogp.sum(axis=-1)
        grad = p * t.sum(axis=-1, keepdims=True) - t
    if sample_scale is not None:
        grad *= _row_scale(sample_scale, logits.dtype)
    return losses.astype(logits.dtype), grad, (p if want_probs else None)


def sigmoid_binary_cross_entropy(logits, targets, sample_scale=None):
    """Fused sigmoid + binary cross-entropy, averaged over the last axis.

    logits, targets: (batch, k). Returns (losses (batch,), dlogits, probs) with
    dlogits[i] = sample_scale[i] * (sigmoid(logits[i]) - t_i) / k.
    """
    t = targets.astype(logits.dtype, copy=False)
    # log(1 + exp(-|x|)) + max(x, 0) - x t  is the stable form.
    per = np.maximum(logits, 0) - logits * t + np.log1p(np.exp(-np.abs(logits)))
    k = logits.shape[-1]
    p = sigmoid(logits)
    grad = (p - t) / k
    if sample_scale is not None:
        grad *= _row_scale(sample_scale, logits.dtype)
    return per.mean(axis=-1).astype(logits.dtype), grad, p


def embedding_lookup(ids, table):
    """Gather rows: out[..., :] = table[ids[...], :]."""
    check_range(ids, table.shape[0], "id")
    return table[ids]


def embedding_lookup_backward(ids, dout, dtable):
    """Scatter-add rows of dout into dtable (repeated ids accumulate)."""
    ids = np.asarray(ids)
    check_range(ids, dtable.shape[0], "id")
    np.add.at(dtable, ids.reshape(-1), dout.reshape(-1, dtable.shape[1]))


# ---- optimizer updates (in place, Keras 3 formulas) ------------------------

def sgd_update(param, grad, lr, momentum=0.0, velocity=None, nesterov=False):
    if momentum == 0.0 or velocity is None:
        param -= lr * grad
        return
    velocity *= momentum
    velocity -= lr * grad
    if nesterov:
        param += momentum * velocity - lr * grad
    else:
        param += velocity


def adam_update(param, grad, m, v, lr_t, beta_1, beta_2, epsilon, vhat=None):
    """lr_t already holds the bias correction: lr * sqrt(1-b2^t) / (1-b1^t)."""
    m += (grad - m) * (1 - beta_1)
    v += (grad * grad - v) * (1 - beta_2)
    if vhat is not None:
        np.maximum(vhat, v, out=vhat)
        param -= lr_t * m / (np.sqrt(vhat) + epsilon)
    else:
        param -= lr_t * m / (np.sqrt(v) + epsilon)


def rmsprop_update(param, grad, velocity, lr, rho, epsilon, momentum=0.0,
                   momentum_buf=None, average_grad=None):
    velocity *= rho
    velocity += (1 - rho) * grad * grad
    if average_grad is not None:
        average_grad *= rho
        average_grad += (1 - rho) * grad
        denom = velocity - average_grad * average_grad + epsilon
    else:
        denom = velocity + epsilon
    increment = lr * grad / np.sqrt(denom)
    if momentum > 0 and momentum_buf is not None:
        momentum_buf *= momentum
        momentum_buf += increment
        param -= momentum_buf
    else:
        param -= increment


def adagrad_update(param, grad, accumulator, lr, epsilon):
    accumulator += grad * grad
    param -= lr * grad / np.sqrt(accumulator + epsilon)


# ---- fused LSTM gate math (one time step; gate order i, f, g, o) ----------------

def _sig(x):
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r)


def lstm_gates_forward(z, c_prev, h=None, c=None, tanh_c=None):
    """z (B, 4u) pre-activations -> activated gates, in place (sigmoid i, f,
    o; tanh g); c = f*c_prev + i*g, tanh_c = tanh(c), h = o*tanh_c.
    Returns (h, c, tanh_c), written into the given buffers if any."""
    u = z.shape[1] // 4
    z[:, :2 * u] = _sig(z[:, :2 * u])
    z[:, 2 * u:3 * u] = np.tanh(z[:, 2 * u:3 * u])
    z[:, 3 * u:] = _sig(z[:, 3 * u:])
    i, f, g, o = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
    cv = f * c_prev + i * g
    tc = np.tanh(cv)
    hv = o * tc
    outs = []
    for buf, v in ((h, hv), (c, cv), (tanh_c, tc)):
        if buf is None:
            buf = v
        else:
            buf[...] = v
        outs.append(buf)
    return tuple(outs)


def lstm_gates_backward(dh, dc, gates, c_prev, tanh_c, dz=None, dc_prev=None):
    """Gradients through one step's gate math: (dz (B, 4u), dc_prev (B, u)).
    dc_prev may be dc."""
    u = gates.shape[1] // 4
    i, f, g, o = gates[:, :u], gates[:, u:2 * u], gates[:, 2 * u:3 * u], gates[:, 3 * u:]
    d = dc + dh * (o * (1 - tanh_c * tanh_c))
    out = np.concatenate([d * (g * (i * (1 - i))), d * (c_prev * (f * (1 - f))),
                          d * (i * (1 - g * g)), dh * (tanh_c * (o * (1 - o)))], axis=1)
    dcp = d * f
    if dz is None:
        dz = out
    else:
        dz[...] = out
    if dc_prev is None:
        dc_prev = dcp
    else:
        dc_prev[...] = dcp
    return dz, dc_prev


# ---- whole sequences (time loop; see csrc/recurrent.h for the buffers) ----------
# ``rmask`` (B, u) or None, recurrent dropout: the previous state enters the
# recurrent GEMMs as h * rmask, the same at every step.

def _carry_rows(new, old, skip_t):
    if skip_t is not None:
        np.copyto(new, old, where=skip_t[:, None])


def _step_skip(skip, t):
    return None if skip is None else skip[t].astype(bool)


def _rin(h, rmask):
    return h if rmask is None else h * rmask


def lstm_seq_forward(z, R, skip, hs, cs, tcs, rmask=None):
    """z (T, B, 4u): x W + b in, gates out; hs, cs (T+1, B, u), [0] the
    initial states; tcs (T, B, u) gets tanh(c). Masked samples (skip) keep
    their states."""
    for t in range(z.shape[0]):
        z[t] += _rin(hs[t], rmask) @ R
        lstm_gates_forward(z[t], cs[t], hs[t + 1], cs[t + 1], tcs[t])
        sk = _step_skip(skip, t)
        _carry_rows(hs[t + 1], hs[t], sk)
        _carry_rows(cs[t + 1], cs[t], sk)


def lstm_seq_backward(gates, R, skip, cs, tcs, dH, dh, dc, dz, need_initial=False,
                      rmask=None):
    """BPTT: dz (T, B, 4u); dh, dc (B, u) final-state gradients in, initial-
    state gradients out (when need_initial)."""
    for t in range(gates.shape[0] - 1, -1, -1):
        if dH is not None:
            dh += dH[t]
        sk = _step_skip(skip, t)
        dc_new = np.empty_like(dc)
        lstm_gates_backward(dh, dc, gates[t], cs[t], tcs[t], dz[t], dc_new)
        if sk is not None:
            dz[t][sk] = 0
            dc_new[sk] = dc[sk]
        dc[...] = dc_new
        if t == 0 and not need_initial:
            return
        nxt = _rin(dz[t] @ R.T, rmask)
        if sk is not None:
            nxt[sk] = dh[sk]
        dh[...] = nxt


def gru_seq_forward(z, R, brec, skip, hs, rec, reset_after, rmask=None):
    """z (T, B, 3u): x W + b_in in, gates [z, r, h~] out; hs (T+1, B, u).
    reset_after: rec (T, B, 3u) = h R + brec, h~ = tanh(z_h + r rec_h);
    else rec (T, B, u) = r h, h~ = tanh(z_h + rec R_h)."""
    u = R.shape[0]
    for t in range(z.shape[0]):
        zt, hp = z[t], hs[t]
        hin = _rin(hp, rmask)
        if reset_after:
            rec[t] = hin @ R + (0 if brec is None else brec)
            zt[:, :2 * u] = _sig(zt[:, :2 * u] + rec[t][:, :2 * u])
            zt[:, 2 * u:] = np.tanh(zt[:, 2 * u:] + zt[:, u:2 * u] * rec[t][:, 2 * u:])
        else:
            zt[:, :2 * u] = _sig(zt[:, :2 * u] + hin @ R[:, :2 * u])
            rec[t] = zt[:, u:2 * u] * hin
            zt[:, 2 * u:] = np.tanh(zt[:, 2 * u:] + rec[t] @ R[:, 2 * u:])
        zg, hh = zt[:, :u], zt[:, 2 * u:]
        hs[t + 1] = zg * hp + (1 - zg) * hh
        _carry_rows(hs[t + 1], hp, _step_skip(skip, t))


def gru_seq_backward(gates, R, skip, hs, rec, dH, dh, dxp, drec, reset_after,
                     need_initial=False, rmask=None):
    """BPTT: dxp (T, B, 3u) (gradient of z); drec (T, B, 3u) the gradient of
    rec (reset_after; else unused); dh (B, u) in/out."""
    u = R.shape[0]
    for t in range(gates.shape[0] - 1, -1, -1):
        if dH is not None:
            dh += dH[t]
        g, hp = gates[t], hs[t]
        zg, r, hh = g[:, :u], g[:, u:2 * u], g[:, 2 * u:]
        dzh = dh * (1 - zg) * (1 - hh * hh)
        dzz = dh * (hp - hh) * zg * (1 - zg)
        if reset_after:
            dzr = dzh * rec[t][:, 2 * u:] * r * (1 - r)
            dxp[t] = np.concatenate([dzz, dzr, dzh], axis=1)
            drec[t] = np.concatenate([dzz, dzr, dzh * r], axis=1)
            back = drec[t] @ R.T
        else:
            drh = dzh @ R[:, 2 * u:].T
            dzr = drh * _rin(hp, rmask) * r * (1 - r)
            dxp[t] = np.concatenate([dzz, dzr, dzh], axis=1)
            back = drh * r + dxp[t][:, :2 * u] @ R[:, :2 * u].T
        sk = _step_skip(skip, t)
        if sk is not None:
            dxp[t][sk] = 0
            if reset_after:
                drec[t][sk] = 0
        if t == 0 and not need_initial:
            return
        nxt = dh * zg + _rin(back, rmask)
        if sk is not None:
            nxt[sk] = dh[sk]
        dh[...] = nxt


def rnn_seq_forward(z, R, skip, hs, activation, rmask=None):
    """z (T, B, u): x W + b in, activation outputs out; hs (T+1, B, u)."""
    for t in range(z.shape[0]):
        z[t] = activation_from_output(activation, z[t] + _rin(hs[t], rmask) @ R)
        hs[t + 1] = z[t]
        _carry_rows(hs[t + 1], hs[t], _step_skip(skip, t))


def rnn_seq_backward(y, R, skip, dH, dh, dz, activation, need_initial=False, rmask=None):
    """BPTT: y is rnn_seq_forward's z after the call; dz (T, B, u)."""
    for t in range(y.shape[0] - 1, -1, -1):
        if dH is not None:
            dh += dH[t]
        dz[t] = activation_backward_from_output(activation, dh, y[t])
        sk = _step_skip(skip, t)
        if sk is not None:
            dz[t][sk] = 0
        if t == 0 and not need_initial:
            return
        nxt = _rin(dz[t] @ R.T, rmask)
        if sk is not None:
            nxt[sk] = dh[sk]
        dh[...] = nxt
