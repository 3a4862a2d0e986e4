"""``keras.config``: global settings (floatx, epsilon, the backend's name).

It imports nothing, so every floor (losses, constraints, layers) can read
``epsilon()``; ``ckeras.backend`` re-exports these functions.
"""
_EPSILON = 1e-7


def floatx():
    """The float dtype of weights and activations: always ``"float32"``."""
    return "float32"


def set_floatx(value):
    if value != "float32":
        raise ValueError(f"ckeras only supports floatx 'float32', got {value!r}")


def epsilon():
    """Fuzz factor of clips and norms in losses, constraints and layers (Keras
    default 1e-7)."""
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    return "channels_last"


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
