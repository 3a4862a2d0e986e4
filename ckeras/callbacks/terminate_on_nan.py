"""TerminateOnNaN: stop training as soon as a batch loss is NaN or infinite."""
import math

from ckeras.callbacks.base import Callback
from ckeras.distribute.context import is_secondary
from ckeras.utils.io_utils import print_msg


class TerminateOnNaN(Callback):
    """Checks the running ``loss`` after every training batch. By default it
    sets ``model.stop_training`` (the epoch is closed and ``on_train_end``
    runs); ``raise_error=True`` raises RuntimeError at once instead."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(loss) or math.isinf(loss):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. "
                                   f"Loss value: {loss}. Terminating training immediately.")
            if not is_secondary():
                print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
