"""TimeDistributed, RepeatVector, Masking, Permute: values, gradients (float64
central differences), masks, configs, and the Keras example programs that
use them (addition RNN, a bidirectional tagger)."""
import numpy as np
import pytest

import ckeras
from ckeras.layers import (GRU, LSTM, Bidirectional, Conv1D, Dense, Embedding, Flatten,
                           Input, Masking, Permute, RepeatVector, TimeDistributed)
from ckeras.layers.layer import deserialize_layer, serialize_layer
from ckeras.testing import check_layer_gradients


def _round_trip(layer):
    return deserialize_layer(serialize_layer(layer))


# ---- RepeatVector ---------------------------------------------------------------------

def test_repeat_vector_values_gradients_config():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    layer = RepeatVector(5)
    y = layer(x)
    assert y.shape == (3, 5, 4)
    np.testing.assert_array_equal(y[:, 2], x)
    check_layer_gradients(RepeatVector(3), rng.standard_normal((2, 4)))
    again = _round_trip(layer)
    assert again.n == 5 and layer.get_config()["n"] == 5
    assert layer.compute_output_shape((None, 4)) == (None, 5, 4)
    with pytest.raises(ValueError, match="ndim=2"):
        layer(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(TypeError, match="`n`"):
        RepeatVector(2.5)


# ---- Permute --------------------------------------------------------------------------

def test_permute_values_gradients_config():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    layer = Permute((3, 1, 2))
    np.testing.assert_array_equal(layer(x), x.transpose(0, 3, 1, 2))
    assert layer.compute_output_shape((None, 3, 4, 5)) == (None, 5, 3, 4)
    check_layer_gradients(Permute((2, 1)), rng.standard_normal((2, 3, 4)))
    assert _round_trip(layer).dims == (3, 1, 2)
    assert layer.get_config()["dims"] == (3, 1, 2)
    with pytest.raises(ValueError, match="dims"):
        Permute((1, 3))
    with pytest.raises(ValueError, match="dimensions"):
        layer(np.zeros((2, 3), np.float32))


# ---- Masking --------------------------------------------------------------------------

def test_masking_values_mask_and_gradients():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 5, 2)).astype(np.float32)
    x[0, :2] = -1.0
    x[2, 4] = -1.0
    x[1, 1, 0] = -1.0                      # one feature only: not masked
    layer = Masking(mask_value=-1.0)
    y = layer(x)
    mask = layer.compute_mask(x)
    want = np.ones((3, 5), bool)
    want[0, :2] = want[2, 4] = False
    np.testing.assert_array_equal(mask, want)
    np.testing.assert_array_equal(y, np.where(want[..., None], x, 0))
    # away from the mask value the layer is the identity (differentiable there)
    check_layer_gradients(Masking(-1.0), x[1:2].astype(np.float64))
    _, back = layer.forward(x)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(back(dy), np.where(want[..., None], dy, 0))
    assert _round_trip(layer).mask_value == -1.0


@pytest.mark.parametrize("rnn", [LSTM, GRU])
def test_masking_makes_rnn_skip_padded_steps(rnn):
    """A masked model on padded sequences == the plain RNN on the unpadded ones."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    padded = x.copy()
    padded[0, :2] = 0.0                      # pre-padding (pad_sequences' default)
    padded[1, 4:] = 0.0                      # post-padding
    model = ckeras.Sequential([Input((6, 3)), Masking(), rnn(4)])
    y = model.predict(padded, verbose=0)
    layer = model.layers[-1]
    np.testing.assert_allclose(y[0], layer(x[:1, 2:])[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y[1], layer(x[1:, :4])[0], rtol=1e-5, atol=1e-6)


# ---- TimeDistributed ------------------------------------------------------------------

def test_time_distributed_dense_values_gradients_weights():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    td = TimeDistributed(Dense(2, activation="tanh"))
    y = td(x)
    assert y.shape == (3, 4, 2)
    for t in range(4):
        np.testing.assert_allclose(y[:, t], td.layer(x[:, t]), rtol=1e-6, atol=1e-7)
    assert [w.shape for w in td.weights] == [(5, 2), (2,)]
    assert td.compute_output_shape((None, 4, 5)) == (None, 4, 2)
    check_layer_gradients(TimeDistributed(Dense(3)), rng.standard_normal((2, 3, 4)))
    again = _round_trip(td)
    assert isinstance(again.layer, Dense) and again.layer.units == 2
    with pytest.raises(ValueError, match="at least 3"):
        td(np.zeros((2, 5), np.float32))


def test_time_distributed_other_inner_layers():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 4)).astype(np.float32)   # (batch, time, steps, ch)
    conv = TimeDistributed(Conv1D(2, 3))
    y = conv(x)
    assert y.shape == (2, 3, 4, 2)
    np.testing.assert_allclose(y[:, 1], conv.layer(x[:, 1]), rtol=1e-5, atol=1e-6)
    flat = TimeDistributed(Flatten())
    assert flat(x).shape == (2, 3, 24)
    check_layer_gradients(TimeDistributed(Flatten()), rng.standard_normal((2, 3, 2, 2)))


def test_time_distributed_passes_the_mask_on():
    rng = np.random.default_rng(6)
    ids = rng.integers(1, 20, (3, 5))
    ids[0, 3:] = 0
    inp = Input((5,), dtype="int32")
    seq = Embedding(20, 4, mask_zero=True)(inp)
    seq = LSTM(3, return_sequences=True)(seq)
    out = TimeDistributed(Dense(2))(seq)
    model = ckeras.Model(inp, out)
    td = model.layers[-1]
    assert td.compute_mask(None, np.ones((3, 5), bool)).shape == (3, 5)
    y = model.predict(ids, verbose=0)
    # masked steps of the LSTM repeat the last output, so the Dense does too
    np.testing.assert_allclose(y[0, 3], y[0, 2], rtol=1e-6)
    with pytest.raises(ValueError, match="mask"):
        td.forward(np.zeros((3, 5, 3), np.float32), mask=np.ones((3, 4), bool))


def test_time_distributed_weight_paths_in_sequential():
    model = ckeras.Sequential([Input((4, 3)), TimeDistributed(Dense(2, name="d"), name="td")],
                              name="seq")
    assert [w.path for w in model.weights] == ["seq/td/d/kernel", "seq/td/d/bias"]


# ---- the Keras example programs ---------------------------------------------------------

def test_addition_rnn_example_trains():
    """keras.io addition RNN: LSTM encoder -> RepeatVector -> LSTM -> TimeDistributed."""
    rng = np.random.default_rng(7)
    chars, maxlen, digits = 12, 7, 4
    x = np.eye(chars, dtype=np.float32)[rng.integers(0, chars, (64, maxlen))]
    y = np.eye(chars, dtype=np.float32)[rng.integers(0, chars, (64, digits))]
    model = ckeras.Sequential([
        Input((maxlen, chars)), LSTM(16), RepeatVector(digits),
        LSTM(16, return_sequences=True), TimeDistributed(Dense(chars, activation="softmax")),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert model.predict(x[:2], verbose=0).shape == (2, digits, chars)


def test_bidirectional_tagger_example_trains(tmp_path):
    """A bidirectional-LSTM NER tagger: Embedding(mask_zero) -> Bi-LSTM -> TimeDistributed."""
    rng = np.random.default_rng(8)
    ids = rng.integers(1, 30, (32, 6))
    ids[::3, 4:] = 0
    tags = rng.integers(0, 4, (32, 6))
    model = ckeras.Sequential([
        Input((6,), dtype="int32"), Embedding(30, 8, mask_zero=True),
        Bidirectional(LSTM(8, return_sequences=True)),
        TimeDistributed(Dense(4, activation="softmax")),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    hist = model.fit(ids, tags, epochs=3, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    path = str(tmp_path / "tagger.keras")
    model.save(path)
    again = ckeras.models.load_model(path)
    np.testing.assert_allclose(again.predict(ids, verbose=0), model.predict(ids, verbose=0),
                               rtol=1e-5, atol=1e-6)
