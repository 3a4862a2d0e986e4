"""``image_dataset_from_directory``: a folder of class subfolders of images
-> batches of (images, labels). Images are read with Pillow on demand."""
import numpy as np

from ckeras.utils.dataset_utils import files_dataset

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True):
    """Keras's arguments and file order; images are float32 (batch, height,
    width, channels) with values 0..255, labels int32 / one-hot float32 /
    float32 (n, 1) for label_mode int / categorical / binary. Resizing uses
    Pillow's filters, so pixel values can differ slightly from TensorFlow's."""
    from ckeras.preprocessing.image_utils import _data_format, pil_image
    pil_image("image_dataset_from_directory")
    if color_mode not in _CHANNELS:
        raise ValueError(f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. '
                         f"Received: color_mode={color_mode}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can "
                         "be set to `True`.")
    image_size = tuple(int(d) for d in image_size)
    channels_first = _data_format(data_format) == "channels_first"

    def load(path):
        return load_image(path, image_size, color_mode, interpolation,
                          crop_to_aspect_ratio, pad_to_aspect_ratio, channels_first)
    return files_dataset(directory, ALLOWLIST_FORMATS, load, labels, label_mode, class_names,
                         batch_size, shuffle, seed, validation_split, subset, follow_links,
                         verbose)


def load_image(path, image_size, color_mode, interpolation, crop, pad, channels_first):
    from ckeras.preprocessing.image_utils import img_to_array, load_img, resize_array
    img = img_to_array(load_img(path, color_mode=color_mode), "channels_last")
    height, width = img.shape[:2]
    th, tw = image_size
    if crop:
        crop_h = max(min(height, int(width * th / tw)), 1)
        crop_w = max(min(width, int(height * tw / th)), 1)
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        img = img[top:top + crop_h, left:left + crop_w]
    elif pad:
        pad_h = max(height, int(width * th / tw))
        pad_w = max(width, int(height * tw / th))
        canvas = np.zeros((pad_h, pad_w, img.shape[2]), np.float32)
        top, left = (pad_h - height) // 2, (pad_w - width) // 2
        canvas[top:top + height, left:left + width] = img
        img = canvas
    if img.shape[:2] != image_size:
        img = resize_array(img, image_size, interpolation)
    return img.transpose(2, 0, 1) if channels_first else img
