"""EarlyStopping: stop fit when a monitored quantity stops improving."""
import warnings

from ckeras.callbacks.base import Callback
from ckeras.callbacks.monitor import check_mode, infer_direction
from ckeras.distribute.context import is_secondary
from ckeras.utils.io_utils import print_msg


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    Follows Keras 3 step by step:

    * an epoch improves when ``current + min_delta < best`` (mode 'min') or
      ``current - min_delta > best`` (mode 'max'); the first monitored epoch
      always improves. ``mode='auto'`` minimises losses and maximises
      accuracy-like metrics (ValueError for a metric it cannot classify).
    * every monitored epoch adds 1 to ``wait``; an improvement resets it to 0
      only if it also beats ``baseline`` (when given). Training stops when
      ``wait >= patience`` on a non-improving epoch after the first.
    * epochs before ``start_from_epoch`` are not monitored.
    * ``restore_best_weights=True``: the weights of the best epoch are
      restored in ``on_train_end`` -- whether training stopped early **or**
      ran to ``epochs`` (Keras 3 does the same; tf.keras 2 restored only when
      it stopped early). If no epoch beats ``baseline``, training runs for
      ``patience`` epochs and the best of them is restored.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0,
                 mode="auto", baseline=None, restore_best_weights=False,
                 start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = check_mode(self, mode)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0
        self._direction = None   # 'min' / 'max', resolved once metrics exist

    def on_train_begin(self, logs=None):
        # Reusable across fit() calls, as in Keras.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        if self._direction == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_epoch_end(self, epoch, logs=None):
        if self._direction is None:
            self._direction = infer_direction(self, self.model, self.monitor, self.mode)
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0 and not is_secondary():
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0 and not is_secondary():
                print_msg("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` "
                          "which is not available. Available metrics are: "
                          f"{','.join(logs)}", stacklevel=2)
        return value
