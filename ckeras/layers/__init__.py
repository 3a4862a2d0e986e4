"""Keras layers. Each family lives in its own module; importing them here
registers their classes for deserialisation by class name."""
from ckeras.layers.layer import (Layer, BUILTIN_LAYERS, serialize_layer as serialize,
                                 deserialize_layer as deserialize)
from ckeras.layers.keras_tensor import KerasTensor
from ckeras.layers.core import (InputLayer, Input, Dense, Activation, Dropout,
                                Flatten, Reshape)


def get(identifier):
    return deserialize(identifier) if isinstance(identifier, dict) else identifier
