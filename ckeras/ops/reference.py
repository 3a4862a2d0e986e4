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

from ckeras.ops.errors import OutOfRangeError, out_of_range_error  # noqa: F401  (re-exported)


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


def _to_previous_step(dh, nxt, sk):
    """dh <- step t-1's state gradient: ``nxt`` (through the cell), but dh
    itself for the samples masked at t (their state was carried through)."""
    if sk is not None:
        nxt[sk] = dh[sk]
    dh[...] = nxt


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
        _to_previous_step(dh, _rin(dz[t] @ R.T, rmask), sk)


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
        _to_previous_step(dh, dh * zg + _rin(back, rmask), sk)


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
        _to_previous_step(dh, _rin(dz[t] @ R.T, rmask), sk)

# ---- attention softmax ----------------------------------------------------------

def masked_softmax(x, mask=None, causal=False, out=None):
    """Softmax over the last axis of scores x (G, H, T, S), keeping only the
    entries where ``mask`` (broadcastable to x) is true and, with ``causal``,
    key j <= query i; the other entries, and rows with nothing kept, are 0."""
    keep = np.ones(x.shape, dtype=bool)
    if mask is not None:
        keep = keep & np.asarray(mask, dtype=bool)
    if causal:
        t, s = x.shape[-2:]
        keep &= np.arange(s)[None, :] <= np.arange(t)[:, None]
    m = np.where(keep, x, -np.inf).max(axis=-1, keepdims=True)
    e = np.where(keep, np.exp(np.where(keep, x - np.where(np.isfinite(m), m, 0), 0)), 0)
    total = e.sum(axis=-1, keepdims=True)
    y = (e / np.where(total > 0, total, 1)).astype(x.dtype, copy=False)
    if out is not None:
        out[...] = y
        return out
    return y


def softmax_backward(dy, y, out=None):
    """dx = y * (dy - sum(dy * y)) over the last axis (softmax's backward)."""
    dx = y * (dy - (dy * y).sum(axis=-1, keepdims=True))
    if out is not None:
        out[...] = dx
        return out
    return dx

# ---- convolution and pooling ------------------------------------------------------
# Tensors are channels-last 5-D (batch, D, H, W, C) (1-D/2-D layers use
# D = H = 1); ``geo`` is (in, out, k, s, d, pad), each a 3-tuple over
# (D, H, W): output o along an axis reads input o*s - pad + t*d for tap t,
# and coordinates outside [0, in) are zeros. Patch matrices are
# (batch*prod(out), prod(k)*C), columns ordered (kd, kh, kw, c).

def _padded(x, geo, fill=0.0):
    """x padded so every window lies inside: (array, its extents)."""
    n, o, k, s, d, p = geo
    ext = [max(p[i] + n[i], (o[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1) for i in range(3)]
    xp = np.full((x.shape[0],) + tuple(ext) + (x.shape[-1],), fill, x.dtype)
    xp[:, p[0]:p[0] + n[0], p[1]:p[1] + n[1], p[2]:p[2] + n[2]] = x
    return xp


def _tap_slices(geo, a, e, f):
    """The padded-input slices tap (a, e, f) reads for every output position."""
    _, o, _, s, d, _ = geo
    return tuple(slice(t * d[i], t * d[i] + (o[i] - 1) * s[i] + 1, s[i])
                 for i, t in enumerate((a, e, f)))


def _taps(geo):
    k = geo[2]
    return [(a, e, f) for a in range(k[0]) for e in range(k[1]) for f in range(k[2])]


def im2col(x, geo):
    """(B*prod(out), prod(k)*C) patch matrix of x (B, D, H, W, C)."""
    xp = _padded(x, geo)
    b, c = x.shape[0], x.shape[-1]
    parts = [xp[(slice(None),) + _tap_slices(geo, *t)] for t in _taps(geo)]
    cols = np.stack(parts, axis=4)                        # (B, OD, OH, OW, taps, C)
    return cols.reshape(b * int(np.prod(geo[1])), len(parts) * c)


def col2im(cols, batch, channels, geo):
    """Adjoint of im2col: scatter-add the patches back into (B, D, H, W, C)."""
    n, o, _, _, _, p = geo
    xp = _padded(np.zeros((batch,) + tuple(n) + (channels,), cols.dtype), geo)
    c6 = cols.reshape((batch,) + tuple(o) + (-1, channels))
    for i, t in enumerate(_taps(geo)):
        xp[(slice(None),) + _tap_slices(geo, *t)] += c6[:, :, :, :, i]
    return np.ascontiguousarray(xp[:, p[0]:p[0] + n[0], p[1]:p[1] + n[1], p[2]:p[2] + n[2]])


def conv_forward(x, kernel, bias, activation, geo):
    """act(conv(x, kernel) + bias): x (B, D, H, W, C), kernel (prod(k)*C, F)."""
    y = dense(im2col(x, geo), kernel, bias, activation)
    return y.reshape((x.shape[0],) + tuple(geo[1]) + (kernel.shape[1],))


def conv_backward(dy, x, y, kernel, activation, geo, dkernel, dbias, need_dx=True):
    """Accumulate dkernel (+= cols^T dz) and dbias; return dx (or None)."""
    f = kernel.shape[1]
    dcols = dense_backward(dy.reshape(-1, f), im2col(x, geo), y.reshape(-1, f), kernel,
                           activation, dkernel, dbias, need_dx)
    return col2im(dcols, x.shape[0], x.shape[-1], geo) if need_dx else None


def conv_transpose_forward(x, kernel, bias, activation, geo):
    """The adjoint in x of conv with geometry geo: x (B, *geo[1], Cin),
    kernel (prod(k)*F, Cin), output (B, *geo[0], F)."""
    f = kernel.shape[0] // int(np.prod(geo[2]))
    z = col2im(x.reshape(-1, x.shape[-1]) @ kernel.T, x.shape[0], f, geo)
    if bias is not None:
        z += bias
    return activation_from_output(activation, z)


def conv_transpose_backward(dy, x, y, kernel, activation, geo, dkernel, dbias, need_dx=True):
    """Accumulate dkernel (+= im2col(dz)^T x) and dbias; return dx = im2col(dz) kernel."""
    dz = activation_backward_from_output(activation, dy, y)
    if dbias is not None:
        dbias += dz.reshape(-1, dz.shape[-1]).sum(axis=0)
    dcols = im2col(dz, geo)
    x2 = x.reshape(-1, x.shape[-1])
    dkernel += dcols.T @ x2
    return (dcols @ kernel).reshape(x.shape) if need_dx else None


def max_pool_forward(x, geo, want_argmax=True):
    """(y, argmax): window maxima over real elements and the flat spatial index
    (id*H + ih)*W + iw of each window's first maximum in (kd, kh, kw) order
    (argmax None unless ``want_argmax``)."""
    n, o, _, s, _, p = geo
    xp = _padded(x, geo, fill=-np.inf)
    y = np.full((x.shape[0],) + tuple(o) + (x.shape[-1],), -np.inf, x.dtype)
    arg = np.zeros(y.shape, np.int32)
    grids = np.meshgrid(*(np.arange(o[i]) * s[i] - p[i] for i in range(3)), indexing="ij")
    for t in _taps(geo):
        v = xp[(slice(None),) + _tap_slices(geo, *t)]
        pos = ((grids[0] + t[0]) * n[1] + grids[1] + t[1]) * n[2] + grids[2] + t[2]
        better = v > y                                   # strict: ties keep the first
        y = np.where(better, v, y)
        arg = np.where(better, pos[None, :, :, :, None].astype(np.int32), arg)
    return y, (arg if want_argmax else None)


def max_pool_backward(dy, argmax, geo):
    """dx: each dy added at its window's argmax."""
    b, c = dy.shape[0], dy.shape[-1]
    per = int(np.prod(geo[0]))
    dx = np.zeros((b, per, c), dy.dtype)
    bi = np.arange(b)[:, None, None]
    ci = np.arange(c)[None, None, :]
    np.add.at(dx, (bi, argmax.reshape(b, -1, c), ci), dy.reshape(b, -1, c))
    return dx.reshape((b,) + tuple(geo[0]) + (c,))


def _window_counts(geo):
    """Real (unpadded) inputs in each window: (OD, OH, OW, 1)."""
    n, o, k, s, _, p = geo
    per_axis = []
    for i in range(3):
        start = np.arange(o[i]) * s[i] - p[i]
        per_axis.append(np.minimum(start + k[i], n[i]) - np.maximum(start, 0))
    return np.einsum("i,j,k->ijk", *per_axis)[..., None]


def avg_pool_forward(x, geo):
    """Window means over the real elements."""
    xp = _padded(x, geo)
    y = sum(xp[(slice(None),) + _tap_slices(geo, *t)] for t in _taps(geo))
    return (y / _window_counts(geo)).astype(x.dtype)


def avg_pool_backward(dy, channels, geo):
    """dx: each dy / count spread over its window."""
    g = (dy / _window_counts(geo)).astype(dy.dtype)
    cols = np.repeat(g[:, :, :, :, None, :], len(_taps(geo)), axis=4)
    return col2im(cols.reshape(-1, cols.shape[4] * channels), dy.shape[0], channels, geo)


def depthwise_forward(x, kernel, bias, activation, geo):
    """act(depthwise_conv(x, kernel) + bias): kernel (prod(k), C, M); output
    channel c*M + m."""
    b, c = x.shape[0], x.shape[-1]
    cols = im2col(x, geo).reshape(-1, kernel.shape[0], c)
    z = np.einsum("rtc,tcm->rcm", cols, kernel).reshape(-1, c * kernel.shape[2])
    if bias is not None:
        z = z + bias
    y = activation_from_output(activation, z)
    return y.reshape((b,) + tuple(geo[1]) + (y.shape[-1],))


def depthwise_backward(dy, x, y, kernel, activation, geo, dkernel, dbias, need_dx=True):
    """Accumulate dkernel and dbias of a depthwise convolution; return dx (or None)."""
    b, c = x.shape[0], x.shape[-1]
    dz = activation_backward_from_output(activation, dy, y).reshape(-1, c, kernel.shape[2])
    if dbias is not None:
        dbias += dz.reshape(dz.shape[0], -1).sum(axis=0)
    cols = im2col(x, geo).reshape(-1, kernel.shape[0], c)
    dkernel += np.einsum("rtc,rcm->tcm", cols, dz)
    if not need_dx:
        return None
    dcols = np.einsum("rcm,tcm->rtc", dz, kernel).reshape(cols.shape[0], -1)
    return col2im(dcols, b, c, geo)
