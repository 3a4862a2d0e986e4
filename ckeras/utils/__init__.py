"""Utilities Keras users reach for: seeds, label encoding, padding, plotting."""
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


def unpack_x_y_sample_weight(data):
    """(x, y, sample_weight) of a batch as a custom ``train_step`` receives it."""
    from ckeras.models.steps import unpack_x_y_sample_weight as impl
    return impl(data)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)
