"""Utilities Keras users reach for: seeds, label encoding, padding, plotting,
downloads (get_file) and datasets from arrays or folders."""
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


from ckeras.utils.file_utils import get_file  # noqa: E402
from ckeras.utils.numerical_utils import normalize  # noqa: E402
from ckeras.utils.dataset_utils import split_dataset  # noqa: E402
from ckeras.utils.image_dataset import image_dataset_from_directory  # noqa: E402
from ckeras.utils.text_dataset import text_dataset_from_directory  # noqa: E402
from ckeras.utils.timeseries_dataset import timeseries_dataset_from_array  # noqa: E402
from ckeras.preprocessing.image import (array_to_img, img_to_array, load_img,  # noqa: E402
                                        save_img)


def unpack_x_y_sample_weight(data):
    """(x, y, sample_weight) of a batch as a custom ``train_step`` receives it."""
    from ckeras.models.steps import unpack_x_y_sample_weight as impl
    return impl(data)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


# Keras 3 keeps these under keras.utils too; they are the very objects of
# ckeras.saving, ckeras.backend and ckeras.config.
from ckeras.registry import (CustomObjectScope, custom_object_scope,  # noqa: E402
                             get_custom_objects, get_registered_name,
                             get_registered_object, register_keras_serializable)
from ckeras.saving.serialization import (deserialize_keras_object,  # noqa: E402
                                         serialize_keras_object)
from ckeras.callbacks.progbar import Progbar  # noqa: E402
from ckeras.backend import clear_session  # noqa: E402
from ckeras.layers.keras_tensor import get_source_inputs, is_keras_tensor  # noqa: E402
from ckeras.dtypes import standardize_dtype  # noqa: E402
from ckeras.utils.config import Config  # noqa: E402
from ckeras.config import (disable_interactive_logging,  # noqa: E402
                           enable_interactive_logging, is_interactive_logging_enabled)
from ckeras.utils import legacy  # noqa: E402
