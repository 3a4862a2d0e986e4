"""California housing prices (20,640 block groups, 8 features; targets in $).

Same file, origin and hash as Keras. ``version="small"`` keeps the first 600
samples (Keras's small version).
"""
import numpy as np

from ckeras.datasets._common import ORIGIN_FOLDER, split_shuffled
from ckeras.utils.file_utils import get_file

_SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)`` after Keras's seeded shuffle."""
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between "
                         "0 and 1 (exclusive of 1).")
    if version not in ("small", "large"):
        raise ValueError(f"Argument `version` must be one of 'small', 'large'. "
                         f"Received: version={version}")
    path = get_file(path, origin=f"{ORIGIN_FOLDER}california_housing.npz", file_hash=_SHA256)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return split_shuffled(x, y, test_split, seed)
