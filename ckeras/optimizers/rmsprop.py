"""RMSprop — Keras 3 formula.

    v = rho * v + (1 - rho) * g**2
    centered:  a = rho * a + (1 - rho) * g;  denom = v - a**2 + eps
    else:      denom = v + eps
    inc = lr * g / sqrt(denom)
    momentum > 0:  m = momentum * m + inc;  w -= m
    else:          w -= inc

Slots are created group by group as Keras does: all ``velocity`` slots, then
all ``momentum`` slots (momentum > 0), then all ``average_gradient`` slots
(centered) — not interleaved per variable.
"""
from ckeras import ops
from ckeras.optimizers.base import Optimizer


class RMSprop(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def _slot_groups(self):
        groups = [[("velocity", 0.0)]]
        if self.momentum > 0:
            groups.append([("momentum", 0.0)])
        if self.centered:
            groups.append([("average_gradient", 0.0)])
        return groups

    def _update_step(self, index, value, grad, lr):
        momentum_buf = self._slots["momentum"][index] if self.momentum > 0 else None
        average_grad = (self._slots["average_gradient"][index]
                        if self.centered else None)
        ops.rmsprop_update(value, grad, self._slots["velocity"][index], lr,
                           float(self.rho), float(self.epsilon),
                           float(self.momentum), momentum_buf, average_grad)

    def _own_config(self):
        return {"rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
