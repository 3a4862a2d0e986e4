"""Activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax, ThresholdedReLU)
and utility layers (Identity, ActivityRegularization, UnitNormalization,
GroupNormalization): outputs against real Keras, configs, gradients."""
import json
import os

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.layers import deserialize, serialize
from ckeras.testing import check_layer_gradients

FIX = np.load(os.path.join(os.path.dirname(__file__), "..", "data", "keras_layers",
                           "activation_utility.npz"))
CASES = {
    "relu_default": lambda: layers.ReLU(),
    "relu_all": lambda: layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5),
    "leaky_default": lambda: layers.LeakyReLU(),
    "leaky_02": lambda: layers.LeakyReLU(negative_slope=0.2),
    "elu": lambda: layers.ELU(alpha=0.7),
    "softmax_last": lambda: layers.Softmax(),
    "softmax_axis1": lambda: layers.Softmax(axis=1),
    "softmax_axes": lambda: layers.Softmax(axis=[1, 2]),
    "unitnorm": lambda: layers.UnitNormalization(),
    "unitnorm_axes": lambda: layers.UnitNormalization(axis=[1, 2]),
    "groupnorm": lambda: layers.GroupNormalization(groups=3),
    "prelu": lambda: layers.PReLU(shared_axes=[1]),
}


def _keras_config(name):
    return json.loads(str(FIX[name + "/config"]))


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_keras(name):
    layer = CASES[name]()
    x = FIX["x"]
    layer._maybe_build((None,) + x.shape[1:])
    weights = [FIX[k] for k in sorted(f for f in FIX.files if f.startswith(name + "/w"))]
    if weights:
        layer.set_weights(weights)
    np.testing.assert_allclose(layer(x), FIX[name + "/y"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_config_constructs_the_same_layer(name):
    config = _keras_config(name)
    layer = deserialize({"class_name": type(CASES[name]()).__name__, "config": config})
    ours = layer.get_config()
    for key, value in config.items():
        if key in ("name", "dtype"):
            continue
        if key in ours:
            assert ours[key] == value or (isinstance(value, dict) and
                                          ours[key]["class_name"] == value["class_name"]), key


def test_masked_softmax_matches_keras():
    x, mask = FIX["x"], FIX["softmax_masked/mask"]
    y = layers.Softmax().forward(x, mask=mask)[0]
    np.testing.assert_allclose(y, FIX["softmax_masked/y"], rtol=1e-5, atol=1e-7)
    assert np.all(y[1, 2] == 0)      # a fully masked row is all zeros, as Keras


def test_leaky_relu_accepts_tf_keras_alpha():
    assert layers.LeakyReLU(alpha=0.1).negative_slope == 0.1
    assert layers.LeakyReLU().negative_slope == 0.3


def test_thresholded_relu():
    x = np.array([[-1.0, 0.5, 1.0, 1.5, 3.0]], np.float32)
    np.testing.assert_array_equal(layers.ThresholdedReLU()(x), [[0, 0, 0, 1.5, 3.0]])
    assert layers.ThresholdedReLU(theta=0.4).get_config()["theta"] == 0.4


@pytest.mark.parametrize("bad", [
    lambda: layers.ReLU(max_value=-1), lambda: layers.ReLU(negative_slope=-0.1),
    lambda: layers.ReLU(threshold=None), lambda: layers.LeakyReLU(negative_slope=-1),
    lambda: layers.PReLU(shared_axes=[0]), lambda: layers.GroupNormalization(groups=0),
    lambda: layers.Softmax(axis="x"), lambda: layers.UnitNormalization(axis=1.5),
])
def test_bad_arguments_raise(bad):
    with pytest.raises((ValueError, TypeError)):
        bad()


def test_group_norm_bad_channel_count_names_the_layer():
    with pytest.raises(ValueError, match="cannot be split into 4"):
        layers.GroupNormalization(groups=4, name="gn")._maybe_build((None, 6))


def _x(shape, seed=0, shift=0.0):
    x = np.random.default_rng(seed).standard_normal(shape) + shift
    return x


@pytest.mark.parametrize("make,shape", [
    (lambda: layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.3), (3, 7)),
    (lambda: layers.LeakyReLU(0.2), (3, 7)),
    (lambda: layers.ELU(0.5), (3, 7)),
    (lambda: layers.ThresholdedReLU(0.4), (3, 7)),
    (lambda: layers.PReLU(alpha_initializer="random_uniform"), (3, 4, 5)),
    (lambda: layers.PReLU(alpha_initializer="random_uniform", shared_axes=[1, 2]), (3, 4, 5)),
    (lambda: layers.Softmax(), (3, 4, 5)),
    (lambda: layers.Softmax(axis=1), (3, 4, 5)),
    (lambda: layers.Softmax(axis=[1, 2]), (3, 4, 5)),
    (lambda: layers.UnitNormalization(), (3, 4, 5)),
    (lambda: layers.UnitNormalization(axis=[1, 2]), (3, 4, 5)),
    (lambda: layers.GroupNormalization(groups=2, gamma_initializer="random_normal",
                                       beta_initializer="random_normal"), (3, 4, 6)),
    (lambda: layers.GroupNormalization(groups=-1, axis=1), (2, 4, 3, 2)),
    (lambda: layers.Identity(), (3, 4)),
    (lambda: layers.ActivityRegularization(l1=0.1), (3, 4)),
])
def test_gradients(make, shape):
    x = _x(shape)
    # keep elementwise kinks (0, threshold, max_value) away from the probes
    x = np.where(np.abs(x) < 0.05, 0.2, x)
    x = np.where(np.abs(x - 0.3) < 0.05, 0.5, x)
    x = np.where(np.abs(x - 0.4) < 0.05, 0.6, x)
    x = np.where(np.abs(x - 1.5) < 0.05, 1.7, x)
    check_layer_gradients(make(), x)


def test_masked_softmax_gradient():
    x = _x((2, 3, 5))
    mask = np.random.default_rng(3).random((2, 3, 5)) > 0.3
    check_layer_gradients(layers.Softmax(), x, mask=mask)


def test_activity_regularization_adds_its_penalty_to_training_loss():
    model = keras.Sequential([keras.Input((3,)),
                              layers.Dense(3, use_bias=False, kernel_initializer="identity"),
                              layers.ActivityRegularization(l1=0.5)])
    x = np.array([[1.0, -2.0, 3.0]], np.float32)
    model.compile(loss="mse", optimizer="sgd")
    loss = model.train_on_batch(x, np.zeros_like(x))
    loss = loss[0] if isinstance(loss, (list, tuple)) else loss
    np.testing.assert_allclose(loss, (1 + 4 + 9) / 3 + 0.5 * 6, rtol=1e-5)
    cfg = layers.ActivityRegularization(l1=0.5).get_config()
    assert cfg["l1"] == 0.5 and "activity_regularizer" not in cfg


def test_every_layer_accepts_activity_regularizer():
    layer = layers.Flatten(activity_regularizer="l2")
    assert layer.activity_regularizer is not None
    cfg = serialize(layer)["config"]
    assert cfg["activity_regularizer"]["class_name"] == "L2"
    assert deserialize(serialize(layer)).activity_regularizer is not None


def test_in_a_sequential_model_and_roundtrip():
    model = keras.Sequential([keras.Input((6,)), layers.Dense(6), layers.LeakyReLU(),
                              layers.PReLU(), layers.GroupNormalization(3),
                              layers.UnitNormalization(), layers.Dense(3),
                              layers.Softmax()])
    x = np.random.default_rng(0).standard_normal((8, 6)).astype(np.float32)
    y = model.predict(x, verbose=0)
    clone = keras.Sequential.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), y, rtol=1e-6)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    model.fit(x, np.eye(3)[np.arange(8) % 3], epochs=1, verbose=0)
