"""Lion — Keras 3 formula::

    w -= lr * sign(beta_1 * m + (1 - beta_1) * g)
    m = beta_2 * m + (1 - beta_2) * g
"""
import numpy as np

from ckeras.optimizers.base import Optimizer


class Lion(Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def _slot_groups(self):
        return [[("momentum", 0.0)]]

    def _n_work(self):
        return 3

    def _update_step(self, index, value, grad, lr):
        b1, b2 = float(self.beta_1), float(self.beta_2)
        m = self._slots["momentum"][index]
        a = self._scratch(1, value.shape)
        b = self._scratch(2, value.shape)
        np.multiply(m, np.float32(b1), out=a)
        np.multiply(grad, np.float32(1.0 - b1), out=b)
        a += b
        np.sign(a, out=a)
        a *= np.float32(lr)
        value -= a
        m *= np.float32(b2)
        np.multiply(grad, np.float32(1.0 - b2), out=b)
        m += b

    def _own_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}
