"""Keras layers. Each family lives in its own module; importing them here
registers their classes for deserialisation by class name."""
from ckeras.layers.layer import (Layer, BUILTIN_LAYERS, serialize_layer as serialize,
                                 deserialize_layer as deserialize)
from ckeras.layers.keras_tensor import KerasTensor
from ckeras.layers.core import (InputLayer, Input, Dense, Activation, Dropout,
                                Flatten, Reshape)
from ckeras.layers.merge import (Concatenate, Add, Subtract, Multiply, Average, Maximum,
                                 Minimum, Dot, concatenate, add, subtract, multiply,
                                 average, maximum, minimum, dot)
from ckeras.layers.normalization import BatchNormalization, LayerNormalization
from ckeras.layers.noise import (SpatialDropout1D, SpatialDropout2D, SpatialDropout3D,
                                 GaussianNoise, GaussianDropout, AlphaDropout)
from ckeras.layers.lambda_layer import Lambda
from ckeras.layers.embedding import Embedding
from ckeras.layers.pooling import (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                   GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D,
                                   MaxPooling2D, AveragePooling1D, AveragePooling2D,
                                   MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D,
                                   GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D,
                                   GlobalMaxPool2D)
from ckeras.layers.recurrent import RNN, SimpleRNN, LSTM, GRU, Bidirectional
from ckeras.layers.rnn_cells import SimpleRNNCell, LSTMCell, GRUCell
from ckeras.layers.rnn_cells import StackedRNNCells
from ckeras.layers.convolutional import Conv1D, Conv2D, Convolution1D, Convolution2D


def get(identifier):
    return deserialize(identifier) if isinstance(identifier, dict) else identifier
from ckeras.layers.sequence_layers import TimeDistributed, RepeatVector, Masking, Permute
