"""Functional models: graph building, gradients through fan-out / shared /
nested layers, multi-input/output training, configs (Keras 3 and 2), summary."""
import json
import os

import h5py
import numpy as np
import pytest

import ckeras as keras
from ckeras import layers
from ckeras.layers.merge import Add, Concatenate, Multiply
from ckeras.models.functional import Functional
from ckeras.models.output_fusion import output_activation
from ckeras.testing import check_layer_gradients
from ckeras.utils.plot_model import plot_model

FIXTURES = "/work/shared/fixtures/keras_h5"

SPEC_SUMMARY = """\
Model: "two_in_two_out"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ in_a (InputLayer)   │ (None, 6)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ in_b (InputLayer)   │ (None, 4)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ branch_a (Dense)    │ (None, 8)         │         56 │ in_a[0][0]        │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ branch_b (Dense)    │ (None, 8)         │         40 │ in_b[0][0]        │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concat              │ (None, 16)        │          0 │ branch_a[0][0],   │
│ (Concatenate)       │                   │            │ branch_b[0][0]    │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ cls (Dense)         │ (None, 3)         │         51 │ concat[0][0]      │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ reg (Dense)         │ (None, 1)         │         17 │ concat[0][0]      │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 164 (656.00 B)
 Trainable params: 164 (656.00 B)
 Non-trainable params: 0 (0.00 B)"""


def two_in_two_out(trunk=False):
    a = keras.Input((6,), name="in_a")
    b = keras.Input((4,), name="in_b")
    xa = layers.Dense(8, activation="relu", name="branch_a")(a)
    xb = layers.Dense(8, activation="tanh", name="branch_b")(b)
    x = Concatenate(name="concat")([xa, xb])
    if trunk:
        x = layers.Dense(10, activation="relu", name="trunk")(x)
    cls = layers.Dense(3, activation="softmax", name="cls")(x)
    reg = layers.Dense(1, name="reg")(x)
    return keras.Model([a, b], [cls, reg], name="two_in_two_out")


def two_in_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    xa = rng.standard_normal((n, 6)).astype(np.float32)
    xb = rng.standard_normal((n, 4)).astype(np.float32)
    y_cls = (xa[:, 0] + xb[:, 0] > 0).astype(np.int64) + (xa[:, 1] > 1)
    y_reg = (xa[:, :2].sum(1, keepdims=True) - xb[:, 1:2]).astype(np.float32)
    return [xa, xb], [y_cls, y_reg]


# ---- structure --------------------------------------------------------------------------
def test_structure_and_summary_match_spec():
    model = two_in_two_out()
    assert isinstance(model, Functional) and isinstance(model, keras.Model)
    assert [l.name for l in model.layers] == ["in_a", "in_b", "branch_a", "branch_b",
                                              "concat", "cls", "reg"]
    assert model.input_names == ["in_a", "in_b"]
    assert model.output_names == ["cls", "reg"]
    assert [t.shape for t in model.inputs] == [(None, 6), (None, 4)]
    assert [t.shape for t in model.outputs] == [(None, 3), (None, 1)]
    assert model.get_layer("concat").name == "concat"
    assert [w.path for w in model.weights][:2] == ["branch_a/kernel", "branch_a/bias"]
    out = []
    model.summary(print_fn=out.append)
    assert out[0] == SPEC_SUMMARY


def test_layer_order_follows_keras_depth_rule():
    x = keras.Input((3,), name="x")
    h1 = layers.Dense(4, name="h1")(x)
    h2 = layers.Dense(4, name="h2")(h1)
    skip = layers.Dense(4, name="skip")(x)
    y = Add(name="add")([h2, skip])
    model = keras.Model(x, y)
    # skip sits at the depth of h2 (one below add), after h2 in visit order
    assert [l.name for l in model.layers] == ["x", "h1", "h2", "skip", "add"]


def test_disconnected_graph_names_missing_input():
    a = keras.Input((3,), name="in_a")
    b = keras.Input((3,), name="in_b")
    y = Add(name="join")([layers.Dense(2)(a), layers.Dense(2)(b)])
    with pytest.raises(ValueError, match=r"Graph disconnected.*'in_b'"):
        keras.Model(a, y)


def test_duplicate_layer_names_rejected():
    x = keras.Input((3,))
    y = layers.Dense(2, name="same")(layers.Dense(3, name="same")(x))
    with pytest.raises(ValueError, match='"same" is used 2 times'):
        keras.Model(x, y)


def test_outputs_must_be_symbolic():
    x = keras.Input((3,))
    with pytest.raises(TypeError, match="symbolic tensors"):
        keras.Model(x, np.zeros(3))


# ---- gradients (float64 finite differences) ----------------------------------------------
def test_gradients_fan_out_and_merges(rng):
    x = keras.Input((5,))
    h = layers.Dense(6, activation="tanh")(x)
    a = layers.Dense(4, activation="sigmoid")(h)     # h fans out to three consumers
    b = layers.Dense(4)(h)
    c = layers.Dense(4, activation="tanh")(h)
    y = Multiply()([Add()([a, b]), c])
    z = Concatenate()([y, h, x])                     # the Input itself fans out too
    model = keras.Model(x, [z, layers.Dense(2)(h)])
    check_layer_gradients(model, rng.standard_normal((3, 5)))


def test_gradients_shared_layer(rng):
    a, b = keras.Input((4,)), keras.Input((4,))
    shared = layers.Dense(4, activation="tanh", name="shared")
    ya, yb = shared(a), shared(b)
    twice = shared(shared(ya))            # also called on its own output
    model = keras.Model([a, b], Concatenate()([ya, yb, twice]))
    assert [l.name for l in model.layers].count("shared") == 1
    assert len(model.weights) == 2
    check_layer_gradients(model, [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))])


def test_shared_layer_gradient_is_sum_over_calls(rng):
    a, b = keras.Input((3,)), keras.Input((3,))
    shared = layers.Dense(2)
    model = keras.Model([a, b], Add()([shared(a), shared(b)]))
    xa, xb = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    outs, backward = model._run_forward([xa, xb], training=False)
    shared.kernel.zero_grad()
    dy = np.ones((4, 2), np.float32)
    dxa, dxb = backward([dy], need_dx=True)
    np.testing.assert_allclose(shared.kernel.grad, (xa + xb).T @ dy, rtol=1e-5)
    np.testing.assert_allclose(dxa, dy @ shared.kernel.value.T, rtol=1e-6)


def test_gradients_nested_sequential_and_functional(rng):
    inner_seq = keras.Sequential([keras.Input((5,)), layers.Dense(6, activation="tanh"),
                                  layers.Dense(3)], name="inner_seq")
    p, q = keras.Input((3,)), keras.Input((3,))
    inner_fn = keras.Model([p, q], [Multiply()([p, q]), layers.Dense(2)(p)], name="inner_fn")
    x = keras.Input((5,))
    s = inner_seq(x)
    m, d = inner_fn([s, layers.Dense(3, activation="sigmoid")(x)])
    model = keras.Model(x, Concatenate()([m, d, inner_seq(x)]))   # inner_seq used twice
    assert "inner_seq" in [l.name for l in model.layers]
    assert len(model.weights) == 4 + 2 + 2
    check_layer_gradients(model, rng.standard_normal((3, 5)))
    model.summary(print_fn=lambda s: None)
    # and the other way round: a functional model as a Sequential layer
    v = keras.Input((4,))
    fn = keras.Model(v, layers.Dense(3, activation="tanh")(v))
    seq = keras.Sequential([keras.Input((4,)), fn, layers.Dense(2)])
    check_layer_gradients(seq, rng.standard_normal((3, 4)))


def test_unused_output_branch_and_frozen_layers_skipped(rng):
    x = keras.Input((3,))
    frozen = layers.Dense(3, trainable=False)
    h = frozen(x)
    y1 = layers.Dense(2)(h)
    y2 = layers.Dense(2)(x)
    model = keras.Model(x, [y1, y2])
    xs = [rng.standard_normal((2, 3)).astype(np.float32)]
    outs, backward = model._run_forward(xs, training=True)
    for w in model.weights:
        w.grad = None
    backward([np.ones((2, 2), np.float32), None])     # no loss on output 1
    assert frozen.kernel._grad is None                # nothing to train upstream
    assert y2.history[0].kernel._grad is None         # output without a loss
    assert y1.history[0].kernel.grad.any()


class MaskProbe(keras.layers.Layer):
    """Zeroes masked timesteps: shows which mask reached it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, x, training=False, mask=None):
        keep = np.ones(x.shape[:2]) if mask is None else mask.astype(x.dtype)
        return x * keep[..., None], lambda dy, need_dx=True: dy * keep[..., None]


def test_mask_propagates_through_branches_and_merge():
    ids = keras.Input((4,), dtype="int32")
    from ckeras.layers.embedding import Embedding
    e = Embedding(10, 3, mask_zero=True)(ids)
    left, right = layers.Dense(3)(e), layers.Dense(3, activation="tanh")(e)
    model = keras.Model(ids, MaskProbe()(Add()([left, right])))
    x = np.array([[1, 2, 0, 0], [3, 0, 4, 5]])
    y = model.predict(x, verbose=0)
    np.testing.assert_array_equal(np.abs(y).sum(-1) == 0, x == 0)


# ---- predict structures --------------------------------------------------------------------
def test_predict_structures_list_dict_single(rng):
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = Concatenate()([a, b])
    o1, o2 = layers.Dense(2, name="o1")(h), layers.Dense(1, name="o2")(h)
    xa, xb = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    lst = keras.Model([a, b], [o1, o2]).predict([xa, xb], verbose=0)
    assert isinstance(lst, list) and [v.shape for v in lst] == [(5, 2), (5, 1)]
    assert lst[0].dtype == np.float32
    dct = keras.Model({"a": a, "b": b}, {"y2": o2, "y1": o1})
    got = dct.predict({"b": xb, "a": xa}, verbose=0)
    assert isinstance(got, dict) and set(got) == {"y1", "y2"}
    np.testing.assert_allclose(got["y1"], lst[0], rtol=1e-6)
    assert dct.output_names == ["y1", "y2"]
    single = keras.Model([a, b], o1)
    arr = single.predict({"a": xa, "b": xb}, verbose=0)
    assert isinstance(arr, np.ndarray)
    np.testing.assert_allclose(single([xa, xb]), arr, rtol=1e-6)
    np.testing.assert_allclose(single.predict_on_batch([xa, xb]), arr, rtol=1e-6)


def test_input_shape_checked_and_trailing_one_adjusted(rng):
    x = keras.Input((1,))
    model = keras.Model(x, layers.Dense(2)(x))
    np.testing.assert_allclose(model.predict(np.arange(4.0), verbose=0),
                               model.predict(np.arange(4.0)[:, None], verbose=0))
    with pytest.raises(ValueError, match=r"expected shape \(None, 1\).*\(4, 3\)"):
        model.predict(np.zeros((4, 3)), verbose=0)
    with pytest.raises(ValueError, match="expects 1 input"):
        model.predict([np.zeros((4, 1)), np.zeros((4, 1))], verbose=0)


# ---- training --------------------------------------------------------------------------------
def test_multi_output_fit_history_and_evaluate_order():
    keras.utils.set_random_seed(3)
    x, y = two_in_data(96)
    model = two_in_two_out()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.02),
                  loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5],
                  metrics=[["accuracy"], ["mae"]])
    assert output_activation(model, 0) == "softmax" and output_activation(model, 1) is None
    hist = model.fit(x, y, epochs=25, batch_size=16, validation_split=0.25, verbose=0)
    h = hist.history
    assert list(h) == ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae",
                       "val_cls_accuracy", "val_cls_loss", "val_loss", "val_reg_loss",
                       "val_reg_mae"]
    assert h["loss"][-1] < 0.3 * h["loss"][0]
    assert h["cls_accuracy"][-1] > 0.8
    np.testing.assert_allclose(h["loss"], np.array(h["cls_loss"]) + 0.5 * np.array(h["reg_loss"]),
                               rtol=1e-4)
    res = model.evaluate(x, y, batch_size=96, verbose=0)
    d = model.evaluate(x, y, batch_size=96, verbose=0, return_dict=True)
    assert len(res) == 5
    np.testing.assert_allclose(res, [d["loss"], d["cls_loss"], d["reg_loss"],
                                     d["cls_accuracy"], d["reg_mae"]], rtol=1e-6)
    # dict losses / targets keyed by output name give the same numbers
    model.compile(optimizer="adam", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": "accuracy", "reg": "mae"})
    d2 = model.evaluate({"in_a": x[0], "in_b": x[1]}, {"cls": y[0], "reg": y[1]},
                        batch_size=96, verbose=0, return_dict=True)
    for k in d:
        assert d2[k] == pytest.approx(d[k], rel=1e-6)


def test_fused_softmax_not_used_when_output_feeds_other_layers():
    x = keras.Input((4,))
    p = layers.Dense(3, activation="softmax", name="p")(x)
    q = layers.Dense(1, name="q")(p)
    model = keras.Model(x, [p, q])
    assert output_activation(model, 0) is None
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"])
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((8, 4)).astype(np.float32)
    y0 = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 8)]
    model.train_on_batch(xs, [y0, np.zeros((8, 1), np.float32)])
    out = model.predict(xs, verbose=0)[0]
    np.testing.assert_allclose(out.sum(1), 1.0, rtol=1e-5)


def test_keras_fixture_predict_and_evaluate():
    path = os.path.join(FIXTURES, "f_functional_2in_2out.h5")
    if not os.path.exists(path):
        pytest.skip("fixture missing")
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
    data = np.load(os.path.join(FIXTURES, "f_functional_2in_2out.npz"))
    model = Functional.from_config(config["config"])
    assert [l.name for l in model.layers] == ["in_a", "in_b", "branch_a", "branch_b",
                                              "concat", "trunk", "cls", "reg"]
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([data[f"w__{layer.name}__{i}"] for i in range(2)])
    y0, y1 = model.predict([data["x0"], data["x1"]], verbose=0)
    np.testing.assert_allclose(y0, data["y0"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y1, data["y1"], rtol=1e-4, atol=1e-5)
    model.compile(optimizer="adam", loss=["sparse_categorical_crossentropy", "mean_squared_error"],
                  loss_weights=[1.0, 0.5], metrics=[["accuracy"], ["mae"]])
    got = model.test_on_batch([data["x0"], data["x1"]], [data["y_true0"], data["y_true1"]],
                              return_dict=True)
    expected = {"cls_accuracy": 0.5, "cls_loss": 1.207441806793213, "loss": 1.861671805381775,
                "reg_loss": 1.308459758758545, "reg_mae": 1.0896433591842651}
    assert set(got) == set(expected)
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=1e-4), k
    # our config has Keras's structure: same top-level keys, io triples, layer
    # entries and inbound nodes; weightless layers' configs identical
    ours, theirs = model.get_config(), config["config"]
    assert list(ours) == list(theirs)
    assert ours["input_layers"] == theirs["input_layers"]
    assert ours["output_layers"] == theirs["output_layers"]
    for mine, ref in zip(ours["layers"], theirs["layers"]):
        assert list(mine) == list(ref)
        assert (mine["class_name"], mine["name"]) == (ref["class_name"], ref["name"])
        assert mine["inbound_nodes"] == ref["inbound_nodes"]
        if ref["class_name"] in ("InputLayer", "Concatenate"):
            assert mine["config"] == ref["config"]


# ---- config round trips -------------------------------------------------------------------
def _assert_same_predictions(model, clone, xs):
    clone.set_weights(model.get_weights())
    a, b = model.predict(xs, verbose=0), clone.predict(xs, verbose=0)
    if isinstance(a, dict):
        assert set(a) == set(b)
        a, b = [a[k] for k in sorted(a)], [b[k] for k in sorted(b)]
    for p, q in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
        np.testing.assert_array_equal(p, q)


def test_config_round_trip_identical_predictions(rng):
    model = two_in_two_out(trunk=True)
    config = json.loads(json.dumps(model.get_config()))
    assert config["input_layers"] == [["in_a", 0, 0], ["in_b", 0, 0]]
    concat = next(e for e in config["layers"] if e["name"] == "concat")
    args = concat["inbound_nodes"][0]["args"]
    assert [t["config"]["keras_history"] for t in args[0]] == [["branch_a", 0, 0],
                                                                ["branch_b", 0, 0]]
    clone = Functional.from_config(config)
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    xs = [rng.standard_normal((7, 6)), rng.standard_normal((7, 4))]
    _assert_same_predictions(model, clone, xs)
    # through the generic layer deserializer, as the HDF5 loader calls it
    again = keras.layers.deserialize({"class_name": "Functional", "config": config})
    _assert_same_predictions(model, again, xs)
    assert json.loads(model.to_json())["class_name"] == "Functional"


def test_round_trip_single_io_bare_triple_shared_and_nested(rng):
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(4, activation="tanh")],
                             name="inner")
    x = keras.Input((4,), name="x")
    shared = layers.Dense(4, name="shared")
    h = shared(inner(shared(x)))                       # shared layer: two nodes
    model = keras.Model(x, layers.Dense(2, name="d")(h), name="m")
    config = json.loads(json.dumps(model.get_config()))
    assert config["input_layers"] == ["x", 0, 0]
    assert config["output_layers"] == ["d", 0, 0]
    entry = next(e for e in config["layers"] if e["name"] == "shared")
    assert [n["args"][0]["config"]["keras_history"] for n in entry["inbound_nodes"]] == \
        [["x", 0, 0], ["inner", 0, 0]]
    clone = Functional.from_config(config)
    xs = rng.standard_normal((5, 4))
    _assert_same_predictions(model, clone, xs)
    assert isinstance(clone.predict(xs, verbose=0), np.ndarray)


def test_round_trip_dict_io_and_nested_functional(rng):
    p = keras.Input((3,), name="p")
    sub = keras.Model(p, layers.Dense(3, activation="relu", name="sub_d")(p), name="sub")
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    s = Add(name="plus")([sub(a), sub(b)])
    model = keras.Model({"a": a, "b": b}, {"out": layers.Dense(1, name="out")(s)})
    config = json.loads(json.dumps(model.get_config()))
    assert config["input_layers"] == {"a": ["a", 0, 0], "b": ["b", 0, 0]}
    assert next(e for e in config["layers"] if e["name"] == "sub")["class_name"] == "Functional"
    clone = Functional.from_config(config)
    xs = {"a": rng.standard_normal((4, 3)), "b": rng.standard_normal((4, 3))}
    _assert_same_predictions(model, clone, xs)


def test_keras2_inbound_nodes_format_loads(rng):
    dense = {"units": 5, "activation": "relu", "use_bias": True, "dtype": "float32",
             "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
             "bias_initializer": {"class_name": "Zeros", "config": {}}}
    config = {
        "name": "model", "trainable": True,
        "layers": [
            {"class_name": "InputLayer", "name": "a", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 3], "dtype": "float32", "sparse": False,
                        "ragged": False, "name": "a"}},
            {"class_name": "InputLayer", "name": "b", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 2], "dtype": "float32", "sparse": False,
                        "ragged": False, "name": "b"}},
            {"class_name": "Dense", "name": "da", "config": dict(dense, name="da"),
             "inbound_nodes": [[["a", 0, 0, {}]]]},
            {"class_name": "Concatenate", "name": "cat",
             "config": {"name": "cat", "trainable": True, "dtype": "float32", "axis": -1},
             "inbound_nodes": [[["da", 0, 0, {}], ["b", 0, 0, {}]]]},
            {"class_name": "Dense", "name": "out",
             "config": dict(dense, name="out", units=1, activation="linear"),
             "inbound_nodes": [[["cat", 0, 0, {}]]]},
        ],
        "input_layers": [["a", 0, 0], ["b", 0, 0]],
        "output_layers": [["out", 0, 0]],
    }
    model = keras.layers.deserialize({"class_name": "Model", "config": config})
    assert isinstance(model, Functional)
    # Keras order: by depth, so "b" (feeding cat directly) comes after "da"
    assert [l.name for l in model.layers] == ["a", "da", "b", "cat", "out"]
    xa, xb = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    y = model.predict([xa, xb], verbose=0)
    assert isinstance(y, np.ndarray) and y.shape == (4, 1)   # one-output list unwrapped
    k1, b1, k2, b2 = model.get_weights()
    ref = np.concatenate([np.maximum(xa @ k1 + b1, 0), xb], 1) @ k2 + b2
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


def test_from_config_reports_missing_tensor():
    config = {"name": "bad", "layers": [
        {"class_name": "InputLayer", "name": "a", "inbound_nodes": [],
         "config": {"batch_shape": [None, 3], "name": "a"}},
        {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2},
         "inbound_nodes": [[["ghost", 0, 0, {}]]]}],
        "input_layers": ["a", 0, 0], "output_layers": ["d", 0, 0]}
    with pytest.raises(ValueError, match=r"ghost\[0\]"):
        Functional.from_config(config)


# ---- misc -------------------------------------------------------------------------------------
def test_model_subclass_with_functional_init(rng):
    class MyModel(keras.Model):
        def describe(self):
            return f"{self.name}: {len(self.layers)} layers"

    x = keras.Input((3,))
    model = MyModel(x, layers.Dense(2)(x), name="mine")
    assert isinstance(model, MyModel) and isinstance(model, Functional)
    assert model.describe() == "mine: 2 layers"
    assert model.predict(rng.standard_normal((2, 3)), verbose=0).shape == (2, 2)


def test_plot_model_text(tmp_path):
    model = two_in_two_out()
    path = tmp_path / "model.txt"
    text = plot_model(model, to_file=str(path))
    assert path.read_text() == text
    lines = text.splitlines()
    assert lines[0] == 'Model: "two_in_two_out"'
    assert "[ in_a (InputLayer) | (None, 6) ]" in lines
    assert ("branch_a, branch_b --> [ concat (Concatenate) | [(None, 8), (None, 8)] -> "
            "(None, 16) ]") in lines
    assert "concat --> [ cls (Dense) | (None, 16) -> (None, 3) ]" in lines
    assert lines[-1] == "outputs: cls, reg"
    bare = plot_model(model, show_shapes=False)
    assert "in_b --> [ branch_b (Dense) ]" in bare
    seq = keras.Sequential([keras.Input((4,), name="inp"), layers.Dense(2, name="d")])
    assert "inp --> [ d (Dense) | (None, 4) -> (None, 2) ]" in plot_model(seq)
