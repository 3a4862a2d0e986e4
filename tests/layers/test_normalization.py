"""BatchNormalization and LayerNormalization: float64 finite-difference
gradients, moving statistics, train vs inference, configs, errors."""
import json

import numpy as np
import pytest

from ckeras.layers.normalization import BatchNormalization, LayerNormalization
from ckeras.testing import check_layer_gradients, to_float64


def _rng(seed=0):
    return np.random.default_rng(seed)


def _randomize(layer, rng):
    """Non-trivial gamma/beta/moving stats so every term of the gradient matters."""
    for w in layer.weights:
        if w.name in ("gamma", "moving_variance"):
            w.value[...] = rng.uniform(0.5, 2.0, w.shape)
        else:
            w.value[...] = rng.standard_normal(w.shape)


def _built(layer, shape, rng):
    layer._maybe_build((None,) + shape[1:])
    _randomize(layer, rng)
    return layer


# ---- BatchNormalization: gradients -----------------------------------------------------

@pytest.mark.parametrize("shape,axis", [((6, 4), -1), ((3, 2, 3, 4), -1), ((3, 4, 2, 3), 1),
                                        ((4, 5, 3), -1)])
@pytest.mark.parametrize("training", [True, False])
def test_bn_gradients(shape, axis, training):
    rng = _rng(1)
    layer = _built(BatchNormalization(axis=axis), shape, rng)
    x = rng.standard_normal(shape) * 2 + 0.5
    check_layer_gradients(layer, x, training=training, max_coords=30)


@pytest.mark.parametrize("center,scale", [(False, True), (True, False), (False, False)])
def test_bn_gradients_without_center_or_scale(center, scale):
    rng = _rng(2)
    layer = _built(BatchNormalization(center=center, scale=scale), (5, 3), rng)
    check_layer_gradients(layer, rng.standard_normal((5, 3)), training=True)
    names = [w.name for w in layer.weights]
    assert names == (["gamma"] if scale else []) + (["beta"] if center else []) + \
        ["moving_mean", "moving_variance"]


def test_bn_backward_accumulates_and_skips_dx():
    rng = _rng(3)
    layer = _built(BatchNormalization(), (4, 3), rng)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    dy = rng.standard_normal((4, 3)).astype(np.float32)
    _, back = layer.forward(x, training=True)
    assert back(dy, need_dx=False) is None
    g1 = layer.gamma.grad.copy()
    assert np.abs(g1).sum() > 0
    back(dy, need_dx=False)
    np.testing.assert_allclose(layer.gamma.grad, 2 * g1, rtol=1e-6)


# ---- BatchNormalization: statistics and modes -------------------------------------------

def test_bn_moving_statistics_follow_momentum_formula():
    rng = _rng(4)
    layer = BatchNormalization(momentum=0.9)
    layer._maybe_build((None, 2, 2, 3))
    to_float64(layer)
    mm, mv = np.zeros(3), np.ones(3)
    for _ in range(4):
        x = rng.standard_normal((5, 2, 2, 3)) * 3 + 1
        layer.forward(x, training=True)
        mean = x.mean(axis=(0, 1, 2))
        var = x.var(axis=(0, 1, 2))          # biased (ddof=0)
        mm = mm * 0.9 + mean * 0.1
        mv = mv * 0.9 + var * 0.1
    np.testing.assert_allclose(layer.moving_mean.value, mm, rtol=1e-12)
    np.testing.assert_allclose(layer.moving_variance.value, mv, rtol=1e-12)


def test_bn_inference_does_not_update_and_uses_moving_stats():
    rng = _rng(5)
    layer = _built(BatchNormalization(), (6, 4), rng)
    before = [w.numpy() for w in layer.weights]
    x = rng.standard_normal((6, 4)).astype(np.float32)
    y = layer(x)                                   # __call__ is inference
    for b, w in zip(before, layer.weights):
        np.testing.assert_array_equal(b, w.value)
    g, b = layer.gamma.value, layer.beta.value
    mm, mv = layer.moving_mean.value, layer.moving_variance.value
    np.testing.assert_allclose(y, g * (x - mm) / np.sqrt(mv + 1e-3) + b, rtol=1e-5, atol=1e-6)
    assert y.dtype == np.float32


def test_bn_train_vs_inference_outputs():
    rng = _rng(6)
    layer = _built(BatchNormalization(epsilon=1e-3), (8, 3), rng)
    x = (rng.standard_normal((8, 3)) * 4 + 7).astype(np.float32)
    y_inf = layer(x)
    y_train, _ = layer.forward(x, training=True)
    g, b = layer.gamma.value, layer.beta.value
    # Training: batch statistics, so each channel comes out with mean beta
    # and (biased) std gamma * sqrt(var / (var + eps)).
    np.testing.assert_allclose(y_train.mean(0), b, atol=1e-5)
    var = x.var(0)
    np.testing.assert_allclose(y_train.std(0), g * np.sqrt(var / (var + 1e-3)), rtol=1e-4)
    assert not np.allclose(y_train, y_inf)


def test_bn_frozen_runs_in_inference_mode():
    rng = _rng(7)
    layer = _built(BatchNormalization(), (6, 4), rng)
    layer.trainable = False
    mm = layer.moving_mean.numpy()
    x = rng.standard_normal((6, 4)).astype(np.float32)
    y, back = layer.forward(x, training=True)
    np.testing.assert_array_equal(layer.moving_mean.value, mm)
    np.testing.assert_allclose(y, layer(x))
    back(np.ones_like(y))
    assert not np.any(layer.gamma.grad)


def test_bn_zero_size_batch_and_float32_output():
    layer = BatchNormalization()
    y = layer(np.zeros((0, 3), np.float32))
    assert y.shape == (0, 3)
    y, _ = layer.forward(np.ones((2, 3), np.float32), training=True)
    assert y.dtype == np.float32


# ---- BatchNormalization: config and errors ------------------------------------------------

def test_bn_config_round_trip_keras3_keys():
    layer = BatchNormalization(axis=1, momentum=0.8, epsilon=1e-4, center=False,
                               gamma_regularizer="l2", beta_constraint="non_neg",
                               name="bn")
    config = layer.get_config()
    json.dumps(config)
    assert config["axis"] == 1 and config["momentum"] == 0.8 and config["epsilon"] == 1e-4
    assert {"moving_mean_initializer", "moving_variance_initializer", "synchronized",
            "gamma_regularizer", "beta_constraint"} <= set(config)
    clone = BatchNormalization.from_config(config)
    assert clone.get_config() == config


def test_bn_keras2_list_axis_and_legacy_keys():
    keras2 = {"name": "batch_normalization", "trainable": True, "dtype": "float32",
              "axis": [3], "momentum": 0.99, "epsilon": 0.001, "center": True,
              "scale": True, "beta_initializer": {"class_name": "Zeros", "config": {}},
              "gamma_initializer": {"class_name": "Ones", "config": {}},
              "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
              "moving_variance_initializer": {"class_name": "Ones", "config": {}},
              "beta_regularizer": None, "gamma_regularizer": None,
              "beta_constraint": None, "gamma_constraint": None}
    layer = BatchNormalization.from_config(keras2)
    assert layer.axis == 3 and layer.get_config()["axis"] == 3
    layer._maybe_build((None, 2, 2, 5))
    assert [w.shape for w in layer.weights] == [(5,)] * 4
    BatchNormalization(axis=[1], renorm=False, fused=True, virtual_batch_size=None)
    with pytest.raises(ValueError, match="renorm"):
        BatchNormalization(renorm=True)
    with pytest.raises(ValueError, match="one-element"):
        BatchNormalization(axis=[1, 2])


def test_bn_errors_name_layer_and_shapes():
    layer = BatchNormalization(name="bn_err")
    layer._maybe_build((None, 4))
    with pytest.raises(ValueError, match=r"bn_err.*expected axis -1.*4.*\(2, 5\)"):
        layer.forward(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"bn_err.*ndim=2"):
        layer.forward(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        BatchNormalization(axis=3, name="bn_ax")._maybe_build((None, 4))
    with pytest.raises(ValueError, match="momentum"):
        BatchNormalization(momentum=1.5)


# ---- LayerNormalization ------------------------------------------------------------------

@pytest.mark.parametrize("shape,axis", [((4, 6), -1), ((3, 4, 5), -1), ((2, 3, 4), [1, 2]),
                                        ((3, 4, 5), 1)])
def test_ln_gradients(shape, axis):
    rng = _rng(8)
    layer = _built(LayerNormalization(axis=axis), shape, rng)
    check_layer_gradients(layer, rng.standard_normal(shape) * 2 + 1, max_coords=30)


@pytest.mark.parametrize("kwargs", [{"center": False}, {"scale": False},
                                    {"rms_scaling": True}])
def test_ln_gradients_variants(kwargs):
    rng = _rng(9)
    layer = _built(LayerNormalization(**kwargs), (3, 4, 5), rng)
    check_layer_gradients(layer, rng.standard_normal((3, 4, 5)) + 0.7)


def test_ln_forward_values():
    rng = _rng(10)
    layer = _built(LayerNormalization(), (4, 6), rng)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    expected = layer.gamma.value * (x - mean) / np.sqrt(var + 1e-3) + layer.beta.value
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-6)
    # Same in training mode (no batch dependence).
    np.testing.assert_allclose(layer.forward(x, training=True)[0], layer(x))
    np.testing.assert_allclose(layer(x[:1]), layer(x)[:1], rtol=1e-6)


def test_ln_rms_scaling_matches_keras_formula():
    rng = _rng(11)
    layer = _built(LayerNormalization(rms_scaling=True), (3, 5), rng)
    assert [w.name for w in layer.weights] == ["gamma"]
    x = rng.standard_normal((3, 5)).astype(np.float32) + 2
    expected = x / np.sqrt(x.var(-1, keepdims=True) + 1e-3) * layer.gamma.value
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5)


def test_ln_multi_axis_weight_shape_and_config():
    layer = LayerNormalization(axis=[1, 2], name="ln")
    layer._maybe_build((None, 3, 4))
    assert layer.gamma.shape == (3, 4) and layer.beta.shape == (3, 4)
    config = layer.get_config()
    assert config["axis"] == [1, 2]
    assert LayerNormalization.from_config(config).get_config() == config
    # Keras 3 writes a single axis as a list too.
    assert LayerNormalization(axis=-1).get_config()["axis"] == [-1]
    assert LayerNormalization.from_config({"axis": [-1], "epsilon": 0.001}).axis == [-1]
    json.dumps(config)


def test_ln_errors():
    layer = LayerNormalization(name="ln_err")
    layer._maybe_build((None, 4))
    with pytest.raises(ValueError, match=r"ln_err.*\(2, 5\)"):
        layer.forward(np.zeros((2, 5), np.float32))
    with pytest.raises(TypeError, match="axis"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="out of range"):
        LayerNormalization(axis=2)._maybe_build((None, 4))


def test_model_config_round_trip_with_normalization_and_noise():
    import ckeras as keras
    from ckeras.layers.noise import GaussianNoise, SpatialDropout1D
    model = keras.Sequential([keras.Input(shape=(5, 4)), SpatialDropout1D(0.2),
                              BatchNormalization(), LayerNormalization(), GaussianNoise(0.1)])
    rng = _rng(12)
    for layer in model.layers[1:3]:
        _randomize(layer, rng)
    config = json.loads(json.dumps(model.get_config()))
    clone = keras.Sequential.from_config(config)
    clone.set_weights(model.get_weights())
    assert [type(l).__name__ for l in clone.layers] == [type(l).__name__ for l in model.layers]
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
