"""CIFAR-10: 50,000 + 10,000 32x32 colour images of 10 classes.

Origin, hash and cache layout as Keras 3 (the python-pickle archive from
www.cs.toronto.edu/~kriz). License: Alex Krizhevsky, 2009.
"""
import os

import numpy as np

from ckeras.datasets.cifar import fetch, load_batch, to_data_format

_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (50000, 32, 32, 3)
    and (10000, 32, 32, 3) (channels_last), uint8 labels of shape (n, 1)."""
    path = fetch("cifar-10-batches-py-target", _ORIGIN, _SHA256, "cifar-10-batches-py")
    parts = [load_batch(os.path.join(path, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts]).astype(np.uint8, copy=False)
    y_train = np.concatenate([np.asarray(p[1]) for p in parts]).astype(np.uint8)
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    y_train = y_train.reshape(len(y_train), 1)
    y_test = np.reshape(y_test, (len(y_test), 1)).astype(np.uint8)
    return (to_data_format(x_train), y_train), \
        (to_data_format(x_test.astype(np.uint8, copy=False)), y_test)
