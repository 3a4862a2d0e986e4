"""Utilities Keras users reach for: seeds, label encoding, padding, plotting,
downloads (get_file) and datasets from arrays or folders."""
from ckeras.random import set_seed as set_random_seed
from ckeras.utils.plot_model import plot_model
from ckeras.utils.py_dataset import PyDataset, Sequence


def to_categorical(y, num_classes=None):
    from ckeras.utils.sequence_utils import to_categorical as impl
    return impl(y, num_classes)


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre",
                  truncating="pre", value=0.0):
    from ckeras.utils.sequence_utils import pad_sequences as impl
    return impl(sequences, maxlen=maxlen, dtype=dtype, padding=padding,
                truncating=truncating, value=value)


def plot_history(history, path=None, show=False):
    from ckeras.utils.plotting import plot_history as impl
    return impl(history, path, show=show)


from ckeras.utils.file_utils import get_file  # noqa: E402
from ckeras.utils.numerical_utils import normalize  # noqa: E402
from ckeras.utils.dataset_utils import split_dataset  # noqa: E402
from ckeras.utils.image_dataset import image_dataset_from_directory  # noqa: E402
from ckeras.utils.text_dataset import text_dataset_from_directory  # noqa: E402
from ckeras.utils.timeseries_dataset import timeseries_dataset_from_array  # noqa: E402
from ckeras.preprocessing.image import (array_to_img, img_to_array, load_img,  # noqa: E402
                                        save_img)
