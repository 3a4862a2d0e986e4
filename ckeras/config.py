"""``keras.config``: global settings (floatx, epsilon, the backend's name,
interactive logging).

It imports nothing, so every floor (losses, constraints, layers) can read
``epsilon()``; ``ckeras.backend`` re-exports these functions.
"""
_EPSILON = 1e-7
_INTERACTIVE_LOGGING = True


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


def enable_interactive_logging():
    """Print progress bars and callbacks' messages to stdout (the default)."""
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = True


def disable_interactive_logging():
    """Send them to the ``ckeras`` logger (INFO) instead of stdout, as Keras
    sends them to absl logging: silent unless logging is configured."""
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = False


def is_interactive_logging_enabled():
    return _INTERACTIVE_LOGGING


# ---- debugging caps on fit (Keras 3: KERAS_MAX_EPOCHS, KERAS_MAX_STEPS_PER_EPOCH) ----

def _env_int(name):
    import os
    value = os.environ.get(name)
    return int(value) if value else None


_MAX_EPOCHS = _env_int("KERAS_MAX_EPOCHS")
_MAX_STEPS_PER_EPOCH = _env_int("KERAS_MAX_STEPS_PER_EPOCH")


def set_max_epochs(max_epochs):
    """Cap the epochs of every ``fit`` (None: no cap), for quick debugging runs."""
    global _MAX_EPOCHS
    _MAX_EPOCHS = max_epochs


def max_epochs():
    return _MAX_EPOCHS


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Cap the steps of each epoch of ``fit`` and of ``evaluate``/``predict``
    (None: no cap); the epoch then draws that many batches, as with
    ``steps_per_epoch``."""
    global _MAX_STEPS_PER_EPOCH
    _MAX_STEPS_PER_EPOCH = max_steps_per_epoch


def max_steps_per_epoch():
    return _MAX_STEPS_PER_EPOCH


def capped_epochs(epochs):
    """``epochs`` under the ``max_epochs`` cap, warning as Keras does."""
    if _MAX_EPOCHS and _MAX_EPOCHS < epochs:
        import warnings
        warnings.warn("Limiting epochs to %d" % _MAX_EPOCHS, stacklevel=3)
        return _MAX_EPOCHS
    return epochs


def capped_steps(steps):
    """A step limit (None: a full pass) under the ``max_steps_per_epoch`` cap."""
    if _MAX_STEPS_PER_EPOCH and (not steps or _MAX_STEPS_PER_EPOCH < steps):
        import warnings
        warnings.warn("Limiting steps_per_epoch to %d" % _MAX_STEPS_PER_EPOCH, stacklevel=3)
        return _MAX_STEPS_PER_EPOCH
    return steps


# ---- dtype policy ------------------------------------------------------------------

class DTypePolicy:
    """The global dtype policy: ckeras has one, ``"float32"`` (variables and
    computations in float32)."""

    def __init__(self, name="float32"):
        if name != "float32":
            raise ValueError(_POLICY_ERROR.format(name))
        self.name = name

    compute_dtype = variable_dtype = property(lambda self: "float32")
    quantization_mode = None

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'


_POLICY_ERROR = ("ckeras only supports the dtype policy 'float32' (it computes in float32); "
                 "got {!r}. Mixed precision ('mixed_float16', 'mixed_bfloat16') and "
                 "quantized policies are not supported.")
_POLICY = DTypePolicy()


def set_dtype_policy(policy):
    """Accepts ``"float32"`` (or a policy named so); refuses any other policy."""
    name = getattr(policy, "name", policy)
    if not isinstance(name, str):
        raise ValueError("Invalid `policy` argument. Expected the string name of a policy "
                         f"or a DTypePolicy instance. Received: policy={policy!r}")
    if name != "float32":
        raise ValueError(_POLICY_ERROR.format(name))


def dtype_policy():
    return _POLICY


# ---- switches of other backends ----------------------------------------------------

def set_backend(backend):
    """ckeras is its own backend: ``set_backend("ckeras")`` is accepted, any
    other name (jax, tensorflow, torch, numpy) raises."""
    if backend != "ckeras":
        raise ValueError(f"set_backend({backend!r}): this is ckeras, which runs on its own "
                         "CPU kernels only; it cannot switch to another Keras backend.")


_FLASH_ATTENTION = None


def enable_flash_attention():
    """Recorded, as Keras records it (None: use it where available). ckeras
    has no flash-attention kernel, so attention is computed the same way
    either way."""
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = None


def disable_flash_attention():
    global _FLASH_ATTENTION
    _FLASH_ATTENTION = False


def is_flash_attention_enabled():
    """Keras's answer: None (the default, or after enable: used where
    available, which is nowhere in ckeras) or False (after disable)."""
    return _FLASH_ATTENTION


def is_traceback_filtering_enabled():
    """False: ckeras never filters tracebacks (the enable/disable switches
    are accepted and change nothing)."""
    return False


def is_nnx_enabled():
    """False: Flax NNX belongs to Keras's JAX backend."""
    return False
