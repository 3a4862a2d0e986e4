"""preprocessing.image: load_img / img_to_array / array_to_img / save_img /
smart_resize (Pillow is an optional dependency)."""
import io

import numpy as np
import pytest

Image = pytest.importorskip("PIL.Image")

import ckeras as keras  # noqa: E402
from ckeras.preprocessing import image  # noqa: E402


def test_round_trip_png(tmp_path, rng):
    x = rng.integers(0, 256, (5, 7, 3)).astype(np.float32)
    path = tmp_path / "a.png"
    image.save_img(path, x, scale=False)
    img = image.load_img(path)
    assert img.size == (7, 5) and img.mode == "RGB"
    np.testing.assert_array_equal(image.img_to_array(img), x)
    assert image.img_to_array(img, data_format="channels_first").shape == (3, 5, 7)
    gray = image.img_to_array(image.load_img(str(path), color_mode="grayscale"))
    assert gray.shape == (5, 7, 1) and gray.dtype == np.float32
    rgba = image.load_img(io.BytesIO(path.read_bytes()), color_mode="rgba")
    assert rgba.mode == "RGBA"


def test_array_to_img_scales_min_max():
    x = np.array([[[-1.0], [1.0]]])
    img = image.array_to_img(x)
    assert img.mode == "L" and np.asarray(img).tolist() == [[0, 255]]
    np.testing.assert_array_equal(np.asarray(image.array_to_img(np.full((2, 2, 3), 9.0),
                                                                scale=False)), 9)
    with pytest.raises(ValueError, match="rank 3"):
        image.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="channel"):
        image.array_to_img(np.zeros((2, 2, 2)))


def test_target_size_and_keep_aspect_ratio(tmp_path):
    x = np.zeros((10, 20, 3), np.float32)
    x[:, 5:15] = 255  # a white centre band: the aspect-ratio crop keeps only it
    path = tmp_path / "b.png"
    image.save_img(path, x, scale=False)
    resized = image.load_img(path, target_size=(4, 6))
    assert resized.size == (6, 4)
    cropped = image.img_to_array(image.load_img(path, target_size=(4, 4),
                                                keep_aspect_ratio=True))
    assert cropped.shape == (4, 4, 3) and cropped.min() == 255
    with pytest.raises(ValueError, match="interpolation"):
        image.load_img(path, target_size=(3, 3), interpolation="magic")
    with pytest.raises(ValueError, match="color_mode"):
        image.load_img(path, color_mode="cmyk")


def test_jpeg_rgba_warns_and_converts(tmp_path):
    with pytest.warns(UserWarning, match="RGBA"):
        image.save_img(tmp_path / "c.jpg", np.full((3, 3, 4), 200.0), scale=False)
    assert image.load_img(tmp_path / "c.jpg").size == (3, 3)


def test_smart_resize_crops_then_resizes():
    x = np.zeros((10, 20, 1), np.float32)
    x[:, 5:15] = 1.0
    out = image.smart_resize(x, (5, 5))
    assert out.shape == (5, 5, 1)
    np.testing.assert_allclose(out, 1.0, atol=1e-6)
    batch = image.smart_resize(np.stack([x, x]), (5, 5))
    assert batch.shape == (2, 5, 5, 1)


def test_module_paths():
    assert keras.preprocessing.image.load_img is keras.utils.load_img
    assert keras.utils.img_to_array is image.img_to_array
    from ckeras.preprocessing.image import ImageDataGenerator  # noqa: F401
