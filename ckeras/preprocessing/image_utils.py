"""Image files <-> arrays: load_img, img_to_array, array_to_img, save_img,
smart_resize (public as ``keras.preprocessing.image`` / ``keras.utils``).

Image files are read and written with Pillow, an optional dependency:
``pip install "ckeras[image]"`` (or ``pip install pillow``).
"""
import io
import os
import pathlib
import warnings

import numpy as np

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def pil_image(what):
    """PIL.Image, or an ImportError saying how to get it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{what} reads and writes image files with Pillow, which is not "
                          "installed. Install it with: pip install \"ckeras[image]\" "
                          "(or: pip install pillow).") from None
    return Image


def _resample(Image, interpolation):
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"Invalid interpolation method {interpolation} specified. "
                         f"Supported methods are {', '.join(_INTERPOLATIONS)}")
    resampling = getattr(Image, "Resampling", Image)
    return getattr(resampling, interpolation.upper())


def _data_format(data_format):
    from ckeras.backend import image_data_format
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}.")
    return data_format


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """A PIL image from a file path (str, bytes, pathlib.Path) or io.BytesIO,
    converted to ``color_mode`` ("grayscale", "rgb", "rgba") and resized to
    ``target_size`` = (height, width) if given; ``keep_aspect_ratio`` crops
    the centre to the target's aspect ratio before resizing."""
    Image = pil_image("load_img")
    if isinstance(path, io.BytesIO):
        img = Image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        with open(os.fspath(path), "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode in ("rgb", "rgba"):
        if img.mode != color_mode.upper():
            img = img.convert(color_mode.upper())
    else:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if target_size is not None:
        size = (int(target_size[1]), int(target_size[0]))  # PIL: (width, height)
        if img.size != size:
            resample = _resample(Image, interpolation)
            box = None
            if keep_aspect_ratio:
                width, height = img.size
                crop_h = min(height, width * size[1] // size[0])
                crop_w = min(width, height * size[0] // size[1])
                top, left = (height - crop_h) // 2, (width - crop_w) // 2
                box = (left, top, left + crop_w, top + crop_h)
            img = img.resize(size, resample, box=box)
    return img


def img_to_array(img, data_format=None, dtype=None):
    """(height, width, channels) float32 array of a PIL image (channels first
    with data_format="channels_first"); a grayscale image gets 1 channel."""
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or "float32")
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x[None] if data_format == "channels_first" else x[:, :, None]
    raise ValueError(f"Unsupported image shape: {x.shape}")


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A PIL image of a (height, width, 1|3|4) array; ``scale`` maps the
    array's min..max to 0..255 first."""
    data_format = _data_format(data_format)
    Image = pil_image("array_to_img")
    x = np.array(x, dtype=dtype or "float32")
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). "
                         f"Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return Image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write array ``x`` as an image file (format from the suffix unless given)."""
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format or None, **kwargs)


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last"):
    """Resize an image (or a batch) to ``size`` = (height, width), first
    cropping the centre to the target aspect ratio (no distortion)."""
    x = np.asarray(x)
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    if x.ndim not in (3, 4):
        raise ValueError("Expected an image array with shape `(height, width, channels)`, "
                         "or `(batch_size, height, width, channels)`, but got input with "
                         f"incorrect rank, of shape {x.shape}.")
    last = data_format == "channels_last"
    height, width = (x.shape[-3], x.shape[-2]) if last else (x.shape[-2], x.shape[-1])
    th, tw = size
    crop_h = max(min(height, int(width * th / tw)), 1)
    crop_w = max(min(width, int(height * tw / th)), 1)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    if last:
        x = x[..., top:top + crop_h, left:left + crop_w, :]
    else:
        x = x[..., top:top + crop_h, left:left + crop_w]
    images = x if x.ndim == 4 else x[None]
    out = np.stack([resize_array(im, size, interpolation, last) for im in images])
    return out if x.ndim == 4 else out[0]


def resize_array(image, size, interpolation="bilinear", channels_last=True):
    """Resize one float image array to (height, width) with Pillow, per channel
    (float32 'F' mode, so values are not clipped to 0..255)."""
    Image = pil_image("resize")
    image = np.asarray(image, np.float32)
    if not channels_last:
        image = image.transpose(1, 2, 0)
    resample = _resample(Image, "box" if interpolation == "area" else interpolation)
    planes = [np.asarray(Image.fromarray(np.ascontiguousarray(image[:, :, c]), "F")
                         .resize((int(size[1]), int(size[0])), resample))
              for c in range(image.shape[2])]
    out = np.stack(planes, axis=-1)
    return out if channels_last else out.transpose(2, 0, 1)
