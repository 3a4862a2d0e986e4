"""EinsumDense: kernel and bias shapes from the equation, gradients, saving,
errors (outputs against Keras: test_layers_more_keras_golden.py)."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.testing import check_layer_gradients

rng = np.random.default_rng(1)


@pytest.mark.parametrize("equation, output_shape, bias_axes, xshape, kernel, bias, yshape", [
    ("ab,bc->ac", 4, "c", (3, 5), (5, 4), (4,), (3, 4)),
    ("abc,cd->abd", (None, 4), "d", (2, 3, 5), (5, 4), (4,), (2, 3, 4)),
    ("...b,bc->...c", 4, "c", (2, 3, 5), (5, 4), (4,), (2, 3, 4)),
    ("abc...,cd->abd...", (3, 4), "bd", (2, 3, 5, 2), (5, 4), (3, 4, 1), (2, 3, 4, 2)),
    ("abc,cde->abde", (None, 2, 3), "de", (2, 4, 5), (5, 2, 3), (2, 3), (2, 4, 2, 3)),
    ("abc,cd->ad", 3, None, (2, 4, 5), (5, 3), None, (2, 3)),
    ("abcd,cde->abe", (None, 6), "e", (2, 3, 4, 5), (4, 5, 6), (6,), (2, 3, 6)),
])
def test_shapes_and_gradients(equation, output_shape, bias_axes, xshape, kernel, bias, yshape):
    layer = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes,
                               activation="tanh", bias_initializer="random_normal")
    x = rng.standard_normal(xshape).astype(np.float32)
    y = layer(x)
    assert layer.kernel.shape == kernel
    assert (layer.bias.shape if layer.bias is not None else None) == bias
    assert np.shape(y) == yshape
    assert layer.compute_output_shape((None,) + xshape[1:]) == (None,) + yshape[1:]
    check_layer_gradients(layer, x)


def test_trains_saves_and_loads(tmp_path):
    model = keras.Sequential([keras.Input((3, 5)),
                              layers.EinsumDense("abc,cd->abd", (None, 2), bias_axes="d"),
                              layers.Flatten(), layers.Dense(1)])
    model.compile("adam", "mse")
    x = rng.standard_normal((16, 3, 5)).astype(np.float32)
    y = rng.standard_normal((16, 1)).astype(np.float32)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"m.{ext}")
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                                   rtol=1e-6)
        assert loaded.layers[0].equation == "abc,cd->abd"


def test_fans_come_from_the_equation():
    layer = layers.EinsumDense("ab,bcd->acd", (64, 64), kernel_initializer="glorot_uniform")
    layer.build((None, 256))
    # fan_in 256, fan_out 64*64: limit sqrt(6 / (256 + 4096))
    assert np.abs(layer.kernel.numpy()).max() <= np.sqrt(6 / (256 + 4096)) + 1e-7
    assert layer.get_config()["kernel_initializer"]["class_name"] == "GlorotUniform"


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(equation="ab->b", output_shape=3), ValueError, "Invalid einsum equation"),
    (dict(equation="ab,bc->ac", output_shape=3, bias_axes="x"), ValueError,
     "'ed' .*bias dimension 'x'"),
    (dict(equation="ab,bc->ac", output_shape=3, lora_rank=2), NotImplementedError, "lora_rank"),
    (dict(equation="ab,bc->acd", output_shape=(3, 2)), ValueError, "'ed' .*dimension 'd'"),
    (dict(equation="ab,bcx->ac", output_shape=3), ValueError, "'ed' .*weight dimension 'x'"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        layer = layers.EinsumDense(**kwargs, name="ed")
        layer(np.zeros((2, 4), np.float32))


def test_wrong_input_rank_names_the_layer():
    layer = layers.EinsumDense("ab,bc->ac", 3, name="ed")
    layer(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="'ed'.*expected ndim=2"):
        layer(np.zeros((2, 4, 1), np.float32))
