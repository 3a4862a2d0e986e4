"""Weight regularizers and constraints, end to end through compile/fit: the
reported loss includes the penalty, the gradient the optimizer sees includes
its derivative (checked by finite differences on the model's own total loss),
and constraints project the weights after every optimizer step."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import constraints, regularizers
from ckeras.layers.core import Dense
from ckeras.layers.normalization import BatchNormalization
from ckeras.testing import numeric_gradient


def _data(n=12, d=3, k=2, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)).astype(np.float32),
            rng.standard_normal((n, k)).astype(np.float32))


def _model(layer, d=3, optimizer=None):
    model = keras.Sequential([keras.Input(shape=(d,)), layer])
    model.compile(optimizer=optimizer or keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    return model


def _set_away_from_zero(model, rng):
    # |w| >= 0.2 so L1's kink is never inside a finite-difference step.
    for w in model.trainable_weights:
        w.value[...] = rng.choice([-1, 1], w.shape) * rng.uniform(0.2, 1.0, w.shape)


REGULARIZERS = [
    ("l2", lambda: regularizers.l2(0.1), lambda w: 0.1 * (w ** 2).sum()),
    ("l1", lambda: regularizers.l1(0.05), lambda w: 0.05 * np.abs(w).sum()),
    ("l1_l2", lambda: regularizers.l1_l2(l1=0.02, l2=0.3),
     lambda w: 0.02 * np.abs(w).sum() + 0.3 * (w ** 2).sum()),
]


@pytest.mark.parametrize("name,make,penalty", REGULARIZERS)
def test_reported_loss_includes_penalty(name, make, penalty):
    x, y = _data()
    model = _model(Dense(2, kernel_regularizer=make(), bias_regularizer=make()))
    _set_away_from_zero(model, np.random.default_rng(1))
    k = model.layers[0].kernel.value.astype(np.float64)
    b = model.layers[0].bias.value.astype(np.float64)
    mse = ((x.astype(np.float64) @ k + b - y) ** 2).mean()
    expected = mse + penalty(k) + penalty(b)
    assert penalty(k) > 0.01 * mse                  # large enough to be noticed
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=len(x), verbose=0),
                               expected, rtol=1e-5)
    np.testing.assert_allclose(model.test_on_batch(x, y), expected, rtol=1e-5)
    # train_on_batch reports the loss of the weights before its update.
    np.testing.assert_allclose(model.train_on_batch(x, y), expected, rtol=1e-5)


@pytest.mark.parametrize("name,make,penalty", REGULARIZERS)
def test_trainer_gradient_includes_penalty(name, make, penalty):
    x, y = _data()
    model = _model(Dense(2, kernel_regularizer=make(), bias_regularizer=make()))
    _set_away_from_zero(model, np.random.default_rng(2))
    before = model.get_weights()
    model.train_on_batch(x, y)
    # The trainer leaves the step's gradient in .grad (it zeroes before backward).
    analytic = [w.grad.copy() for w in model.trainable_weights]
    model.set_weights(before)
    eps = 1e-2   # loss is piecewise quadratic in the weights: central differences are exact
    for w, g in zip(model.trainable_weights, analytic):
        num = numeric_gradient(lambda: model.test_on_batch(x, y), w.value, eps)
        np.testing.assert_allclose(g, num, rtol=2e-3, atol=2e-4)
    # ...and it differs from the unregularised gradient by exactly d penalty / dw.
    plain = _model(Dense(2))
    plain.set_weights(before)
    plain.train_on_batch(x, y)
    layer = model.layers[0]
    for w, g, reg, value in zip(plain.trainable_weights, analytic,
                                (layer.kernel_regularizer, layer.bias_regularizer), before):
        np.testing.assert_allclose(g - w.grad, reg.gradient(value), rtol=1e-5, atol=1e-6)


CONSTRAINTS = [
    ("max_norm", lambda: constraints.max_norm(0.5),
     lambda k: np.all(np.linalg.norm(k, axis=0) <= 0.5 + 1e-5)),
    ("non_neg", lambda: constraints.non_neg(), lambda k: np.all(k >= 0)),
    ("unit_norm", lambda: constraints.unit_norm(),
     lambda k: np.allclose(np.linalg.norm(k, axis=0), 1, atol=1e-5)),
    ("min_max_norm", lambda: constraints.min_max_norm(0.8, 1.2),
     lambda k: np.all((np.linalg.norm(k, axis=0) >= 0.8 - 1e-5)
                      & (np.linalg.norm(k, axis=0) <= 1.2 + 1e-5))),
]


@pytest.mark.parametrize("name,make,holds", CONSTRAINTS)
def test_constraint_applied_after_each_step(name, make, holds):
    x, y = _data(seed=3)
    lr = 0.5
    model = _model(Dense(2, kernel_constraint=make(), bias_constraint=constraints.non_neg()),
                   optimizer=keras.optimizers.SGD(learning_rate=lr))
    kernel, bias = model.layers[0].kernel, model.layers[0].bias
    kernel.value[...] = np.random.default_rng(4).standard_normal(kernel.shape) * 3
    assert not holds(kernel.value)                  # the starting point violates it
    for _ in range(3):
        k0, b0 = kernel.numpy(), bias.numpy()
        model.train_on_batch(x, y * 10)
        # Exactly: project(plain SGD step from the previous weights).
        np.testing.assert_allclose(kernel.value, make()(k0 - lr * kernel.grad),
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bias.value, np.maximum(b0 - lr * bias.grad, 0), atol=1e-7)
        assert holds(kernel.value) and np.all(bias.value >= 0)
    model.fit(x, y * 10, epochs=2, batch_size=4, verbose=0)
    assert holds(kernel.value)


def test_batchnorm_gamma_regularizer_and_constraint_in_a_model():
    x, y = _data(n=16, d=3, k=3, seed=5)
    bn = BatchNormalization(gamma_regularizer=regularizers.l2(0.5),
                            beta_constraint=constraints.non_neg())
    model = _model(bn)
    bn.gamma.value[...] = [1.0, 2.0, 3.0]
    plain = model.test_on_batch(x, y) - 0.5 * 14.0
    reference = _model(BatchNormalization())
    reference.set_weights(model.get_weights())
    np.testing.assert_allclose(plain, reference.test_on_batch(x, y), rtol=1e-5)
    model.fit(x, y - 5, epochs=3, batch_size=4, verbose=0)
    assert np.all(bn.beta.value >= 0)


def test_batchnorm_in_sequential_fit_updates_moving_stats_not_by_optimizer():
    x, y = _data(n=32, d=4, k=1, seed=6)
    x = x * 3 + 2
    model = keras.Sequential([keras.Input(shape=(4,)), BatchNormalization(momentum=0.5),
                              Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    bn = model.layers[0]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    history = model.fit(x, y, epochs=20, batch_size=32, shuffle=False, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    # 20 full-batch steps with momentum 0.5: the moving stats reached the batch stats.
    np.testing.assert_allclose(bn.moving_mean.value, x.mean(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_variance.value, x.var(0), rtol=1e-4)
    # predict runs in inference mode with those statistics.
    g, b = bn.gamma.value, bn.beta.value
    z = g * (x - bn.moving_mean.value) / np.sqrt(bn.moving_variance.value + 1e-3) + b
    dense = model.layers[1]
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               z @ dense.kernel.value + dense.bias.value, rtol=1e-4, atol=1e-5)


def test_activity_regularizer_adds_penalty_and_gradient():
    """Dense(activity_regularizer=l2) adds l2 * sum(y**2) (no batch division, as
    Keras 3) to the loss, and its gradient to training."""
    import ckeras as keras
    from ckeras.testing import numeric_gradient, to_float64
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 3))
    y = rng.standard_normal((6, 1))
    model = keras.Sequential([keras.Input(shape=(3,)),
                              keras.layers.Dense(4, activation="tanh",
                                                 activity_regularizer=keras.regularizers.l2(0.05)),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate=0.0), "mse")
    hidden = np.tanh(x @ model.layers[0].kernel.value + model.layers[0].bias.value)
    pred = model.predict(x.astype(np.float32), verbose=0)
    expected = np.mean((pred - y) ** 2) + 0.05 * np.sum(hidden ** 2)
    assert model.evaluate(x.astype(np.float32), y, batch_size=6, verbose=0) == \
        pytest.approx(expected, rel=1e-4)

    to_float64(model)
    model._plan_fusion()
    kernel = model.layers[0].kernel

    def total_loss():
        from ckeras.layers.layer import collect_activity_penalties
        with collect_activity_penalties() as act:
            out = model._run_forward([x], training=False, fuse=[False])[0][0]
        return float(np.mean((out - y) ** 2) + sum(act))

    for spec in model._outputs_spec:
        spec.metrics = []
    from ckeras.layers.layer import collect_activity_penalties
    with collect_activity_penalties():
        outs, backward = model._run_forward([x], training=True, fuse=[False])
    _, _, douts = model._losses_and_grads([y], outs, None, True)
    for w in model.trainable_weights:
        w.grad = np.zeros_like(w.value)
    backward(douts)
    np.testing.assert_allclose(kernel.grad, numeric_gradient(total_loss, kernel.value),
                               rtol=1e-5, atol=1e-8)
