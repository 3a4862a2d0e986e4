"""Legacy Keras preprocessing: `text` (Tokenizer) and `sequence` (pad_sequences)."""

from ckeras.preprocessing import sequence, text

__all__ = ["sequence", "text"]
