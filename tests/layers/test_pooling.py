"""Pooling layers: values against plain loops, float64 finite differences
(with and without masks), tie routing, shapes, errors and configs."""
import json
import math
import re

import numpy as np
import pytest

import ckeras as keras
from ckeras.layers import pooling as P
from ckeras.testing import check_layer_gradients


def reference_pool(x, pool, strides, padding, mode):
    """Loop over output positions (channels_last, 2-D), TF's 'same' geometry."""
    b, h, w, c = x.shape
    geo = []
    for n, p, s in zip((h, w), pool, strides):
        if padding == "valid":
            geo.append(((n - p) // s + 1, 0))
        else:
            o = math.ceil(n / s)
            geo.append((o, max((o - 1) * s + p - n, 0) // 2))
    (oh, top), (ow, left) = geo
    out = np.empty((b, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r, q = i * strides[0] - top, j * strides[1] - left
            win = x[:, max(r, 0):min(r + pool[0], h), max(q, 0):min(q + pool[1], w)]
            out[:, i, j] = win.max(axis=(1, 2)) if mode == "max" else win.mean(axis=(1, 2))
    return out


WINDOWED_2D = [
    dict(), dict(padding="same"), dict(pool_size=3, strides=1),
    dict(pool_size=(3, 2), strides=(2, 1), padding="same"), dict(pool_size=2, strides=3),
    dict(pool_size=3, strides=2, padding="same"),
]


@pytest.mark.parametrize("cls, mode", [(P.MaxPooling2D, "max"), (P.AveragePooling2D, "avg")])
@pytest.mark.parametrize("kw", WINDOWED_2D)
def test_pooling2d_values_and_gradients(rng, cls, mode, kw):
    layer = cls(**kw)
    x = rng.standard_normal((2, 7, 5, 3))
    y = layer(x.astype(np.float32))
    ref = reference_pool(x, layer.pool_size, layer.strides, layer.padding, mode)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 7, 5, 3)) == (None,) + ref.shape[1:]
    check_layer_gradients(cls(**kw), x)


@pytest.mark.parametrize("cls, mode", [(P.MaxPooling1D, "max"), (P.AveragePooling1D, "avg")])
@pytest.mark.parametrize("kw", [dict(), dict(padding="same"), dict(pool_size=3, strides=1),
                                dict(pool_size=4, strides=3, padding="same")])
def test_pooling1d_values_and_gradients(rng, cls, mode, kw):
    layer = cls(**kw)
    x = rng.standard_normal((3, 9, 4))
    y = layer(x.astype(np.float32))
    ref = reference_pool(x[:, None], (1,) + layer.pool_size, (1,) + layer.strides,
                         layer.padding, mode)[:, 0]
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 9, 4)) == (None,) + ref.shape[1:]
    check_layer_gradients(cls(**kw), x)


@pytest.mark.parametrize("cls", [P.MaxPooling2D, P.AveragePooling2D, P.MaxPooling1D,
                                 P.AveragePooling1D])
def test_channels_first_matches_channels_last(rng, cls):
    x = rng.standard_normal((2, 6, 6, 3) if "2D" in cls.__name__ else (2, 7, 3))
    last = cls(padding="same")(x)
    xf = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    first = cls(padding="same", data_format="channels_first")
    np.testing.assert_allclose(first(xf), np.moveaxis(last, -1, 1), rtol=1e-6)
    check_layer_gradients(cls(padding="same", data_format="channels_first"), xf)


def test_max_pool_ties_route_to_first_max():
    x = np.ones((1, 4, 4, 1), np.float32)
    y, back = P.MaxPooling2D().forward(x)
    dx = back(np.full(y.shape, 5.0, np.float32))
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 5.0
    np.testing.assert_array_equal(dx[0, :, :, 0], expected)
    x1 = np.array([[[1.0], [3.0], [3.0], [2.0]]], np.float32)
    _, back = P.MaxPooling1D(pool_size=3, strides=1).forward(x1)
    np.testing.assert_array_equal(back(np.ones((1, 2, 1), np.float32))[0, :, 0], [0, 2, 0, 0])
    _, back = P.GlobalMaxPooling1D().forward(x1)
    np.testing.assert_array_equal(back(np.ones((1, 1), np.float32))[0, :, 0], [0, 1, 0, 0])


def test_overlapping_max_pool_accumulates_gradient():
    x = np.array([[[0.0], [9.0], [1.0], [2.0]]], np.float32)
    _, back = P.MaxPooling1D(pool_size=3, strides=1).forward(x)
    np.testing.assert_array_equal(back(np.array([[[1.0], [10.0]]], np.float32))[0, :, 0],
                                  [0, 11, 0, 0])


# ---- global pooling -----------------------------------------------------------------

GLOBAL = [P.GlobalAveragePooling1D, P.GlobalMaxPooling1D, P.GlobalAveragePooling2D,
          P.GlobalMaxPooling2D, P.GlobalAveragePooling3D, P.GlobalMaxPooling3D]


@pytest.mark.parametrize("cls", GLOBAL)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_values_shapes_gradients(rng, cls, data_format, keepdims):
    rank = int(cls.__name__[-2])
    x = rng.standard_normal((3, 5, 4, 2)[:rank + 1] + (6,))
    if data_format == "channels_first":
        x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    layer = cls(data_format=data_format, keepdims=keepdims)
    axes = tuple(range(1, rank + 1)) if data_format == "channels_last" else \
        tuple(range(2, rank + 2))
    reduce = np.max if "Max" in cls.__name__ else np.mean
    y = layer(x)
    np.testing.assert_allclose(y, reduce(x, axis=axes, keepdims=keepdims).astype(np.float32),
                               rtol=1e-5, atol=1e-6)
    shape = (None,) + x.shape[1:]
    assert layer.compute_output_shape(shape) == (None,) + y.shape[1:]
    check_layer_gradients(cls(data_format=data_format, keepdims=keepdims), x)


def test_masked_global_average_uses_unmasked_steps_only(rng):
    x = rng.standard_normal((3, 5, 4))
    mask = np.array([[1, 1, 0, 0, 0], [1, 0, 1, 0, 1], [1, 1, 1, 1, 1]], bool)
    layer = P.GlobalAveragePooling1D()
    y, _ = layer.forward(x, mask=mask)
    expected = np.stack([x[i][mask[i]].mean(axis=0) for i in range(3)])
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    assert layer.compute_mask(x, mask) is None
    check_layer_gradients(P.GlobalAveragePooling1D(), x, mask=mask)
    check_layer_gradients(P.GlobalAveragePooling1D(keepdims=True), x, mask=mask)
    xf = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    cf = P.GlobalAveragePooling1D(data_format="channels_first")
    np.testing.assert_allclose(cf.forward(xf, mask=mask)[0], expected, rtol=1e-12)
    check_layer_gradients(P.GlobalAveragePooling1D(data_format="channels_first"), xf,
                          mask=mask)


def test_fully_masked_row_gives_zeros_not_nan(rng):
    x = rng.standard_normal((2, 3, 2)).astype(np.float32)
    y, back = P.GlobalAveragePooling1D().forward(x, mask=np.array([[0, 0, 0], [1, 0, 0]]))
    np.testing.assert_array_equal(y[0], 0)
    np.testing.assert_allclose(y[1], x[1, 0])
    assert np.isfinite(back(np.ones((2, 2), np.float32))).all()


def test_global_max_ignores_mask_like_keras(rng):
    x = rng.standard_normal((2, 4, 3))
    mask = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], bool)
    layer = P.GlobalMaxPooling1D()
    np.testing.assert_array_equal(layer.forward(x, mask=mask)[0], x.max(axis=1))
    assert layer.compute_mask(x, mask) is None
    check_layer_gradients(P.GlobalMaxPooling1D(), x, mask=mask)


def test_mask_wrong_shape_is_a_clear_error(rng):
    with pytest.raises(ValueError, match="mask shape"):
        P.GlobalAveragePooling1D(name="gap").forward(rng.standard_normal((2, 4, 3)),
                                                     mask=np.ones((2, 5), bool))


def test_flatten_over_sequence_output(rng):
    check_layer_gradients(keras.layers.Flatten(), rng.standard_normal((3, 4, 5)))


# ---- shapes, errors, config ----------------------------------------------------------------

def test_wrong_rank_and_too_small_input_errors():
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        P.MaxPooling2D(name="pool")(np.zeros((2, 4, 4), np.float32))
    with pytest.raises(ValueError, match="expected ndim=3"):
        P.GlobalAveragePooling1D()(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="padding='same'"):
        P.MaxPooling1D(pool_size=5)(np.zeros((1, 3, 2), np.float32))
    with pytest.raises(ValueError, match="padding='same'"):
        keras.Sequential([keras.Input(shape=(1, 1, 2)), P.MaxPooling2D()])
    with pytest.raises(ValueError, match="padding"):
        P.MaxPooling2D(padding="full")
    with pytest.raises(ValueError, match="pool_size"):
        P.AveragePooling2D(pool_size=(2, 0))
    with pytest.raises(ValueError, match="data_format"):
        P.GlobalMaxPooling2D(data_format="nhwc")


def test_sequential_shapes_and_names():
    model = keras.Sequential([keras.Input(shape=(6, 6, 4)), P.MaxPooling2D(),
                              P.AveragePooling2D(padding="same"), P.GlobalMaxPooling2D()])
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    for piece in ("(MaxPooling2D)", "(None, 3, 3, 4)", "(None, 2, 2, 4)", "(None, 4)"):
        assert piece in text
    assert re.search(r"max_pooling2d(_\d+)? ", text) and "global_max_pooling2d" in text
    assert model.predict(np.ones((2, 6, 6, 4), np.float32), verbose=0).shape == (2, 4)


@pytest.mark.parametrize("layer", [
    P.MaxPooling1D(), P.AveragePooling1D(3, 1, "same"), P.MaxPooling2D((3, 2), padding="same"),
    P.AveragePooling2D(strides=1), P.GlobalAveragePooling1D(keepdims=True),
    P.GlobalMaxPooling1D(), P.GlobalAveragePooling2D(data_format="channels_first"),
    P.GlobalMaxPooling2D()])
def test_config_round_trip(layer):
    config = layer.get_config()
    json.dumps(config)
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    revived = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(revived) is type(layer)
    if isinstance(layer, P._Pooling):
        assert set(config) == {"name", "trainable", "dtype", "pool_size", "padding",
                               "strides", "data_format"}
    else:
        assert set(config) == {"name", "trainable", "dtype", "data_format", "keepdims"}


def test_keras2_pooling_config_and_defaults():
    layer = P.MaxPooling2D.from_config({"name": "max_pooling2d", "trainable": True,
                                        "dtype": "float32", "pool_size": [2, 2],
                                        "padding": "valid", "strides": [2, 2],
                                        "data_format": "channels_last"})
    assert layer.pool_size == (2, 2) and layer.strides == (2, 2)
    assert P.MaxPooling1D().strides == (2,) and P.AveragePooling2D(3).strides == (3, 3)
    assert P.MaxPool2D is P.MaxPooling2D and P.GlobalAvgPool1D is P.GlobalAveragePooling1D


# ---- 3-D windowed pooling ----------------------------------------------------------

def reference_pool3d(x, pool, strides, padding, mode):
    """Loop over output positions (channels_last, 3-D), TF's 'same' geometry."""
    geo = []
    for n, p, s in zip(x.shape[1:4], pool, strides):
        if padding == "valid":
            geo.append(((n - p) // s + 1, 0))
        else:
            o = math.ceil(n / s)
            geo.append((o, max((o - 1) * s + p - n, 0) // 2))
    out = np.empty((x.shape[0],) + tuple(o for o, _ in geo) + (x.shape[-1],))
    for idx in np.ndindex(*out.shape[1:4]):
        win = x[(slice(None),) + tuple(
            slice(max(i * s - b, 0), min(i * s - b + p, n))
            for i, s, (_, b), p, n in zip(idx, strides, geo, pool, x.shape[1:4]))]
        out[(slice(None),) + idx] = win.max(axis=(1, 2, 3)) if mode == "max" \
            else win.mean(axis=(1, 2, 3))
    return out


@pytest.mark.parametrize("cls, mode", [(P.MaxPooling3D, "max"), (P.AveragePooling3D, "avg")])
@pytest.mark.parametrize("kw", [dict(), dict(padding="same"), dict(pool_size=(3, 2, 1), strides=1),
                                dict(pool_size=(2, 3, 2), strides=(1, 2, 2), padding="same")])
def test_pooling3d_values_and_gradients(rng, cls, mode, kw):
    layer = cls(**kw)
    x = rng.standard_normal((2, 4, 5, 3, 2))
    y = layer(x.astype(np.float32))
    ref = reference_pool3d(x, layer.pool_size, layer.strides, layer.padding, mode)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 4, 5, 3, 2)) == (None,) + ref.shape[1:]
    check_layer_gradients(cls(**kw), x)
    xf = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    first = cls(data_format="channels_first", **kw)
    np.testing.assert_allclose(first(xf.astype(np.float32)), np.moveaxis(y, -1, 1), rtol=1e-6)
    check_layer_gradients(cls(data_format="channels_first", **kw), xf)


def test_float32_kernel_backward_matches_reference(rng):
    from ckeras import ops
    for layer in (P.MaxPooling2D(3, strides=2, padding="same"),
                  P.AveragePooling3D(2, strides=1, padding="same")):
        x = rng.standard_normal((3, 5, 6, 4, 2)[:layer._rank + 1] + (3,)).astype(np.float32)
        y, back = layer.forward(x)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        dx = back(dy)
        prev = ops.use_reference(True)
        try:
            y64, back64 = layer.forward(x.astype(np.float64))
            dx64 = back64(dy.astype(np.float64))
        finally:
            ops.use_reference(prev)
        np.testing.assert_allclose(y, y64, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(dx, dx64, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer", [P.MaxPooling2D(3, strides=2, padding="same"),
                                   P.MaxPooling1D(2), P.GlobalMaxPooling2D()])
def test_max_pool_gradient_same_in_and_out_of_training(rng, layer):
    # Inference skips the argmax; a backward then works it out from x.
    shape = (2, 7, 5, 3)[:layer._rank + 1] + (3,)
    x = rng.standard_normal(shape).astype(np.float32)
    x[0, 0] = x[0, 1]                        # ties between window elements
    outs = []
    for training in (True, False):
        y, back = layer.forward(x, training=training)
        dy = np.arange(y.size, dtype=np.float32).reshape(y.shape)
        outs.append((y, back(dy)))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
