"""Keras preprocessing layers (keras.layers.Normalization, TextVectorization, ...)."""
from ckeras.layers.preprocessing.numerical import (Normalization, Rescaling, Discretization,
                                                   CategoryEncoding)
from ckeras.layers.preprocessing.image import (Resizing, CenterCrop, RandomCrop, RandomFlip,
                                               RandomRotation, RandomZoom, RandomTranslation,
                                               RandomContrast, RandomBrightness)
from ckeras.layers.preprocessing.lookup import StringLookup, IntegerLookup
from ckeras.layers.preprocessing.text_vectorization import TextVectorization
from ckeras.layers.preprocessing.hashing import Hashing
from ckeras.layers.preprocessing.hashed_crossing import HashedCrossing
from ckeras.layers.preprocessing.color import (RandomGrayscale, RandomInvert, RandomPosterization,
                                               Solarization, AutoContrast, Equalization,
                                               RandomColorDegeneration, RandomSaturation,
                                               RandomHue, RandomSharpness, RandomColorJitter,
                                               RandomGaussianBlur,
                                               ContrastLimitedAdaptiveHistogramEqualization)
from ckeras.layers.preprocessing.mixing import RandomErasing, MixUp, CutMix
from ckeras.layers.preprocessing.geometry import (RandomShear, RandomPerspective,
                                                  RandomElasticTransform)
from ckeras.layers.preprocessing.policies import RandAugment, AugMix
