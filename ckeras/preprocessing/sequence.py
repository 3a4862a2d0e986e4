"""Legacy `keras.preprocessing.sequence` namespace."""

from ckeras.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
