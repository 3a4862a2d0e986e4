"""ReduceLROnPlateau: shrink the learning rate when a metric stalls."""
import warnings

import numpy as np

from ckeras.callbacks.base import Callback
from ckeras.distribute.context import is_secondary
from ckeras.utils.io_utils import print_msg


class ReduceLROnPlateau(Callback):
    """After ``patience`` epochs without an improvement larger than
    ``min_delta``, multiply the rate by ``factor`` (not below ``min_lr``),
    then wait ``cooldown`` epochs before counting again.

    As Keras 3: ``mode='auto'`` maximises when the monitor name contains
    "acc" and minimises otherwise; the current rate (before any reduction
    this epoch) is written to ``logs['learning_rate']`` every epoch.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0,
                 mode="auto", min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._reset()

    def _reset(self):
        if self.mode not in ("auto", "min", "max"):
            warnings.warn(f"Learning rate reduction mode {self.mode} is unknown, "
                          "fallback to auto mode.", stacklevel=2)
            self.mode = "auto"
        self._maximize = self.mode == "max" or (self.mode == "auto" and "acc" in self.monitor)
        self.best = -np.inf if self._maximize else np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def _improved(self, current):
        if self._maximize:
            return current > self.best + self.min_delta
        return current < self.best - self.min_delta

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        opt = self.model.optimizer
        logs["learning_rate"] = float(opt.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn("Learning rate reduction is conditioned on metric "
                          f"`{self.monitor}` which is not available. Available "
                          f"metrics are: {','.join(logs)}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(opt.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    opt.learning_rate = new_lr
                    if self.verbose > 0 and not is_secondary():
                        print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing "
                              f"learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
