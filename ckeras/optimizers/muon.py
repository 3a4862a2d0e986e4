"""Muon (Jordan et al. 2024, Moonlight's learning-rate rule) — Keras 3 formula.

Two-dimensional variables (not embeddings, nor matching ``exclude_layers``)
take the Muon step; every other one an Adam step at ``lr * adam_lr_ratio``::

    Muon:  m = momentum * m + g;  u = g + momentum * m (nesterov) else m
           O = newton_schulz5(u): the last two axes, made wide (transposed when
           tall), divided by their Frobenius norm + 1e-7, then ns_steps of
           A = X X^T;  X = a X + (b A + c A A) X
           w -= lr * O * sqrt(max(rows, cols)) * rms_rate   (rms_rate None: no factor)
    Adam:  m += (g - m)(1 - adam_beta_1);  v += (g**2 - v)(1 - adam_beta_2)
           w -= lr_a sqrt(1 - adam_beta_2**t) / (1 - adam_beta_1**t) m / (sqrt(v) + eps)

Weight decay ``w -= w * wd * lr`` uses ``weight_decay`` on Muon variables and
``adam_weight_decay`` on Adam ones (both at the unscaled ``lr``).

Slots as Keras's, per variable: ``momentum``, then ``velocity`` for Adam variables only.
"""
import math
import re

import numpy as np

from ckeras.optimizers.base import Optimizer, _variable_slot_prefix


class Muon(Optimizer):
    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004, exclude_layers=None,
                 exclude_embeddings=True, muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315,
                 adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True, rms_rate=0.2,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    def _uses_adam(self, variable):
        path = str(getattr(variable, "path", None) or getattr(variable, "name", ""))
        if np.ndim(variable.value) != 2:
            return True
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._m, self._v = [], []
        for var in self._trainable:
            prefix = _variable_slot_prefix(var)
            m = np.zeros(np.shape(var.value), np.float32)
            self._m.append(m)
            self._slot_vars.append((f"{self.name}/{prefix}_momentum", m))
            v = None
            if self._uses_adam(var):
                v = np.zeros(np.shape(var.value), np.float32)
                self._slot_vars.append((f"{self.name}/{prefix}_velocity", v))
            self._v.append(v)

    # The decay differs per kind of variable: base.apply's is off, _update_step does it.
    def _use_weight_decay(self, variable):
        return False

    def _update_step(self, index, value, grad, lr):
        variable = self._trainable[index]
        adam = self._v[index] is not None
        wd = self.adam_weight_decay if adam else self.weight_decay
        if wd and Optimizer._use_weight_decay(self, variable):
            value *= np.float32(1.0 - float(np.float32(wd)) * lr)
        if adam:
            self._adam_step(index, value, grad, lr * self.adam_lr_ratio)
        else:
            self._muon_step(index, value, grad, lr)

    def _adam_step(self, index, value, grad, lr):
        t = self.iterations + 1
        b1, b2 = float(self.adam_beta_1), float(self.adam_beta_2)
        m, v = self._m[index], self._v[index]
        alpha = np.float32(lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t))
        m += (grad - m) * np.float32(1.0 - b1)
        v += (grad * grad - v) * np.float32(1.0 - b2)
        value -= m * alpha / (np.sqrt(v) + np.float32(self.epsilon))

    def _muon_step(self, index, value, grad, lr):
        mom = np.float32(self.momentum)
        m = self._m[index]
        m += grad + m * (mom - np.float32(1.0))
        u = grad + mom * m if self.nesterov else m
        update = np.float32(lr) * self._newton_schulz5(u)
        if self.rms_rate is not None:
            update *= np.float32(math.sqrt(max(value.shape[0], value.shape[1])) * self.rms_rate)
        value -= update

    def _newton_schulz5(self, x):
        a, b, c = (np.float32(k) for k in (self.muon_a, self.muon_b, self.muon_c))
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = np.swapaxes(x, -1, -2)
        x = x / (np.sqrt(np.sum(np.square(x), axis=(-2, -1), keepdims=True))
                 + np.float32(1e-7))
        for _ in range(int(self.ns_steps)):
            gram = x @ np.swapaxes(x, -1, -2)
            x = a * x + (b * gram + c * gram @ gram) @ x
        return np.ascontiguousarray(np.swapaxes(x, -1, -2) if tall else x)

    def _own_config(self):
        return {"adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2,
                "epsilon": self.epsilon, "exclude_layers": self.exclude_layers,
                "muon_a": self.muon_a, "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate}
