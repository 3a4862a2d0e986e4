"""Conv1D / Conv2D: values against a direct-loop convolution, TF 'same'
geometry, float64 finite differences, shapes, configs (Keras 2 and 3), errors,
and small end-to-end models (text CNN, digits CNN, a real Keras fixture)."""
import json
import math
import os

import numpy as np
import pytest

import ckeras as keras
from ckeras.layers import convolutional as C
from ckeras.layers.layer import deserialize_layer, serialize_layer
from ckeras.testing import check_layer_gradients

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "keras_h5")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # Pin 1 thread as CI does: 2-thread BLAS on a busy 2-core box ran the
    # digits fit 10-30x slower.
    from ckeras.ops.threads import num_threads
    with num_threads(1):
        yield


# ---- the oracle ------------------------------------------------------------------

def _axis(n, k, s, d, padding):
    """(out, pad_before) along one axis, written from TF's documented rules."""
    eff = (k - 1) * d + 1
    if padding == "valid":
        return (n - eff) // s + 1, 0
    if padding == "causal":
        return math.ceil(n / s), eff - 1
    out = math.ceil(n / s)
    return out, max((out - 1) * s + eff - n, 0) // 2


def reference_conv2d(x, kernel, bias, strides, padding, dilation):
    """Direct loops over output pixels and kernel taps; channels_last, float64."""
    b, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    (oh, top), (ow, left) = (_axis(n, k, s, d, padding) for n, k, s, d in
                             zip((h, w), (kh, kw), strides, dilation))
    out = np.zeros((b, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for e in range(kw):
                    r = i * strides[0] - top + a * dilation[0]
                    q = j * strides[1] - left + e * dilation[1]
                    if 0 <= r < h and 0 <= q < w:
                        out[:, i, j] += x[:, r, q] @ kernel[a, e]
    return out + (0 if bias is None else bias)


def reference_conv1d(x, kernel, bias, stride, padding, dilation):
    y = reference_conv2d(x[:, None], kernel[None], bias, (1, stride), padding, (1, dilation))
    return y[:, 0]


def _layer_ref(layer, x):
    """Reference output of a built layer (before its activation)."""
    k = layer.kernel.value.astype(np.float64)
    b = None if layer.bias is None else layer.bias.value.astype(np.float64)
    cf = layer.data_format == "channels_first"
    xl = np.moveaxis(x, 1, -1) if cf else x
    if isinstance(layer, C.Conv1D):
        y = reference_conv1d(xl, k, b, layer.strides[0], layer.padding, layer.dilation_rate[0])
    else:
        y = reference_conv2d(xl, k, b, layer.strides, layer.padding, layer.dilation_rate)
    return np.moveaxis(y, -1, 1) if cf else y


def _rand_bias(layer, rng):
    if layer.bias is not None:
        layer.bias.assign(rng.standard_normal(layer.bias.shape))


# ---- values ----------------------------------------------------------------------

CONV2D = [
    dict(filters=4, kernel_size=3),
    dict(filters=3, kernel_size=(2, 3), padding="same"),
    dict(filters=5, kernel_size=3, strides=2),
    dict(filters=5, kernel_size=3, strides=2, padding="same"),
    dict(filters=2, kernel_size=(3, 2), strides=(2, 3), padding="same"),
    dict(filters=3, kernel_size=2, dilation_rate=2),
    dict(filters=3, kernel_size=3, dilation_rate=(2, 1), padding="same"),
    dict(filters=6, kernel_size=1),
    dict(filters=6, kernel_size=1, strides=2),
    dict(filters=4, kernel_size=4, padding="same", use_bias=False),
    dict(filters=4, kernel_size=(7, 5)),                    # kernel == input: 1x1 output
    dict(filters=4, kernel_size=3, data_format="channels_first"),
    dict(filters=3, kernel_size=2, strides=2, padding="same", data_format="channels_first"),
    dict(filters=3, kernel_size=1, data_format="channels_first"),
]


@pytest.mark.parametrize("kw", CONV2D)
def test_conv2d_matches_direct_loops(rng, ops_impl, kw):
    layer = C.Conv2D(**kw)
    shape = (3, 3, 7, 5) if kw.get("data_format") == "channels_first" else (3, 7, 5, 3)
    x = rng.standard_normal(shape).astype(np.float32)
    y = layer(x)
    _rand_bias(layer, rng)
    y = layer(x)
    ref = _layer_ref(layer, x.astype(np.float64))
    assert y.dtype == np.float32 and y.shape == ref.shape
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + ref.shape[1:]
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


CONV1D = [
    dict(filters=4, kernel_size=3),
    dict(filters=4, kernel_size=4, padding="same"),
    dict(filters=3, kernel_size=3, padding="causal"),
    dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2),
    dict(filters=3, kernel_size=2, padding="causal", strides=3),
    dict(filters=2, kernel_size=3, strides=2),
    dict(filters=2, kernel_size=5, strides=3, padding="same"),
    dict(filters=5, kernel_size=2, dilation_rate=3, padding="same"),
    dict(filters=5, kernel_size=1),
    dict(filters=4, kernel_size=9),                         # kernel == input length
    dict(filters=4, kernel_size=3, data_format="channels_first", padding="causal"),
    dict(filters=4, kernel_size=2, data_format="channels_first", strides=2),
]


@pytest.mark.parametrize("kw", CONV1D)
def test_conv1d_matches_direct_loops(rng, ops_impl, kw):
    layer = C.Conv1D(**kw)
    shape = (3, 4, 9) if kw.get("data_format") == "channels_first" else (3, 9, 4)
    x = rng.standard_normal(shape).astype(np.float32)
    layer(x)
    _rand_bias(layer, rng)
    y = layer(x)
    ref = _layer_ref(layer, x.astype(np.float64))
    assert y.shape == ref.shape
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + ref.shape[1:]
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_tensorflow_same_padding_and_no_kernel_flip():
    # Hand-computed: odd total padding goes at the end; taps are not flipped.
    x = np.arange(5, dtype=np.float32).reshape(1, 5, 1)
    layer = C.Conv1D(1, 3, padding="same", use_bias=False)
    layer.build((None, 5, 1))
    layer.kernel.assign(np.array([1, 2, 3], np.float32).reshape(3, 1, 1))
    np.testing.assert_array_equal(layer(x)[0, :, 0], [3, 8, 14, 20, 11])
    layer = C.Conv1D(1, 2, padding="same", use_bias=False)
    layer.build((None, 5, 1))
    layer.kernel.assign(np.array([1, 2], np.float32).reshape(2, 1, 1))
    np.testing.assert_array_equal(layer(x)[0, :, 0], [2, 5, 8, 11, 4])
    layer = C.Conv1D(1, 2, padding="causal", use_bias=False)
    layer.build((None, 5, 1))
    layer.kernel.assign(np.array([1, 2], np.float32).reshape(2, 1, 1))
    np.testing.assert_array_equal(layer(x)[0, :, 0], [0, 2, 5, 8, 11])
    # 2-D, stride 2 on an even size: TF pads (kernel - stride) = 1 at the end only.
    x2 = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    layer = C.Conv2D(1, 3, strides=2, padding="same", use_bias=False)
    layer.build((None, 4, 4, 1))
    k = np.zeros((3, 3, 1, 1), np.float32)
    k[0, 0] = 1                                    # picks the top-left tap
    layer.kernel.assign(k)
    np.testing.assert_array_equal(layer(x2)[0, :, :, 0], [[0, 2], [8, 10]])


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "softmax", "gelu", "log_softmax"])
@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
def test_activations_apply_on_the_output_layout(rng, act, fmt):
    layer = C.Conv2D(4, 2, activation=act, data_format=fmt)
    x = rng.standard_normal((2, 4, 5, 3) if fmt == "channels_last" else (2, 3, 4, 5))
    x = x.astype(np.float32)
    layer(x)
    _rand_bias(layer, rng)
    z = _layer_ref(layer, x.astype(np.float64))
    # Keras applies the activation to the layer's output as laid out (last axis).
    expected = keras.activations.get(act).forward(z)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-5)
    logits, _ = layer.forward_logits(x)
    np.testing.assert_allclose(logits, z, rtol=1e-5, atol=1e-5)


def test_conv1d_on_embedding_output_and_float64_passthrough(rng):
    from ckeras.layers.embedding import Embedding
    ids = rng.integers(1, 20, size=(4, 11))
    emb = Embedding(20, 6)
    conv = C.Conv1D(5, 3, activation="relu")
    h = emb(ids)
    y = conv(h)
    ref = np.maximum(_layer_ref(conv, h.astype(np.float64)), 0)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    # float64 flows through (the gradient checks rely on it).
    assert conv.forward(h.astype(np.float64))[0].dtype == np.float64


# ---- gradients -------------------------------------------------------------------

GRAD_CASES = [
    (C.Conv2D, dict(filters=3, kernel_size=3), (2, 6, 5, 2)),
    (C.Conv2D, dict(filters=2, kernel_size=(3, 2), strides=2, padding="same",
                    activation="tanh"), (2, 7, 6, 3)),
    (C.Conv2D, dict(filters=3, kernel_size=2, dilation_rate=2, padding="same",
                    activation="sigmoid"), (2, 5, 5, 2)),
    (C.Conv2D, dict(filters=2, kernel_size=1, strides=2, use_bias=False), (2, 5, 4, 3)),
    (C.Conv2D, dict(filters=2, kernel_size=1), (2, 3, 4, 3)),
    (C.Conv2D, dict(filters=3, kernel_size=3, padding="same", activation="softmax",
                    data_format="channels_first"), (2, 2, 5, 4)),
    (C.Conv2D, dict(filters=2, kernel_size=2, activation="gelu"), (2, 4, 4, 2)),
    (C.Conv1D, dict(filters=3, kernel_size=3), (2, 8, 3)),
    (C.Conv1D, dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2,
                    activation="relu"), (2, 9, 2)),
    (C.Conv1D, dict(filters=2, kernel_size=4, strides=3, padding="same",
                    activation="softmax"), (2, 10, 3)),
    (C.Conv1D, dict(filters=2, kernel_size=2, strides=2, data_format="channels_first"),
     (2, 3, 7)),
]


@pytest.mark.parametrize("cls, kw, shape", GRAD_CASES)
def test_finite_difference_gradients(rng, cls, kw, shape):
    layer = cls(**kw)
    layer._maybe_build((None,) + shape[1:])
    _rand_bias(layer, rng)
    x = rng.standard_normal(shape)
    if kw.get("activation") == "relu":
        x += np.sign(x) * 0.05                     # keep away from the kink
    check_layer_gradients(layer, x, max_coords=60)


def test_backward_accumulates_and_skips_dx(rng):
    layer = C.Conv2D(3, 3, padding="same")
    x = rng.standard_normal((2, 5, 5, 2)).astype(np.float32)
    layer._maybe_build((None, 5, 5, 2))
    y, backward = layer.forward(x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    assert backward(dy, need_dx=False) is None
    g1, b1 = layer.kernel.grad.copy(), layer.bias.grad.copy()
    assert np.abs(g1).sum() > 0
    dx = backward(dy)
    assert dx.shape == x.shape and dx.dtype == np.float32
    np.testing.assert_allclose(layer.kernel.grad, 2 * g1, rtol=1e-5)
    np.testing.assert_allclose(layer.bias.grad, 2 * b1, rtol=1e-5)


# ---- weights and shapes ----------------------------------------------------------

def test_weight_shapes_order_and_glorot_fans():
    layer = C.Conv2D(64, 3)
    layer.build((None, 10, 10, 16))
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert layer.kernel.shape == (3, 3, 16, 64) and layer.bias.shape == (64,)
    limit = math.sqrt(6 / (9 * 16 + 9 * 64))          # spec §6: 0.091287
    assert 0.09 < np.abs(layer.kernel.value).max() <= limit
    assert not layer.bias.value.any()
    c1 = C.Conv1D(8, 5, use_bias=False)
    c1.build((None, 12, 3))
    assert [w.shape for w in c1.weights] == [(5, 3, 8)]
    assert c1.count_params() == 120


def test_output_shapes_with_unknown_dims():
    assert C.Conv1D(7, 3).compute_output_shape((None, None, 4)) == (None, None, 7)
    assert C.Conv2D(7, 3, strides=2, padding="same").compute_output_shape(
        (None, 9, None, 2)) == (None, 5, None, 7)
    assert C.Conv2D(7, 3, data_format="channels_first").compute_output_shape(
        (None, 2, 9, 8)) == (None, 7, 7, 6)
    # A functional model with variable-length text.
    inp = keras.Input((None, 4))
    out = C.Conv1D(6, 3, padding="causal")(inp)
    assert out.shape == (None, None, 6)


# ---- config ----------------------------------------------------------------------

KERAS3_KEYS = ["name", "trainable", "dtype", "filters", "kernel_size", "strides", "padding",
               "data_format", "dilation_rate", "groups", "activation", "use_bias",
               "kernel_initializer", "bias_initializer", "kernel_regularizer",
               "bias_regularizer", "activity_regularizer", "kernel_constraint",
               "bias_constraint"]


@pytest.mark.parametrize("cls, kw", [
    (C.Conv2D, dict(filters=4, kernel_size=3)),
    (C.Conv2D, dict(filters=4, kernel_size=(3, 1), strides=(2, 1), padding="same",
                    data_format="channels_first", activation="relu", use_bias=False,
                    kernel_regularizer="l2", kernel_constraint="max_norm")),
    (C.Conv1D, dict(filters=2, kernel_size=5, padding="causal", dilation_rate=2,
                    activation="tanh", activity_regularizer="l1")),
])
def test_config_round_trip(cls, kw):
    layer = cls(**kw)
    config = layer.get_config()
    assert list(config) == KERAS3_KEYS
    for key in ("kernel_size", "strides", "dilation_rate"):
        assert isinstance(config[key], list) and len(config[key]) == layer._rank
    json.dumps(config)
    clone = cls(**config)
    assert clone.get_config() == config
    again = deserialize_layer(json.loads(json.dumps(serialize_layer(layer))))
    assert type(again) is cls and again.get_config() == config


def test_keras3_config_from_a_real_file():
    import h5py
    with h5py.File(os.path.join(DATA, "d_cnn.h5"), "r") as f:
        model_config = json.loads(f.attrs["model_config"])
    entry = next(e for e in model_config["config"]["layers"] if e["class_name"] == "Conv2D")
    layer = deserialize_layer(entry)
    assert isinstance(layer, C.Conv2D)
    assert layer.get_config() == entry["config"]


def test_keras2_config_loads():
    entry = {"class_name": "Conv2D", "config": {
        "name": "conv2d_1", "trainable": True, "batch_input_shape": [None, 8, 8, 1],
        "dtype": "float32", "filters": 4, "kernel_size": [3, 3], "strides": [1, 1],
        "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1],
        "groups": 1, "activation": "relu", "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}},
        "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None}}
    layer = deserialize_layer(entry)
    assert layer.kernel_size == (3, 3) and layer.padding == "same"
    assert layer._batch_input_shape == (None, 8, 8, 1)
    model = keras.Sequential([layer])
    assert model.built and layer.kernel.shape == (3, 3, 1, 4)
    assert model.predict(np.zeros((2, 8, 8, 1), np.float32), verbose=0).shape == (2, 8, 8, 4)
    old = {"class_name": "Conv1D", "config": {
        "name": "c1", "filters": 3, "kernel_size": (2,), "strides": (1,),
        "padding": "causal", "dilation_rate": (1,), "activation": "linear",
        "input_shape": (None, 5)}}                    # pre-2.3: no groups/data_format
    c1 = deserialize_layer(old)
    assert c1.kernel_size == (2,) and c1.data_format == "channels_last"
    assert c1.get_config()["kernel_size"] == [2]


# ---- errors ----------------------------------------------------------------------

def test_bad_input_errors_name_layer_and_shapes(rng):
    layer = C.Conv2D(2, 3, name="convy")
    layer(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"convy.*expected ndim=4.*\(5, 5, 3\)"):
        layer(np.zeros((5, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"convy.*axis -1.*value 3.*\(1, 5, 5, 4\)"):
        layer(np.zeros((1, 5, 5, 4), np.float32))
    with pytest.raises(ValueError, match=r"convy.*\(1, 2, 5, 3\).*too small"):
        layer(np.zeros((1, 2, 5, 3), np.float32))
    cf = C.Conv1D(2, 3, data_format="channels_first", name="cf1")
    cf.build((None, 4, 9))
    with pytest.raises(ValueError, match=r"cf1.*axis 1.*value 4"):
        cf(np.zeros((1, 9, 4), np.float32))
    with pytest.raises(ValueError, match="too small"):
        C.Conv1D(2, 3, dilation_rate=3).compute_output_shape((None, 6, 1))
    with pytest.raises(ValueError, match="too small"):
        keras.Sequential([keras.Input((2, 2, 1)), C.Conv2D(2, 3)])


@pytest.mark.parametrize("cls, kw, exc, pattern", [
    (C.Conv2D, dict(filters=3, kernel_size=3, groups=2), ValueError, "divisible by `groups`"),
    (C.Conv2D, dict(filters=2, kernel_size=3, padding="causal"), ValueError, "padding"),
    (C.Conv1D, dict(filters=2, kernel_size=3, padding="full"), ValueError, "padding"),
    (C.Conv2D, dict(filters=0, kernel_size=3), ValueError, "filters"),
    (C.Conv2D, dict(filters=2, kernel_size=(3, 3, 3)), ValueError, "kernel_size"),
    (C.Conv1D, dict(filters=2, kernel_size=0), ValueError, "kernel_size"),
    (C.Conv2D, dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), ValueError,
     "dilation_rate"),
    (C.Conv2D, dict(filters=2, kernel_size=3, data_format="NHWC"), ValueError, "data_format"),
])
def test_bad_arguments(cls, kw, exc, pattern):
    with pytest.raises(exc, match=pattern):
        cls(**kw)


# ---- models ----------------------------------------------------------------------

def test_text_cnn_trains():
    from ckeras.layers.embedding import Embedding
    from ckeras.layers.pooling import GlobalMaxPooling1D
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, size=(200, 12))
    y = (x == 7).any(axis=1).astype(np.float32)      # "does token 7 occur?"
    model = keras.Sequential([keras.Input((12,), dtype="int32"),
                              Embedding(30, 8, mask_zero=True),
                              C.Conv1D(16, 3, padding="same", activation="relu"),
                              GlobalMaxPooling1D(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["accuracy"][-1] > 0.9


def _pooling_or_none():
    try:
        from ckeras.layers.pooling import MaxPooling2D
        return MaxPooling2D
    except ImportError:
        return None


def test_digits_cnn_learns():
    (xtr, ytr), (xte, yte) = keras.datasets.digits.load_data()
    xtr = (xtr / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    xte = (xte / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    keras.utils.set_random_seed(1)
    pool = _pooling_or_none()
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              C.Conv2D(32, 3, padding="same", activation="relu")]
                             + ([pool()] if pool else [])
                             + [keras.layers.Flatten(),
                                keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.003),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xtr, ytr, epochs=10, batch_size=32, verbose=0)
    loss, acc = model.evaluate(xte, yte, verbose=0)
    assert acc > 0.9, (loss, acc)


def _fixture():
    path = os.path.join(DATA, "d_cnn.npz")
    if not os.path.exists(path):
        pytest.skip("d_cnn.npz fixture not present")
    return np.load(path)


def test_matches_real_keras_cnn_predictions():
    pool = _pooling_or_none()
    if pool is None:
        pytest.skip("ckeras.layers.pooling not available")
    d = _fixture()
    model = keras.Sequential([keras.Input((8, 8, 1)), C.Conv2D(4, 3, activation="relu"),
                              pool(), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.layers[0].set_weights([d["w__conv2d__0"], d["w__conv2d__1"]])
    model.layers[3].set_weights([d["w__dense__0"], d["w__dense__1"]])
    np.testing.assert_allclose(model.predict(d["x"], verbose=0), d["y"], atol=1e-5)


@pytest.mark.parametrize("fname, npz", [("d_cnn.h5", "d_cnn.npz"),
                                        ("k3_cnn.keras", "k3_cnn.npz")])
def test_load_real_keras_cnn_files(fname, npz):
    if _pooling_or_none() is None or not os.path.exists(os.path.join(DATA, fname)):
        pytest.skip("pooling or fixture not available")
    d = np.load(os.path.join(DATA, npz))
    model = keras.load_model(os.path.join(DATA, fname))
    assert isinstance(model.layers[0], C.Conv2D)
    np.testing.assert_allclose(model.predict(d["x"], verbose=0), d["y"], atol=1e-5)
