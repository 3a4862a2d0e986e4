"""Custom layers written as Keras users write them: build + call on ckeras.ops,
no backward (the tape differentiates them)."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers, ops
from ckeras.testing import check_layer_gradients


@keras.saving.register_keras_serializable(package="test_custom")
class Linear(layers.Layer):
    """keras.io's first custom layer, verbatim but for the import."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


@keras.saving.register_keras_serializable(package="test_custom")
class Residual(layers.Layer):
    """Sub-layers as attributes (one with non-trainable weights)."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense_1 = layers.Dense(units, activation="relu")
        self.dense_2 = layers.Dense(units)
        self.norm = layers.BatchNormalization()

    def call(self, x, training=None):
        h = self.dense_2(self.dense_1(x))
        return ops.nn.relu(self.norm(h, training=training) + x)


class Gated(layers.Layer):
    """Auto-config (no get_config), operators and slicing on tensors and weights."""

    def __init__(self, scale=2.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def build(self, input_shape):
        self.g = self.add_weight(name="gate", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * ops.sigmoid(self.g) * self.scale - x[:, -1:] ** 2 / 4 + (-self.g)


def data(n=64, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    return x, (x @ np.array([1.0, -2.0, 0.5][:d], "float32"))[:, None]


def test_custom_layer_gradients_against_central_differences():
    x = np.random.default_rng(1).standard_normal((4, 3))
    check_layer_gradients(Linear(5), x)
    check_layer_gradients(Gated(), x)
    check_layer_gradients(Residual(3), x)


def test_custom_dense_trains_in_sequential_and_reloads(tmp_path):
    x, y = data()
    model = keras.Sequential([keras.Input((3,)), Linear(8), layers.Activation("tanh"), Linear(1)])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    hist = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.2 * hist.history["loss"][0]
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"m.{ext}")
        model.save(path)
        back = keras.models.load_model(path)
        np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                                   rtol=1e-6)


def test_layer_call_returns_array_with_numpy():
    x, _ = data(5)
    layer = Linear(2)
    y = layer(x)
    assert y.shape == (5, 2) and isinstance(y.numpy(), np.ndarray)
    np.testing.assert_allclose(y, x @ layer.w.value + layer.b.value, rtol=1e-6)
    assert np.asarray(y).dtype == np.float32


def test_add_weight_forms():
    layer = layers.Layer()
    w1 = layer.add_weight(shape=(2, 3), initializer="ones", trainable=False, name="a")
    w2 = layer.add_weight("b", (4,), "zeros")                       # ckeras positional
    w3 = layer.add_weight("c", (2,), "float32", "ones")             # tf.keras 2 positional
    w4 = layer.add_weight((3,), "zeros")                            # Keras 3 positional
    w5 = layer.add_weight(shape=(2,), regularizer="l2", constraint="non_neg")
    w6 = layer.add_weight(shape=(), initializer=keras.initializers.Constant(3.0))
    assert [w.name for w in layer.weights] == ["b", "c", "variable", "variable_1", "variable_2",
                                               "a"]
    assert not w1.trainable and w1.value.sum() == 6 and w3.value.sum() == 2
    assert w2.shape == (4,) and w4.shape == (3,) and float(w6.value) == 3.0
    assert w5.regularizer is not None and w5.constraint is not None
    with pytest.raises(TypeError, match="multiple values"):
        layer.add_weight((2,), shape=(3,))
    with pytest.raises(TypeError, match="unexpected keyword"):
        layer.add_weight(shape=(2,), bogus=1)


def test_sublayers_are_tracked():
    block = Residual(3)
    block(np.zeros((2, 3), "float32"))
    names = [w.name for w in block.weights]
    assert len(block.trainable_weights) == 6                 # 2 Dense x2 + gamma, beta
    assert len(block.non_trainable_weights) == 2             # moving mean / variance
    assert names[:2] == ["kernel", "bias"]
    assert block.count_params() == 2 * (3 * 3 + 3) + 4 * 3


def test_residual_block_trains_and_updates_batchnorm(tmp_path):
    x, y = data(64)
    inp = keras.Input((3,))
    out = layers.Dense(1)(Residual(3)(inp))
    model = keras.Model(inp, out)
    model.compile("adam", "mse")
    mean_before = model.layers[1].norm.moving_mean.numpy()
    model.fit(x, y, epochs=3, verbose=0)
    assert not np.allclose(model.layers[1].norm.moving_mean.numpy(), mean_before)
    path = str(tmp_path / "res.keras")
    model.save(path)
    back = keras.models.load_model(path)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_compute_output_shape_is_inferred_in_the_functional_api():
    inp = keras.Input((5,))
    out = Gated()(Linear(7)(inp))
    assert out.shape == (None, 7)


def test_auto_config_and_registered_round_trip():
    g = Gated(scale=3.0, name="gg")
    config = g.get_config()
    assert config["scale"] == 3.0 and config["name"] == "gg"
    assert Gated.from_config(config).scale == 3.0
    lin = layers.deserialize(layers.serialize(Linear(6)))
    assert isinstance(lin, Linear) and lin.units == 6


def test_manual_backward_layer_still_uses_its_backward():
    calls = []

    class Twice(layers.Layer):
        def call(self, x):
            return 2 * np.asarray(x)

        def backward(self, dy, x, y):
            calls.append(1)
            return 2 * dy

        def compute_output_shape(self, s):
            return s
    x, y = data(16)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2), Twice(), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=1, verbose=0)
    assert calls


def test_training_flag_reaches_sublayers():
    seen = []

    class Probe(layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class Outer(layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.probe = Probe()
            self.drop = layers.Dropout(0.5)

        def call(self, x):
            return self.drop(self.probe(x))
    x, y = data(8)
    model = keras.Sequential([keras.Input((3,)), Outer(), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=1, verbose=0)
    assert True in seen
    seen.clear()
    model.predict(x, verbose=0)
    assert seen and not any(seen)


def test_ops_dense_trains_exactly_like_the_builtin_dense():
    """The tape's gradients equal the fused kernels': same weights after steps."""
    class OpsDense(layers.Layer):
        def __init__(self, units, relu=False, **kw):
            super().__init__(**kw)
            self.units, self.relu = units, relu

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units))
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, x):
            y = ops.matmul(x, self.w) + self.b
            return ops.nn.relu(y) if self.relu else y
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6)).astype("float32")
    y = rng.integers(0, 3, 64)
    built = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu"),
                              layers.Dense(3)])
    custom = keras.Sequential([keras.Input((6,)), OpsDense(8, relu=True), OpsDense(3)])
    custom.set_weights(built.get_weights())
    for m in (built, custom):
        m.compile(keras.optimizers.Adam(0.01),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        m.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(built.get_weights(), custom.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_super_build_first_then_weights():
    """tf.keras 2 code often calls super().build() before creating weights."""
    class Early(layers.Layer):
        def build(self, input_shape):
            super().build(input_shape)
            self.inner = layers.Dense(2)
            self.k = self.add_weight("k", (input_shape[-1], 2), "ones")

        def call(self, x):
            return self.inner(x) + ops.matmul(x, self.k)
    layer = Early()
    y = layer(np.ones((3, 4), "float32"))
    assert y.shape == (3, 2) and len(layer.weights) == 3


def test_gradient_mode_of_a_class():
    from ckeras.layers.layer import _mode

    class Both(layers.Layer):          # a built-in style layer with a Keras call too
        def forward(self, x, training=False, mask=None):
            return x * 3, lambda dy, need_dx=True: dy * 3

        def call(self, x):
            raise AssertionError("forward must win")

    class UserOnDense(layers.Dense):   # overriding call on a built-in: call wins
        def call(self, x):
            return ops.matmul(x, self.kernel) * 2

    assert _mode(Both) == "kernel" and _mode(layers.Dense) == "kernel"
    assert _mode(UserOnDense) == "autodiff" and _mode(Linear) == "autodiff"
    assert Both()(np.ones((1, 2), "float32")).tolist() == [[3.0, 3.0]]
    d = UserOnDense(2, use_bias=False)
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(d(x), 2 * x @ d.kernel.value)


def test_dict_of_sublayers_is_tracked():
    class Heads(layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.heads = {"a": layers.Dense(1), "b": layers.Dense(2)}

        def call(self, x):
            return ops.concatenate([self.heads["a"](x), self.heads["b"](x)], axis=-1)
    h = Heads()
    assert h(np.ones((2, 3), "float32")).shape == (2, 3)
    assert len(h.trainable_weights) == 4


def test_gradient_check_of_layer_with_lazily_built_sublayers():
    class Lazy(layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.inner = layers.Dense(3, activation="tanh")

        def build(self, input_shape):
            self.s = self.add_weight("s", (3,), "ones")

        def call(self, x):
            return self.inner(x) * self.s
    check_layer_gradients(Lazy(), np.random.default_rng(3).standard_normal((4, 5)))


def test_float64_constants_in_call_give_float32_outputs():
    class Shift(layers.Layer):
        def call(self, x):
            return x + np.arange(3.0)           # a float64 constant
    x = np.ones((2, 3), "float32")
    y, back = Shift().forward(x)
    assert y.dtype == np.float32
    assert back(np.ones_like(y)).shape == (2, 3)
    model = keras.Sequential([keras.Input((3,)), Shift(), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, np.ones((2, 1), "float32"), verbose=0)
    check_layer_gradients(Shift(), np.random.default_rng(0).standard_normal((2, 3)))


def test_a_layer_with_neither_call_nor_forward_says_what_to_implement():
    class Blank(keras.layers.Layer):
        pass

    layer = Blank(name="blank")
    x = np.ones((2, 3), np.float32)
    with pytest.raises(NotImplementedError, match=r"'blank' \(Blank\) defines neither "
                                                  r"call\(inputs\) nor forward"):
        layer(x)
    with pytest.raises(NotImplementedError, match="Blank"):
        layer.forward(x)
