"""MNIST handwritten digits: 60,000 + 10,000 28x28 grayscale images.

Same file, origin and hash as Keras (``<KERAS_HOME>/datasets/mnist.npz``).
License: Yann LeCun and Corinna Cortes, CC BY-SA 3.0.
"""
import numpy as np

from ckeras.datasets._common import ORIGIN_FOLDER
from ckeras.utils.file_utils import get_file

_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (60000, 28, 28)
    and (10000, 28, 28) with values 0..255, uint8 labels 0..9."""
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}mnist.npz", file_hash=_SHA256)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
