"""ScheduleFreeAdamW (Defazio et al. 2024) — Keras 3 formula, ``t = iterations + 1``.

The variable holds y (where gradients are taken); the ``momentum`` slot holds
z, starting as a copy of the variable; x, the average, is recovered from them::

    lr_t = lr * min(t / warmup_steps, 1)            (warmup_steps > 0)
    v += (g**2 - v) * (1 - beta_2)
    z_old = z;  z -= lr_t * g / (sqrt(v / (1 - beta_2**t)) + eps)
    x_old = (y - (1 - beta_1) z_old) / beta_1
    x = (1 - 1/t) x_old + z / t
    y = (1 - beta_1) z + beta_1 x

Slots as Keras's: ``momentum`` (z) and ``velocity`` interleaved per variable.
"""
import numpy as np

from ckeras.optimizers.base import Optimizer


class ScheduleFreeAdamW(Optimizer):
    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def _slot_groups(self):
        return [[("momentum", 0.0), ("velocity", 0.0)]]

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        for z, v in zip(self._slots["momentum"], self._trainable):
            z[...] = v.value   # z starts at the initial weights

    def _update_step(self, index, value, grad, lr):
        t = self.iterations + 1
        f32 = np.float32
        if self.warmup_steps > 0:
            lr = lr * min(t / float(self.warmup_steps), 1.0)
        b1, b2 = float(self.beta_1), float(self.beta_2)
        z = self._slots["momentum"][index]
        v = self._slots["velocity"][index]
        z_old = z.copy()
        v += (grad * grad - v) * f32(1.0 - b2)
        denom = np.sqrt(v / f32(1.0 - b2 ** t)) + f32(self.epsilon)
        z -= f32(lr) * grad / denom
        weight = 1.0 / t
        x_old = (value - f32(1.0 - b1) * z_old) / f32(b1)
        x_new = f32(1.0 - weight) * x_old + f32(weight) * z
        value[...] = f32(1.0 - b1) * z + f32(b1) * x_new

    def _own_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "warmup_steps": self.warmup_steps}
