"""Python operators for everything a user's ``call`` computes with: tape
tensors, layer weights (``Variable``) and symbolic ``KerasTensor``s.

Each operator is one ``ckeras.ops`` call, so ``x * 2 + self.b`` records on the
tape exactly as ``ops.add(ops.multiply(x, 2), self.b)`` does. This module
imports nothing: ``ckeras.ops.array_ops`` installs itself as ``_ops`` when it
is imported (``Variable`` needs the mix-in before ``ckeras.ops`` exists), and
``ckeras.layers.tensor_op`` its ``apply`` as ``_symbolic_apply``.
"""

_ops = None   # ckeras.ops.array_ops, set on its import
# ckeras.layers.tensor_op.apply, set on its import: an op on a KerasTensor
# becomes a TensorOp layer (array_ops calls it; it cannot import a layer).
_symbolic_apply = None


def _no_out(out, what):
    if out is not None:
        raise TypeError(f"{what}(out=...) is not supported on tensors.")


class OperatorMixin:
    """Arithmetic, comparison, matmul and slicing through ``ckeras.ops``.

    ``__eq__``/``__ne__`` are left to the classes: a Variable or KerasTensor
    must stay usable as a dict key and in ``in`` tests.
    """
    __slots__ = ()
    # Beats ndarray in mixed expressions (ndarray + tensor calls our __radd__).
    __array_priority__ = 1000

    def __add__(self, o):
        return _ops.add(self, o)

    def __radd__(self, o):
        return _ops.add(o, self)

    def __sub__(self, o):
        return _ops.subtract(self, o)

    def __rsub__(self, o):
        return _ops.subtract(o, self)

    def __mul__(self, o):
        return _ops.multiply(self, o)

    def __rmul__(self, o):
        return _ops.multiply(o, self)

    def __truediv__(self, o):
        return _ops.divide(self, o)

    def __rtruediv__(self, o):
        return _ops.divide(o, self)

    def __floordiv__(self, o):
        return _ops.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return _ops.floor_divide(o, self)

    def __mod__(self, o):
        return _ops.mod(self, o)

    def __rmod__(self, o):
        return _ops.mod(o, self)

    def __pow__(self, o):
        return _ops.power(self, o)

    def __rpow__(self, o):
        return _ops.power(o, self)

    def __matmul__(self, o):
        return _ops.matmul(self, o)

    def __rmatmul__(self, o):
        return _ops.matmul(o, self)

    def __neg__(self):
        return _ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __lt__(self, o):
        return _ops.less(self, o)

    def __le__(self, o):
        return _ops.less_equal(self, o)

    def __gt__(self, o):
        return _ops.greater(self, o)

    def __ge__(self, o):
        return _ops.greater_equal(self, o)

    def __and__(self, o):
        return _ops.logical_and(self, o)

    def __or__(self, o):
        return _ops.logical_or(self, o)

    def __invert__(self):
        return _ops.logical_not(self)

    def __getitem__(self, key):
        return _ops.getitem(self, key)

    # ---- ndarray-style methods -------------------------------------------------
    @property
    def T(self):
        return _ops.transpose(self)

    def reshape(self, *shape):
        return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes):
        return _ops.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        _no_out(out, "sum")
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        _no_out(out, "mean")
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        _no_out(out, "max")
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        _no_out(out, "min")
        return _ops.min(self, axis=axis, keepdims=keepdims)

    def astype(self, dtype):
        return _ops.cast(self, dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """numpy ufuncs on tensors go through the op of the same meaning
        (``np.tanh(x)`` records as ``ops.tanh(x)``); others see plain values."""
        return _ops.apply_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """numpy functions likewise (``np.concatenate([x, y])``)."""
        return _ops.apply_function(func, args, kwargs)
