"""Golden values of keras.ops.image for tests/ops/test_image_ops.py.

Run with real Keras on JAX (never imported by the tests):
    KERAS_BACKEND=jax /work/venvs/peers/bin/python tests/data/keras_ops/make_image.py
Writes image.npz beside this script (<case>__in<i>, or the name of an earlier entry
holding the same array; <case>__out<i>).
"""
import os

import numpy as np
from keras import ops

rng = np.random.default_rng(8)
f32 = np.float32
out = {}
_stored = {}   # id of an input array -> the key it was first stored under


def case(name, fn, *inputs):
    res = fn(*inputs)
    for i, a in enumerate(inputs):
        key = f"{name}__in{i}"
        # an input already stored is written as the name of its first copy (keeps the file small)
        out[key] = np.asarray(_stored[id(a)]) if id(a) in _stored else np.asarray(a)
        _stored.setdefault(id(a), key)
    res = res if isinstance(res, (tuple, list)) else (res,)
    for i, r in enumerate(res):
        out[f"{name}__out{i}"] = np.asarray(r)


img = rng.uniform(size=(2, 5, 7, 3)).astype(f32)
for interp in ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5"):
    case(f"resize_up_{interp}", lambda a: ops.image.resize(a, (8, 9), interpolation=interp), img)
    case(f"resize_down_{interp}", lambda a: ops.image.resize(a, (3, 4), interpolation=interp), img)
    case(f"resize_down_aa_{interp}", lambda a: ops.image.resize(
        a, (2, 3), interpolation=interp, antialias=True), img)
case("resize_crop", lambda a: ops.image.resize(a, (4, 8), crop_to_aspect_ratio=True), img)
case("resize_pad", lambda a: ops.image.resize(a, (8, 4), pad_to_aspect_ratio=True,
                                              fill_value=0.5), img)
case("resize_cf_single", lambda a: ops.image.resize(a, (5, 3), data_format="channels_first"),
     img[0].transpose(2, 0, 1))
case("resize_uint8", lambda a: ops.image.resize(a, (5, 6)),
     (img * 255).astype(np.uint8))

case("crop", lambda a: ops.image.crop_images(a, top_cropping=1, left_cropping=2,
                                             target_height=4, target_width=5), img)
case("crop2", lambda a: ops.image.crop_images(a, bottom_cropping=2, right_cropping=1,
                                              target_height=3, target_width=4), img)
case("pad", lambda a: ops.image.pad_images(a, top_padding=1, bottom_padding=2, left_padding=0,
                                           target_width=9), img)
case("gray", ops.image.rgb_to_grayscale, img)
hsvin = np.concatenate([img, np.array([[[[0.5, 0.5, 0.5], [0.2, 0.9, 0.9], [0.0, 0.0, 0.0]]]] * 2,
                                      f32).repeat(5, 1)], axis=2)
case("rgb_to_hsv", ops.image.rgb_to_hsv, hsvin)
case("hsv_to_rgb", ops.image.hsv_to_rgb, img)

tr = np.array([[0.9, -0.2, 1.3, 0.15, 1.1, -0.7, 0, 0], [1.2, 0.3, -2.0, -0.1, 0.8, 1.5, 0, 0]],
              f32)
for mode in ("constant", "nearest", "wrap", "mirror", "reflect"):
    for interp in ("bilinear", "nearest"):
        case(f"affine_{mode}_{interp}", lambda a, t: ops.image.affine_transform(
            a, t, interpolation=interp, fill_mode=mode, fill_value=0.3), img, tr)
case("affine_single", lambda a, t: ops.image.affine_transform(a, t), img[0], tr[0])

coords = rng.uniform(-1.5, 6.5, size=(3, 4, 3)).astype(f32)
vol = rng.normal(size=(5, 6, 3)).astype(f32)
for mode in ("constant", "nearest", "wrap", "mirror", "reflect"):
    case(f"map_{mode}_1", lambda a, c: ops.image.map_coordinates(a, c, 1, mode, 0.2), vol, coords)
case("map_nearest_0", lambda a, c: ops.image.map_coordinates(a, c, 0, "nearest"), vol,
     np.round(coords * 2) / 2)

case("patches", lambda a: ops.image.extract_patches(a, 3), img)
case("patches_same", lambda a: ops.image.extract_patches(a, (2, 3), strides=(2, 1),
                                                         padding="same"), img)
case("patches_3d", lambda a: ops.image.extract_patches_3d(a, (2, 2, 3)),
     rng.normal(size=(1, 4, 4, 3, 2)).astype(f32))
# data_format given: Keras 3.15 on JAX reads None as channels_first in eager gaussian_blur
case("blur", lambda a: ops.image.gaussian_blur(a, (3, 5), (1.0, 2.0),
                                               data_format="channels_last"), img)
case("sobel", ops.image.sobel_edges, img)

case("scale_translate", lambda a: ops.image.scale_and_translate(
    a, (2, 6, 4, 3), np.array([1.3, 0.6]), np.array([0.5, -1.0]), (1, 2), "bicubic"), img)
case("scale_translate_noaa", lambda a: ops.image.scale_and_translate(
    a, (2, 3, 9, 3), np.array([0.5, 1.2]), np.array([0.2, 0.0]), (1, 2), "lanczos3",
    antialias=False), img)
start = np.array([[[0, 0], [6, 0], [0, 4], [6, 4]]] * 2, f32)
end = np.array([[[1, 0.5], [5.5, 0.2], [0.3, 3.7], [6.2, 4.4]],
                [[0.2, -0.5], [6.5, 0.1], [-0.3, 3.2], [5.2, 4.1]]], f32)
case("perspective", lambda a, s, e: ops.image.perspective_transform(a, s, e), img, start, end)
case("perspective_nearest", lambda a, s, e: ops.image.perspective_transform(
    a, s, e, interpolation="nearest", fill_value=0.5), img, start, end)
img2 = np.clip(img + 0.1 * rng.normal(size=img.shape), 0, 1).astype(f32)
big1, big2 = rng.uniform(size=(2, 12, 13, 2)).astype(f32), rng.uniform(size=(2, 12, 13, 2)).astype(f32)
case("ssim", lambda a, c: ops.image.ssim(a, c), big1, big2)
case("ssim_small", lambda a, c: ops.image.ssim(a, c, max_val=2.0, filter_size=3, filter_sigma=0.8),
     img, img2)

np.savez_compressed(os.path.join(os.path.dirname(os.path.abspath(__file__)), "image.npz"), **out)
print(len(out), "arrays")
