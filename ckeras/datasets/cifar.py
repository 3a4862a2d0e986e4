"""Reading the pickled batches of the CIFAR-10/100 python archives."""
import os

from ckeras.datasets._common import RestrictedUnpickler
from ckeras.utils.file_utils import get_file, keras_home


def load_batch(fpath, label_key="labels"):
    """``(data, labels)`` of one batch file: uint8 (n, 3, 32, 32) and a list."""
    with open(fpath, "rb") as f:
        d = RestrictedUnpickler(f, encoding="bytes").load()
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    data = d["data"]
    return data.reshape(data.shape[0], 3, 32, 32), d[label_key]


def fetch(dirname, origin, sha256, folder):
    """The extracted ``folder`` of a CIFAR archive, in Keras 3's cache layout
    (``datasets/<dirname>/<folder>``). A copy that tf.keras 2 unpacked
    (``datasets/<folder>``) is used as is when Keras 3's is absent."""
    datadir = os.path.join(keras_home(), "datasets")
    keras3 = os.path.join(datadir, dirname, folder)
    legacy = os.path.join(datadir, folder)
    if not os.path.isdir(keras3) and os.path.isdir(legacy):
        return legacy
    return os.path.join(get_file(fname=dirname, origin=origin, extract=True,
                                 file_hash=sha256), folder)


def to_data_format(x):
    from ckeras.backend import image_data_format
    return x.transpose(0, 2, 3, 1) if image_data_format() == "channels_last" else x
