"""Variable: a named float32 array with a gradient buffer beside it."""
import numpy as np

from ckeras.ops.operators import OperatorMixin


class Variable(OperatorMixin):
    """A layer weight (``layer.kernel``) or an optimizer slot.

    ``value`` is the float32 array the kernels read and the optimizer updates in
    place; ``grad`` is the buffer backward passes *accumulate* into and the
    trainer zeroes before each step. ``path`` is Keras's variable path
    (``"sequential/dense/kernel"``), used for HDF5 names.

    Zeroing is lazy: ``zero_grad()`` only marks the buffer stale. Reading
    ``grad`` zeroes a stale buffer first, so accumulating code sees zeros;
    a kernel that writes the whole gradient (a GEMM with beta=0) asks
    ``grad_for_overwrite()`` instead and skips the zeroing pass.
    """

    def __init__(self, value, name, trainable=True, path=None,
                 regularizer=None, constraint=None, dtype=None):
        value = np.asarray(value, dtype=np.float32 if dtype is None else dtype)
        # (ascontiguousarray would turn a scalar weight into shape (1,))
        self.value = value if value.flags.c_contiguous else np.ascontiguousarray(value)
        self.name = name
        self.path = path or name
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint
        self._grad = None
        self._grad_stale = False

    @property
    def grad(self):
        # Allocated on first use: inference never pays for gradient buffers.
        if self._grad is None:
            self._grad = np.zeros_like(self.value)
        elif self._grad_stale:
            self._grad.fill(0)
        self._grad_stale = False
        return self._grad

    @grad.setter
    def grad(self, g):
        self._grad = g
        self._grad_stale = False

    def zero_grad(self):
        self._grad_stale = self._grad is not None

    def grad_for_overwrite(self):
        """(buffer, fresh): when ``fresh`` the caller must write every element
        (it holds garbage); otherwise it must accumulate into it."""
        if self._grad is None:
            self._grad = np.zeros_like(self.value)
            self._grad_stale = True
        fresh = self._grad_stale
        self._grad_stale = False
        return self._grad, fresh

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    def numpy(self):
        return self.value.copy()

    def assign(self, value):
        if np.iscomplexobj(value):   # float32() would silently drop the imaginary part
            raise TypeError(f"Variable {self.path!r}: cannot assign complex values "
                            f"(dtype {np.asarray(value).dtype}); weights are real.")
        value = np.asarray(value, dtype=self.value.dtype)
        if value.shape != self.value.shape:
            raise ValueError(f"Variable {self.path!r}: cannot assign shape "
                             f"{value.shape}, expected {self.value.shape}")
        self.value[...] = value
        return self

    def assign_add(self, delta):
        return self.assign(self.value + np.asarray(delta, dtype=self.value.dtype))

    def assign_sub(self, delta):
        return self.assign(self.value - np.asarray(delta, dtype=self.value.dtype))

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def size(self):
        return self.value.size

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __len__(self):
        return len(self.value)

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)

    def __repr__(self):
        return f"<Variable path={self.path} shape={self.shape} trainable={self.trainable}>"
