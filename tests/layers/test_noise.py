"""SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout:
identity at inference, statistics and mask shapes in training, backward,
seeds, configs."""
import json
import math

import numpy as np
import pytest

from ckeras import random as ck_random
from ckeras.layers.noise import (AlphaDropout, GaussianDropout, GaussianNoise,
                                 SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)

LAYERS = [
    (lambda: SpatialDropout1D(0.5, seed=1), (4, 6, 3)),
    (lambda: SpatialDropout2D(0.5, seed=1), (2, 3, 4, 5)),
    (lambda: SpatialDropout3D(0.5, seed=1), (2, 2, 3, 2, 4)),
    (lambda: GaussianNoise(0.3, seed=1), (5, 4)),
    (lambda: GaussianDropout(0.3, seed=1), (5, 4)),
    (lambda: AlphaDropout(0.3, seed=1), (5, 4)),
]


@pytest.mark.parametrize("make,shape", LAYERS)
def test_identity_at_inference(make, shape):
    layer = make()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    y, back = layer.forward(x, training=False)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(layer(x), x)
    dy = np.ones_like(x)
    np.testing.assert_array_equal(back(dy), dy)


@pytest.mark.parametrize("make,shape", LAYERS)
def test_training_changes_input_keeps_shape_dtype_and_backward_is_the_jacobian(make, shape):
    layer = make()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32) + 3
    y, back = layer.forward(x, training=True)
    assert y.shape == x.shape and y.dtype == np.float32
    assert not np.allclose(y, x)
    # Every noise layer is affine in x for fixed noise: backward(dy) must equal
    # the finite-difference directional derivative.
    layer64 = make()
    x64 = x.astype(np.float64)
    d = np.random.default_rng(1).standard_normal(shape)
    y1, back64 = layer64.forward(x64, training=True)
    y2, _ = make().forward(x64 + d, training=True)     # same seed, same noise
    r = np.random.default_rng(2).standard_normal(shape)
    np.testing.assert_allclose((r * (y2 - y1)).sum(), (back64(r) * d).sum(), rtol=1e-9)


@pytest.mark.parametrize("cls,shape,kept_axes", [
    (SpatialDropout1D, (64, 7, 16), (1,)),
    (SpatialDropout2D, (32, 3, 4, 16), (1, 2)),
    (SpatialDropout3D, (16, 2, 3, 2, 16), (1, 2, 3)),
])
def test_spatial_dropout_drops_whole_channels(cls, shape, kept_axes):
    layer = cls(0.4, seed=3)
    x = np.ones(shape, np.float32)
    y, back = layer.forward(x, training=True)
    # One value per (sample, channel), either 0 or 1 / (1 - rate).
    np.testing.assert_array_equal(y.max(axis=kept_axes), y.min(axis=kept_axes))
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.6], rtol=1e-6)
    assert abs((y == 0).mean() - 0.4) < 0.1
    np.testing.assert_array_equal(back(np.ones_like(x)), y)


def test_spatial_dropout2d_channels_first():
    layer = SpatialDropout2D(0.5, data_format="channels_first", seed=0)
    y, _ = layer.forward(np.ones((8, 6, 3, 4), np.float32), training=True)
    np.testing.assert_array_equal(y.max(axis=(2, 3)), y.min(axis=(2, 3)))
    assert 0 < (y == 0).mean() < 1


def test_spatial_dropout_rank_and_rate_errors():
    with pytest.raises(ValueError, match=r"sd1.*ndim=3"):
        SpatialDropout1D(0.5, name="sd1").forward(np.ones((2, 3), np.float32), training=True)
    with pytest.raises(ValueError, match="SpatialDropout2D.*rate"):
        SpatialDropout2D(1.0)
    with pytest.raises(ValueError, match="data_format"):
        SpatialDropout2D(0.1, data_format="nhwc")


def test_gaussian_noise_statistics():
    layer = GaussianNoise(0.5, seed=0)
    x = np.full((400, 250), 2.0, np.float32)
    noise = layer.forward(x, training=True)[0] - x
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01


def test_gaussian_dropout_statistics():
    rate = 0.2
    layer = GaussianDropout(rate, seed=0)
    x = np.ones((400, 250), np.float32)
    factor = layer.forward(x, training=True)[0]
    assert abs(factor.mean() - 1) < 0.01
    assert abs(factor.std() - math.sqrt(rate / (1 - rate))) < 0.01


def test_alpha_dropout_preserves_selu_statistics():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 200)).astype(np.float32)   # zero mean, unit variance
    y = AlphaDropout(0.2, seed=0).forward(x, training=True)[0]
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    layer = AlphaDropout(0.5, noise_shape=(None, 1), seed=0)
    y = layer.forward(np.ones((50, 6), np.float32), training=True)[0]
    np.testing.assert_array_equal(y.max(axis=1), y.min(axis=1))   # mask shared over axis 1


def test_seeds_reproduce_and_global_seed_is_used():
    x = np.ones((6, 5, 4), np.float32)
    for make in (lambda: GaussianNoise(1.0, seed=7), lambda: SpatialDropout1D(0.5, seed=7),
                 lambda: GaussianDropout(0.5, seed=7), lambda: AlphaDropout(0.5, seed=7)):
        a, b = make(), make()
        first = a.forward(x, training=True)[0]
        np.testing.assert_array_equal(first, b.forward(x, training=True)[0])
        # A seeded layer keeps drawing: the next call gives new noise.
        assert not np.array_equal(first, a.forward(x, training=True)[0])
    ck_random.set_seed(123)
    u = GaussianNoise(1.0).forward(x, training=True)[0]
    ck_random.set_seed(123)
    np.testing.assert_array_equal(u, GaussianNoise(1.0).forward(x, training=True)[0])


@pytest.mark.parametrize("layer,expected", [
    (SpatialDropout1D(0.3, seed=2), {"rate": 0.3, "seed": 2}),
    (SpatialDropout2D(0.3, data_format="channels_first"),
     {"rate": 0.3, "seed": None, "data_format": "channels_first"}),
    (GaussianNoise(0.1, seed=4), {"stddev": 0.1, "seed": 4}),
    (GaussianDropout(0.25), {"rate": 0.25, "seed": None}),
    (AlphaDropout(0.1, noise_shape=(None, 1)), {"rate": 0.1, "seed": None,
                                               "noise_shape": [None, 1]}),
])
def test_config_round_trip(layer, expected):
    config = layer.get_config()
    json.dumps(config)
    for key, value in expected.items():
        assert config[key] == value
    if isinstance(layer, (SpatialDropout1D, SpatialDropout2D)):
        assert "noise_shape" not in config     # Keras 3's constructor rejects it
    assert type(layer).from_config(config).get_config() == config


def test_keras2_spatial_dropout_config_loads():
    keras2 = {"name": "spatial_dropout1d", "trainable": True, "dtype": "float32",
              "rate": 0.2, "noise_shape": None, "seed": None}
    assert SpatialDropout1D.from_config(keras2).rate == 0.2


def test_bad_arguments():
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(-1)
    with pytest.raises(ValueError, match="GaussianDropout.*rate"):
        GaussianDropout(1.5)
    with pytest.raises(ValueError, match="AlphaDropout.*rate"):
        AlphaDropout("0.1")
