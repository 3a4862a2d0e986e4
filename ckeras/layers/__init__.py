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
from ckeras.layers import tensor_op as _tensor_op  # noqa: F401  (ops on KerasTensors: TensorOp)
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

from ckeras.layers.activation_layers import (ReLU, LeakyReLU, PReLU, ELU, Softmax,
                                             ThresholdedReLU)
from ckeras.layers.utility import Identity, ActivityRegularization
from ckeras.layers.normalization import UnitNormalization, GroupNormalization
from ckeras.layers.attention import (MultiHeadAttention, GroupQueryAttention,
                                     GroupedQueryAttention, Attention, AdditiveAttention)
from ckeras.layers.preprocessing import (Normalization, Rescaling, Discretization,
                                         CategoryEncoding, Resizing, CenterCrop, RandomCrop,
                                         RandomFlip, RandomRotation, RandomZoom,
                                         RandomTranslation, RandomContrast, RandomBrightness)
from ckeras.layers.preprocessing import StringLookup, IntegerLookup, TextVectorization
from ckeras.layers.preprocessing import Hashing
from ckeras.layers.convolutional import Conv3D, Convolution3D
from ckeras.layers.conv_transpose import (Conv1DTranspose, Conv2DTranspose, Conv3DTranspose,
                                          Convolution1DTranspose, Convolution2DTranspose,
                                          Convolution3DTranspose)
from ckeras.layers.depthwise_conv import (DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,
                                          SeparableConv2D, SeparableConvolution1D,
                                          SeparableConvolution2D)
from ckeras.layers.pooling import (GlobalAveragePooling3D, GlobalMaxPooling3D, MaxPooling3D,
                                   AveragePooling3D, MaxPool3D, AvgPool3D, GlobalAvgPool3D,
                                   GlobalMaxPool3D)
from ckeras.layers.reshaping import (ZeroPadding1D, ZeroPadding2D, ZeroPadding3D, Cropping1D,
                                     Cropping2D, Cropping3D, UpSampling1D, UpSampling2D,
                                     UpSampling3D)
from ckeras.layers.input_spec import InputSpec
from ckeras.layers.wrapper import Wrapper
from ckeras.layers.einsum_dense import EinsumDense
from ckeras.layers.rms_normalization import RMSNormalization
from ckeras.layers.spectral_normalization import SpectralNormalization
from ckeras.layers.reversible_embedding import ReversibleEmbedding
from ckeras.layers.preprocessing import HashedCrossing
from ckeras.layers.pipeline import Pipeline
from ckeras.layers.adaptive_pooling import (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D,
                                            AdaptiveAveragePooling3D, AdaptiveMaxPooling1D,
                                            AdaptiveMaxPooling2D, AdaptiveMaxPooling3D)
from ckeras.layers.preprocessing import (RandomGrayscale, RandomInvert, RandomPosterization,
                                         Solarization, AutoContrast, Equalization,
                                         RandomColorDegeneration, RandomSaturation, RandomHue,
                                         RandomSharpness, RandomColorJitter, RandomGaussianBlur,
                                         RandomErasing, MixUp, CutMix, RandomShear,
                                         RandomPerspective)
from ckeras.layers.preprocessing import RandAugment, AugMix, RandomElasticTransform
from ckeras.layers.preprocessing import ContrastLimitedAdaptiveHistogramEqualization
