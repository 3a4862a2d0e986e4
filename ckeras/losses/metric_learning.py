"""Circle loss (Sun et al. 2020) on L2-normalised embeddings, Keras 3's formula.

For each query i, with cosine distances d_ij = max(1 - e_i . r_j, 0) to the
references (the batch itself by default):

    p_i = logsumexp_j over positives of  -gamma * max(margin + d, 0) * (margin - d)
    n_i = logsumexp_j over negatives of   gamma * max(1 + margin - d, 0) * (1 - margin - d)
    loss_i = softplus(p_i + n_i)

Positives share the query's label (itself excluded with ``remove_diagonal``);
negatives are the others. A query without positives or negatives gets 0 and is
masked out of the mean, as Keras's ``circle_loss > 0`` mask does.
"""
import numpy as np

from ckeras.losses.vjp_loss import VJPLoss


def _labels(y, name, what):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name}: {what} must be integer labels of shape (batch,) or "
                         f"(batch, 1), got shape {y.shape}.")
    return y.astype(np.int64)


def _masked_softmax_lse(z, mask):
    """(logsumexp over the masked entries of each row, their softmax weights);
    -inf and zero weights for a row with no entry."""
    zm = np.where(mask, z, -np.inf)
    top = zm.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.where(mask, np.exp(zm - top), 0.0)
    s = e.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lse = np.log(s[:, 0]) + top[:, 0]
        weights = np.where(s > 0, e / np.where(s > 0, s, 1.0), 0.0)
    return lse, weights


class Circle(VJPLoss):

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal
        self._ref = None   # (ref_labels, ref_embeddings) of the circle() function

    def _forward(self, t, p):
        if p.ndim != 2:
            raise ValueError(f"{self.name}: y_pred must be embeddings of shape (batch, dim), "
                             f"got shape {p.shape}.")
        labels = _labels(t, self.name, "y_true")
        if labels.shape[0] != p.shape[0]:
            raise ValueError(f"{self.name}: y_true has {labels.shape[0]} labels but y_pred "
                             f"has {p.shape[0]} embeddings.")
        ref_labels, ref = labels, p
        if self._ref is not None:
            ref_labels, ref = self._ref
            ref_labels = labels if ref_labels is None else _labels(ref_labels, self.name,
                                                                   "ref_labels")
            ref = p if ref is None else np.asarray(ref, p.dtype)
        gamma, m = float(self.gamma), float(self.margin)
        positive = labels[:, None] == ref_labels[None, :]
        negative = ~positive
        if self.remove_diagonal:
            positive &= ~np.eye(len(labels), len(ref_labels), dtype=bool)
        raw = 1.0 - p @ ref.T
        dist = np.maximum(raw, 0.0)
        pos_w = np.maximum((m + dist) * positive, 0.0)
        neg_w = np.maximum((1.0 + m - dist) * negative, 0.0)
        pos_z = -gamma * pos_w * (m - dist)
        neg_z = gamma * neg_w * (1.0 - m - dist)
        p_lse, a = _masked_softmax_lse(pos_z, positive)
        n_lse, b = _masked_softmax_lse(neg_z, negative)
        x = p_lse + n_lse
        values = np.logaddexp(x, 0.0).astype(p.dtype, copy=False)   # softplus
        # d loss / d dist_ij, row i scaled by sigmoid(x_i) later
        d_pos_z = -gamma * ((m + dist > 0) * positive * (m - dist) - pos_w)
        d_neg_z = -gamma * (((1.0 + m - dist) > 0) * negative * (1.0 - m - dist) + neg_w)
        d_dist = (a * d_pos_z + b * d_neg_z) * (raw > 0)
        with np.errstate(over="ignore"):
            sig = np.where(np.isfinite(x), 1.0 / (1.0 + np.exp(-x)), 0.0)
        return values, values > 0, (p, ref, ref is p, sig, d_dist)

    def _vjp(self, ctx, cotangent):
        p, ref, self_ref, sig, d_dist = ctx
        g_sim = -(np.asarray(cotangent) * sig)[:, None] * d_dist   # d/d(e_i . r_j)
        grad = g_sim @ ref
        if self_ref:
            grad = grad + g_sim.T @ p
        return grad

    def get_config(self):
        config = super().get_config()
        config.update({"gamma": self.gamma, "margin": self.margin,
                       "remove_diagonal": self.remove_diagonal})
        return config


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True,
           gamma=80, margin=0.4):
    loss = Circle(gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)
    if ref_labels is not None or ref_embeddings is not None:
        loss._ref = (ref_labels, ref_embeddings)
    return loss.call(y_true, y_pred)
