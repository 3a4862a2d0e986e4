"""Row-sparse embedding gradients (opt-in: ``Embedding(..., sparse_grad=True)``).

A step of a text model touches a few hundred rows of a (vocab, dim) table,
yet zeroing its gradient and a plain-SGD update walk all of it. Here the
Embedding marks the rows it scatter-added into, and

* ``RowSparseVariable.zero_grad`` zeroes only those rows;
* ``sgd_update_rows`` (called from ``SGD._update_step``) applies
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
import numpy as np

from ckeras import ops
from ckeras.variables import Variable

# Below these fractions of the table's rows, row-wise work beats dense work.
ROW_UPDATE_FRACTION = 1 / 20
ROW_ZERO_FRACTION = 1 / 4


class RowSparseVariable(Variable):
    """A Variable whose gradient may be known to live in a few rows."""

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


def sgd_update_rows(optimizer, index, value, grad, lr):
    """Plain SGD on the marked rows only. Returns False (do the dense update)
    unless the variable tracks rows, few enough are touched, and ``grad`` is
    its own unscaled gradient (clipnorm and clipvalue hand over a copy)."""
    if getattr(optimizer, "momentum", 0) != 0:
        return False
    var = optimizer._trainable[index]
    rows = getattr(var, "sparse_rows", None)
    if rows is None or grad is not var._grad or value is not var.value:
        return False
    if rows.size >= ROW_UPDATE_FRACTION * value.shape[0]:
        return False
    if rows.size:
        part = value[rows]
        ops.sgd_update(part, grad[rows], lr)
        value[rows] = part
    return True
