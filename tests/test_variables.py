"""Variable's lazily zeroed gradient buffer, and the layers that overwrite it."""
import numpy as np
import pytest

import ckeras as keras
from ckeras.variables import Variable


def test_zero_grad_is_seen_as_zeros_by_readers():
    v = Variable(np.ones((3, 4)), "w")
    v.grad += 2.0
    v.zero_grad()
    np.testing.assert_array_equal(v.grad, 0)     # the read zeroes it
    v.grad += 1.0
    np.testing.assert_array_equal(v.grad, 1)     # and it stays accumulated


def test_grad_for_overwrite_reports_fresh_once_per_step():
    v = Variable(np.ones((2, 2)), "w")
    buf, fresh = v.grad_for_overwrite()          # never allocated: fresh
    assert fresh and buf.shape == (2, 2)
    buf[...] = 5.0
    buf2, fresh2 = v.grad_for_overwrite()        # second writer must accumulate
    assert buf2 is buf and not fresh2
    v.zero_grad()
    buf3, fresh3 = v.grad_for_overwrite()
    assert buf3 is buf and fresh3                # no zeroing pass happened
    np.testing.assert_array_equal(buf3, 5.0)
    v.zero_grad()
    v.grad                                       # a reader zeroes: no longer fresh
    assert v.grad_for_overwrite()[1] is False


def _shared_dense_model(rng):
    keras.utils.set_random_seed(11)
    a, b = keras.Input((6,)), keras.Input((6,))
    shared = keras.layers.Dense(5, activation="tanh")
    h = keras.layers.Concatenate()([shared(a), shared(b)])
    out = keras.layers.Dense(3, activation="softmax")(h)
    model = keras.Model([a, b], out)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    xs = [rng.standard_normal((8, 6)).astype(np.float32) for _ in range(2)]
    return model, xs, rng.integers(0, 3, 8)


def _conv_model(rng):
    keras.utils.set_random_seed(12)
    model = keras.Sequential([keras.Input((7, 7, 2)), keras.layers.Conv2D(3, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model, rng.standard_normal((8, 7, 7, 2)).astype(np.float32), rng.integers(0, 2, 8)


def _train(build):
    model, xs, y = build(np.random.default_rng(0))
    for _ in range(3):
        model.train_on_batch(xs, y)
    return model.get_weights()


@pytest.mark.parametrize("impl", ["kernels", "reference"])
@pytest.mark.parametrize("build", [_shared_dense_model, _conv_model])
def test_lazy_zeroing_trains_as_eager_zeroing(build, impl, monkeypatch):
    """A shared Dense overwrites its kernel gradient once per step and then
    accumulates; a stale buffer from the previous step must never leak in.
    The oracle: the same run with every gradient zeroed eagerly."""
    from ckeras import ops
    if impl == "kernels":
        pytest.importorskip("ckeras._kernels._dense")
    prev = ops.use_reference(impl == "reference")
    try:
        lazy = _train(build)
        monkeypatch.setattr(Variable, "grad_for_overwrite", lambda self: (self.grad, False))
        eager = _train(build)
    finally:
        ops.use_reference(prev)
    for a, b in zip(lazy, eager):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
