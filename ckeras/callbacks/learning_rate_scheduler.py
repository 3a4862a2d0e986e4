"""LearningRateScheduler: set the optimizer's rate at the start of each epoch."""
import numpy as np

from ckeras.callbacks.base import Callback
from ckeras.distribute.context import is_secondary
from ckeras.utils.io_utils import print_msg


def _optimizer(callback):
    opt = getattr(callback.model, "optimizer", None)
    if opt is None or not hasattr(opt, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute.')
    return opt


class LearningRateScheduler(Callback):
    """``schedule(epoch, lr) -> new lr`` (0-based epoch; the one-argument
    ``schedule(epoch)`` of old Keras is accepted too). The rate in force
    during the epoch is logged as ``learning_rate`` at its end."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        opt = _optimizer(self)
        try:
            lr = self.schedule(epoch, float(opt.learning_rate))
        except TypeError:  # schedule(epoch), as Keras falls back
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.floating)):
            raise ValueError("The output of the `schedule` function should be a float. "
                             f"Got: {lr}")
        opt.learning_rate = lr
        if self.verbose > 0 and not is_secondary():
            print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning "
                  f"rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(_optimizer(self).learning_rate)
