"""Keras 3's core and math ops in ckeras/ops/core_ops.py (scatters, slice
updates, scan/map/switch, saturate_cast, segment reductions, in_top_k,
cdist), and the new numpy-style ops inside models: in a custom layer's call
that trains, and on KerasTensors in a functional model."""
import functools

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers, ops
from ckeras.ops.tape import GradientTape, Tensor
from ckeras.testing import check_op_gradients

RNG = np.random.default_rng(11)


def rand(*shape, lo=-1.0, hi=1.0):
    return RNG.uniform(lo, hi, shape)


check = functools.partial(check_op_gradients, rng=RNG)


# ---- scatters and slice updates -------------------------------------------------------------

def test_scatter_accumulates_repeats():
    idx = np.array([[0, 1], [2, 0], [0, 1]])
    vals = np.array([1.0, 2.0, 5.0], np.float32)
    want = np.zeros((3, 2), np.float32)
    want[0, 1], want[2, 0] = 6.0, 2.0
    np.testing.assert_array_equal(ops.scatter(idx, vals, (3, 2)), want)
    rows = ops.scatter(np.array([[1], [3]]), np.ones((2, 4)), (5, 4))   # whole rows
    np.testing.assert_array_equal(rows.sum(axis=1), [0, 4, 0, 4, 0])
    check(lambda v: ops.scatter(idx, v, (3, 2)), vals)
    check(lambda v: ops.scatter(np.array([[1], [3], [1]]), v, (5, 4)), rand(3, 4))


@pytest.mark.parametrize("reduction", [None, "add", "max", "min", "mul"])
def test_scatter_update_values(reduction):
    x = rand(4, 3)
    idx = np.array([[0, 1], [3, 2], [0, 1]])
    upd = rand(3)
    want = x.copy()
    if reduction is None:
        want[tuple(idx.T)] = upd
    else:
        {"add": np.add, "max": np.maximum, "min": np.minimum, "mul": np.multiply}[
            reduction].at(want, tuple(idx.T), upd)
    got = ops.scatter_update(x, idx, upd, reduction=reduction)
    np.testing.assert_array_equal(got, want)
    assert not np.shares_memory(got, x)


def test_scatter_update_gradients():
    idx = np.array([[0, 1], [3, 2], [0, 1]])   # a repeat: the last update wins
    check(lambda x, u: ops.scatter_update(x, idx, u), rand(4, 3), rand(3))
    check(lambda x, u: ops.scatter_update(x, idx, u, reduction="add"), rand(4, 3), rand(3))
    check(lambda x, u: ops.scatter_update(x, np.array([[2]]), u), rand(4, 3), rand(1, 3))
    x = Tensor(rand(4, 3))
    with GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(NotImplementedError, match="reduction='max'"):
            ops.scatter_update(x, idx, rand(3), reduction="max")
    with pytest.raises(ValueError, match="reduction"):
        ops.scatter_update(rand(2), np.array([[0]]), rand(1), reduction="sum")


def test_slice_update():
    x, u = rand(4, 5), rand(2, 3)
    want = x.copy()
    want[1:3, 2:5] = u
    np.testing.assert_array_equal(ops.slice_update(x, (1, 2), u), want)
    check(lambda a, b: ops.slice_update(a, np.array([1, 2]), b), x, u)
    with pytest.raises(ValueError, match="same rank"):
        ops.slice_update(x, (1,), u)


# ---- control flow ---------------------------------------------------------------------------

def test_switch_clips_the_index():
    branches = [lambda a, b: a + b, lambda a, b: a * b]
    assert ops.switch(0, branches, 2.0, 3.0) == 5.0
    assert ops.switch(1, branches, 2.0, 3.0) == 6.0
    assert ops.switch(7, branches, 2.0, 3.0) == 6.0
    assert ops.switch(-1, branches, 2.0, 3.0) == 5.0
    check(lambda x: ops.switch(np.array(1), [ops.sin, ops.cosh], x), rand(3))


def test_scan_map_associative_scan():
    xs = rand(5, 2)
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), np.zeros(2), xs)
    np.testing.assert_allclose(carry, xs.sum(0))
    want = np.concatenate([np.zeros((1, 2)), np.cumsum(xs, 0)[:-1]]) * xs
    np.testing.assert_allclose(ys, want)
    c2, ys2 = ops.scan(lambda c, x: (c + x, c), 0.0, xs[:, 0], reverse=True)
    np.testing.assert_allclose(ys2, np.cumsum(xs[::-1, 0])[::-1] - xs[:, 0])
    c3, none = ops.scan(lambda c, _: (c * 2, None), 1.0, length=4)
    assert c3 == 16.0 and none is None
    with pytest.raises(ValueError, match="length"):
        ops.scan(lambda c, x: (c, x), 0.0)
    check(lambda x: ops.scan(lambda c, e: (ops.tanh(c + e), c * e), np.ones(2), x)[1], xs)

    np.testing.assert_allclose(ops.map(lambda r: ops.sum(r) * 2, xs), xs.sum(1) * 2)
    pair = ops.map(lambda d: (d["a"] + 1, d["b"] * d["a"]), {"a": xs, "b": xs[:, ::-1]})
    np.testing.assert_allclose(pair[1], xs * xs[:, ::-1])
    check(lambda x: ops.map(lambda r: ops.sin(r) * r[0], x), xs)

    np.testing.assert_allclose(ops.associative_scan(ops.add, xs), np.cumsum(xs, 0))
    np.testing.assert_allclose(ops.associative_scan(ops.add, xs, axis=1), np.cumsum(xs, 1))
    np.testing.assert_allclose(ops.associative_scan(ops.multiply, xs, reverse=True),
                               np.cumprod(xs[::-1], 0)[::-1])
    both = ops.associative_scan(lambda a, b: (a[0] + b[0], ops.maximum(a[1], b[1])),
                                (xs[:, 0], xs[:, 1]))
    np.testing.assert_allclose(both[1], np.maximum.accumulate(xs[:, 1]))
    check(lambda x: ops.associative_scan(ops.multiply, x), rand(4, 3, lo=0.5, hi=1.5))


# ---- dtypes ---------------------------------------------------------------------------------

def test_saturate_cast_and_dtype():
    x = np.array([-300.0, -1.5, 0.4, 254.6, 300.0, np.inf], np.float32)
    np.testing.assert_array_equal(ops.saturate_cast(x, "uint8"), [0, 0, 0, 254, 255, 255])
    np.testing.assert_array_equal(ops.saturate_cast(np.array([70000, -70000]), "int16"),
                                  [32767, -32768])
    assert ops.saturate_cast(x, "int8").dtype == np.int8
    assert ops.dtype(np.ones(2, np.int64)) == "int64"
    assert ops.dtype(keras.Input((3,))) == "float32"
    assert ops.dtype(ops.convert_to_tensor([1.0])) == "float32"


def test_vectorize():
    f = ops.vectorize(lambda a, b: a * 2 + b)
    np.testing.assert_allclose(f(np.arange(3.0), 1.0), [1.0, 3.0, 5.0])
    g = ops.vectorize(lambda m: m.sum(), signature="(n)->()")
    np.testing.assert_allclose(g(np.ones((2, 3))), [3.0, 3.0])


# ---- keras.ops.math ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,ufunc,fill", [("segment_max", np.maximum, -np.inf),
                                             ("segment_min", np.minimum, np.inf),
                                             ("segment_prod", np.multiply, 1.0)])
def test_segment_reductions(name, ufunc, fill):
    data = rand(6, 2, lo=0.5, hi=1.5)
    ids = np.array([0, 2, 0, 2, 2, -1])
    want = np.full((4, 2), fill)
    ufunc.at(want, ids[:5], data[:5])
    np.testing.assert_allclose(getattr(ops, name)(data, ids, num_segments=4), want)
    np.testing.assert_allclose(getattr(ops, name)(data, ids)[:3], want[:3])
    full = np.array([0, 2, 1, 2, 2, -1])   # no empty segment: a finite loss
    check(lambda d: getattr(ops, name)(d, full, num_segments=3), data)
    if name == "segment_prod":
        data[1, 0] = data[3, 1] = data[4, 1] = 0.0
        check(lambda d: ops.segment_prod(d, full, num_segments=3), data)


def test_in_top_k_and_cdist():
    pred = np.array([[0.1, 0.5, 0.3, 0.5], [0.9, 0.0, 0.05, 0.05]], np.float32)
    np.testing.assert_array_equal(ops.in_top_k(np.array([3, 2]), pred, 1), [True, False])
    np.testing.assert_array_equal(ops.in_top_k(np.array([2, 2]), pred, 3), [True, True])
    a, b = rand(2, 4, 3), rand(2, 5, 3)
    want = np.sqrt(((a[:, :, None] - b[:, None]) ** 2).sum(-1))
    np.testing.assert_allclose(ops.cdist(a, b), want, rtol=1e-12)
    check(ops.cdist, a, b)
    with pytest.raises(ValueError, match="rank"):
        ops.cdist(rand(3), rand(3))


# ---- in models --------------------------------------------------------------------------------

class Wavy(layers.Layer):
    """A layer written on the new ops: every one of them is on the tape."""

    def build(self, input_shape):
        n = input_shape[-1]
        self.w = self.add_weight(shape=(n, n), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(n,), initializer="zeros")

    def call(self, x):
        h = ops.matmul(x, self.w) + self.b
        h = ops.logaddexp(ops.sinh(h * 0.5), ops.arctan2(h, 1.0 + ops.cosh(h)))
        h = ops.hstack([h, ops.cbrt(ops.hypot(h, 0.3)), ops.roll(h, 1, axis=-1)])
        med = ops.median(h, axis=-1, keepdims=True)
        return ops.concatenate([h, med, ops.cumprod(ops.tanh(h) * 0.5 + 1.0, axis=-1)[:, -1:],
                                ops.expand_dims(ops.trace(ops.expand_dims(h, -1) * h[:, None, :],
                                                          axis1=1, axis2=2), -1)], axis=-1)


def test_new_ops_in_a_custom_layer_train():
    x = RNG.standard_normal((128, 3)).astype(np.float32)
    y = (np.sin(x[:, :1]) + x[:, 1:2] * x[:, 2:]).astype(np.float32)
    model = keras.Sequential([keras.Input((3,)), Wavy(), layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.02), "mse")
    hist = model.fit(x, y, epochs=25, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert model.layers[0].w.value.dtype == np.float32


def test_new_ops_on_keras_tensors_build_a_functional_model(tmp_path):
    inp = keras.Input((6,))
    a = ops.quantile(inp, [0.25, 0.75], axis=-1)            # (2, None)
    b = ops.nanmean(ops.vstack([inp, inp * 2]), axis=0)      # vstack of (None, 6): (2N, 6)
    c = ops.diff(ops.sinh(inp), axis=-1)                      # (None, 5)
    d = ops.kron(ops.arcsinh(inp[:, :2]), np.ones((1, 2), np.float32))
    out = ops.concatenate([ops.transpose(a), c, d, ops.expand_dims(ops.trace(
        ops.reshape(inp, (-1, 2, 3)), axis1=1, axis2=2), -1)], axis=-1)
    assert tuple(a.shape) == (2, None) and tuple(c.shape) == (None, 5)
    assert tuple(d.shape) == (None, 4) and tuple(b.shape) == (6,)
    h = layers.Dense(1)(out)
    model = keras.Model(inp, h)
    x = RNG.standard_normal((16, 6)).astype(np.float32)
    got = model.predict(x, verbose=0)
    feats = np.concatenate([np.quantile(x, [0.25, 0.75], axis=-1).T, np.diff(np.sinh(x), axis=-1),
                            np.kron(np.arcsinh(x[:, :2]), np.ones((1, 2))),
                            np.trace(x.reshape(-1, 2, 3), axis1=1, axis2=2)[:, None]], axis=-1)
    w, bias = model.layers[-1].get_weights()
    np.testing.assert_allclose(got, feats @ w + bias, rtol=1e-4, atol=1e-5)
    model.compile("adam", "mse")
    hist = model.fit(x, x[:, :1], epochs=5, verbose=0)
    assert np.isfinite(hist.history["loss"][-1])
    path = str(tmp_path / "m.keras")
    model.save(path)
    back = keras.models.load_model(path)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
