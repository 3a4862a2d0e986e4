"""Custom losses and metrics (functions of tensors, Loss/Metric subclasses),
built-in loss functions on the tape, and add_loss."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers, losses, metrics, ops
from ckeras.ops.tape import GradientTape, Tensor
from ckeras.testing import numeric_gradient

RNG = np.random.default_rng(0)


def linear_data(n=64):
    x = RNG.standard_normal((n, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-1.0], [0.5]], "float32"))


def my_mse(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


class ScaledMSE(losses.Loss):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, y_true, y_pred):
        return self.factor * ops.mean(ops.square(y_true - y_pred), axis=-1)


class CountAbove(metrics.Metric):
    """Keras 3 style: state in add_variable, assign_add in update_state."""

    def __init__(self, threshold=0.0, name="count_above", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        above = ops.cast(ops.greater(y_pred, self.threshold), "float32")
        self.count.assign_add(ops.sum(above))
        self.total.assign_add(ops.cast(ops.size(y_pred), "float32"))

    def result(self):
        return self.count / ops.maximum(self.total, 1.0)


def sgd_step_kernel(loss, x, y, lr=0.1):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1, use_bias=False,
                                                               kernel_initializer="ones")])
    model.compile(keras.optimizers.SGD(lr), loss)
    value = model.train_on_batch(x, y)
    return model.layers[0].kernel.numpy(), value


def test_function_loss_matches_builtin_mse():
    x, y = linear_data()
    k_custom, v_custom = sgd_step_kernel(my_mse, x, y)
    k_builtin, v_builtin = sgd_step_kernel("mse", x, y)
    np.testing.assert_allclose(k_custom, k_builtin, rtol=1e-5)
    np.testing.assert_allclose(v_custom, v_builtin, rtol=1e-5)


def test_loss_subclass_and_scalar_returning_function():
    x, y = linear_data()
    k_sub, v_sub = sgd_step_kernel(ScaledMSE(2.0), x, y, lr=0.05)
    k_ref, v_ref = sgd_step_kernel("mse", x, y, lr=0.1)
    np.testing.assert_allclose(k_sub, k_ref, rtol=1e-5)
    np.testing.assert_allclose(v_sub, 2 * v_ref, rtol=1e-5)
    k_scalar, _ = sgd_step_kernel(lambda t, p: ops.mean(ops.square(t - p)), x, y)
    np.testing.assert_allclose(k_scalar, k_ref, rtol=1e-5)


def test_sample_weights_with_custom_loss():
    x, y = linear_data(32)
    sw = RNG.uniform(0, 2, 32).astype("float32")
    out = []
    for loss in (my_mse, "mse"):
        model = keras.Sequential([keras.Input((3,)), layers.Dense(1, kernel_initializer="ones")])
        model.compile("sgd", loss)
        model.fit(x, y, sample_weight=sw, epochs=1, batch_size=8, verbose=0, shuffle=False)
        out.append(model.get_weights())
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_numpy_only_loss_raises_clearly():
    x, y = linear_data(8)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile("sgd", lambda t, p: np.mean((np.asarray(t) - np.asarray(p)) ** 2, axis=-1))
    with pytest.raises(TypeError, match="does not depend on y_pred"):
        model.fit(x, y, verbose=0)


def test_custom_metrics_function_and_subclass():
    x, y = linear_data()
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])

    def max_err(y_true, y_pred):
        return ops.max(ops.abs(y_true - y_pred), axis=-1)
    metric = CountAbove(0.0)
    model.compile("adam", my_mse, metrics=[max_err, metric])
    hist = model.fit(x, y, epochs=2, verbose=0)
    assert {"loss", "max_err", "count_above"} <= set(hist.history)
    pred = model.predict(x, verbose=0)
    metric.reset_state()
    assert float(metric.count) == 0
    metric.update_state(y, pred)
    np.testing.assert_allclose(float(metric.result()), (pred > 0).mean(), rtol=1e-6)


@pytest.mark.parametrize("fn,t", [
    (losses.mean_squared_error, RNG.uniform(0, 1, (4, 3))),
    (losses.binary_crossentropy, RNG.uniform(0, 1, (4, 3))),
    (lambda t, p: losses.binary_crossentropy(t, p, from_logits=True), RNG.uniform(0, 1, (4, 3))),
    (losses.categorical_crossentropy, np.eye(3)[[0, 2, 1, 1]]),
    (lambda t, p: losses.categorical_crossentropy(t, p, from_logits=True), np.eye(3)[[0, 2, 1, 1]]),
    (losses.sparse_categorical_crossentropy, np.array([0, 2, 1, 1])),
    (losses.cosine_similarity, RNG.uniform(0, 1, (4, 3))),
    (losses.huber, RNG.uniform(0, 1, (4, 3))),
    (losses.kl_divergence, RNG.uniform(0.1, 1, (4, 3))),
    (lambda t, p: losses.MeanSquaredError()(t, p, sample_weight=np.array([1, 2, 0, 1.0])),
     RNG.uniform(0, 1, (4, 3))),
    (lambda t, p: losses.MeanAbsoluteError(reduction="none")(t, p), RNG.uniform(0, 1, (4, 3))),
    (lambda t, p: losses.BinaryCrossentropy(reduction="sum")(t, p), RNG.uniform(0, 1, (4, 3))),
])
def test_builtin_losses_are_differentiable_on_the_tape(fn, t):
    p = RNG.uniform(0.1, 0.9, (4, 3))
    r = RNG.standard_normal(np.shape(fn(t, p)))
    with GradientTape() as tape:
        pt = Tensor(p.copy())
        tape.watch(pt)
        loss = ops.sum(fn(t, pt) * r)
    num = numeric_gradient(lambda: float(np.sum(np.asarray(fn(t, p)) * r)), p)
    np.testing.assert_allclose(tape.gradient(loss, pt), num, rtol=1e-6, atol=1e-8)


class Penalised(layers.Layer):
    """Identity that adds c * mean(x^2) to the loss (an activity penalty)."""

    def __init__(self, c=0.5, **kwargs):
        super().__init__(**kwargs)
        self.c = c

    def call(self, x):
        self.add_loss(self.c * ops.mean(ops.square(x)))
        return x


def test_layer_add_loss_enters_loss_and_gradient():
    x, y = linear_data(16)
    c, lr = 0.5, 0.1
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1, use_bias=False,
                                                               kernel_initializer="ones"),
                              Penalised(c)])
    model.compile(keras.optimizers.SGD(lr), "mse")
    w = np.ones((3, 1), np.float64)
    z = x.astype(np.float64) @ w
    n = len(x)
    expected_loss = np.mean((z - y) ** 2) + c * np.mean(z ** 2)
    grad = 2 / n * x.T @ (z - y) + 2 * c / n * x.T @ z
    value = model.train_on_batch(x, y)
    np.testing.assert_allclose(value, expected_loss, rtol=1e-5)
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), w - lr * grad, rtol=1e-5)
    assert len(model.layers[1].losses) == 1


def test_model_add_loss_in_subclassed_call():
    class WithPenalty(keras.Model):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.dense = layers.Dense(1, use_bias=False, kernel_initializer="ones")

        def call(self, x):
            y = self.dense(x)
            self.add_loss(ops.sum(ops.square(self.dense.kernel)))
            return y
    x, y = linear_data(16)
    model = WithPenalty()
    model.compile(keras.optimizers.SGD(0.1), "mse")
    value = model.train_on_batch(x, y)
    z = x @ np.ones((3, 1))
    np.testing.assert_allclose(value, np.mean((z - y) ** 2) + 3.0, rtol=1e-5)
    grad = 2 / len(x) * x.T @ (z - y) + 2 * np.ones((3, 1))
    np.testing.assert_allclose(model.dense.kernel.numpy(), 1 - 0.1 * grad, rtol=1e-5)
    assert len(model.losses) == 1


def test_custom_loss_model_saves_and_reloads_compiled(tmp_path):
    x, y = linear_data()
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"),
                              layers.Dense(1)])
    model.compile("adam", loss=my_mse)
    model.fit(x, y, epochs=2, verbose=0)
    for ext in ("keras", "h5"):
        path = str(tmp_path / f"loss.{ext}")
        model.save(path)
        back = keras.models.load_model(path, custom_objects={"my_mse": my_mse})
        np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                                   rtol=1e-6)
        np.testing.assert_allclose(back.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0),
                                   rtol=1e-5)
        back.fit(x, y, epochs=1, verbose=0)   # still trains with the reloaded function
