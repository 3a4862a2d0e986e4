"""``keras.ops.linalg``: norms (differentiable through ``ckeras.ops``)."""
import numpy as np

from ckeras.ops import array_ops as _a
from ckeras.ops.array_ops import _v, op

__all__ = ["norm"]


@op
def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norms (``ord`` None/2, 1, inf, -inf, p) over ``axis``; over two
    axes (or a 2-D input with ``axis=None``) the Frobenius norm."""
    nd = np.ndim(_v(x))
    axes = tuple(range(nd)) if axis is None else axis
    if ord in (None, 2, "fro", "euclidean") or (ord == 2 and isinstance(axes, int)):
        if ord == 2 and not isinstance(axes, int) and len(axes) == 2:
            raise NotImplementedError("ckeras.ops.linalg.norm: the matrix 2-norm (largest "
                                      "singular value) is not implemented; use ord='fro'.")
        return _a.sqrt(_a.sum(_a.square(x), axis=axis, keepdims=keepdims))
    if isinstance(axes, (tuple, list)) and len(axes) > 1:
        raise NotImplementedError(f"ckeras.ops.linalg.norm: matrix norm ord={ord!r} is not "
                                  "implemented; use ord='fro' or a single axis.")
    if ord == 1:
        return _a.sum(_a.abs(x), axis=axis, keepdims=keepdims)
    if ord == np.inf or ord == "inf":
        return _a.max(_a.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return _a.min(_a.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return _a.sum(_a.cast(_a.not_equal(x, 0), "float32"), axis=axis, keepdims=keepdims)
    p = float(ord)
    return _a.power(_a.sum(_a.power(_a.abs(x), p), axis=axis, keepdims=keepdims), 1.0 / p)
