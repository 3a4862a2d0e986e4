"""Callback base class and the list that dispatches hooks to many callbacks."""


class Callback:
    """Override any hook; ``self.model`` and ``self.params`` are set by fit().

    ``params`` is ``{"verbose", "epochs", "steps"}`` as in Keras (``steps`` is
    None for a data source of unknown length). Setting
    ``self.model.stop_training = True`` ends fit after the current batch (the
    epoch is closed: validation and ``on_epoch_end`` still run, as in Keras).
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # tf.keras 2 spellings: as in Keras 3, the train-batch hooks forward to
    # them by default, so overriding either name works (not both without super).
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)


_HOOKS = frozenset(name for name in vars(Callback) if name.startswith("on_"))
_INDEXED_HOOKS = frozenset(h for h in _HOOKS if "batch" in h or "epoch" in h)


class CallbackList:
    """Calls a hook on every callback in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        self.model = model
        self.params = params
        for cb in self.callbacks:
            if not hasattr(cb, "on_train_begin"):
                raise TypeError(f"callbacks must be keras.callbacks.Callback instances, "
                                f"got {type(cb).__name__}.")
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook):
        # Every hook is called as Keras's CallbackList does: positionally,
        # with a logs dict (never None), so plain lambdas work as hooks.
        if hook not in _HOOKS:
            raise AttributeError(hook)
        callbacks = self.callbacks
        indexed = hook in _INDEXED_HOOKS

        def dispatch(*args, logs=None):
            if indexed:
                index, rest = args[0], args[1:]
            else:
                index, rest = None, args
            if rest:
                logs = rest[0]
            if logs is None:
                logs = {}
            for cb in callbacks:
                if indexed:
                    getattr(cb, hook)(index, logs)
                else:
                    getattr(cb, hook)(logs)
        return dispatch
