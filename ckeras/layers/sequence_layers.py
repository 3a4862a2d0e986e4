"""Layers that reshape or mask sequences around recurrent layers:
TimeDistributed, RepeatVector, Masking, Permute (Keras 3 semantics and
configs)."""
import numpy as np

from ckeras.layers.layer import (Layer, as_float32, check_input_ndim, deserialize_layer,
                                 path_prefix_passed_to, serialize_layer, trainable_passed_to)


class TimeDistributed(Layer):
    """Applies ``layer`` to every temporal slice (axis 1) of its input.

    The (batch, time) axes are folded into one batch axis, so the inner layer
    runs once on all slices (one GEMM for a Dense) and shares its weights
    across time. The mask (batch, time) passes through unchanged, as in Keras;
    a mask with more axes is folded the same way and handed to the inner layer.
    """

    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):
            layer = deserialize_layer(layer)
        if not isinstance(layer, Layer):
            raise ValueError("TimeDistributed: `layer` must be a keras layer instance, "
                             f"got {layer!r}.")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True
        self._path_prefix = ""

    trainable = trainable_passed_to("layer")

    def _child_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f"Layer {self.name!r} (TimeDistributed) needs an input with at least 3 "
                f"dimensions (batch, time, ...), got shape {tuple(input_shape)}.")
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        self.layer._maybe_build(self._child_shape(input_shape))
        self._weights = self.layer._weights
        self._set_path_prefix(self._path_prefix)
        self.built = True

    _set_path_prefix = path_prefix_passed_to("layer")

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (inner[0], input_shape[1]) + tuple(inner[1:])

    def compute_mask(self, inputs, mask=None):
        return mask

    def forward(self, x, training=False, mask=None):
        x = np.asarray(x)
        self._child_shape(x.shape)
        B, T = x.shape[:2]
        inner_mask = None
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape[:2] != (B, T):
                raise ValueError(
                    f"Layer {self.name!r} (TimeDistributed): the mask must start with "
                    f"the (batch, timesteps) = {(B, T)} axes of the input, got mask "
                    f"shape {mask.shape}.")
            if mask.ndim > 2:
                inner_mask = mask.reshape((B * T,) + mask.shape[2:])
        y2, back = self.layer.forward(x.reshape((B * T,) + x.shape[2:]), training, inner_mask)
        if isinstance(y2, (list, tuple)):
            raise NotImplementedError(
                f"Layer {self.name!r} (TimeDistributed): the inner layer "
                f"{self.layer.name!r} returns several outputs, which is not supported.")
        y = y2.reshape((B, T) + y2.shape[1:])

        def backward(dy, need_dx=True):
            dy = np.asarray(dy)
            dx = back(dy.reshape((B * T,) + dy.shape[2:]), need_dx)
            return None if dx is None else dx.reshape(x.shape)
        return y, backward

    def get_config(self):
        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects=custom_objects)
        return cls(**config)


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): the input repeated n times."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise TypeError(f"RepeatVector: `n` must be a non-negative integer, got {n!r}.")
        self.n = int(n)

    def _check(self, shape):
        check_input_ndim(self, shape, 2, "batch, features")

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, x, training=False, mask=None):
        x = as_float32(np.asarray(x))
        self._check(x.shape)
        y = np.repeat(x[:, None, :], self.n, axis=1)

        def backward(dy, need_dx=True):
            return np.asarray(dy).sum(axis=1) if need_dx else None
        return y, backward

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Masking(Layer):
    """Masks the timesteps whose features all equal ``mask_value``: their
    outputs become 0 and the mask (batch, time) tells the layers downstream
    (RNNs skip those steps)."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def _keep(self, x):
        return np.any(np.asarray(x) != self.mask_value, axis=-1)

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x, training=False, mask=None):
        x = as_float32(np.asarray(x))
        keep = self._keep(x)[..., None]
        y = np.where(keep, x, 0).astype(x.dtype, copy=False)

        def backward(dy, need_dx=True):
            return np.where(keep, dy, 0).astype(x.dtype, copy=False) if need_dx else None
        return y, backward

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` is a permutation of 1..ndim-1."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(int(d) for d in dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of "
                f"indices in `dims` must be consecutive and start from 1. Received "
                f"dims={dims}")
        self.dims = dims
        self.supports_masking = False

    def _axes(self, ndim):
        if ndim != len(self.dims) + 1:
            raise ValueError(
                f"Layer {self.name!r} (Permute) with dims={self.dims} expects inputs "
                f"with {len(self.dims) + 1} dimensions (batch included), got {ndim}.")
        return (0,) + self.dims

    def compute_output_shape(self, input_shape):
        axes = self._axes(len(input_shape))
        return tuple(input_shape[a] for a in axes)

    def forward(self, x, training=False, mask=None):
        x = np.asarray(x)
        axes = self._axes(x.ndim)
        y = np.ascontiguousarray(x.transpose(axes))
        inverse = tuple(np.argsort(axes))

        def backward(dy, need_dx=True):
            return np.ascontiguousarray(np.asarray(dy).transpose(inverse)) if need_dx else None
        return y, backward

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config
