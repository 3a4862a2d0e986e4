"""Lambda: forward, arguments/mask/training passing, output shapes, the
user-supplied gradient, training without one, and the saved config format
(a function's code is never saved; lambdas are refused on load)."""
import json

import numpy as np
import pytest

import ckeras as keras
from ckeras.layers.core import Dense, Input
from ckeras.layers.lambda_layer import Lambda
from ckeras.layers.layer import deserialize_layer, serialize_layer
from ckeras.testing import check_layer_gradients


def cube(x):
    return x ** 3


def cube_grad(dy, x, y):
    return 3 * x ** 2 * dy


def test_forward_arguments_and_dtype():
    layer = Lambda(lambda x, k: x * k + 1.0, arguments={"k": 3})
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = layer(x)
    np.testing.assert_array_equal(y, x * 3 + 1)
    assert y.dtype == np.float32
    # numpy promotions to float64 are cast back to float32.
    assert Lambda(lambda x: x + np.float64(0.5) * np.ones(x.shape))(x).dtype == np.float32


def test_function_gets_training_and_mask_when_it_asks():
    seen = {}

    def fn(x, training=None, mask=None):
        seen.update(training=training, mask=mask)
        return x
    layer = Lambda(fn)
    mask = np.array([[True, False]])
    layer.forward(np.zeros((1, 2), np.float32), training=True, mask=mask)
    assert seen["training"] is True and seen["mask"] is mask


def test_user_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    check_layer_gradients(Lambda(cube, gradient=cube_grad), rng.standard_normal((3, 4)))
    layer = Lambda(lambda xs: xs[0] * xs[1],
                   gradient=lambda dy, xs, y: [dy * xs[1], dy * xs[0]])
    check_layer_gradients(layer, [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))])


def test_functions_on_tensors_are_differentiated_by_the_tape():
    rng = np.random.default_rng(2)
    check_layer_gradients(Lambda(cube), rng.standard_normal((3, 4)))
    check_layer_gradients(Lambda(lambda t: keras.ops.mean(np.tanh(t), axis=1, keepdims=True)),
                          rng.standard_normal((3, 4)))
    check_layer_gradients(Lambda(lambda xs: xs[0] * xs[1][:, :1]),
                          [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))])


def leaves_the_tape(x):
    return np.sort(np.asarray(x), axis=-1) * 1.0


def test_missing_gradient_raises_naming_the_layer_only_when_needed():
    layer = Lambda(leaves_the_tape, name="my_cube")
    y, back = layer.forward(np.ones((2, 2), np.float32), training=True)
    assert back(np.ones_like(y), need_dx=False) is None   # nothing upstream to train
    with pytest.raises(RuntimeError, match=r"'my_cube' \(Lambda\).*gradient="):
        back(np.ones_like(y))


def test_bad_gradient_shape_is_reported():
    layer = Lambda(cube, gradient=lambda dy, x, y: dy[:, :1], name="bad_grad")
    y, back = layer.forward(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="bad_grad.*shaped like the inputs"):
        back(y)


def _model(lambda_layer, first):
    inputs = Input(shape=(4,))
    if first:
        outputs = Dense(1)(lambda_layer(inputs))
    else:
        outputs = lambda_layer(Dense(4)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_training_through_lambda():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.standard_normal((16, 1)).astype(np.float32)
    # In front of every trainable layer no gradient is needed: it trains.
    _model(Lambda(lambda t: t * 2), first=True).fit(x, y, epochs=1, verbose=0)
    with pytest.raises(RuntimeError, match="no_grad"):
        _model(Lambda(lambda t: np.asarray(t)[:, :1] * 2, name="no_grad"), first=False).fit(
            x, y, epochs=1, verbose=0)
    tape_model = _model(Lambda(lambda t: t[:, :1] * 2, name="on_tape"), first=False)
    losses = tape_model.fit(x, y, epochs=5, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    model = _model(Lambda(lambda t: t[:, :1] ** 2, name="sq",
                          gradient=lambda dy, t, out: np.pad(2 * t[:, :1] * dy, ((0, 0), (0, 3)))),
                   first=False)
    losses = model.fit(x, y, epochs=5, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


def test_output_shape_inferred_given_or_computed():
    assert Lambda(lambda x: x[:, :2]).compute_output_shape((None, 5)) == (None, 2)
    assert Lambda(lambda x: x.reshape(len(x), -1)).compute_output_shape((None, 2, 3)) == (None, 6)
    assert Lambda(cube, output_shape=(7,)).compute_output_shape((None, 5)) == (None, 7)
    assert Lambda(cube, output_shape=lambda s: s[:-1] + (1,)).compute_output_shape(
        (None, 3, 5)) == (None, 3, 1)
    t = Lambda(lambda xs: xs[0] + xs[1])([Input(shape=(3,)), Input(shape=(3,))])
    assert t.shape == (None, 3)
    with pytest.raises(ValueError, match="bad_shape.*output_shape="):
        Lambda(lambda x: x @ np.ones((2, 2)), name="bad_shape").compute_output_shape((None, 5))


def test_mask_argument():
    assert Lambda(cube).compute_mask(np.ones((1, 2)), np.ones((1, 2), bool)) is None
    keep = Lambda(cube, mask=lambda x, m: m)
    m = np.ones((1, 2), bool)
    assert keep.compute_mask(np.ones((1, 2)), m) is m


def test_config_of_named_function_reloads_via_custom_objects():
    layer = Lambda(cube, output_shape=(4,), arguments={}, name="cuber")
    entry = serialize_layer(layer)
    json.dumps(entry)
    assert entry["class_name"] == "Lambda"
    fn = entry["config"]["function"]
    assert fn["class_name"] == "function" and fn["config"] == "cube"
    assert "gradient" not in entry["config"]          # Keras 3 would reject the key
    clone = deserialize_layer(json.loads(json.dumps(entry)), custom_objects={"cube": cube})
    assert clone.function is cube and clone.name == "cuber"
    assert clone.compute_output_shape((None, 4)) == (None, 4)
    with pytest.raises(ValueError, match=r"'cuber'.*'cube' is unknown.*custom_objects"):
        deserialize_layer(entry)


def test_python_lambda_is_saved_without_code_and_refused_on_load():
    entry = serialize_layer(Lambda(lambda x: x + 1, name="anon"))
    json.dumps(entry)
    fn = entry["config"]["function"]
    assert fn["class_name"] == "__lambda__" and fn["config"]["code"] is None
    with pytest.raises(ValueError, match=r"Lambda layer 'anon'.*Python lambda.*load_weights"):
        deserialize_layer(entry)


def test_keras2_lambda_configs():
    marshalled = {"class_name": "Lambda", "config": {
        "name": "lambda", "trainable": True, "dtype": "float32",
        "function": ["4wEAAAAAAAAA", None, None], "function_type": "lambda",
        "module": "__main__", "output_shape": None, "output_shape_type": "raw",
        "output_shape_module": None, "arguments": {}}}
    with pytest.raises(ValueError, match="Python lambda"):
        deserialize_layer(marshalled)
    named = {"class_name": "Lambda", "config": {
        "name": "lambda_1", "trainable": True, "dtype": "float32",
        "function": "cube", "function_type": "function", "module": "__main__",
        "output_shape": [3], "output_shape_type": "raw", "output_shape_module": None,
        "arguments": {}}}
    layer = deserialize_layer(named, custom_objects={"cube": cube})
    assert layer.function is cube and layer.compute_output_shape((None, 3)) == (None, 3)


def test_constructor_errors():
    with pytest.raises(TypeError, match="function"):
        Lambda(3)
    with pytest.raises(TypeError, match="gradient"):
        Lambda(cube, gradient="auto")
