"""Fashion-MNIST: 60,000 + 10,000 28x28 grayscale images of 10 clothing classes.

Files, origin and cache folder as Keras (``<KERAS_HOME>/datasets/fashion-mnist/``,
the four gzipped IDX files). When they are not in the cache but Debian's
``dataset-fashion-mnist`` package is installed, its copies in
``/usr/share/datasets/fashion-mnist`` are read in place (the same IDX data
as Keras's files; Debian only stripped the file names from the gzip
headers), so no download is needed.
License: Zalando SE, MIT.
"""
import gzip
import os

import numpy as np

from ckeras.datasets._common import ORIGIN_FOLDER
from ckeras.utils.file_utils import get_file, keras_home

FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
_CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")


def _paths():
    cached = [os.path.join(keras_home(), _CACHE_SUBDIR, f) for f in FILES]
    if not all(os.path.exists(p) for p in cached):
        debian = [os.path.join(DEBIAN_DIR, f) for f in FILES]
        if all(os.path.isfile(p) for p in debian):
            return debian
    return [get_file(f, origin=ORIGIN_FOLDER + f, cache_subdir=_CACHE_SUBDIR) for f in FILES]


def read_idx(path, magic):
    """The uint8 array of a gzipped IDX file (labels: magic 2049, images: 2051)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header or int.from_bytes(data[:4], "big") != magic:
        raise ValueError(f"{path} is not an IDX file with magic number {magic} "
                         "(corrupt or wrong file?).")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    if len(data) - header != int(np.prod(shape)):
        raise ValueError(f"{path}: IDX header says shape {shape} but the file holds "
                         f"{len(data) - header} values (truncated download?).")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (60000, 28, 28)
    and (10000, 28, 28), uint8 labels 0..9."""
    paths = _paths()
    y_train, x_train = read_idx(paths[0], 2049), read_idx(paths[1], 2051)
    y_test, x_test = read_idx(paths[2], 2049), read_idx(paths[3], 2051)
    return (x_train, y_train), (x_test, y_test)
