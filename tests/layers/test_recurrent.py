"""SimpleRNN / LSTM / GRU / Bidirectional: outputs against a naive step-by-step
numpy reference (docs/spec/hdf5_format.md §6.1-6.3), float64 finite-difference
gradients, masks, configs, the real Keras fixture, and a small fit."""
import json
import os
import shutil

import numpy as np
import pytest

import ckeras
from ckeras.layers.embedding import Embedding
from ckeras.layers.core import Dense, Input
from ckeras.layers.recurrent import GRU, LSTM, RNN, Bidirectional, SimpleRNN
from ckeras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from ckeras.layers.layer import deserialize_layer, serialize_layer
from ckeras.testing import check_layer_gradients

HERE = os.path.dirname(__file__)
FIXTURE = os.path.join(HERE, "..", "data", "keras_h5", "b_emb_lstm.npz")
SHARED_FIXTURE = "/work/shared/fixtures/keras_h5/b_emb_lstm.npz"


# ---- naive reference ------------------------------------------------------------------

def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def ref_rnn(kind, x, weights, mask=None, go_backwards=False, return_sequences=False,
            zero_output=False, reset_after=True, rmask=None, h0=None, c0=None):
    """One sample-batch step at a time, written straight from the spec."""
    K, R, b = weights
    B, T, _ = x.shape
    u = R.shape[0]
    h = np.zeros((B, u)) if h0 is None else h0
    c = np.zeros((B, u)) if c0 is None else c0
    outs, prev = [], h
    for t in (range(T - 1, -1, -1) if go_backwards else range(T)):
        xt = x[:, t]
        c_new = c
        hm = h if rmask is None else h * rmask     # recurrent dropout
        if kind == "lstm":
            z = xt @ K + hm @ R + b
            i, f = _sig(z[:, :u]), _sig(z[:, u:2 * u])
            g, o = np.tanh(z[:, 2 * u:3 * u]), _sig(z[:, 3 * u:])
            c_new = f * c + i * g
            h_new = o * np.tanh(c_new)
        elif kind == "gru":
            if reset_after:
                xz = xt @ K + b[0]
                hz = hm @ R + b[1]
                zg = _sig(xz[:, :u] + hz[:, :u])
                r = _sig(xz[:, u:2 * u] + hz[:, u:2 * u])
                hh = np.tanh(xz[:, 2 * u:] + r * hz[:, 2 * u:])
            else:
                xz = xt @ K + b
                zg = _sig(xz[:, :u] + hm @ R[:, :u])
                r = _sig(xz[:, u:2 * u] + hm @ R[:, u:2 * u])
                hh = np.tanh(xz[:, 2 * u:] + (r * hm) @ R[:, 2 * u:])
            h_new = zg * h + (1 - zg) * hh
        else:
            h_new = np.tanh(xt @ K + hm @ R + b)
        if mask is None:
            h, c, out = h_new, c_new, h_new
        else:
            m = mask[:, t][:, None]
            h = np.where(m, h_new, h)
            c = np.where(m, c_new, c)
            out = np.where(m, h_new, 0.0 if zero_output else prev)
        outs.append(out)
        prev = out
    y = np.stack(outs, axis=1) if return_sequences else outs[-1]
    return y, h, c


def _layer(kind, units, **kw):
    if kind == "lstm":
        return LSTM(units, **kw)
    if kind == "gru":
        return GRU(units, **kw)
    if kind == "gru_before":
        return GRU(units, reset_after=False, **kw)
    return SimpleRNN(units, **kw)


def _randomize(layer, rng, scale=0.5):
    layer.set_weights([rng.uniform(-scale, scale, w.shape) for w in layer.get_weights()])


KINDS = ["lstm", "gru", "gru_before", "simple"]


def _mask(rng, B, T):
    m = rng.random((B, T)) > 0.35
    m[0, :2] = False                    # leading padding
    m[1, -2:] = False                   # trailing padding
    m[-1] = True
    return m


# ---- forward vs reference ------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_forward_matches_reference(kind, return_sequences, go_backwards, masked, ops_impl):
    rng = np.random.default_rng(1)
    B, T, D, u = 4, 6, 3, 5
    layer = _layer(kind, u, return_sequences=return_sequences, go_backwards=go_backwards,
                   return_state=True)
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    layer(x)
    _randomize(layer, rng)
    mask = _mask(rng, B, T) if masked else None
    outs = layer(x, mask=mask)
    w = [v.astype(np.float64) for v in layer.get_weights()]
    y, h, c = ref_rnn("gru" if kind.startswith("gru") else kind, x.astype(np.float64), w,
                      mask, go_backwards, return_sequences,
                      reset_after=kind != "gru_before")
    assert outs[0].dtype == np.float32
    np.testing.assert_allclose(outs[0], y, rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(outs[1], h, rtol=1e-5, atol=2e-6)
    if kind == "lstm":
        np.testing.assert_allclose(outs[2], c, rtol=1e-5, atol=2e-6)
    else:
        assert len(outs) == 2


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_zero_output_for_mask(kind):
    rng = np.random.default_rng(2)
    B, T, D, u = 3, 5, 2, 4
    layer = _layer(kind, u, return_sequences=True, zero_output_for_mask=True)
    x = rng.standard_normal((B, T, D))
    layer(x)
    _randomize(layer, rng)
    mask = _mask(rng, B, T)
    y = layer(x, mask=mask)
    ref, _, _ = ref_rnn(kind, x, [v.astype(np.float64) for v in layer.get_weights()],
                        mask, return_sequences=True, zero_output=True)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=2e-6)
    assert np.all(y[~mask] == 0)


def test_default_mask_output_repeats_previous_output():
    rng = np.random.default_rng(3)
    layer = LSTM(3, return_sequences=True)
    x = rng.standard_normal((1, 4, 2)).astype(np.float32)
    mask = np.array([[True, False, False, True]])
    y = layer(x, mask=mask)
    np.testing.assert_array_equal(y[0, 1], y[0, 0])
    np.testing.assert_array_equal(y[0, 2], y[0, 0])
    # fully masked sample: every output is the zero initial state
    y0 = layer(x, mask=np.zeros((1, 4), bool))
    assert np.all(y0 == 0)


# ---- gradients (float64 central differences) ------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("return_sequences,go_backwards,masked,zero_out", [
    (False, False, False, False),
    (True, False, False, False),
    (True, True, True, False),
    (False, False, True, False),
    (True, False, True, True),
    (False, True, True, True),
])
def test_gradients(kind, return_sequences, go_backwards, masked, zero_out):
    rng = np.random.default_rng(4)
    B, T, D, u = 3, 5, 3, 4
    layer = _layer(kind, u, return_sequences=return_sequences, go_backwards=go_backwards,
                   zero_output_for_mask=zero_out)
    x = rng.standard_normal((B, T, D))
    layer(x)
    _randomize(layer, rng)
    mask = _mask(rng, B, T) if masked else None
    check_layer_gradients(layer, x, mask=mask, max_coords=25)


@pytest.mark.parametrize("kind", ["lstm", "gru", "gru_before", "simple"])
def test_gradients_return_state(kind):
    rng = np.random.default_rng(5)
    layer = _layer(kind, 3, return_sequences=True, return_state=True)
    x = rng.standard_normal((2, 4, 3))
    layer(x)
    _randomize(layer, rng)
    check_layer_gradients(layer, x, mask=_mask(rng, 2, 4), max_coords=20)


@pytest.mark.parametrize("kind,kw", [
    ("lstm", {"activation": "relu", "recurrent_activation": "hard_sigmoid"}),
    ("lstm", {"use_bias": False, "unit_forget_bias": False}),
    ("gru", {"activation": "softsign", "recurrent_activation": "linear"}),
    ("gru_before", {"use_bias": False}),
    ("simple", {"activation": "elu"}),
    ("simple", {"activation": "relu", "use_bias": False}),
])
def test_gradients_other_activations_and_no_bias(kind, kw):
    rng = np.random.default_rng(6)
    layer = _layer(kind, 4, return_sequences=True, **kw)
    x = rng.standard_normal((2, 4, 3))
    layer(x)
    _randomize(layer, rng)
    check_layer_gradients(layer, x, mask=_mask(rng, 2, 4), max_coords=20)
    assert len(layer.weights) == (3 if kw.get("use_bias", True) else 2)


class _FixedRng:
    def __init__(self, values):
        self.values = values

    def random(self, shape, dtype=None):
        assert tuple(shape) == self.values.shape
        return self.values


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_input_dropout_training(kind):
    rng = np.random.default_rng(7)
    layer = _layer(kind, 3, dropout=0.5, return_sequences=True)
    x = rng.standard_normal((3, 4, 5))
    layer(x)
    _randomize(layer, rng)
    u01 = rng.random((3, 5))
    layer._dropout_rng = _FixedRng(u01)
    keep = (u01 >= 0.5) * 2.0
    # one mask per sequence, shared by every step; inference is unaffected
    y_train = layer.forward(x, training=True)[0]
    np.testing.assert_allclose(y_train, layer(x * keep[:, None, :]), rtol=1e-6, atol=1e-7)
    assert not np.allclose(layer(x), y_train)
    check_layer_gradients(layer, x, training=True, max_coords=20)


class _ShapeRng:
    """Dropout draws by shape: fixed uniforms, so forward is deterministic."""

    def __init__(self, by_shape):
        self.by_shape = by_shape

    def random(self, shape, dtype=None):
        return self.by_shape[tuple(shape)]


@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_dropout_training(kind):
    rng = np.random.default_rng(8)
    B, T, D, u = 3, 4, 5, 3
    layer = _layer(kind, u, dropout=0.3, recurrent_dropout=0.4, return_sequences=True)
    x = rng.standard_normal((B, T, D))
    layer(x)
    _randomize(layer, rng)
    ux, uh = rng.random((B, D)), rng.random((B, u))
    layer._dropout_rng = _ShapeRng({(B, D): ux, (B, u): uh})
    keep_x = (ux >= 0.3) / 0.7
    keep_h = (uh >= 0.4) / 0.6
    mask = _mask(rng, B, T)
    # one input mask and one recurrent mask per sequence, fixed across time
    y = layer.forward(x, training=True, mask=mask)[0]
    want, _, _ = ref_rnn(kind.replace("_before", ""),
                         x * keep_x[:, None, :], layer.get_weights(), mask=mask,
                         return_sequences=True, reset_after=kind != "gru_before",
                         rmask=keep_h)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(x, mask=mask),
                               ref_rnn(kind.replace("_before", ""), x, layer.get_weights(),
                                       mask=mask, return_sequences=True,
                                       reset_after=kind != "gru_before")[0],
                               rtol=1e-5, atol=1e-6)      # inference: no dropout
    check_layer_gradients(layer, x, training=True, mask=mask, max_coords=25)


@pytest.mark.parametrize("kind", KINDS)
def test_stateful_carries_states_and_resets(kind):
    rng = np.random.default_rng(9)
    B, T, D, u = 2, 6, 3, 4
    layer = _layer(kind, u, stateful=True, return_sequences=True)
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    whole = _layer(kind, u, return_sequences=True)
    whole(x)
    layer(x[:, :3])
    layer.set_weights(whole.get_weights())
    layer.reset_states()
    a = layer(x[:, :3])
    b = layer(x[:, 3:])                         # continues from a's final states
    np.testing.assert_allclose(np.concatenate([a, b], 1), whole(x), rtol=1e-5, atol=1e-6)
    layer.reset_states()
    np.testing.assert_allclose(layer(x[:, :3]), a, rtol=1e-6)
    with pytest.raises(ValueError, match="batch size"):
        layer(x[:1, :3])
    with pytest.raises(AttributeError, match="stateful"):
        whole.reset_states()
    assert layer.get_config()["stateful"] is True


def test_stateful_carry_over_gradients():
    """Gradients within a batch start from the carried states (truncated BPTT)."""
    rng = np.random.default_rng(10)
    layer = LSTM(3, stateful=True)
    x = rng.standard_normal((2, 4, 3))
    layer(x)
    _randomize(layer, rng)
    layer.forward(x)                            # states now nonzero
    carried = [s.copy() for s in layer.states]
    assert np.abs(carried[0]).sum() > 0

    def check():
        layer.states = [s.copy() for s in carried]
    # each forward restarts from the same carried states
    orig = layer.forward

    def forward(x, training=False, mask=None, initial_state=None):
        check()
        return orig(x, training, mask, initial_state)
    layer.forward = forward
    check_layer_gradients(layer, x, max_coords=20)


def test_unroll_accepted():
    layer = LSTM(3, unroll=True)
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    assert layer(x).shape == (2, 3)
    assert layer.get_config()["unroll"] is True


def test_bad_inputs_name_the_layer():
    layer = LSTM(3, name="my_lstm")
    with pytest.raises(ValueError, match="my_lstm.*ndim=3"):
        layer(np.zeros((2, 4), np.float32))
    layer(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="my_lstm.*expected 4 input features.*shape \\(2, 3, 5\\)"):
        layer(np.zeros((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match="my_lstm.*mask"):
        layer(np.zeros((2, 3, 4), np.float32), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="units"):
        GRU(0)


def test_backward_accumulates_and_skips_dx():
    rng = np.random.default_rng(8)
    layer = GRU(3)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    y, back = layer.forward(x)
    assert back(np.ones_like(y), need_dx=False) is None
    g1 = [w.grad.copy() for w in layer.weights]
    back(np.ones_like(y))
    for w, g in zip(layer.weights, g1):
        np.testing.assert_allclose(w.grad, 2 * g, rtol=1e-6)
    layer.trainable = False
    for w in layer.weights:
        w.grad[...] = 0
    dx = layer.forward(x)[1](np.ones_like(y))
    assert dx.shape == x.shape and all(not w.grad.any() for w in layer.weights)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3


def test_initial_state_and_cell_step():
    rng = np.random.default_rng(9)
    layer = LSTM(3, return_state=True)
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    _, h, c = layer(x)
    # continuing from the returned state == running the concatenated sequence
    x2 = rng.standard_normal((2, 3, 2)).astype(np.float32)
    y_cont = layer(x2, initial_state=[h, c])[0]
    y_full = layer(np.concatenate([x, x2], axis=1))[0]
    np.testing.assert_allclose(y_cont, y_full, rtol=1e-5, atol=1e-6)
    out, states = layer.cell(x[:, 0], [np.zeros((2, 3)), np.zeros((2, 3))])
    np.testing.assert_allclose(out, layer(x[:, :1])[0], rtol=1e-6)
    assert len(states) == 2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("go_backwards,masked", [(False, False), (True, True)])
def test_gradients_through_initial_state(kind, go_backwards, masked):
    rng = np.random.default_rng(11)
    B, T, D, u = 2, 4, 3, 3
    layer = _layer(kind, u, return_sequences=True, go_backwards=go_backwards)
    x = rng.standard_normal((B, T, D))
    states = [rng.standard_normal((B, u)) for _ in range(2 if kind == "lstm" else 1)]
    layer._maybe_build([(None, T, D)] + [(None, u)] * len(states))
    _randomize(layer, rng)
    mask = _mask(rng, B, T) if masked else None
    y = layer.forward([x] + states, mask=mask)[0]
    want = ref_rnn(kind.replace("_before", ""), x, layer.get_weights(), mask=mask,
                   go_backwards=go_backwards, return_sequences=True,
                   reset_after=kind != "gru_before", h0=states[0],
                   c0=states[1] if kind == "lstm" else None)[0]
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-7)
    check_layer_gradients(layer, [x] + states, mask=mask, max_coords=20)


def test_seq2seq_initial_state_from_encoder_in_functional_model(tmp_path):
    """keras.io's seq2seq: encoder states feed the decoder LSTM."""
    rng = np.random.default_rng(12)
    enc_in, dec_in = Input((None, 5)), Input((None, 6))
    _, h, c = LSTM(8, return_state=True, name="encoder")(enc_in)
    dec_lstm = LSTM(8, return_sequences=True, return_state=True, name="decoder")
    dec_out, _, _ = dec_lstm(dec_in, initial_state=[h, c])
    out = Dense(6, activation="softmax", name="head")(dec_out)
    model = ckeras.Model([enc_in, dec_in], out)
    xe = rng.standard_normal((4, 7, 5)).astype(np.float32)
    xd = rng.standard_normal((4, 3, 6)).astype(np.float32)
    y = model.predict([xe, xd], verbose=0)
    _, he, ce = model.get_layer("encoder")(xe)
    seq = dec_lstm(xd, initial_state=[he, ce])[0]
    np.testing.assert_allclose(y, model.get_layer("head")(seq), rtol=1e-5, atol=1e-6)
    # the decoder's states are inputs of its node: the encoder trains through them
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    target = np.eye(6, dtype=np.float32)[rng.integers(0, 6, (4, 3))]
    enc_w = model.get_layer("encoder").get_weights()[0].copy()
    hist = model.fit([xe, xd], target, epochs=3, batch_size=4, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert not np.allclose(model.get_layer("encoder").get_weights()[0], enc_w)
    path = str(tmp_path / "s2s.keras")
    model.save(path)
    again = ckeras.models.load_model(path)
    np.testing.assert_allclose(again.predict([xe, xd], verbose=0),
                               model.predict([xe, xd], verbose=0), rtol=1e-5, atol=1e-6)
    import zipfile
    with zipfile.ZipFile(path) as zf:
        layers = json.loads(zf.read("config.json"))["config"]["layers"]
    decoder = [entry for entry in layers if entry["name"] == "decoder"][0]
    # as Keras writes it: the states as the initial_state kwarg, build on the sequence
    assert decoder["build_config"] == {"input_shape": [None, None, 6]}
    node = decoder["inbound_nodes"][0]
    assert node["args"][0]["config"]["keras_history"][0] == dec_in.history[0].name
    assert [t["config"]["keras_history"] for t in node["kwargs"]["initial_state"]] == \
        [["encoder", 0, 1], ["encoder", 0, 2]]


def test_initial_state_mixing_symbolic_and_arrays_raises():
    x = Input((None, 3))
    with pytest.raises(ValueError, match="initial state"):
        LSTM(2)(x, initial_state=[np.zeros((1, 2)), np.zeros((1, 2))])


# ---- initializers / weights ---------------------------------------------------------

def test_default_weights_shapes_and_initializers():
    lstm, gru, gru2, rnn = LSTM(4), GRU(4), GRU(4, reset_after=False), SimpleRNN(4)
    for layer in (lstm, gru, gru2, rnn):
        layer(np.zeros((1, 2, 3), np.float32))
    assert [w.shape for w in lstm.weights] == [(3, 16), (4, 16), (16,)]
    assert [w.shape for w in gru.weights] == [(3, 12), (4, 12), (2, 12)]
    assert [w.shape for w in gru2.weights] == [(3, 12), (4, 12), (12,)]
    assert [w.shape for w in rnn.weights] == [(3, 4), (4, 4), (4,)]
    np.testing.assert_array_equal(lstm.weights[2].value,
                                  np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    R = lstm.weights[1].value
    np.testing.assert_allclose(R @ R.T, np.eye(4), atol=1e-5)     # orthogonal rows
    assert abs(lstm.weights[0].value).max() <= np.sqrt(6 / (3 + 16)) + 1e-7
    assert not gru.weights[2].value.any()
    assert all(w.dtype == np.float32 for w in lstm.weights)


def test_weight_paths_functional_sequential_bidirectional():
    inp = Input((5, 3))
    lstm = LSTM(2, name="enc")
    bi = Bidirectional(GRU(2, return_sequences=True, name="gru"), name="bi")
    ckeras.Model(inp, lstm(bi(inp)))
    assert [w.path for w in lstm.weights] == [
        "enc/lstm_cell/kernel", "enc/lstm_cell/recurrent_kernel", "enc/lstm_cell/bias"]
    assert [w.path for w in bi.weights][::3] == ["bi/forward_gru/gru_cell/kernel",
                                                 "bi/backward_gru/gru_cell/kernel"]
    seq = ckeras.Sequential([Input((5, 3)), SimpleRNN(2, name="r"),], name="m")
    assert seq.layers[0].weights[0].path == "m/r/simple_rnn_cell/kernel"
    seq2 = ckeras.Sequential([Bidirectional(LSTM(2, name="l"), input_shape=(5, 3),
                                            name="b")], name="s")
    assert seq2.layers[0].weights[3].path == "s/b/backward_l/lstm_cell/kernel"


# ---- Bidirectional ------------------------------------------------------------------

@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_matches_reference_and_gradients(merge_mode, return_sequences):
    rng = np.random.default_rng(10)
    B, T, D, u = 3, 5, 2, 3
    layer = Bidirectional(LSTM(u, return_sequences=return_sequences), merge_mode=merge_mode)
    x = rng.standard_normal((B, T, D))
    layer(x)
    _randomize(layer, rng)
    mask = _mask(rng, B, T)
    out = layer(x, mask=mask)
    w = [v.astype(np.float64) for v in layer.get_weights()]
    # Keras forces zero outputs at masked steps when sequences are returned
    yf, _, _ = ref_rnn("lstm", x, w[:3], mask, False, return_sequences, return_sequences)
    yb, _, _ = ref_rnn("lstm", x, w[3:], mask, True, return_sequences, return_sequences)
    if return_sequences:
        yb = yb[:, ::-1]
    expected = {"concat": lambda: np.concatenate([yf, yb], -1), "sum": lambda: yf + yb,
                "mul": lambda: yf * yb, "ave": lambda: (yf + yb) / 2,
                None: lambda: [yf, yb]}[merge_mode]()
    if merge_mode is None:
        for a, b in zip(out, expected):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=2e-6)
    check_layer_gradients(layer, x, mask=mask, max_coords=15)


def test_bidirectional_return_state_shapes_masks_and_gradients():
    rng = np.random.default_rng(11)
    layer = Bidirectional(GRU(3, return_sequences=True, return_state=True))
    x = rng.standard_normal((2, 4, 2))
    outs = layer(x)
    assert [o.shape for o in outs] == [(2, 4, 6), (2, 3), (2, 3)]
    assert layer.compute_output_shape((None, 4, 2)) == [(None, 4, 6), (None, 3), (None, 3)]
    m = np.ones((2, 4), bool)
    assert layer.compute_mask(x, m)[0] is m and layer.compute_mask(x, m)[1] is None
    check_layer_gradients(layer, x, mask=_mask(rng, 2, 4), max_coords=15)
    lstm_bi = Bidirectional(LSTM(3, return_state=True), merge_mode=None)
    assert len(lstm_bi(x)) == 6


def test_bidirectional_config_and_errors():
    layer = Bidirectional(LSTM(4, return_sequences=True, name="enc"), merge_mode="sum",
                          name="bi")
    layer(np.zeros((1, 3, 2), np.float32))
    assert layer.forward_layer.name == "forward_enc"
    assert layer.backward_layer.name == "backward_enc" and layer.backward_layer.go_backwards
    assert layer.forward_layer.zero_output_for_mask
    config = layer.get_config()
    assert config["layer"]["class_name"] == "LSTM"
    assert config["layer"]["config"]["name"] == "forward_enc"
    assert config["backward_layer"]["config"]["go_backwards"] is True
    clone = Bidirectional.from_config(json.loads(json.dumps(config)))
    assert clone.forward_layer.name == "forward_enc"
    assert clone.backward_layer.name == "backward_enc"
    assert clone.get_config() == config
    # Keras 2 form: only the wrapped layer (with Keras 2 keys), no backward_layer
    k2 = {"class_name": "Bidirectional",
          "config": {"name": "bidirectional", "trainable": True, "dtype": "float32",
                     "merge_mode": "concat",
                     "layer": {"class_name": "GRU", "config": {
                         "name": "gru", "units": 2, "time_major": False,
                         "implementation": 2, "return_sequences": False}}}}
    bi2 = deserialize_layer(k2)
    assert bi2(np.zeros((1, 3, 2), np.float32)).shape == (1, 4)
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2, go_backwards=True,
                                                   return_sequences=True))


# ---- configs ---------------------------------------------------------------------------

@pytest.mark.parametrize("cls,kw", [
    (LSTM, {"units": 5, "return_sequences": True, "go_backwards": True, "dropout": 0.25,
            "unit_forget_bias": False, "kernel_regularizer": "l2", "seed": 3}),
    (GRU, {"units": 4, "reset_after": False, "recurrent_activation": "hard_sigmoid",
           "return_state": True, "bias_constraint": "non_neg"}),
    (SimpleRNN, {"units": 3, "activation": "relu", "use_bias": False, "unroll": True}),
])
def test_config_round_trip(cls, kw):
    layer = cls(**kw)
    config = layer.get_config()
    clone = cls.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    entry = json.loads(json.dumps(serialize_layer(layer)))
    assert type(deserialize_layer(entry)) is cls
    for key, value in kw.items():
        if isinstance(value, (bool, int, float)):
            assert config[key] == value
    assert "time_major" not in config and "implementation" not in config
    assert "cell" not in config


def test_lstm_config_keys_match_keras_fixture():
    import h5py
    path = os.path.join(HERE, "..", "data", "keras_h5", "b_emb_lstm.h5")
    if not os.path.exists(path):
        pytest.skip("fixture b_emb_lstm.h5 not present")
    with h5py.File(path, "r") as f:
        raw = f.attrs["model_config"]
    keras_cfg = json.loads(raw if isinstance(raw, str) else raw.decode())
    keras_lstm = [e for e in keras_cfg["config"]["layers"] if e["class_name"] == "LSTM"][0]
    ours = LSTM(6, name="lstm").get_config()
    assert list(ours) == list(keras_lstm["config"])
    assert ours == keras_lstm["config"]
    assert LSTM.from_config(keras_lstm["config"]).units == 6


_BASE_KEYS = ["name", "trainable", "dtype", "return_sequences", "return_state",
              "go_backwards", "stateful", "unroll", "zero_output_for_mask"]
_TAIL_KEYS = ["kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "activity_regularizer", "kernel_constraint", "recurrent_constraint",
              "bias_constraint", "dropout", "recurrent_dropout"]


def test_gru_simple_rnn_config_keys_are_keras3s():
    # Key lists as written by Keras 3.15.1 (SimpleRNN accepts `seed` but does not write it).
    head = ["units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
            "recurrent_initializer", "bias_initializer"]
    assert list(GRU(2).get_config()) == _BASE_KEYS + head + _TAIL_KEYS + ["reset_after",
                                                                          "seed"]
    head.remove("recurrent_activation")
    assert list(SimpleRNN(2, seed=1).get_config()) == _BASE_KEYS + head + _TAIL_KEYS
    assert list(Bidirectional(GRU(2)).get_config()) == ["name", "trainable", "dtype",
                                                        "merge_mode", "layer",
                                                        "backward_layer"]


def test_keras3_weights_file_layout(tmp_path):
    import h5py
    model = ckeras.Sequential([Input((4, 3)), Bidirectional(LSTM(2, return_sequences=True)),
                               GRU(2)])
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        bi = f["layers/bidirectional"]
        assert bi["forward_layer/cell/vars"].attrs["name"] == "lstm_cell"
        assert bi["backward_layer/cell/vars/0"].shape == (3, 8)
        assert len(bi["vars"]) == 0 and len(f["layers/gru/vars"]) == 0
        assert f["layers/gru/cell/vars/2"].shape == (2, 6)
    clone = ckeras.Sequential([Input((4, 3)), Bidirectional(LSTM(2, return_sequences=True)),
                               GRU(2)])
    clone.load_weights(path)
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras2_config_with_time_major():
    k2 = {"name": "lstm", "trainable": True, "dtype": "float32", "return_sequences": False,
          "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
          "time_major": False, "units": 3, "activation": "tanh",
          "recurrent_activation": "sigmoid", "use_bias": True,
          "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
          "recurrent_initializer": {"class_name": "Orthogonal",
                                    "config": {"gain": 1.0, "seed": None}},
          "bias_initializer": {"class_name": "Zeros", "config": {}},
          "unit_forget_bias": True, "kernel_regularizer": None,
          "recurrent_regularizer": None, "bias_regularizer": None,
          "activity_regularizer": None, "kernel_constraint": None,
          "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0,
          "recurrent_dropout": 0.0, "implementation": 2}
    layer = deserialize_layer({"class_name": "LSTM", "config": k2})
    assert layer.units == 3 and layer(np.zeros((1, 2, 4), np.float32)).shape == (1, 3)
    assert "time_major" not in layer.get_config()
    gru = deserialize_layer({"class_name": "GRU", "config": {
        "name": "g", "units": 2, "reset_after": True, "time_major": False,
        "implementation": 1}})
    assert gru.reset_after


def test_generic_rnn_over_cell():
    rng = np.random.default_rng(12)
    layer = RNN(GRUCell(3), return_sequences=True)
    x = rng.standard_normal((2, 4, 2))
    layer(x)
    assert layer.weights[0].path == f"{layer.name}/gru_cell/kernel"
    config = json.loads(json.dumps(layer.get_config()))
    assert config["cell"]["class_name"] == "GRUCell"
    clone = RNN.from_config(config)
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x), layer(x), rtol=1e-6)
    check_layer_gradients(layer, x, max_coords=15)
    with pytest.raises(TypeError, match="cell"):
        RNN(Dense(3))
    for cell in (SimpleRNNCell(2), LSTMCell(2)):
        assert RNN(cell)(x).shape == (2, 2)


# ---- the real Keras fixture -----------------------------------------------------------

def _fixture_path():
    if not os.path.exists(FIXTURE):
        os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
        if not os.path.exists(SHARED_FIXTURE):
            pytest.skip("fixture b_emb_lstm.npz not available")
        shutil.copyfile(SHARED_FIXTURE, FIXTURE)
    return FIXTURE


def test_keras_fixture_embedding_lstm_dense():
    data = np.load(_fixture_path())
    model = ckeras.Sequential([Input((7,), dtype="int32"), Embedding(50, 8),
                               LSTM(6, name="lstm"), Dense(1, activation="sigmoid")],
                              name="emb_lstm")
    model.set_weights([data["w__embedding__0"], data["w__lstm__0"], data["w__lstm__1"],
                       data["w__lstm__2"], data["w__dense__0"], data["w__dense__1"]])
    y = model.predict(data["x"], verbose=0)
    np.testing.assert_allclose(y, data["y"], atol=1e-5)
    assert model.layers[1].weights[0].path == "emb_lstm/lstm/lstm_cell/kernel"


def test_saved_h5_weight_names_and_reload(tmp_path):
    from ckeras.saving import load_model
    import h5py
    rng = np.random.default_rng(13)
    model = ckeras.Sequential([Input((5,), dtype="int32"), Embedding(20, 4, mask_zero=True),
                               Bidirectional(GRU(3, name="gru"), name="bidirectional"),
                               Dense(2)], name="m")
    x = rng.integers(0, 20, (4, 5))
    x[:, :2] = 0
    y = model.predict(x, verbose=0)
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else n
                 for n in f["model_weights/bidirectional"].attrs["weight_names"]]
    assert names[0] == "m/bidirectional/forward_gru/gru_cell/kernel"
    assert names[3] == "m/bidirectional/backward_gru/gru_cell/kernel"
    np.testing.assert_allclose(load_model(path).predict(x, verbose=0), y, rtol=1e-6)
    path3 = str(tmp_path / "m.keras")
    model.save(path3)
    np.testing.assert_allclose(load_model(path3).predict(x, verbose=0), y, rtol=1e-6)


def test_masked_embedding_model_ignores_padding():
    rng = np.random.default_rng(14)
    model = ckeras.Sequential([Input((6,), dtype="int32"), Embedding(10, 4, mask_zero=True),
                               LSTM(3)])
    seq = rng.integers(1, 10, (2, 4))
    padded = np.concatenate([np.zeros((2, 2), int), seq], axis=1)   # pre-padding
    post = np.concatenate([seq, np.zeros((2, 2), int)], axis=1)     # post-padding
    short = ckeras.Sequential([Input((4,), dtype="int32"), model.layers[0], model.layers[1]])
    np.testing.assert_allclose(model.predict(padded, verbose=0),
                               short.predict(seq, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(model.predict(post, verbose=0),
                               short.predict(seq, verbose=0), rtol=1e-5)


# ---- training ------------------------------------------------------------------------

def test_fit_learns_toy_sequence_task():
    """Classify whether token 1 occurs before token 2 (order matters)."""
    ckeras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n, T = 512, 8
    x = rng.integers(3, 10, (n, T))
    a, b = rng.integers(0, T, n), rng.integers(0, T, n)
    b = np.where(a == b, (b + 1) % T, b)
    x[np.arange(n), a] = 1
    x[np.arange(n), b] = 2
    y = (a < b).astype(np.float32)
    model = ckeras.Sequential([Input((T,), dtype="int32"), Embedding(10, 8),
                               LSTM(16), Dense(1, activation="sigmoid")])
    model.compile(optimizer=ckeras.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert hist.history["accuracy"][-1] > 0.9


@pytest.mark.parametrize("name,data", [("b_emb_lstm.h5", "b_emb_lstm.npz"),
                                       ("k3_emb_lstm.keras", "k3_emb_lstm.npz")])
def test_load_real_keras_lstm_files(name, data):
    from ckeras.saving import load_model
    folder = os.path.join(HERE, "..", "data", "keras_h5")
    if not os.path.exists(os.path.join(folder, name)):
        pytest.skip(f"fixture {name} not present")
    d = np.load(os.path.join(folder, data))
    model = load_model(os.path.join(folder, name), compile=False)
    assert isinstance(model.layers[1], LSTM)
    np.testing.assert_allclose(model.predict(d["x"], verbose=0), d["y"], atol=1e-5)


# ---- StackedRNNCells and cells of one's own -------------------------------------------

def test_stacked_rnn_cells_match_stacked_layers_and_gradients():
    rng = np.random.default_rng(13)
    B, T, D = 2, 5, 3
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    mask = _mask(rng, B, T)
    stacked = RNN([LSTMCell(4), GRUCell(3)], return_sequences=True, return_state=True)
    y, h1, c1, h2 = stacked(x, mask=mask)
    cell = stacked.cell
    assert stacked.weights[3].path == f"{stacked.name}/{cell.name}/{cell.cells[1].name}/kernel"
    assert cell.name.startswith("stacked_rnn_cells") and cell.cells[1].name.startswith("gru_cell")
    lower = LSTM(4, return_sequences=True, return_state=True)
    upper = GRU(3, return_sequences=True, return_state=True)
    lower(x)
    lower.set_weights(stacked.get_weights()[:3])
    seq, lh, lc = lower(x, mask=mask)
    upper(seq)
    upper.set_weights(stacked.get_weights()[3:])
    want, uh = upper(seq, mask=mask)
    for a, b in ((y, want), (h1, lh), (c1, lc), (h2, uh)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert stacked.compute_output_shape((None, T, D)) == [(None, T, 3), (None, 4), (None, 4),
                                                          (None, 3)]
    config = json.loads(json.dumps(stacked.get_config()))
    assert config["cell"]["class_name"] == "StackedRNNCells"
    assert [c["class_name"] for c in config["cell"]["config"]["cells"]] == ["LSTMCell",
                                                                             "GRUCell"]
    clone = RNN.from_config(config)
    clone(x)
    clone.set_weights(stacked.get_weights())
    np.testing.assert_allclose(clone(x)[0], stacked(x)[0], rtol=1e-6)
    check_layer_gradients(stacked, x.astype(np.float64), mask=mask, max_coords=15)
    init = [rng.standard_normal((B, n)) for n in (4, 4, 3)]
    check_layer_gradients(stacked, [x.astype(np.float64)] + init, max_coords=15)


class MinimalCell(ckeras.layers.Layer):
    """Keras's documented example of a cell of one's own, on ckeras.ops."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="uniform", name="recurrent_kernel")

    def call(self, inputs, states):
        h = ckeras.ops.matmul(inputs, self.kernel)
        output = ckeras.ops.tanh(h + ckeras.ops.matmul(states[0], self.recurrent_kernel))
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class TwoStateCell(ckeras.layers.Layer):
    """Two states and an output of another width (output_size)."""
    state_size = [3, 2]
    output_size = 4

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1] + 5, 9), name="w")

    def call(self, inputs, states, training=False):
        z = ckeras.ops.matmul(ckeras.ops.concatenate([inputs] + list(states), axis=-1), self.w)
        a, b, out = z[:, :3], z[:, 3:5], z[:, 5:]
        return ckeras.ops.tanh(out), [ckeras.ops.tanh(a) + states[0], ckeras.ops.sigmoid(b)]


def test_user_cell_matches_a_numpy_loop():
    rng = np.random.default_rng(21)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    layer = RNN(MinimalCell(6), return_sequences=True)
    y = layer(x)
    k, u = (w.numpy() for w in layer.weights)
    h = np.zeros((3, 6), np.float32)
    expected = []
    for t in range(5):
        h = np.tanh(x[:, t] @ k + h @ u)
        expected.append(h)
    np.testing.assert_allclose(y, np.stack(expected, 1), rtol=1e-5, atol=1e-6)
    assert [w.path for w in layer.weights] == [f"{layer.name}/minimal_cell/kernel",
                                               f"{layer.name}/minimal_cell/recurrent_kernel"]


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_user_cell_gradients_through_time(go_backwards, zero_output):
    rng = np.random.default_rng(22)
    x = rng.standard_normal((3, 5, 4))
    mask = rng.random((3, 5)) > 0.3
    for cell, kwargs in ((MinimalCell(6), {}), (TwoStateCell(), {"return_state": True})):
        layer = RNN(cell, return_sequences=True, go_backwards=go_backwards,
                    zero_output_for_mask=zero_output, **kwargs)
        check_layer_gradients(layer, x, mask=mask, max_coords=15)
    layer = RNN(TwoStateCell(), return_state=True, go_backwards=go_backwards)
    init = [rng.standard_normal((3, 3)), rng.standard_normal((3, 2))]
    check_layer_gradients(layer, [x] + init, max_coords=15)


def test_user_cell_masked_steps_keep_state_and_output():
    rng = np.random.default_rng(23)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    layer = RNN(MinimalCell(5), return_sequences=True, return_state=True)
    seq, state = layer(x, mask=mask)
    np.testing.assert_array_equal(seq[0, 2], seq[0, 1])
    np.testing.assert_array_equal(seq[0, 3], seq[0, 1])
    np.testing.assert_array_equal(state[0], seq[0, 1])
    short, _ = RNN(MinimalCell(5), return_sequences=True, return_state=True)(x[:, :2])
    assert short.shape == (2, 2, 5)
    assert layer.compute_output_shape((None, 4, 3)) == [(None, 4, 5), (None, 5)]
    assert RNN(TwoStateCell(), return_state=True).compute_output_shape((None, 4, 3)) == \
        [(None, 4), (None, 3), (None, 2)]


def test_user_cell_trains_saves_and_feeds_a_decoder(tmp_path):
    rng = np.random.default_rng(24)
    x = rng.standard_normal((64, 5, 4)).astype(np.float32)
    target = x.sum(axis=(1, 2))[:, None] / 5
    model = ckeras.Sequential([ckeras.Input((5, 4)), RNN(MinimalCell(8)),
                               ckeras.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(x, target, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    # encoder states as the decoder's symbolic initial_state
    enc_in, dec_in = ckeras.Input((5, 4)), ckeras.Input((3, 4))
    _, h = RNN(MinimalCell(6), return_state=True)(enc_in)
    out = RNN(MinimalCell(6), return_sequences=True)(dec_in, initial_state=[h])
    seq2seq = ckeras.Model([enc_in, dec_in], out)
    seq2seq.compile("adam", "mse")
    seq2seq.fit([x, x[:, :3]], np.zeros((64, 3, 6)), epochs=1, verbose=0)
    path = tmp_path / "seq2seq.keras"
    seq2seq.save(path)
    loaded = ckeras.models.load_model(path, custom_objects={"MinimalCell": MinimalCell})
    np.testing.assert_allclose(loaded.predict([x, x[:, :3]], verbose=0),
                               seq2seq.predict([x, x[:, :3]], verbose=0), rtol=1e-6)


def test_user_cell_stateful_carries_states():
    rng = np.random.default_rng(25)
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    whole = RNN(MinimalCell(4), return_sequences=True)
    y = whole(x)
    halves = RNN(MinimalCell(4), return_sequences=True, stateful=True)
    halves(x[:, :3])
    halves.set_weights(whole.get_weights())
    halves.reset_states()
    first, second = halves(x[:, :3]), halves(x[:, 3:])
    np.testing.assert_allclose(np.concatenate([first, second], 1), y, rtol=1e-5, atol=1e-6)
    halves.reset_states()
    np.testing.assert_allclose(halves(x[:, :3]), first, rtol=1e-6)


def test_user_cell_errors_are_clear():
    class NoCall:
        state_size = 3

    with pytest.raises(TypeError, match="must be an RNN cell"):
        RNN(object())
    with pytest.raises(TypeError, match="no call"):
        RNN(NoCall())

    class BadSize(ckeras.layers.Layer):
        state_size = "three"

        def call(self, inputs, states):
            return inputs, states

    with pytest.raises(ValueError, match="state_size must be a non-negative integer"):
        RNN(BadSize())(np.zeros((1, 2, 3), np.float32))
    with pytest.raises(TypeError, match="one per RNN layer"):
        RNN([MinimalCell(3), MinimalCell(4)])


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_custom_backward_layer_masked_gradients(merge_mode):
    rng = np.random.default_rng(14)
    B, T, D = 2, 4, 3
    bi = Bidirectional(LSTM(3, return_sequences=True), merge_mode=merge_mode,
                       backward_layer=GRU(3, return_sequences=True, go_backwards=True))
    x = rng.standard_normal((B, T, D))
    bi(x)
    _randomize(bi, rng)
    assert isinstance(bi.backward_layer, GRU)
    mask = _mask(rng, B, T)
    out = bi.forward(x, mask=mask)[0]
    f = bi.forward_layer.forward(x, mask=mask)[0]
    b = bi.backward_layer.forward(x, mask=mask)[0][:, ::-1]
    merged = {"concat": lambda: np.concatenate([f, b], -1), "sum": lambda: f + b,
              "mul": lambda: f * b, "ave": lambda: (f + b) / 2, None: lambda: [f, b]}
    want = merged[merge_mode]()
    for a, w in zip(out if merge_mode is None else [out], want if merge_mode is None else [want]):
        np.testing.assert_allclose(a, w, rtol=1e-6, atol=1e-7)
    check_layer_gradients(bi, x, mask=mask, max_coords=15)


@pytest.mark.parametrize("kind,kw", [
    ("lstm", {"activation": "softsign"}),
    ("gru", {"recurrent_activation": "hard_sigmoid"}),
    ("gru_before", {"activation": "relu", "recurrent_activation": "linear"}),
    ("simple", {"activation": "elu"}),
])
def test_recurrent_dropout_gradients_other_activations(kind, kw):
    """The numpy time loop (non-default activations) with recurrent dropout."""
    rng = np.random.default_rng(15)
    B, T, D, u = 2, 4, 3, 3
    layer = _layer(kind, u, recurrent_dropout=0.5, return_sequences=True, **kw)
    x = rng.standard_normal((B, T, D))
    layer(x)
    _randomize(layer, rng)
    layer._dropout_rng = _ShapeRng({(B, u): rng.random((B, u))})
    check_layer_gradients(layer, x, training=True, mask=_mask(rng, B, T), max_coords=20)
    y_train = layer.forward(x.astype(np.float32), training=True)[0]
    assert not np.allclose(y_train, layer(x.astype(np.float32)))


def test_seq2seq_inference_models_share_the_decoder():
    """keras.io seq2seq sampling: the trained decoder LSTM called again on new
    state Inputs, stepping one token at a time, equals the whole-sequence run."""
    rng = np.random.default_rng(16)
    enc_in, dec_in = Input((None, 4)), Input((None, 3))
    _, h, c = LSTM(5, return_state=True)(enc_in)
    dec_lstm = LSTM(5, return_sequences=True, return_state=True)
    dense = Dense(3, activation="softmax")
    seq, _, _ = dec_lstm(dec_in, initial_state=[h, c])
    model = ckeras.Model([enc_in, dec_in], dense(seq))
    encoder = ckeras.Model(enc_in, [h, c])
    h_in, c_in = Input((5,)), Input((5,))
    out, h2, c2 = dec_lstm(dec_in, initial_state=[h_in, c_in])
    decoder = ckeras.Model([dec_in, h_in, c_in], [dense(out), h2, c2])
    xe = rng.standard_normal((2, 6, 4)).astype(np.float32)
    xd = rng.standard_normal((2, 4, 3)).astype(np.float32)
    whole = model.predict([xe, xd], verbose=0)
    states = encoder.predict(xe, verbose=0)
    for t in range(4):
        step, *states = decoder.predict([xd[:, t:t + 1]] + list(states), verbose=0)
        np.testing.assert_allclose(step[:, 0], whole[:, t], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_empty_batch_forward_and_backward(kind):
    layer = _layer(kind, 3, return_sequences=True)
    y, back = layer.forward(np.zeros((0, 4, 2), np.float32), training=True)
    assert y.shape == (0, 4, 3)
    assert back(np.zeros_like(y)).shape == (0, 4, 2)
    assert not np.any(layer.weights[0].grad)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_bidirectional_initial_state_split_and_gradients(kind):
    rng = np.random.default_rng(17)
    B, T, D, u = 2, 4, 3, 3
    bi = Bidirectional(_layer(kind, u, return_sequences=True))
    x = rng.standard_normal((B, T, D))
    n = 2 if kind == "lstm" else 1
    states = [rng.standard_normal((B, u)) for _ in range(2 * n)]
    bi._maybe_build([(None, T, D)] + [(None, u)] * (2 * n))
    _randomize(bi, rng)
    y = bi.forward([x] + states)[0]
    f = bi.forward_layer.forward([x] + states[:n])[0]
    b = bi.backward_layer.forward([x] + states[n:])[0][:, ::-1]
    np.testing.assert_allclose(y, np.concatenate([f, b], -1), rtol=1e-6, atol=1e-7)
    check_layer_gradients(bi, [x] + states, mask=_mask(rng, B, T), max_coords=15)
    np.testing.assert_allclose(bi(x.astype(np.float32), initial_state=states), y, rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match="initial states"):
        bi.forward([x] + states[:1])
    # in a functional model, the states are node inputs written as initial_state
    seq, hs = Input((T, D)), [Input((u,)) for _ in range(2 * n)]
    model = ckeras.Model([seq] + hs, Bidirectional(_layer(kind, u))(seq, initial_state=hs))
    node = model.get_config()["layers"][-1]["inbound_nodes"][0]
    assert len(node["kwargs"]["initial_state"]) == 2 * n
    xs = [x.astype(np.float32)] + [s.astype(np.float32) for s in states]
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(xs, verbose=0), model.predict(xs, verbose=0),
                               rtol=1e-6)


def test_rnn_constants_are_refused():
    with pytest.raises(NotImplementedError, match="constants"):
        LSTM(2)(np.zeros((1, 3, 2), np.float32), constants=[np.zeros((1, 2))])
