"""Lamb (You et al. 2019) — Keras 3 formula, ``t = iterations + 1``::

    m += (g - m) * (1 - beta_1);  v += (g**2 - v) * (1 - beta_2)
    update = (m / (1 - beta_1**t)) / (sqrt(v / (1 - beta_2**t)) + eps)
    ratio = |w| / |update| (Frobenius norms of the whole variable; 1 if either is 0)
    w -= ratio * lr * update

Slots as Keras's: ``momentum`` and ``velocity`` interleaved per variable.
"""
import numpy as np

from ckeras.optimizers.base import Optimizer


class Lamb(Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _slot_groups(self):
        return [[("momentum", 0.0), ("velocity", 0.0)]]

    def _update_step(self, index, value, grad, lr):
        t = self.iterations + 1
        b1, b2 = float(self.beta_1), float(self.beta_2)
        m = self._slots["momentum"][index]
        v = self._slots["velocity"][index]
        m += (grad - m) * np.float32(1.0 - b1)
        v += (grad * grad - v) * np.float32(1.0 - b2)
        update = (m / np.float32(1.0 - b1 ** t)) / (
            np.sqrt(v / np.float32(1.0 - b2 ** t)) + np.float32(self.epsilon))
        w_norm = float(np.sqrt(np.sum(np.square(value, dtype=np.float32))))
        u_norm = float(np.sqrt(np.sum(np.square(update))))
        ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        value -= np.float32(ratio * lr) * update

    def _own_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
