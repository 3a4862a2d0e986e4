"""Conv3D, grouped, transposed, depthwise and separable convolutions:
float64 finite differences over strides, dilation, odd and even kernels,
same/valid padding and both data formats; output shapes; the float32
kernel path against the float64 reference; configs in Keras's key order
(as in the real Keras files under tests/data/keras_conv); errors."""
import json
import os
import zipfile

import numpy as np
import pytest

import ckeras as keras
from ckeras import ops
from ckeras.layers import conv_transpose as T
from ckeras.layers import convolutional as C
from ckeras.layers import depthwise_conv as D
from ckeras.layers.layer import deserialize_layer, serialize_layer
from ckeras.testing import check_layer_gradients

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "keras_conv")

CASES = [
    (C.Conv3D, dict(filters=2, kernel_size=(2, 3, 2)), (2, 3, 5, 4, 2)),
    (C.Conv3D, dict(filters=2, kernel_size=3, strides=2, padding="same", activation="tanh"),
     (2, 4, 5, 3, 2)),
    (C.Conv3D, dict(filters=2, kernel_size=2, dilation_rate=(1, 2, 1), padding="same",
                    data_format="channels_first"), (2, 2, 3, 5, 3)),
    (C.Conv2D, dict(filters=4, kernel_size=3, groups=2, padding="same", activation="tanh"),
     (2, 5, 4, 4)),
    (C.Conv1D, dict(filters=6, kernel_size=2, groups=3, strides=2), (2, 7, 3)),
    (T.Conv2DTranspose, dict(filters=2, kernel_size=3), (2, 3, 4, 2)),
    (T.Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2, padding="same",
                             activation="tanh"), (2, 3, 3, 2)),
    (T.Conv2DTranspose, dict(filters=3, kernel_size=(4, 2), strides=(2, 3), padding="same"),
     (2, 3, 2, 2)),
    (T.Conv2DTranspose, dict(filters=2, kernel_size=2, dilation_rate=2, padding="same",
                             data_format="channels_first"), (2, 3, 3, 4)),
    (T.Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2, output_padding=1,
                             activation="sigmoid"), (2, 2, 3, 2)),
    (T.Conv2DTranspose, dict(filters=1, kernel_size=2, strides=3, use_bias=False), (2, 2, 2, 3)),
    (T.Conv1DTranspose, dict(filters=2, kernel_size=5, strides=2, padding="same"), (2, 4, 3)),
    (T.Conv1DTranspose, dict(filters=3, kernel_size=2, strides=3), (2, 3, 2)),
    (T.Conv1DTranspose, dict(filters=2, kernel_size=3, dilation_rate=2, padding="same",
                             output_padding=0), (2, 5, 2)),
    (T.Conv3DTranspose, dict(filters=2, kernel_size=(2, 3, 2), strides=(2, 1, 2),
                             padding="same"), (2, 2, 3, 2, 2)),
    (D.DepthwiseConv2D, dict(kernel_size=3), (2, 5, 5, 3)),
    (D.DepthwiseConv2D, dict(kernel_size=(2, 3), strides=2, padding="same", depth_multiplier=2,
                             activation="tanh"), (2, 6, 5, 2)),
    (D.DepthwiseConv2D, dict(kernel_size=2, dilation_rate=2, padding="same",
                             data_format="channels_first", use_bias=False), (2, 3, 5, 4)),
    (D.DepthwiseConv1D, dict(kernel_size=4, strides=3, padding="same", depth_multiplier=3),
     (2, 8, 2)),
    (D.DepthwiseConv1D, dict(kernel_size=3, dilation_rate=2), (2, 9, 3)),
    (D.SeparableConv2D, dict(filters=3, kernel_size=3, padding="same", depth_multiplier=2,
                             activation="sigmoid"), (2, 5, 4, 2)),
    (D.SeparableConv2D, dict(filters=2, kernel_size=(2, 3), strides=2,
                             data_format="channels_first"), (2, 3, 6, 7)),
    (D.SeparableConv1D, dict(filters=3, kernel_size=2, dilation_rate=2, padding="same"),
     (2, 7, 3)),
    (D.SeparableConv1D, dict(filters=2, kernel_size=3, strides=2, activation="softmax"),
     (2, 9, 2)),
]
IDS = [f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CASES)]


def _built(cls, kw, shape, rng):
    layer = cls(**kw)
    layer._maybe_build((None,) + shape[1:])
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape) * 0.5)
    return layer


@pytest.mark.parametrize("cls, kw, shape", CASES, ids=IDS)
def test_finite_difference_gradients(rng, cls, kw, shape):
    layer = _built(cls, kw, shape, rng)
    check_layer_gradients(layer, rng.standard_normal(shape), max_coords=40)


@pytest.mark.parametrize("cls, kw, shape", CASES, ids=IDS)
def test_output_shape_and_kernel_path(rng, cls, kw, shape):
    layer = _built(cls, kw, shape, rng)
    x = rng.standard_normal(shape).astype(np.float32)
    y, backward = layer.forward(x)
    assert y.dtype == np.float32
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + y.shape[1:]
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = backward(dy)
    grads = [w.grad.copy() for w in layer.weights]
    # The same layer through the numpy reference, in float64.
    prev = ops.use_reference(True)
    try:
        for w in layer.weights:
            w.grad = None
        y64, back64 = layer.forward(x.astype(np.float64))
        dx64 = back64(dy.astype(np.float64))
    finally:
        ops.use_reference(prev)
    np.testing.assert_allclose(y, y64, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, dx64, rtol=1e-4, atol=1e-4)
    for g, w in zip(grads, layer.weights):
        np.testing.assert_allclose(g, w.grad, rtol=1e-4, atol=1e-3)


def test_transposed_is_the_gradient_of_the_conv(rng):
    # Conv2DTranspose(x) with kernel K equals d<Conv2D(z), x>/dz with the same K.
    conv = C.Conv2D(3, 3, strides=2, padding="same", use_bias=False)
    conv._maybe_build((None, 7, 6, 2))
    tconv = T.Conv2DTranspose(2, 3, strides=2, padding="same", use_bias=False)
    tconv._maybe_build((None, 4, 3, 3))
    tconv.kernel.assign(conv.kernel.value)
    x = rng.standard_normal((1, 4, 3, 3))
    _, backward = conv.forward(np.zeros((1, 8, 6, 2)))
    np.testing.assert_allclose(tconv.forward(x)[0], backward(x), atol=1e-12)


@pytest.mark.parametrize("name", ["conv3d", "conv2d_transpose", "depthwise", "separable",
                                  "conv1d_transpose", "depthwise1d", "separable1d"])
def test_config_keys_in_keras_order(name):
    with zipfile.ZipFile(os.path.join(DATA, name + ".keras")) as z:
        config = json.loads(z.read("config.json"))
    for entry in config["config"]["layers"][1:]:
        layer = deserialize_layer({"class_name": entry["class_name"],
                                   "config": entry["config"]})
        ours = layer.get_config()
        assert list(ours) == list(entry["config"]), entry["class_name"]
        for key in ("kernel_size", "strides", "padding", "dilation_rate", "data_format",
                    "filters", "depth_multiplier", "output_padding", "use_bias"):
            if key in ours:
                want = entry["config"][key]
                got = ours[key]
                assert (list(got) if isinstance(got, tuple) else got) == want, key
        again = deserialize_layer(json.loads(json.dumps(serialize_layer(layer))))
        assert again.get_config() == ours


def test_keras2_configs_with_groups_load():
    # tf.keras 2 wrote "groups": 1 into these layers' configs.
    for cls, kw in ((T.Conv2DTranspose, dict(filters=2, kernel_size=3, output_padding=None)),
                    (D.DepthwiseConv2D, dict(kernel_size=3, depth_multiplier=1)),
                    (D.SeparableConv1D, dict(filters=2, kernel_size=3))):
        layer = cls.from_config(dict(kw, name="old", groups=1))
        assert "groups" not in layer.get_config()
        with pytest.raises(ValueError, match="groups"):
            cls(groups=2, **kw)


def test_weight_names_and_shapes():
    t = T.Conv2DTranspose(5, (3, 2))
    t.build((None, 4, 4, 3))
    assert [(w.name, w.shape) for w in t.weights] == [("kernel", (3, 2, 5, 3)), ("bias", (5,))]
    d = D.DepthwiseConv2D(3, depth_multiplier=2)
    d.build((None, 6, 6, 4))
    assert [(w.name, w.shape) for w in d.weights] == [("kernel", (3, 3, 4, 2)), ("bias", (8,))]
    s = D.SeparableConv1D(7, 3, depth_multiplier=2)
    s.build((None, 6, 4))
    assert [(w.name, w.shape) for w in s.weights] == [
        ("depthwise_kernel", (3, 4, 2)), ("pointwise_kernel", (1, 8, 7)), ("bias", (7,))]
    g = C.Conv2D(6, 3, groups=3)
    g.build((None, 5, 5, 9))
    assert g.kernel.shape == (3, 3, 3, 6)


@pytest.mark.parametrize("make, pattern", [
    (lambda: T.Conv2DTranspose(2, 3, strides=2, output_padding=2), "output_padding"),
    (lambda: T.Conv1DTranspose(2, 3, padding="causal"), "padding"),
    (lambda: D.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: D.SeparableConv2D(0, 3), "filters"),
    (lambda: C.Conv3D(2, (3, 3)), "kernel_size"),
    (lambda: C.Conv2D(4, 3, groups=0), "groups"),
])
def test_bad_arguments(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


def test_bad_inputs_name_the_layer():
    g = C.Conv2D(4, 3, groups=2, name="grp")
    with pytest.raises(ValueError, match="grp.*divisible"):
        g.build((None, 5, 5, 3))
    d = D.DepthwiseConv2D(3, name="dw")
    d.build((None, 5, 5, 3))
    with pytest.raises(ValueError, match="dw.*expected axis -1 of the input to have value 3"):
        d.forward(np.zeros((1, 5, 5, 2), np.float32))
    with pytest.raises(ValueError, match="dw.*too small"):
        d.forward(np.zeros((1, 2, 5, 3), np.float32))
    with pytest.raises(ValueError, match="expected ndim=4"):
        T.Conv2DTranspose(2, 3).compute_output_shape((None, 5, 3))


def test_autoencoder_trains(rng):
    # Conv2D / MaxPooling2D encoder, Conv2DTranspose decoder (keras.io autoencoder).
    L = keras.layers
    inp = keras.Input((8, 8, 1))
    h = L.Conv2D(8, 3, activation="relu", padding="same")(inp)
    h = L.MaxPooling2D(2, padding="same")(h)
    h = L.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(h)
    out = L.Conv2D(1, 3, activation="sigmoid", padding="same")(h)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    # 2x2 blocks: what the pooled code keeps is enough to rebuild them.
    x = rng.random((64, 4, 4, 1)).repeat(2, axis=1).repeat(2, axis=2).astype(np.float32)
    hist = model.fit(x, x, epochs=10, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.9


@pytest.mark.parametrize("make, attr", [
    (lambda: D.DepthwiseConv2D(3, depthwise_regularizer=keras.regularizers.L2(0.1)), "kernel"),
    (lambda: D.SeparableConv2D(2, 3, pointwise_regularizer=keras.regularizers.L2(0.1)),
     "pointwise_kernel"),
    (lambda: T.Conv2DTranspose(2, 3, kernel_regularizer=keras.regularizers.L2(0.1)), "kernel"),
    (lambda: C.Conv3D(2, 2, kernel_regularizer=keras.regularizers.L2(0.1)), "kernel"),
])
def test_regularizers_reach_the_loss_and_constraints_apply(rng, make, attr):
    layer = make()
    shape = (5, 5, 5, 2) if isinstance(layer, C.Conv3D) else (5, 5, 2)
    model = keras.Sequential([keras.Input(shape), layer, keras.layers.Flatten(),
                              keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer="sgd", loss="mse")
    x = rng.standard_normal((4,) + shape).astype(np.float32)
    y = rng.standard_normal((4, 1)).astype(np.float32)
    penalty = 0.1 * float((getattr(layer, attr).value.astype(np.float64) ** 2).sum())
    loss = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(loss, float((y ** 2).mean()) + penalty, rtol=1e-5)


def test_constraints_apply_after_updates(rng):
    layer = D.DepthwiseConv2D(3, depthwise_constraint=keras.constraints.NonNeg(),
                              bias_constraint=keras.constraints.NonNeg())
    model = keras.Sequential([keras.Input((5, 5, 2)), layer, keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    model.fit(rng.standard_normal((8, 5, 5, 2)).astype(np.float32),
              rng.standard_normal((8, 1)).astype(np.float32), epochs=2, verbose=0)
    assert layer.kernel.value.min() >= 0 and layer.bias.value.min() >= 0
