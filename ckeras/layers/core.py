"""Core layers: InputLayer/Input, Dense, Activation, Dropout, Flatten, Reshape."""
import numpy as np

from ckeras import activations, ops, regularizers
from ckeras import random as ck_random
from ckeras.layers.keras_tensor import KerasTensor, Node
from ckeras.layers.layer import Layer, as_float32, batch_shape_of, dtype_name
from ckeras.layers.weight_options import add_weight_with_options, config_values, set_weight_options


def check_last_dim(layer, x, expected):
    if x.ndim < 2 or x.shape[-1] != expected:
        raise ValueError(
            f"Input 0 of layer {layer.name!r} ({type(layer).__name__}) is "
            f"incompatible with the layer: expected axis -1 of the input to have "
            f"value {expected}, but received input with shape {x.shape}.")


class InputLayer(Layer):
    """The entry point of a model; holds the batch shape and dtype."""

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None,
                 name=None, input_shape=None, batch_input_shape=None, **kwargs):
        kwargs.pop("input_tensor", None)
        super().__init__(name=name or None, dtype=dtype, **kwargs)
        if batch_shape is None:
            batch_shape = batch_input_shape
        if batch_shape is None:
            shape = shape if shape is not None else input_shape
            if shape is None:
                raise ValueError("InputLayer needs `shape` (without the batch "
                                 "dimension) or `batch_shape`.")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        from ckeras.utils.arg_checks import check_dims
        check_dims(tuple(batch_shape), "shape", f"Input {self.name!r}")
        self.batch_shape = batch_shape_of(batch_shape)
        self.dtype = dtype_name(dtype) or "float32"
        self.output_dtype = self.dtype
        self.built = True
        self.supports_masking = True
        tensor = KerasTensor(self.batch_shape, self.dtype, (self, 0, 0), name=self.name)
        self._inbound_nodes.append(Node(self, [], tensor, {}))

    def forward(self, x, training=False, mask=None):
        return x, lambda dy, need_dx=True: dy

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype,
                "sparse": False, "ragged": False, "name": self.name,
                "optional": False}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None,
          **kwargs):
    """A symbolic input tensor, as ``keras.Input``."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype,
                       batch_shape=batch_shape, name=name, **kwargs)
    return layer.output


class Dense(Layer):
    """y = activation(x @ kernel + bias), over the last axis of any-rank input."""

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense: `units` must be a positive integer, got {units!r}.")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_options(self, "kernel", kernel_initializer, kernel_regularizer,
                           kernel_constraint)
        set_weight_options(self, "bias", bias_initializer, bias_regularizer, bias_constraint)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.supports_masking = True

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Layer {self.name!r} (Dense): the last dimension of "
                             f"its input must be known, got shape {input_shape}.")
        self.kernel = add_weight_with_options(self, "kernel", (in_dim, self.units))
        self.bias = None
        if self.use_bias:
            self.bias = add_weight_with_options(self, "bias", (self.units,))
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False, mask=None):
        return self._dense(x, self.activation)

    def forward_logits(self, x, training=False, mask=None):
        """Forward without the activation: the trainer fuses it into the loss."""
        return self._dense(x, None)

    def _dense(self, x, activation):
        x = as_float32(x)
        kernel = self.kernel.value
        check_last_dim(self, x, kernel.shape[0])
        lead = x.shape[:-1]
        x2 = x.reshape(-1, kernel.shape[0])
        bias = self.bias.value if self.bias is not None else None
        bias_grad = (lambda: self.bias.grad) if self.bias is not None else (lambda: None)
        if activation is None or activation.fusable:
            name = activation.name if activation is not None else "linear"
            y2 = ops.dense(x2, kernel, bias, name)

            def backward(dy, need_dx=True):
                dk, fresh = self.kernel.grad_for_overwrite()
                dx = ops.dense_backward(dy.reshape(y2.shape), x2, y2, kernel, name,
                                        dk, bias_grad(), need_dx, fresh)
                return dx.reshape(x.shape) if need_dx else None
        else:
            z2 = ops.dense(x2, kernel, bias, "linear")
            y2 = activation.forward(z2)

            def backward(dy, need_dx=True):
                dz = activation.backward(dy.reshape(y2.shape), z2, y2)
                dk, fresh = self.kernel.grad_for_overwrite()
                dx = ops.dense_backward(dz, x2, z2, kernel, "linear",
                                        dk, bias_grad(), need_dx, fresh)
                return dx.reshape(x.shape) if need_dx else None
        return y2.reshape(lead + (self.units,)), backward

    def get_config(self):
        config = super().get_config()
        config.update(config_values(self, (
            "units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
            "kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint")))
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config


class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        y = self.activation.forward(x)

        def backward(dy, need_dx=True):
            return self.activation.backward(dy, x, y)
        return y, backward

    def forward_logits(self, x, training=False, mask=None):
        return as_float32(x), lambda dy, need_dx=True: dy

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Zeroes a ``rate`` fraction of inputs in training, scaling the rest by
    1/(1-rate); the identity at inference."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        from ckeras.utils.arg_checks import check_rate
        self.rate = check_rate(rate, "rate", "Dropout")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = ck_random.generator(seed) if seed is not None else None
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def _noise_shape(self, x):
        if self.noise_shape is None:
            return x.shape
        return tuple(x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))

    def forward(self, x, training=False, mask=None):
        if not training or self.rate == 0:
            return x, lambda dy, need_dx=True: dy
        rng = self._rng or ck_random.global_generator()
        keep = rng.random(self._noise_shape(x), dtype=np.float32) >= self.rate
        scale = np.float32(1.0 / (1.0 - self.rate))
        factor = keep * scale
        y = x * factor

        def backward(dy, need_dx=True):
            return dy * factor
        return y.astype(x.dtype, copy=False), backward

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate,
                       "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
                       "seed": self.seed})
        return config


class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def forward(self, x, training=False, mask=None):
        if self.data_format == "channels_first" and x.ndim > 2:
            # Keras flattens channels_first input in channels_last order.
            xt = np.moveaxis(x, 1, -1)
            y = np.ascontiguousarray(xt).reshape(x.shape[0], -1)

            def backward(dy, need_dx=True):
                return np.ascontiguousarray(
                    np.moveaxis(dy.reshape(xt.shape), -1, 1))
            return y, backward
        y = x.reshape(x.shape[0], -1)
        return y, lambda dy, need_dx=True: dy.reshape(x.shape)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"Reshape: at most one -1 in target_shape, got {self.target_shape}.")

    def _resolve(self, input_shape):
        size = int(np.prod(input_shape[1:], dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        if -1 in self.target_shape:
            if known == 0 or size % known:
                raise ValueError(f"Layer {self.name!r}: cannot reshape input of shape "
                                 f"{tuple(input_shape)} to {self.target_shape}.")
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise ValueError(f"Layer {self.name!r}: cannot reshape input of shape "
                             f"{tuple(input_shape)} (size {size} per sample) to "
                             f"{self.target_shape} (size {known}).")
        return self.target_shape

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape[1:]):
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        return (input_shape[0],) + self._resolve(input_shape)

    def forward(self, x, training=False, mask=None):
        y = x.reshape((x.shape[0],) + self._resolve(x.shape))
        return y, lambda dy, need_dx=True: dy.reshape(x.shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config
