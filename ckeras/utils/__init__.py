"""Utilities Keras users reach for: seeds, label encoding, padding, plotting."""
from ckeras.random import set_seed as set_random_seed
from ckeras.utils.plot_model import plot_model
from ckeras._typing import Any, ArrayLike, Optional, PathLike
from ckeras.utils.py_dataset import PyDataset, Sequence


def to_categorical(y: ArrayLike, num_classes: Optional[int] = None) -> Any:
    from ckeras.utils.sequence_utils import to_categorical as impl
    return impl(y, num_classes)


def pad_sequences(sequences: Any, maxlen: Optional[int] = None, dtype: Any = "int32",
                  padding: str = "pre", truncating: str = "pre", value: Any = 0.0) -> Any:
    from ckeras.utils.sequence_utils import pad_sequences as impl
    return impl(sequences, maxlen=maxlen, dtype=dtype, padding=padding,
                truncating=truncating, value=value)


def plot_history(history: Any, path: Optional[PathLike] = None, show: bool = False) -> Any:
    from ckeras.utils.plotting import plot_history as impl
    return impl(history, path, show=show)
