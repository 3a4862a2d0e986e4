"""Pass-through layers: Identity, and ActivityRegularization (the identity
whose output carries an L1/L2 activity penalty)."""
from ckeras import regularizers
from ckeras.layers.layer import Layer


class Identity(Layer):
    """y = x (any structure of arrays)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, x, training=False, mask=None):
        return x, lambda dy, need_dx=True: dy if need_dx else None


class ActivityRegularization(Identity):
    """y = x, adding l1 * sum|y| + l2 * sum y^2 to the training loss."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)   # always L1L2(l1, l2)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = float(l1)
        self.l2 = float(l2)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config
