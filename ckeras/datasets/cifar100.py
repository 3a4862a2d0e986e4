"""CIFAR-100: 50,000 + 10,000 32x32 colour images of 100 fine / 20 coarse classes.

Origin, hash and cache layout as Keras 3. License: Alex Krizhevsky, 2009.
"""
import os

import numpy as np

from ckeras.datasets.cifar import fetch, load_batch, to_data_format

_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
_SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode="fine"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (50000, 32, 32, 3)
    and (10000, 32, 32, 3) (channels_last), int64 labels of shape (n, 1);
    ``label_mode`` "fine" (100 classes) or "coarse" (20 superclasses)."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    path = fetch("cifar-100-python-target", _ORIGIN, _SHA256, "cifar-100-python")
    x_train, y_train = load_batch(os.path.join(path, "train"), f"{label_mode}_labels")
    x_test, y_test = load_batch(os.path.join(path, "test"), f"{label_mode}_labels")
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    return (to_data_format(x_train), y_train), (to_data_format(x_test), y_test)
