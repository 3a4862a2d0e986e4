"""Legacy Keras preprocessing: `text` (Tokenizer), `sequence` (pad_sequences) and
`image` (load_img, ImageDataGenerator, ...; image files need Pillow)."""

from ckeras.preprocessing import image, sequence, text

__all__ = ["image", "sequence", "text"]

# tf.keras 2 also exported the dataset builders here.
from ckeras.utils.image_dataset import image_dataset_from_directory  # noqa: E402,F401
from ckeras.utils.text_dataset import text_dataset_from_directory  # noqa: E402,F401
from ckeras.utils.timeseries_dataset import timeseries_dataset_from_array  # noqa: E402,F401
