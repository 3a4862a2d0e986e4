"""Backend settings (the subset of ``keras.backend`` ckeras supports).

ckeras computes in float32 on the CPU; ``set_num_threads`` controls both the
OpenMP kernels and the BLAS pools (see ``ckeras.ops.threads``).
"""
from ckeras.config import (epsilon, floatx, image_data_format, set_epsilon,  # noqa: F401
                           set_floatx, set_image_data_format)
from ckeras.dtypes import (is_float_dtype, is_int_dtype, result_type,  # noqa: F401
                           standardize_dtype)
from ckeras.ops import threads as _threads


def set_num_threads(n):
    """Use ``n`` threads in ckeras's kernels and in BLAS."""
    _threads.set_num_threads(n)


def get_num_threads():
    """Threads ckeras's kernels use for large work."""
    return _threads.get_num_threads()


def clear_session(free_memory=True):
    """Reset global state: the layer auto-name counters (and ``get_uid``'s);
    ``free_memory`` also runs the garbage collector, as in Keras."""
    from ckeras.layers.layer import reset_names
    reset_names()
    if free_memory:
        import gc
        gc.collect()


def get_uid(prefix=""):
    """1, 2, 3, ... for each call with the same prefix (reset by clear_session)."""
    from ckeras.layers.layer import get_uid as impl
    return impl(prefix)


def is_keras_tensor(x):
    from ckeras.layers.keras_tensor import is_keras_tensor as impl
    return impl(x)


# ---- tf.keras 2's ``keras.backend`` functions, on ckeras.ops -------------------------
# Differentiable on the tape wherever the op is (``from keras import backend as K``).

from ckeras import ops as _ops  # noqa: E402
from ckeras.ops import nn as _nn  # noqa: E402


def int_shape(x):
    """The static shape as a tuple (None for unknown dimensions)."""
    return tuple(None if d is None else int(d) for d in _ops.shape(x))


def ndim(x):
    return len(_ops.shape(x))


def shape(x):
    return _ops.shape(x)


def dtype(x):
    return str(getattr(x, "dtype", _ops.convert_to_tensor(x).dtype))


def sum(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    return _ops.sum(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return _ops.mean(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return _ops.max(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return _ops.min(x, axis=axis, keepdims=keepdims)


def prod(x, axis=None, keepdims=False):
    return _ops.prod(x, axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    return _ops.std(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    return _ops.var(x, axis=axis, keepdims=keepdims)


def argmax(x, axis=-1):
    return _ops.argmax(x, axis=axis)


def argmin(x, axis=-1):
    return _ops.argmin(x, axis=axis)


def cumsum(x, axis=0):
    return _ops.cumsum(x, axis=axis)


square, sqrt, exp, log, abs, sign, round = (  # noqa: A001
    _ops.square, _ops.sqrt, _ops.exp, _ops.log, _ops.abs, _ops.sign, _ops.round)
sin, cos, tanh, sigmoid, relu, softplus = (
    _ops.sin, _ops.cos, _ops.tanh, _nn.sigmoid, _nn.relu, _nn.softplus)
maximum, minimum, pow, equal, not_equal = (  # noqa: A001
    _ops.maximum, _ops.minimum, _ops.power, _ops.equal, _ops.not_equal)
greater, greater_equal, less, less_equal = (
    _ops.greater, _ops.greater_equal, _ops.less, _ops.less_equal)
zeros_like, ones_like, stop_gradient = _ops.zeros_like, _ops.ones_like, _ops.stop_gradient
reshape, transpose, tile, repeat_elements = (_ops.reshape, _ops.transpose, _ops.tile,
                                             lambda x, rep, axis: _ops.repeat(x, rep, axis=axis))
one_hot = _ops.one_hot


def softmax(x, axis=-1):
    return _nn.softmax(x, axis=axis)


def clip(x, min_value, max_value):
    return _ops.clip(x, min_value, max_value)


def cast(x, dtype):
    return _ops.cast(x, dtype)


def concatenate(tensors, axis=-1):
    return _ops.concatenate(list(tensors), axis=axis)


def stack(x, axis=0):
    return _ops.stack(list(x), axis=axis)


def expand_dims(x, axis=-1):
    return _ops.expand_dims(x, axis)


def squeeze(x, axis):
    return _ops.squeeze(x, axis=axis)


def flatten(x):
    return _ops.reshape(x, (-1,))


def batch_flatten(x):
    return _ops.reshape(x, (int_shape(x)[0] if int_shape(x)[0] is not None else -1, -1))


def dot(x, y):
    """tf.keras 2: N-D ``x`` contracts its last axis with ``y``'s second to last."""
    nx, ny = ndim(x), ndim(y)
    if nx > 2 or ny > 2:
        return _ops.tensordot(x, y, axes=([nx - 1], [ny - 2 if ny > 1 else 0]))
    return _ops.matmul(x, y)


def batch_dot(x, y, axes=None):
    """Per-sample dot product over ``axes`` (tf.keras 2 semantics): a rank-1
    result gains a trailing axis."""
    nx, ny = ndim(x), ndim(y)
    if axes is None:
        axes = (nx - 1, ny - 2) if ny > 2 else (nx - 1, ny - 1)
    elif isinstance(axes, int):
        axes = (axes, axes)
    ax, ay = axes[0] % nx, axes[1] % ny
    if ax == 0 or ay == 0:
        raise ValueError("batch_dot: axis 0 is the batch axis and cannot be contracted.")
    letters = "bcdefghijklmnopqrstuvwxyz"
    sx = ["a"] + [letters[i] for i in range(nx - 1)]
    sy = ["a"] + [letters[nx - 1 + i] for i in range(ny - 1)]
    sy[ay] = sx[ax]
    out = [c for i, c in enumerate(sx) if i != ax] + [c for i, c in enumerate(sy) if i not in (0, ay)]
    result = _ops.einsum("".join(sx) + "," + "".join(sy) + "->" + "".join(out), x, y)
    return _ops.expand_dims(result, 1) if len(out) == 1 else result


def l2_normalize(x, axis=-1):
    return _ops.divide(x, _ops.sqrt(_ops.maximum(_ops.sum(_ops.square(x), axis=axis,
                                                          keepdims=True), 1e-12)))


def switch(condition, then_expression, else_expression):
    return _ops.where(condition, then_expression, else_expression)


def constant(value, dtype=None, shape=None, name=None):
    import numpy as _np
    a = _np.asarray(value, dtype or floatx())
    return _np.broadcast_to(a, shape).copy() if shape is not None else a


def variable(value, dtype=None, name=None):
    import numpy as _np
    from ckeras.variables import Variable
    return Variable(_np.asarray(value), name or "variable", dtype=dtype)


def get_value(x):
    import numpy as _np
    return _np.array(x)


def set_value(x, value):
    x.assign(value)


def binary_crossentropy(target, output, from_logits=False):
    return _nn.binary_crossentropy(target, output, from_logits=from_logits)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    return _nn.categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    return _nn.sparse_categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    from ckeras import random as _random
    return _random.normal(shape, mean, stddev, dtype, seed)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    from ckeras import random as _random
    return _random.uniform(shape, minval, maxval, dtype, seed)


def backend():
    return "ckeras"
