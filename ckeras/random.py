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
