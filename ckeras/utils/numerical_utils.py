"""``normalize``: scale an array to unit norm along an axis."""
import numpy as np


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (zero norms left as 1,
    so all-zero rows stay zero)."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"normalize: `x` must hold numbers, got dtype {x.dtype}.")
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
