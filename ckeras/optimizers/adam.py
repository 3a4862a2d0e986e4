"""The Adam family — Keras 3 formulas. ``t = iterations + 1``.

Adam / AdamW (AdamW = Adam with decoupled weight decay, default 0.004)::

    m += (g - m) * (1 - beta_1);  v += (g**2 - v) * (1 - beta_2)
    amsgrad: vhat = max(vhat, v), used in place of v
    w -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + eps)

Adamax::

    m += (g - m) * (1 - beta_1);  u = max(beta_2 * u, |g|)
    w -= lr * m / ((1 - beta_1**t) * (u + eps))

Nadam (``u_product`` is the scalar optimizer variable ``nadam/variable``,
updated once per step before the per-variable updates)::

    u_t = beta_1 * (1 - 0.5 * 0.96**t);  u_t1 = beta_1 * (1 - 0.5 * 0.96**(t+1))
    u_product *= u_t
    m += (g - m) * (1 - beta_1);  v += (g**2 - v) * (1 - beta_2)
    m_hat = u_t1 * m / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
    w -= lr * m_hat / (sqrt(v / (1 - beta_2**t)) + eps)
"""
import math

import numpy as np

from ckeras import ops
from ckeras.optimizers.base import Optimizer


def _moving_average(avg, target, rate, tmp):
    """avg += (target - avg) * rate, in place, through the scratch buffer ``tmp``."""
    np.subtract(target, avg, out=tmp)
    tmp *= np.float32(rate)
    avg += tmp


class _AdamFamily(Optimizer):
    """The arguments (and config keys) Adam, Adamax and Nadam share."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _own_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adam(_AdamFamily):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, **kwargs)
        self.amsgrad = amsgrad

    def _slot_groups(self):
        groups = [[("momentum", 0.0), ("velocity", 0.0)]]
        if self.amsgrad:
            groups.append([("velocity_hat", 0.0)])
        return groups

    def _update_step(self, index, value, grad, lr):
        t = self.iterations + 1
        b1, b2 = float(self.beta_1), float(self.beta_2)
        lr_t = lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        vhat = self._slots["velocity_hat"][index] if self.amsgrad else None
        ops.adam_update(value, grad, self._slots["momentum"][index],
                        self._slots["velocity"][index], lr_t, b1, b2,
                        float(self.epsilon), vhat)

    def _own_config(self):
        return {**super()._own_config(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. "
                             "Received: weight_decay=None")


class Adamax(_AdamFamily):
    def _slot_groups(self):
        return [[("momentum", 0.0), ("norm", 0.0)]]

    def _n_work(self):
        return 2

    def _update_step(self, index, value, grad, lr):
        t = self.iterations + 1
        b1, b2 = float(self.beta_1), float(self.beta_2)
        m = self._slots["momentum"][index]
        u = self._slots["norm"][index]
        tmp = self._scratch(1, value.shape)
        _moving_average(m, grad, 1.0 - b1, tmp)
        u *= np.float32(b2)
        np.abs(grad, out=tmp)
        np.maximum(u, tmp, out=u)
        np.add(u, np.float32(self.epsilon), out=tmp)
        tmp *= np.float32(1.0 - b1 ** t)
        np.divide(m, tmp, out=tmp)
        tmp *= np.float32(lr)
        value -= tmp


class Nadam(_AdamFamily):
    def _slot_groups(self):
        return [[("momentum", 0.0), ("velocity", 0.0)]]

    def _extra_variables(self):
        return [("variable", 1.0)]      # u_product, saved as "nadam/variable"

    def _n_work(self):
        return 3

    def _pre_update(self, lr):
        t = self.iterations + 1
        u_t = float(self.beta_1) * (1.0 - 0.5 * 0.96 ** t)
        u_product = self._extras["variable"]
        u_product[...] = np.float32(float(u_product) * u_t)

    def _update_step(self, index, value, grad, lr):
        t = self.iterations + 1
        b1, b2 = float(self.beta_1), float(self.beta_2)
        u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
        u_t1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_product_t = float(self._extras["variable"])
        u_product_t1 = u_product_t * u_t1
        m = self._slots["momentum"][index]
        v = self._slots["velocity"][index]
        a = self._scratch(1, value.shape)
        b = self._scratch(2, value.shape)
        # m += (g - m) * (1 - b1);  v += (g^2 - v) * (1 - b2)
        _moving_average(m, grad, 1.0 - b1, a)
        np.multiply(grad, grad, out=b)
        _moving_average(v, b, 1.0 - b2, a)
        # a = m_hat
        np.multiply(m, np.float32(u_t1 / (1.0 - u_product_t1)), out=a)
        np.multiply(grad, np.float32((1.0 - u_t) / (1.0 - u_product_t)), out=b)
        a += b
        # b = sqrt(v_hat) + eps
        np.multiply(v, np.float32(1.0 / (1.0 - b2 ** t)), out=b)
        np.sqrt(b, out=b)
        b += np.float32(self.epsilon)
        a /= b
        a *= np.float32(lr)
        value -= a
