"""SGD with optional (Nesterov) momentum — Keras 3 formula.

    m = momentum * m - lr * g
    w += m                          (nesterov: w += momentum * m - lr * g)
    w -= lr * g                     (momentum == 0: no slot)
"""
from ckeras import ops
from ckeras.optimizers.base import Optimizer, _is_number
from ckeras.optimizers.sparse import sgd_update_rows


class SGD(Optimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not _is_number(momentum) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def _slot_groups(self):
        return [[("momentum", 0.0)]] if self.momentum != 0 else []

    def _update_step(self, index, value, grad, lr):
        if self.momentum != 0:
            ops.sgd_update(value, grad, lr, float(self.momentum),
                           self._slots["momentum"][index], bool(self.nesterov))
        elif not sgd_update_rows(self, index, value, grad, lr):
            # (row-sparse Embedding gradients update only their rows: same bits)
            ops.sgd_update(value, grad, lr)

    def _own_config(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}
