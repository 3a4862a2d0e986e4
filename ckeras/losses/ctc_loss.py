"""CTC (Connectionist Temporal Classification) loss, Keras 3's ``CTC`` / ``ctc``.

y_true: (batch, max_label_length) integer labels, 0 = blank and padding (a row's
label is its first ``count_nonzero(row)`` entries); y_pred: (batch, time,
classes) logits (a log-softmax is applied). Every output step counts. The value
is -log p(label | logits), computed with the forward (alpha) and backward (beta)
recursions over the label with blanks interleaved, in log space, in float64;
the gradient with respect to the logits is softmax - posterior occupancy.

(The module is not named ``ctc.py``: that would shadow the ``ctc`` function in
``ckeras.losses``.)
"""
import numpy as np

from ckeras.losses.vjp_loss import VJPLoss

BLANK = 0


def _logsumexp(*terms):
    stacked = np.stack(terms)
    top = stacked.max(axis=0)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(stacked - safe).sum(axis=0)) + safe


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def ctc_forward_backward(labels, label_length, logits):
    """(losses (B,), d losses / d logits) for logits (B, T, C), labels (B, L)."""
    logp = _log_softmax(np.asarray(logits, np.float64))
    b, t_len, _ = logp.shape
    s_len = 2 * labels.shape[1] + 1
    # extended label: blank, l1, blank, l2, ..., blank
    ext = np.full((b, s_len), BLANK, np.int64)
    ext[:, 1::2] = labels
    s_valid = np.arange(s_len)[None, :] < (2 * label_length + 1)[:, None]
    # a skip from s-2 to s is allowed onto a label that differs from the one two back
    skip = np.zeros((b, s_len), bool)
    skip[:, 2:] = (ext[:, 2:] != BLANK) & (ext[:, 2:] != ext[:, :-2])
    emit = np.take_along_axis(logp, np.broadcast_to(ext[:, None, :], (b, t_len, s_len)),
                              axis=2)                                     # (B, T, S)
    emit = np.where(s_valid[:, None, :], emit, -np.inf)
    neg = np.full((b, s_len), -np.inf)

    alpha = np.empty((t_len, b, s_len))
    first = neg.copy()
    first[:, :2] = emit[:, 0, :2]
    alpha[0] = first
    for t in range(1, t_len):
        prev = alpha[t - 1]
        one = np.concatenate([neg[:, :1], prev[:, :-1]], axis=1)
        two = np.where(skip, np.concatenate([neg[:, :2], prev[:, :-2]], axis=1), -np.inf)
        alpha[t] = _logsumexp(prev, one, two) + emit[:, t]

    rows = np.arange(b)
    end = 2 * label_length          # index of the last blank; end - 1 is the last label
    last = alpha[-1]
    log_like = _logsumexp(last[rows, end], np.where(end > 0, last[rows, end - 1], -np.inf))

    beta = np.empty((t_len, b, s_len))
    init = neg.copy()
    init[rows, end] = emit[rows, -1, end]
    has_label = end > 0
    init[rows[has_label], end[has_label] - 1] = emit[rows[has_label], -1, end[has_label] - 1]
    beta[-1] = init
    # the skip from s to s+2 is allowed when s+2 may be skipped onto
    skip_next = np.concatenate([skip[:, 2:], np.zeros((b, 2), bool)], axis=1)
    for t in range(t_len - 2, -1, -1):
        nxt = beta[t + 1]
        one = np.concatenate([nxt[:, 1:], neg[:, :1]], axis=1)
        two = np.where(skip_next, np.concatenate([nxt[:, 2:], neg[:, :2]], axis=1), -np.inf)
        beta[t] = _logsumexp(nxt, one, two) + emit[:, t]

    # occupancy of state s at step t: alpha beta / (emission at t) / p(label)
    with np.errstate(invalid="ignore"):
        post = np.exp(np.transpose(alpha + beta, (1, 0, 2)) - emit
                      - log_like[:, None, None])
    post = np.where(s_valid[:, None, :] & np.isfinite(log_like)[:, None, None], post, 0.0)
    occupancy = np.zeros_like(logp)
    for s in range(s_len):
        np.add.at(occupancy, (rows, slice(None), ext[:, s]), post[:, :, s])
    grad = np.exp(logp) - occupancy
    return -log_like, grad


class CTC(VJPLoss):

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        if t.ndim != 2:
            raise ValueError("Targets `y_true` are expected to be a tensor of shape "
                             "`(batch_size, max_length)` in integer format. "
                             f"Received: y_true.shape={t.shape}")
        if p.ndim != 3:
            raise ValueError("Logits `y_pred` are expected to be a tensor of shape "
                             "`(batch_size, max_length, num_classes)`. "
                             f"Received: y_pred.shape={p.shape}")
        if t.shape[0] != p.shape[0]:
            raise ValueError(f"{self.name}: y_true has {t.shape[0]} rows but y_pred has "
                             f"{p.shape[0]}.")
        labels = t.astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= p.shape[2]):
            raise ValueError(f"{self.name}: labels must be in [0, {p.shape[2]}) "
                             f"(num_classes of y_pred); got [{labels.min()}, {labels.max()}].")
        label_length = np.count_nonzero(labels != BLANK, axis=1)
        losses, grad = ctc_forward_backward(labels, label_length, p)
        return losses.astype(p.dtype), None, grad

    def _vjp(self, grad, cotangent):
        return np.asarray(cotangent)[:, None, None] * grad


def ctc(y_true, y_pred):
    return CTC().call(y_true, y_pred)
