"""Legacy Keras preprocessing: `text` (Tokenizer), `sequence` (pad_sequences) and
`image` (load_img, ImageDataGenerator, ...; image files need Pillow)."""

from ckeras.preprocessing import image, sequence, text

__all__ = ["image", "sequence", "text"]
