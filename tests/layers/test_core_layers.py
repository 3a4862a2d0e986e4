"""Dense, Activation, Dropout, Flatten, Reshape, InputLayer: shapes, gradients
(float64 central differences), config round trips and error messages."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.testing import check_layer_gradients

ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu",
               "softplus", "softsign", "silu", "leaky_relu", "hard_sigmoid", "exponential"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_gradients_every_activation(activation, rng):
    x = rng.standard_normal((5, 7))
    if activation == "relu":
        x[np.abs(x) < 0.05] = 0.3  # keep clear of the kink
    check_layer_gradients(layers.Dense(4, activation=activation), x)


def test_dense_gradients_3d_input_and_no_bias(rng):
    check_layer_gradients(layers.Dense(3, activation="tanh", use_bias=False),
                          rng.standard_normal((2, 4, 5)))


def test_dense_output_shape_and_values(rng):
    layer = layers.Dense(3, activation="relu")
    x = rng.standard_normal((4, 2, 6)).astype(np.float32)
    y = layer(x)
    assert y.shape == (4, 2, 3) and y.dtype == np.float32
    expected = np.maximum(x @ layer.kernel.value + layer.bias.value, 0)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 2, 6)) == (None, 2, 3)


def test_dense_width_mismatch_names_layer_and_shapes():
    model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(4, name="hidden")])
    with pytest.raises(ValueError) as err:
        model.predict(np.zeros((3, 5), np.float32), verbose=0)
    msg = str(err.value)
    assert "hidden" in msg and "(None, 8)" in msg and "(3, 5)" in msg


def test_dense_rejects_bad_units():
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)
    with pytest.raises(TypeError, match="unrecognized keyword"):
        layers.Dense(3, activaton="relu")


def test_activation_layer_gradients(rng):
    for name in ("relu", "softmax", "tanh", "gelu"):
        x = rng.standard_normal((3, 5)) + 0.01
        check_layer_gradients(layers.Activation(name), x)


def test_flatten_and_reshape_gradients(rng):
    check_layer_gradients(layers.Flatten(), rng.standard_normal((2, 3, 4)))
    check_layer_gradients(layers.Reshape((4, -1)), rng.standard_normal((2, 3, 4)))
    assert layers.Flatten().compute_output_shape((None, 3, 4)) == (None, 12)
    assert layers.Reshape((2, -1)).compute_output_shape((None, 3, 4)) == (None, 2, 6)
    with pytest.raises(ValueError, match="cannot reshape"):
        layers.Reshape((5, 5))(np.zeros((2, 3, 4), np.float32))


def test_dropout_training_and_inference(rng):
    keras.utils.set_random_seed(0)
    layer = layers.Dropout(0.25)
    x = np.ones((400, 50), np.float32)
    assert np.array_equal(layer(x), x)  # identity at inference
    y, backward = layer.forward(x, training=True)
    kept = y != 0
    assert 0.70 < kept.mean() < 0.80
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    dx = backward(np.ones_like(x))
    assert np.array_equal(dx != 0, kept)  # same mask forward and backward
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)


@pytest.mark.parametrize("make", [
    lambda: layers.Dense(5, activation="tanh", use_bias=False, kernel_initializer="he_normal"),
    lambda: layers.Activation("softmax"),
    lambda: layers.Dropout(0.3, seed=3),
    lambda: layers.Flatten(),
    lambda: layers.Reshape((2, 3)),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == config


def test_auto_names_count_per_class():
    a, b = layers.Dense(2), layers.Dense(2)
    base = a.name.split("_")[0]
    assert base == "dense"
    assert b.name != a.name and b.name.startswith("dense_")


def test_input_layer_shapes():
    t = keras.Input(shape=(7, 3), name="seq")
    assert t.shape == (None, 7, 3)
    layer = t.history[0]
    assert layer.get_config()["batch_shape"] == [None, 7, 3]
    with pytest.raises(ValueError, match="shape"):
        layers.InputLayer()
