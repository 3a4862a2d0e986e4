"""The UCI optical recognition of handwritten digits data (test set, 1,797
8x8 images of 0..16 pixel counts, 10 classes), bundled with ckeras.

Source: E. Alpaydin and C. Kaynak, UCI Machine Learning Repository,
https://doi.org/10.24432/C50P49 — licensed CC BY 4.0.
"""
import os

import numpy as np

_PATH = os.path.join(os.path.dirname(__file__), "data", "digits.npz")


def load_data(test_split=0.2, seed=113):
    """Returns ``(x_train, y_train), (x_test, y_test)`` like keras.datasets.mnist.

    x: uint8 arrays of shape (n, 8, 8) with values 0..16; y: uint8 labels 0..9.
    The split is a fixed shuffle (``seed``), so it is the same on every run.
    """
    if not 0 < test_split < 1:
        raise ValueError(f"test_split must be in (0, 1), got {test_split!r}.")
    with np.load(_PATH) as data:
        images, labels = data["images"], data["labels"]
    order = np.random.default_rng(seed).permutation(len(images))
    images, labels = images[order], labels[order]
    n_test = int(round(len(images) * test_split))
    split = len(images) - n_test
    return (images[:split], labels[:split]), (images[split:], labels[split:])
