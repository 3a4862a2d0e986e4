"""ZeroPadding / Cropping / UpSampling 1D-3D: values, shapes, float64 finite
differences, configs (Keras 3 keys and forms), errors. Real-Keras values are
checked in test_convolutional_keras_fixtures.py (reshaping1d/2d/3d)."""
import numpy as np
import pytest

from ckeras.layers import reshaping as R
from ckeras.layers.layer import deserialize_layer, serialize_layer
from ckeras.testing import check_layer_gradients


CASES = [
    (R.ZeroPadding1D, dict(), (2, 5, 3)),
    (R.ZeroPadding1D, dict(padding=(2, 0), data_format="channels_first"), (2, 3, 4)),
    (R.ZeroPadding2D, dict(padding=((1, 2), (0, 3))), (2, 3, 4, 2)),
    (R.ZeroPadding2D, dict(padding=(2, 1), data_format="channels_first"), (2, 2, 3, 3)),
    (R.ZeroPadding3D, dict(padding=((1, 0), (0, 2), (1, 1))), (2, 2, 3, 2, 2)),
    (R.Cropping1D, dict(cropping=(1, 2)), (2, 6, 3)),
    (R.Cropping2D, dict(cropping=((1, 0), (2, 1))), (2, 4, 5, 2)),
    (R.Cropping2D, dict(cropping=1, data_format="channels_first"), (2, 2, 4, 3)),
    (R.Cropping3D, dict(cropping=((0, 1), (1, 1), (0, 2))), (2, 3, 4, 4, 2)),
    (R.UpSampling1D, dict(size=3), (2, 4, 3)),
    (R.UpSampling2D, dict(size=(2, 3)), (2, 3, 2, 2)),
    (R.UpSampling2D, dict(size=2, data_format="channels_first"), (2, 2, 3, 2)),
    (R.UpSampling2D, dict(size=(3, 2), interpolation="bilinear"), (2, 3, 4, 2)),
    (R.UpSampling2D, dict(size=2, interpolation="bilinear", data_format="channels_first"),
     (2, 2, 1, 3)),
    (R.UpSampling3D, dict(size=(2, 1, 3)), (2, 2, 3, 2, 2)),
]
IDS = [f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("cls, kw, shape", CASES, ids=IDS)
def test_shapes_gradients_and_configs(rng, cls, kw, shape):
    layer = cls(**kw)
    x = rng.standard_normal(shape)
    y = layer(x.astype(np.float32))
    assert y.dtype == np.float32
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + y.shape[1:]
    check_layer_gradients(cls(**kw), x)
    again = deserialize_layer(serialize_layer(layer))
    np.testing.assert_array_equal(again(x.astype(np.float32)), y)


def test_zero_padding_and_cropping_values(rng):
    x = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    y = R.ZeroPadding2D(((1, 2), (0, 3)))(x)
    assert y.shape == (2, 6, 7, 2)
    np.testing.assert_array_equal(y[:, 1:4, 0:4], x)
    assert not y[:, 0].any() and not y[:, 4:].any() and not y[:, :, 4:].any()
    c = R.Cropping2D(((1, 2), (0, 3)))(y)
    np.testing.assert_array_equal(c, x)
    x1 = rng.standard_normal((2, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(R.Cropping1D((1, 2))(x1), x1[:, 1:4])
    np.testing.assert_array_equal(R.ZeroPadding1D(2)(x1)[:, 2:-2], x1)


def test_upsampling_nearest_values(rng):
    x = rng.standard_normal((2, 3, 2, 4)).astype(np.float32)
    y = R.UpSampling2D((2, 3))(x)
    np.testing.assert_array_equal(y, x.repeat(2, axis=1).repeat(3, axis=2))
    x1 = rng.standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(R.UpSampling1D(2)(x1), x1.repeat(2, axis=1))
    x3 = rng.standard_normal((1, 2, 2, 2, 1)).astype(np.float32)
    np.testing.assert_array_equal(R.UpSampling3D(2)(x3),
                                  x3.repeat(2, axis=1).repeat(2, axis=2).repeat(2, axis=3))


def test_bilinear_half_pixel_centres():
    # Upsampling [0, 1] by 2: samples at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
    x = np.array([0.0, 1.0], np.float32).reshape(1, 1, 2, 1)
    y = R.UpSampling2D((1, 2), interpolation="bilinear")(x)
    np.testing.assert_allclose(y.reshape(-1), [0.0, 0.25, 0.75, 1.0])
    m = R.bilinear_matrix(3, 4, np.float64)
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    np.testing.assert_allclose(m @ np.ones(3), 1.0)


def test_configs_match_keras_forms():
    assert R.ZeroPadding2D(2).get_config()["padding"] == ((2, 2), (2, 2))
    assert R.ZeroPadding2D((1, 3)).get_config()["padding"] == ((1, 1), (3, 3))
    assert R.ZeroPadding1D(3).get_config()["padding"] == (3, 3)
    c1 = R.Cropping1D().get_config()
    assert c1["cropping"] == (1, 1) and "data_format" not in c1
    assert R.Cropping2D().get_config()["cropping"] == ((0, 0), (0, 0))
    assert R.Cropping3D(2).get_config()["cropping"] == ((2, 2),) * 3
    up = R.UpSampling2D().get_config()
    assert (up["size"], up["interpolation"], up["data_format"]) == ((2, 2), "nearest",
                                                                    "channels_last")
    assert R.UpSampling1D(4).get_config()["size"] == 4
    assert R.UpSampling3D().get_config()["size"] == (2, 2, 2)
    # From a Keras JSON config (tuples arrive as lists).
    z = R.ZeroPadding2D.from_config({"name": "z", "padding": [[1, 2], [3, 4]],
                                     "data_format": "channels_last"})
    assert z.padding == ((1, 2), (3, 4))


@pytest.mark.parametrize("make, exc, pattern", [
    (lambda: R.ZeroPadding2D(-1), ValueError, "negative"),
    (lambda: R.ZeroPadding2D((1, 2, 3)), ValueError, "padding"),
    (lambda: R.Cropping2D(((1, 2), (3,))), ValueError, "cropping"),
    (lambda: R.UpSampling1D(2.0), TypeError, "integer"),
    (lambda: R.UpSampling2D(0), ValueError, "size"),
    (lambda: R.UpSampling2D(2, interpolation="cubic"), ValueError, "interpolation"),
    (lambda: R.UpSampling2D(2, interpolation="bicubic"), NotImplementedError, "bicubic"),
    (lambda: R.ZeroPadding3D(1, data_format="NDHWC"), ValueError, "data_format"),
])
def test_bad_arguments(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make()


def test_bad_inputs():
    with pytest.raises(ValueError, match="smaller than the corresponding"):
        R.Cropping2D(((2, 2), (0, 0)), name="crop")(np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(ValueError, match="expected ndim=4"):
        R.ZeroPadding2D()(np.zeros((1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="expected ndim=3"):
        R.UpSampling1D().compute_output_shape((None, 4, 4, 1))
