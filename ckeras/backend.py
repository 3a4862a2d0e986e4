"""Backend settings (the subset of ``keras.backend`` ckeras supports).

ckeras computes in float32 on the CPU; ``set_num_threads`` controls both the
OpenMP kernels and the BLAS pools (see ``ckeras.ops.threads``).
"""
from ckeras.ops import threads as _threads

_EPSILON = 1e-7


def floatx():
    """The float dtype of weights and activations: always ``"float32"``."""
    return "float32"


def set_floatx(value):
    if value != "float32":
        raise ValueError(f"ckeras only supports floatx 'float32', got {value!r}")


def epsilon():
    """Fuzz factor used in numeric expressions (Keras default 1e-7)."""
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    return "channels_last"


def set_num_threads(n):
    """Use ``n`` threads in ckeras's kernels and in BLAS."""
    _threads.set_num_threads(n)


def get_num_threads():
    """Threads ckeras's kernels use for large work."""
    return _threads.get_num_threads()


def clear_session():
    """Reset global state: the layer auto-name counters."""
    from ckeras.layers.layer import reset_names
    reset_names()
