"""History: the per-epoch logs fit() returns, and the learning curves."""
from ckeras.callbacks.base import Callback


class History(Callback):
    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        # Keras 3 reports keys in sorted order.
        self.history = {k: self.history[k] for k in sorted(self.history)}
        if self.model is not None:
            self.model.history = self

    def plot(self, path=None, show=False):
        """Draw loss and every metric, train and validation; see plot_history."""
        from ckeras.utils.plotting import plot_history
        return plot_history(self, path, show=show)
