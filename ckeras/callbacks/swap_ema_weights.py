"""SwapEMAWeights: evaluate with the optimizer's moving average of the weights."""
from ckeras.callbacks.base import Callback


class SwapEMAWeights(Callback):
    """Keras swaps in the exponential moving average an optimizer with
    ``use_ema=True`` keeps. ckeras's optimizers keep no such average
    (``use_ema=True`` is refused when the optimizer is made), so ``fit``,
    ``evaluate`` or ``predict`` with this callback raises a ValueError
    saying so, rather than evaluating the plain weights unannounced."""

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch

    def _refuse(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        raise ValueError(
            "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
            f"Received: use_ema={getattr(optimizer, 'use_ema', False)}. ckeras's "
            "optimizers do not keep a moving average of the weights (use_ema=True is not "
            "supported), so there are no EMA weights to swap in.")

    on_train_begin = on_test_begin = on_predict_begin = _refuse
