"""keras.random, keras.config and tf.keras 2's keras.backend functions."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import backend as K
from ckeras import layers, ops
from ckeras.ops.tape import GradientTape, Tensor
from ckeras.testing import numeric_gradient


def test_random_seeds_and_seed_generator():
    a = keras.random.normal((3, 4), seed=7)
    b = keras.random.normal((3, 4), seed=7)
    assert a.dtype == np.float32 and a.shape == (3, 4)
    np.testing.assert_array_equal(a, b)                     # int seed: stateless
    gen = keras.random.SeedGenerator(1)
    c, d = keras.random.uniform((5,), seed=gen), keras.random.uniform((5,), seed=gen)
    assert not np.array_equal(c, d) and (c >= 0).all() and (c < 1).all()
    gen2 = keras.random.SeedGenerator(1)
    np.testing.assert_array_equal(keras.random.uniform((5,), seed=gen2), c)
    t = keras.random.truncated_normal((1000,), seed=0)
    assert np.abs(t).max() <= 2
    r = keras.random.randint((100,), 0, 3, seed=0)
    assert set(np.unique(r)) <= {0, 1, 2}
    cat = keras.random.categorical(np.log([[0.0001, 0.9999]]), 50, seed=0)
    assert cat.shape == (1, 50) and cat.mean() > 0.9


def test_shuffle_and_dropout():
    x = np.arange(10.0)
    s = keras.random.shuffle(x, seed=3)
    assert sorted(s.tolist()) == x.tolist() and s.tolist() != x.tolist()
    y = keras.random.dropout(np.ones((1000,), np.float32), 0.25, seed=0)
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], rtol=1e-6)
    assert abs((y == 0).mean() - 0.25) < 0.05
    with GradientTape() as tape:
        t = Tensor(np.ones(8))
        tape.watch(t)
        out = ops.sum(keras.random.dropout(t, 0.5, seed=1))
    g = tape.gradient(out, t)
    np.testing.assert_allclose(g, keras.random.dropout(np.ones(8), 0.5, seed=1))


def test_config():
    assert keras.config.floatx() == "float32"
    assert keras.config.epsilon() == 1e-7
    assert isinstance(keras.config.backend(), str)
    assert keras.config.image_data_format() == "channels_last"


def test_backend_functions_values():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert K.int_shape(keras.Input((4, 5))) == (None, 4, 5)
    assert K.int_shape(x) == (2, 3)
    np.testing.assert_allclose(K.sum(x, axis=1), [3, 12])
    np.testing.assert_allclose(K.mean(x), 2.5)
    np.testing.assert_allclose(K.clip(x, 1, 4), np.clip(x, 1, 4))
    np.testing.assert_allclose(K.concatenate([x, x]), np.concatenate([x, x], -1))
    assert K.cast(x, "int32").dtype == np.int32 and K.floatx() == "float32"
    np.testing.assert_allclose(K.dot(x, x.T), x @ x.T)
    a, b = np.random.default_rng(0).standard_normal((2, 2, 4, 3))
    np.testing.assert_allclose(K.dot(a, b[0].T), a @ b[0].T, rtol=1e-6)
    np.testing.assert_allclose(K.batch_dot(x, x, axes=1), (x * x).sum(1, keepdims=True))
    p, q = np.random.default_rng(1).standard_normal((2, 5, 4, 3))
    np.testing.assert_allclose(K.batch_dot(p, q.transpose(0, 2, 1)), p @ q.transpose(0, 2, 1),
                               rtol=1e-6)
    np.testing.assert_allclose(K.batch_dot(p, q, axes=(2, 2)),
                               np.einsum("bij,bkj->bik", p, q), rtol=1e-6)
    for f in (K.square, K.sqrt, K.exp, K.log, K.abs):
        np.testing.assert_allclose(f(x + 1), getattr(np, f.__name__ if f is not K.abs
                                                      else "abs")(x + 1), rtol=1e-6)
    np.testing.assert_allclose(K.maximum(x, 2), np.maximum(x, 2))
    assert K.epsilon() == 1e-7
    K.clear_session()


def test_batch_dot_gradient():
    p, q = np.random.default_rng(2).standard_normal((2, 3, 4, 2))
    with GradientTape() as tape:
        tp = Tensor(p.copy())
        tape.watch(tp)
        y = ops.sum(K.batch_dot(tp, q, axes=(2, 2)) ** 2)
    num = numeric_gradient(lambda: float(np.sum(np.einsum("bij,bkj->bik", p, q) ** 2)), p)
    np.testing.assert_allclose(tape.gradient(y, tp), num, rtol=1e-6)


def test_tf_keras2_style_custom_loss_with_backend_trains():
    def rmse(y_true, y_pred):
        return K.sqrt(K.mean(K.square(y_pred - y_true), axis=-1) + K.epsilon())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype("float32")
    y = x.sum(1, keepdims=True)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.05), rmse)
    hist = model.fit(x, y, epochs=20, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


def test_set_floatx_rejects_other_types():
    with pytest.raises(ValueError):
        keras.config.set_floatx("float16")
