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


# Below this fraction of the table's rows, zeroing rows beats zeroing all.
ROW_ZERO_FRACTION = 1 / 4


class RowSparseVariable(Variable):
    """A Variable whose gradient may be known to live in a few rows
    (opt-in: ``Embedding(..., sparse_grad=True)``; the optimizer side is
    ``ckeras.optimizers.sparse``).

    A step of a text model touches a few hundred rows of a (vocab, dim) table,
    yet zeroing its gradient and a plain-SGD update walk all of it. Here the
    Embedding marks the rows it scatter-added into, and

    * ``RowSparseVariable.zero_grad`` zeroes only those rows;
    * ``optimizers.sparse.sgd_update_rows`` (called from ``SGD._update_step``) applies
      ``w -= lr * g`` to only those rows when momentum == 0.

    Both give the same bits as the dense path: the gradient is exactly zero
    outside the marked rows, ``w - lr * 0 == w``, and the touched rows go
    through the same ``ops.sgd_update`` kernel. Each falls back to the dense
    operation when so many rows are touched that gathering them costs more
    (measured on W2 shapes: a row update beats the dense one below ~1/20 of the
    rows, a row zeroing below ~1/4). Everything else stays dense on purpose,
    because Keras updates every row there: momentum and Adam decay their slots on
    every row, weight decay shrinks every row, constraints see the whole table,
    and a regularizer writes a dense gradient (such a variable never tracks rows).

    Invariant: while tracking, ``grad`` is zero outside the marked rows. Only
    ``zero_grad`` (which makes the gradient exactly zero) starts tracking;
    assigning ``.grad`` stops it. Code that writes ``.grad`` densely in place
    (other than the trainer's regularizer, excluded above) must not be combined
    with ``sparse_grad=True``.
    """

    _tracking = False
    _touched = None        # bool per row, allocated on first use
    _rows = None           # cached sorted rows of _touched

    @classmethod
    def from_variable(cls, var):
        new = cls(var.value, var.name, trainable=var.trainable, path=var.path,
                  regularizer=var.regularizer, constraint=var.constraint)
        new.value = var.value            # keep the same buffer (and dtype)
        new._grad = var._grad
        return new

    @property
    def grad(self):
        return Variable.grad.fget(self)

    @grad.setter
    def grad(self, g):
        Variable.grad.fset(self, g)
        self._tracking = False           # a new buffer: nothing known about it

    @property
    def sparse_rows(self):
        """Sorted int64 rows the gradient may be nonzero in, or None (dense)."""
        if not self._tracking:
            return None
        if self._rows is None:
            self._rows = np.flatnonzero(self._touched)
        return self._rows

    def zero_grad(self):
        n = self.value.shape[0] if self.value.ndim else 0
        if self._touched is None or self._touched.shape[0] != n:
            self._touched = np.zeros(n, dtype=bool)
        rows = self.sparse_rows
        if self._grad is not None:
            if rows is not None and rows.size < ROW_ZERO_FRACTION * n:
                self._grad[rows] = 0
            else:
                self._grad.fill(0)
        if rows is not None and rows.size < ROW_ZERO_FRACTION * n:
            self._touched[rows] = False
        else:
            self._touched.fill(False)
        self._rows = None
        # A regularizer adds a dense gradient after backward: never track.
        self._tracking = self.regularizer is None

    def record_rows(self, ids):
        """Mark rows that a backward pass scatter-added into."""
        if self._tracking:
            self._touched[np.asarray(ids).reshape(-1)] = True
            self._rows = None
