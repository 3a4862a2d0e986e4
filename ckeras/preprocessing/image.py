"""``keras.preprocessing.image``: image files <-> arrays (``image_utils.py``)
and tf.keras 2's ImageDataGenerator (augmentation + flow / flow_from_directory
/ flow_from_dataframe, ``image_data_generator.py``).

Image files are read and written with Pillow, an optional dependency:
``pip install "ckeras[image]"`` (or ``pip install pillow``).
"""
from ckeras.preprocessing.image_utils import (  # noqa: F401
    array_to_img, img_to_array, load_img, pil_image, resize_array, save_img, smart_resize)
from ckeras.preprocessing.image_data_generator import (  # noqa: F401
    DataFrameIterator, DirectoryIterator, ImageDataGenerator, Iterator, NumpyArrayIterator,
    apply_affine_transform, apply_brightness_shift, apply_channel_shift)
