"""CTC (Connectionist Temporal Classification) loss, Keras 3's ``CTC`` / ``ctc``.

y_true: (batch, max_label_length) integer labels, 0 = blank and padding (a row's
label is its first ``count_nonzero(row)`` entries); y_pred: (batch, time,
classes) logits (a log-softmax is applied). Every output step counts. The value
is -log p(label | logits) with its gradient, from the forward-backward recursion
of ``ops.nn.ctc_loss`` (ops/ctc.py), in float64.

(The module is not named ``ctc.py``: that would shadow the ``ctc`` function in
``ckeras.losses``.)
"""
import numpy as np

from ckeras.losses.vjp_loss import VJPLoss
from ckeras.ops.ctc import ctc_values

BLANK = 0


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
        losses, grad = ctc_values(labels, label_length, p, np.full(p.shape[0], p.shape[1]),
                                  BLANK)
        return losses.astype(p.dtype), None, grad

    def _vjp(self, grad, cotangent):
        return np.asarray(cotangent)[:, None, None] * grad


def ctc(y_true, y_pred):
    return CTC().call(y_true, y_pred)
