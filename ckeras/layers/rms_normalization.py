"""RMSNormalization: ``x * rsqrt(mean(x², axis) + epsilon) * scale`` (Zhang &
Sennrich 2019; Keras 3's layer: no centring, no beta, epsilon 1e-6)."""
import numpy as np

from ckeras.layers.einsum_dense import sum_to_shape
from ckeras.layers.layer import Layer, as_float32


class RMSNormalization(Layer):
    """``axis``: an int or a list of ints; the ``scale`` weight has the sizes
    of those axes and broadcasts as Keras broadcasts it (against the trailing
    axes of the input)."""

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, (int, np.integer))
                           for a in axes):
            raise TypeError(f"RMSNormalization {self.name!r}: `axis` must be an int or a "
                            f"list of ints, got {axis!r}.")
        if not epsilon >= 0:
            raise ValueError(f"RMSNormalization {self.name!r}: `epsilon` must be >= 0, "
                             f"got {epsilon!r}.")
        # Keras keeps the int until build, then a sorted list (its config follows).
        self.axis = sorted(int(a) for a in axes) if isinstance(axis, (list, tuple)) \
            else int(axis)
        self.epsilon = epsilon
        self.supports_masking = True
        self.scale = None

    def _axes(self, ndim):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(f"Layer {self.name!r} (RMSNormalization): axis {a} is out "
                                 f"of bounds for inputs of rank {ndim}. Received: "
                                 f"axis={self.axis}")
        return tuple(sorted({a % ndim for a in axes}))

    def build(self, input_shape):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        self._axes(len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f"Layer {self.name!r} (RMSNormalization): the normalised axes "
                             f"{axes} must have known sizes, got {tuple(input_shape)}.")
        try:
            np.broadcast_shapes(tuple(1 if d is None else d for d in input_shape), shape)
        except ValueError:
            raise ValueError(f"Layer {self.name!r} (RMSNormalization): the scale of shape "
                             f"{shape} (axes {axes}) does not broadcast against inputs of "
                             f"shape {tuple(input_shape)} (it lines up with the trailing "
                             "axes, as in Keras).") from None
        self.axis = axes
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")
        self.built = True

    def compute_output_shape(self, input_shape):
        self._axes(len(input_shape))
        return input_shape

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        axes = self._axes(x.ndim)
        scale = self.scale.value
        r = 1.0 / np.sqrt(np.mean(x * x, axis=axes, keepdims=True) + self.epsilon)
        xr = x * r
        y = xr * scale

        def backward(dy, need_dx=True):
            if self.trainable:
                self.scale.grad += sum_to_shape(dy * xr, scale.shape)
            if not need_dx:
                return None
            g = dy * scale
            # y = x r with dr/dx = -r³ x / n over the normalised axes.
            return g * r - x * (r * r * r) * np.mean(g * x, axis=axes, keepdims=True)
        return y, backward

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config
