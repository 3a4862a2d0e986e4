"""Weight initializers (Keras 3 names, defaults, fan computation and configs).

``init(shape, dtype="float32") -> np.ndarray``. Random initializers draw from
``ckeras.random.generator(seed)``: with ``seed=None`` that is the process-wide
generator (so ``ckeras.utils.set_random_seed`` makes runs reproducible and
successive calls differ); with an integer seed every call returns the same
values, as Keras 3 documents for seeded initializers.
"""
import math

import numpy as np

from ckeras import random as ck_random
from ckeras import registry

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal",
    "HeUniform", "HeNormal", "LecunUniform", "LecunNormal", "OrthogonalInitializer",
    "Orthogonal", "Identity", "IdentityInitializer", "compute_fans",
    "get", "serialize", "deserialize",
    "zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal",
    "variance_scaling", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
    "lecun_uniform", "lecun_normal", "orthogonal", "identity",
]

# std of a unit normal truncated to [-2, 2]: VarianceScaling divides by it so
# the truncated draw has the requested variance.
_TRUNC_STD = 0.87962566103423978


def _dtype(dtype):
    return np.dtype("float32" if dtype is None else dtype)


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _axes(axes, ndim):
    axes = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    return sorted({int(a) % ndim for a in axes})


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) as Keras: conv kernels (..., in, out) count the receptive field.

    ``input_axes`` / ``output_axes`` (Keras 3.15, default None = the last two
    axes) name the axes holding the input and output units; every other axis
    counts as receptive field.
    """
    shape = _shape(shape)
    if (input_axes is not None or output_axes is not None) and len(shape) >= 2:
        ins = _axes(-2 if input_axes is None else input_axes, len(shape))
        outs = _axes(-1 if output_axes is None else output_axes, len(shape))
        in_size = math.prod(shape[a] for a in ins)
        out_size = math.prod(shape[a] for a in outs)
        receptive = math.prod(shape[a] for a in range(len(shape)) if a not in ins + outs)
        return int(in_size * receptive), int(out_size * receptive)
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive = math.prod(shape[:-2])
        fan_in = shape[-2] * receptive
        fan_out = shape[-1] * receptive
    return int(fan_in), int(fan_out)


def _truncated_normal(rng, shape, mean, stddev, dtype):
    """Normal(mean, stddev) with draws beyond 2 stddev redrawn (TF/Keras semantics)."""
    draw_dtype = dtype if dtype in (np.float32, np.float64) else np.float64
    z = rng.standard_normal(shape, dtype=draw_dtype)
    flat = z.reshape(-1)
    bad = np.flatnonzero(np.abs(flat) > 2.0)
    while bad.size:
        flat[bad] = rng.standard_normal(bad.size, dtype=draw_dtype)
        bad = bad[np.abs(flat[bad]) > 2.0]
    return (z * stddev + mean).astype(dtype, copy=False)


def _normal(rng, shape, mean, stddev, dtype):
    draw_dtype = dtype if dtype in (np.float32, np.float64) else np.float64
    z = rng.standard_normal(shape, dtype=draw_dtype)
    return (z * stddev + mean).astype(dtype, copy=False)


def _uniform(rng, shape, minval, maxval, dtype):
    draw_dtype = dtype if dtype in (np.float32, np.float64) else np.float64
    u = rng.random(shape, dtype=draw_dtype)
    return (u * (maxval - minval) + minval).astype(dtype, copy=False)


def _seed_value(seed):
    # Keras 3 may serialise a SeedGenerator as a dict; keep the integer inside.
    if isinstance(seed, dict):
        inner = seed.get("config", seed)
        seed = inner.get("seed") if isinstance(inner, dict) else None
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise ValueError(f"`seed` argument should be an integer or None. Received: seed={seed!r}")
    return None if seed is None else int(seed)




class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)  # very old (tf.keras 1) configs carried it
        return cls(**registry.known_kwargs(cls, config, "Initializer"))

    def clone(self):
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        return registry.config_repr(self)

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = object.__hash__


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(_shape(shape), _dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(_shape(shape), _dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0.0):
        if isinstance(value, np.ndarray):
            value = value.tolist()
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.broadcast_to(np.asarray(self.value, _dtype(dtype)), _shape(shape)).copy()

    def get_config(self):
        return {"value": self.value}


class RandomInitializer(Initializer):
    def __init__(self, seed=None):
        self.seed = _seed_value(seed)

    def _rng(self):
        return ck_random.generator(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return _normal(self._rng(), _shape(shape), self.mean, self.stddev, _dtype(dtype))

    def get_config(self):
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal(mean, stddev); values more than 2 stddev from the mean are redrawn."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return _truncated_normal(self._rng(), _shape(shape), self.mean, self.stddev,
                                 _dtype(dtype))

    def get_config(self):
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return _uniform(self._rng(), _shape(shape), self.minval, self.maxval, _dtype(dtype))

    def get_config(self):
        return {"seed": self.seed, "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """stddev (or uniform limit) scaled by fan_in, fan_out or their mean."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if not scale > 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        modes = ("fan_in", "fan_out", "fan_avg")
        if mode not in modes:
            raise ValueError(f"Invalid `mode` argument: {mode!r}. Please use one of {modes}.")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        dists = ("uniform", "truncated_normal", "untruncated_normal")
        if distribution not in dists:
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}. "
                             f"Please use one of {dists}.")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        if self.mode == "fan_in":
            scale = self.scale / max(1.0, fan_in)
        elif self.mode == "fan_out":
            scale = self.scale / max(1.0, fan_out)
        else:
            scale = self.scale / max(1.0, (fan_in + fan_out) / 2.0)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            return _truncated_normal(rng, shape, 0.0, math.sqrt(scale) / _TRUNC_STD, dtype)
        if self.distribution == "untruncated_normal":
            return _normal(rng, shape, 0.0, math.sqrt(scale), dtype)
        limit = math.sqrt(3.0 * scale)
        return _uniform(rng, shape, -limit, limit, dtype)

    def get_config(self):
        return {"seed": self.seed, "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    _args = None  # (scale, mode, distribution)

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(*self._args, seed=seed, input_axes=input_axes,
                         output_axes=output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """U(-l, l), l = sqrt(6 / (fan_in + fan_out))."""
    _args = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    _args = (1.0, "fan_avg", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    _args = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    _args = (1.0, "fan_in", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    _args = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    _args = (2.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix from the QR of a normal draw, times ``gain``.

    Shapes of rank > 2 are flattened to (prod(shape[:-1]), shape[-1]).
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _dtype(dtype)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows = math.prod(shape[:-1])
        cols = shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))  # makes the distribution uniform over orthogonal matrices
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dtype)

    def get_config(self):
        return {"seed": self.seed, "gain": self.gain}


OrthogonalInitializer = Orthogonal


class Identity(Initializer):
    """gain * eye(rows, cols); 2-D shapes only."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


IdentityInitializer = Identity


# Keras 3 exports each class under its snake-case name too (the class itself).
(zeros, ones, constant, random_normal, random_uniform, truncated_normal, variance_scaling,
 glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal,
 orthogonal, identity) = (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
                          VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal,
                          LecunUniform, LecunNormal, Orthogonal, Identity)

_CLASSES = [Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
            VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal,
            LecunUniform, LecunNormal, Orthogonal, Identity]

_BUILTINS = {}
for _cls in _CLASSES:
    _BUILTINS[_cls.__name__] = _cls
    _BUILTINS[registry.to_snake_case(_cls.__name__)] = _cls
_BUILTINS.update({
    "OrthogonalInitializer": Orthogonal, "orthogonal_initializer": Orthogonal,
    "IdentityInitializer": Identity, "identity": Identity,
    "uniform": RandomUniform, "normal": RandomNormal,
    "zero": Zeros, "one": Ones,
})
del _cls


def get(identifier, custom_objects=None):
    """None -> None; str / dict / class / instance / callable -> an initializer."""
    return registry.get_object(identifier, _BUILTINS, "initializer", custom_objects)


def serialize(initializer):
    """Keras 3 dict form: {"module": "keras.initializers", "class_name", "config", ...}."""
    if initializer is not None and not isinstance(initializer, Initializer) and not hasattr(initializer, "get_config"):
        raise ValueError(f"Cannot serialize initializer {initializer!r}: it has no "
                         "get_config(). Subclass ckeras.initializers.Initializer.")
    return registry.serialize(initializer, "keras.initializers")


def deserialize(config, custom_objects=None):
    return get(config, custom_objects=custom_objects)
