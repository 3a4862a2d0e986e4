"""``keras.utils.legacy``: tf.keras 2's serialisation functions."""
from ckeras.saving.legacy_serialization import (deserialize_keras_object,  # noqa: F401
                                                serialize_keras_object)
