"""``keras.config``: global settings (floatx, epsilon, the backend's name)."""
from ckeras import backend as _backend

floatx = _backend.floatx
set_floatx = _backend.set_floatx
epsilon = _backend.epsilon
set_epsilon = _backend.set_epsilon
image_data_format = _backend.image_data_format


def backend():
    """The name scripts test for (``keras.config.backend() == "tensorflow"``)."""
    return "ckeras"


def set_image_data_format(value):
    if value != "channels_last":
        raise ValueError(f"ckeras only supports image_data_format 'channels_last', got {value!r}")


def enable_unsafe_deserialization():
    """Accepted for compatibility: ckeras never deserialises code."""


def disable_traceback_filtering():
    """Accepted for compatibility (ckeras tracebacks are never filtered)."""


def enable_traceback_filtering():
    """Accepted for compatibility (ckeras tracebacks are never filtered)."""
