"""The loss and metrics of an output whose steps carry a mask (Embedding with
mask_zero -> RNN(return_sequences) -> Dense): Keras counts the unmasked steps
only. Golden values from Keras 3.15.1 on TensorFlow 2.21
(tests/data/keras_masked_loss/make_fixture.py)."""
import pathlib

import numpy as np
import pytest

import ckeras as keras

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "data" / "keras_masked_loss" / \
    "masked_loss.npz"


def _layers():
    return [keras.layers.Embedding(20, 4, mask_zero=True),
            keras.layers.SimpleRNN(5, return_sequences=True),
            keras.layers.Dense(3, activation="softmax")]


def _model(functional=False):
    if functional:
        inp = keras.Input((6,), dtype="int32")
        x = inp
        for layer in _layers():
            x = layer(x)
        model = keras.Model(inp, x)
    else:
        model = keras.Sequential([keras.Input((6,), dtype="int32")] + _layers())
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def golden():
    return np.load(FIXTURE)


@pytest.mark.parametrize("functional", [False, True])
def test_masked_steps_leave_loss_metrics_and_step_as_keras(golden, functional):
    model = _model(functional)
    model.set_weights([golden[f"w{i}"] for i in range(len(model.weights))])
    loss, acc = model.evaluate(golden["x"], golden["y"], verbose=0)
    np.testing.assert_allclose(loss, golden["loss"], rtol=1e-6)
    np.testing.assert_allclose(acc, golden["acc"], rtol=1e-6)
    model.train_on_batch(golden["x"], golden["y"])
    for i, w in enumerate(model.weights):
        np.testing.assert_allclose(w.numpy(), golden[f"after{i}"], rtol=1e-5, atol=1e-6)


def test_masked_steps_are_not_counted(golden):
    """Changing the targets or predictions at masked steps changes nothing."""
    model = _model()
    x, y = golden["x"], golden["y"].copy()
    before = model.evaluate(x, y, verbose=0)
    y[x == 0] = (y[x == 0] + 1) % 3
    assert model.evaluate(x, y, verbose=0) == before
    # a batch that is all padding: zero loss, no NaN
    loss, acc = model.evaluate(np.zeros((2, 6), np.int64), np.zeros((2, 6), np.int64), verbose=0)
    assert loss == 0.0 and not np.isnan(acc)


def test_sample_weights_with_a_step_mask(golden):
    """Per-sample weights scale each sample's unmasked steps (Keras 3.15 refuses
    the combination; tf.keras 2 computed this)."""
    model = _model()
    x, y = golden["x"], golden["y"]
    sw = np.linspace(0.5, 2.0, len(x)).astype(np.float32)
    probs = model.predict(x, verbose=0)
    mask = x != 0
    nll = -np.log(np.take_along_axis(probs, y[..., None], -1)[..., 0])
    expected = (nll * mask * sw[:, None]).sum() / mask.sum()
    loss = model.evaluate(x, y, sample_weight=sw, verbose=0)[0]
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
