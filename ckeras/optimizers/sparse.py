"""Plain SGD on only the rows of an embedding table a step touched.

The rows come from ``ckeras.variables.RowSparseVariable`` (opt-in:
``Embedding(..., sparse_grad=True)``), which says why the result has the
same bits as the dense update and when row-wise work stops paying.
"""
from ckeras import ops

# Below this fraction of the table's rows, a row update beats the dense one
# (measured on W2 shapes).
ROW_UPDATE_FRACTION = 1 / 20


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
