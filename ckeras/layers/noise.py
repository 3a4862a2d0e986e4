"""Noise layers, active only when ``training=True`` and the identity otherwise:
SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout.

Randomness comes from ``ckeras.random``: a layer built with ``seed`` owns a
generator seeded once (the same seed gives the same sequence of masks, call
after call), otherwise it draws from the global generator that
``ckeras.utils.set_random_seed`` reseeds.
"""
import math

import numpy as np

from ckeras import random as ck_random
from ckeras.layers.core import Dropout
from ckeras.layers.layer import Layer, as_float32, check_input_ndim


def _identity(x):
    return x, lambda dy, need_dx=True: dy if need_dx else None


def _check_rate(cls_name, rate):
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)) \
            or not 0 <= rate < 1:
        raise ValueError(f"{cls_name}: `rate` must be a float in [0, 1), got {rate!r}.")
    return float(rate)


def _noise_dtype(x):
    # float64 only flows through in gradient checks; everything else is float32.
    return np.float64 if x.dtype == np.float64 else np.float32


class _SeededNoise(Layer):
    """Holds the seed and picks the generator at call time."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._rng = ck_random.generator(seed) if seed is not None else None
        self.supports_masking = True

    def _generator(self):
        return self._rng or ck_random.global_generator()

    def compute_output_shape(self, input_shape):
        return input_shape


# ---- spatial dropout -------------------------------------------------------------

def _data_format(cls_name, data_format):
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{cls_name}: `data_format` must be 'channels_last' or "
                         f"'channels_first', got {data_format!r}.")
    return data_format


class _SpatialDropout(Dropout):
    """Dropout whose mask is shared over the spatial axes: whole channels drop."""

    _rank = None

    def __init__(self, rate, seed=None, **kwargs):
        # tf.keras 2 configs carry Dropout's noise_shape (always null here).
        kwargs.pop("noise_shape", None)
        super().__init__(_check_rate(type(self).__name__, rate), seed=seed, **kwargs)

    def _channels_axis(self):
        return -1

    def _noise_shape(self, x):
        shape = [1] * x.ndim
        shape[0] = x.shape[0]
        axis = self._channels_axis() % x.ndim
        shape[axis] = x.shape[axis]
        return tuple(shape)

    def forward(self, x, training=False, mask=None):
        check_input_ndim(self, x.shape, self._rank)
        return super().forward(x, training, mask)

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape", None)   # Keras 3 spatial dropouts do not take it
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops entire channels of (batch, steps, channels) inputs: one mask per
    (sample, channel), shared over all time steps."""

    _rank = 3


class _SpatialDropoutND(_SpatialDropout):

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = _data_format(type(self).__name__, data_format)

    def _channels_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class SpatialDropout2D(_SpatialDropoutND):
    """Drops entire feature maps of 4-D inputs (mask shape (batch, 1, 1, C),
    or (batch, C, 1, 1) for channels_first)."""

    _rank = 4


class SpatialDropout3D(_SpatialDropoutND):
    """Drops entire feature volumes of 5-D inputs."""

    _rank = 5


# ---- Gaussian noise ----------------------------------------------------------------

class GaussianNoise(_SeededNoise):
    """Adds N(0, stddev²) noise in training. (Keras 3 also rejects stddev > 1;
    we accept any non-negative value so tf.keras 2 models still load.)"""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if isinstance(stddev, bool) or not isinstance(
                stddev, (int, float, np.integer, np.floating)) or not stddev >= 0:
            raise ValueError(f"GaussianNoise: `stddev` must be a non-negative float, "
                             f"got {stddev!r}.")
        self.stddev = float(stddev)

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        if not training or self.stddev == 0:
            return _identity(x)
        noise = self._generator().standard_normal(x.shape, dtype=_noise_dtype(x))
        noise *= self.stddev
        return x + noise, lambda dy, need_dx=True: dy if need_dx else None

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_SeededNoise):
    """Multiplies by N(1, rate / (1 - rate)) noise in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate("GaussianDropout", rate)

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        if not training or self.rate == 0:
            return _identity(x)
        factor = self._generator().standard_normal(x.shape, dtype=_noise_dtype(x))
        factor *= math.sqrt(self.rate / (1.0 - self.rate))
        factor += 1.0

        def backward(dy, need_dx=True):
            return dy * factor if need_dx else None
        return x * factor, backward

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class AlphaDropout(_SeededNoise):
    """Dropout for SELU networks: dropped units become SELU's negative
    saturation value, then an affine map restores the mean and variance."""

    _ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate("AlphaDropout", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def _noise_shape(self, x):
        if self.noise_shape is None:
            return x.shape
        if len(self.noise_shape) != x.ndim:
            raise ValueError(f"Layer {self.name!r} (AlphaDropout): noise_shape "
                             f"{self.noise_shape} does not match input rank {x.ndim}.")
        return tuple(x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        if not training or self.rate == 0:
            return _identity(x)
        rate, alpha_p = self.rate, self._ALPHA_P
        a = ((1.0 - rate) * (1.0 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        dtype = _noise_dtype(x)
        keep = (self._generator().random(self._noise_shape(x), dtype=dtype) >= rate).astype(dtype)
        # a * (x * keep + alpha_p * (1 - keep)) + b
        y = x * (a * keep) + (a * alpha_p * (1.0 - keep) + b).astype(dtype)

        def backward(dy, need_dx=True):
            return dy * (a * keep) if need_dx else None
        return y.astype(x.dtype, copy=False), backward

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed,
                       "noise_shape": None if self.noise_shape is None else list(self.noise_shape)})
        return config
