"""predict and evaluate build no backward closures and compute no gradients."""
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers


class CountingDense(layers.Dense):
    """Counts how the model runs it: forward (training) or infer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = {"forward": 0, "forward_logits": 0, "infer": 0}

    def forward(self, x, training=False, mask=None):
        self.calls["forward"] += 1
        return super().forward(x, training, mask)

    def forward_logits(self, x, training=False, mask=None):
        self.calls["forward_logits"] += 1
        return super().forward_logits(x, training, mask)

    def infer(self, x, mask=None):
        self.calls["infer"] += 1
        return super().forward(x, False, mask)[0]


def _forbid_gradients(loss, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("evaluation asked the loss for a gradient")
    monkeypatch.setattr(loss, "forward_backward", refuse)
    monkeypatch.setattr(loss, "logits_forward_backward", refuse)


def _data(n=24):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 5)).astype("float32"), rng.integers(0, 3, n)


def _sequential(hidden):
    return keras.Sequential([keras.Input((5,)), hidden,
                             layers.Dense(3, activation="softmax")])


def _functional(hidden):
    inp = keras.Input((5,))
    return keras.Model(inp, layers.Dense(3, activation="softmax")(hidden(inp)))


@pytest.mark.parametrize("make", [_sequential, _functional])
def test_predict_and_evaluate_run_infer_and_no_gradient(make, monkeypatch):
    x, y = _data()
    hidden = CountingDense(4, activation="relu")
    model = make(hidden)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    _forbid_gradients(model._outputs_spec[0].loss, monkeypatch)

    probs = model.predict(x, batch_size=8, verbose=0)
    model.predict_on_batch(x)
    model(x)
    result = model.evaluate(x, y, batch_size=8, verbose=0)
    model.test_on_batch(x, y)
    assert hidden.calls["forward"] == 0 and hidden.calls["forward_logits"] == 0
    assert hidden.calls["infer"] == 3 + 1 + 1 + 3 + 1
    assert all(w._grad is None for w in model.trainable_weights)   # never allocated

    # The values are the ones the probabilities give (Keras's clipped CE).
    p = np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)
    np.testing.assert_allclose(result[0], -np.log(p).mean(), rtol=1e-5)
    np.testing.assert_allclose(result[1], np.mean(probs.argmax(1) == y))


def test_evaluate_values_match_the_training_step_values():
    """Evaluation's value-only losses give what the gradient path gives."""
    x, y = _data(32)
    sw = np.linspace(0.5, 2.0, 32).astype("float32")
    for loss in ["sparse_categorical_crossentropy", "mse",
                 keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                 lambda t, p: keras.ops.mean(keras.ops.square(p - 0.3))]:   # a scalar per batch
        model = _sequential(layers.Dense(4, activation="tanh"))
        targets = np.eye(3, dtype="float32")[y] if loss == "mse" else y
        model.compile("sgd", loss)
        got = model.evaluate(x, targets, sample_weight=sw, batch_size=32, verbose=0)
        model._plan_fusion()
        model._reset_trackers()
        outs, _ = model._run_forward([x], training=False,
                                     fuse=[s.fuse for s in model._outputs_spec])
        model._resolve_metrics([targets], outs)
        want, _, _ = model._losses_and_grads([targets], outs, sw, training=True)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_training_call_on_arrays_still_applies_dropout():
    """model(x, training=True) outside a tape builds no backward but runs
    the training branch."""
    model = keras.Sequential([keras.Input((50,)), layers.Dropout(0.5, seed=1)])
    x = np.ones((4, 50), "float32")
    assert np.array_equal(np.asarray(model(x)), x)
    dropped = np.asarray(model(x, training=True))
    assert (dropped == 0).any() and np.allclose(dropped[dropped != 0], 2.0)


def test_subclassed_model_predict_runs_its_layers_without_a_tape():
    hidden = CountingDense(4)

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = hidden
            self.out = layers.Dense(2)

        def call(self, inputs, training=False):
            return self.out(self.hidden(inputs))

    model = Net()
    model.compile("sgd", "mse")
    x, _ = _data(8)
    model.predict(x, verbose=0)
    model.evaluate(x, np.zeros((8, 2), "float32"), verbose=0)
    assert hidden.calls["forward"] == 0 and hidden.calls["infer"] >= 2
    model.fit(x, np.zeros((8, 2), "float32"), epochs=1, verbose=0)
    assert hidden.calls["forward"] >= 1
