"""MultiHeadAttention, GroupQueryAttention, Attention, AdditiveAttention:
outputs and scores against real Keras (tests/data/keras_attention), gradients
against float64 central differences (masks, causal, dropout), the functional
API with two inputs, configs and .keras / .h5 interchange."""
import json
import os

import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.layers import deserialize, serialize
from ckeras.models.functional import Functional
from ckeras.testing import check_layer_gradients

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "keras_attention")
FIX = np.load(os.path.join(DATA, "outputs.npz"))
TOL = dict(rtol=2e-5, atol=2e-6)


def _weights(name):
    n = sum(1 for f in FIX.files if f.startswith(name + "/w") and f[len(name) + 2:].isdigit())
    return [FIX[f"{name}/w{i}"] for i in range(n)]


def _from_keras(name, cls):
    config = json.loads(str(FIX[name + "/config"]))
    return deserialize({"class_name": cls, "config": config}), config


def _check(name, got):
    y, scores = got if isinstance(got, (list, tuple)) else (got, None)
    np.testing.assert_allclose(y, FIX[name + "/y"], **TOL)
    if scores is not None:
        np.testing.assert_allclose(scores, FIX[name + "/scores"], **TOL)


def _build_and_load(layer, shapes, name):
    layer._maybe_build(shapes)
    layer.set_weights(_weights(name))
    paths = json.loads(str(FIX[name + "/wnames"]))
    assert [w.path.split("/", 1)[1] for w in layer.weights] == \
        [p.split("/", 1)[1] for p in paths]


Q, V, K, AMASK, X4 = FIX["q"], FIX["v"], FIX["k"], FIX["amask"], FIX["x4"]


def test_mha_self_attention_matches_keras():
    mha, _ = _from_keras("mha_self", "MultiHeadAttention")
    _build_and_load(mha, [Q.shape, Q.shape], "mha_self")
    _check("mha_self", mha(Q, Q, return_attention_scores=True))
    np.testing.assert_allclose(mha(Q, Q), FIX["mha_self/y"], **TOL)


def test_mha_query_value_key_mask_output_shape_matches_keras():
    mha, _ = _from_keras("mha_qvk", "MultiHeadAttention")
    assert mha.value_dim == 4 and mha._output_shape == (5,)
    _build_and_load(mha, [Q.shape, V.shape, K.shape], "mha_qvk")
    _check("mha_qvk", mha(Q, V, key=K, attention_mask=AMASK, return_attention_scores=True))


def test_mha_causal_no_bias_matches_keras():
    mha, _ = _from_keras("mha_causal", "MultiHeadAttention")
    _build_and_load(mha, [Q.shape, Q.shape], "mha_causal")
    assert len(mha.weights) == 4
    _check("mha_causal", mha(Q, Q, use_causal_mask=True, return_attention_scores=True))


@pytest.mark.parametrize("name", ["mha_axes12", "mha_axis2"])
def test_mha_attention_axes_match_keras(name):
    mha, _ = _from_keras(name, "MultiHeadAttention")
    _build_and_load(mha, [X4.shape, X4.shape], name)
    _check(name, mha(X4, X4, return_attention_scores=True))


def test_gqa_matches_keras():
    gqa, _ = _from_keras("gqa", "GroupQueryAttention")
    _build_and_load(gqa, [Q.shape, V.shape, K.shape], "gqa")
    _check("gqa", gqa(Q, V, key=K, attention_mask=AMASK, return_attention_scores=True))
    gqa, _ = _from_keras("gqa_causal", "GroupQueryAttention")
    _build_and_load(gqa, [Q.shape, Q.shape], "gqa_causal")
    _check("gqa_causal", gqa(Q, Q, use_causal_mask=True, return_attention_scores=True))


def test_luong_and_bahdanau_attention_match_keras():
    qd, v = FIX["qd"], V
    qmask, vmask = FIX["qmask"], FIX["vmask"]
    att, _ = _from_keras("att", "Attention")
    _check("att", att([qd, v], return_attention_scores=True))
    att, _ = _from_keras("att_concat", "Attention")
    att._maybe_build([qd.shape, v.shape])
    att.set_weights(_weights("att_concat"))
    _check("att_concat", att([qd, v, v * 0.5 + 1.0], mask=[qmask, vmask],
                             return_attention_scores=True))
    att, _ = _from_keras("att_causal", "Attention")
    att._maybe_build([qd.shape, qd.shape])
    att.set_weights(_weights("att_causal"))
    _check("att_causal", att([qd, qd], use_causal_mask=True, return_attention_scores=True))
    add, config = _from_keras("additive", "AdditiveAttention")
    assert "score_mode" not in add.get_config() and add.use_scale
    add._maybe_build([qd.shape, v.shape])
    add.set_weights(_weights("additive"))
    _check("additive", add([qd, v], mask=[None, vmask], return_attention_scores=True))
    add, _ = _from_keras("additive_noscale", "AdditiveAttention")
    _check("additive_noscale", add([qd, v, v * 2.0], return_attention_scores=True))


@pytest.mark.parametrize("name,cls", [("mha_self", "MultiHeadAttention"),
                                      ("mha_qvk", "MultiHeadAttention"),
                                      ("mha_axes12", "MultiHeadAttention"),
                                      ("gqa", "GroupQueryAttention"),
                                      ("att_concat", "Attention"),
                                      ("additive", "AdditiveAttention")])
def test_config_matches_keras(name, cls):
    layer, config = _from_keras(name, cls)
    if "mha_axes" in name:
        layer._maybe_build([X4.shape, X4.shape])
    elif cls in ("MultiHeadAttention", "GroupQueryAttention"):
        layer._maybe_build([Q.shape, V.shape, K.shape])
    ours = layer.get_config()
    assert list(ours) == list(config)
    for key, value in config.items():
        if isinstance(value, dict):
            assert ours[key]["class_name"] == value["class_name"], key
        else:
            assert ours[key] == value, key


# ---- gradients ------------------------------------------------------------------------

def _rng(seed=0):
    return np.random.default_rng(seed)


GRAD_CASES = [
    ("self", lambda: layers.MultiHeadAttention(2, 3, bias_initializer="random_normal"),
     lambda r: [r.standard_normal((2, 4, 5)), r.standard_normal((2, 4, 5))], {}),
    ("qvk", lambda: layers.MultiHeadAttention(3, 2, value_dim=4, output_shape=(2, 3),
                                              bias_initializer="random_normal"),
     lambda r: [r.standard_normal((2, 3, 5)), r.standard_normal((2, 4, 6)),
                r.standard_normal((2, 4, 3))], {}),
    ("axes", lambda: layers.MultiHeadAttention(2, 2, attention_axes=(1, 2)),
     lambda r: [r.standard_normal((2, 2, 3, 4)), r.standard_normal((2, 2, 3, 4))], {}),
    ("axis2", lambda: layers.MultiHeadAttention(2, 2, attention_axes=2),
     lambda r: [r.standard_normal((2, 2, 3, 4)), r.standard_normal((2, 2, 3, 4))], {}),
    ("gqa", lambda: layers.GroupQueryAttention(2, 4, 2, bias_initializer="random_normal"),
     lambda r: [r.standard_normal((2, 3, 5)), r.standard_normal((2, 4, 6)),
                r.standard_normal((2, 4, 3))], {}),
    ("luong", lambda: layers.Attention(use_scale=True),
     lambda r: [r.standard_normal((2, 3, 4)), r.standard_normal((2, 5, 4))], {}),
    ("concat", lambda: layers.Attention(use_scale=True, score_mode="concat"),
     lambda r: [r.standard_normal((2, 3, 4)), r.standard_normal((2, 5, 3)),
                r.standard_normal((2, 5, 4))], {}),
    ("additive", lambda: layers.AdditiveAttention(),
     lambda r: [r.standard_normal((2, 3, 4)), r.standard_normal((2, 5, 4))], {}),
]


@pytest.mark.parametrize("name,make,inputs,kw", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients(name, make, inputs, kw):
    layer = make()
    check_layer_gradients(layer, inputs(_rng()), **kw)


def _with_options(layer, **opts):
    from ckeras.layers.attention import _Options
    layer._graph_options = _Options(**opts)
    return layer


def test_gradients_with_masks_and_causal():
    r = _rng(1)
    q, v = r.standard_normal((2, 4, 5)), r.standard_normal((2, 6, 5))
    amask = r.random((2, 4, 6)) > 0.3
    amask[0, 1] = False          # a query with nothing to attend to
    mha = _with_options(layers.MultiHeadAttention(2, 3), has_mask=True)
    mha._maybe_build([q.shape, v.shape])       # the mask is an input but not a shape
    check_layer_gradients(mha, [q, v, amask.astype(np.float64)])
    mha = _with_options(layers.MultiHeadAttention(2, 3), causal=True)
    check_layer_gradients(mha, [q, v])
    qm, vm = r.random((2, 4)) > 0.3, r.random((2, 6)) > 0.3
    mha = layers.MultiHeadAttention(2, 3)
    check_layer_gradients(mha, [q, v], mask=[qm, vm])
    att = _with_options(layers.Attention(), causal=True)
    check_layer_gradients(att, [q, v], mask=[qm, vm])


def test_gradient_through_returned_scores():
    r = _rng(2)
    q = r.standard_normal((2, 3, 4))
    mha = _with_options(layers.MultiHeadAttention(2, 2), scores=True)
    check_layer_gradients(mha, [q, q])
    att = _with_options(layers.Attention(), scores=True)
    check_layer_gradients(att, [q, q])


def test_dropout_only_in_training_and_gradient_with_fixed_noise():
    r = _rng(3)
    q = r.standard_normal((2, 5, 4)).astype(np.float32)
    mha = layers.MultiHeadAttention(2, 3, dropout=0.5, seed=1)
    a = mha(q, q)
    np.testing.assert_array_equal(mha(q, q), a)
    b = mha(q, q, training=True)
    assert not np.allclose(a, b)
    # Same seed -> same noise: the backward is the Jacobian of that function.
    make = lambda: layers.MultiHeadAttention(2, 3, dropout=0.5, seed=1)  # noqa: E731
    m1 = make()
    m1._maybe_build([q.shape, q.shape])
    weights = [w.astype(np.float64) for w in m1.get_weights()]
    x = q.astype(np.float64)
    d = r.standard_normal(x.shape) * 1e-5
    outs = []
    for xx in (x, x + d, x - d):
        m = make()
        m._maybe_build([q.shape, q.shape])
        for w, val in zip(m.weights, weights):
            w.value = val.copy()
        outs.append(m.forward([xx, xx], training=True))
    (y1, back), (y_up, _), (y_down, _) = outs
    rr = r.standard_normal(y1.shape)
    dq, dv = back(rr)
    # central difference: exact up to third-order terms
    np.testing.assert_allclose((rr * (y_up - y_down)).sum() / 2, ((dq + dv) * d).sum(),
                               rtol=1e-6)


def test_kernel_and_reference_paths_agree():
    from ckeras import ops
    r = _rng(4)
    q = r.standard_normal((3, 7, 8)).astype(np.float32)
    mask = r.random((3, 7, 7)) > 0.2
    mha = layers.MultiHeadAttention(4, 2)
    y1 = mha(q, q, attention_mask=mask, use_causal_mask=True)
    prev = ops.use_reference(True)
    try:
        y2 = mha(q, q, attention_mask=mask, use_causal_mask=True)
    finally:
        ops.use_reference(prev)
    np.testing.assert_allclose(y1, y2, rtol=1e-5, atol=1e-6)


# ---- functional API, configs, files ---------------------------------------------------

def test_functional_two_inputs_and_keywords():
    q_in = keras.Input((5, 8))
    v_in = keras.Input((7, 6))
    mha = layers.MultiHeadAttention(2, 3, name="mha")
    out, scores = mha(query=q_in, value=v_in, return_attention_scores=True)
    assert out.shape == (None, 5, 8) and scores.shape == (None, 2, 5, 7)
    model = keras.Model([q_in, v_in], [out, scores])
    y, s = model.predict([Q, V], verbose=0)
    ye, se = mha(Q, V, return_attention_scores=True)
    np.testing.assert_allclose(y, ye, rtol=1e-6)
    np.testing.assert_allclose(s, se, rtol=1e-6)
    node = model.get_config()["layers"][2]["inbound_nodes"][0]
    assert len(node["args"]) == 2 and node["kwargs"] == {"return_attention_scores": True}
    clone = Functional.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict([Q, V], verbose=0)[0], y, rtol=1e-6)


def test_functional_self_attention_with_mask_input_and_training():
    inp = keras.Input((6,), dtype="int32")
    m_in = keras.Input((6, 6), dtype="bool")
    x = layers.Embedding(20, 8, mask_zero=True)(inp)
    x = layers.MultiHeadAttention(2, 4)(x, x, attention_mask=m_in, use_causal_mask=True)
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model([inp, m_in], layers.Dense(2, activation="softmax")(x))
    cfg = model.get_config()
    node = [l for l in cfg["layers"] if l["class_name"] == "MultiHeadAttention"][0]
    node = node["inbound_nodes"][0]
    assert len(node["args"]) == 2 and "attention_mask" in node["kwargs"]
    assert node["kwargs"]["use_causal_mask"] is True
    ids = np.random.default_rng(0).integers(1, 20, (16, 6))
    ids[:, 4:] = 0
    mask = np.ones((16, 6, 6), bool)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    hist = model.fit([ids, mask], ids[:, 0] % 2, epochs=3, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    clone = Functional.from_config(cfg)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict([ids, mask], verbose=0),
                               model.predict([ids, mask], verbose=0), rtol=1e-5)


def test_keras_files_load_and_predict_the_same(tmp_path):
    x = Q
    for fname in ("mha_model.keras", "mha_model.h5"):
        model = keras.models.load_model(os.path.join(DATA, fname))
        np.testing.assert_allclose(model.predict(x, verbose=0), FIX["model/y"],
                                   rtol=1e-5, atol=1e-6)
    for fname in ("again.keras", "again.h5"):
        path = str(tmp_path / fname)
        model.save(path)
        back = keras.models.load_model(path)
        np.testing.assert_allclose(back.predict(x, verbose=0), FIX["model/y"],
                                   rtol=1e-5, atol=1e-6)


def test_saved_h5_weight_names_are_keras_names(tmp_path):
    import h5py
    model = keras.models.load_model(os.path.join(DATA, "mha_model.keras"))
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path) as f, h5py.File(os.path.join(DATA, "mha_model.h5")) as g:
        ours = [n.decode() if isinstance(n, bytes) else n
                for n in f["model_weights/mha"].attrs["weight_names"]]
        theirs = [n.decode() if isinstance(n, bytes) else n
                  for n in g["model_weights/mha"].attrs["weight_names"]]
        assert ours == theirs


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(0, 2)
    with pytest.raises(ValueError, match="key_dim"):
        layers.MultiHeadAttention(2, None)
    with pytest.raises(ValueError, match="multiple"):
        layers.GroupQueryAttention(2, 3, 2)
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="x")
    with pytest.raises(NotImplementedError, match="use_gate"):
        layers.MultiHeadAttention(2, 2, use_gate=True)
    mha = layers.MultiHeadAttention(2, 2)
    with pytest.raises(ValueError, match="value"):
        mha(Q)
    with pytest.raises(ValueError, match="except the last one"):
        layers.MultiHeadAttention(2, 2)(Q, V, key=Q)
    with pytest.raises(ValueError, match="does not broadcast"):
        layers.MultiHeadAttention(2, 2)(Q, V, attention_mask=np.ones((2, 3, 3), bool))
    with pytest.raises(ValueError, match="list"):
        layers.Attention()(Q)
    mha = layers.MultiHeadAttention(2, 2)
    mha(Q, V)
    with pytest.raises(ValueError, match="batch size"):
        mha(Q, V[:1])
    with pytest.raises(ValueError, match="last dimension 6"):
        mha(Q, Q)


def test_tf_keras2_config_with_build_shapes():
    config = {"name": "mha", "num_heads": 2, "key_dim": 3, "value_dim": 3, "dropout": 0.0,
              "use_bias": True, "output_shape": None, "attention_axes": [1],
              "query_shape": [None, 5, 8], "key_shape": [None, 7, 6], "value_shape": [None, 7, 6]}
    mha = deserialize({"class_name": "MultiHeadAttention", "config": config})
    assert mha.built and [w.shape for w in mha.weights][:3] == [(8, 2, 3), (2, 3), (6, 2, 3)]
    assert mha(Q, V).shape == (2, 5, 8)


def test_serialize_roundtrip():
    for layer in (layers.MultiHeadAttention(2, 3, value_dim=5, dropout=0.1, output_shape=4,
                                            attention_axes=1),
                  layers.GroupQueryAttention(4, 4, 2, dropout=0.2),
                  layers.Attention(use_scale=True, score_mode="concat"),
                  layers.AdditiveAttention(use_scale=False)):
        back = deserialize(serialize(layer))
        assert type(back) is type(layer) and back.get_config() == layer.get_config()
