"""Merge layers: values, finite-difference gradients, shapes, configs, errors."""
import numpy as np
import pytest

import ckeras as keras
from ckeras.layers import merge
from ckeras.layers.merge import (Add, Average, Concatenate, Dot, Maximum, Minimum,
                                 Multiply, Subtract)
from ckeras.testing import check_layer_gradients


def _xs(rng, *shapes):
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("cls, fn", [
    (Add, lambda a, b, c: a + b + c),
    (Multiply, lambda a, b, c: a * b * c),
    (Average, lambda a, b, c: (a + b + c) / 3),
    (Maximum, lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    (Minimum, lambda a, b, c: np.minimum(np.minimum(a, b), c)),
])
def test_elementwise_values_and_gradients(rng, cls, fn):
    xs = _xs(rng, (4, 3, 5), (4, 3, 5), (4, 3, 5))
    layer = cls()
    y = layer([a.astype(np.float32) for a in xs])
    np.testing.assert_allclose(y, fn(*xs), rtol=1e-5, atol=1e-6)
    check_layer_gradients(cls(), xs)


def test_subtract_values_gradients_and_arity(rng):
    a, b = _xs(rng, (5, 4), (5, 4))
    np.testing.assert_allclose(Subtract()([a, b]), a - b)
    check_layer_gradients(Subtract(), [a, b])
    with pytest.raises(ValueError, match=r"exactly 2 inputs"):
        Subtract(name="sub")([a, b, a])


@pytest.mark.parametrize("cls", [Add, Multiply, Average, Maximum, Minimum, Subtract])
def test_broadcast_lower_rank_after_batch_axis(rng, cls):
    # Keras inserts the missing axes right after the batch axis: (B, 3) vs (B, 5, 3).
    a, b = _xs(rng, (2, 5, 3), (2, 3))
    layer = cls()
    assert layer.compute_output_shape([(None, 5, 3), (None, 3)]) == (None, 5, 3)
    y = layer([a, b])
    assert y.shape == (2, 5, 3)
    check_layer_gradients(cls(), [a, b])
    # broadcasting over a size-1 dimension
    c, d = _xs(rng, (2, 4, 3), (2, 1, 3))
    check_layer_gradients(cls(), [c, d])


def test_max_min_route_ties_to_first_input():
    a = np.array([[1.0, 2.0, 3.0]])
    b = np.array([[1.0, 5.0, 3.0]])
    c = np.array([[0.0, 5.0, 3.0]])
    for cls in (Maximum, Minimum):
        layer = cls()
        layer._maybe_build([(None, 3)] * 3)
        y, back = layer.forward([a, b, c])
        dy = np.array([[10.0, 20.0, 30.0]])
        da, db, dc = back(dy)
        if cls is Maximum:
            np.testing.assert_array_equal(da, [[10, 0, 30]])   # ties at 0 and 2 -> first
            np.testing.assert_array_equal(db, [[0, 20, 0]])    # tie of b and c -> b
            np.testing.assert_array_equal(dc, [[0, 0, 0]])
        else:
            np.testing.assert_array_equal(da, [[0, 20, 30]])
            np.testing.assert_array_equal(dc, [[10, 0, 0]])
            np.testing.assert_array_equal(db, [[0, 0, 0]])
        # gradient is conserved: every element goes to exactly one input
        np.testing.assert_array_equal(da + db + dc, dy)


def test_multiply_gradient_with_zero_input(rng):
    a = rng.standard_normal((3, 4))
    a[0, 0] = 0.0
    check_layer_gradients(Multiply(), [a, rng.standard_normal((3, 4))])


@pytest.mark.parametrize("axis, shapes", [
    (-1, [(3, 2), (3, 5), (3, 1)]),
    (1, [(2, 3, 4), (2, 1, 4)]),
    (2, [(2, 3, 4), (2, 3, 2)]),
])
def test_concatenate(rng, axis, shapes):
    xs = _xs(rng, *shapes)
    layer = Concatenate(axis=axis)
    out = layer.compute_output_shape([(None,) + s[1:] for s in shapes])
    y = layer(xs)
    np.testing.assert_allclose(y, np.concatenate(xs, axis=axis))
    assert out == (None,) + y.shape[1:]
    check_layer_gradients(Concatenate(axis=axis), xs)


def test_concatenate_shape_error_names_layer_and_shapes():
    layer = Concatenate(name="cat")
    with pytest.raises(ValueError, match=r"'cat'.*\(None, 4, 4\).*\(None, 5, 5\)"):
        layer.compute_output_shape([(None, 4, 4), (None, 5, 5)])
    a, b = keras.Input((4, 4)), keras.Input((5, 5))
    with pytest.raises(ValueError, match="matching shapes"):
        Concatenate()([a, b])
    with pytest.raises(ValueError, match="list of inputs"):
        Concatenate()(keras.Input((3,)))


def test_elementwise_shape_error():
    with pytest.raises(ValueError, match=r"'plus'.*incompatible shapes.*\(None, 3\).*\(None, 4\)"):
        Add(name="plus")([keras.Input((3,)), keras.Input((4,))])
    with pytest.raises(ValueError, match="incompatible shapes"):
        Add()([np.ones((2, 3)), np.ones((2, 4))])


def test_concatenate_mask():
    layer = Concatenate()
    x = [np.ones((2, 3, 4)), np.ones((2, 3, 2))]
    m = layer.compute_mask(x, [np.array([[1, 1, 0], [1, 0, 0]], bool), None])
    np.testing.assert_array_equal(m, np.ones((2, 3), bool))
    assert layer.compute_mask(x, [None, None]) is None
    m2 = Add().compute_mask(x, [np.array([[1, 1, 0]], bool), np.array([[1, 0, 1]], bool)])
    np.testing.assert_array_equal(m2, [[True, False, False]])


@pytest.mark.parametrize("axes, s1, s2, out", [
    (1, (4, 5), (4, 5), (None, 1)),
    (-1, (4, 5), (4, 5), (None, 1)),
    (2, (3, 4, 5), (3, 6, 5), (None, 4, 6)),
    ((2, 1), (3, 4, 5), (3, 5), (None, 4)),
    ((1, 1), (3, 4, 5), (3, 4, 6), (None, 5, 6)),
    ((1, 2), (3, 4, 5), (3, 2, 4), (None, 5, 2)),
])
def test_dot_shapes_values_and_gradients(rng, axes, s1, s2, out):
    a, b = _xs(rng, s1, s2)
    layer = Dot(axes=axes)
    assert layer.compute_output_shape([(None,) + s1[1:], (None,) + s2[1:]]) == out
    y = layer([a, b])
    assert y.shape == (s1[0],) + out[1:]
    ax = (axes, axes) if isinstance(axes, int) else axes
    ax = (ax[0] % len(s1), ax[1] % len(s2))
    ref = np.stack([np.tensordot(a[i], b[i], axes=(ax[0] - 1, ax[1] - 1))
                    for i in range(s1[0])]).reshape(y.shape)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    check_layer_gradients(Dot(axes=axes), [a, b])
    check_layer_gradients(Dot(axes=axes, normalize=True), [a, b])


def test_dot_normalize_is_cosine(rng):
    a, b = _xs(rng, (6, 7), (6, 7))
    y = Dot(axes=1, normalize=True)([a, b])
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(y[:, 0], cos, rtol=1e-5)


def test_dot_errors():
    with pytest.raises(ValueError, match=r"'d'.*axis 1 of input 0 has size 4.*size 5"):
        Dot(axes=1, name="d")([keras.Input((4,)), keras.Input((5,))])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        Dot(axes=1)([keras.Input((4,))] * 3)
    with pytest.raises(ValueError, match="batch axis"):
        Dot(axes=0)([keras.Input((4,)), keras.Input((4,))])


@pytest.mark.parametrize("layer, keys", [
    (Concatenate(axis=1), {"axis": 1}),
    (Dot(axes=(1, 2), normalize=True), {"axes": [1, 2], "normalize": True}),
    (Dot(axes=-1), {"axes": -1, "normalize": False}),
    (Add(), {}),
    (Maximum(), {}),
])
def test_config_round_trip(layer, keys):
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype"} | set(keys)
    for k, v in keys.items():
        assert config[k] == v
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    entry = keras.layers.serialize(layer)
    assert type(keras.layers.deserialize(entry)) is type(layer)


def test_functional_helpers_symbolic_and_eager(rng):
    a, b = keras.Input((3,)), keras.Input((3,))
    for fn, cls in [(merge.add, Add), (merge.subtract, Subtract), (merge.multiply, Multiply),
                    (merge.average, Average), (merge.maximum, Maximum),
                    (merge.minimum, Minimum), (merge.concatenate, Concatenate)]:
        t = fn([a, b])
        assert isinstance(t.history[0], cls)
    t = merge.dot([a, b], axes=1, name="dd")
    assert t.history[0].name == "dd" and t.shape == (None, 1)
    assert merge.concatenate([a, b], axis=-1).shape == (None, 6)
    x, y = _xs(rng, (2, 3), (2, 3))
    np.testing.assert_allclose(merge.add([x, y]), x + y)
    np.testing.assert_allclose(merge.concatenate([x, y], axis=0), np.concatenate([x, y]))
