"""Adafactor (Shazeer & Stern 2018) — Keras 3 formula, ``t = iterations + 1``::

    lr_t = min(lr, 1 / sqrt(t)) when relative_step and the rate is a float
    rho_t = min(lr_t, 1 / sqrt(t));  alpha_t = max(epsilon_2, rms(w)) * rho_t
    g2 = g**2 + epsilon_1;  beta_2_t = 1 - t**beta_2_decay
    rank >= 2 (the last two axes factored):
        r = beta_2_t r + (1 - beta_2_t) mean(g2, axis=-1)
        c = beta_2_t c + (1 - beta_2_t) mean(g2, axis=-2)
        v = (r / mean(r, axis=-1))[..., None] * c[..., None, :]
    rank < 2:  v = beta_2_t v + (1 - beta_2_t) g2
    u = g / sqrt(v);  w -= alpha_t * u / max(1, rms(u) / clip_threshold)

Saved state, Keras's layout: per variable r, c, velocity. A variable of rank
< 2 has no factors; Keras still keeps two int32 scalar placeholders there, and
so does ckeras, so that the optimizer variables of a .keras file line up.
"""
import math

import numpy as np

from ckeras.optimizers.base import Optimizer, _variable_slot_prefix


def _rms(x):
    return np.sqrt(np.mean(np.square(x, dtype=np.float32)))


class Adafactor(Optimizer):
    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, variables):
        if self.built:
            return
        super().build(variables)   # iteration, learning rate, scratch: no slot groups
        self._r, self._c, self._v = [], [], []
        for v in self._trainable:
            shape = np.shape(v.value)
            prefix = _variable_slot_prefix(v)
            if len(shape) < 2:
                r = c = None
                placeholders = [np.zeros((), np.int32), np.zeros((), np.int32)]
            else:
                r = np.zeros(shape[:-1], np.float32)
                c = np.zeros(shape[:-2] + shape[-1:], np.float32)
                placeholders = [r, c]
            velocity = np.zeros(shape, np.float32)
            self._r.append(r)
            self._c.append(c)
            self._v.append(velocity)
            self._slot_vars += [(f"{self.name}/{prefix}_r", placeholders[0]),
                                (f"{self.name}/{prefix}_c", placeholders[1]),
                                (f"{self.name}/{prefix}_velocity", velocity)]

    def _update_step(self, index, value, grad, lr):
        t = self.iterations + 1
        inv_sqrt_t = 1.0 / math.sqrt(t)
        if self.relative_step and self._schedule is None and self._lr_fn is None:
            lr = min(lr, inv_sqrt_t)
        rho_t = min(lr, inv_sqrt_t)
        alpha_t = np.float32(max(float(self.epsilon_2), float(_rms(value))) * rho_t)
        g2 = np.square(grad) + np.float32(self.epsilon_1)
        beta = np.float32(1.0 - t ** float(self.beta_2_decay))
        one_m_beta = np.float32(1.0) - beta
        v = self._v[index]
        r, c = self._r[index], self._c[index]
        if r is not None:
            r[...] = beta * r + one_m_beta * g2.mean(axis=-1)
            c[...] = beta * c + one_m_beta * g2.mean(axis=-2)
            v[...] = (r / r.mean(axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v[...] = beta * v + one_m_beta * g2
        u = grad / np.sqrt(v)
        u /= np.float32(max(1.0, float(_rms(u)) / float(self.clip_threshold)))
        value -= alpha_t * u

    def _own_config(self):
        return {"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}
