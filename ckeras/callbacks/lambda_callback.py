"""LambdaCallback: a callback assembled from plain functions."""
from ckeras.callbacks.base import Callback, _HOOKS


class LambdaCallback(Callback):
    """Each argument replaces the hook of the same name, e.g.
    ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``. As in Keras,
    any other hook (``on_test_begin=...``, ``on_batch_end=...``) may be
    passed as a keyword argument."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None,
                 on_train_batch_end=None, **kwargs):
        super().__init__()
        unknown = [k for k in kwargs if k.startswith("on_") and k not in _HOOKS]
        if unknown:
            raise ValueError(f"LambdaCallback: unknown hook(s) {unknown}; hooks are "
                             f"{sorted(_HOOKS)}.")
        self.__dict__.update(kwargs)
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end}
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
