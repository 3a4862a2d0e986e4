"""keras.ops.image: values against real Keras on JAX (tests/data/keras_ops/image.npz,
made by make_image.py there) and gradients against float64 central differences."""
import os

import functools

import numpy as np
import pytest

from ckeras import ops
from ckeras.ops import image
from ckeras.testing import check_op_gradients

RNG = np.random.default_rng(4)
GOLDEN = np.load(os.path.join(os.path.dirname(__file__), "..", "data", "keras_ops", "image.npz"))
I = ops.image

CASES = {
    "resize_crop": lambda a: I.resize(a, (4, 8), crop_to_aspect_ratio=True),
    "resize_pad": lambda a: I.resize(a, (8, 4), pad_to_aspect_ratio=True, fill_value=0.5),
    "resize_cf_single": lambda a: I.resize(a, (5, 3), data_format="channels_first"),
    "resize_uint8": lambda a: I.resize(a, (5, 6)),
    "crop": lambda a: I.crop_images(a, top_cropping=1, left_cropping=2, target_height=4,
                                    target_width=5),
    "crop2": lambda a: I.crop_images(a, bottom_cropping=2, right_cropping=1, target_height=3,
                                     target_width=4),
    "pad": lambda a: I.pad_images(a, top_padding=1, bottom_padding=2, left_padding=0,
                                  target_width=9),
    "gray": I.rgb_to_grayscale,
    "rgb_to_hsv": I.rgb_to_hsv,
    "hsv_to_rgb": I.hsv_to_rgb,
    "affine_single": I.affine_transform,
    "map_nearest_0": lambda a, c: I.map_coordinates(a, c, 0, "nearest"),
    "patches": lambda a: I.extract_patches(a, 3),
    "patches_same": lambda a: I.extract_patches(a, (2, 3), strides=(2, 1), padding="same"),
    "patches_3d": lambda a: I.extract_patches_3d(a, (2, 2, 3)),
    "blur": lambda a: I.gaussian_blur(a, (3, 5), (1.0, 2.0)),
    "sobel": I.sobel_edges,
    "scale_translate": lambda a: I.scale_and_translate(
        a, (2, 6, 4, 3), np.array([1.3, 0.6]), np.array([0.5, -1.0]), (1, 2), "bicubic"),
    "scale_translate_noaa": lambda a: I.scale_and_translate(
        a, (2, 3, 9, 3), np.array([0.5, 1.2]), np.array([0.2, 0.0]), (1, 2), "lanczos3",
        antialias=False),
    "perspective": I.perspective_transform,
    "perspective_nearest": lambda a, s, e: I.perspective_transform(
        a, s, e, interpolation="nearest", fill_value=0.5),
    "ssim": I.ssim,
    "ssim_small": lambda a, c: I.ssim(a, c, max_val=2.0, filter_size=3, filter_sigma=0.8),
}
MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
for _interp in image.RESIZE_INTERPOLATIONS:
    CASES[f"resize_up_{_interp}"] = (lambda m: lambda a: I.resize(a, (8, 9), m))(_interp)
    CASES[f"resize_down_{_interp}"] = (lambda m: lambda a: I.resize(a, (3, 4), m))(_interp)
    CASES[f"resize_down_aa_{_interp}"] = (
        lambda m: lambda a: I.resize(a, (2, 3), m, antialias=True))(_interp)
for _mode in MODES:
    CASES[f"map_{_mode}_1"] = (lambda m: lambda a, c: I.map_coordinates(a, c, 1, m, 0.2))(_mode)
    for _interp in ("bilinear", "nearest"):
        CASES[f"affine_{_mode}_{_interp}"] = (lambda m, i: lambda a, t: I.affine_transform(
            a, t, interpolation=i, fill_mode=m, fill_value=0.3))(_mode, _interp)


def _load(key):
    a = GOLDEN[key]
    return GOLDEN[str(a)] if a.dtype.kind == "U" else a   # a shared input, by name


def _golden(name):
    ins, outs = [], []
    for prefix, dest in (("in", ins), ("out", outs)):
        i = 0
        while f"{name}__{prefix}{i}" in GOLDEN.files:
            dest.append(_load(f"{name}__{prefix}{i}"))
            i += 1
    return ins, outs


def test_every_golden_case_is_checked():
    assert {k.split("__")[0] for k in GOLDEN.files} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras(name):
    ins, (want,) = _golden(name)
    got = np.asarray(CASES[name](*ins))
    assert got.shape == want.shape and got.dtype == want.dtype
    if want.dtype.kind in "iu":
        assert np.abs(got.astype(int) - want).max() <= 1   # rounding of x.5 after float error
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-5)


check = functools.partial(check_op_gradients, rng=RNG)


@pytest.mark.parametrize("interp", image.RESIZE_INTERPOLATIONS)
def test_resize_gradient(interp):
    x = RNG.uniform(size=(2, 5, 4, 2))
    check(lambda a: I.resize(a, (7, 3), interp), x)
    check(lambda a: I.resize(a, (2, 3), interp, antialias=True, crop_to_aspect_ratio=True), x)


def test_other_gradients():
    x = RNG.uniform(0.05, 0.95, size=(2, 5, 6, 3))
    check(lambda a: I.crop_images(a, 1, 1, target_height=3, target_width=4), x)
    check(lambda a: I.pad_images(a, 1, 2, 0, 1), x)
    check(I.rgb_to_grayscale, x)
    check(I.rgb_to_hsv, x)
    check(I.hsv_to_rgb, x)
    check(lambda a: I.gaussian_blur(a, 3, 0.8), x)
    check(I.sobel_edges, x)
    check(lambda a: I.extract_patches(a, 2, padding="same"), x)
    t = np.array([0.9, -0.2, 1.3, 0.15, 1.1, -0.7, 0, 0])
    check(lambda a: I.affine_transform(a, t, fill_mode="reflect"), x)
    coords = RNG.uniform(-1, 6, size=(3, 4)) + 0.013   # away from integer kinks
    coords[2] = RNG.integers(0, 2, size=4) + 0.37
    check(lambda a, c: I.map_coordinates(a[0], c, 1, "constant", 0.5), x, coords)
    check(lambda a, c: I.ssim(a, c, filter_size=3), x, RNG.uniform(size=x.shape))
    check(lambda a: I.scale_and_translate(a, (2, 4, 9, 3), np.array([0.7, 1.4]),
                                          np.array([0.3, -0.5]), (1, 2), "linear"), x)
    start = np.array([[0, 0], [5, 0], [0, 4], [5, 4]], float)
    check(lambda a: I.perspective_transform(a, start, start * 0.9 + 0.2), x)


def test_errors():
    x = np.zeros((1, 4, 4, 3), np.float32)
    with pytest.raises(ValueError, match="interpolation"):
        I.resize(x, (2, 2), "area")
    with pytest.raises(ValueError, match="Only one"):
        I.resize(x, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="exactly two"):
        I.crop_images(x, 1, 1)
    with pytest.raises(ValueError, match="rank"):
        I.rgb_to_grayscale(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="float"):
        I.rgb_to_hsv(x.astype(np.uint8))
    with pytest.raises(NotImplementedError, match="projective"):
        I.affine_transform(x, [1, 0, 0, 0, 1, 0, 0.1, 0])
    with pytest.raises(ValueError, match="order"):
        I.map_coordinates(x[0, :, :, 0], np.zeros((2, 3)), 3)


def test_resize_weights_rows_sum_to_one():
    for interp in image.RESIZE_INTERPOLATIONS:
        for n, m in ((7, 3), (3, 8), (5, 5)):
            np.testing.assert_allclose(image.resize_weights(n, m, interp).sum(axis=1), 1,
                                       rtol=1e-12)


def test_in_a_functional_model_and_saved(tmp_path):
    import ckeras
    x = ckeras.Input((4, 6, 4))
    y = ops.nn.glu(I.resize(x, (8, 8), "bicubic"))
    model = ckeras.Model(x, y)
    assert tuple(y.shape) == (None, 8, 8, 2)
    a = RNG.uniform(size=(2, 4, 6, 4)).astype(np.float32)
    want = np.asarray(ops.glu(I.resize(a, (8, 8), "bicubic")))
    np.testing.assert_array_equal(np.asarray(model(a)), want)
    model.save(tmp_path / "m.keras")
    again = ckeras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(np.asarray(again(a)), want)


def test_channels_first_matches_channels_last():
    x = RNG.uniform(size=(2, 6, 5, 3))
    cf = x.transpose(0, 3, 1, 2)
    pairs = [
        (lambda a, f: I.extract_patches(a, 2, data_format=f), True),
        (lambda a, f: I.gaussian_blur(a, 3, 1.0, data_format=f), True),
        (lambda a, f: I.affine_transform(a, [1, 0.1, 0.5, 0, 1, -0.2, 0, 0], data_format=f), True),
        (lambda a, f: I.rgb_to_hsv(a, data_format=f), True),
        (lambda a, f: I.ssim(a, a * 0.9, filter_size=3, data_format=f), False),
    ]
    for fn, image_out in pairs:
        last, first = np.asarray(fn(x, "channels_last")), np.asarray(fn(cf, "channels_first"))
        np.testing.assert_allclose(first.transpose(0, 2, 3, 1) if image_out else first, last,
                                   rtol=1e-12, atol=1e-12)


def test_elastic_transform():
    x = RNG.uniform(size=(2, 9, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(I.elastic_transform(x, alpha=0.0, seed=1), x, atol=1e-6)
    a, b = I.elastic_transform(x, 5.0, 1.0, seed=3), I.elastic_transform(x, 5.0, 1.0, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == np.float32
    assert not np.allclose(a, x)
    # one noise field moves x and y alike (Keras's draws share the seed): a pattern
    # constant along the anti-diagonal direction is left unchanged
    yy, xx = np.mgrid[0:9, 0:8]
    diag = np.broadcast_to((yy - xx)[None, :, :, None], (1, 9, 8, 1)).astype(np.float64)
    out = np.asarray(I.elastic_transform(diag, 2.0, 1.0, fill_mode="nearest", seed=4))
    inner = (slice(None), slice(3, 6), slice(3, 5))
    np.testing.assert_allclose(out[inner], diag[inner], atol=1e-9)
    check(lambda m: I.elastic_transform(m, 3.0, 1.0, seed=5), x[:1, :5, :5].astype(np.float64))
    with pytest.raises(ValueError, match="fill_mode"):
        I.elastic_transform(x, fill_mode="edge")


@pytest.mark.parametrize("interp", image.RESIZE_INTERPOLATIONS)
def test_resizing_layer_uses_the_op(interp):
    from ckeras import layers
    x = RNG.uniform(size=(2, 7, 9, 3)).astype(np.float32)
    layer = layers.Resizing(3, 4, interpolation=interp, antialias=True)
    np.testing.assert_array_equal(layer(x), I.resize(x, (3, 4), interp, antialias=True))
    again = layers.Resizing.from_config(layer.get_config())
    assert again.antialias and again.interpolation == interp
