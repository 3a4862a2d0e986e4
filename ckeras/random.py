"""The process-wide random generator behind initializers, Dropout and shuffling.

``ckeras.utils.set_random_seed(s)`` reseeds it, so the same seed and thread
count give bitwise-identical training.
"""
import numpy as np

_generator = np.random.default_rng()


def global_generator():
    return _generator


def set_seed(seed):
    global _generator
    _generator = np.random.default_rng(seed)
    # Legacy code paths (and users) that call np.random directly follow too.
    np.random.seed(seed % (2 ** 32))


def generator(seed=None):
    """A generator of its own for an explicit seed, else the global one."""
    return _generator if seed is None else np.random.default_rng(seed)


# ---- keras.random ------------------------------------------------------------------

class SeedGenerator:
    """Keras 3's seed state: each draw that is given it advances it, so
    repeated calls differ while the whole run stays reproducible."""

    def __init__(self, seed=None, **kwargs):
        self._rng = np.random.default_rng(seed) if seed is not None else \
            np.random.default_rng(_generator.integers(2 ** 63))

    def next(self, ordered=True):
        return int(self._rng.integers(2 ** 63))


def _rng(seed):
    """An int seed draws the same values every call (Keras's stateless
    seeds); a SeedGenerator advances; None uses the global generator."""
    if seed is None:
        return _generator
    if isinstance(seed, SeedGenerator):
        return seed._rng
    return np.random.default_rng(int(seed))


def _floatx(dtype):
    return np.dtype("float32" if dtype is None else dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    return _rng(seed).normal(mean, stddev, tuple(shape)).astype(_floatx(dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    return _rng(seed).uniform(minval, maxval, tuple(shape)).astype(_floatx(dtype))


def _float_dtype(dtype, fn):
    out = _floatx(dtype)
    if out.kind != "f":
        raise ValueError(f"keras.random.{fn}: only floating point dtypes are supported, "
                         f"got dtype={dtype!r}.")
    return out


def gamma(shape, alpha, dtype=None, seed=None):
    """Gamma(alpha) draws with unit scale (Keras's parametrisation)."""
    return _rng(seed).gamma(np.asarray(alpha, np.float64), 1.0,
                            tuple(shape)).astype(_float_dtype(dtype, "gamma"))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Successes in ``counts`` trials of probability ``probabilities`` (both
    broadcast against ``shape``), as floats like Keras's."""
    return _rng(seed).binomial(np.asarray(counts, np.int64),
                               np.asarray(probabilities, np.float64),
                               tuple(shape)).astype(_float_dtype(dtype, "binomial"))


def beta(shape, alpha, beta, dtype=None, seed=None):  # noqa: A002 - Keras's name
    """Beta(alpha, beta) draws (broadcast against ``shape``)."""
    return _rng(seed).beta(np.asarray(alpha, np.float64), np.asarray(beta, np.float64),
                           tuple(shape)).astype(_float_dtype(dtype, "beta"))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws redrawn until within two standard deviations."""
    rng = _rng(seed)
    out = rng.standard_normal(tuple(shape))
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return (mean + stddev * out).astype(_floatx(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    return _rng(seed).integers(minval, maxval, tuple(shape)).astype(dtype)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Class ids drawn from each row of ``logits``: (batch, num_samples)."""
    z = np.asarray(logits, np.float64)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    rng = _rng(seed)
    u = rng.uniform(size=(z.shape[0], num_samples, 1))
    return (u > np.cumsum(p, axis=-1)[:, None, :]).sum(-1).astype(dtype)


def shuffle(x, axis=0, seed=None):
    # the op module, not the ckeras.ops facade: ops.image draws from this module
    from ckeras.ops import array_ops as ops
    perm = _rng(seed).permutation(np.shape(x)[axis])
    return ops.take(x, perm, axis=axis)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each entry with probability ``rate``, scale the rest by
    1 / (1 - rate); differentiable (a product with a fixed mask)."""
    from ckeras.ops import array_ops as ops
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}.")
    shape = np.shape(inputs.value if hasattr(inputs, "value") else inputs)
    shape = shape if noise_shape is None else tuple(
        s if n is None else n for s, n in zip(shape, noise_shape))
    keep = (_rng(seed).uniform(size=shape) >= rate).astype("float32") / (1.0 - rate)
    return ops.multiply(inputs, keep)
