"""Accumulator-based optimizers — Keras 3 formulas.

Adagrad::

    acc += g**2;  w -= lr * g / sqrt(acc + eps)          (acc starts at 0.1)

Adadelta::

    ag = rho * ag + (1 - rho) * g**2
    delta = -sqrt(adv + eps) * g / sqrt(ag + eps)
    adv = rho * adv + (1 - rho) * delta**2
    w += lr * delta

Ftrl (``p = learning_rate_power``)::

    l2 = l2_regularization_strength + beta / (2 lr)
    new_acc = acc + g**2
    linear += g + 2 * l2_shrinkage * w - (new_acc**-p - acc**-p) / lr * w
    quadratic = new_acc**-p / lr + 2 * l2
    w = (clip(linear, -l1, l1) - linear) / quadratic;  acc = new_acc
"""
import numpy as np

from ckeras import ops
from ckeras.optimizers.base import Optimizer


class Adagrad(Optimizer):
    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _slot_groups(self):
        return [[("accumulator", float(self.initial_accumulator_value))]]

    def _update_step(self, index, value, grad, lr):
        ops.adagrad_update(value, grad, self._slots["accumulator"][index], lr,
                           float(self.epsilon))

    def _own_config(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def _slot_groups(self):
        return [[("accumulated_grad", 0.0), ("accumulated_delta_var", 0.0)]]

    def _n_work(self):
        return 3

    def _update_step(self, index, value, grad, lr):
        rho = np.float32(self.rho)
        one_m_rho = np.float32(1.0 - float(self.rho))
        eps = np.float32(self.epsilon)
        ag = self._slots["accumulated_grad"][index]
        adv = self._slots["accumulated_delta_var"][index]
        a = self._scratch(1, value.shape)
        b = self._scratch(2, value.shape)
        ag *= rho
        np.multiply(grad, grad, out=a)
        a *= one_m_rho
        ag += a
        # a = -delta = sqrt(adv + eps) * g / sqrt(ag + eps)
        np.add(adv, eps, out=a)
        np.sqrt(a, out=a)
        a *= grad
        np.add(ag, eps, out=b)
        np.sqrt(b, out=b)
        a /= b
        adv *= rho
        np.multiply(a, a, out=b)
        b *= one_m_rho
        adv += b
        a *= np.float32(lr)
        value -= a

    def _own_config(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


class Ftrl(Optimizer):
    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if initial_accumulator_value < 0.0:
            raise ValueError(
                "`initial_accumulator_value` needs to be positive or zero. "
                f"Received: initial_accumulator_value={initial_accumulator_value}.")
        if learning_rate_power > 0.0:
            raise ValueError(
                "`learning_rate_power` needs to be negative or zero. Received: "
                f"learning_rate_power={learning_rate_power}.")
        for key, val in (("l1_regularization_strength", l1_regularization_strength),
                         ("l2_regularization_strength", l2_regularization_strength),
                         ("l2_shrinkage_regularization_strength",
                          l2_shrinkage_regularization_strength)):
            if val < 0.0:
                raise ValueError(f"`{key}` needs to be positive or zero. "
                                 f"Received: {key}={val}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def _slot_groups(self):
        return [[("accumulator", float(self.initial_accumulator_value)),
                 ("linear", 0.0)]]

    def _n_work(self):
        return 4

    def _update_step(self, index, value, grad, lr):
        power = np.float32(-float(self.learning_rate_power))
        l1 = np.float32(self.l1_regularization_strength)
        l2 = float(self.l2_regularization_strength) + float(self.beta) / (2.0 * lr)
        shrink = float(self.l2_shrinkage_regularization_strength)
        acc = self._slots["accumulator"][index]
        linear = self._slots["linear"][index]
        a = self._scratch(1, value.shape)
        b = self._scratch(2, value.shape)
        c = self._scratch(3, value.shape)
        inv_lr = np.float32(1.0 / lr)
        np.power(acc, power, out=a)                 # acc^-p (old)
        np.multiply(grad, grad, out=b)
        acc += b                                    # acc is now new_acc
        np.power(acc, power, out=b)                 # new_acc^-p
        np.subtract(b, a, out=a)
        a *= inv_lr
        a *= value                                  # sigma * w
        linear += grad
        if shrink:
            np.multiply(value, np.float32(2.0 * shrink), out=c)
            linear += c
        linear -= a
        b *= inv_lr                                 # quadratic
        b += np.float32(2.0 * l2)
        np.clip(linear, -l1, l1, out=a)
        a -= linear
        np.divide(a, b, out=value)

    def _own_config(self):
        return {"learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
