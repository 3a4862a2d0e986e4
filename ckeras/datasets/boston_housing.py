"""Boston housing prices (506 samples, 13 features; targets in k$).

Same file, origin and hash as Keras. Note the data set's known ethical
problems (a feature built on race); prefer california_housing for new work.
"""
import numpy as np

from ckeras.datasets._common import ORIGIN_FOLDER, split_shuffled
from ckeras.utils.file_utils import get_file

_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)`` after Keras's seeded shuffle."""
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between "
                         "0 and 1 (exclusive of 1).")
    path = get_file(path, origin=f"{ORIGIN_FOLDER}boston_housing.npz", file_hash=_SHA256)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return split_shuffled(x, y, test_split, seed)
